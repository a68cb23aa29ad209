"""gp_architectures (WGAN-GP §5.2 / Fig 2 reduced): the checks can fail, each cell is the
paper's method and variant, and a tiny run writes its PNG and JSON."""

import json
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.figures import _common
from experiments.figures import gp_architectures as ga
from experiments.figures import runner

REAL = 8.0


def _cell(score=3.0, fd=200.0, fd_start=700.0):
  return dict(classifier_score=score, fd=fd, fd_start=fd_start)


def _papers_runs(**fails):
  """The caption's outcome: WGAN-GP trains all; each other method fails on one variant
  (`fails`: method -> variant that fails; default the paper-like nobn / mlp / tanh)."""
  fails = dict(dict(nsgan="nobn", lsgan="mlp", wgan="tanh"), **fails)
  runs = {f"{m}/{v}": _cell() for m in ga.METHODS for v in ga.VARIANTS}
  for m, v in fails.items():
    if v:
      runs[f"{m}/{v}"] = _cell(score=1.2, fd=650.0)
  return runs


def _numbers(runs):
  """The stored numbers `judge` reads, of these cells."""
  return runner.as_stored(dict(runs=runs, real_test_images=dict(fashion_classifier_score=REAL)))


def test_the_papers_outcome_passes_every_check():
  checks = ga.judge(_numbers(_papers_runs()))
  assert len(checks) == 5 and all(checks.values()), checks


@pytest.mark.parametrize("runs, failing", [
    (dict(_papers_runs(), **{"wgan-gp/mlp": _cell(fd=500.0)}), [0]),    # GP fails on one
    (_papers_runs(nsgan=None), [1]),                                     # DCGAN trains all
    (_papers_runs(lsgan=None), [2]),
    (_papers_runs(wgan=None), [3]),
    (_papers_runs(wgan="baseline"), [4]),                                # a baseline fails
    (dict(_papers_runs(), **{"wgan-gp/tanh": _cell(score=1.5)}), [0]),   # noise, FD fell
    (dict(_papers_runs(), **{"wgan-gp/tanh": _cell(fd=float("inf"))}), [0]),  # diverged
])
def test_each_check_fails_when_its_phenomenon_is_absent(runs, failing):
  values = list(ga.judge(_numbers(runs)).values())
  assert [i for i, ok in enumerate(values) if not ok] == failing


def test_the_cells_are_the_papers_methods_and_variants():
  sz = ga.FIGURE.config("tiny")
  z = jnp.ones((2, ga.LATENT))
  x = jnp.zeros((2,) + ga.SHAPE)
  for m in ga.METHODS:
    for v in ga.VARIANTS:
      gan = ga.build(m, v, sz)
      c = gan.config
      assert c.objective == m and c.batch_size == ga.BATCH
      # shapes only (jax.eval_shape: nothing computed; the cells train in the tiny run)
      g_vars = jax.eval_shape(partial(gan.generator.init, train=False), jax.random.key(0), z)
      out = jax.eval_shape(partial(gan.generator.apply, train=False), g_vars, z)
      assert out.shape == (2,) + ga.SHAPE
      assert ("batch_stats" in g_vars) == (v != "nobn" and v != "mlp")
      d_vars = jax.eval_shape(partial(gan.critic.init, train=False), jax.random.key(0), x)
      assert ("batch_stats" in d_vars) == (m != "wgan-gp")  # layer norm under the penalty
  lsgan, wgan, gp = (ga.build(m, "baseline", sz).config for m in ("lsgan", "wgan", "wgan-gp"))
  assert lsgan.optimizer == "rmsprop" and lsgan.lr_d == 1e-4           # WGAN-GP App. E
  assert wgan.clip_value == 0.01 and wgan.n_critic == 5 and not wgan.warmup
  assert gp.gp_weight == 10.0 and gp.n_critic == 5 and (gp.beta1, gp.beta2) == (0.5, 0.9)


def test_summary_markdown_and_plot_read_the_stored_numbers():
  runs = {n: dict(r, iterations=[0, 3, 6], fd_curve=[r["fd_start"], 400.0, r["fd"]])
          for n, r in _papers_runs().items()}
  x = np.linspace(-1, 1, 4 * 28 * 28).reshape(4, 28, 28)
  n = runner.as_stored(dict(
      setup=dict(generator_iterations=6, dim=4), runs=runs,
      real_test_images=dict(fashion_classifier_score=REAL, fashion_frechet_distance=2.2)))
  n["samples"] = dict.fromkeys(runs, _common.stored_images(x))   # as stored
  assert ga.summary(n) == ("6 generator iterations, dim 4. Trains (of 4 variants): DCGAN 3, "
                           "LSGAN 3, WGAN (clipping) 3, WGAN-GP 4")
  md = ga.markdown(n)
  assert "| G: no BN, constant filters | fails: score 1.20, FD 700 → 650 | trains: " in md
  # the plot draws the cells stored (here 2 methods × 2 variants)
  four = [f"{m}/{v}" for v in ("baseline", "nobn") for m in ("nsgan", "wgan-gp")]
  fig = ga.plot(dict(n, runs={k: n["runs"][k] for k in four}))
  assert len(fig.axes) == 4 and "FAILS" in fig.axes[2].get_title()
  assert "trains" in fig.axes[3].get_title()
  import matplotlib.pyplot as plt
  plt.close(fig)


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path, monkeypatch):
  """End to end on 2 methods × 2 variants (each cell compiles its own convolutional programs:
  the 16 of the figure take minutes even at the tiny size)."""
  pytest.importorskip("scipy")
  import os

  from wgan_jax.data.idx import FASHION_MNIST_DIR
  if not os.path.exists(FASHION_MNIST_DIR):
    pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
  monkeypatch.setattr(ga, "METHODS", {m: ga.METHODS[m] for m in ("nsgan", "wgan-gp")})
  monkeypatch.setattr(ga, "VARIANTS", {v: ga.VARIANTS[v] for v in ("baseline", "mlp")})
  r = runner.run(ga.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "gp_architectures.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "gp_architectures.json").read_text())["numbers"]
  assert set(n["runs"]) == {f"{m}/{v}" for m in ga.METHODS for v in ga.VARIANTS}
  for run in n["runs"].values():
    assert run["iterations"] == [0, 3, 6] and run["fd_start"] == run["fd_curve"][0]
    assert np.isfinite(run["fd"]) and 1 - 1e-6 <= run["classifier_score"] <= 10 + 1e-6
  assert {k: np.asarray(x).shape for k, x in n["samples"].items()} == {
      k: (ga.PLOTTED, 28, 28) for k in n["runs"]}
  assert len(r["checks"]) == 3
  # re-judged from the JSON alone: the same checks
  assert runner.rebuild(ga.FIGURE, str(tmp_path))["checks"] == r["checks"]
