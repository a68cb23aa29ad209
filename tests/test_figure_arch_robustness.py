"""arch_robustness (WGAN Figs 5–7 on Fashion-MNIST): the checks can fail, the measures are
what they say, and the three generators are the paper's."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.figures import _common, runner
from experiments.figures import arch_robustness as ar

REAL = dict(fashion_classifier_score=8.0)


def _run(score=3.0, fd=200.0, fd_start=700.0, diversity=0.9, classes=10):
  return dict(classifier_score=score, fd=fd, fd_start=fd_start, diversity_ratio=diversity,
              classes_covered=classes)


def _papers_runs(**over):
  """The runs as the paper describes them: WGAN trains all three; the GAN trains the DCGAN,
  fails without BatchNorm and collapses with the MLP."""
  runs = {"wgan/dcgan": _run(fd=150.0), "wgan/nobn": _run(), "wgan/mlp": _run(fd=250.0),
          "gan/dcgan": _run(), "gan/nobn": _run(score=1.1, fd=690.0),
          "gan/mlp": _run(score=1.3, fd=500.0, diversity=0.3, classes=2)}
  full = dict(score="classifier_score", diversity="diversity_ratio", classes="classes_covered")
  for name, changes in over.items():
    name = name.replace("_", "/")
    runs[name] = dict(runs[name], **{full.get(k, k): v for k, v in changes.items()})
  return runs


def _numbers(**over):
  """The stored numbers `judge` reads, of `_papers_runs(**over)`."""
  return runner.as_stored(dict(runs=_papers_runs(**over), real_test_images=REAL))


def test_the_papers_outcome_passes_every_check():
  checks = ar.judge(_numbers())
  assert len(checks) == 8 and all(checks.values()), checks


@pytest.mark.parametrize("changes, failing", [
    (dict(wgan_dcgan=dict(score=1.5)), [0]),                     # WGAN-DCGAN noise
    (dict(gan_dcgan=dict(fd=500.0)), [1]),                       # GAN-DCGAN barely moved
    (dict(wgan_nobn=dict(fd=600.0)), [2]),
    (dict(gan_nobn=dict(score=3.0, fd=200.0)), [3]),             # the GAN learns without BN
    (dict(wgan_mlp=dict(score=1.2)), [4]),
    (dict(wgan_mlp=dict(fd=600.0)), [4, 5]),                     # worse than the GAN's MLP
    (dict(gan_mlp=dict(diversity=0.9, classes=9)), [6]),         # the GAN MLP does not collapse
    (dict(wgan_nobn=dict(classes=6)), [7]),                      # a WGAN run loses classes
    (dict(wgan_mlp=dict(diversity=0.4)), [7]),
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  values = list(ar.judge(_numbers(**changes)).values())
  assert [i for i, ok in enumerate(values) if not ok] == failing


def test_diversity_is_the_mean_pairwise_distance():
  x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]]).reshape(3, 2, 1, 1)
  assert ar.diversity(x) == pytest.approx((5 + 8 + 5) / 3)
  assert ar.diversity(np.ones((10, 4, 4, 1))) == pytest.approx(0.0, abs=1e-6)


def test_the_three_generators_are_the_papers():
  """DCGAN G with BatchNorm; the Fig 6 G without it and with `dim` filters throughout (fewer
  parameters); the MLP G with 3 hidden layers of `width` and a linear output."""
  sz = ar.FIGURE.config("tiny")
  z = jnp.ones((2, ar.LATENT))
  counts = {}
  for g in ar.GENERATORS:
    gan = ar.build("gan", g, sz)
    variables = gan.generator.init(jax.random.key(0), z)
    counts[g] = sum(p.size for p in jax.tree_util.tree_leaves(variables["params"]))
    assert gan.generator.apply(variables, z, train=False).shape == (2,) + ar.SHAPE
    assert ("batch_stats" in variables) == (g == "dcgan")
  d, w, hw = sz["dim"], sz["width"], 7 * 7
  assert counts["nobn"] < counts["dcgan"]
  # Dense to 7·7·dim, then two 5×5 transposed convolutions (dim → dim, dim → 1), with biases
  assert counts["nobn"] == (ar.LATENT + 1) * hw * d + (25 * d * d + d) + (25 * d + 1)
  assert counts["mlp"] == ((ar.LATENT + 1) * w + 2 * (w + 1) * w + (w + 1) * 28 * 28)


def test_fig6_at_64_is_the_official_four_stage_pair():
  """The 64×64 config: G and D have four stride-2 stages (4×4 ↔ 64×64, as the official
  DCGAN_G / DCGAN_D), and the constant-filter G has about an order of magnitude fewer
  parameters than the DCGAN G (the paper: 'a bit more than an order of magnitude')."""
  sz = ar.FIGURE.config("fig6_64")
  assert ar.shape_of(sz) == (64, 64, 1) and sz["stages"] == 4
  z = jnp.ones((2, ar.LATENT))
  counts = {}
  for g in ("dcgan", "nobn"):   # shapes only (jax.eval_shape): nothing is computed
    gan = ar.build("gan", g, sz)
    variables = jax.eval_shape(gan.generator.init, jax.random.key(0), z)
    counts[g] = sum(p.size for p in jax.tree_util.tree_leaves(variables["params"]))
    x = jax.eval_shape(lambda v: gan.generator.apply(v, z, train=False), variables)
    assert x.shape == (2, 64, 64, 1)
    d_vars = jax.eval_shape(gan.critic.init, jax.random.key(1), x)
    kernels = [v["kernel"].shape for k, v in sorted(d_vars["params"].items())
               if k.startswith("Conv")]
    assert len(kernels) == 4 and kernels[-1][-1] == 8 * sz["dim"]   # 8·dim at 4×4
  d = sz["dim"]
  # Dense to 4·4·dim, three dim → dim and one dim → 1 5×5 transposed convolutions
  assert counts["nobn"] == (ar.LATENT + 1) * 16 * d + 3 * (25 * d * d + d) + (25 * d + 1)
  assert counts["dcgan"] / counts["nobn"] > 9
  # only the runs it trains are judged: the other claims are absent, not passed
  runs = {n: r for n, r in _papers_runs().items() if n in ar.runs_at(sz)}
  checks = ar.judge(runner.as_stored(dict(runs=runs, real_test_images=REAL)))
  assert len(checks) == 4 and all(checks.values())
  assert sum("Fig 6" in c for c in checks) == 2


def test_the_metrics_read_28x28():
  x = np.random.default_rng(0).uniform(-1, 1, (3, 64, 64, 1)).astype(np.float32)
  assert ar.to_classifier(x).shape == (3, 28, 28, 1)
  y = np.full((2, 28, 28, 1), 0.5, np.float32)
  np.testing.assert_allclose(ar.to_classifier(ar.upsampled(y, 64)), y, atol=1e-6)


def test_the_two_losses_are_the_recipes():
  sz = ar.FIGURE.config("default")
  wgan, gan = ar.build("wgan", "dcgan", sz).config, ar.build("gan", "dcgan", sz).config
  assert wgan.objective == "wgan" and wgan.clip_value == 0.01 and wgan.n_critic == 5
  assert wgan.optimizer == "rmsprop" and wgan.lr_d == sz["wgan_lr"]
  assert gan.objective == "nsgan" and gan.optimizer == "adam" and gan.lr_d == 2e-4
  assert gan.batch_size == wgan.batch_size == ar.BATCH


def test_a_diverged_run_passes_none_of_its_checks():
  """A non-finite final FD (stored as None) is NaN: the WGAN MLP run neither trains nor sits
  between the two FDs; nothing raises."""
  values = list(ar.judge(_numbers(wgan_mlp=dict(fd=float("nan")))).values())
  assert [i for i, ok in enumerate(values) if not ok] == [4, 5]


def _stored_numbers():
  """Numbers as `measure` stores them (runs with curves, samples), from the papers' runs."""
  runs = {}
  for i, (n, r) in enumerate(_papers_runs().items()):
    runs[n] = dict(r, iterations=[0, 4, 8], fd_curve=[r["fd_start"], 400.0, r["fd"]],
                   generator_parameters=1000 + i, nearest_train_share=0.0)
  x = np.linspace(-1, 1, 9 * 28 * 28).reshape(9, 28, 28)
  return dict(runner.as_stored(dict(
      setup=dict(generator_iterations=8, dcgan_dim=4, wgan_lr=5e-4), runs=runs,
      real_test_images=dict(REAL, fashion_frechet_distance=2.2, fashion_classes_covered=10.0,
                            nearest_train_share=0.0))),
      samples=dict.fromkeys(runs, _common.stored_images(x)))   # as stored


def test_summary_markdown_and_plot_read_the_stored_numbers():
  n = _stored_numbers()
  s = ar.summary(n)
  assert s.startswith("8 generator iterations, dim 4, WGAN RMSProp 0.0005. ")
  assert "gan/mlp 1.30 / 500 / 2 / 0.30" in s and "(real test images 8.00 / 2.2 / 10.0 / 1)" in s
  md = ar.markdown(n)
  assert ("| standard GAN (DCGAN recipe) | MLP G, 3 × 512 ReLU (Fig 7) | 1,005 | 1.30 | "
          "700 → 500 ") in md
  fig = ar.plot(n)
  assert len(fig.axes) == 8 and "FD 500" in fig.axes[6].get_title()
  import matplotlib.pyplot as plt
  plt.close(fig)
  # the stored samples are the images at the PNG's resolution
  x = np.linspace(-1, 1, 9 * 28 * 28).reshape(9, 28, 28)
  np.testing.assert_allclose(_common.images_of(n["samples"]["gan/mlp"]), x, atol=1 / 255)


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(ar.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "arch_robustness.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "arch_robustness.json").read_text())["numbers"]
  sz = ar.FIGURE.config("tiny")
  assert set(n["runs"]) == {f"{l}/{g}" for l in ar.LOSSES for g in ar.GENERATORS}
  for name, run in n["runs"].items():
    assert run["iterations"] == list(range(0, sz["iters"] + 1, sz["eval_every"]))
    assert np.all(np.asarray(run["fd_curve"]) > 0) and run["finite"]
    assert run["fd_start"] == run["fd_curve"][0]
    assert 0 <= run["diversity_ratio"] and 1 - 1e-6 <= run["classifier_score"] <= 10 + 1e-6
    assert np.asarray(n["samples"][name]).shape == (ar.PLOTTED, 28, 28)
  assert len(r["checks"]) == 8
  # re-judged from the JSON alone: the same checks
  assert runner.rebuild(ar.FIGURE, str(tmp_path))["checks"] == r["checks"]
