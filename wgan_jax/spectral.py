"""Spectral normalisation of a critic's weights, as a reparameterisation of its parameters.

Every weight leaf with two or more axes (Dense and Conv kernels, embeddings) is divided by an
estimate of its largest singular value σ(W), so that each layer is (about) 1-Lipschitz:

  W_SN = W / σ(W),   σ(W) ≈ vᵀ W u,   v = normalise(W u_prev),   u = normalise(Wᵀ v),

where W is the leaf reshaped to a matrix [fan_in, fan_out] (a convolution's kernel
[kh, kw, c_in, c_out] as [kh·kw·c_in, c_out]; σ is the same for the transposed matrix that
Miyato et al. write) and u ∈ R^fan_out is the power iteration's vector, carried from one
critic step to the next. One iteration per critic step (Miyato et al.'s Algorithm 1); u and v
are constants for the gradient, which flows through W in both numerator and σ.

Because it acts on the parameter pytree, it applies to any critic (the library's, or one the
user brings) without changing the module. The vectors live in the critic's model state under
"spectral" (a dict from a leaf's path to its u), so they are checkpointed with the run, resumed
bitwise, and identical on every device (each device iterates from the same W and u).

References:
  Miyato, Kataoka, Koyama & Yoshida, "Spectral Normalization for Generative Adversarial
  Networks", ICLR 2018, arXiv:1802.05957, §2.1 and Algorithm 1.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import jax
import jax.numpy as jnp

COLLECTION = "spectral"
_EPS = 1e-12


def _path(path) -> str:
  return "/".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)


def _normalise(v: jax.Array) -> jax.Array:
  return v / (jnp.linalg.norm(v) + _EPS)


def _matrix(w: jax.Array) -> jax.Array:
  return w.reshape(-1, w.shape[-1])


def init_vectors(params: Any, key: jax.Array) -> Dict[str, jax.Array]:
  """The power iteration's starting vectors u ~ normalise(N(0, I)), one per weight leaf with
  two or more axes, keyed by the leaf's path ("Dense_0/kernel")."""
  out = {}
  leaves = jax.tree_util.tree_flatten_with_path(params)[0]
  for i, (path, w) in enumerate(leaves):
    if jnp.ndim(w) >= 2:
      u = jax.random.normal(jax.random.fold_in(key, i), (w.shape[-1],), jnp.float32)
      out[_path(path)] = _normalise(u)
  return out


def power_iteration(w: jax.Array, u: jax.Array) -> Tuple[jax.Array, jax.Array, jax.Array]:
  """One power-iteration step on the matrix of `w` from `u`: (σ, u_new, v), with u and v
  treated as constants for the gradient, σ = vᵀ W u_new differentiable in W."""
  m = _matrix(w)
  m_const = jax.lax.stop_gradient(m)
  v = _normalise(m_const @ u)
  u_new = jax.lax.stop_gradient(_normalise(m_const.T @ v))
  v = jax.lax.stop_gradient(v)
  sigma = v @ m @ u_new
  return sigma, u_new, v


def normalise(params: Any, vectors: Dict[str, jax.Array]) -> Tuple[Any, Dict[str, jax.Array]]:
  """(params with every weight leaf divided by its σ, the updated vectors).

  Leaves with fewer than two axes (biases, LayerNorm scales) are left as they are.
  """
  new_vectors = {}

  def one(path, w):
    name = _path(path)
    if name not in vectors:
      return w
    sigma, u_new, _ = power_iteration(w, vectors[name])
    new_vectors[name] = u_new
    return w / sigma.astype(w.dtype)

  out = jax.tree_util.tree_map_with_path(one, params)
  return out, new_vectors


def sigmas(params: Any, vectors: Dict[str, jax.Array]) -> Dict[str, jax.Array]:
  """σ(W) of each normalised leaf, as estimated from the stored vectors (for monitoring)."""
  flat = {_path(p): w for p, w in jax.tree_util.tree_flatten_with_path(params)[0]}
  return {name: power_iteration(flat[name], u)[0] for name, u in vectors.items()}
