"""Checkpoints with orbax: atomic, the last k kept, refused when they do not match the run.

Each checkpoint holds the state pytree (`StandardSave`) and a JSON item with the run's
fingerprint (everything that defines the state's structure and the run's numbers: objective,
hyper-parameters, model sizes, data set, seed) and any extra information (the iteration, the
wall-clock seconds). orbax writes each step into a temporary folder and renames it when complete,
so an interrupted save is never taken for a checkpoint; on several hosts every process calls
`save` and orbax coordinates the writes.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

import jax
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
  """A checkpoint that cannot be used: another configuration, or damaged."""


class Checkpointer:
  """Save and restore a run's state in `directory`, keeping the last `max_to_keep`."""

  def __init__(self, directory: str, fingerprint: Dict[str, Any], *, max_to_keep: int = 3):
    self.directory = os.path.abspath(directory)
    self.fingerprint = jsonable(fingerprint)
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=False),
        item_names=("state", "meta"))

  def latest_step(self) -> Optional[int]:
    return self.manager.latest_step()

  def save(self, step: int, state: Any, extra: Optional[Dict[str, Any]] = None) -> None:
    meta = dict(fingerprint=self.fingerprint, **jsonable(extra or {}))
    self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                    meta=ocp.args.JsonSave(meta)), force=True)
    self.manager.wait_until_finished()

  def restore(self, abstract_state: Any, step: Optional[int] = None) -> Tuple[Any, Dict]:
    """The state at `step` (default: the latest) and its JSON item.

    Raises:
      CheckpointError: no checkpoint in `directory`; a fingerprint that differs from this
        run's (naming each differing field); or files that cannot be read as the expected state.
    """
    step = self.latest_step() if step is None else step
    if step is None:
      raise CheckpointError(f"directory: no checkpoint in {self.directory}")
    where = f"checkpoint at step {step} in {self.directory}"
    try:
      meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
      meta = meta["meta"]
    except Exception as e:  # orbax raises many types for unreadable files
      raise CheckpointError(f"{where} is damaged (its metadata cannot be read: "
                            f"{type(e).__name__}: {str(e)[:200]})") from None
    theirs = meta.get("fingerprint", {}) if isinstance(meta, dict) else {}
    diffs = [f"{k}: checkpoint {theirs.get(k)!r}, this run {v!r}"
             for k, v in self.fingerprint.items() if theirs.get(k) != v]
    diffs += [f"{k}: checkpoint {v!r}, this run unset" for k, v in theirs.items()
              if k not in self.fingerprint]
    if diffs:
      raise CheckpointError(f"{where} comes from another configuration ("
                            + "; ".join(diffs) + "); restore with the same fingerprint, or "
                            "checkpoint this run in another directory")
    try:
      restored = self.manager.restore(
          step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state)))
    except Exception as e:
      raise CheckpointError(f"{where} is damaged (its state cannot be read: "
                            f"{type(e).__name__}: {str(e)[:200]})") from None
    state = restored["state"]
    # Parameters must be finite (optimiser moments may legitimately overflow, e.g. Adam's ν
    # under optax.apply_if_finite with huge but finite gradients).
    params = {name: getattr(getattr(state, name, None), "params", None)
              for name in ("generator", "critic")}
    bad = [name + jax.tree_util.keystr(p)
           for name, tree in params.items() if tree is not None
           for p, x in jax.tree_util.tree_leaves_with_path(tree)
           if x.dtype.kind == "f" and not bool(jax.numpy.isfinite(x).all())]
    if bad:
      raise CheckpointError(f"{where} is damaged: non-finite values in {bad[:3]}")
    return state, meta

  def close(self) -> None:
    self.manager.close()


def jsonable(obj: Any) -> Any:
  """Plain JSON types (tuples to lists), so fingerprints compare equal after a round trip."""
  if isinstance(obj, dict):
    return {str(k): jsonable(v) for k, v in obj.items()}
  if isinstance(obj, (list, tuple)):
    return [jsonable(v) for v in obj]
  if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
    return obj.item()
  return obj
