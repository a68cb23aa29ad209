"""`wgan_jax.use_unrolled_threefry`: the CPU's threefry compiled without its loop, the same bits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import rng
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator


@pytest.fixture
def restore():
  yield
  wj.use_unrolled_threefry(True)   # what `import wgan_jax` set


def _draws(key):
  """Every kind of draw the library makes: per-example keys, normals, uniforms, integers,
  Bernoulli masks, splits, raw bits; two shapes each."""
  keys = wj.example_keys(key, 7, offset=3)
  return dict(
      example_keys=jax.random.key_data(keys),
      normal=jax.vmap(lambda k: jax.random.normal(k, (5,)))(keys),
      normal_block=jax.random.normal(key, (33, 17)),
      uniform=jax.random.uniform(jax.random.fold_in(key, 1), (4, 9)),
      randint=jax.random.randint(jax.random.fold_in(key, 2), (101,), 0, 8),
      bernoulli=jax.random.bernoulli(jax.random.fold_in(key, 3), 0.3, (64,)),
      split=jax.random.key_data(jax.random.split(key, 5)),
      bits=jax.random.bits(jax.random.fold_in(key, 4), (3, 3), jnp.uint32))


def _compiled_draws(unrolled):
  wj.use_unrolled_threefry(unrolled)
  f = jax.jit(lambda k: _draws(k))   # a new function: compiled under the form just set
  hlo = f.lower(jax.random.key(0)).compile().as_text()
  return jax.tree.map(np.asarray, f(jax.random.key(42))), hlo


def test_import_turns_it_on():
  assert rng.unrolled_threefry()


def test_unrolled_draws_are_bit_for_bit_the_rolled_ones(restore):
  rolled, rolled_hlo = _compiled_draws(False)
  unrolled, unrolled_hlo = _compiled_draws(True)
  for name in rolled:
    assert rolled[name].dtype == unrolled[name].dtype, name
    np.testing.assert_array_equal(rolled[name], unrolled[name], err_msg=name)
  # the forms do differ: JAX's CPU form loops over the rounds, the unrolled one does not
  assert " while(" in rolled_hlo and " while(" not in unrolled_hlo
  # and both are JAX's draws (not merely equal to each other)
  eager = jax.tree.map(np.asarray, _draws(jax.random.key(42)))
  np.testing.assert_array_equal(eager["normal_block"], unrolled["normal_block"])


def test_a_training_run_is_bit_for_bit_the_same(restore):
  """The fused WGAN-GP step (3 iterations of 5 critic steps, per-example draws, the penalty's
  interpolates) trains to the same parameters and metrics under both forms."""
  ds = make_toy_dataset("8gaussians")

  def run(unrolled):
    wj.use_unrolled_threefry(unrolled)
    gan = wj.GAN(MLPGenerator(width=16), MLPCritic(width=16),
                 wj.make_config("wgan-gp", batch_size=32, gp_weight=0.1),
                 lambda d, k: ds.sample_one(k))
    state = gan.init(jax.random.key(0))
    state, metrics = gan.train_step(5, 3)(state, jax.random.key(1))
    return jax.tree.map(np.asarray, (state.generator.params, state.critic.params, metrics))

  a, b = run(False), run(True)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)


def test_the_setting_returns_the_previous_one(restore):
  assert wj.use_unrolled_threefry(False) is True
  assert not rng.unrolled_threefry()
  assert wj.use_unrolled_threefry(True) is False and rng.unrolled_threefry()
