"""Training honours the penalty's `one_sided` flag and its `gp_target`.

A setting where the two penalties pull differently: the "generator" emits its latent z ~ N(0, I)
and the data are N(0, I) too, so the Wasserstein term has no signal (its gradient is sampling
noise) and the penalty decides where the critic's gradient norm goes. The critic, a small MLP,
starts with gradient norms well below 1 (its initial weights scaled down). Then

- the two-sided penalty (‖∇f‖ − target)² pulls the norm up to its target, 2 here, not 1;
- the one-sided penalty max(0, ‖∇f‖ − 1)² is exactly 0 while every norm is below 1: it
  reports 0 at every step and leaves the norm where it was;
- the one-sided penalty with target 0.25 pulls norms above 0.25 down to it.

The norms are measured at 1000 fixed N(0, I) points (where the interpolates lie). Over 8 seeds
(300 steps, Adam 1e-3) the medians went from [0.08, 0.19] to [1.85, 2.05] (two-sided, target
2) and to [0.07, 0.22] (one-sided, target 1; its penalty was 0 at every step of every seed),
and from [0.33, 0.78] to [0.10, 0.20] (one-sided, target 0.25). A training that ignored the
target would end at [0.98, 1.01] (two-sided) or stay ≳ 0.34 (one-sided, 0.25); one that
ignored one_sided would take the norms to the target, 1.
"""

import flax.linen as nn
import jax
import numpy as np

import wgan_jax as wj
from wgan_jax.models import MLPCritic
from wgan_jax.penalties import critic_input_gradient_norms
import pytest

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow

STEPS = 300
PROBES = jax.random.normal(jax.random.key(99), (1000, 2))


class LatentAsSample(nn.Module):
  """G(z) = z: the fake distribution is the data's. Its one parameter gets a zero gradient,
  so Adam never moves it."""

  @nn.compact
  def __call__(self, z, train: bool = True):
    return z + 0.0 * self.param("unused", nn.initializers.zeros, ())


def _normal(data, key):
  return jax.random.normal(key, (2,))


def _train(objective, target, weight_scale):
  """(median norm before, median norm after, gp metric at every step [STEPS])."""
  cfg = wj.make_config(objective, batch_size=64, latent_dim=2, gp_target=target, lr_d=1e-3)
  gan = wj.GAN(LatentAsSample(), MLPCritic(width=16, depth=2), cfg, _normal)
  state = gan.init(jax.random.key(0))
  small = jax.tree_util.tree_map(lambda p: weight_scale * p, state.critic.params)
  state = state.replace(critic=state.critic.replace(params=small))

  @jax.jit
  def norms(state):
    return critic_input_gradient_norms(lambda x: gan.critic_values(state, x), PROBES)

  before = np.asarray(norms(state))
  # one critic step and one (no-op) generator step per iteration: the metrics hold the
  # penalty of every critic step
  state, metrics = gan.train_step(1, STEPS)(state, jax.random.key(1))
  assert int(state.critic_steps) == STEPS
  assert np.isfinite(np.asarray(metrics["d_loss"])).all()
  return before, np.asarray(norms(state)), np.asarray(metrics["gp"])


def test_two_sided_penalty_drives_the_norm_to_its_target():
  before, after, gp = _train("wgan-gp", 2.0, 0.5)
  assert np.median(before) < 0.5
  assert gp[0] > 1.0  # (‖∇f‖ − 2)² with norms ≲ 0.5
  assert abs(np.median(after) - 2.0) < 0.2, np.median(after)  # not 1: the target is used


def test_one_sided_penalty_leaves_norms_below_one_alone():
  before, after, gp = _train("wgan-gp-onesided", 1.0, 0.5)
  assert before.max() < 1.0  # every norm below the target: the penalty is 0
  np.testing.assert_array_equal(gp, 0.0)  # at every step
  # not pushed up (the two-sided penalty takes it to 1 in this setting)
  assert np.median(after) < min(np.median(before) + 0.1, 0.5), (np.median(before),
                                                                 np.median(after))


def test_one_sided_penalty_pulls_norms_down_to_its_target():
  before, after, gp = _train("wgan-gp-onesided", 0.25, 0.8)
  assert np.median(before) > 0.35 and gp[0] > 0
  assert np.median(after) < 0.25, np.median(after)  # with target 1 it would stay ≳ 0.35
