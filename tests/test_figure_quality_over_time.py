"""quality_over_time (WGAN-GP Fig. 3 on Fashion-MNIST): the curve statistics and the checks
against hand-computed values, and the tiny run end to end."""

import json
import math

import numpy as np
import pytest

from experiments import common
from experiments.figures import _common, runner
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
  # the one margin rule of every figure, runner.beats (mixgan_scores' too)
  for level in (4.2, 4.5, 4.99, 5.0, 5.01, 6.0, math.nan):
    assert q.better(dict(a, level=level), b) == runner.beats((level, 0.3), (4.0, 0.4))
  assert q.MARGIN_SE == runner.MARGIN_SE


def test_time_to_reach_interpolates_and_is_inf_when_never_reached():
  t, y = [0.0, 10.0, 20.0, 30.0], [1.0, 3.0, 7.0, 8.0]
  assert q.time_to_reach(t, y, 5.0) == pytest.approx(15.0)
  assert q.time_to_reach(t, y, 1.0) == 0.0
  assert q.time_to_reach(t, y, 9.0) == math.inf


def _stats(level, se=0.05, fluct=0.1, converged=True, fluct_se=0.02):
  return dict(level=level, level_se=se, fluctuation=fluct, converged=converged,
              fluctuation_se=fluct_se)


STATS = {q.DCGAN: _stats(6.0, fluct=0.3), q.CLIP: _stats(3.0), q.GP_RMS: _stats(4.5),
         q.GP_ADAM: _stats(5.8, fluct=0.1)}
REACH, NOISE = {q.DCGAN: 10.0, q.GP_ADAM: 40.0}, {m: 0.05 for m in q.METHODS}


def _numbers(stats=None, reach=None, noise=None):
  """Constructed numbers as stored (through JSON): the paper's ordering unless changed."""
  return runner.as_stored(dict(stats={**STATS, **(stats or {})},
                               seconds_to_reach_target={**REACH, **(reach or {})},
                               sampling_noise={**NOISE, **(noise or {})}))


def test_checks_pass_on_the_papers_ordering():
  assert list(q.judge(_numbers()).values()) == [True] * 5
  assert q.judge(_numbers()) == q.judge_stats(STATS, REACH, NOISE)


@pytest.mark.parametrize("changes, failing", [
    (dict(stats={q.GP_RMS: _stats(3.1)}), 0),                  # GP (RMSProp) ≈ clipping
    (dict(stats={q.GP_RMS: _stats(5.75)}), 1),                 # Adam ≈ RMSProp
    (dict(stats={q.GP_ADAM: _stats(5.3, fluct=0.1)}), 2),      # > 10% below DCGAN
    (dict(reach={q.DCGAN: 50.0}), 3),                          # DCGAN not faster
    (dict(reach={q.DCGAN: None}), 3),                          # DCGAN never reaches the target
    (dict(stats={q.GP_ADAM: _stats(5.8, fluct=0.25)}), 4),     # within 2 s.e. of DCGAN's
    # lower, but by less than 2 s.e. of the difference (the committed run's case: 0.063 ±
    # 0.007 against 0.085 ± 0.019)
    (dict(stats={q.GP_ADAM: _stats(5.8, fluct=0.063, fluct_se=0.007),
                 q.DCGAN: _stats(6.0, fluct=0.085, fluct_se=0.019)}), 4),
    # no s.e. of the fluctuation stored or computable: no win
    (dict(stats={q.GP_ADAM: dict(_stats(5.8), fluctuation_se=None)}), 4),
    # DCGAN's fluctuation no larger than the sampling noise: no instability to be stabler than
    (dict(noise={q.DCGAN: 0.25}), 4),
    # not converged: "at convergence" cannot be measured
    (dict(stats={q.GP_ADAM: _stats(5.8, fluct=0.1, converged=False)}), 4),
    (dict(stats={q.DCGAN: _stats(6.0, fluct=0.3, converged=False)}), 4),
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  assert list(q.judge(_numbers(**changes)).values()) == [i != failing for i in range(5)]


def test_the_fluctuations_se_comes_from_the_stored_curves_when_not_stored():
  """A run stored before `fluctuation_se`: judge computes it from the stored curves (per-run
  s.d. around each tail line, their s.e. over runs)."""
  rng = np.random.default_rng(0)
  it = list(range(0, 300, 10))
  curves = {m: [{"iteration": i, q.SCORE: list(3 + rng.normal(0, 0.1 * (k + 1), 3))}
                for k, i in enumerate(it)] for m in q.METHODS}
  stats = {m: {k: v for k, v in _stats(5.0).items() if k != "fluctuation_se"}
           for m in q.METHODS}
  got = q._stats_of(runner.as_stored(dict(stats=stats, curves=curves)))
  for m in q.METHODS:
    scores = np.array([e[q.SCORE] for e in curves[m]])
    tail = q.tail_mask(np.asarray(it, float))
    sds = [q.line_fit(np.asarray(it, float)[tail], scores[tail, k])[1] for k in range(3)]
    assert got[m]["fluctuation_se"] == pytest.approx(np.std(sds, ddof=1) / math.sqrt(3))


@pytest.mark.parametrize("winner, loser, check", [(q.GP_RMS, q.CLIP, 0),
                                                    (q.GP_ADAM, q.GP_RMS, 1)])
def test_a_one_se_margin_is_no_win(winner, loser, check):
  """'A better than B' is runner.beats: a margin of 1 or 1.9 s.e. of the difference (s.e.
  0.3 and 0.4: 0.5) is not better, 2.1 s.e. is; the other checks are unchanged."""
  lv = STATS[loser]["level"]
  for k, wins in ((1.0, False), (1.9, False), (2.1, True)):
    stats = {loser: _stats(lv, se=0.4), winner: dict(STATS[winner], level=lv + k * 0.5,
                                                     level_se=0.3)}
    got = list(q.judge(_numbers(stats=stats)).values())
    assert got[check] is wins and got[:2] == [wins if i == check else True for i in range(2)]


def test_stored_non_finite_numbers():
  # WGAN-GP (Adam) never reaching the target (inf, stored as None): DCGAN is the faster one
  assert list(q.judge(_numbers(reach={q.GP_ADAM: math.inf})).values()) == [True] * 5
  # a diverged level (NaN, stored as None) passes no check that reads it
  got = list(q.judge(_numbers(stats={q.GP_ADAM: _stats(math.nan, fluct=0.1)})).values())
  assert got == [True, False, False, True, True]


def _full_numbers(samples=0):
  """Constructed numbers with everything summary and plot read (`samples` images a method)."""
  evals = [dict(iteration=i, seconds=float(i), **{q.SCORE: [1.0 + i, 2.0 + i],
                                                  q.FRECHET: [100.0 - i, None]})
           for i in (0, 2, 4)]
  images = np.linspace(-1, 1, samples * 28 * 28).reshape(samples, 28, 28)
  n = _numbers()
  n.update(runner.as_stored(dict(
      setup=dict(seeds_per_method=2, generator_iterations=4, dim=4), reach_target=2.5,
      context_real_test_images={q.SCORE: 8.0, q.FRECHET: 3.5},
      curves={m: evals for m in q.METHODS},
      final_samples={m: dict(seed=1, x=_common.stored_images(images)) for m in q.METHODS})))
  return n


def test_summary_reads_the_stored_numbers():
  s = q.summary(_full_numbers())
  assert s.startswith("2 seeds × 4 generator iterations, DCGAN-type dim 4.")
  assert "seconds to score 2.50: DCGAN 10, WGAN-GP (Adam) 40" in s


def test_plot_names_the_plotted_seed():
  fig = q.plot(_full_numbers(samples=4))
  assert "seed 1 (median level of 2)" in fig.axes[4].get_title()
  common.matplotlib_pyplot().close(fig)


def test_scales_reject_an_unknown_scale_and_each_has_three_seeds():
  with pytest.raises(ValueError, match="scale"):
    q.FIGURE.config("huge")
  assert all(q.FIGURE.config(s)["seeds"] >= 3 for s in q.SIZES)


@pytest.mark.slow
def test_tiny_run_end_to_end(tmp_path):
  r = runner.run(q.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / f"{q.NAME}.png").read_bytes()[:4] == b"\x89PNG"
  data = json.loads((tmp_path / f"{q.NAME}.json").read_text())
  n = data["numbers"]
  assert len(data["checks"]) == 5 and set(n["curves"]) == set(q.METHODS)
  s = q.FIGURE.config("tiny")
  for m, evals in n["curves"].items():
    assert [e["iteration"] for e in evals] == list(range(0, s["iters"] + 1, s["eval_every"]))
    for e in evals:
      assert len(e[q.SCORE]) == len(e[q.FRECHET]) == s["seeds"]
      assert all(1.0 - 1e-9 <= v <= 10.0 for v in e[q.SCORE])
      assert all(np.isfinite(v) and v >= 0 for v in e[q.FRECHET])
    sec = [e["seconds"] for e in evals]
    assert sec[0] == 0.0 and all(b >= a for a, b in zip(sec, sec[1:]))
    assert np.isfinite(n["stats"][m]["level"]) and n["sampling_noise"][m] >= 0
    # the plotted samples are the median-level seed's
    shown = n["final_samples"][m]
    levels = n["stats"][m]["per_run_level"]
    assert levels[shown["seed"]] == sorted(levels)[(len(levels) - 1) // 2]
    assert np.asarray(shown["x"]).shape == (q.FINAL_SAMPLES, 28, 28)
  assert 7.0 < n["context_real_test_images"][q.SCORE] <= 10.0
  assert r["summary"].startswith(f"{s['seeds']} seeds × {s['iters']} generator iterations")


def test_median_run_is_the_plotted_seed():
  assert _common.median_run([3.0, 1.0, 2.0]) == 2
  assert _common.median_run([5.0, 1.0]) == 1            # the lower middle of an even count
  assert _common.median_run([2.0, 2.0, 2.0]) == 1
  assert _common.median_run([math.nan, 1.0, 3.0]) == 2  # a diverged run sorts last
