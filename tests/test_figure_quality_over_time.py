"""quality_over_time (WGAN-GP Fig. 3 on Fashion-MNIST): the curve statistics and the checks
against hand-computed values, and the tiny run end to end."""

import json
import math

import numpy as np
import pytest

from experiments.figures import quality_over_time as q


def test_tail_is_the_last_third_with_at_least_three_points():
  it = np.arange(0, 1501, 50)   # 0, 50, ..., 1500: the tail is 1000..1500
  mask = q.tail_mask(it)
  assert mask.sum() == 11 and it[mask][0] == 1000 and it[mask][-1] == 1500
  np.testing.assert_array_equal(q.tail_mask([0, 2, 4, 6]), [False, True, True, True])
  np.testing.assert_array_equal(q.tail_mask([0, 2]), [True, True])


def test_line_fit_slope_and_residual_sd():
  x = np.array([0.0, 1.0, 2.0, 3.0])
  assert q.line_fit(x, 2 + 0.5 * x) == pytest.approx((0.5, 0.0), abs=1e-12)
  # residuals of y = (0, 1, 0, 1) around its fit y = 0.2 + 0.2 x: -.2, .6, -.6, .2; Σr² = 0.8
  b, sd = q.line_fit(x, [0.0, 1.0, 0.0, 1.0])
  assert b == pytest.approx(0.2) and sd == pytest.approx(math.sqrt(0.8 / 2))


def test_max_drawdown():
  assert q.max_drawdown([1, 2, 3, 4]) == 0.0
  assert q.max_drawdown([1, 5, 2, 6, 4.5]) == pytest.approx(3.0)


def test_curve_stats_on_a_flat_and_a_rising_method():
  it = [0, 10, 20, 30, 40, 50]           # tail: 40, 50 and (at least 3) 30
  flat = np.array([[1, 1], [5, 6], [6, 7], [6.2, 7.2], [5.8, 6.8], [6.0, 7.0]])
  st = q.curve_stats(it, flat)
  # levels (6.2+5.8+6)/3 = 6 and 7: mean 6.5, s.e. 0.5; total rise 6.5 − 1 = 5.5
  assert st["level"] == pytest.approx(6.5) and st["level_se"] == pytest.approx(0.5)
  assert st["total_rise"] == pytest.approx(5.5) and st["tail_evaluations"] == 3
  # fitted slope over (30, 6.2), (40, 5.8), (50, 6.0): −0.01 per it. → −0.2 across 20 it.
  assert st["tail_rise"] == pytest.approx(-0.2) and st["converged"]
  # that line is 6.1, 6.0, 5.9: residuals (.1, −.2, .1), Σr² = .06 over 3 − 2 degrees of
  # freedom
  assert st["fluctuation"] == pytest.approx(math.sqrt(0.06))
  rising = np.array([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6]], float)
  st = q.curve_stats(it, rising)
  assert st["tail_rise"] == pytest.approx(2.0) and not st["converged"]  # 2 > 0.1 × 4


def test_better_needs_more_than_two_standard_errors():
  a = dict(level=5.0, level_se=0.3)
  b = dict(level=4.0, level_se=0.4)   # s.e. of the difference 0.5: 1.0 is exactly 2 s.e.
  assert not q.better(a, b) and q.better(dict(a, level=5.01), b) and not q.better(b, a)


def test_time_to_reach_interpolates_and_is_inf_when_never_reached():
  t, y = [0.0, 10.0, 20.0, 30.0], [1.0, 3.0, 7.0, 8.0]
  assert q.time_to_reach(t, y, 5.0) == pytest.approx(15.0)
  assert q.time_to_reach(t, y, 1.0) == 0.0
  assert q.time_to_reach(t, y, 9.0) == math.inf


def _stats(level, se=0.05, fluct=0.1, converged=True):
  return dict(level=level, level_se=se, fluctuation=fluct, converged=converged)


def test_judge_passes_the_papers_ordering_and_fails_each_claim_on_its_counterexample():
  stats = {q.DCGAN: _stats(6.0, fluct=0.3), q.CLIP: _stats(3.0), q.GP_RMS: _stats(4.5),
           q.GP_ADAM: _stats(5.8, fluct=0.1)}
  reach, noise = {q.DCGAN: 10.0, q.GP_ADAM: 40.0}, {q.DCGAN: 0.05}
  assert all(q.judge(stats, reach, noise).values())
  names = list(q.judge(stats, reach, noise))
  fails = {
      0: dict(stats, **{q.GP_RMS: _stats(3.1)}),              # GP (RMSProp) ≈ clipping
      1: dict(stats, **{q.GP_ADAM: _stats(4.55, fluct=0.1)}),  # Adam ≈ RMSProp
      2: dict(stats, **{q.GP_ADAM: _stats(5.3, fluct=0.1)}),   # more than 10% below DCGAN
      4: dict(stats, **{q.GP_ADAM: _stats(5.8, fluct=0.25)}),  # not 0.8× DCGAN's fluctuation
  }
  for i, s in fails.items():
    got = q.judge(s, reach, noise)
    assert not got[names[i]], names[i]
  assert not q.judge(stats, {q.DCGAN: 50.0, q.GP_ADAM: 40.0}, noise)[names[3]]
  # DCGAN's fluctuation no larger than the sampling noise: no instability to be stabler than
  assert not q.judge(stats, reach, {q.DCGAN: 0.25})[names[4]]
  # not converged: "at convergence" cannot be measured
  s = dict(stats, **{q.GP_ADAM: _stats(5.8, fluct=0.1, converged=False)})
  assert not q.judge(s, reach, noise)[names[4]]


def test_sizes_rejects_an_unknown_scale_and_default_has_three_seeds():
  with pytest.raises(ValueError, match="scale"):
    q.sizes("huge")
  assert all(q.sizes(s)["seeds"] >= 3 for s in q.SIZES)


@pytest.mark.slow
def test_tiny_run_end_to_end(tmp_path):
  r = q.run(str(tmp_path), scale="tiny")
  assert (tmp_path / f"{q.NAME}.png").read_bytes()[:4] == b"\x89PNG"
  data = json.loads((tmp_path / f"{q.NAME}.json").read_text())
  n = data["numbers"]
  assert len(data["checks"]) == 5 and set(n["curves"]) == set(q.METHODS)
  s = q.sizes("tiny")
  for m, evals in n["curves"].items():
    assert [e["iteration"] for e in evals] == list(range(0, s["iters"] + 1, s["eval_every"]))
    for e in evals:
      assert len(e[q.SCORE]) == len(e[q.FRECHET]) == s["seeds"]
      assert all(1.0 - 1e-9 <= v <= 10.0 for v in e[q.SCORE])
      assert all(np.isfinite(v) and v >= 0 for v in e[q.FRECHET])
    sec = [e["seconds"] for e in evals]
    assert sec[0] == 0.0 and all(b >= a for a, b in zip(sec, sec[1:]))
    assert np.isfinite(n["stats"][m]["level"]) and n["sampling_noise"][m] >= 0
  assert 7.0 < n["context_real_test_images"][q.SCORE] <= 10.0
  assert r["summary"].startswith("tiny:")
