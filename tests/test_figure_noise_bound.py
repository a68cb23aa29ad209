"""A&B §3 as computed by experiments/figures/noise_bound.py: the grid's W, JSD and noise kernels
against closed forms, the bound on hand cases, the tiny run end to end, and each check failing
on constructed numbers without its phenomenon."""

import copy
import json
import math

import numpy as np
import pytest

from experiments import common
from experiments.figures import noise_bound as nb
from experiments.figures import runner
from wgan_jax.errors import ConfigError


def test_kernels_have_the_stated_variance():
  for a in (0.05, 0.3):
    w, v = nb.kernel("uniform", a)
    # the grid's box of 2a/dx + 1 points: a(a + dx)/3
    assert w.sum() == pytest.approx(1.0) and v == pytest.approx(a * (a + nb.DX) / 3, rel=1e-9)
    w, v = nb.kernel("triangular", a)
    assert v == pytest.approx(a * a / 6, rel=5e-2)   # the grid's triangle: within 4% at 50 points
  with pytest.raises(ConfigError, match="noise") as e:
    nb.kernel("gaussian", 0.1)
  assert e.value.field == "noise"
  with pytest.raises(ConfigError, match="pair") as e:
    nb.clean("gaussians", 0.1)
  assert e.value.field == "pair"


@pytest.mark.parametrize("theta", [0.0, 0.02, 0.5, 1.7])
def test_closed_forms_on_the_grid(theta):
  # points: W = θ; JSD = log 2 apart, 0 together; uniform noise of half-width a: the two boxes
  # overlap over 2a - θ of 2a, so JSD = (θ / 2a)·log 2 for θ < 2a
  c = nb.case("points", theta, "uniform", 0.3)
  assert c["w1"] == pytest.approx(theta, abs=1e-9)
  assert c["jsd_clean"] == pytest.approx(0.0 if theta == 0 else math.log(2), abs=1e-12)
  assert c["jsd_noisy"] == pytest.approx(min(theta / 0.6, 1.0) * math.log(2), abs=3e-3)
  assert c["c"] == pytest.approx(theta + 0.6, abs=2e-3)
  # uniforms shifted by θ: W = θ; uniform and point: W = E|x - θ| = θ² - θ + ½ on [0, 1]
  assert nb.case("uniforms", theta, "uniform", 0.1)["w1"] == pytest.approx(theta, abs=2e-3)
  want = theta ** 2 - theta + 0.5 if theta <= 1 else theta - 0.5
  assert nb.case("uniform_and_point", theta, "uniform", 0.1)["w1"] == pytest.approx(want, abs=2e-3)


def test_bound_holds_and_is_the_formula():
  for pair in nb.PAIRS:
    for noise in nb.NOISES:
      c = nb.case(pair, 0.4, noise, 0.1)
      assert c["bound"] == pytest.approx(2 * math.sqrt(c["v"]) + 2 * c["c"] * math.sqrt(c["jsd_noisy"]))
      assert c["w1"] < c["bound"]


def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(nb.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "noise_bound.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "noise_bound.json").read_text())["numbers"]
  assert len(n["cases"]) == len(nb.PAIRS) * len(nb.NOISES) * 2 and len(r["checks"]) == 3
  assert r["checks"][next(iter(r["checks"]))] is True   # the bound holds


def _numbers():
  """Stored numbers with the §3 phenomena: the point pair under uniform noise, closed forms."""
  th = np.round(np.arange(0, 0.41, 0.02), 2)
  cases = {}
  for a in (0.01, 0.1):
    j = np.minimum(th / (2 * a), 1.0) * math.log(2)
    b = 2 * a / math.sqrt(3) + 2 * (th + 2 * a) * np.sqrt(j)
    cases[f"points/uniform/{a:g}"] = dict(w1=th, jsd_clean=(th > 0) * math.log(2),
                                          jsd_noisy=j, bound=b)
  return runner.as_stored(dict(thetas=th, widths=[0.01, 0.1], cases=cases))


def test_checks_pass_on_the_phenomena():
  n = _numbers()
  # the constructed 0.1 sweep's steps: (0.02/0.2)·log 2 < 0.25·log 2
  assert list(nb.judge(n).values()) == [True] * 3


@pytest.mark.parametrize("path, f, failing", [
    ("points/uniform/0.1/bound", lambda b: [x * 0.1 for x in b], (0,)),  # W above the bound
    ("points/uniform/0.1/bound", lambda b: [None] * len(b), (0, 2)),    # a diverged sweep
    ("points/uniform/0.1/jsd_noisy", lambda j: [0.0] * 5 + [math.log(2)] * 16, (1,)),
    ("points/uniform/0.01/jsd_clean", lambda j: [0.0] + [0.1] * 20, (1,)),  # no jump
    ("points/uniform/0.01/bound", lambda b: [x * 50 for x in b], (2,)),   # loose bound at small θ
])
def test_each_check_fails_when_its_phenomenon_is_absent(path, f, failing):
  n = copy.deepcopy(_numbers())
  key, field = path.rsplit("/", 1)
  n["cases"][key][field] = f(n["cases"][key][field])
  if failing == (2,):   # the 0.1 sweep's bound must not rescue the small θ: make it loose too
    n["cases"]["points/uniform/0.1"]["bound"] = [x * 50 for x in n["cases"]["points/uniform/0.1"]["bound"]]
  got = list(nb.judge(n).values())
  assert got == [i not in failing for i in range(3)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  assert nb.summary(n).startswith("2 sweeps × 21 shifts: smallest bound - W ")
  fig = nb.plot(n)
  assert len(fig.axes) == 3
  common.matplotlib_pyplot().close(fig)
