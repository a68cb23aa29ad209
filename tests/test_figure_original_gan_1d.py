"""original_gan_1d (Goodfellow et al. Fig 1, Prop. 1, Thm 1): the closed forms it judges by, and
its checks on constructed snapshots (each fails when its phenomenon is absent). Its tiny run is
in tests/test_figures.py (`tiny_results`, slow tier)."""

import math

import numpy as np
import pytest
import scipy.stats

from experiments import common
from experiments.figures import original_gan_1d as og
from experiments.figures import runner

X = np.linspace(-10, 10, 4001)


def test_jsd_of_equal_and_of_disjoint_densities():
  p = scipy.stats.norm.pdf(X, 0, 1)
  assert og.jsd(p, p, X) == pytest.approx(0.0, abs=1e-12)
  dx = X[1] - X[0]
  left = np.where((X > -6) & (X < -4), 1.0, 0.0)
  right = np.where((X > 4) & (X < 6), 1.0, 0.0)
  left, right = left / (left.sum() * dx), right / (right.sum() * dx)  # unit mass on the grid
  assert og.jsd(left, right, X) == pytest.approx(math.log(2), rel=1e-3)


def test_jsd_of_two_gaussians_matches_numerical_integration():
  p, q = scipy.stats.norm.pdf(X, 0, 1), scipy.stats.norm.pdf(X, 1, 1)
  m = (p + q) / 2
  want = 0.5 * np.trapezoid(p * np.log(p / m), X) + 0.5 * np.trapezoid(q * np.log(q / m), X)
  assert og.jsd(p, q, X) == pytest.approx(want, rel=1e-4)
  assert 0 < want < math.log(2)


def test_optimal_discriminator_and_the_virtual_criterion():
  np.testing.assert_allclose(og.optimal_discriminator([1.0, 3.0, 0.0], [1.0, 1.0, 0.0]),
                             [0.5, 0.75, 0.5])
  assert og.virtual_criterion(0.0) == pytest.approx(-math.log(4))
  assert og.virtual_criterion(math.log(2)) == pytest.approx(0.0)


def test_value_of_the_optimal_discriminator_is_c_of_g():
  # V(D*, G) = E_p log D* + E_q log(1 − D*) = −log 4 + 2 JSD(p ‖ q), by quadrature
  p, q = scipy.stats.norm.pdf(X, 0, 1), scipy.stats.norm.pdf(X, 1.5, 0.7)
  d = og.optimal_discriminator(p, q)
  with np.errstate(divide="ignore", invalid="ignore"):
    v = (np.trapezoid(np.where(p > 0, p * np.log(d), 0.0), X) +
         np.trapezoid(np.where(q > 0, q * np.log(q / (p + q)), 0.0), X))  # 1 − D* = q/(p+q)
  assert v == pytest.approx(og.virtual_criterion(og.jsd(p, q, X)), abs=1e-4)


def test_value_from_logits():
  assert og.value(np.zeros(10), np.zeros(10)) == pytest.approx(-math.log(4), rel=1e-6)
  big = np.full(10, 30.0)
  assert og.value(big, -big) == pytest.approx(0.0, abs=1e-9)


def test_histogram_density_integrates_to_one_and_follows_the_samples():
  rng = np.random.default_rng(0)
  grid = np.linspace(-5, 5, 1001)
  dens = og.histogram_density(rng.normal(size=1000000), grid)
  assert np.sum(dens) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-3)
  np.testing.assert_allclose(dens[::50], scipy.stats.norm.pdf(grid[::50]), atol=0.02)


def _snapshot(it, jsd=0.005, d_gap=0.01, v_minus_c=0.005, half_gap=0.02):
  pd = og.p_data(og.GRID)
  return dict(iteration=it, seconds=0.0, p_g=pd, d_star=np.full(len(og.GRID), 0.5),
              d_trained=np.full(len(og.GRID), 0.5), d_game=np.full(len(og.GRID), 0.5),
              jsd=jsd, c_of_g=og.virtual_criterion(jsd),
              v_trained=og.virtual_criterion(jsd) + v_minus_c, d_gap=d_gap, half_gap=half_gap,
              sample_mean=2.0, sample_std=0.5)


def _numbers(changes=None):
  """Stored numbers of three snapshots with the paper's phenomena (D = D*, V = C(G), and at
  the end p_g = p_data, D = ½); `changes` {snapshot index: keyword changes} remove them."""
  evals = [_snapshot(it, **(changes or {}).get(i, {})) for i, it in enumerate((0, 10, 20))]
  return runner.as_stored(dict(grid=og.GRID, p_data=og.p_data(og.GRID), evaluations=evals,
                               sizes=og.SIZES["tiny"]))


def test_checks_pass_on_the_papers_phenomena():
  assert list(og.judge(_numbers()).values()) == [True] * 3


@pytest.mark.parametrize("changes, failing", [
    ({1: dict(d_gap=0.08)}, 0),            # the fitted D misses D* at one snapshot
    ({0: dict(v_minus_c=-0.05)}, 1),       # V below C(G) by 0.05 nats
    ({2: dict(v_minus_c=0.03)}, 1),        # ... or above it
    ({2: dict(jsd=0.1)}, 2),               # p_g ≠ p_data at the end
    ({2: dict(half_gap=0.2)}, 2),          # D ≠ ½ at the end
    ({1: dict(jsd=0.1)}, None),            # an oscillation before the end is no failure
    ({2: dict(half_gap=float("nan"))}, 2), # a diverged value (stored None) passes no check
    ({0: dict(d_gap=float("inf"))}, 0),
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  got = list(og.judge(_numbers(changes)).values())
  assert got == [i != failing for i in range(3)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers({0: dict(jsd=0.3)})
  assert og.summary(n).startswith("JSD(p_data ‖ p_g) 0.300 → 0.0050 nats over 20 iterations; "
                                  "worst mean |D − D*| 0.010; worst |V − C(G)| 0.0050 nats")
  fig = og.plot(n)
  assert len(fig.axes) == 3
  common.matplotlib_pyplot().close(fig)


# ------------------------------------------------------------------ Prop. 2
def test_prop2_step_of_one_is_the_mixture_and_the_descent_converges():
  """η = 1: p_g·(1 − D*)^(−1) = p_g·(p_data + p_g)/p_g, normalised, is (p_data + p_g)/2, so
  JSD falls at every step; η = ½ converges too; against the start's D*, frozen, the same
  update overshoots and does not converge (Prop. 2's hypothesis, D at its optimum, matters)."""
  pd, pg0 = og.p_data(og.GRID), og.prop2_start()
  dx = og.GRID[1] - og.GRID[0]
  _, one = og.prop2_descent(pg0, pd, 1, eta=1.0)
  np.testing.assert_allclose(one, 0.5 * (pd + pg0 / (pg0.sum() * dx)), rtol=1e-9, atol=1e-12)
  js, end = og.prop2_descent(pg0, pd, 60)
  assert js[0] == pytest.approx(og.jsd(pd, pg0 / (pg0.sum() * dx), og.GRID))
  assert np.all(np.diff(js) <= 1e-12) and js[-1] < 1e-9
  assert np.sum(end) * dx == pytest.approx(1.0)
  frozen, _ = og.prop2_descent(pg0, pd, 60, frozen=True)
  assert frozen[-1] > 0.3 and np.any(np.diff(frozen) > 0)


def _with_prop2(jsd):
  n = _numbers()
  n["prop2"] = runner.as_stored(dict(eta=0.5, jsd=jsd, frozen_jsd=[0.5, 0.4, 0.6]))
  return n


def test_prop2_check_fails_without_its_phenomenon():
  name = [k for k in og.judge(_with_prop2([0.5, 0.1, 1e-6])) if k.startswith("Prop. 2")]
  assert len(name) == 1
  check = lambda js: og.judge(_with_prop2(js))[name[0]]
  assert check([0.5, 0.1, 1e-6]) is True
  assert check([0.5, 0.1, 0.01]) is False              # not converged
  assert check([0.5, 0.1, 0.2, 1e-6]) is False         # C(G) rose on the way
  assert check([0.5, float("nan"), 1e-6]) is False     # a diverged step
  assert "Prop. 2" not in " ".join(og.judge(_numbers()))   # an older run: no such check
  assert "Prop. 2 (p_g on the grid" in og.summary(_with_prop2([0.5, 0.1, 1e-6]))
  fig = og.plot(_with_prop2([0.5, 0.1, 1e-6]))
  assert len(fig.axes) == 4
  common.matplotlib_pyplot().close(fig)


def test_the_generator_is_smooth():
  """The snapshots' generator: tanh layers, so dx/dz is continuous; a ReLU MLP's is piecewise
  constant and jumps at its kinks. Largest change of the slope between neighbouring z (0.01
  apart), over the largest slope."""
  import jax
  from wgan_jax.models import MLPGenerator
  z = np.linspace(-3, 3, 601)[:, None]

  def jump(model):
    params = model.init(jax.random.key(0), np.zeros((1, 1)))
    slope = np.diff(np.asarray(model.apply(params, z), np.float64)[:, 0]) / 0.01
    return np.abs(np.diff(slope)).max() / np.abs(slope).max()

  assert jump(og.SmoothGenerator(width=16)) < 0.1     # 0.024: float32 rounding, 0.01 apart
  assert jump(MLPGenerator(out_dim=1, width=16)) > 0.5   # 1.46: a kink
