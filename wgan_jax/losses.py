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


# ------------------------------------------------------------------ least squares (LSGAN)
def least_squares_discriminator_terms(
    real_scores: chex.Array, fake_scores: chex.Array) -> Tuple[chex.Array, chex.Array]:
  """Per-example terms of the LSGAN discriminator loss with the 0-1 coding (labels a = 0 for
  generated, b = 1 for real): ℓ_real(x) = ½(D(x) - 1)², ℓ_fake(z) = ½ D(G(z))².

  Args:
    real_scores: D's raw outputs on real examples, shape [B].
    fake_scores: D's raw outputs on generated examples, shape [B'].

  Returns:
    (ℓ_real [B], ℓ_fake [B']), each ≥ 0.

  References:
    Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017, arXiv:1611.04076,
    eq. (2) with a = 0, b = c = 1 (the 0-1 coding of §3.2.2); TF-GAN's
    `least_squares_discriminator_loss` (the ½ factor).
  """
  _check_scores(real_scores=real_scores, fake_scores=fake_scores)
  return 0.5 * jnp.square(real_scores - 1.0), 0.5 * jnp.square(fake_scores)


def least_squares_generator_terms(fake_scores: chex.Array) -> chex.Array:
  """Per-example terms of the LSGAN generator loss: ℓ(z) = ½(D(G(z)) - 1)² (c = 1).

  References:
    Mao et al. 2017, arXiv:1611.04076, eq. (2); TF-GAN's `least_squares_generator_loss`.
  """
  _check_scores(fake_scores=fake_scores)
  return 0.5 * jnp.square(fake_scores - 1.0)


def least_squares_discriminator_loss(
    real_scores: chex.Array, fake_scores: chex.Array) -> chex.Array:
  """LSGAN discriminator loss L_D = ½ E_x[(D(x) - 1)²] + ½ E_z[D(G(z))²] (0-1 coding).

  The batch means of `least_squares_discriminator_terms`; TF-GAN's convention (its test
  vectors give 41.73375 for real [-5, 1.4, 12.5, 2.7] and fake [10, 4.4, -5.5, 3.6]).

  References:
    Mao et al., ICCV 2017, arXiv:1611.04076, eq. (2).
  """
  real_terms, fake_terms = least_squares_discriminator_terms(real_scores, fake_scores)
  return jnp.mean(real_terms) + jnp.mean(fake_terms)


def least_squares_generator_loss(fake_scores: chex.Array) -> chex.Array:
  """LSGAN generator loss L_G = ½ E_z[(D(G(z)) - 1)²], the batch mean of
  `least_squares_generator_terms`.

  References:
    Mao et al., ICCV 2017, arXiv:1611.04076, eq. (2).
  """
  return jnp.mean(least_squares_generator_terms(fake_scores))


# ------------------------------------------------------------------ hinge
def hinge_discriminator_terms(
    real_scores: chex.Array, fake_scores: chex.Array) -> Tuple[chex.Array, chex.Array]:
  """Per-example terms of the hinge discriminator loss: ℓ_real(x) = relu(1 - f(x)),
  ℓ_fake(z) = relu(1 + f(G(z))).

  References:
    Lim & Ye, "Geometric GAN", arXiv:1705.02894, eq. (19); Miyato et al., "Spectral
    Normalization for Generative Adversarial Networks", ICLR 2018, arXiv:1802.05957, eq. (17).
  """
  _check_scores(real_scores=real_scores, fake_scores=fake_scores)
  return jax.nn.relu(1.0 - real_scores), jax.nn.relu(1.0 + fake_scores)


def hinge_generator_terms(fake_scores: chex.Array) -> chex.Array:
  """Per-example terms of the hinge game's generator loss: ℓ(z) = -f(G(z)).

  References:
    Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957, eq. (17).
  """
  _check_scores(fake_scores=fake_scores)
  return -fake_scores


def hinge_discriminator_loss(real_scores: chex.Array, fake_scores: chex.Array) -> chex.Array:
  """Hinge discriminator loss L_D = E_x[relu(1 - f(x))] + E_z[relu(1 + f(G(z)))].

  The batch means of `hinge_discriminator_terms`; the discriminator minimises it.

  References:
    Lim & Ye 2017, arXiv:1705.02894; Miyato et al., ICLR 2018, arXiv:1802.05957, eq. (17).
  """
  real_terms, fake_terms = hinge_discriminator_terms(real_scores, fake_scores)
  return jnp.mean(real_terms) + jnp.mean(fake_terms)


def hinge_generator_loss(fake_scores: chex.Array) -> chex.Array:
  """Hinge generator loss L_G = -E_z[f(G(z))], the batch mean of `hinge_generator_terms`.

  References:
    Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957, eq. (17).
  """
  return jnp.mean(hinge_generator_terms(fake_scores))
