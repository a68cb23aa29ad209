"""Metric writers: JSON lines, and TensorBoard event files without TensorFlow.

The TensorBoard writer emits the TFRecord framing (length, masked CRC-32C of the length, data,
masked CRC-32C of the data) around hand-encoded `Event` protocol buffers carrying scalar
`Summary` values, which is all TensorBoard needs to plot scalars.
"""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import time
from typing import Dict, Iterable, Mapping

_CRC_TABLE = []
for _i in range(256):
  _c = _i
  for _ in range(8):
    _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
  _CRC_TABLE.append(_c)


def crc32c(data: bytes) -> int:
  """CRC-32C (Castagnoli), as TFRecord uses."""
  crc = 0xFFFFFFFF
  for b in data:
    crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
  return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
  crc = crc32c(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
  out = bytearray()
  while True:
    b = n & 0x7F
    n >>= 7
    if n:
      out.append(b | 0x80)
    else:
      out.append(b)
      return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
  return _varint((number << 3) | wire) + payload


def _length_delimited(number: int, payload: bytes) -> bytes:
  return _field(number, 2, _varint(len(payload)) + payload)


def encode_event(wall_time: float, step: int = 0, scalars: Mapping[str, float] = (),
                 file_version: str = "") -> bytes:
  """An `Event` proto: wall_time (1, double), step (2, int64), file_version (3) or summary (5)."""
  msg = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
  if file_version:
    msg += _length_delimited(3, file_version.encode())
  values = b"".join(
      _length_delimited(1, _length_delimited(1, tag.encode())
                        + _field(2, 5, struct.pack("<f", float(v))))
      for tag, v in dict(scalars).items())
  if values:
    msg += _length_delimited(5, values)
  return msg


def tfrecord(data: bytes) -> bytes:
  length = struct.pack("<Q", len(data))
  return (length + struct.pack("<I", _masked_crc(length)) + data
          + struct.pack("<I", _masked_crc(data)))


def read_tfrecords(path: str) -> Iterable[bytes]:
  """The records of a TFRecord file, checking both CRCs (for tests and tools)."""
  with open(path, "rb") as f:
    blob = f.read()
  pos = 0
  while pos < len(blob):
    length_bytes = blob[pos:pos + 8]
    (length,) = struct.unpack("<Q", length_bytes)
    (crc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
    if crc != _masked_crc(length_bytes):
      raise ValueError(f"{path}: bad length CRC at byte {pos}")
    data = blob[pos + 12:pos + 12 + length]
    (crc,) = struct.unpack("<I", blob[pos + 12 + length:pos + 16 + length])
    if crc != _masked_crc(data):
      raise ValueError(f"{path}: bad data CRC at byte {pos}")
    yield data
    pos += 16 + length


class TensorBoardWriter:
  """Scalars to `<logdir>/events.out.tfevents.<time>.<host>`, flushed on every write."""

  def __init__(self, logdir: str):
    os.makedirs(logdir, exist_ok=True)
    self.path = os.path.join(
        logdir, f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}")
    self._f = open(self.path, "ab")
    self._f.write(tfrecord(encode_event(time.time(), 0, file_version="brain.Event:2")))
    self._f.flush()

  def scalars(self, step: int, values: Mapping[str, float]) -> None:
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    self._f.write(tfrecord(encode_event(time.time(), int(step), finite)))
    self._f.flush()

  def close(self) -> None:
    self._f.close()


class JsonlWriter:
  """One JSON object per line; on resume, lines past the resumed iteration are dropped."""

  def __init__(self, path: str, resume_from: int | None = None):
    self.path = path
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if resume_from is not None and os.path.exists(path):
      with open(path) as f:
        kept = [line for line in f
                if line.strip() and json.loads(line).get("iteration", 0) <= resume_from]
      with open(path, "w") as f:
        f.writelines(kept)
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
