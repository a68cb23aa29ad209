"""Regularisers of the discriminator: gradient penalty, instance noise, weight penalty.

Every function checks its arguments when it is traced (shapes, dtypes and Python values only,
so nothing is added to a compiled step): an empty or scalar batch, an integer, boolean or
complex array, a critic whose output is not one score per example, or a negative or NaN
target or noise level raises a `wgan_jax.ConfigError` (a `ValueError`) naming the argument.
"""

from __future__ import annotations

from typing import Callable

import chex
import jax
import jax.numpy as jnp

from wgan_jax import _checks


def _check_pair(real: chex.Array, fake: chex.Array) -> None:
  _checks.check_array("real", real)
  _checks.check_array("fake", fake)
  _checks.check_same_shape("fake", fake, "real", real)


def _check_critic_fn(critic_fn) -> None:
  if not callable(critic_fn):
    _checks.fail("critic_fn", f"must be a function from a batch [B, ...] to scores [B], got "
                 f"{critic_fn!r}")


def _checked_scores(critic_fn, xs: chex.Array) -> chex.Array:
  """critic_fn(xs), refused unless it is one float score per example, shape [B]."""
  scores = critic_fn(xs)
  batch = xs.shape[0]
  shape = tuple(getattr(scores, "shape", ()))
  if shape != (batch,):
    _checks.fail("critic_fn", f"must return one score per example, shape [B] = ({batch},), got "
                 f"shape {shape} for a batch of shape {tuple(xs.shape)} (squeeze a trailing "
                 "axis of size 1; a critic must not mix or drop examples)")
  if not jnp.issubdtype(jnp.result_type(scores), jnp.floating):
    _checks.fail("critic_fn", f"must return floating-point scores, got dtype "
                 f"{jnp.result_type(scores)}")
  return scores


def interpolate(real: chex.Array, fake: chex.Array, eps: chex.Array) -> chex.Array:
  """Random interpolates x̂ = ε·x + (1 - ε)·x̃ with one ε per example.

  Args:
    real: real batch x, shape [B, ...].
    fake: generated batch x̃, same shape.
    eps: coefficients ε, shape [B].

  Returns:
    x̂, shape [B, ...].

  Raises:
    ConfigError: naming `real`, `fake` or `eps`, for an empty, scalar or non-float batch,
      batches of different shapes, or coefficients that are not one float per example.
  """
  _check_pair(real, fake)
  _checks.check_array("eps", eps, rank=1, what=f"one coefficient per example, shape "
                      f"[{real.shape[0]}]")
  if eps.shape[0] != real.shape[0]:
    _checks.fail("eps", f"must hold one coefficient per example, shape [{real.shape[0]}], got "
                 f"shape {tuple(eps.shape)}")
  eps = eps.reshape((-1,) + (1,) * (real.ndim - 1)).astype(real.dtype)
  return eps * real + (1.0 - eps) * fake


def _safe_norm(sumsq: chex.Array) -> chex.Array:
  # sqrt has an infinite derivative at 0: the double `where` keeps both the value (0) and its
  # gradient (0) finite when the critic's gradient vanishes exactly.
  positive = sumsq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sumsq, 1.0)), 0.0)


def critic_input_gradient_sqnorms(
    critic_fn: Callable[[chex.Array], chex.Array], x: chex.Array) -> chex.Array:
  """Per-example squared norms ‖∇ₓ f(x)‖₂² over all non-batch axes, from `jax.grad` over x.

  The one gradient-norm primitive of the library: the WGAN-GP and DRAGAN penalties take its
  square root, R1 and R2 its mean. `critic_fn` must treat examples independently (no
  BatchNorm), so that the gradient of Σ_i f(x_i) with respect to x_i is ∇f(x_i).

  Raises:
    ConfigError: naming `critic_fn` or `x`, for a critic that is not a function or does not
      return one float score per example ([B]; checked while `jax.grad` traces it), or an
      empty, scalar or non-float batch `x`.
  """
  _check_critic_fn(critic_fn)
  _checks.check_array("x", x)
  grads = jax.grad(lambda xs: jnp.sum(_checked_scores(critic_fn, xs)))(x)
  return jnp.sum(jnp.square(grads), axis=tuple(range(1, x.ndim)))


def critic_input_gradient_norms(
    critic_fn: Callable[[chex.Array], chex.Array], x: chex.Array) -> chex.Array:
  """Per-example norms ‖∇ₓ f(x)‖₂, the square roots of `critic_input_gradient_sqnorms`
  (0, with a finite gradient, where the critic's gradient vanishes exactly).

  Raises:
    ConfigError: as `critic_input_gradient_sqnorms`.
  """
  return _safe_norm(critic_input_gradient_sqnorms(critic_fn, x))


def norm_penalty_terms(norms: chex.Array, *, target: float = 1.0,
                       one_sided: bool = False) -> chex.Array:
  """Per-example (‖∇f‖ − target)², or max(0, ‖∇f‖ − target)² when one-sided."""
  excess = norms - target
  if one_sided:
    excess = jnp.maximum(excess, 0.0)
  return jnp.square(excess)


def gradient_norm_penalty(
    critic_fn: Callable[[chex.Array], chex.Array],
    x_hat: chex.Array,
    *,
    target: float = 1.0,
    one_sided: bool = False,
) -> chex.Array:
  """E[(‖∇f(x̂)‖ - target)²] (or its one-sided form) at given points x̂.

  Raises:
    ConfigError: as `critic_input_gradient_norms` (naming `x_hat` for the points), and naming
      `target` for a negative, NaN, infinite or non-numeric target.
  """
  _check_critic_fn(critic_fn)
  _checks.check_array("x_hat", x_hat)
  _checks.check_number("target", target, minimum=0.0)
  norms = critic_input_gradient_norms(critic_fn, x_hat)
  return jnp.mean(norm_penalty_terms(norms, target=target, one_sided=one_sided))


def gradient_penalty(
    critic_fn: Callable[[chex.Array], chex.Array],
    real: chex.Array,
    fake: chex.Array,
    key: chex.PRNGKey,
    *,
    target: float = 1.0,
    one_sided: bool = False,
) -> chex.Array:
  """The WGAN-GP gradient penalty on random interpolates.

  GP = E_x̂[(‖∇_x̂ f(x̂)‖₂ - target)²],  x̂ = ε·x + (1 - ε)·x̃,  ε ~ U[0, 1] per example;
  with `one_sided=True`: E_x̂[max(0, ‖∇_x̂ f(x̂)‖₂ - target)²].

  The gradient comes from `jax.grad` over x̂; the norm is taken per example over all non-batch
  axes. The critic adds λ·GP to its loss (λ = 10 in the paper, 0.1 in the official toy code).
  When the critic's gradient is exactly 0 the value is target² and its gradients stay finite.

  Args:
    critic_fn: maps a batch [B, ...] to scores [B]; must not mix examples (no BatchNorm).
    real: real batch x, shape [B, ...].
    fake: generated batch x̃, same shape as `real`.
    key: PRNG key for ε.
    target: the norm the penalty pulls towards (1 for a 1-Lipschitz critic).
    one_sided: penalise only norms above `target`.

  Returns:
    The scalar penalty (without λ).

  Raises:
    ConfigError: (a ValueError) naming the argument: `real` / `fake` for an empty, scalar or
      non-float batch or batches of different shapes; `critic_fn` for one that does not return
      one float score per example, shape [B] (a [B, 1] or [B, 2] output is refused, not
      summed); `target` for a negative, NaN, infinite or non-numeric target.

  References:
    Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017, arXiv:1704.00028,
    eq. (3) and Algorithm 1; the one-sided form is their Appendix C.
  """
  _check_critic_fn(critic_fn)
  _check_pair(real, fake)
  _checks.check_number("target", target, minimum=0.0)
  _checks.check_key("key", key)
  eps = jax.random.uniform(key, (real.shape[0],), dtype=real.dtype)
  return gradient_norm_penalty(
      critic_fn, interpolate(real, fake, eps), target=target, one_sided=one_sided)


def r1_penalty(critic_fn: Callable[[chex.Array], chex.Array], real: chex.Array, *,
               gamma: float = 1.0) -> chex.Array:
  """R1: the zero-centred gradient penalty on real data, γ/2 · E_x[‖∇ₓ f(x)‖²].

  Mescheder et al. show that it makes the GAN game locally convergent (their Theorem 4); the
  critic adds it to its loss. With lazy regularisation (`GANConfig.lazy_every` = k) the step
  adds k·R1 every k-th critic step (Karras et al. 2020, §4).

  Args:
    critic_fn: maps a batch [B, ...] to scores [B]; must not mix examples.
    real: real batch x, shape [B, ...].
    gamma: γ, the penalty's weight (γ ≥ 0).

  Raises:
    ConfigError: as `critic_input_gradient_sqnorms` (naming `x`), and `gamma` for a negative
      or non-finite weight.

  References:
    Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually Converge?", ICML
    2018, arXiv:1801.04406, eq. (9); Karras et al., "Analyzing and Improving the Image
    Quality of StyleGAN", CVPR 2020, arXiv:1912.04958, §4 (lazy regularisation).
  """
  _checks.check_number("gamma", gamma, minimum=0.0)
  return 0.5 * gamma * jnp.mean(critic_input_gradient_sqnorms(critic_fn, real))


def r2_penalty(critic_fn: Callable[[chex.Array], chex.Array], fake: chex.Array, *,
               gamma: float = 1.0) -> chex.Array:
  """R2: the zero-centred gradient penalty on generated data, γ/2 · E_z[‖∇ f(G(z))‖²].

  References:
    Mescheder, Geiger & Nowozin, ICML 2018, arXiv:1801.04406, eq. (10).
  """
  _checks.check_number("gamma", gamma, minimum=0.0)
  return 0.5 * gamma * jnp.mean(critic_input_gradient_sqnorms(critic_fn, fake))


DRAGAN_SCALE = 0.5  # C in x_p = x + C·std(x)·U[0, 1) (Kodali et al.'s released code)


def perturb_real(real: chex.Array, noise: chex.Array, std: chex.Array,
                 scale: float = DRAGAN_SCALE) -> chex.Array:
  """DRAGAN's perturbed real points x_p = x + scale·std·δ, for given noise δ ~ U[0, 1)
  (same shape as `real`) and the real batch's standard deviation `std` (a scalar)."""
  return real + scale * std * noise


def dragan_penalty(
    critic_fn: Callable[[chex.Array], chex.Array],
    real: chex.Array,
    key: chex.PRNGKey,
    *,
    scale: float = DRAGAN_SCALE,
    target: float = 1.0,
) -> chex.Array:
  """The DRAGAN penalty: E[(‖∇f(x̂)‖ − target)²] at points near the real data.

  x_p = x + C·std(x)·δ with δ ~ U[0, 1) per element and std(x) the batch's standard deviation,
  x̂ = x + α·(x_p − x) with α ~ U[0, 1) per example: the penalty of WGAN-GP, taken in a
  neighbourhood of the real data instead of between real and generated data.

  Args:
    critic_fn: maps a batch [B, ...] to scores [B]; must not mix examples.
    real: real batch x, shape [B, ...].
    key: PRNG key for δ and α.
    scale: C (0.5 in the released code).
    target: the norm the penalty pulls towards (1).

  References:
    Kodali, Abernethy, Hays & Kira, "On Convergence and Stability of GANs", arXiv:1705.07215,
    §4 and its released code (C = 0.5, λ = 10).
  """
  _check_critic_fn(critic_fn)
  _checks.check_array("real", real)
  _checks.check_number("scale", scale, minimum=0.0)
  _checks.check_key("key", key)
  k_noise, k_alpha = jax.random.split(key)
  x_p = perturb_real(real, jax.random.uniform(k_noise, real.shape, real.dtype),
                     jnp.std(real), scale)
  alpha = jax.random.uniform(k_alpha, (real.shape[0],), real.dtype)
  return gradient_norm_penalty(critic_fn, interpolate(x_p, real, alpha), target=target)


def instance_noise(x: chex.Array, key: chex.PRNGKey, stddev: chex.Numeric) -> chex.Array:
  """Instance noise on the discriminator's inputs: x + N(0, stddev²·I).

  Arjovsky & Bottou add noise to both real and generated samples so that the two
  distributions' supports overlap, which keeps D from saturating and the generator's gradients
  informative; the noise is annealed towards 0 over training. `stddev` may be a traced scalar,
  for instance the value of an optax schedule at the current step
  (`optax.linear_schedule(0.1, 0.0, 10_000)(step)`).

  Args:
    x: a batch of D's inputs.
    key: PRNG key.
    stddev: standard deviation of the noise (scalar).

  Returns:
    x plus the noise, same shape and dtype.

  Raises:
    ConfigError: naming `x` for a non-float array, or `stddev` for a negative, NaN, infinite
      or non-numeric std (a JAX array, possibly traced, is only checked for being a real
      scalar: its value is not known when the step is traced).

  References:
    Arjovsky & Bottou, "Towards Principled Methods for Training Generative Adversarial
    Networks", ICLR 2017, arXiv:1701.04862, §3 (Thm 3.2, Cor. 3.3).
  """
  _checks.check_array("x", x, min_rank=0, batch=False)
  _checks.check_number("stddev", stddev, minimum=0.0)
  noise = jax.random.normal(key, x.shape, dtype=x.dtype)
  return x + jnp.asarray(stddev, x.dtype) * noise


def weight_penalty(params: chex.ArrayTree) -> chex.Array:
  """Squared L2 norm of the discriminator's weights: Σ_w ‖w‖² over every leaf.

  "Penalising discriminator weights" is one of the remedies listed by Google's GAN guide, which
  cites Roth et al. 2017 ("Stabilizing Training of Generative Adversarial Networks through
  Regularization") for this family; it limits how sharp D can become. (Arjovsky & Bottou 2017
  propose instance noise, not a weight penalty.) The caller multiplies it by a coefficient and
  adds it to D's loss.

  Raises:
    ConfigError: naming `params`, for a leaf that is not a floating-point array (integer,
      boolean or complex), with the leaf's path.
  """
  _checks.check_float_tree("params", params)
  leaves = jax.tree_util.tree_leaves(params)
  return sum(jnp.sum(jnp.square(leaf)) for leaf in leaves)
