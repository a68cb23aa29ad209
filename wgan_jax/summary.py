"""Metric writers: JSON lines, and TensorBoard event files through tensorboardX.

`TensorBoardWriter` wraps tensorboardX's `SummaryWriter` (event files without TensorFlow); it is
imported when the first writer is made, so the rest of the library does not need tensorboardX.
"""

from __future__ import annotations

import json
import math
import os
from typing import Dict, Mapping


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

  def scalars(self, step: int, values: Mapping[str, float]) -> None:
    """Writes each finite value of `values` under its name at `step`."""
    for tag, v in values.items():
      if math.isfinite(v):
        self._writer.add_scalar(tag, float(v), global_step=int(step))

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

  def close(self) -> None:
    self._f.close()
