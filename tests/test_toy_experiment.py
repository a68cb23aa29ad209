"""The main job, `python -m experiments.toy`: CLI, outputs, bad input, non-finite stops."""

import json
import subprocess
import sys

import numpy as np
import pytest

from experiments import toy

TINY = ["--iters", "60", "--iters-per-call", "20", "--eval-every", "30", "--width", "16",
        "--num-samples", "200", "--no-progress"]


def test_help_explains_every_option(capsys):
  with pytest.raises(SystemExit) as e:
    toy.main(["--help"])
  assert e.value.code == 0
  text = capsys.readouterr().out
  parser = toy.build_parser()
  for action in parser._actions:
    for opt in action.option_strings:
      assert opt in text
    assert action.help, f"{action.option_strings} has no help"


def run_error(argv, capsys):
  with pytest.raises(SystemExit) as e:
    toy.main(argv)
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert "Traceback" not in err
  return err.splitlines()[-1]


@pytest.mark.parametrize("argv,needle", [
    (["--objective", "lsgan"], "--objective"),
    (["--dataset", "moons"], "--dataset"),
    (["--objective", "wgan", "--clip-value", "0"], "--clip-value"),
    (["--objective", "wgan", "--clip-value", "-0.01"], "--clip-value"),
    (["--gp-weight", "0"], "--gp-weight"),
    (["--gp-weight", "-1"], "--gp-weight"),
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "-4"], "--batch-size"),
    (["--batch-size", "12.5"], "--batch-size"),
    (["--iters", "0"], "--iters"),
    (["--objective", "wgan-gp", "--norm", "batch"], "--norm"),
])
def test_bad_input_is_one_line_naming_the_option(argv, needle, capsys, tmp_path):
  line = run_error(argv + ["--out", str(tmp_path)], capsys)
  assert needle in line, line
  assert not any(tmp_path.iterdir())  # failed before anything was trained or written


def test_nan_in_data_file(capsys, tmp_path):
  pts = np.random.default_rng(0).normal(size=(50, 2))
  pts[7, 1] = np.nan
  np.save(tmp_path / "pts.npy", pts)
  line = run_error(["--data-file", str(tmp_path / "pts.npy"), "--out", str(tmp_path / "o")],
                   capsys)
  assert "--data-file" in line and "NaN" in line and "row 7" in line


def test_end_to_end_outputs(tmp_path):
  out = tmp_path / "run"
  proc = subprocess.run([sys.executable, "-m", "experiments.toy", *TINY, "--out", str(out)],
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr
  samples = np.load(out / "samples.npy")
  assert samples.shape == (200, 2) and np.isfinite(samples).all()
  m = json.loads((out / "metrics.json").read_text())
  assert m["generator_iterations"] == 60 and m["stopped"] is None
  for k in ("modes", "hq_fraction", "reverse_kl", "w1_exact"):
    assert k in m["final"]
  assert [e["iteration"] for e in m["evaluations"]] == [30, 60]
  assert m["history"]["iteration"][-1] == 60
  assert len(m["history"]["w_estimate"]) == len(m["history"]["iteration"]) == 6
  assert m["config"]["gp_weight"] == 0.1 and m["config"]["lr_decay_steps"] == 60
  for png in ("samples.png", "losses.png"):
    assert (out / png).read_bytes()[:4] == b"\x89PNG"
  assert sorted(p.name for p in (out / "samples").iterdir()) == ["iter_0000030.npy"]
  assert (out / "checkpoints" / "60").is_dir()
  assert len((out / "metrics.jsonl").read_text().splitlines()) == 6


def test_same_seed_same_result(tmp_path):
  results = []
  for name in ("a", "b"):
    toy.main(TINY + ["--objective", "nsgan", "--out", str(tmp_path / name)])
    results.append(np.load(tmp_path / name / "samples.npy"))
  np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.slow
def test_default_run_reaches_the_readme_quality(tmp_path):
  """The README's claim for the quick-start run: all 8 modes and at least 60% high quality
  (measured here: 8/8 and 78%)."""
  assert toy.main(["--out", str(tmp_path), "--no-progress"]) == 0
  final = json.loads((tmp_path / "metrics.json").read_text())["final"]
  assert final["modes"] == 8 and final["hq_fraction"] >= 0.6, final
