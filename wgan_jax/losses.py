"""Adversarial losses: the minimax game, the "-log D" trick and the Wasserstein critic.

Every loss takes the raw outputs of the discriminator (logits) or critic (scores), one value
per example, and returns the batch mean as a scalar. Nothing is smoothed or re-weighted behind
the caller's back: there is no hidden label smoothing.

Sign conventions: every function returns a quantity that its player *minimises*.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def _check_scores(*arrays: chex.Array) -> None:
  for a in arrays:
    chex.assert_rank(a, 1)
  chex.assert_type(arrays, float)


def minimax_discriminator_loss(
    real_logits: chex.Array, fake_logits: chex.Array) -> chex.Array:
  """Discriminator loss of the original GAN game.

  L_D = -E_x[log σ(D(x))] - E_z[log(1 - σ(D(G(z))))],

  computed from logits through log-sigmoid (log(1 - σ(l)) = log σ(-l)), so it is finite for any
  finite logits. The discriminator minimises L_D; its minimum over all functions, for a fixed
  generator, is log 4 - 2·JSD(P_r ‖ P_g), attained at D* = p_r / (p_r + p_g).

  Args:
    real_logits: D's logits on real examples, shape [B].
    fake_logits: D's logits on generated examples, shape [B'].

  Returns:
    The scalar batch-mean loss.

  References:
    Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, arXiv:1406.2661, eq. (1).
  """
  _check_scores(real_logits, fake_logits)
  return -jnp.mean(jax.nn.log_sigmoid(real_logits)) - jnp.mean(
      jax.nn.log_sigmoid(-fake_logits))


def minimax_generator_loss(fake_logits: chex.Array) -> chex.Array:
  """Saturating generator loss of the original game: L_G = E_z[log(1 - σ(D(G(z))))].

  The generator minimises it. When the discriminator rejects the samples confidently
  (σ(D(G(z))) ≈ 0) its gradient with respect to the logits, -σ(l), vanishes: the saturation
  analysed by Arjovsky & Bottou (2017, Thm 2.4).

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    The scalar batch-mean loss (always ≤ 0).

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, eq. (1); Arjovsky & Bottou 2017, arXiv:1701.04862.
  """
  _check_scores(fake_logits)
  return jnp.mean(jax.nn.log_sigmoid(-fake_logits))


def nonsaturating_generator_loss(fake_logits: chex.Array) -> chex.Array:
  """Non-saturating ("-log D") generator loss: L_G = -E_z[log σ(D(G(z)))].

  Same fixed point as the minimax loss, but its gradient with respect to the logits,
  -(1 - σ(l)), tends to -1 (not 0) when D rejects the samples.

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    The scalar batch-mean loss (always ≥ 0).

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, §3; Arjovsky & Bottou 2017, arXiv:1701.04862, §2.2.
  """
  _check_scores(fake_logits)
  return -jnp.mean(jax.nn.log_sigmoid(fake_logits))


def wasserstein_critic_loss(
    real_scores: chex.Array, fake_scores: chex.Array) -> chex.Array:
  """Critic loss of WGAN: L_f = E_z[f(G(z))] - E_x[f(x)].

  The critic minimises it; its negative, E_x[f(x)] - E_z[f(G(z))], is the critic's estimate of
  the Wasserstein-1 (earth mover) distance (up to the Lipschitz constant of f).

  Args:
    real_scores: critic values f(x) on real examples, shape [B].
    fake_scores: critic values f(G(z)) on generated examples, shape [B'].

  Returns:
    The scalar loss.

  References:
    Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017, arXiv:1701.07875, eq. (3), Alg. 1.
  """
  _check_scores(real_scores, fake_scores)
  return jnp.mean(fake_scores) - jnp.mean(real_scores)


def wasserstein_generator_loss(fake_scores: chex.Array) -> chex.Array:
  """Generator loss of WGAN: L_G = -E_z[f(G(z))].

  Args:
    fake_scores: critic values f(G(z)) on generated examples, shape [B].

  Returns:
    The scalar loss.

  References:
    Arjovsky, Chintala & Bottou 2017, arXiv:1701.07875, Alg. 1.
  """
  _check_scores(fake_scores)
  return -jnp.mean(fake_scores)
