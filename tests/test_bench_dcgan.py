"""benchmarks.dcgan at a tiny size: every JAX row is measured and lands in the JSON (no torch).

Speed is not asserted (the CPU is shared); only that each variant ran and has a finite FLOP
count. A 2×2×1 image keeps one conv stage per model and one critic step per iteration, and only
the "xla" conv impl is compiled (the patches programs are bigger, and the impl is only a
parameter of the same code path), so the five compiles stay within the test's time.
"""

import json
import math
import statistics

import pytest

from benchmarks import dcgan


@pytest.mark.slow
def test_dcgan_benchmark_jax_rows(tmp_path, capsys):
  out = tmp_path / "dcgan.json"
  assert dcgan.main(["--image-shape", "2", "2", "1", "--dim", "4", "--batch-size", "8",
                     "--latent-dim", "8", "--n-critic", "1", "--iters-per-call", "2",
                     "--impls", "xla", "--seconds", "0.05", "--modes", "a", "b", "b'", "c",
                     "r", "--seeds", "2",
                     "--rounds", "1", "--no-torch", "--matmul-seconds", "0",
                     "--out", str(out)]) == 0
  result = json.loads(out.read_text())
  rows = result["rows"]
  modes = {(r["impl"], r["mode"].split(":")[0]) for r in rows}
  assert modes == {("xla", m) for m in ("a", "b", "b'", "c", "r")}
  # mode r (2 seeds at once) counts every seed's iterations, and stays out of "JAX-best"
  (at_once,) = [r for r in rows if r["mode"].startswith("r:")]
  rows = [r for r in rows if r is not at_once]
  assert all(r["size"] == "2x2x1 d4 b8" and r["image_shape"] == [2, 2, 1] for r in rows)
  for r in rows:
    assert r["it_per_s"] > 0 and r["it_per_s_median"] > 0 and len(r["it_per_s_rounds"]) == 1
    assert math.isfinite(r["gflop_per_iteration"]) and r["gflop_per_iteration"] > 0
    assert math.isfinite(r["gflops"]) and r["first_call_s"] > 0
  assert not any(r["impl"] == "torch" for r in rows)
  # the derived numbers are those of the measured rounds: best and median over rounds, critic
  # steps = iterations × n_critic (1), GFLOP/s = it/s × GFLOP per iteration; one program per
  # step, so every mode of an impl has the same FLOPs per iteration
  for r in rows:
    assert r["it_per_s"] == max(r["it_per_s_rounds"])
    assert r["it_per_s_median"] == statistics.median(r["it_per_s_rounds"])
    assert r["critic_steps_per_s"] == pytest.approx(r["it_per_s"] * 1)
    assert r["gflops"] == pytest.approx(r["it_per_s"] * r["gflop_per_iteration"])
    assert r["gflops_median"] == pytest.approx(r["it_per_s_median"] * r["gflop_per_iteration"])
  assert len({r["gflop_per_iteration"] for r in rows}) == 1
  summary = result["summary"]["2x2x1 d4 b8"]
  assert summary["jax_best"]["it_per_s"] > 0 and "ratio_median_best_threads" not in summary
  assert summary["jax_best"]["it_per_s"] == max(r["it_per_s"] for r in rows)
  med = {r["mode"].split(":")[0]: r["it_per_s_median"] for r in rows}
  assert summary["scan_over_unrolled_xla"] == pytest.approx(med["b"] / med["b'"])
  assert summary["scan_over_per_step_xla"] == pytest.approx(med["b"] / med["a"])
  assert summary["ratio_median_seeds_over_single"] == pytest.approx(
      at_once["it_per_s"] / summary["jax_best"]["it_per_s"])
  assert result["machine"]["cpu_count"] >= 1 and result["machine"]["torch"] is None
  printed = capsys.readouterr().out
  assert "best it/s" in printed and "c: 2 iterations per call" in printed


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_roles_table_times_each_role_of_each_layer(tmp_path, capsys):
  out = tmp_path / "roles.json"
  assert dcgan.main(["--roles", "--image-shape", "4", "4", "1", "--dim", "2", "--batch-size", "2",
                     "--impls", "hybrid", "xla", "--seconds", "0.01", "--out", str(out)]) == 0
  rows = json.loads(out.read_text())["roles"]["4x4x1 d2 b2"]
  # 4×4 images: two stride-2 stages, so two convolutions and two transposed convolutions
  assert [(r["op"], r["input"][1]) for r in rows] == [
      ("conv", 4), ("conv", 2), ("conv_transpose", 1), ("conv_transpose", 2)]
  for r in rows:
    for impl in ("hybrid", "xla"):
      for role in ("fwd", "grad_x", "grad_k"):
        assert r[f"{impl}_{role}_ms"] > 0
  assert "conv_transpose 2x2x2->1" in capsys.readouterr().out


def test_mnist_port_is_the_librarys_mnist_pair():
  """benchmarks.dcgan's PyTorch gan_mnist models have the library's layers (per-layer
  parameter counts, in order) and shapes, so the two sides time the same arithmetic."""
  torch = pytest.importorskip("torch")
  import jax
  import numpy as np
  from wgan_jax.models import MNISTCritic, MNISTGenerator
  dim, latent = 4, 16
  gen, critic = dcgan.torch_models((28, 28, 1), dim, latent, arch="mnist")
  z = torch.randn(3, latent)
  x = gen(z)
  assert tuple(x.shape) == (3, 1, 28, 28) and float(x.abs().max()) <= 1.0
  assert tuple(critic(x).shape) == (3, 1)
  # parameter shapes only (jax.eval_shape: nothing computed)
  g = jax.eval_shape(MNISTGenerator(dim=dim).init, jax.random.key(0), np.zeros((1, latent)))
  d = jax.eval_shape(MNISTCritic(dim=dim).init, jax.random.key(0), np.zeros((1, 28, 28, 1)))
  sizes = lambda tree: sorted(int(np.prod(a.shape)) for a in jax.tree.leaves(tree))
  assert sizes(g) == sorted(p.numel() for p in gen.parameters())
  assert sizes(d) == sorted(p.numel() for p in critic.parameters())


@pytest.mark.slow  # torch.compile takes a minute on 2 cores
def test_compiled_torch_critic_step_is_the_eager_one():
  pytest.importorskip("torch")
  import torch
  rows = [dcgan.torch_variant("t", (28, 28, 1), 4, 8, 16, 5, 10.0, 1.0, 1, arch="mnist",
                              compiled=c) for c in (False, True)]
  assert dcgan._compiled(rows[1].mode) and not dcgan._compiled(rows[0].mode)
  # both made the same two iterations from the same seed: the same critic and generator
  for a, b in zip(*(list(r.torch_models[0].parameters()) + list(r.torch_models[1].parameters())
                    for r in rows)):
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
