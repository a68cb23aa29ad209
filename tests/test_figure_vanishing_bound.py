"""A&B Thm 2.4 as computed by experiments/figures/vanishing_bound.py: the quadrature gradients
against closed forms, the norm of the constructed discriminators, the tiny run end to end, and
each check failing on constructed numbers without its phenomenon."""

import copy
import json

import numpy as np
import pytest
import scipy.integrate

from experiments import common
from experiments.figures import runner
from experiments.figures import vanishing_bound as vb


def test_m_is_the_jacobians_root_mean_square():
  assert vb.M ** 2 == pytest.approx(np.mean(1 + vb.Z ** 2), rel=1e-8)


@pytest.mark.parametrize("eps", [0.3, 1e-2, 1e-5])
def test_linear_discriminator_gradients_match_closed_forms(eps):
  c, s = vb.LINEAR_OFFSET * eps, (eps - vb.LINEAR_OFFSET * eps) / 2
  x = lambda z: vb.THETA[0] + vb.THETA[1] * z
  d = lambda z: c + s * (x(z) - vb.THETA[0])
  q = lambda f: scipy.integrate.quad(f, 0, 1, epsabs=1e-14, epsrel=1e-12)[0]
  orig = np.hypot(q(lambda z: s / (1 - d(z))), q(lambda z: s * z / (1 - d(z))))
  logd = np.hypot(q(lambda z: s / d(z)), q(lambda z: s * z / d(z)))
  got = vb.gradients(lambda xs: vb.linear(xs, eps))
  assert got[0] == pytest.approx(orig, rel=1e-6) and got[1] == pytest.approx(logd, rel=1e-5)
  # its norm on P_g's support is ε: sup δ + sup |δ'| = (c + s) + s
  xs = np.linspace(0.5, 1.5, 1001)
  dv, dd = vb.linear(xs, eps)
  assert dv.max() + np.abs(dd).max() == pytest.approx(eps, rel=1e-12) and dv.min() > 0
  assert got[0] < vb.bound(eps)


def test_bumps_have_norm_eps_and_stay_below_the_bound():
  xs = np.linspace(0.5, 1.5, 20_001)
  for omega, phi in ((0.5, 0.0), (7.0, 1.0), (50.0, 4.0)):
    a = vb.bump_scale(1e-3, omega, phi)
    d, dd = vb.bump(xs, a, omega, phi)
    assert d.max() + np.abs(dd).max() == pytest.approx(1e-3, rel=1e-9) and d.min() >= 0
    assert vb.gradients(lambda x: vb.bump(x, a, omega, phi))[0] < vb.bound(1e-3)


def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(vb.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "vanishing_bound.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "vanishing_bound.json").read_text())["numbers"]
  assert [row["eps"] for row in n["rows"]] == [0.1, 0.001] and len(r["checks"]) == 3
  assert all(row["bump_original_max"] < row["bound"] for row in n["rows"])
  assert list(r["checks"].values()) == [True] * 3


def _numbers():
  """Stored numbers with Thm 2.4's phenomena (the default run's shape, rounded)."""
  eps = 10.0 ** -np.arange(1, 8)
  b = vb.M * eps / (1 - eps)
  rows = [dict(eps=e, bound=bb, bump_original_max=0.44 * bb, bump_original_median=0.1 * bb,
               bump_minus_log_d_median=6.0, linear_original=0.48 * bb, linear_minus_log_d=1.0)
          for e, bb in zip(eps, b)]
  return runner.as_stored(dict(rows=rows, setting=dict(bumps=400)))


def test_checks_pass_on_the_phenomena():
  assert list(vb.judge(_numbers()).values()) == [True] * 3


def _mutate(n, key, f):
  for row in n["rows"]:
    row[key] = f(row)
  return n


@pytest.mark.parametrize("key, f, failing", [
    ("linear_original", lambda r: 1.01 * r["bound"], 0),            # above the bound
    ("bump_original_max", lambda r: None, (0, 1)),                  # a diverged quadrature
    ("bump_original_max", lambda r: 0.4 * r["bound"] * r["eps"] ** 0.2, 1),  # not linear in ε
    ("bump_original_max", lambda r: 0.01, (0, 1)),                  # does not vanish
    ("bump_minus_log_d_median", lambda r: 6.0 * r["eps"] ** 0.1, 2),  # -log D vanishes too
])
def test_each_check_fails_when_its_phenomenon_is_absent(key, f, failing):
  n = _mutate(copy.deepcopy(_numbers()), key, f)
  got = list(vb.judge(n).values())
  failing = failing if isinstance(failing, tuple) else (failing,)
  assert got == [i not in failing for i in range(3)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  assert vb.summary(n) == (
      "ε from 1e-01 to 1e-07: the original cost's gradient ÷ bound 0.480–0.480 (near-worst δ), "
      "≤ 0.440 (largest of 400 random bumps per ε); slope 1.005 in log-log; the -log D cost's "
      "median gradient 6 → 6")
  fig = vb.plot(n)
  assert len(fig.axes) == 2
  common.matplotlib_pyplot().close(fig)
