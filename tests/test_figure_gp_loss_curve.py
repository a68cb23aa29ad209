"""WGAN-GP Fig 5a as computed by experiments/figures/gp_loss_curve.py: the filter, the curve
statistics on curves with known answers, the tiny run end to end, and each check failing on a
constructed run without its phenomenon (and on a diverged one)."""

import json
import math

import numpy as np
import pytest
import scipy.signal

from experiments.figures import gp_loss_curve as g
from experiments.figures import runner

ITS = np.arange(1, 2001)
EVS = np.arange(0, 2001, 50)


def _converging(its=ITS, floor=1.0, peak=8.0, tau=300.0):
  """A curve rising to its peak at iteration 50, then decaying to `floor` with time constant
  `tau`: Fig 5a's shape."""
  up = np.minimum(its / 50.0, 1.0) * peak
  return np.where(its <= 50, up, floor + (peak - floor) * np.exp(-(its - 50) / tau))


def _fd(evs=EVS):
  return 600.0 * np.exp(-evs / 500.0) + 150.0


def test_median_filter_is_scipys_in_the_interior_and_reflects_at_the_edges():
  rng = np.random.default_rng(0)
  v = rng.normal(size=300)
  f = g.median_filtered(v, 101)
  np.testing.assert_allclose(f[50:-50], scipy.signal.medfilt(v, 101)[50:-50])
  # the last value: the median of the last 51 values and their mirror image, i.e. of the last
  # 51 (a 'nearest' pad would take 50 copies of the last value, whatever the others are)
  assert f[-1] == pytest.approx(np.median(np.r_[v[-51:], v[-50:]]))
  spike = np.r_[np.zeros(200), 5.0]
  assert g.median_filtered(spike, 101)[-1] == 0.0
  assert g.median_filtered([3.0, 1.0, 2.0], 101)[0] == 3.0    # window cut to 3: [3, 3, 1]
  np.testing.assert_array_equal(g.median_filtered([5.0, 1.0], 101), [5.0, 1.0])


def test_stats_of_a_converging_curve():
  y = _converging()
  r = g.curve_stats(ITS, y, EVS, _fd())
  assert r["peak"] == pytest.approx(8.0) and r["peak_iteration"] == 50
  assert r["final"] == pytest.approx(y[-1]) and y[-1] == pytest.approx(1.0, abs=2e-2)
  assert r["final_over_peak"] == pytest.approx(1 / 8, abs=2e-3)
  # the last third (iterations ≥ 1334) moves by about 7·e^{-4.3} ≈ 0.09 of a fall of 7
  assert 0 < r["level_share"] < 0.03
  assert r["rho"] == pytest.approx(1.0) and r["points"] == 39   # the evaluations at 100, ..., 2000
  assert r["fd_ratio"] == pytest.approx(_fd()[-1] / _fd()[0])


def _judge(curves, fds):
  """The checks on stored numbers whose raw curves are `curves` (kernel 1: no filtering)."""
  numbers = runner.as_stored(dict(iterations=ITS, eval_iterations=EVS, negative_loss=curves,
                                  fd=fds, setup=dict(median_kernel=1)))
  return list(g.judge(numbers).values())


def test_checks_pass_on_fig_5a_and_fail_without_each_phenomenon():
  ok, fd = _converging(), _fd()
  assert _judge([ok, ok], [fd, fd]) == [True, True, True]
  # a curve that still falls linearly at the end: does not level off
  linear = np.maximum(8.0 - ITS * 3.5e-3, 0.5)
  assert _judge([ok, np.where(ITS < 50, ITS / 50 * 8, linear)], [fd, fd])[0] is False
  # a flat curve (the critic's loss never falls): fails "converges", and cannot track FD
  flat = np.full(len(ITS), 4.0)
  assert _judge([flat, ok], [fd, fd])[:2] == [False, False]
  # a curve that falls, but not with the samples: the FD rises then falls, out of step
  wrong_fd = 600.0 - 300.0 * np.sin(EVS / 2000 * np.pi)
  assert _judge([ok, ok], [fd, wrong_fd])[1] is False
  # samples that do not improve: the loss says nothing about quality
  stuck = np.full(len(EVS), 600.0) + np.linspace(0, 1, len(EVS))
  assert _judge([ok, ok], [fd, stuck])[2] is False
  # a diverged seed (NaN stored as None) fails every check
  bad = ok.copy()
  bad[1500] = np.nan
  assert _judge([ok, bad], [fd, fd]) == [False, False, False]


def test_a_negative_peak_converges_to_nothing():
  """Early in training the penalty dominates and −loss ≈ −λ: a curve that never rises above
  0 has no fall to measure (NaN ratio), which fails the check."""
  r = g.curve_stats(ITS, -10.0 + ITS * 1e-4, EVS, _fd())
  assert math.isnan(r["final_over_peak"])
  assert g.judge_stats([r])[list(g.judge_stats([r]))[0]] is False


@pytest.mark.slow   # trains the image models (the Fashion-MNIST figures' tiny runs are slow)
def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(g.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "gp_loss_curve.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "gp_loss_curve.json").read_text())["numbers"]
  sz = g.FIGURE.config("tiny")
  assert np.asarray(n["negative_loss"]).shape == (sz["seeds"], sz["iters"])
  assert np.asarray(n["fd"]).shape == (sz["seeds"], sz["iters"] // sz["eval_every"] + 1)
  assert n["iterations"][0] == 1 and n["eval_iterations"][0] == 0
  assert n["setup"]["median_kernel"] == sz["kernel"] and "filtered" not in n
  # what the checks read: the stored negative loss, filtered when read
  st = g.stored_stats(n)
  f0 = g.median_filtered(n["negative_loss"][0], sz["kernel"])
  assert st[0]["peak"] == pytest.approx(f0.max()) and st[0]["final"] == pytest.approx(f0[-1])
  assert len(r["checks"]) == 3
