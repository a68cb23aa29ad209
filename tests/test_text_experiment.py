"""`python -m experiments.text` and the `text_jsd` figure: CLI, outputs, bad input, quality."""

import json

import numpy as np
import pytest

from experiments import text
from experiments.builders import text_gan_for
from experiments.evaluators import text_curve
from experiments.figures import runner, text_jsd

TINY = ["--data", "markov", "--markov-lines", "600", "--num-samples", "60", "--iters", "12",
        "--eval-every", "6", "--iters-per-call", "6", "--width", "8", "--num-blocks", "2",
        "--batch-size", "16", "--n-critic", "2", "--no-progress"]


def test_help_explains_every_option(capsys):
  with pytest.raises(SystemExit) as e:
    text.main(["--help"])
  assert e.value.code == 0
  out = capsys.readouterr().out
  for action in text.build_parser()._actions:
    for opt in action.option_strings:
      assert opt in out
    assert action.help, f"{action.option_strings} has no help"


def run_error(argv, capsys):
  with pytest.raises(SystemExit) as e:
    text.main(argv)
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert "Traceback" not in err
  return err.splitlines()[-1]


@pytest.mark.parametrize("argv,needles", [
    (["--max-vocab", "1"], ["--max-vocab", "at least 2"]),
    (["--seq-len", "2"], ["--seq-len"]),
    (["--iters", "0"], ["--iters"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--lr-d", "-1"], ["--lr-d"]),
    (["--objective", "nsgan", "--gp-weight", "10"], ["--gp-weight"]),
    (["--objective", "wgan"], ["--objective"]),
])
def test_bad_options_are_one_line_naming_the_option(argv, needles, capsys, tmp_path):
  line = run_error(argv + ["--data", "markov", "--out", str(tmp_path / "o")], capsys)
  for needle in needles:
    assert needle in line, line
  assert not (tmp_path / "o").exists()


def test_bad_text_files_are_clear_errors(capsys, tmp_path):
  empty = tmp_path / "empty.txt"
  empty.write_text("\n\n")
  line = run_error(["--text-file", str(empty), "--out", str(tmp_path / "o")], capsys)
  assert line.startswith("error: --text-file:") and "empty" in line
  long = tmp_path / "long.txt"
  long.write_text("fine\n" + "y" * 33 + "\n")
  line = run_error(["--text-file", str(long), "--out", str(tmp_path / "o")], capsys)
  assert "--text-file" in line and "line 2 has 33 characters" in line
  line = run_error(["--text-file", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")],
                   capsys)
  assert "--text-file" in line and "not a file" in line


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_tiny_run_writes_every_output(tmp_path):
  out = tmp_path / "run"
  assert text.main(TINY + ["--decode", "sample", "--out", str(out)]) == 0
  samples = (out / "samples.txt").read_text().splitlines()
  assert len(samples) == 60 and all(len(s) <= 32 for s in samples)
  m = json.loads((out / "metrics.json").read_text())
  assert m["generator_iterations"] == 12 and m["stopped"] is None
  assert [e["iteration"] for e in m["evaluations"]] == [0, 6, 12]
  for k in ("jsd_1", "jsd_2", "jsd_3", "jsd_4", "oracle_nll", "in_vocabulary", "bleu2",
            "bleu4"):
    assert k in m["final"] and np.isfinite(m["final"][k])
  assert 0 <= m["final"]["jsd_4"] <= 1
  ref = m["references"]
  assert ref["uniform_oracle_nll"] > ref["true_entropy_rate"] > 0
  assert set(ref["floor"]) == {"jsd_1", "jsd_2", "jsd_3", "jsd_4"}
  assert m["config"]["n_critic"] == 2 and m["config"]["latent_dim"] == 128
  assert "w_estimate" in m["history"] and "gp" in m["history"]
  assert (out / "jsd.png").read_bytes()[:4] == b"\x89PNG"
  rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
  assert rows[-1]["iteration"] == 12
  assert (out / "samples" / "iter_0000006.txt").exists()
  assert m["args"]["decode"] == "sample" and m["args"]["num_blocks"] == 2
  check_tiny_run_numbers(out, samples, m, rows)


def check_tiny_run_numbers(out, samples, m, rows):
  """The tiny run's numbers are those of its outputs: the final scores are samples.txt's
  (rescored with the run's own evaluator), the last evaluation's, the logged losses obey the
  objective's identities, and the metrics.jsonl rows are the history."""
  from experiments import cli
  from experiments.builders import text_run
  from experiments.configs import TEXT_PRESETS
  from experiments.evaluators import TextEvaluator
  final = m["final"]
  assert m["evaluations"][-1] == dict(final, iteration=12,
                                      seconds=m["evaluations"][-1]["seconds"])
  args = text.build_parser().parse_args(TINY + ["--decode", "sample", "--out", str(out)])
  data, gan = text_run(cli.resolve(args, presets=TEXT_PRESETS))
  assert len(samples) == len(data.heldout)
  from wgan_jax.data.text import PAD
  padded = [s.ljust(data.seq_len, PAD) for s in samples]  # samples.txt strips the padding
  rescored = TextEvaluator(gan, data, "sample").score(padded)
  for k, v in rescored.items():
    np.testing.assert_allclose(final[k], v, rtol=1e-6, atol=1e-9, err_msg=k)
  for k in ("jsd_1", "jsd_2", "jsd_3", "jsd_4", "in_vocabulary", "bleu2", "bleu4"):
    assert 0 <= final[k] <= 1, k
  h = {k: np.asarray(v, float) for k, v in m["history"].items()}
  lam = m["config"]["gp_weight"]
  np.testing.assert_allclose(h["w_estimate"], -h["d_adv_loss"], atol=1e-6)
  np.testing.assert_allclose(h["d_loss"], h["d_adv_loss"] + lam * h["gp"], rtol=1e-5, atol=1e-5)
  for k in ("iteration", "d_loss", "gp"):
    np.testing.assert_allclose([r[k] for r in rows], h[k], rtol=1e-6)


# Measured for training seeds 0-5 of `_markov_curve` (100 iterations, width 16; uniform
# generator 4.80 nats): oracle NLL 6.14-6.63 -> 4.33, 4.07, 3.77, 4.15, 4.02, 4.40 (mean 4.12,
# sd 0.23: the uniform bound is the mean + 3.0 sd); its fall 1.93-2.68 (mean 2.27, sd 0.29;
# mean − 3 sd = 1.41); the 4-gram JSD fell for every seed (by 0.026-0.107), the bigram JSD
# for only 2 of the 6 (seed 0: 0.61 -> 0.50, and seed 4; it rose by 0.05-0.11 for seeds 1, 2,
# 3 and 5), so it is not asserted.
NLL_FALL = 1.4


def _markov_curve(seed):
  from wgan_jax.data.text import make_text_data
  data = make_text_data("markov", markov_lines=3000, heldout=300)
  gan = text_gan_for("wgan-gp", data.vocab.size, width=16, num_blocks=2, batch_size=32,
                     n_critic=2, lr_d=1e-3, lr_g=1e-3)
  r = text_curve(gan, data, iters=100, eval_every=100, iters_per_call=50, seed=seed)
  return r["evaluations"][0], r["evaluations"][-1], r["references"]["uniform_oracle_nll"]


def _assert_learns(first, last, uniform):
  # from above the uniform generator's NLL (the untrained softmax argmax repeats a few
  # characters) to below it
  assert first["oracle_nll"] > uniform > last["oracle_nll"], (first, last)
  assert last["oracle_nll"] < first["oracle_nll"] - NLL_FALL, (first, last)
  assert last["jsd_4"] < first["jsd_4"], (first, last)


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_wgan_gp_on_markov_learns_the_language():
  """100 iterations at width 16 (seed 0: NLL 6.42 -> 4.33, 4-gram JSD 0.97 -> 0.89); the
  bounds hold for every one of 6 seeds measured (see above; three of them run in the slow
  test below)."""
  _assert_learns(*_markov_curve(0))


@pytest.mark.slow
def test_wgan_gp_on_markov_learns_the_language_over_seeds():
  """Seeds 1-3: each learns (as seed 0 above), and their mean final NLL is below the uniform
  generator's by more than 0.3 nats (measured over 6 seeds: mean 4.12 ± 0.23 sd, so the mean of
  3 is 4.12 ± 0.13 and the bound 4.50 is ~2.9 of its sd above)."""
  finals = []
  for seed in (1, 2, 3):
    first, last, uniform = _markov_curve(seed)
    _assert_learns(first, last, uniform)
    finals.append(last["oracle_nll"])
  assert np.mean(finals) < uniform - 0.3, finals


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_figure_tiny_scale(tmp_path):
  r = runner.run(text_jsd.FIGURE, str(tmp_path), scale="tiny")
  assert r["name"] == "text_jsd" and len(r["checks"]) == 3
  assert (tmp_path / "text_jsd.png").read_bytes()[:4] == b"\x89PNG"
  data = json.loads((tmp_path / "text_jsd.json").read_text())
  n = data["numbers"]
  assert set(n["final"]) == {"wgan-gp", "nsgan"} and n["settings"]["log_every"] == 1
  assert "| held-out floor |" in r["markdown"] and data["scale"] == "tiny"
  # the checks are the judge's of the stored numbers, and the history every step (tiny)
  assert data["checks"] == text_jsd.judge(n)
  assert n["history"]["nsgan"]["iteration"] == [1, 2, 3, 4]


@pytest.mark.slow
def test_wgan_gp_beats_nsgan_on_softmax_outputs():
  """The issue's claim at a small size: WGAN-GP's 4-gram JSD is below nsgan's, its oracle NLL
  below the uniform generator's, and the nsgan discriminator wins."""
  from wgan_jax.data.text import make_text_data
  data = make_text_data("markov", markov_lines=5000, heldout=320)
  final = {}
  for obj, nc in (("wgan-gp", 3), ("nsgan", 1)):
    gan = text_gan_for(obj, data.vocab.size, width=16, num_blocks=2, batch_size=32,
                         n_critic=nc,
                         lr_d=1e-3, lr_g=1e-3)
    final[obj] = text_curve(gan, data, iters=400, eval_every=400, iters_per_call=50)
  w, n = final["wgan-gp"]["evaluations"][-1], final["nsgan"]["evaluations"][-1]
  assert w["jsd_4"] < n["jsd_4"] - 0.1, (w, n)
  assert w["oracle_nll"] < final["wgan-gp"]["references"]["uniform_oracle_nll"] - 1.0
  acc = final["nsgan"]["history"]["d_accuracy"]
  assert np.mean(acc[-10:]) > 0.9
