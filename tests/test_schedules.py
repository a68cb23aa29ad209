"""Learning-rate decay follows the steps each player actually runs (WGAN warm-up included)."""

import jax
import numpy as np

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator


def test_critic_steps_before_counts_the_official_warmup():
  c = wj.make_config("wgan")  # 100 critic steps for g < 25 and every 500th, else 5
  assert c.critic_steps_before(0) == 0
  assert c.critic_steps_before(25) == 2500
  assert c.critic_steps_before(501) == 2500 + 100 + 5 * (501 - 25 - 1)  # g = 500 warms up
  assert c.critic_steps_before(8000) == sum(c.critic_iters(g) for g in range(8000))
  assert c.critic_steps_before(8000) > 8000 * 5 + 3000  # the bug: a span of 40,000
  assert wj.make_config("wgan", warmup=False).critic_steps_before(8000) == 40_000


def test_wgan_with_decay_trains_its_critic_until_the_last_iteration():
  """Train `wgan` with the warm-up and decay over the whole run: the critic runs exactly
  `critic_steps_before(iters)` steps and still learns in the last iteration (with the old span
  iters·n_critic its learning rate reached 0 at critic step 50 of 65, iteration 17 of 25)."""
  data = make_toy_dataset("8gaussians")
  iters = 25
  cfg = wj.make_config("wgan", batch_size=16, n_critic=2, warmup_critic_iters=5,
                       warmup_generator_iters=3, warmup_every=10, lr_decay_steps=iters,
                       clip_value=10.0, lr_d=1e-3, lr_g=1e-3)
  gan = wj.GAN(MLPGenerator(width=8), MLPCritic(width=8), cfg,
               lambda _, key: data.sample_one(key))
  state, key = gan.init(jax.random.key(0)), jax.random.key(1)
  changed = []
  for g in range(iters):
    before = jax.tree_util.tree_leaves(state.critic.params)
    state, _ = gan.train_step(cfg.critic_iters(g), 1)(state, key)
    after = jax.tree_util.tree_leaves(state.critic.params)
    changed.append(max(float(np.abs(a - b).max()) for a, b in zip(before, after)))
  assert int(state.critic_steps) == cfg.critic_steps_before(iters) == 3 * 5 + 2 * 5 + 20 * 2
  assert min(changed) > 0, changed  # every iteration moved the critic, the last one too
  # and the schedule ends at 0: one more iteration would not move the critic (n_critic 2:
  # the program already compiled)
  before = jax.tree_util.tree_leaves(state.critic.params)
  state, _ = gan.train_step(2, 1)(state, key)
  for a, b in zip(before, jax.tree_util.tree_leaves(state.critic.params)):
    np.testing.assert_array_equal(a, b)
