"""Bugs of the third probe (issue 26) fixed so far, each with the case that failed before."""

import dataclasses
import struct

import jax
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.data.idx import load_fashion_mnist
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.train import RetraceError

DS = make_toy_dataset("8gaussians")


def test_a_refused_call_does_not_poison_the_compiled_step():
  """Was: after a call refused at trace time ("key: must be a PRNG key"), the correct call
  raised RetraceError for the life of the GAN (the failed trace was counted)."""
  gan = wj.GAN(MLPGenerator(width=8, depth=1), MLPCritic(width=8, depth=1),
               wj.make_config("wgan-gp", batch_size=8), lambda _, k: DS.sample_one(k))
  state = gan.init(jax.random.key(0))
  step = gan.train_step(iterations=2)
  with pytest.raises(wj.ConfigError, match="^key: "):
    step(state, 0)
  state, m = step(state, jax.random.key(1))   # compiles now, once
  assert int(state.step) == 2
  with pytest.raises(RetraceError):          # a real second compilation is still refused
    step(jax.tree_util.tree_map(lambda x: x.astype(np.float16)
                                if x.dtype == np.float32 else x, state), jax.random.key(1))


def _idx(array):
  header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                    *array.shape)
  return header + array.tobytes()


def test_idx_files_with_zero_images_are_refused_naming_the_file(tmp_path):
  """Was: passed every loader check, then an IndexError inside JAX."""
  (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(np.zeros((0, 28, 28), np.uint8)))
  (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros((0,), np.uint8)))
  with pytest.raises(ValueError, match=r"^path: .*train-images-idx3-ubyte: holds no images"):
    load_fashion_mnist(str(tmp_path), "train")


@pytest.mark.parametrize("content", [b"", b'{"name": "parallel_lines", "chec', b"[1, 2]"],
                         ids=["empty", "truncated", "not-a-figure"])
def test_rebuild_on_a_damaged_json_is_one_line_naming_the_file(tmp_path, capsys, content):
  """Was: a JSONDecodeError traceback naming no file."""
  from experiments import reproduce
  (tmp_path / "parallel_lines.json").write_bytes(content)
  with pytest.raises(SystemExit) as e:
    reproduce.main(["--rebuild", "--out", str(tmp_path)])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert "Traceback" not in err and len(err.splitlines()) == 1
  assert "parallel_lines.json: not a figure's JSON" in err


@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch, out):
  """Was: accepted with exit 0; checkpoints in the current folder, outputs written into /."""
  from experiments import toy
  monkeypatch.chdir(tmp_path)
  with pytest.raises(SystemExit) as e:
    toy.main(["--out", out, "--iters", "2"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("error: --out: must name an output folder")
  assert list(tmp_path.iterdir()) == []


def test_a_figure_checks_out_and_seed_before_computing(tmp_path, capsys):
  """Was: `python -m experiments.figures.NAME --out FILE` computed the figure, then died with
  FileExistsError; --seed -1 was accepted."""
  from experiments.figures import parallel_lines, runner

  def must_not_run(*args, **kwargs):
    raise AssertionError("the figure was computed before --out was checked")

  figure = dataclasses.replace(parallel_lines.FIGURE, measure=must_not_run)

  a_file = tmp_path / "a-file"
  a_file.write_text("x")
  for argv, needle in ((["--out", str(a_file)], "error: --out: "),
                       (["--out", str(tmp_path / "ok"), "--seed", "-1"], "error: --seed: ")):
    with pytest.raises(SystemExit) as e:
      runner.main(figure, "doc", argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(needle), err
