"""stacked_digits' checks: each can fail, collapse is graded only on recognisable digits, and
judge, summary and table read the numbers as stored; the tiny run end to end."""

import json

import numpy as np
import pytest

from experiments.figures import runner
from experiments.figures import stacked_digits as sd

REAL = dict(modes=990.0, kl_to_uniform=0.05, classifier_score=9.0)


def _numbers(nsgan_modes=400.0, nsgan_kl=2.0, nsgan_score=8.0, mix_ns=500.0, gp=700.0,
             mix_gp=800.0):
  """Constructed numbers as stored: a collapsed but recognisable DCGAN, mixtures that gain."""
  row = lambda modes, kl=1.0, score=8.0: dict(modes=(modes, 5.0), kl=(kl, 0.1),
                                              classifier_score=(score, 0.1))
  return runner.as_stored(dict(real=REAL, table={
      "nsgan": row(nsgan_modes, nsgan_kl, nsgan_score), "mix+nsgan": row(mix_ns),
      "wgan-gp": row(gp), "mix+wgan-gp": row(mix_gp)}))


def test_a_collapsed_but_recognisable_dcgan_passes_every_check():
  assert list(sd.judge(_numbers()).values()) == [True] * 4


@pytest.mark.parametrize("changes, failing", [
    (dict(nsgan_score=2.0), 0),      # noise, not collapse: the precondition fails alone
    (dict(nsgan_modes=950.0, mix_ns=960.0), 1),   # the DCGAN covers the modes
    (dict(nsgan_kl=0.3), 1),         # ... or its KL is near the real digits'
    (dict(mix_ns=400.0), 2),         # the nsgan mixture gains no modes
    (dict(mix_gp=650.0), 3),         # the wgan-gp mixture gains no modes
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  assert list(sd.judge(_numbers(**changes)).values()) == [i != failing for i in range(4)]


def test_a_non_finite_mean_passes_no_check_that_reads_it():
  # nsgan's modes diverged (mean_se's inf, stored as None): the collapse and its mixture's gain
  assert list(sd.judge(_numbers(nsgan_modes=float("inf"))).values()) == [True, False, False, True]


def test_summary_and_markdown_read_the_stored_table():
  n = _numbers(nsgan_modes=float("nan"))
  assert sd.summary(n).startswith("nsgan: modes nan ± 5, KL 2.00 ± 0.10; mix+nsgan: modes 500")
  md = sd.markdown(n).splitlines()
  assert md[2] == "| nsgan | nan ± 5.0 | 2.000 ± 0.100 | 8.00 |" and len(md) == 6


@pytest.mark.slow
def test_tiny_run_end_to_end(tmp_path):
  r = runner.run(sd.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "stacked_digits.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "stacked_digits.json").read_text())["numbers"]
  s = sd.FIGURE.config("tiny")
  assert list(n["table"]) == list(sd.OBJECTIVES) and len(r["checks"]) == 4
  for o, row in n["rows"].items():
    assert [len(v) for v in row.values()] == [s["seeds"]] * 3
    np.testing.assert_allclose(n["table"][o]["modes"][0], np.mean(row["modes"]))
  for o in sd.PLOTTED:   # the plotted seed is the median-modes one
    shown, modes = n["samples"][o], n["rows"][o]["modes"]
    assert modes[shown["seed"]] == sorted(modes)[(len(modes) - 1) // 2]
    assert np.asarray(shown["x"]).shape == (sd.PLOTTED_SAMPLES, 8, 8, 3)
  assert "| mix+wgan-gp |" in r["markdown"]
