"""MIX+GAN in the experiments: `python -m experiments.toy --mixture T` and the mixture_modes
figure."""

import json

import numpy as np
import pytest

from experiments import toy

TINY = ["--iters", "40", "--iters-per-call", "20", "--eval-every", "20", "--width", "16",
        "--batch-size", "64", "--num-samples", "300", "--no-progress", "--log-every", "10"]


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_toy_mixture_run_logs_and_plots_the_weights(tmp_path):
  out = tmp_path / "mix"
  assert toy.main(TINY + ["--objective", "mix+nsgan", "--mixture", "3", "--out", str(out)]) == 0
  m = json.loads((out / "metrics.json").read_text())
  mix = m["mixture"]
  assert mix["components"] == 3 and mix["entropy_weight"] == 0.1
  for side in ("weights_g", "weights_d"):
    assert len(mix[side]) == 3 and abs(sum(mix[side]) - 1) < 1e-5 and min(mix[side]) > 0
  # the weights over training, in metrics.json and in every JSONL row
  h = m["history"]
  for i in range(3):
    assert len(h[f"w_g_{i}"]) == len(h[f"w_d_{i}"]) == len(h["iteration"]) == 4
  rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
  assert all(abs(sum(r[f"w_g_{i}"] for i in range(3)) - 1) < 1e-5 for r in rows)
  for png in ("samples.png", "losses.png", "weights.png"):
    assert (out / png).read_bytes()[:4] == b"\x89PNG"
  comp = np.load(out / "components.npy")
  assert comp.shape == (300,) and set(np.unique(comp)) <= {0, 1, 2}
  np.testing.assert_allclose(np.bincount(comp, minlength=3) / 300, mix["sample_share"])
  assert "weights.png" in m["files"] and m["config"]["objective"] == "nsgan"
  assert np.load(out / "samples.npy").shape == (300, 2)
  # the final weights are the last logged ones (iteration 40), and each sample's generator is
  # drawn by them: every share within 4 binomial standard errors of its weight
  assert h["iteration"][-1] == 40
  for side, tag in (("weights_g", "w_g"), ("weights_d", "w_d")):
    np.testing.assert_allclose(mix[side], [h[f"{tag}_{i}"][-1] for i in range(3)], rtol=1e-5)
  w = np.asarray(mix["weights_g"])
  assert np.all(np.abs(np.asarray(mix["sample_share"]) - w) <= 4 * np.sqrt(w * (1 - w) / 300))
  samples = np.load(out / "samples.npy")
  assert np.isfinite(samples).all()
  # the generators are distinct networks: their samples' means differ
  means = np.stack([samples[comp == c].mean(0) for c in range(3) if (comp == c).sum() > 10])
  assert len(means) >= 2 and np.ptp(means, axis=0).max() > 1e-3


@pytest.mark.parametrize("argv,needle", [
    (["--mixture", "0"], "--mixture"),
    (["--mixture", "-2"], "--mixture"),
    (["--mixture", "3", "--mixture-entropy", "-1"], "--mixture-entropy"),
    (["--objective", "mix+began"], "--objective"),
])
def test_bad_mixture_flags_are_one_line_errors(argv, needle, capsys, tmp_path):
  with pytest.raises(SystemExit) as e:
    toy.main(argv + ["--out", str(tmp_path)])
  assert e.value.code == 2
  line = capsys.readouterr().err.strip().splitlines()[-1]
  assert needle in line and "Traceback" not in line, line
  assert not any(tmp_path.iterdir())


def _toy_gan(argv):
  from experiments import cli
  from experiments.builders import toy_run
  from experiments.configs import TOY_PRESETS
  args = toy.build_parser().parse_args(argv)
  return toy_run(cli.resolve(args, presets=TOY_PRESETS))[1]


def test_plain_run_builds_the_plain_gan():
  from wgan_jax import GAN, MixturePlayers
  from wgan_jax.mixture import mixture_of
  gan = _toy_gan(["--objective", "nsgan"])
  assert type(gan) is GAN and mixture_of(gan) is None
  gan = _toy_gan(["--objective", "mix+wgan-gp"])
  assert type(gan) is GAN and gan.players == MixturePlayers(5, 0.1)
  assert gan.config.objective == "wgan-gp" and gan.config.gp_weight == 0.1
  gan = _toy_gan(["--mixture", "2", "--mixture-entropy", "0"])
  assert gan.players == MixturePlayers(2, 0.0)


@pytest.mark.slow
def test_mixture_modes_figure_tiny(tmp_path):
  from experiments.figures import mixture_modes, runner
  r = runner.run(mixture_modes.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "mixture_modes.png").read_bytes()[:4] == b"\x89PNG"
  data = json.loads((tmp_path / "mixture_modes.json").read_text())
  assert data["name"] == "mixture_modes" and len(data["numbers"]["table"]) == 8
  assert r["checks"] and "mix+wgan-gp" in r["markdown"]
  for w in data["numbers"]["mixtures"].values():
    assert np.allclose(np.sum(w["final_w_g"], -1), 1, atol=1e-5)
  # each panel plots its row's median seed (by modes), a mixture's with its components
  n = data["numbers"]
  for t in n["table"]:
    shown = n["samples"][f"{t['dataset']}/{t['method']}"]
    assert np.asarray(shown["x"]).shape == (2500, 2)
    modes = sorted(p["modes"] for p in t["per_seed"])
    assert t["per_seed"][shown["seed"]]["modes"] == modes[(len(modes) - 1) // 2]
    assert ("components" in shown) == t["method"].startswith("mix+")
