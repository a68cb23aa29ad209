"""experiments/figures/parallel_lines.py (WGAN Example 1, fig. 1): the checks on constructed
estimates (each fails when its phenomenon is absent) and the summary, read from the numbers as
they are stored. Its tiny run is in tests/test_figures.py (`fast_results`)."""

import math

import numpy as np
import pytest

from experiments.figures import parallel_lines as pl
from experiments.figures import runner

THETA = np.round(np.linspace(-1, 1, 11), 6)


def _numbers(w=None, js=None):
  """Stored numbers of a run with the paper's phenomena: Ŵ = |θ| + 0.02, the JS bound 0.69
  off θ = 0 and 0.001 at it; `w` / `js` {θ: value} replace those estimates."""
  w_hat = np.abs(THETA) + 0.02
  js_hat = np.where(THETA != 0, 0.69, 0.001)
  for t, v in (w or {}).items():
    w_hat[THETA == t] = v
  for t, v in (js or {}).items():
    js_hat[THETA == t] = v
  return runner.as_stored(dict(theta=THETA, closed_form=pl.closed_forms(THETA),
                               w_estimate=w_hat, js_estimate=js_hat, critic_steps=600))


def test_checks_pass_on_the_papers_phenomena():
  assert list(pl.judge(_numbers()).values()) == [True] * 4


FALLING = {t: 0.6 - 0.1 * abs(t) for t in THETA}  # Ŵ falls as |θ| grows


@pytest.mark.parametrize("changes, failing", [
    (dict(w={1.0: 1.2}), {0}),                  # Ŵ off |θ| by 0.2 at one θ
    (dict(w=FALLING), {0, 1}),                  # no usable gradient (and off |θ|)
    (dict(js={1.0: 0.5}), {2}),                 # the JS bound below 0.6 at a far θ
    (dict(js={0.0: 0.3}), {3}),                 # the JS bound not ~0 at θ = 0
    (dict(w={-0.4: None}), {0, 1}),             # a diverged critic (stored None)
    (dict(js={0.0: None}), {3}),
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  """Check 1 (Ŵ increases with |θ|) cannot fail alone: within 0.1 of |θ| at every θ of these
  grids (check 0), the correlation with |θ| is above 0.95."""
  w = {t: (math.nan if v is None else v) for t, v in changes.get("w", {}).items()}
  js = {t: (math.nan if v is None else v) for t, v in changes.get("js", {}).items()}
  got = list(pl.judge(_numbers(w, js)).values())
  assert got == [i not in failing for i in range(4)], got


def test_summary_reads_the_stored_estimates():
  s = pl.summary(_numbers(js={0.4: 0.65}))
  assert s == "max |Ŵ − |θ|| = 0.020; JS estimate 0.650–0.690 for |θ| ≥ 0.4, 0.001 at θ = 0"


def test_scales():
  assert pl.FIGURE.config("tiny") == dict(points=5, steps=30, batch=256, width=16)
  assert pl.FIGURE.config("full") == dict(points=21, steps=3000, batch=256, width=256)
  assert pl.games("tiny") == []
