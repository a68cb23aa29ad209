"""The findings of a second probe of bad input (issue 15's acceptance; the table of every case
is docs/robustness.md). Each test failed before its fix: the failure is in the comment.

The command lines are called in this process (`main(argv)`), as in test_bad_inputs.py; a refused
run must exit 2 with one line on stderr naming the flag, before any training.
"""

import json
import os
import signal

import numpy as np
import pytest
from PIL import Image

from experiments import images, reproduce, text, toy
from wgan_jax.data.images import load_image_folder
from wgan_jax.data.text import load_text_file

TOY = ["--iters", "20", "--iters-per-call", "10", "--width", "8", "--num-samples", "50",
       "--no-progress", "--checkpoint-every", "10", "--eval-every", "10"]
# tiny sizes, so that a flag ignored (before its fix) costs seconds, not a default-sized run
TEXT = ["--iters", "2", "--iters-per-call", "1", "--width", "8", "--num-blocks", "1",
        "--batch-size", "8", "--num-samples", "16", "--no-progress", "--eval-every", "2",
        "--checkpoint-every", "2", "--seq-len", "8", "--data", "markov", "--markov-lines", "100"]
IMAGES = ["--iters", "2", "--iters-per-call", "1", "--arch", "mlp", "--dim", "8", "--latent-dim",
          "8", "--batch-size", "8", "--no-progress", "--eval-every", "2", "--checkpoint-every", "2"]
FIGURE = ["--only", "parallel_lines"]


def call(main, argv, capsys):
  capsys.readouterr()
  try:
    code = main(argv)
  except SystemExit as e:
    code = e.code
  except KeyboardInterrupt:   # escaping the command line, it would stop pytest itself
    code = "KeyboardInterrupt"
  return code, capsys.readouterr().err


def one_line(err: str, start: str) -> None:
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(start), err[-3000:]


# --------------------------------------------------------------------- refused before any work
# id, main, argv (after --out), the start of the one line. Was: argparse's 25-line usage block
# then the error (parse errors); trained and ignored the flag (text --mixture, --num-processes,
# --instance-noise-anneal, reproduce --full with --scale tiny, reproduce --seed -1); failed after
# training, losing metrics.json (images --num-samples 1); an OverflowError traceback after the
# lock (reproduce --seed 2^70); named --num-processes for a bad --process-id.
REFUSED = [
    ("toy-preset-unknown", toy.main, TOY + ["--preset", "nope"], "error: --preset: invalid choice"),
    ("toy-seed-float", toy.main, TOY + ["--seed", "1.5"], "error: --seed: invalid int value"),
    ("toy-iters-scientific", toy.main, TOY + ["--iters", "1e3"], "error: --iters: invalid int"),
    ("toy-lr-negative-scientific", toy.main, TOY + ["--lr-d", "-1e-4"],
     "error: --lr-d: expected one argument (a negative value: write it as --lr-d=VALUE)"),
    ("toy-dataset-unknown", toy.main, TOY + ["--dataset", "spiral"],
     "error: --dataset: invalid choice: 'spiral'"),
    ("toy-unknown-flag", toy.main, TOY + ["--itres", "5"],
     "error: unrecognized arguments: --itres"),
    ("text-objective-wgan", text.main, TEXT + ["--objective", "wgan"],
     "error: --objective: invalid choice: 'wgan'"),
    ("reproduce-only-unknown", reproduce.main, FIGURE + ["--only", "nope"],
     "error: --only: invalid choice"),
    ("reproduce-seed-beyond-64-bits", reproduce.main,
     FIGURE + ["--scale", "tiny", "--seed", str(2**70)],
     "error: --seed: must be an integer in [0, 2^63)"),
    ("reproduce-seed-negative", reproduce.main,
     FIGURE + ["--scale", "tiny", "--seed", "-1"],
     "error: --seed: must be an integer in [0, 2^63)"),
    ("reproduce-full-and-scale-tiny", reproduce.main,
     FIGURE + ["--full", "--scale", "tiny"],
     "error: --full: is --scale full, which contradicts --scale tiny"),
    ("text-mixture", text.main, TEXT + ["--mixture", "3"], "error: --mixture: the text job trains"),
    ("images-num-samples-1", images.main, IMAGES + ["--num-samples", "1"],
     "error: --num-samples: must be at least 2"),
    ("toy-num-processes-without-coordinator", toy.main, TOY + ["--num-processes", "2"],
     "error: --num-processes: needs a coordinator"),
    ("toy-process-id-out-of-range", toy.main,
     TOY + ["--coordinator-address", "localhost:1", "--num-processes", "2", "--process-id", "5"],
     "error: --process-id: must lie in [0, 2)"),
    ("toy-anneal-without-noise", toy.main, TOY + ["--instance-noise-anneal", "5"],
     "error: --instance-noise-anneal: anneals the instance noise, which is 0"),
]


@pytest.mark.parametrize("main,argv,start", [c[1:] for c in REFUSED],
                         ids=[c[0] for c in REFUSED])
def test_refused_with_one_line_before_any_work(tmp_path, capsys, monkeypatch, main, argv, start):
  monkeypatch.delenv("JAX_COORDINATOR_ADDRESS", raising=False)
  out = tmp_path / "o"
  code, err = call(main, argv + ["--out", str(out)], capsys)
  assert code == 2
  one_line(err, start)
  assert not out.exists()   # nothing written, no empty folder left behind


@pytest.mark.slow   # a real (tiny) run: over 3 s on this machine
def test_refused_run_after_work_started_leaves_no_folder(tmp_path, capsys):
  """Was: a batch that does not divide by the devices (found when the devices are known, after
  the lock) left OUT/ with .lock and an empty checkpoints/ folder."""
  out = tmp_path / "o"
  code, err = call(toy.main, TOY + ["--parallel", "pmap", "--batch-size", "6", "--out", str(out)],
                   capsys)
  assert code == 2
  one_line(err, "error: --batch-size: the global batch 6 does not divide by the 4 devices")
  assert not out.exists()


def test_ctrl_c_before_training_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch):
  """Was: Ctrl-C while the run was being built (before the loop's handler) printed a
  KeyboardInterrupt traceback and left OUT/ with only the lock."""
  def interrupted(config):
    raise KeyboardInterrupt
  monkeypatch.setattr(toy, "toy_run", interrupted)
  out = tmp_path / "o"
  code, err = call(toy.main, TOY + ["--out", str(out)], capsys)
  assert code == 130
  one_line(err, "error: interrupted before training started")
  assert not out.exists()


@pytest.mark.slow   # a real (tiny) run: over 3 s on this machine
def test_signal_after_an_evaluation_keeps_one_row_per_iteration(tmp_path, capsys, monkeypatch):
  """Was: SIGTERM during the evaluation at 1 (of 2) gave metrics.json two evaluations at
  iteration 1: the periodic one and the final one."""
  real = toy.toy_metrics

  def evaluate_then_signal(gan, state, dataset, key, n):
    if not getattr(evaluate_then_signal, "sent", False):
      evaluate_then_signal.sent = True
      os.kill(os.getpid(), signal.SIGTERM)   # the loop's handler only sets a flag
    return real(gan, state, dataset, key, n)
  monkeypatch.setattr(toy, "toy_metrics", evaluate_then_signal)
  out = tmp_path / "o"
  code, err = call(toy.main, TOY + ["--iters", "2", "--iters-per-call", "1", "--eval-every", "1",
                                    "--checkpoint-every", "1", "--n-critic", "1", "--out",
                                    str(out)], capsys)
  assert code == 130 and "stopped by SIGTERM at generator iteration 1" in err
  evaluations = json.loads((out / "metrics.json").read_text())["evaluations"]
  assert [e["iteration"] for e in evaluations] == [1]


def test_reproduce_runs_a_figure_named_twice_once(tmp_path, capsys, monkeypatch):
  """Was: `--only parallel_lines --only parallel_lines` computed the figure twice and listed it
  twice in RESULTS.md."""
  runs = []

  def run(figure, out, *, scale, seed):
    runs.append(scale)
    return dict(name=figure.name, checks={"ok": True}, summary="s", markdown="m")
  monkeypatch.setattr(reproduce.runner, "run", run)
  monkeypatch.setattr(reproduce, "results_markdown",
                      lambda results, **kw: "\n".join(r["name"] for r in results))
  out = tmp_path / "o"
  code, err = call(reproduce.main, ["--only", "parallel_lines", "--only", "parallel_lines",
                                    "--scale", "tiny", "--out", str(out)], capsys)
  assert code == 0 and runs == ["tiny"]
  assert (out / "RESULTS.md").read_text() == "parallel_lines"


# ------------------------------------------------------------------------------------ data
def grey_folder(path, n=2, side=8):
  path.mkdir()
  for i in range(n):
    Image.fromarray(np.full((side, side), 40 * i, np.uint8)).save(path / f"{i}.png")
  return str(path)


@pytest.mark.parametrize("size", [0, -4, 4.5, True, "8"])
def test_image_folder_refuses_a_bad_image_size(tmp_path, size):
  """Was: 0 returned the images unresized, -4 PIL's "height and width must be > 0", 4.5 and "8"
  a TypeError traceback, True 1×1 images."""
  with pytest.raises(ValueError, match=r"^image_size: must be a positive integer, got "):
    load_image_folder(grey_folder(tmp_path / "d"), image_size=size)


def test_image_folder_image_size_still_resizes(tmp_path):
  assert load_image_folder(grey_folder(tmp_path / "d"), image_size=4).shape == (2, 4, 4, 1)


def test_text_file_byte_order_mark_is_not_a_character(tmp_path):
  """Was: a UTF-8 file saved with a byte-order mark (Windows Notepad) began its first line with
  U+FEFF, a character of the vocabulary."""
  path = tmp_path / "t.txt"
  path.write_bytes("\ufeffabc\ndef\n".encode("utf-8"))
  assert load_text_file(str(path), seq_len=8) == ["abc", "def"]


@pytest.mark.parametrize("seq_len", [0, -1, 2.5, None])
def test_text_file_refuses_a_bad_sequence_length(tmp_path, seq_len):
  """Was: seq_len 0 blamed line 1 ("more than the sequence length 0"), None a TypeError."""
  path = tmp_path / "t.txt"
  path.write_text("ab\ncd\n")
  with pytest.raises(ValueError, match=r"^seq_len: must be a positive integer, got "):
    load_text_file(str(path), seq_len=seq_len)


def test_library_refuses_an_anneal_without_noise():
  import wgan_jax as wj
  with pytest.raises(ValueError, match="^instance_noise_anneal: anneals the instance noise"):
    wj.make_config("nsgan", instance_noise_anneal=100)
  assert wj.make_config("nsgan", instance_noise=0.1, instance_noise_anneal=100)
