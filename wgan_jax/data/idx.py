"""MNIST-format IDX files: the reader, and Fashion-MNIST / MNIST as image arrays.

The IDX format (LeCun et al., "The MNIST database", yann.lecun.com/exdb/mnist) is a 4-byte
magic number, 0x00 0x00 <type> <rank>, then `rank` big-endian uint32 sizes, then the values in
row-major order, big-endian. The type byte gives the dtype:

  0x08 uint8 · 0x09 int8 · 0x0B int16 · 0x0C int32 · 0x0D float32 · 0x0E float64

MNIST and Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747) ship as four such files,
usually gzipped: {train,t10k}-images-idx3-ubyte (uint8 [N, 28, 28]) and
{train,t10k}-labels-idx1-ubyte (uint8 [N]); 60,000 training and 10,000 test examples. Debian's
`dataset-fashion-mnist` package installs Fashion-MNIST's in `FASHION_MNIST_DIR`, so no download
is needed at run time.
"""

from __future__ import annotations

import gzip
import os
import zlib
from typing import Optional, Tuple

import numpy as np

from wgan_jax.errors import ConfigError

# Debian's `dataset-fashion-mnist` package (`dpkg -L dataset-fashion-mnist`).
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
INSTALL_HINT = "apt-get update && apt-get install dataset-fashion-mnist"

# IDX type byte -> big-endian dtype.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# split -> the file-name prefix MNIST's files use.
SPLITS = {"train": "train", "test": "t10k"}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str) -> bytes:
  """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
  if not os.path.isfile(path):
    raise ConfigError("path", f"{path} is not a file")
  with open(path, "rb") as f:
    raw = f.read()
  if raw[:2] != _GZIP_MAGIC:
    return raw
  try:
    return gzip.decompress(raw)
  except (OSError, EOFError, zlib.error) as e:
    raise ConfigError("path", f"{path}: corrupt or truncated gzip data ({e})") from None


def load_idx(path: str) -> np.ndarray:
  """The array stored in an IDX file (MNIST's format), gzipped or not.

  Args:
    path: the file; gzip is recognised by its magic bytes, not by the name.

  Returns:
    The array, shape as the header says, in the header's dtype (native byte order): uint8 for
    MNIST's images [N, 28, 28] and labels [N].

  Raises:
    ValueError: one line naming `path` and the file: not a file, a corrupt or truncated gzip
      stream, a bad magic number (first two bytes not zero, unknown type byte, rank 0), a
      header cut short, or data shorter or longer than the header's sizes say.
  """
  data = _read_bytes(path)
  if len(data) < 4:
    raise ConfigError("path", f"{path}: {len(data)} bytes, too short for an IDX magic number")
  zero, code, rank = data[:2], data[2], data[3]
  if zero != b"\x00\x00":
    raise ConfigError("path", f"{path}: not an IDX file (magic number {data[:4].hex()} does not "
                     "start with 0000)")
  if code not in IDX_DTYPES:
    raise ConfigError("path", f"{path}: unknown IDX type byte 0x{code:02x} (known: "
                     f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
  if rank == 0:
    raise ConfigError("path", f"{path}: IDX rank 0 (the magic number gives no dimensions)")
  header = 4 + 4 * rank
  if len(data) < header:
    raise ConfigError("path", f"{path}: truncated header ({len(data)} bytes, rank {rank} needs "
                     f"{header})")
  shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=rank, offset=4))
  dtype = np.dtype(IDX_DTYPES[code])
  expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
  got = len(data) - header
  if got != expected:
    what = "truncated" if got < expected else "extra bytes after the data"
    raise ConfigError("path", f"{path}: {what}: {got} data bytes, the header's shape "
                     f"{list(shape)} of {dtype.name} needs {expected}")
  return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: str, name: str) -> Optional[str]:
  for candidate in (name + ".gz", name):
    path = os.path.join(directory, candidate)
    if os.path.isfile(path):
      return path
  return None


def load_fashion_mnist(directory: Optional[str] = None,
                       split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
  """Fashion-MNIST (or any MNIST-format IDX data set) as images in [-1, 1] and labels.

  Reads `{prefix}-images-idx3-ubyte[.gz]` and `{prefix}-labels-idx1-ubyte[.gz]` (prefix "train"
  or "t10k"), the file names of both Fashion-MNIST and MNIST, so a folder holding MNIST's own
  files reads MNIST the same way.

  Args:
    directory: the folder holding the files; None reads Debian's `dataset-fashion-mnist`
      package (`FASHION_MNIST_DIR`).
    split: "train" (60,000 examples for (Fashion-)MNIST) or "test" (10,000).

  Returns:
    (images, labels): images float32 [N, H, W, 1] (28×28 for (Fashion-)MNIST), the 0..255 grey
    levels v as v / 127.5 − 1; labels int32 [N] (0..9).

  Raises:
    ValueError: one line naming the argument to fix: `split` unknown; `directory` holding no
      such files (saying how to install the Debian package); or, naming `path`, a malformed
      file (see `load_idx`), images that are not uint8 [N, H, W], labels that are not [N], or
      image and label counts that differ.
  """
  if split not in SPLITS:
    raise ConfigError("split", f"must be one of {list(SPLITS)}, got {split!r}")
  folder = FASHION_MNIST_DIR if directory is None else directory
  prefix = SPLITS[split]
  names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
  paths = [_find(folder, n) for n in names]
  if None in paths:
    missing = names[paths.index(None)]
    where = ("Fashion-MNIST is not installed" if directory is None else
             f"no MNIST-format IDX files in {folder}")
    raise ConfigError(
        "directory", f"{where} ({missing}[.gz] not found in {folder}); install Debian's package "
        f"with `{INSTALL_HINT}` (files in {FASHION_MNIST_DIR}), or pass directory= a folder "
        "holding train-/t10k-images-idx3-ubyte[.gz] and train-/t10k-labels-idx1-ubyte[.gz]")
  images, labels = load_idx(paths[0]), load_idx(paths[1])
  if images.ndim != 3 or images.dtype != np.uint8:
    raise ConfigError("path", f"{paths[0]}: expected uint8 images [N, H, W], got {images.dtype} "
                     f"{list(images.shape)}")
  if labels.ndim != 1:
    raise ConfigError("path", f"{paths[1]}: expected labels [N], got shape {list(labels.shape)}")
  if len(images) == 0:
    raise ConfigError("path", f"{paths[0]}: holds no images (an IDX file of shape "
                     f"{list(images.shape)})")
  if len(images) != len(labels):
    raise ConfigError("path", f"{paths[1]}: {len(labels)} labels for the {len(images)} images of "
                     f"{paths[0]}")
  x = images.astype(np.float32)[..., None]
  x /= np.float32(127.5)
  x -= np.float32(1.0)
  return x, labels.astype(np.int32)
