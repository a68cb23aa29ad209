"""How JAX's threefry random draws compile on the CPU: straight-line code, the same bits.

JAX lowers each threefry2x32 hash (the default PRNG behind every `jax.random` draw) to XLA:CPU as
a while loop of 5 trips of 4 rounds (`use_rolled_loops=True` in
`jax/_src/random/threefry2x32.py`), and to every other backend as the 20 rounds written out. The
loop is a separate XLA computation that nothing fuses into, which costs the small models most:
the library draws one key per example (`wgan_jax.train.example_keys`, so sharded draws equal
one device's), more hashes than a plain loop. Measured on the toy WGAN-GP step at width 64
(docs/speed.md): the unrolled form runs faster and compiles faster.

`use_unrolled_threefry()` registers JAX's own unrolled lowering for the CPU as well. It changes
how the hash is compiled, not what it computes: every draw is bit for bit the same
(tests/test_rng.py compares them, and a whole training step, under both forms). `import wgan_jax`
turns it on; `use_unrolled_threefry(False)` restores JAX's CPU lowering. It applies to programs
compiled afterwards (a jitted function lowered before keeps its form), and to the whole process,
since the lowering table is JAX's.
"""

from __future__ import annotations

from typing import Optional

from jax.interpreters import mlir

try:   # JAX's private module of the hash (its place in jax 0.10); without it nothing changes
  from jax._src.random import threefry2x32 as _threefry
except ImportError:  # pragma: no cover - another JAX layout
  _threefry = None

_STATE = {"unrolled": False}


def _rules():
  """JAX's two lowerings of threefry2x32 (unrolled, CPU's rolled), or None where this JAX
  version does not have them where 0.10 keeps them (the draws then compile as JAX chooses)."""
  t = _threefry
  if t is None:
    return None  # pragma: no cover
  unrolled = getattr(t, "_threefry2x32_lowering_rule", None)
  rolled = getattr(t, "_threefry2x32_cpu_lowering_rule", None)
  if unrolled is None or rolled is None or not hasattr(t, "threefry2x32_p"):
    return None  # pragma: no cover
  return t.threefry2x32_p, unrolled, rolled


def use_unrolled_threefry(enabled: bool = True) -> Optional[bool]:
  """Compile threefry2x32 on the CPU as straight-line code (`enabled`) or as JAX's 5-trip loop.

  Returns the previous setting, or None where this JAX version lacks the two lowerings (nothing
  is changed then). Programs compiled before the call keep the form they were compiled with.
  """
  rules = _rules()
  if rules is None:
    return None
  prim, unrolled, rolled = rules
  previous = _STATE["unrolled"]
  mlir.register_lowering(prim, unrolled if enabled else rolled, platform="cpu")
  _STATE["unrolled"] = bool(enabled)
  return previous


def unrolled_threefry() -> bool:
  """Whether the CPU's threefry is compiled unrolled (`use_unrolled_threefry`)."""
  return _STATE["unrolled"]
