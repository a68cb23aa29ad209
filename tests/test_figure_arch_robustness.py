"""arch_robustness (WGAN Figs 5–7 on Fashion-MNIST): the checks can fail, the measures are
what they say, and the three generators are the paper's."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.figures import arch_robustness as ar

REAL = dict(classifier_score=8.0)


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


def test_the_papers_outcome_passes_every_check():
  checks = ar.judge(_papers_runs(), REAL)
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
  values = list(ar.judge(_papers_runs(**changes), REAL).values())
  assert [i for i, ok in enumerate(values) if not ok] == failing


def test_diversity_is_the_mean_pairwise_distance():
  x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]]).reshape(3, 2, 1, 1)
  assert ar.diversity(x) == pytest.approx((5 + 8 + 5) / 3)
  assert ar.diversity(np.ones((10, 4, 4, 1))) == pytest.approx(0.0, abs=1e-6)


def test_the_three_generators_are_the_papers():
  """DCGAN G with BatchNorm; the Fig 6 G without it and with `dim` filters throughout (fewer
  parameters); the MLP G with 3 hidden layers of `width` and a linear output."""
  sz = ar.sizes("tiny")
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


def test_the_two_losses_are_the_recipes():
  sz = ar.sizes("default")
  wgan, gan = ar.build("wgan", "dcgan", sz).config, ar.build("gan", "dcgan", sz).config
  assert wgan.objective == "wgan" and wgan.clip_value == 0.01 and wgan.n_critic == 5
  assert wgan.optimizer == "rmsprop" and wgan.lr_d == sz["wgan_lr"]
  assert gan.objective == "nsgan" and gan.optimizer == "adam" and gan.lr_d == 2e-4
  assert gan.batch_size == wgan.batch_size == ar.BATCH


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  r = ar.run(str(tmp_path), scale="tiny")
  assert (tmp_path / "arch_robustness.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "arch_robustness.json").read_text())["numbers"]
  sz = ar.sizes("tiny")
  assert set(n["runs"]) == {f"{l}/{g}" for l in ar.LOSSES for g in ar.GENERATORS}
  for name, run in n["runs"].items():
    assert run["iterations"] == list(range(0, sz["iters"] + 1, sz["eval_every"]))
    assert np.all(np.asarray(run["fd_curve"]) > 0) and run["finite"]
    assert run["fd_start"] == run["fd_curve"][0]
    assert 0 <= run["diversity_ratio"] and 1 - 1e-6 <= run["classifier_score"] <= 10 + 1e-6
  assert len(r["checks"]) == 8
