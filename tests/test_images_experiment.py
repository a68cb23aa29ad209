"""`python -m experiments.images`: CLI, outputs, the TFDS and folder paths, bad input."""

import json

import numpy as np
import pytest
from PIL import Image

from experiments import images

TINY = ["--iters", "4", "--iters-per-call", "2", "--eval-every", "2", "--dim", "4",
        "--latent-dim", "8", "--batch-size", "8", "--num-samples", "64", "--no-progress"]


def test_help_explains_every_option(capsys):
  with pytest.raises(SystemExit) as e:
    images.main(["--help"])
  assert e.value.code == 0
  text = capsys.readouterr().out
  for action in images.build_parser()._actions:
    for opt in action.option_strings:
      assert opt in text
    assert action.help, f"{action.option_strings} has no help"


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_digits_end_to_end_outputs(tmp_path, capsys):
  out = tmp_path / "run"
  assert images.main(TINY + ["--out", str(out)]) == 0
  check_digits_numbers(out, capsys.readouterr().out)
  for f in ("samples.npy", "samples.png", "metrics.json", "metrics.jsonl", "metrics.png",
            "samples/grid_iter_0000002.png"):
    assert (out / f).exists(), f
  x = np.load(out / "samples.npy")
  assert x.shape == (64, 8, 8, 1) and np.abs(x).max() <= 1.0
  m = json.loads((out / "metrics.json").read_text())
  assert [e["iteration"] for e in m["evaluations"]] == [2, 4]
  for e in m["evaluations"]:
    assert 1.0 <= e["classifier_score"] <= 10.0 and e["seconds"] >= 0
    assert 1 <= e["classes_covered"] <= 10 and e["frechet_distance"] > 0
  ref = m["reference"]  # real held-out digits: the targets' yardstick
  assert ref["classifier_score"] > 8 and ref["classes_covered"] == 10
  assert ref["frechet_distance"] < m["final"]["frechet_distance"]  # untrained G: far worse


def check_digits_numbers(out, stdout):
  """The tiny digits run's numbers are those of its outputs: the final metrics are the last
  evaluation's and the printed ones, samples.npy is a real (non-constant) batch of images, the
  logged losses obey WGAN-GP's identities, and the metrics.jsonl rows are the history."""
  m = json.loads((out / "metrics.json").read_text())
  final = m["final"]
  assert m["evaluations"][-1] == dict(final, iteration=4, seconds=m["evaluations"][-1]["seconds"])
  x = np.load(out / "samples.npy")
  # every pixel varies over the 64 samples (the untrained DCGAN's outputs are small, std
  # ~3e-4, but not constant): a generator that returns zeros or one image fails
  assert np.isfinite(x).all() and np.all(x.std(axis=0) > 0)
  line = next(l for l in stdout.splitlines() if " on digits: 4 iterations" in l)
  printed = dict(kv.rsplit(" ", 1) for kv in line.split("; ", 1)[1].split(", "))
  assert printed == {k: f"{v:.4g}" for k, v in final.items()}
  ref_line = next(l for l in stdout.splitlines() if l.startswith("real held-out data: "))
  assert ref_line == "real held-out data: " + ", ".join(
      f"{k} {v:.4g}" for k, v in m["reference"].items())
  h = {k: np.asarray(v, float) for k, v in m["history"].items()}
  assert m["config"]["objective"] == "wgan-gp"
  np.testing.assert_allclose(h["w_estimate"], -h["d_adv_loss"], atol=1e-6)
  np.testing.assert_allclose(h["d_adv_loss"], h["d_fake"] - h["d_real"], atol=1e-4)
  np.testing.assert_allclose(h["d_loss"], h["d_adv_loss"] + m["config"]["gp_weight"] * h["gp"],
                             rtol=1e-5, atol=1e-5)
  rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
  for k in ("iteration", "d_loss", "gp", "g_loss"):
    np.testing.assert_allclose([r[k] for r in rows], h[k], rtol=1e-6)


@pytest.mark.slow
def test_tfds_mock_mnist_and_folder_runs(tmp_path):
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=16):
    assert images.main(TINY + ["--dataset", "mnist", "--max-examples", "12",
                               "--out", str(tmp_path / "m")]) == 0
  assert np.load(tmp_path / "m" / "samples.npy").shape == (64, 28, 28, 1)
  folder = tmp_path / "imgs"
  folder.mkdir()
  rng = np.random.default_rng(0)
  for i in range(5):
    Image.fromarray(rng.integers(0, 255, (10, 12, 3), dtype=np.uint8)).save(folder / f"{i}.png")
  assert images.main(TINY + ["--data-dir", str(folder), "--image-size", "8", "--arch", "resnet",
                             "--out", str(tmp_path / "f")]) == 0
  assert np.load(tmp_path / "f" / "samples.npy").shape == (64, 8, 8, 3)


@pytest.mark.parametrize("argv,needle", [
    (["--dataset", "no_such_data_set_xyz", "--tfds-data-dir", "{tmp}"], "--dataset"),
    (["--dataset", "mnist", "--tfds-data-dir", "{tmp}"], "not prepared"),
    (["--data-dir", "{tmp}"], "no image files"),
    (["--critic-norm", "batch"], "--critic-norm"),
    (["--iters", "0"], "--iters"),
    (["--arch", "infogan"], "--arch"),          # the 8×8 digits: InfoGAN makes 28×28 only
    (["--objective", "wgan", "--clip-value", "-1"], "--clip-value"),
])
def test_bad_input_is_one_line_naming_the_option(argv, needle, capsys, tmp_path):
  argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
  with pytest.raises(SystemExit) as e:
    images.main(argv + ["--out", str(tmp_path / "o"), "--no-progress"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and err.startswith("error:") and needle in err, err


def test_mixed_sizes_folder(capsys, tmp_path):
  for i, size in enumerate([(8, 8), (10, 8)]):
    Image.fromarray(np.zeros(size, np.uint8)).save(tmp_path / f"{i}.png")
  with pytest.raises(SystemExit):
    images.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
  assert "mixed sizes" in capsys.readouterr().err


@pytest.mark.slow
def test_mixture_flag_trains_mix_gan(tmp_path):
  out = tmp_path / "mix"
  assert images.main(TINY + ["--objective", "mix+wgan-gp", "--mixture", "2",
                             "--out", str(out)]) == 0
  rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
  w = [rows[-1][f"w_g_{i}"] for i in range(2)]
  assert abs(sum(w) - 1) < 1e-5 and min(w) > 0
  assert (out / "weights.png").read_bytes()[:4] == b"\x89PNG"
  m = json.loads((out / "metrics.json").read_text())
  assert m["final"]["classes_covered"] >= 1
