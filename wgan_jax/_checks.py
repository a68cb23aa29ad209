"""Argument checks at the library's boundary, run at trace time.

The checks of chex (`chex.assert_rank`, `chex.assert_type`, ...) raise `AssertionError`; these
raise a `wgan_jax.ConfigError` (a `ValueError`) whose message starts with the name of the
argument at fault, as the config's errors do. They read only static facts (Python values, shapes
and dtypes), never an array's contents, so inside `jit`, `vmap` or `pmap` they run once, when the
function is traced, and add nothing to the compiled program.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NoReturn, Optional

import jax
import jax.numpy as jnp

from wgan_jax.errors import ConfigError


def fail(name: str, message: str) -> NoReturn:
  """Raise a `ConfigError` naming the argument `name`."""
  raise ConfigError(name, message)


def _kind(x: Any) -> str:
  if hasattr(x, "dtype") and hasattr(x, "shape"):
    return f"an array of dtype {x.dtype} and shape {tuple(x.shape)}"
  return f"{x!r} (a {type(x).__name__})"


def check_array(name: str, x: Any, *, rank: Optional[int] = None, min_rank: int = 1,
                batch: bool = True, what: str = "a batch [B, ...]") -> None:
  """`x` is a floating-point array of the given rank (or at least `min_rank`), and, when
  `batch`, its leading (batch) axis is not empty.

  Raises:
    ConfigError: naming `name`, for a non-array (Python number, list, string), a scalar or an
      array of the wrong rank, an empty batch, or an integer, boolean or complex dtype.
  """
  if not (hasattr(x, "shape") and hasattr(x, "dtype")):
    fail(name, f"must be {what} (a floating-point array), got {_kind(x)}")
  shape = tuple(x.shape)
  if rank is not None and len(shape) != rank:
    got = "a scalar (shape ())" if not shape else f"shape {shape}"
    fail(name, f"must be {what}, got {got}")
  if len(shape) < min_rank:
    fail(name, f"must be {what}, got a scalar (shape ())")
  if batch and shape and shape[0] == 0:
    fail(name, f"must hold at least one example, got an empty batch (shape {shape})")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    fail(name, f"must be a floating-point array, got dtype {x.dtype}")


def check_same_shape(name: str, x: Any, other_name: str, other: Any) -> None:
  """`x` has the shape of `other` (both arrays)."""
  if tuple(x.shape) != tuple(other.shape):
    fail(name, f"{other_name} and {name} batches must have the same shape, got "
         f"{tuple(other.shape)} and {tuple(x.shape)}")


def _is_bool(value: Any) -> bool:
  return isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype == bool)


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = False,
                 traced_ok: bool = True) -> None:
  """`value` is a finite real number ≥ `minimum` (> `minimum` when `strict`).

  Python and NumPy numbers are checked by value. A JAX array (a schedule's value, a traced
  scalar) is only checked for being a real scalar when `traced_ok`: its value may be unknown at
  trace time; with `traced_ok=False` it must be concrete, and its value is checked too.

  Raises:
    ConfigError: naming `name`, for a string, None, a boolean, a complex or non-scalar value, a
      NaN or infinity, or a value out of range.
  """
  relation = ">" if strict else "≥"
  need = f"a finite number {relation} {minimum:g}"
  if _is_bool(value) or isinstance(value, (str, bytes)) or value is None:
    fail(name, f"must be {need}, got {value!r} (a {type(value).__name__})")
  if isinstance(value, jax.Array):
    if value.shape != () or not (jnp.issubdtype(value.dtype, jnp.floating)
                                 or jnp.issubdtype(value.dtype, jnp.integer)):
      fail(name, f"must be {need}, got {_kind(value)}")
    if traced_ok:
      return  # its value may be unknown (traced), and reading it would wait for the device
    if isinstance(value, jax.core.Tracer):
      fail(name, f"must be {need} known when the function is built, got a traced array")
  elif not isinstance(value, numbers.Real):
    if getattr(value, "shape", None) == () and hasattr(value, "dtype") and (
        jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)):
      pass  # a 0-d NumPy array
    else:
      fail(name, f"must be {need}, got {_kind(value)}")
  v = float(value)
  if not (math.isfinite(v) and (v > minimum if strict else v >= minimum)):
    fail(name, f"must be {need}, got {value!r}")


def check_count(name: str, value: Any, *, minimum: int = 1) -> None:
  """`value` is a Python (or NumPy) integer ≥ `minimum`, not a boolean.

  Raises:
    ConfigError: naming `name`, for a float, string, boolean, None or a smaller integer.
  """
  if _is_bool(value) or not isinstance(value, numbers.Integral):
    fail(name, f"must be an integer ≥ {minimum}, got {value!r} (a {type(value).__name__})")
  if value < minimum:
    fail(name, f"must be an integer ≥ {minimum}, got {value!r}")


def check_float_tree(name: str, tree: Any) -> None:
  """Every leaf of `tree` is a floating-point array (or number).

  Raises:
    ConfigError: naming `name`, for a leaf that is not (integer, boolean, complex, a string),
      with the leaf's path.
  """
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    where = jax.tree_util.keystr(path) or "the root"
    try:
      dtype = jnp.result_type(leaf)
    except TypeError:
      fail(name, f"every leaf must be a floating-point array, got {type(leaf).__name__} at "
           f"{where}")
    if not jnp.issubdtype(dtype, jnp.floating):
      fail(name, f"every leaf must be a floating-point array, got dtype {dtype} at {where}")


def check_same_tree(name: str, tree: Any, other_name: str, other: Any) -> None:
  """`tree` has the structure and leaf shapes of `other` (an optax update and its params).

  Raises:
    ConfigError: naming `name`, with the first path where they differ.
  """
  a = jax.tree_util.tree_flatten_with_path(tree)
  b = jax.tree_util.tree_flatten_with_path(other)
  if a[1] != b[1]:
    paths = lambda t: {jax.tree_util.keystr(p) for p, _ in t[0]}
    diff = sorted(paths(a) ^ paths(b))
    fail(name, f"must have the tree structure of {other_name}, got another one"
         + (f" (first difference at {diff[0] or 'the root'})" if diff else
            f" ({_kind(tree) if not a[0] or not a[0][0][0] else 'other node types'})"))
  for (path, x), (_, y) in zip(a[0], b[0]):
    if tuple(getattr(x, "shape", ())) != tuple(getattr(y, "shape", ())):
      fail(name, f"leaf {jax.tree_util.keystr(path)} has shape {tuple(getattr(x, 'shape', ()))}"
           f"; in {other_name} it has {tuple(getattr(y, 'shape', ()))}")


def check_key(name: str, key: Any) -> None:
  """`key` is one PRNG key: a typed key array of shape () (`jax.random.key`), or a raw
  unsigned-integer key (`jax.random.PRNGKey`, shape (2,) for threefry).

  Raises:
    ConfigError: naming `name`, for a Python number, a float or signed array, or a batch of
      keys (with the hint to split or index it).
  """
  shape, dtype = getattr(key, "shape", None), getattr(key, "dtype", None)
  if shape is None or dtype is None:
    fail(name, f"must be a PRNG key (jax.random.key(seed)), got {_kind(key)}")
  if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
    if tuple(shape) != ():
      fail(name, f"must be one PRNG key, got a batch of keys of shape {tuple(shape)} (index or "
           "fold it to one key)")
    return
  if not jnp.issubdtype(dtype, jnp.unsignedinteger) or len(shape) != 1:
    fail(name, f"must be a PRNG key (jax.random.key(seed)), got {_kind(key)}")
