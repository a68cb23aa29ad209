"""WGAN weight clipping as an optax transform."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import optax

from wgan_jax import _checks


def _project(param: chex.Array, update: chex.Array, c: float) -> chex.Array:
  landed = param + update
  inside = jnp.abs(landed) <= c
  target = jnp.clip(landed, -c, c)
  new_update = jnp.where(inside, update, target - param)
  # `param + (target - param)` can round one ulp outside the box when the two differ by more
  # than a factor 2; nudge the update inwards until the sum that `optax.apply_updates` forms
  # lands in [-c, c].
  for _ in range(2):
    landed = param + new_update
    new_update = jnp.where(landed > c, jnp.nextafter(new_update, -jnp.inf), new_update)
    new_update = jnp.where(landed < -c, jnp.nextafter(new_update, jnp.inf), new_update)
  return new_update.astype(update.dtype)


def clip_params(clip_value: float) -> optax.GradientTransformation:
  """Weight clipping of WGAN: after the update every parameter lies in [-c, c].

  Rewrites the incoming updates u so that clip(θ + u, -c, c) = θ + u': the projection of the
  updated weights onto the box [-c, c]^d. It needs `params` and must be the LAST transform of a
  chain, e.g. `optax.chain(optax.rmsprop(5e-5), clip_params(0.01))`; every variable of the
  critic is clipped, biases included, as in the official code (which clips after each critic
  step, as done here; the PyTorch code clamps before each step instead).

  Updates that keep a parameter inside the box pass unchanged. The box is [-c, c] with c
  rounded to the parameters' dtype (float32(0.1) is slightly above the real 0.1).

  Args:
    clip_value: c > 0, a finite number.

  Returns:
    An optax GradientTransformation.

  Raises:
    ConfigError: (a ValueError) naming `clip_value`, for a value that is not a finite number
      > 0 (a string, a boolean, None, 0, a negative number, NaN or infinity); naming `params`
      (when the update runs) for a leaf that is not floating point.

  References:
    Arjovsky, Chintala & Bottou, "Wasserstein GAN", arXiv:1701.07875, Algorithm 1, line 7.
  """
  _checks.check_number("clip_value", clip_value, minimum=0.0, strict=True, traced_ok=False)
  c = float(clip_value)

  def init_fn(params):
    del params
    return optax.EmptyState()

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError(
          "clip_params needs the current params: call update(grads, state, params) and put "
          "clip_params last in the chain")
    _checks.check_float_tree("params", params)  # an integer leaf would be projected to 0
    _checks.check_same_tree("updates", updates, "params", params)
    updates = jax.tree_util.tree_map(lambda p, u: _project(p, u, c), params, updates)
    return updates, state

  return optax.GradientTransformation(init_fn, update_fn)
