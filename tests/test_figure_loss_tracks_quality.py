"""experiments/figures/loss_tracks_quality.py (WGAN Figs 3, 4 and 8 on Fashion-MNIST): the
warm-up windows of the official schedule, the filter and correlation inside them (a step at a
warm-up block does not make a correlation), the checks on constructed summaries (each fails
when its phenomenon is absent), the set-ups' configs, and the tiny run end to end."""

import json
import math

import numpy as np
import pytest
import scipy.stats

import wgan_jax as wj
from experiments.figures import loss_tracks_quality as ltq
from experiments.figures import runner

from figure_numbers import NUMBERS   # tests/figure_numbers.py


# ------------------------------------------------------------------ windows
def test_warmup_iterations_follow_the_official_schedule():
  cfg = wj.make_config("wgan")
  np.testing.assert_array_equal(ltq.warmup_iterations(cfg, 1001),
                                list(range(25)) + [500, 1000])
  assert len(ltq.warmup_iterations(wj.make_config("nsgan"), 1000)) == 0
  short = wj.make_config("wgan", warmup_generator_iters=3, warmup_every=20)
  np.testing.assert_array_equal(ltq.warmup_iterations(short, 45), [0, 1, 2, 20, 40])


def test_clean_windows_exclude_every_warmup_iteration():
  assert ltq.clean_windows(1000, list(range(25)) + [500]) == [(25, 500), (501, 1000)]
  assert ltq.clean_windows(1001, list(range(25)) + [500, 1000]) == [(25, 500), (501, 1000)]
  assert ltq.clean_windows(10, []) == [(0, 10)]
  assert ltq.clean_windows(10, [0, 1, 9]) == [(2, 9)]


def test_filter_stays_inside_its_window():
  # window 1 at 0, the block's own iteration 1000, window 2 at 10, one outlier in window 2
  v = np.r_[np.zeros(5), 1000.0, np.full(6, 10.0)]
  v[8] = -50.0
  f = ltq.filter_in_windows(v, [(0, 5), (6, 12)], kernel=3)
  assert np.isnan(f[5])
  np.testing.assert_array_equal(f[:5], 0.0)
  np.testing.assert_array_equal(f[6:], 10.0)   # the outlier is gone, nothing of window 1 leaks
  # the kernel shrinks to the window's length (odd): a 2-long window is left as it is
  np.testing.assert_array_equal(ltq.filter_in_windows([3.0, 1.0], [(0, 2)], kernel=101), [3, 1])
  assert ltq.largest_odd(4) == 3 and ltq.largest_odd(5) == 5


def test_evaluations_pair_with_the_previous_iteration():
  np.testing.assert_array_equal(ltq.at_evaluations(np.arange(10.0), [0, 5, 10]),
                                [np.nan, 4, 9])
  np.testing.assert_array_equal(
      ltq.window_of([0, 25, 26, 500, 501, 502], [(25, 500), (501, 1000)]),
      [-1, -1, 0, 0, -1, 1])


def _stepped(n_windows=2, per=20):
  """FD falls steadily over the run; within each window the loss *rises* as FD falls (ρ = −1
  there), but each window's loss sits 10 lower than the previous one's (a step at each block)."""
  its = np.arange(1, n_windows * per + 1)
  fd = 1000.0 - its
  loss = np.concatenate([10.0 * (n_windows - w) + np.linspace(0, 1, per) for w in range(n_windows)])
  windows = [(w * per, (w + 1) * per) for w in range(n_windows)]
  return its, loss, fd, windows


def test_a_step_between_windows_makes_no_correlation():
  its, loss, fd, windows = _stepped()
  rows = ltq.window_correlations(its, loss, fd, windows)
  assert [r["points"] for r in rows] == [20, 20]
  np.testing.assert_allclose([r["rho"] for r in rows], [-1, -1])
  assert ltq.mean_rho(rows) == pytest.approx(-1)
  # across the step the same numbers correlate strongly (the old figure's artefact)
  assert scipy.stats.spearmanr(loss, fd).statistic > 0.5


def test_correlations_need_points_and_variation():
  assert math.isnan(ltq.spearman([1, 2], [2, 1]))
  assert math.isnan(ltq.spearman([1, 1, 1], [1, 2, 3]))
  assert ltq.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1)
  its, loss, fd, windows = _stepped(per=4)
  assert ltq.window_correlations(its, loss, fd, windows) == []     # 4 points < 5
  assert math.isnan(ltq.mean_rho([]))


def test_ends_and_changes():
  assert ltq.ends([1, 2, 3, 4]) == (1, 4)
  assert ltq.ends([np.nan, 1, 2, 3, 4, 5, 6, 7, 8]) == (1.5, 7.5)
  assert ltq.relative_change([1, 2, 3, 4]) == pytest.approx(3 / 2.5)
  assert ltq.relative_change([0.0] * 8) == 0.0               # a dead critic's W is flat
  assert ltq.relative_change([0, 0, 0, 1]) == math.inf
  assert ltq.quality_ratio(np.array([200.0, 150.0, 50.0])) == 0.25


def test_late_range():
  """Fig 3 bottom's statistic: a dead critic's W (a start-up, then exactly 0) is constant; a
  W estimate that keeps falling after its first quarter is not; a diverged curve is NaN."""
  dead = np.r_[[0.004, 0.002, 0.001], np.zeros(37)]
  assert ltq.late_range(dead) == 0.0
  assert ltq.late_range(np.zeros(10)) == 0.0
  assert ltq.late_range(np.full(10, -3.0)) == 0.0
  falling = np.linspace(5.0, 1.0, 40)
  assert ltq.late_range(falling) == pytest.approx((falling[10] - 1.0) / 5.0)
  assert math.isnan(ltq.late_range([np.nan, np.inf]))
  assert ltq.late_range([np.nan, 2.0, 2.0, 2.0, 1.0]) == pytest.approx(0.5)


def test_jumps_at_blocks():
  its = np.arange(0, 1001, 25)
  gn = np.where(its <= 500, 1.0, 3.0)
  warm = list(range(25)) + [500]
  assert ltq.scale_jumps(its, gn, warm, 25) == [dict(block=500, before=1.0, after=3.0,
                                                     ratio=3.0)]
  curve = np.r_[np.full(501, 2.0), np.full(499, 1.0)]
  assert ltq.loss_jumps(curve, warm) == [dict(block=500, before=2.0, after=1.0, ratio=0.5)]
  assert ltq.loss_jumps(curve[:510], warm) == []             # no 25 iterations after the block


# ------------------------------------------------------------------ checks
def _summaries(**changes):
  """Summaries as the paper has them: the working WGANs improve and track, the failing one is
  flat, the GANs' losses do not track while the DCGAN GAN improves, their G cost rises."""
  s = {n: dict(mean_window_rho=0.9, fd_ratio=0.4, loss_change=-0.8) for n in ltq.WGAN_SETUPS}
  s["wgan_mlp_high_lr"] = dict(mean_window_rho=float("nan"), fd_ratio=1.02, loss_change=0.0,
                               loss_late_range=0.0)
  for n in ltq.GAN_SETUPS:
    s[n] = dict(mean_window_rho=-0.3, fd_ratio=0.5, loss_change=0.3, g_cost_change=0.5)
  for key, value in changes.items():
    name, field = key.split("__")
    s[name] = dict(s[name], **{field: value})
  return s


def _judge(s):
  """The checks on the summaries as stored (NaN and ±inf become None)."""
  checks = ltq.judge(runner.as_stored(dict(setups=s)))
  assert list(checks) == list(ltq.judge_summaries(s))
  return list(checks.values())


def test_checks_pass_on_the_papers_curves():
  assert _judge(_summaries()) == [True] * 6
  assert list(ltq.judge_summaries(_summaries()).values()) == [True] * 6


@pytest.mark.parametrize("changes, failing", [
    (dict(wgan_mlp_g__fd_ratio=0.95), 0),                 # the MLP generator does not improve
    (dict(wgan_mlp_g__mean_window_rho=0.1), 0),           # its W estimate does not track
    (dict(wgan_dcgan__mean_window_rho=float("nan")), 1),  # a constant W estimate
    (dict(wgan_dcgan__fd_ratio=0.8), 1),
    (dict(wgan_mlp_high_lr__fd_ratio=0.6), 2),            # the "failing" set-up trains
    (dict(wgan_mlp_high_lr__loss_late_range=0.31), 2),    # its loss moves (as the working
    (dict(wgan_mlp_high_lr__loss_late_range=float("nan")), 2),  # runs' do), or diverged
    (dict(gan_mlp_high_lr__mean_window_rho=0.7), 3),      # a GAN JS bound tracks quality
    (dict(gan_dcgan__fd_ratio=0.9, gan_mlp_g__g_cost_change=0.1), None),  # below
    (dict(gan_mlp_g__g_cost_change=-0.2), 4),             # the G cost falls
    (dict(wgan_mlp_g_fast__mean_window_rho=0.2), 5),
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  got = _judge(_summaries(**changes))
  if failing is None:  # the DCGAN GAN's samples do not improve: Figs 4 and 8 are vacuous
    assert got == [True, True, True, False, False, True], got
  else:
    assert got == [i != failing for i in range(6)], got


def test_the_extra_check_is_only_there_with_the_extra_run():
  s = _summaries()
  del s["wgan_mlp_g_fast"]
  assert len(_judge(s)) == 5


def test_the_long_config_judges_each_seed_on_its_own():
  """The long config's set-ups (Fig 3 left, Figs 4 and 8) × 3 seeds: three checks per seed,
  each named with its seed, and a seed without the phenomenon fails only its own check."""
  sz = ltq.FIGURE.config("long")
  assert ltq.setups_at(sz) == ["wgan_mlp_g", "gan_mlp_g", "gan_dcgan"] and sz["seeds"] == 3
  assert sz["iters"] == 10000
  base = {n: v for n, v in _summaries().items() if n in ltq.setups_at(sz)}
  s = {}
  for k in range(3):
    for n, v in base.items():
      s[n if k == 0 else f"{n}{ltq.SEED_MARK}{k}"] = dict(v)
  assert [ltq.seed_of(n) for n in s] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
  checks = ltq.judge(runner.as_stored(dict(setups=s)))
  assert len(checks) == 9 and all(checks.values())
  assert [c.split("(seed ")[-1] for c in checks] == ["0)"] * 3 + ["1)"] * 3 + ["2)"] * 3
  s[f"wgan_mlp_g{ltq.SEED_MARK}1"]["fd_ratio"] = 0.95   # seed 1's MLP generator stalls
  got = list(ltq.judge(runner.as_stored(dict(setups=s))).values())
  assert got == [True] * 3 + [False, True, True] + [True] * 3
  # Fig 4 reads every GAN set-up trained: a tracking JS bound in seed 2 fails it there only
  s[f"gan_mlp_g{ltq.SEED_MARK}2"]["mean_window_rho"] = 0.8
  got = list(ltq.judge(runner.as_stored(dict(setups=s))).values())
  assert got == [True] * 3 + [False, True, True] + [True, False, True]


def test_first_warmup_is_the_leading_run_of_warmup_iterations():
  assert ltq.first_warmup(list(range(25)) + [500, 1000]) == 25
  assert ltq.first_warmup([0, 1, 30]) == 2 and ltq.first_warmup([]) == 0
  cfg = ltq.build("wgan_dcgan", ltq.FIGURE.config("tiny")).config
  assert ltq.first_warmup(ltq.warmup_iterations(cfg, 60)) == cfg.warmup_generator_iters == 2


def test_summary_reads_the_stored_numbers():
  s = _summaries()
  for n in s:
    s[n]["fd"] = [600.0, 300.0]
  n = runner.as_stored(dict(setups=s, fd_reference_real_test_images=8.04, setup=dict(
      generator_iterations=60, dcgan_dim=4, mlp_width=16)))
  got = ltq.summary(n)
  assert got.startswith("60 generator iterations, DCGAN dim 4, MLP width 16. FD first → last")
  assert "wgan_mlp_high_lr 600 → 300 (+nan)" in got and "gan_dcgan +0.50" in got
  assert got.endswith("Real test images' FD 8.0")


# ------------------------------------------------------------------ set-ups
def test_setups_are_the_papers_recipes():
  sz = ltq.FIGURE.config("tiny")
  g = ltq.build("wgan_dcgan", ltq.FIGURE.config("default"))
  c = g.config
  assert (c.objective, c.optimizer, c.lr_d, c.lr_g, c.clip_value, c.n_critic, c.batch_size,
          c.latent_dim, c.warmup, c.warmup_critic_iters, c.warmup_generator_iters,
          c.warmup_every) == ("wgan", "rmsprop", 5e-5, 5e-5, 0.01, 5, 64, 100, True, 100, 25,
                              500)
  high = ltq.build("wgan_mlp_high_lr", sz)
  assert high.config.lr_d == high.config.lr_g == ltq.HIGH_LR["wgan"] == 100 * ltq.WGAN_LR
  assert type(high.critic).__name__ == "MLPCritic" and high.critic.norm == "none"
  assert high.critic.depth == high.generator.depth == ltq.MLP_DEPTH == 3
  assert high.config.warmup_every == 30                      # tiny's short schedule
  gan = ltq.build("gan_mlp_g", sz)
  assert (gan.config.objective, gan.config.optimizer, gan.config.lr_d, gan.config.n_critic,
          gan.config.beta1) == ("nsgan", "adam", 2e-4, 1, 0.5)
  assert type(gan.critic).__name__ == "DCGANCritic" and gan.critic.norm == "batch"
  assert type(gan.generator).__name__ == "ImageMLPGenerator"
  assert ltq.build("wgan_mlp_g_fast", sz).config.lr_d == ltq.EXTRA_LR
  with pytest.raises(ValueError, match="scale"):
    ltq.FIGURE.config("huge")


# ------------------------------------------------------------------ end to end
@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  runner.run(ltq.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "loss_tracks_quality.png").read_bytes()[:4] == b"\x89PNG"
  data = json.loads((tmp_path / "loss_tracks_quality.json").read_text())
  n, sz = data["numbers"], ltq.FIGURE.config("tiny")
  # tiny runs every set-up but the extra one (the checks do without it)
  assert set(n["setups"]) == set(ltq.SETUPS) - {"wgan_mlp_g_fast"} and len(data["checks"]) == 5
  for name, s in n["setups"].items():
    its = np.asarray(s["iterations"])
    np.testing.assert_array_equal(its, np.arange(0, sz["iters"] + 1, sz["eval_every"]))
    fd = np.asarray(s["fd"], float)
    assert fd.shape == its.shape and np.all(np.isfinite(fd)) and np.all(fd > 0)
    raw = np.asarray(s["raw"], float)
    assert raw.shape == (sz["iters"],) and np.all(np.isfinite(raw))
    filt = np.asarray([np.nan if v is None else v for v in s["filtered"]])
    inside = np.zeros(sz["iters"], bool)
    for a, b in s["windows"]:
      inside[a:b] = True
    assert np.array_equal(np.isfinite(filt), inside)  # NaN exactly outside the windows
    for r in s["window_rho"]:
      assert r["rho"] is None or -1 <= r["rho"] <= 1
    if name.startswith("wgan"):
      # tiny's schedule: warm-up before iterations 0, 1 and 30
      assert s["windows"] == [[2, 30], [31, 60]]
      assert len(s["window_rho"]) == 2
    else:
      assert s["windows"] == [[0, sz["iters"]]]
      assert np.all(raw <= math.log(2) + 1e-6)       # ½L + log 2 ≤ log 2
      assert np.all(np.asarray(s["g_cost_raw"]) > 0)  # −log D > 0
    # the plotted samples: GRID of each evaluation at 0, mid-run and the end
    assert list(n["samples"][name]) == ["0", "30", "60"]
    assert np.asarray(n["samples"][name]["30"]).shape == (ltq.GRID, 28, 28)

  NUMBERS["loss_tracks_quality"](n)   # tests/figure_numbers.py: bounds that hold at any quality