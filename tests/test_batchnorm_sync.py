"""BatchNorm in the image generators is synchronised over the devices, running averages included.

A generator step on 4 simulated devices (2 examples each) must normalise by the statistics of
the whole global batch of 8, exactly as one device does: same loss, same gradients, same
updated parameters and the same running averages (`batch_stats`). Per-device statistics (a
BatchNorm without the axis name) change all of them: with 2 examples per device the variance
of a shard is far from the batch's. Each tolerance is checked to be under a tenth of what one
step changes, so the un-stepped state would fail.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.models import DCGANGenerator, MLPCritic, ResNetGenerator
from wgan_jax.parallel import ParallelTrainer

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow

SHAPE = (8, 8, 1)
STATS_TOL = 1e-5  # on the running means and variances (each moves by ≥ 1e-3 in one step)
GENERATORS = {
    "dcgan": lambda: DCGANGenerator(image_shape=SHAPE, dim=4, norm="batch"),
    "resnet": lambda: ResNetGenerator(image_shape=SHAPE, dim=4, norm="batch"),
}


def _real(data, key):
  return jax.random.uniform(key, SHAPE, minval=-1.0, maxval=1.0)


def _init(gan, seed=0):
  """`gan.init`'s state with NumPy-drawn values (kernels N(0, 1/fan-in), biases 0, BatchNorm
  scale 1 and statistics (0, 1)); it saves compiling JAX's initialisers, which on a loaded
  CPU cost as much as the step itself."""
  shapes = jax.eval_shape(gan.init, jax.random.key(seed))
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    name = jax.tree_util.keystr(path)
    if name.endswith("['kernel']"):
      return jnp.asarray(rng.normal(size=leaf.shape) / np.sqrt(np.prod(leaf.shape[:-1])),
                         leaf.dtype)
    return jnp.full(leaf.shape, 1.0 if name.endswith(("['scale']", "['var']")) else 0.0,
                    leaf.dtype)

  def player(shape, optimizer):
    params = jax.tree_util.tree_map_with_path(fill, shape.params)
    return wj.PlayerState(params, optimizer.init(params),
                          jax.tree_util.tree_map_with_path(fill, shape.model_state))

  return wj.GANState(step=jnp.zeros((), jnp.int32), critic_steps=jnp.zeros((), jnp.int32),
                     generator=player(shapes.generator, gan.g_optimizer),
                     critic=player(shapes.critic, gan.d_optimizer))


def _step(gan):
  """One generator step of `gan` (plain or sharded), with its (pmean'd) gradients."""
  def fn(state, key, data=None):
    new_state, metrics = gan.generator_step_fn(state, key)
    _, grads, _ = gan.generator_grads(state, key)
    return (new_state, grads), metrics
  return fn


def _leaves(tree):
  return [(jax.tree_util.keystr(p), np.asarray(x))
          for p, x in jax.tree_util.tree_leaves_with_path(tree)]


def _check_same_step(generator, backend):
  assert jax.device_count() == 4
  cfg = wj.make_config("nsgan", batch_size=8, latent_dim=8)
  gan = wj.GAN(generator, MLPCritic(width=16, depth=1), cfg, _real)
  state = _init(gan)
  key = jax.random.key(1)
  (one, g_one), m_one = jax.jit(_step(gan))(state, key)
  trainer = ParallelTrainer(gan, backend)
  assert trainer.num_devices == 4
  (par, g_par), m_par = trainer.parallelize(_step(trainer.gan))(trainer.put(state), key)
  par, g_par = trainer.get(par), trainer.get(g_par)
  np.testing.assert_allclose(m_par["g_loss"], m_one["g_loss"], rtol=1e-5)

  # The running averages: equal to float tolerance, which is < 1/10 of one step's change.
  stats = _leaves(state.generator.model_state["batch_stats"])
  assert stats, "the generator has no BatchNorm statistics"
  for (name, before), (_, after_one), (_, after_par) in zip(
      stats, _leaves(one.generator.model_state["batch_stats"]),
      _leaves(par.generator.model_state["batch_stats"])):
    change = np.abs(after_one - before).max()
    assert change > 10 * STATS_TOL, (name, change)
    err = np.abs(after_par - after_one).max()
    assert err <= STATS_TOL, (name, err, change)

  # The gradients, leaf by leaf, to 1e-4 of the leaf's largest entry (the biases that feed a
  # BatchNorm have a zero gradient: the normalisation subtracts them; rounding leaves ~1e-8).
  for (name, a), (_, b) in zip(_leaves(g_one), _leaves(g_par)):
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-4 * np.abs(a).max() + 1e-6, err_msg=name)

  # The parameters after the step. Adam's first step moves each entry by lr·g/(|g| + 1e-8),
  # so where the gradient is clearly non-zero both runs move it by ≈ lr the same way; where it
  # is rounding noise (those biases) the move is arbitrary, and those entries are left out.
  lr = cfg.lr_g
  for (name, before), (_, a), (_, b), (_, g) in zip(
      _leaves(state.generator.params), _leaves(one.generator.params),
      _leaves(par.generator.params), _leaves(g_one)):
    live = np.abs(g) > 1e-5
    if not live.any():
      continue
    assert np.abs(a - before)[live].min() > 0.5 * lr, name
    assert np.abs(b - a)[live].max() <= 1e-3 * lr, name


@pytest.mark.parametrize("model,backend", [
    ("dcgan", "shard_map"),
    ("resnet", "pmap"),
    pytest.param("dcgan", "pmap", marks=pytest.mark.slow),
    pytest.param("resnet", "shard_map", marks=pytest.mark.slow),
])
def test_generator_step_on_four_devices_equals_one_device(model, backend):
  _check_same_step(GENERATORS[model](), backend)
