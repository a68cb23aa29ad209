"""mixture_modes (MIX+GAN on the ring and the grid): the checks read the stored numbers, and
each fails on a constructed result without its phenomenon."""

import math

import numpy as np
import pytest

from experiments.figures import _common, runner
from experiments.figures import mixture_modes as mm

RING, GRID = "8gaussians", "25gaussians"


def _numbers(modes=None, weights=None):
  """Stored numbers: `modes` {(data set, method): mean modes} over the mixtures' picture (each
  mixture covers more modes than its single pair) and final weights (2 seeds × 5 components,
  around 0.2)."""
  modes = {**{(n, m): {"nsgan": 5.0, "wgan-gp": 6.0}[m.removeprefix("mix+")]
                + (1.0 if m.startswith("mix+") else 0.0)
                for n in _common.TOY_DATASETS for m in mm.METHODS}, **(modes or {})}
  rows = {k: dict(modes=(v, 0.3), hq_fraction=(0.9, 0.01), reverse_kl=(0.2, 0.01),
                  per_seed=[dict(modes=v), dict(modes=v)]) for k, v in modes.items()}
  w = np.full((2, mm.COMPONENTS), 1 / mm.COMPONENTS)
  w[:, 0], w[:, 1] = 0.25, 0.15
  mixtures = {f"{n}/{m}": dict(final_w_g=w, final_w_d=w) for n in _common.TOY_DATASETS
              for m in mm.METHODS if m.startswith("mix+")}
  if weights:
    mixtures.update(weights)
  return runner.as_stored(dict(table=_common.toy_table(rows), mixtures=mixtures, seeds=2,
                               iterations=10))


def _collapsed(w0):
  w = np.full((2, mm.COMPONENTS), (1 - w0) / (mm.COMPONENTS - 1))
  w[1, 0] = w0
  return {f"{GRID}/mix+nsgan": dict(final_w_g=w, final_w_d=np.full_like(w, 0.2))}


ABSENT = {  # a change that removes one phenomenon: the index of the check it must fail
    "one seed's generator weight degenerates": (dict(weights=_collapsed(0.99)), 0),
    "a weight is not finite": (dict(weights=_collapsed(math.nan)), 0),
    "mix+nsgan covers fewer ring modes than nsgan": (dict(modes={(RING, "mix+nsgan"): 4.9}), 1),
    "mix+nsgan diverged on the grid": (dict(modes={(GRID, "mix+nsgan"): math.inf}), 1),
    "mix+wgan-gp covers fewer grid modes than wgan-gp": (
        dict(modes={(GRID, "mix+wgan-gp"): 5.5}), 2),
}


def test_judge_passes_on_the_mixtures_picture():
  checks = mm.judge(_numbers())
  assert list(checks.values()) == [True] * 3
  assert "measured 0.150" in list(checks)[0]


@pytest.mark.parametrize("change,failing", ABSENT.values(), ids=list(ABSENT))
def test_each_check_fails_when_its_phenomenon_is_absent(change, failing):
  assert list(mm.judge(_numbers(**change)).values()) == [i != failing for i in range(3)]


def test_summary_and_markdown_read_the_stored_numbers():
  numbers = _numbers()
  assert mm.summary(numbers) == ("modes (ring / grid): nsgan 5.0/5.0, mix+nsgan 6.0/6.0, "
                                 "wgan-gp 6.0/6.0, mix+wgan-gp 7.0/7.0; mixture weights in "
                                 "[0.150, 0.250]")
  md = mm.markdown_table(numbers)
  assert "Ours (2 seeds, 10 generator iterations, T = 5" in md and "[0.150, 0.250]" in md


def test_the_scales_keep_their_sizes():
  assert [tuple(mm.FIGURE.config(s).values()) for s in ("tiny", "default", "full")] == [
      (2, 10, 8), (5, 1500, 64), (10, 20000, 512)]
  games = mm.games("tiny")
  assert len(games) == 8 and all(g.runs == g.at_once == 2 and g.iterations == 10
                                 for g in games)
  assert [getattr(g.gan, "components", 1) for g in games[:4]] == [1, 5, 1, 5]
