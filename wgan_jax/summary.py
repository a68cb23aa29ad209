"""Metric writers: JSON lines, TensorBoard event files through tensorboardX, and the console's
progress bar, behind one protocol (`MetricWriter`, CLU's `write_scalars(step, scalars)`).

`TensorBoardWriter` wraps tensorboardX's `SummaryWriter` (event files without TensorFlow); it is
imported when the first writer is made, so the rest of the library does not need tensorboardX.
`MultiWriter` sends the same scalars to several writers, `Prefixed` renames them on the way.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Callable, Dict, Mapping, Optional, Protocol, Sequence


class MetricWriter(Protocol):
  """What the training loop writes its losses and evaluations through."""

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    """Record `scalars` at generator iteration `step`."""

  def close(self) -> None:
    """Flush and release the writer's file."""


class TensorBoardWriter:
  """Scalars to a TensorBoard event file in `logdir`, through tensorboardX's `SummaryWriter`.

  tensorboardX writes the events from a background thread and flushes the file at least every
  `flush_secs` seconds; `close()` writes and flushes the rest. Non-finite values are left out.

  Args:
    logdir: the folder of the event files; made if missing.
    flush_secs: the longest a written scalar waits before it reaches the file.
  """

  def __init__(self, logdir: str, *, flush_secs: float = 1.0):
    from tensorboardX import SummaryWriter
    os.makedirs(logdir, exist_ok=True)
    self.logdir = logdir
    self._writer = SummaryWriter(logdir=logdir, flush_secs=flush_secs)

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    """Writes each finite number of `scalars` under its name at `step` (other values, such as
    a list of per-mode counts, are not scalars and are left out)."""
    for tag, v in scalars.items():
      if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        self._writer.add_scalar(tag, float(v), global_step=int(step))

  scalars = write_scalars

  def close(self) -> None:
    self._writer.close()


def read_jsonl(path: str) -> list:
  """The records of a JSON-lines log. A last line that does not parse is what a stop in the
  middle of a write leaves, and is dropped; any other line that does not parse is damage.

  Raises:
    ValueError: "path: line N is not JSON ...", naming the file.
  """
  with open(path) as f:
    lines = [(i + 1, line) for i, line in enumerate(f) if line.strip()]
  out = []
  for k, (n, line) in enumerate(lines):
    try:
      out.append(json.loads(line))
    except json.JSONDecodeError:
      if k == len(lines) - 1 and not line.endswith("\n"):
        break   # a half-written last record
      raise ValueError(f"{path}: line {n} is not JSON (the log is damaged; move the file "
                       "away to resume without it)") from None
  return out


class JsonlWriter:
  """One JSON object per line; on resume, lines past the resumed iteration are dropped."""

  def __init__(self, path: str, resume_from: int | None = None):
    self.path = path
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if resume_from is not None and os.path.exists(path):
      kept = [r for r in read_jsonl(path) if r.get("iteration", 0) <= resume_from]
      with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    elif resume_from is None and os.path.exists(path):
      os.unlink(path)
    self._f = open(path, "a")

  def write(self, record: Dict) -> None:
    clean = {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
             for k, v in record.items()}
    self._f.write(json.dumps(clean) + "\n")
    self._f.flush()

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    """One line {"iteration": step, **scalars} (a non-finite float written as null)."""
    self.write(dict(iteration=step, **scalars))

  def close(self) -> None:
    self._f.close()


class Prefixed:
  """A writer that renames every scalar `prefix + name` on its way to `writer` (e.g. the
  evaluations as eval/NAME in TensorBoard, beside the losses)."""

  def __init__(self, prefix: str, writer: MetricWriter):
    self.prefix, self.writer = prefix, writer

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    self.writer.write_scalars(step, {self.prefix + k: v for k, v in scalars.items()})

  def close(self) -> None:   # the wrapped writer is closed by its owner
    pass


class MultiWriter:
  """The same scalars to each of `writers`; `close` closes them all."""

  def __init__(self, writers: Sequence[MetricWriter]):
    self.writers = list(writers)

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    for w in self.writers:
      w.write_scalars(step, scalars)

  def close(self) -> None:
    for w in self.writers:
      w.close()


class ProgressWriter:
  """The console: a tqdm progress bar of the generator iterations, its postfix the latest
  losses (`show` picks and formats them, e.g. {"d": "0.123"})."""

  def __init__(self, total: int, initial: int,
               show: Optional[Callable[[Mapping], Dict[str, str]]] = None, file=None):
    from tqdm import tqdm
    self._bar = tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True,
                     file=file or sys.stderr)
    self._show = show or (lambda s: {k: f"{v:.3f}" for k, v in s.items()})
    self._step = initial

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    self._bar.update(step - self._step)
    self._step = step
    self._bar.set_postfix(self._show(scalars), refresh=False)

  def close(self) -> None:
    self._bar.close()
