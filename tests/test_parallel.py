"""Data-parallel steps on 4 simulated CPU devices equal one device on the same global batch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.parallel import AXIS, ParallelTrainer

from update_check import assert_same_update

DS = make_toy_dataset("25gaussians")


def test_four_devices_are_simulated():
  # chex/pmap variants silently degrade on one device: make sure there are really 4.
  assert jax.device_count() == 4


def make_gan(objective, norm="none", **kw):
  cfg = wj.make_config(objective, batch_size=32, **kw)
  return wj.GAN(MLPGenerator(width=32, depth=2, norm=norm),
                MLPCritic(width=32, depth=2, norm="none" if objective.startswith("wgan-gp")
                          else norm),
                cfg, lambda d, k: DS.sample_one(k))


class Shared:
  """One wgan-gp game and one trainer per backend for the module: a step compiles in seconds
  and runs in milliseconds, so the tests that play this game share its compiled programs."""

  def __init__(self):
    self.gan, self.trainers = make_gan("wgan-gp"), {}

  def trainer(self, backend):
    if backend not in self.trainers:
      self.trainers[backend] = ParallelTrainer(self.gan, backend)
    return self.trainers[backend]


@pytest.fixture(scope="module")
def shared():
  return Shared()


def close(a, b, rtol=2e-5, atol=1e-6):
  jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol),
                         a, b)


# Both backends bind the same sharded GAN (parallel.shard_gan) and differ only in how they map
# it over the devices: the default tier runs wgan-gp on shard_map (pmap against shard_map is
# test_pmap_and_shard_map_agree_and_replicas_never_drift's); the slow tier the rest of the
# matrix, BatchNorm's synchronised statistics (nsgan) on both backends among them (15-45 s a
# case on 2 cores).
_SLOW = pytest.mark.slow


@pytest.mark.parametrize("backend,objective,norm", [
    ("shard_map", "wgan-gp", "none"),
    pytest.param("pmap", "nsgan", "batch", marks=_SLOW),
    pytest.param("pmap", "wgan", "none", marks=_SLOW),
    pytest.param("shard_map", "wgan-gp-onesided", "none", marks=_SLOW),
    pytest.param("pmap", "wgan-gp", "none", marks=_SLOW),
    pytest.param("shard_map", "wgan", "none", marks=_SLOW),
    pytest.param("shard_map", "nsgan", "batch", marks=_SLOW),
    pytest.param("pmap", "wgan-gp-onesided", "none", marks=_SLOW),
])
def test_data_parallel_step_equals_single_device(backend, objective, norm, shared):
  if (objective, norm) == ("wgan-gp", "none"):
    gan, trainer = shared.gan, shared.trainer(backend)
  else:
    # wgan: a large critic rate so the clip binds, and RMSProp's optax form (ε inside the
    # root): PyTorch's form (the recipe's) divides a clipped critic's ~1e-6 gradients by
    # √v + 1e-8 ≈ |g|, a sign step that a rounding-sized difference between the one-device and
    # the sharded sums flips (its critic loss then differed in sign, 5e-5 against −5e-5).
    gan = make_gan(objective, norm, **({"lr_d": 0.01, "rmsprop_eps_in_sqrt": True}
                                       if objective == "wgan" else {}))
    trainer = ParallelTrainer(gan, backend)
  state = gan.init(jax.random.key(0))
  key = jax.random.key(1)
  # The gradients themselves: global-batch gradients on one device against pmean'd shards.
  grads = {}
  for who, grads_of in (("critic", lambda g, s, k, d: g.critic_grads(s, k, d)[:2]),
                        ("generator", lambda g, s, k, d: g.generator_grads(s, k)[:2])):
    loss1, g1 = grads[who] = grads_of(gan, state, key, None)
    def sharded(s, k, d):
      loss, grads = grads_of(trainer.gan, s, k, d)
      return grads, jax.lax.pmean(loss, AXIS)  # the loss is a local mean until pmean'd
    g4, loss4 = trainer.parallelize(sharded)(trainer.put(state), key)
    close(loss1, loss4)
    close(g1, trainer.get(g4), rtol=1e-4, atol=1e-6)
  # One whole iteration (n_critic critic steps + a generator step).
  single, m1 = gan.train_step(iterations=1)(state, key)
  pstate, m4 = trainer.train_step(iterations=1)(trainer.put(state), key)
  close(m1, m4, rtol=1e-3)
  parallel = trainer.get(pstate)
  assert int(parallel.step) == int(single.step) == 1
  assert int(parallel.critic_steps) == int(single.critic_steps) == gan.config.n_critic
  # Each player's update (after − before) against the single device's, relative to its size
  # (an absolute tolerance of lr·n_critic let the un-updated state pass). Measured on the 8
  # cases: ≤ 3e-3 (one rounding-sized gradient amplified by Adam in wgan-gp's critic); one
  # critic step fewer gives ~0.2 (wgan: clipping saturates its critic, but its generator's
  # update then differs by 0.19), no update or a doubled one 1.
  for who in ("critic", "generator"):
    before, one, par = (getattr(s, who) for s in (state, single, parallel))
    assert_same_update(before.params, one.params, par.params, grads[who][1], name=who)
    if jax.tree_util.tree_leaves(before.model_state):  # BatchNorm running averages
      assert_same_update(before.model_state, one.model_state, par.model_state, name=who)
    close(one.opt_state, par.opt_state, rtol=1e-4, atol=1e-6)
  if objective == "wgan":  # clipped weights identical on every device and inside the box
    if backend == "pmap":
      for leaf in jax.tree_util.tree_leaves(pstate.critic.params):
        for d in range(1, 4):
          np.testing.assert_array_equal(leaf[0], leaf[d])
    for leaf in jax.tree_util.tree_leaves(trainer.get(pstate).critic.params):
      assert float(jnp.max(jnp.abs(leaf))) <= np.float32(0.01)


def test_gradient_penalty_is_per_example_under_sharding():
  # λ large so the penalty dominates: a wrong (cross-shard) norm would change the update.
  gan = make_gan("wgan-gp", gp_weight=100.0)
  state = gan.init(jax.random.key(0))
  _, m1 = gan.critic_step(state, jax.random.key(1))
  trainer = ParallelTrainer(gan, "shard_map")
  _, m4 = trainer.train_step(1, 1)(trainer.put(state), jax.random.key(1))
  np.testing.assert_allclose(m4["gp"][0], m1["gp"], rtol=1e-5)


def test_pmap_and_shard_map_agree_and_replicas_never_drift(shared):
  gan = shared.gan
  state = gan.init(jax.random.key(0))
  key = jax.random.key(2)
  tp, ts = shared.trainer("pmap"), shared.trainer("shard_map")
  sp, ss = tp.put(state), ts.put(state)
  step_p, step_s = tp.train_step(iterations=1), ts.train_step(iterations=1)
  for _ in range(20):
    sp, _ = step_p(sp, key)
    ss, _ = step_s(ss, key)
  for leaf in jax.tree_util.tree_leaves(sp):
    for d in range(1, 4):
      np.testing.assert_array_equal(leaf[0], leaf[d])  # bitwise-identical replicas
  close(tp.get(sp), ts.get(ss), rtol=1e-4, atol=1e-5)
  # every leaf of the shard_map state (was: only the first, the step counter): each device's
  # copy bitwise equal to device 0's
  leaves = jax.tree_util.tree_leaves(ss)
  assert len(leaves) > 10
  for leaf in leaves:
    shards = leaf.addressable_shards
    assert len(shards) == 4
    for shard in shards[1:]:
      np.testing.assert_array_equal(shard.data, shards[0].data)


def test_batch_not_divisible_by_devices_is_a_clear_error():
  gan = wj.GAN(MLPGenerator(), MLPCritic(), wj.make_config("wgan-gp", batch_size=30),
               lambda d, k: DS.sample_one(k))
  with pytest.raises(ValueError, match="does not divide by the 4 devices"):
    ParallelTrainer(gan, "pmap")
