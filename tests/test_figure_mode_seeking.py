"""A&B §2.2.2 as computed by experiments/figures/mode_seeking.py: the quadratures against closed
forms, each cost's expected gradient against the finite differences of its divergence (Thm 2.5
for -log D, GAN Thm 1 for the original cost) on the two-mode target, the tiny run end to end, and
each check failing on constructed numbers without its phenomenon."""

import copy
import json
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from experiments import common
from experiments.figures import mode_seeking as ms
from experiments.figures import runner
from wgan_jax.errors import ConfigError


def test_quadratures_match_closed_forms():
  d = ms.divergences(0.0, 1.0)
  assert all(np.isfinite(list(d.values())))
  # maximum likelihood's Gaussian is the mixture's mean and std: KL(P_r‖P_g) is smallest there
  ml = math.sqrt(ms.MODE ** 2 + ms.MODE_STD ** 2)
  at = ms.divergences(0.0, ml)["kl_rg"]
  for mu, s in ((0.05, ml), (0.0, ml * 1.02), (0.0, ml / 1.02)):
    assert ms.divergences(mu, s)["kl_rg"] > at
  # against scipy's adaptive quadrature, written from the densities independently
  for mu, s in ((ms.MODE, ms.MODE_STD), (0.3, 1.2), (-1.0, 0.4)):
    pg = lambda x: scipy.stats.norm.pdf(x, mu, s)
    pr = lambda x: 0.5 * (scipy.stats.norm.pdf(x, -ms.MODE, ms.MODE_STD)
                          + scipy.stats.norm.pdf(x, ms.MODE, ms.MODE_STD))
    q = lambda f: scipy.integrate.quad(f, -14, 14, points=[-ms.MODE, mu, ms.MODE], limit=400,
                                       epsabs=1e-12)[0]
    xlogy = lambda a, b: (lambda x: a(x) * math.log(a(x) / b(x)) if a(x) > 1e-300 else 0.0)
    m = lambda x: 0.5 * (pr(x) + pg(x))
    want = dict(kl_gr=q(xlogy(pg, pr)), kl_rg=q(xlogy(pr, pg)),
                jsd=0.5 * q(xlogy(pr, m)) + 0.5 * q(xlogy(pg, m)))
    got = ms.divergences(mu, s)
    for k in want:
      assert got[k] == pytest.approx(want[k], abs=1e-7), (mu, s, k)
  # one mode of the two, 8σ apart: it holds half the mass, so KL(P_g‖P_r) is log 2 less the
  # other mode's overlap, and the JSD that of two laws sharing half their mass, 1.5·log 2 -
  # 0.75·log 3
  one = ms.divergences(ms.MODE, ms.MODE_STD)
  assert one["kl_gr"] == pytest.approx(math.log(2), abs=2e-4)
  assert one["jsd"] == pytest.approx(1.5 * math.log(2) - 0.75 * math.log(3), abs=2e-4)
  # two disjoint Gaussians: the JSD tends to log 2
  assert ms.divergences(9.0, 0.3)["jsd"] == pytest.approx(math.log(2), abs=1e-6)


def _fd(f, mu, s, h=1e-4):
  return np.array([(f(ms.divergences(mu + h, s)) - f(ms.divergences(mu - h, s))) / (2 * h),
                   (f(ms.divergences(mu, s + h)) - f(ms.divergences(mu, s - h))) / (2 * h)])


@pytest.mark.parametrize("mu, s", [(0.3, 2.0), (1.0, 1.5), (-1.7, 0.6), (2.5, 0.8)])
def test_expected_gradients_are_the_divergences_gradients(mu, s):
  nl = ms.expected_gradient("minus_log_d", mu, s)
  want = _fd(lambda d: d["kl_gr"] - 2 * d["jsd"], mu, s)
  assert np.linalg.norm(nl - want) < 1e-5 * max(1.0, np.linalg.norm(want))
  # another factor on the JSD misses: the identity is Thm 2.5's, not any mixture of the two
  assert np.linalg.norm(nl - _fd(lambda d: d["kl_gr"], mu, s)) > 1e-3
  mm = ms.expected_gradient("minimax", mu, s)
  want = _fd(lambda d: 2 * d["jsd"], mu, s)
  assert np.linalg.norm(mm - want) < 1e-5 * max(1.0, np.linalg.norm(want))
  with pytest.raises(ConfigError, match="cost") as e:
    ms.expected_gradient("hinge", mu, s)
  assert e.value.field == "cost"


def test_descent_from_one_start_drops_a_mode_only_with_minus_log_d():
  end_nl, path = ms.descend("minus_log_d", 1.0, 1.5, 3000, record=10)
  end_mm, _ = ms.descend("minimax", 1.0, 1.5, 3000)
  assert ms.on_mode(*end_nl) and ms.covers(*end_mm), (end_nl, end_mm)
  assert path.shape == (11, 2) and tuple(path[0]) == (1.0, 1.5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  out = tmp_path_factory.mktemp("mode_seeking")
  r = runner.run(ms.FIGURE, str(out), scale="tiny")
  return out, r


def test_tiny_run_writes_png_and_json(tiny):
  out, r = tiny
  assert (out / "mode_seeking.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((out / "mode_seeking.json").read_text())["numbers"]
  assert set(n["fits"]) == set(ms.OBJECTIVES) and len(r["checks"]) == 5
  assert len(n["descent"]["minus_log_d"]["end_mu"]) == len(n["starts"]) == 2
  # the fits are the run's own, not the default's: the -log D cost's global minimum is one mode
  assert ms.on_mode(n["fits"]["minus_log_d"]["one_mode"]["mu"],
                    n["fits"]["minus_log_d"]["one_mode"]["s"])
  assert ms.covers(n["fits"]["max_likelihood"]["covering"]["mu"],
                   n["fits"]["max_likelihood"]["covering"]["s"])


def _fit(mu, s, value, jsd, kl_gr=1.0, kl_rg=1.0):
  return dict(mu=mu, s=s, value=value, jsd=jsd, kl_gr=kl_gr, kl_rg=kl_rg)


def _numbers():
  """Stored numbers with every §2.2.2 phenomenon (the default run's values, rounded)."""
  fits = dict(
      max_likelihood=dict(covering=_fit(0.0, 2.06, 0.724, 0.201, kl_rg=0.724),
                          one_mode=_fit(0.0, 2.06, 0.724, 0.201, kl_rg=0.724)),
      minimax=dict(covering=_fit(0.0, 2.04, -0.984, 0.201), one_mode=_fit(2.0, 0.5, -0.955, 0.2157)),
      reverse_kl=dict(covering=_fit(0.0, 1.74, 1.871, 0.2084), one_mode=_fit(2.0, 0.5, 0.693, 0.2157)),
      minus_log_d=dict(covering=_fit(0.0, 1.71, 1.453, 0.2101), one_mode=_fit(2.0, 0.5, 0.262, 0.2157)))
  return runner.as_stored(dict(
      fits=fits, starts=[(0.2, 1.0), (1.2, 1.0), (1.8, 0.5)],
      descent=dict(minus_log_d=dict(end_mu=[0.0, 2.0, 2.0], end_s=[1.7, 0.5, 0.5],
                                    on_mode=[False, True, True], covers=[True, False, False]),
                   minimax=dict(end_mu=[0.0, 0.0, 2.0], end_s=[2.0, 2.0, 0.5],
                                on_mode=[False, False, True], covers=[True, True, False])),
      paths=dict(start=(1.0, 1.5), minus_log_d=[[1.0, 1.5], [2.0, 0.5]],
                 minimax=[[1.0, 1.5], [0.0, 2.0]]),
      landscape=dict(mu=[-1.0, 0.0, 1.0], s=[0.5, 1.0],
                     minus_log_d=[[1.0, 2.0, 1.0], [1.5, 1.6, 1.5]],
                     minimax=[[0.3, 0.2, 0.3], [0.1, 0.0, 0.1]]),
      reference=dict(one_mode=dict(kl_gr=0.693, kl_rg=15.3, jsd=0.2157),
                     gap=dict(kl_gr=5.42, kl_rg=9.0, jsd=0.5),
                     max_likelihood_closed_form=dict(mu=0.0, s=2.06, kl_rg=0.724)),
      setting=dict(p_r="two modes", lr=ms.LR)))


def test_checks_pass_on_the_phenomena():
  assert list(ms.judge(_numbers()).values()) == [True] * 5


def _set(n, path, value):
  *head, last = path.split("/")
  d = n
  for k in head:
    d = d[int(k)] if isinstance(d, list) else d[k]
  d[last] = value
  return n


@pytest.mark.parametrize("changes, failing", [
    ({"fits/minus_log_d/one_mode/value": 2.0}, 0),          # covering is the cost's optimum
    ({"fits/minus_log_d/one_mode/mu": 0.9}, 0),             # the "one-mode" fit sits between
    ({"fits/minus_log_d/one_mode/value": None}, 0),         # a non-finite cost passes nothing
    ({"reference/gap/kl_gr": 2.0}, 1),                      # the gap is cheap
    ({"reference/one_mode/kl_gr": 1.2}, 1),                 # dropping a mode is not cheap
    ({"fits/max_likelihood/covering/s": 0.5}, 2),           # ML collapses too
    ({"reference/one_mode/kl_rg": 2.0}, 2),                 # ML does not punish the drop
    ({"fits/minus_log_d/covering/jsd": 0.2084}, 3),         # -2·JSD moves nothing
    ({"descent/minimax/on_mode": [True, True, True]}, 4),   # the original cost drops as often
    ({"descent/minus_log_d/on_mode": [False, False, False, True],
      "descent/minimax/on_mode": [False, False, False, False]}, 4),  # more often, but rarely
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  n = copy.deepcopy(_numbers())
  for path, value in changes.items():
    _set(n, path, value)
  got = list(ms.judge(n).values())
  assert got == [i != failing for i in range(5)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  s = ms.summary(n)
  assert s.startswith("-log D cost (KL - 2·JSD): one-mode fit N(2.00, 0.50²) at 0.262")
  assert s.endswith("descent ends on one mode from 67% of 3 starts (-log D) vs 33% (original cost)")
  fig = ms.plot(n)
  assert len(fig.axes) == 5   # three panels and two colour bars
  common.matplotlib_pyplot().close(fig)
