"""Class-conditional games: labelled data, conditional generators, projection and AC-GAN
critics; the label's control of the samples measured; the device and resume patterns."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from wgan_jax.parallel import ParallelTrainer

RING = make_toy_dataset("8gaussians")
CENTRES = jnp.asarray(RING.centres, jnp.float32)


def labelled_ring(_, key):
  """The 8-Gaussians ring with each point's mode as its class."""
  k_c, k_x = jax.random.split(key)
  c = jax.random.randint(k_c, (), 0, 8)
  return CENTRES[c] + RING.std * jax.random.normal(k_x, (2,)), c


def ring_gan(objective="wgan-gp", head="projection", width=32, **kw):
  cfg = wj.make_config(objective, batch_size=64, num_classes=8,
                       ac_weight=1.0 if head == "ac" else 0.0, **kw)
  return wj.GAN(MLPGenerator(width=width, depth=2, num_classes=8),
                MLPCritic(width=width, depth=2, num_classes=8, head=head), cfg, labelled_ring)


def label_control(gan, state, n=800):
  """Share of samples generated for class c whose nearest ring centre is c."""
  y = jnp.arange(n) % 8
  x = np.asarray(gan.sample(state, jax.random.key(5), n, labels=y))
  nearest = np.argmin(((x[:, None] - np.asarray(CENTRES)[None]) ** 2).sum(-1), axis=1)
  return float(np.mean(nearest == np.asarray(y)))


def test_the_label_controls_the_sample_after_training():
  """Projection critic, WGAN-GP, 600 iterations: samples land on the mode of their class
  (measured: 1.00 after, 0.17 untrained; chance 0.125)."""
  gan = ring_gan(width=64, gp_weight=0.1, lr_d=1e-3, lr_g=1e-3)
  state = gan.init(jax.random.key(0))
  before = label_control(gan, state)
  step = gan.train_step(iterations=100)
  for _ in range(6):
    state, _ = step(state, jax.random.key(1))
  after = label_control(gan, state)
  assert before < 0.4 and after > 0.8, (before, after)


def test_ac_gan_losses_are_the_cross_entropy_of_the_step():
  gan = ring_gan("nsgan", head="ac")
  state = gan.init(jax.random.key(0))
  key = jax.random.key(1)

  @jax.jit  # the step's draws and the critic's outputs on them, in one program
  def outputs(state):
    real, fake, draws, _ = gan._critic_inputs(state, key, None)
    p = {"params": state.critic.params}
    return (draws, gan.critic.apply(p, real, train=True, labels=draws.real_labels),
            gan.critic.apply(p, fake, train=True, labels=draws.fake_labels))
  draws, out_r, out_f = outputs(state)
  ce = lambda logits, y: np.mean(-np.log(np.asarray(jax.nn.softmax(logits))[
      np.arange(len(y)), np.asarray(y)]))
  expected = ce(out_r[1], draws.real_labels) + ce(out_f[1], draws.fake_labels)
  _, m = gan.critic_step(state, key)
  np.testing.assert_allclose(m["d_ac_loss"], expected, rtol=1e-5)
  adv = wj.minimax_discriminator_loss(out_r[0], out_f[0])
  np.testing.assert_allclose(m["d_loss"], adv + expected, rtol=1e-5)
  # the generated labels are uniform draws over the classes
  labels = np.asarray(draws.fake_labels)
  assert labels.min() >= 0 and labels.max() < 8 and len(np.unique(labels)) >= 6


def test_projection_head_is_score_plus_embedding_product():
  critic = MLPCritic(width=8, depth=1, num_classes=3)
  x, y = jnp.ones((4, 2)), jnp.array([0, 1, 2, 1])
  v = critic.init(jax.random.key(0), x, labels=y)
  scores = critic.apply(v, x, labels=y)
  plain = MLPCritic(width=8, depth=1)
  h = jax.nn.relu(x @ v["params"]["_MLPBody_0"]["Dense_0"]["kernel"]
                  + v["params"]["_MLPBody_0"]["Dense_0"]["bias"])
  psi = (h @ v["params"]["Dense_0"]["kernel"] + v["params"]["Dense_0"]["bias"])[:, 0]
  proj = np.sum(np.asarray(v["params"]["class_embedding"]["embedding"])[np.asarray(y)] *
                np.asarray(h), axis=1)
  np.testing.assert_allclose(scores, psi + proj, rtol=1e-5)
  assert "class_embedding" not in plain.init(jax.random.key(0), x)["params"]


def test_conditional_batchnorm_uses_the_class_scale_and_shift():
  g = DCGANGenerator(image_shape=(8, 8, 1), dim=4, num_classes=3)
  z = jax.random.normal(jax.random.key(0), (6, 5))
  v = jax.jit(lambda k, z, y: g.init(k, z, train=False, labels=y))(
      jax.random.key(1), z, jnp.zeros(6, jnp.int32))
  apply = jax.jit(lambda v, z, y: g.apply(v, z, train=False, labels=y))  # compiled once
  cbn = v["params"]["ConditionalBatchNorm_0"]
  np.testing.assert_array_equal(cbn["gamma"]["embedding"], 1.0)
  np.testing.assert_array_equal(cbn["beta"]["embedding"], 0.0)
  # A shift given to class 2 only moves the samples of class 2.
  params = jax.tree_util.tree_map(lambda a: a, v["params"])
  params["ConditionalBatchNorm_0"]["beta"]["embedding"] = (
      cbn["beta"]["embedding"].at[2].set(3.0))
  y = jnp.array([0, 1, 2, 0, 1, 2])
  a = apply({**v, "params": v["params"]}, z, y)
  b = apply({**v, "params": params}, z, y)
  moved = np.abs(np.asarray(a - b)).reshape(6, -1).max(axis=1)
  assert (moved[[2, 5]] > 1e-3).all() and (moved[[0, 1, 3, 4]] == 0).all()


def test_sampling_labels_and_errors():
  gan = ring_gan()
  state = gan.init(jax.random.key(0))
  assert gan.sample(state, jax.random.key(1), 5).shape == (5, 2)
  with pytest.raises(wj.ConfigError, match="^labels: "):
    gan.sample(state, jax.random.key(1), 5, labels=jnp.zeros(4, jnp.int32))
  plain = wj.GAN(MLPGenerator(width=8), MLPCritic(width=8), wj.make_config("wgan-gp"),
                 lambda _, k: RING.sample_one(k))
  with pytest.raises(wj.ConfigError, match="^labels: "):
    plain.sample(plain.init(jax.random.key(0)), jax.random.key(1), 5,
                 labels=jnp.zeros(5, jnp.int32))
  unlabelled = wj.GAN(MLPGenerator(width=8, num_classes=8), MLPCritic(width=8, num_classes=8),
                      wj.make_config("wgan-gp", num_classes=8), lambda _, k: RING.sample_one(k))
  with pytest.raises(wj.ConfigError, match="^sample_real: "):
    unlabelled.init(jax.random.key(0))
  with pytest.raises(wj.ConfigError, match="^ac_weight: "):
    wj.make_config("nsgan", ac_weight=1.0)
  with pytest.raises(wj.ConfigError, match="^num_classes: "):
    wj.make_config("nsgan", num_classes=1)


# Three compiles of the conditional game with R1 and spectral norm (36 s of CPU): the slow tier.
# The default tier checks 4 devices against one in tests/test_parallel.py and
# tests/test_gan_toolkit.py (spectral norm), K calls against one in tests/test_train.py and
# tests/test_gan_toolkit.py, the labelled draws in test_ac_gan_losses_are_the_cross_entropy_of_
# the_step.
@pytest.mark.slow
@pytest.mark.parametrize("head", ["projection", "ac"])
def test_four_devices_equal_one_and_k_calls_equal_one(head):
  gan = ring_gan("wgan-gp", head=head, r1_weight=0.5, spectral_norm=True)
  state = gan.init(jax.random.key(0))
  single, m1 = gan.train_step(iterations=2)(state, jax.random.key(1))
  trainer = ParallelTrainer(gan, "shard_map")
  par, m4 = trainer.train_step(iterations=2)(trainer.put(state), jax.random.key(1))
  chex.assert_trees_all_close(single, trainer.get(par), rtol=2e-4, atol=2e-6)
  np.testing.assert_allclose(m1["d_loss"], m4["d_loss"], rtol=1e-4)
  a, _ = gan.train_step(iterations=1)(state, jax.random.key(1))
  a, _ = gan.train_step(iterations=1)(a, jax.random.key(1))
  chex.assert_trees_all_equal(a, single)


@pytest.mark.slow
def test_conditional_dcgan_with_batchnorm_on_images_trains_a_step():
  x = jax.random.uniform(jax.random.key(0), (32, 8, 8, 1), minval=-1, maxval=1)
  y = jnp.arange(32) % 10
  from wgan_jax.data.images import labelled_array_sampler
  cfg = wj.make_config("nsgan", batch_size=16, latent_dim=8, num_classes=10, ac_weight=1.0)
  gan = wj.GAN(DCGANGenerator(image_shape=(8, 8, 1), dim=8, num_classes=10),
               DCGANCritic(dim=8, norm="batch", num_classes=10, head="ac"), cfg,
               labelled_array_sampler)
  state = gan.init(jax.random.key(0), (x, y))
  state, m = gan.train_step(iterations=1)(state, jax.random.key(1), (x, y))
  assert np.isfinite(np.asarray(m["d_loss"])).all() and float(m["d_ac_loss"][0]) > 0
  # the generator's conditional BatchNorm statistics were updated by the step
  assert float(jnp.abs(state.generator.model_state["batch_stats"]["ConditionalBatchNorm_0"]
                       ["BatchNorm_0"]["mean"]).max()) > 0


@pytest.mark.slow
def test_images_job_reports_the_label_control(tmp_path):
  """`--conditional projection` on the 8×8 digits: label_accuracy well above chance (0.1)
  after 300 iterations (measured 0.54 at dim 64 with hinge + spectral norm)."""
  import json
  from experiments import images
  assert images.main(["--dataset", "digits", "--conditional", "projection", "--objective",
                      "hinge", "--spectral-norm", "--iters", "300", "--eval-every", "150",
                      "--num-samples", "500", "--no-progress", "--out", str(tmp_path)]) == 0
  final = json.loads((tmp_path / "metrics.json").read_text())["final"]
  assert final["label_accuracy"] > 0.3, final
