"""MIX+GAN trains with the minimax `gan` objective: every component and both weight vectors learn.

A 2 × 2 mixture of small MLPs on the 8-Gaussians toy, 1000 iterations (one discriminator step
each) in one compiled call. The discriminator mixture learns to tell the data from the
generator mixture: its loss ends below log 4, the loss of a discriminator that knows nothing.
A mixture whose weights were frozen, or one of whose components never received a gradient
(e.g. every fake example drawn from generator 0), fails here: the logits and every
component's parameters must move, and the weights' gradient at the trained state must equal
its closed form,

  ∂L/∂α_i = w_i (P̄_i − Σ_k w_k P̄_k) + β (w_i − 1/T),   P̄_i = Σ_j v_j P_ij,

from the pair payoffs P (aux["payoff"]) and the entropy regulariser's gradient (see
tests/test_mixture_regulariser.py), for the generators (w = w^G, v = w^D) and likewise for the
discriminators (P transposed).
"""

import jax
import jax.numpy as jnp
import numpy as np

import wgan_jax as wj
from wgan_jax import mixture
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
import pytest

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow

DS = make_toy_dataset("8gaussians")
ITERATIONS = 1000
LOG4 = float(np.log(4.0))
T = 2


def _component_changes(after, before):
  """max |Δ| over each component's network parameters: [T]."""
  deltas = [jnp.max(jnp.abs(a - b).reshape(T, -1), axis=1)
            for a, b in zip(jax.tree_util.tree_leaves(after["components"]),
                            jax.tree_util.tree_leaves(before["components"]))]
  return np.asarray(jnp.max(jnp.stack(deltas), axis=0))


def _closed_form_logit_gradient(weights, other, payoff, beta):
  mean_payoff = payoff @ other  # P̄_i = Σ_j v_j P_ij
  return weights * (mean_payoff - weights @ mean_payoff) + beta * (weights - 1.0 / len(weights))


def test_mix_gan_trains_every_component_and_both_weight_vectors():
  cfg = wj.make_config("gan", batch_size=64)
  gan = wj.GAN(MLPGenerator(width=32, depth=2), MLPCritic(width=32, depth=2), cfg,
               lambda d, k: DS.sample_one(k))
  mix = wj.mix_gan(gan, components=T)
  assert mix.objective_name == "mix+gan"
  state0 = mix.init(jax.random.key(0))
  state, m = mix.train_step(1, ITERATIONS)(state0, jax.random.key(1))
  m = {k: np.asarray(v) for k, v in m.items()}

  for name, values in m.items():
    assert np.isfinite(values).all(), name
  # the weights are a distribution at every step
  for side in ("g", "d"):
    w = np.stack([m[f"w_{side}_{i}"] for i in range(T)], axis=1)  # [ITERATIONS, T]
    assert (w > 0).all() and (w < 1).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
  w_g, w_d = (np.asarray(w) for w in mixture.weights(state))
  np.testing.assert_allclose([w_g.sum(), w_d.sum()], 1.0, rtol=1e-6)

  # both players' weights learned (they start uniform, α = 0) ...
  for player in (state.generator, state.critic):
    alpha = np.asarray(player.params["logits"])
    assert abs(alpha[0] - alpha[1]) > 1e-3, alpha
  # ... and every component of both players (Adam lr 2e-4: up to 0.2 in 1000 steps)
  for after, before in ((state.generator.params, state0.generator.params),
                        (state.critic.params, state0.critic.params)):
    assert _component_changes(after, before).min() > 0.01
  # the discriminator mixture beats chance (log 4) at the end of the run: over the last 100
  # iterations its loss averaged 1.323 to 1.357 over 8 seeds (1.42 to 2.05 at the start)
  assert m["d_adv_loss"][-100:].mean() < LOG4 - 0.015, m["d_adv_loss"][-100:].mean()

  # the weights' gradient at the trained state: its closed form, and not zero
  key = jax.random.key(2)
  beta = mix.players.entropy_weight

  @jax.jit
  def logit_gradients(state):
    g_params, d_params = state.generator.params, state.critic.params
    g_loss = lambda a: mix.generator_payoff(dict(g_params, logits=a), state, key)[0]
    d_loss = lambda a: mix.critic_payoff(dict(d_params, logits=a), state, key)[0]
    _, g_aux, _ = mix.generator_payoff(g_params, state, key)
    _, d_aux, _ = mix.critic_payoff(d_params, state, key)
    return (jax.grad(g_loss)(g_params["logits"]), g_aux["payoff"],
            jax.grad(d_loss)(d_params["logits"]), d_aux["payoff"])

  grad_g, payoff_g, grad_d, payoff_d = (np.asarray(x) for x in logit_gradients(state))
  expected_g = _closed_form_logit_gradient(w_g, w_d, payoff_g, beta)
  expected_d = _closed_form_logit_gradient(w_d, w_g, payoff_d.T, beta)
  for grad, expected in ((grad_g, expected_g), (grad_d, expected_d)):
    assert np.abs(expected).max() > 1e-4  # non-zero, so the comparison means something
    np.testing.assert_allclose(grad, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
