"""Side effects shared by the experiments: output folders, JSON, progress, saving state."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import resource
import sys
import tempfile
from typing import Any, NoReturn

import numpy as np


def to_jsonable(obj: Any) -> Any:
  """numpy/JAX scalars and arrays to plain Python; non-finite floats to None (JSON has no NaN)."""
  if isinstance(obj, dict):
    return {str(k): to_jsonable(v) for k, v in obj.items()}
  if isinstance(obj, (list, tuple)):
    return [to_jsonable(v) for v in obj]
  if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
    return to_jsonable(np.asarray(obj).tolist())
  if isinstance(obj, float):
    return obj if math.isfinite(obj) else None
  return obj


def content_hash(*items) -> str:
  """SHA-256 (first 16 hex digits) of arrays' dtypes, shapes and bytes, or of files' bytes
  (a str item is a path): what a resumed run checks its data against."""
  h = hashlib.sha256()
  for item in items:
    if isinstance(item, str):
      with open(item, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
          h.update(block)
    else:
      a = np.ascontiguousarray(item)
      h.update(f"{a.dtype}{a.shape}".encode())
      h.update(a.tobytes())
  return h.hexdigest()[:16]


def atomic_write_bytes(path: str, data: bytes) -> None:
  """Write to a temporary file in the same folder, then rename: never a half-written file."""
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


_NUMBER_LIST = re.compile(r"\[(?:\s*(?:-?\d[\d.eE+-]*|null),)*\s*(?:-?\d[\d.eE+-]*|null)\s*\]")


def write_json(path: str, obj: Any, *, compact_lists: bool = False) -> None:
  """`obj` as indented JSON, atomically (non-finite floats as null). compact_lists: a list of
  plain numbers goes on one line (a figure's curves and images: one line per number would
  make them many times longer)."""
  text = json.dumps(to_jsonable(obj), indent=1, allow_nan=False)
  if compact_lists:
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(m.group(0)[1:-1].split()).replace(
        ",,", ",") + "]", text)
  atomic_write_bytes(path, text.encode())


def save_npy(path: str, array) -> None:
  buf = io.BytesIO()
  np.save(buf, np.asarray(array))
  atomic_write_bytes(path, buf.getvalue())


def fail(message: str, code: int = 2) -> NoReturn:
  """One-line error to stderr and exit: the only way experiments report bad input."""
  print(f"error: {message}", file=sys.stderr)
  raise SystemExit(code)


def cpu_seconds(children: bool = False) -> float:
  """CPU seconds (user + system) of this process, and of its finished children with
  `children`: on a shared machine, about an upper bound of the wall-clock time the same
  compute-bound work takes on idle cores (÷ the cores it keeps busy)."""
  who = [resource.RUSAGE_SELF] + ([resource.RUSAGE_CHILDREN] if children else [])
  return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, who))


def matplotlib_pyplot():
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  return plt
