"""mixgan_scores (MIX+GAN's table and theory): the measures are exact where they can be, and
every check can fail."""

import itertools
import json
import math

import jax
import numpy as np
import pytest

from experiments.figures import mixgan_scores as ms
from experiments.figures import runner

LEVELS = {"nsgan": (2.5, 0.05), "nsgan ×5": (2.6, 0.05), "mix+nsgan": (2.9, 0.05),
          "wgan": (1.8, 0.05), "mix+wgan": (2.1, 0.05)}
THEORY = [dict(m=32, w1=1.28, small_critic=0.52), dict(m=128, w1=1.23, small_critic=0.27),
          dict(m=512, w1=1.20, small_critic=0.14), dict(m=2048, w1=1.16, small_critic=0.065)]


def _judge(levels=LEVELS, theory=THEORY):
  """The checks of stored numbers holding these levels and distances."""
  return ms.judge(runner.as_stored(dict(levels=levels, theory=theory)))


def test_the_papers_outcome_passes_every_check():
  assert all(_judge().values())


@pytest.mark.parametrize("levels, theory, failing", [
    (dict(LEVELS, **{"mix+nsgan": (2.55, 0.05)}), THEORY, [0, 1]),   # within the noise
    (dict(LEVELS, **{"nsgan ×5": (3.0, 0.05)}), THEORY, [1]),         # size explains the gain
    (dict(LEVELS, **{"mix+wgan": (1.7, 0.05)}), THEORY, [2]),
    (LEVELS, THEORY[:-1] + [dict(m=2048, w1=0.5, small_critic=0.065)], [3]),
    (LEVELS, THEORY[:-1] + [dict(m=2048, w1=1.16, small_critic=0.3)], [4]),
    (LEVELS, [THEORY[0], THEORY[2], THEORY[1], THEORY[3]], [4]),       # not falling throughout
])
def test_each_check_fails_when_its_claim_is_absent(levels, theory, failing):
  values = list(_judge(levels, theory).values())
  assert [i for i, ok in enumerate(values) if not ok] == failing


@pytest.mark.parametrize("winner, loser, check", [
    ("mix+nsgan", "nsgan", 0), ("mix+nsgan", "nsgan ×5", 1), ("mix+wgan", "wgan", 2)])
def test_a_win_is_runner_beats_two_standard_errors_of_the_difference(winner, loser, check):
  """Every 'A beats B' of the table is the one margin rule (runner.beats): a margin of 1.5 or
  1.9 s.e. of the difference (0.3 and 0.4: 0.5) is no win (the old rule counted anything
  above 1 s.e.); 2.1 s.e. is."""
  lv, _ = LEVELS[loser]
  for k, wins in ((1.5, False), (1.9, False), (2.1, True)):
    levels = dict(LEVELS, **{loser: (lv, 0.4), winner: (lv + k * 0.5, 0.3)})
    assert list(_judge(levels).values())[check] is wins, (k, levels)
    assert wins == runner.beats(levels[winner], levels[loser])


def test_a_diverged_run_passes_none_of_its_checks():
  """A non-finite level or distance (stored as None) is NaN: its comparisons fail."""
  nan = float("nan")
  assert list(_judge(dict(LEVELS, **{"mix+wgan": (nan, nan)})).values()) == [
      True, True, False, True, True]
  theory = THEORY[:-1] + [dict(m=2048, w1=float("inf"), small_critic=nan)]
  assert list(_judge(theory=theory).values()) == [True, True, True, False, False]


def _stored_numbers():
  table = {k: dict(iterations=[0, 2, 4], score=[[1.0, 2.0, lv], [1.0, 2.5, lv + 0.1]], dim=4,
                   generator_parameters=100, critic_parameters=50)
           for k, (lv, _) in LEVELS.items()}
  table["mix+nsgan"]["weight_movement"] = 0.02
  theory = [dict(t, js=math.log(2), linear=t["small_critic"] / 2) for t in THEORY]
  return runner.as_stored(dict(
      setup=dict(seeds=2, generator_iterations=4, methods={"nsgan": dict(dim=4)},
                 gaussian=dict(d=100)), levels=LEVELS, table=table, theory=theory,
      real_test_images_score=8.0))


def test_summary_markdown_and_plot_read_the_stored_numbers():
  n = _stored_numbers()
  s = ms.summary(n)
  assert s.startswith("2 seeds × 4 generator iterations, dim 4. Level (Fashion classifier "
                      "score): nsgan 2.50 ± 0.05, ")
  assert "mix+nsgan 0.020" in s and "m 32 → 2048: W1 1.280 → 1.160" in s
  md = ms.markdown(n)
  assert "| mix+nsgan | 4 | 100 / 50 | 2.90 ± 0.05 | 7.72 (MIX+DCGAN) |" in md
  assert "| 2048 | 1.160 | 0.693 | 0.033 | 0.065 |" in md
  fig = ms.plot(n)
  assert len(fig.axes) == 3 and "N(0, I/100)" in fig.axes[2].get_title()
  import matplotlib.pyplot as plt
  plt.close(fig)


def test_level_is_the_tail_mean_over_runs():
  scores = [[1, 1, 1, 2, 2, 2], [1, 1, 1, 4, 4, 4]]  # last third: (2, 2) and (4, 4)
  mean, se = ms.level(scores)
  assert mean == pytest.approx(3.0) and se == pytest.approx(np.std([2, 4], ddof=1) / math.sqrt(2))


def test_the_control_has_five_times_the_parameters():
  for dim in (4, 8):
    big = ms.control_dim(dim, (28, 28, 1), 5)
    ratio = ms.parameter_count(big, (28, 28, 1)) / ms.parameter_count(dim, (28, 28, 1))
    assert 4.5 < ratio < 5.5, (dim, big, ratio)


def test_gaussian_distances_are_exact_where_they_can_be():
  """W1 of two 5-point samples equals the best of all 120 matchings; the linear critic is
  ‖mean₁ − mean₂‖; JS of two disjoint empirical measures is log 2."""
  key = jax.random.key(3)
  d = ms.gaussian_distances(key, 5, 7, critic_steps=5, critic_width=2)
  kx, ky, _ = jax.random.split(key, 3)
  x = np.asarray(jax.random.normal(kx, (5, 7))) / math.sqrt(7)
  y = np.asarray(jax.random.normal(ky, (5, 7))) / math.sqrt(7)
  brute = min(np.mean([np.linalg.norm(x[i] - y[p[i]]) for i in range(5)])
              for p in itertools.permutations(range(5)))
  assert d["w1"] == pytest.approx(brute, rel=1e-6)
  assert d["linear"] == pytest.approx(np.linalg.norm(x.mean(0) - y.mean(0)), rel=1e-5)
  assert d["js"] == pytest.approx(math.log(2))
  # a 1-Lipschitz-ish critic cannot see more than W1 (up to the penalty's slack)
  assert d["small_critic"] <= 1.5 * d["w1"]


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(ms.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "mixgan_scores.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "mixgan_scores.json").read_text())["numbers"]
  s = ms.FIGURE.config("tiny")
  assert set(n["table"]) == set(ms.METHODS) and len(r["checks"]) == 5
  for k, v in n["table"].items():
    assert np.asarray(v["score"]).shape == (s["seeds"], s["iters"] // s["eval_every"] + 1)
    assert ("w_g" in v) == k.startswith("mix+")
  # the mixture holds T copies of the base model; ×5 has about 5× the base's parameters
  total = lambda k: (n["table"][k]["generator_parameters"] +
                     n["table"][k]["critic_parameters"])
  g = lambda k: n["table"][k]["generator_parameters"]
  assert g("mix+nsgan") == ms.COMPONENTS * g("nsgan") + ms.COMPONENTS  # + the T logits
  assert 4 < total("nsgan ×5") / total("nsgan") < 6.5
  for k in ("mix+nsgan", "mix+wgan"):
    w = np.asarray(n["table"][k]["w_g"])
    np.testing.assert_allclose(w.sum(axis=1), 1, rtol=1e-5)
  # re-judged from the JSON alone: the same checks
  assert runner.rebuild(ms.FIGURE, str(tmp_path))["checks"] == r["checks"]
