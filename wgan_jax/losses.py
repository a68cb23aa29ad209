"""Adversarial losses: the minimax game, the "-log D" trick and the Wasserstein critic.

Every loss comes in two forms, as optax's losses do:

- `<family>_<player>_terms` return one value per example (for a discriminator, one array for
  the real examples and one for the generated ones), and leave the reduction to the caller;
- `<family>_<player>_loss` return the batch mean of those terms, a scalar.

The plain GAN (`wgan_jax.train.GAN`) reduces the terms by the batch mean, MIX+GAN
(`wgan_jax.mixture`) by the mean over each generator's examples: both reduce the same terms, so
the maths of each loss is written once, here. The raw outputs of the discriminator (logits) or
critic (scores) come in, one value per example. Nothing is smoothed or re-weighted behind the
caller's back: there is no hidden label smoothing.

Sign conventions: every function returns a quantity that its player *minimises*.

Every function checks its scores when it is traced (no cost in a compiled step): a scalar, a
non-vector, an empty batch (whose mean would be nan) or an integer, boolean or complex array
raises a `wgan_jax.ConfigError` (a `ValueError`) naming the argument, e.g. "fake_scores: ...".
"""

from __future__ import annotations

from typing import Tuple

import chex
import jax
import jax.numpy as jnp

from wgan_jax import _checks


def _check_scores(**scores: chex.Array) -> None:
  """Each argument is a non-empty floating-point vector [B] (checked at trace time).

  Raises:
    ConfigError: (a ValueError) naming the argument, for a scalar or a non-vector, an empty
      batch (whose mean would be nan), or an integer, boolean or complex dtype.
  """
  for name, a in scores.items():
    _checks.check_array(name, a, rank=1, what="a vector of scores [B], one per example")


# ------------------------------------------------------------------ per-example terms
def minimax_discriminator_terms(
    real_logits: chex.Array, fake_logits: chex.Array) -> Tuple[chex.Array, chex.Array]:
  """Per-example terms of the original GAN's discriminator loss.

  ℓ_real(x) = -log σ(D(x)),   ℓ_fake(z) = -log(1 - σ(D(G(z)))) = -log σ(-D(G(z))),

  from logits through log-sigmoid, so both are finite for any finite logits. The batch loss
  `minimax_discriminator_loss` is mean(ℓ_real) + mean(ℓ_fake).

  Args:
    real_logits: D's logits on real examples, shape [B].
    fake_logits: D's logits on generated examples, shape [B'].

  Returns:
    (ℓ_real [B], ℓ_fake [B']), each ≥ 0.

  References:
    Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, arXiv:1406.2661, eq. (1).
  """
  _check_scores(real_logits=real_logits, fake_logits=fake_logits)
  return -jax.nn.log_sigmoid(real_logits), -jax.nn.log_sigmoid(-fake_logits)


def minimax_generator_terms(fake_logits: chex.Array) -> chex.Array:
  """Per-example terms of the saturating generator loss: ℓ(z) = log(1 - σ(D(G(z)))).

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    ℓ [B], each ≤ 0.

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, eq. (1).
  """
  _check_scores(fake_logits=fake_logits)
  return jax.nn.log_sigmoid(-fake_logits)


def nonsaturating_generator_terms(fake_logits: chex.Array) -> chex.Array:
  """Per-example terms of the non-saturating ("-log D") generator loss: ℓ(z) = -log σ(D(G(z))).

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    ℓ [B], each ≥ 0.

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, §3.
  """
  _check_scores(fake_logits=fake_logits)
  return -jax.nn.log_sigmoid(fake_logits)


def wasserstein_critic_terms(
    real_scores: chex.Array, fake_scores: chex.Array) -> Tuple[chex.Array, chex.Array]:
  """Per-example terms of the WGAN critic loss: ℓ_real(x) = -f(x), ℓ_fake(z) = f(G(z)).

  Args:
    real_scores: critic values f(x) on real examples, shape [B].
    fake_scores: critic values f(G(z)) on generated examples, shape [B'].

  Returns:
    (ℓ_real [B], ℓ_fake [B']).

  References:
    Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017, arXiv:1701.07875, eq. (3).
  """
  _check_scores(real_scores=real_scores, fake_scores=fake_scores)
  return -real_scores, fake_scores


def wasserstein_generator_terms(fake_scores: chex.Array) -> chex.Array:
  """Per-example terms of the WGAN generator loss: ℓ(z) = -f(G(z)).

  Args:
    fake_scores: critic values f(G(z)) on generated examples, shape [B].

  Returns:
    ℓ [B].

  References:
    Arjovsky, Chintala & Bottou 2017, arXiv:1701.07875, Alg. 1.
  """
  _check_scores(fake_scores=fake_scores)
  return -fake_scores


# ------------------------------------------------------------------ batch means
def minimax_discriminator_loss(
    real_logits: chex.Array, fake_logits: chex.Array) -> chex.Array:
  """Discriminator loss of the original GAN game.

  L_D = -E_x[log σ(D(x))] - E_z[log(1 - σ(D(G(z))))],

  the batch means of `minimax_discriminator_terms`, so it is finite for any finite logits. The
  discriminator minimises L_D; its minimum over all functions, for a fixed generator, is
  log 4 - 2·JSD(P_r ‖ P_g), attained at D* = p_r / (p_r + p_g).

  Args:
    real_logits: D's logits on real examples, shape [B].
    fake_logits: D's logits on generated examples, shape [B'].

  Returns:
    The scalar batch-mean loss.

  References:
    Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, arXiv:1406.2661, eq. (1).
  """
  real_terms, fake_terms = minimax_discriminator_terms(real_logits, fake_logits)
  return jnp.mean(real_terms) + jnp.mean(fake_terms)


def minimax_generator_loss(fake_logits: chex.Array) -> chex.Array:
  """Saturating generator loss of the original game: L_G = E_z[log(1 - σ(D(G(z))))].

  The batch mean of `minimax_generator_terms`; the generator minimises it. When the
  discriminator rejects the samples confidently (σ(D(G(z))) ≈ 0) its gradient with respect to
  the logits, -σ(l), vanishes: the saturation analysed by Arjovsky & Bottou (2017, Thm 2.4).

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    The scalar batch-mean loss (always ≤ 0).

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, eq. (1); Arjovsky & Bottou 2017, arXiv:1701.04862.
  """
  return jnp.mean(minimax_generator_terms(fake_logits))


def nonsaturating_generator_loss(fake_logits: chex.Array) -> chex.Array:
  """Non-saturating ("-log D") generator loss: L_G = -E_z[log σ(D(G(z)))].

  The batch mean of `nonsaturating_generator_terms`. Same fixed point as the minimax loss, but
  its gradient with respect to the logits, -(1 - σ(l)), tends to -1 (not 0) when D rejects the
  samples.

  Args:
    fake_logits: D's logits on generated examples, shape [B].

  Returns:
    The scalar batch-mean loss (always ≥ 0).

  References:
    Goodfellow et al. 2014, arXiv:1406.2661, §3; Arjovsky & Bottou 2017, arXiv:1701.04862, §2.2.
  """
  return jnp.mean(nonsaturating_generator_terms(fake_logits))


def wasserstein_critic_loss(
    real_scores: chex.Array, fake_scores: chex.Array) -> chex.Array:
  """Critic loss of WGAN: L_f = E_z[f(G(z))] - E_x[f(x)].

  The batch means of `wasserstein_critic_terms`. The critic minimises it; its negative,
  E_x[f(x)] - E_z[f(G(z))], is the critic's estimate of the Wasserstein-1 (earth mover)
  distance (up to the Lipschitz constant of f).

  Args:
    real_scores: critic values f(x) on real examples, shape [B].
    fake_scores: critic values f(G(z)) on generated examples, shape [B'].

  Returns:
    The scalar loss.

  References:
    Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017, arXiv:1701.07875, eq. (3), Alg. 1.
  """
  real_terms, fake_terms = wasserstein_critic_terms(real_scores, fake_scores)
  return jnp.mean(real_terms) + jnp.mean(fake_terms)


def wasserstein_generator_loss(fake_scores: chex.Array) -> chex.Array:
  """Generator loss of WGAN: L_G = -E_z[f(G(z))], the batch mean of
  `wasserstein_generator_terms`.

  Args:
    fake_scores: critic values f(G(z)) on generated examples, shape [B].

  Returns:
    The scalar loss.

  References:
    Arjovsky, Chintala & Bottou 2017, arXiv:1701.07875, Alg. 1.
  """
  return jnp.mean(wasserstein_generator_terms(fake_scores))
