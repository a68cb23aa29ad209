"""experiments/figures/optimal_critic.py (WGAN fig. 2): the checks on constructed curves (each
fails when its phenomenon is absent), the summary and the plot, read from the numbers as they
are stored. Its tiny run is in tests/test_figures.py (`fast_results`)."""

import numpy as np
import pytest

from experiments import common
from experiments.figures import optimal_critic as oc
from experiments.figures import runner

X = np.linspace(-5, 5, 401)
INNER = (X >= -4) & (X <= 4)


def _numbers(d_slope=6.0, critic=lambda x: -x):
  """Stored numbers of a discriminator sigmoid(−d_slope·x) (saturated at the fakes for a
  steep one) and a critic f = critic(x), their gradients and the critic's R² on [-4, 4]."""
  d = 1 / (1 + np.exp(d_slope * X))
  f = critic(X)
  slope, icpt = np.polyfit(X[INNER], f[INNER], 1)
  r2 = 1 - (f[INNER] - (slope * X[INNER] + icpt)).var() / f[INNER].var()
  return runner.as_stored(dict(
      x=X, real_density=np.exp(-(X - oc.REAL) ** 2 / 0.5), fake_density=np.exp(
          -(X - oc.FAKE) ** 2 / 0.5), discriminator=d, critic=f,
      discriminator_grad=np.abs(np.gradient(d, X)), critic_grad=np.abs(np.gradient(f, X)),
      critic_linear_r2=r2, critic_slope=slope, steps=3000))


def test_checks_pass_on_the_papers_phenomena():
  assert list(oc.judge(_numbers()).values()) == [True] * 3


@pytest.mark.parametrize("kw, failing", [
    (dict(d_slope=0.5), 0),                                  # D does not saturate at the fakes
    (dict(critic=lambda x: 3 * x + 2 * np.abs(x)), 1),       # a kinked critic: R² 0.90
    (dict(critic=lambda x: np.where(np.abs(x) < 0.5, 0.01 * x, x - 0.495 * np.sign(x))), 2),
])                                                           # flat (no gradient) near 0
def test_each_check_fails_when_its_phenomenon_is_absent(kw, failing):
  got = list(oc.judge(_numbers(**kw)).values())
  assert got == [i != failing for i in range(3)], got


def test_a_diverged_run_passes_no_check():
  n = _numbers()
  n["critic_linear_r2"] = None
  n["discriminator_grad"] = [None] * len(X)
  n["critic_grad"][200] = None
  assert not any(oc.judge(n).values())


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  assert oc.summary(n).endswith("critic linear R² 1.000, gradient min/max 1.00")
  fig = oc.plot(n)
  assert len(fig.axes) == 2
  common.matplotlib_pyplot().close(fig)
