"""Checkpoints with orbax: atomic, the last k kept, refused when they do not match the run.

Each checkpoint holds the state pytree (`StandardSave`) and a JSON item with the run's
fingerprint (everything that defines the state's structure and the run's numbers: objective,
hyper-parameters, model sizes, data set, seed) and any extra information (the iteration, the
wall-clock seconds). orbax writes each step into a temporary folder and renames it when complete,
so an interrupted save is never taken for a checkpoint; on several hosts every process calls
`save` and orbax coordinates the writes.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
import warnings
from typing import Any, Dict, Iterable, Optional, Tuple

import jax
import orbax.checkpoint as ocp

from wgan_jax.errors import CheckpointError


# A save writes the arrays once, plus orbax's metadata; the old checkpoint stays until the new
# one is complete, so the free space must hold one state and a margin.
SPACE_FACTOR = 1.1
SPACE_MARGIN = 1 << 20


class _Damaged(CheckpointError):
  """One checkpoint's files cannot be used (an older one may still be intact)."""


def _flat(tree: Any, prefix: str = "") -> Dict[str, Any]:
  """Nested dicts as {"a.b": leaf}, so a refusal names the leaf field that differs."""
  if not isinstance(tree, dict):
    return {prefix: tree}
  out: Dict[str, Any] = {}
  for k, v in tree.items():
    out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
  return out


# Fingerprint fields added after checkpoints were first written, with the value every
# checkpoint without them was written with: such a checkpoint resumes a run at that value (a
# new option at its old behaviour is not "another configuration").
LATER_FIELDS = {"config.compute_dtype": "float32", "config.rmsprop_eps": 1e-8,
                "config.rmsprop_eps_in_sqrt": True, "config.rmsprop_initial_scale": 0.0}


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
    """Save `state` at `step`. A state held on this process's devices is saved as host
    arrays, so the checkpoint records no device layout and resumes on any device count (a
    2-device pmap run's checkpoint used to be unreadable on 1 device, reported as damage)."""
    leaves = jax.tree_util.tree_leaves(state)
    if jax.process_count() == 1 and all(getattr(x, "is_fully_addressable", True)
                                        for x in leaves):
      state = jax.device_get(state)  # several processes: orbax coordinates jax.Arrays
    meta = dict(fingerprint=self.fingerprint, **jsonable(extra or {}))
    self._check_space(leaves)
    try:
      self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                      meta=ocp.args.JsonSave(meta)), force=True)
      self.manager.wait_until_finished()
    except Exception as e:
      if "No space left" in str(e) or getattr(e, "errno", None) == errno.ENOSPC:
        raise CheckpointError(f"{self.directory}: the disk filled up while saving step {step} "
                              f"({self._kept()})") from None
      raise

  def _kept(self) -> str:
    steps = self.all_steps()
    return (f"the last complete checkpoint, step {steps[-1]}, is kept: free space, then "
            "--resume" if steps else "no checkpoint was complete yet: free space and run again")

  def _check_space(self, leaves) -> None:
    """Refuse to start a save that cannot fit: orbax's writer threads would fail with pages of
    tracebacks (a full disk was a wall of asyncio errors before the one-line message)."""
    need = sum(int(getattr(x, "nbytes", 0)) for x in leaves) * SPACE_FACTOR + SPACE_MARGIN
    free = shutil.disk_usage(self.directory).free
    if free < need:
      raise CheckpointError(f"{self.directory}: the disk has {free / 2 ** 20:.1f} MiB free and "
                            f"a checkpoint of this state needs about {need / 2 ** 20:.1f} MiB "
                            f"({self._kept()})")

  def all_steps(self):
    return sorted(self.manager.all_steps())

  def restore(self, abstract_state: Any, step: Optional[int] = None, *,
              may_change: Iterable[str] = ()) -> Tuple[Any, Dict]:
    """The state at `step` (default: the newest intact one) and its JSON item.

    A checkpoint whose files cannot be read, or whose parameters are not finite, is damaged:
    without `step`, the newest intact older checkpoint is restored instead, with a warning
    (`meta["skipped_damaged"]` lists what was passed over). Fingerprint fields named in
    `may_change` (dotted paths, e.g. "config.lr_d", "iters") may differ: the differences are
    returned in `meta["changed"]` as "field: checkpoint value -> this run's value" lines.

    Raises:
      CheckpointError: no checkpoint in `directory`; a fingerprint that differs from this
        run's in a field not in `may_change` (naming each differing field with both values);
        or no intact checkpoint at all.
    """
    steps = [step] if step is not None else self.all_steps()[::-1]
    if not steps:
      raise CheckpointError(f"directory: no checkpoint in {self.directory}")
    damaged, damaged_steps = [], []
    for s in steps:
      try:
        state, meta = self._restore_one(abstract_state, s, may_change)
      except _Damaged as e:
        damaged.append(str(e))
        damaged_steps.append(s)
        continue
      if damaged:
        aside = self._set_aside(damaged_steps)
        msg = (f"the newest checkpoint(s) are damaged ({'; '.join(damaged)}); resuming from "
               f"the newest intact one, step {s} (the damaged ones are kept in {aside})")
        warnings.warn(msg, stacklevel=2)
        meta["skipped_damaged"] = damaged
      return state, meta
    raise CheckpointError("; ".join(damaged) + ("" if step is not None else
                                                "; no intact checkpoint is left"))

  def _set_aside(self, steps) -> str:
    """Move damaged steps out of the manager's folder (so the run can save those steps
    again), into `<directory>-damaged/`; returns that folder."""
    aside = self.directory.rstrip("/") + "-damaged"
    os.makedirs(aside, exist_ok=True)
    for step in steps:
      src = os.path.join(self.directory, str(step))
      if os.path.isdir(src):
        os.replace(src, os.path.join(aside, f"{step}-{int(time.time())}"))
    self.manager.reload()
    return aside

  def _restore_one(self, abstract_state, step, may_change):
    where = f"checkpoint at step {step} in {self.directory}"
    try:
      meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
      meta = dict(meta["meta"])
    except Exception as e:  # orbax raises many types for unreadable files
      raise _Damaged(f"{where} is damaged (its metadata cannot be read: "
                     f"{type(e).__name__})") from None
    ours, theirs = _flat(self.fingerprint), _flat(meta.get("fingerprint", {}))
    allowed = tuple(may_change)
    diffs, changed = [], []
    for k in sorted(set(ours) | set(theirs)):
      a, b = theirs.get(k, "unset"), ours.get(k, "unset")
      if a == b or (k not in theirs and k in LATER_FIELDS and LATER_FIELDS[k] == b):
        continue   # (a field added since the checkpoint, at the value it was written with)
      line = f"{k}: checkpoint {a!r}, this run {b!r}"
      (changed if any(k == m or k.startswith(m + ".") for m in allowed) else diffs).append(line)
    if diffs:
      raise CheckpointError(f"{where} comes from another configuration ("
                            + "; ".join(diffs) + "); resume with the same options, or "
                            "checkpoint this run in another directory")
    try:
      restored = self.manager.restore(
          step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state)))
    except Exception as e:
      raise _Damaged(f"{where} is damaged (its state cannot be read: "
                     f"{type(e).__name__})") from None
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
      raise _Damaged(f"{where} is damaged: non-finite values in {bad[:3]}")
    meta["changed"] = changed
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
