"""Tensors saved by `torch.save`, read without torch: a state dict as NumPy arrays.

PyTorch writes two formats (torch/serialization.py):

  - zip (torch ≥ 1.6, the default): a zip archive `<root>/data.pkl` (the pickled object),
    `<root>/data/<key>` (the raw bytes of each storage), `<root>/byteorder` ("little" or
    "big"; little when absent) and `<root>/version`. Inside the pickle a tensor is the call
    `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    backward_hooks[, metadata])`, and each storage a persistent id
    `("storage", <dtype class such as torch.FloatStorage>, key, location, numel)`.
  - legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row
    (magic number 0x1950a86a20f9469cfc6c, protocol version 1001, system info, the object, the
    list of storage keys), then each storage in that order as an int64 element count followed
    by its raw bytes (little-endian). Its persistent ids are
    `("storage", <dtype class>, root_key, location, numel, view_metadata)`.

Only what a state dict holds is rebuilt: dicts (OrderedDict), tensors of the plain dtypes,
parameters. Every other global the pickle names is refused, so reading a file never runs code
from it (unlike `pickle.load`).
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any, Dict

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch's typed storage classes -> NumPy dtype (little-endian; swapped per the byteorder record).
STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?", "UntypedStorage": "u1",
}


class TorchFileError(ValueError):
  """A file that is not a readable `torch.save` state dict (the message says why)."""


class _StorageType:
  """The placeholder the pickle gets for `torch.<Name>Storage`: just its dtype."""

  def __init__(self, name: str):
    self.name = name
    self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
  """A storage's bytes (filled in later for the legacy format) viewed as its dtype."""

  def __init__(self, dtype: np.dtype, numel: int):
    self.dtype, self.numel = dtype, numel
    self.array: np.ndarray | None = None


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
  """The tensor torch._utils._rebuild_tensor_v2 makes, as a (lazy) NumPy view: filled in
  once every storage has been read (the legacy format stores them after the pickle)."""
  del requires_grad, backward_hooks, metadata
  return _Lazy(storage, int(storage_offset), tuple(int(s) for s in size),
               tuple(int(s) for s in stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *state):
  del requires_grad, backward_hooks, state
  return data


class _Lazy:
  """A tensor to cut out of its storage once the storage's bytes are known."""

  def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
    self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

  def resolve(self) -> np.ndarray:
    flat = self.storage.array
    if flat is None:
      raise TorchFileError("a tensor's storage has no data in the file")
    if any(s < 0 for s in self.size) or any(s < 0 for s in self.stride):
      raise TorchFileError(f"negative size or stride {self.size} / {self.stride}")
    last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride) if n > 0)
    if 0 in self.size:
      return np.zeros(self.size, flat.dtype.newbyteorder("="))
    if self.offset < 0 or last >= len(flat):
      raise TorchFileError(f"a tensor of size {self.size} reaches past its storage of "
                           f"{len(flat)} elements")
    view = np.lib.stride_tricks.as_strided(
        flat[self.offset:], self.size, tuple(s * flat.itemsize for s in self.stride),
        writeable=False)
    return np.array(view, dtype=flat.dtype.newbyteorder("="), order="C")  # ndim 0 stays 0


# The only globals a state dict's pickle may name (module, name) -> what to build.
_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
  """pickle.Unpickler that knows torch's storages and refuses every other global."""

  def __init__(self, file, storages: Dict[str, _Storage], legacy: bool):
    super().__init__(file, encoding="latin1" if legacy else "ASCII")
    self.storages, self.legacy = storages, legacy

  def find_class(self, module: str, name: str):
    if module == "torch" and name in STORAGE_DTYPES:
      return _StorageType(name)
    if (module, name) in _ALLOWED:
      return _ALLOWED[(module, name)]
    raise TorchFileError(f"the pickle names {module}.{name}, which a state dict does not hold "
                         "(refused: reading must not run code)")

  def persistent_load(self, pid):
    if not isinstance(pid, tuple) or not pid or _ascii(pid[0]) != "storage":
      raise TorchFileError(f"unknown persistent id {pid!r:.60}")
    if self.legacy:
      if len(pid) != 6:
        raise TorchFileError(f"legacy storage id of {len(pid)} fields, expected 6")
      _, stype, key, _, numel, view = pid
    else:
      if len(pid) != 5:
        raise TorchFileError(f"storage id of {len(pid)} fields, expected 5")
      _, stype, key, _, numel = pid
      view = None
    if not isinstance(stype, _StorageType):
      raise TorchFileError(f"storage of unknown type {stype!r:.60}")
    key = _ascii(key)
    if key not in self.storages:
      self.storages[key] = _Storage(stype.dtype, int(numel))
    storage = self.storages[key]
    if view is None:
      return storage
    view_key, offset, view_size = view  # a storage view (legacy only): a slice of the root
    return _View(storage, int(offset), int(view_size))


class _View(_Storage):
  """A legacy storage view: `view_size` elements of a root storage from `offset`."""

  def __init__(self, root: _Storage, offset: int, view_size: int):
    super().__init__(root.dtype, view_size)
    self.root, self.offset = root, offset

  @property
  def array(self):
    if self.root.array is None:
      return None
    return self.root.array[self.offset:self.offset + self.numel]

  @array.setter
  def array(self, value):
    pass


def _ascii(v) -> str:
  return v.decode("ascii") if isinstance(v, bytes) else str(v)


def _resolve(obj):
  """The loaded object with every lazy tensor replaced by its array."""
  if isinstance(obj, _Lazy):
    return obj.resolve()
  if isinstance(obj, dict):
    return type(obj)((k, _resolve(v)) for k, v in obj.items())
  if isinstance(obj, (list, tuple)):
    return type(obj)(_resolve(v) for v in obj)
  return obj


def _load_zip(path: str) -> Any:
  with zipfile.ZipFile(path) as z:
    names = z.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
      raise TorchFileError("a zip archive without one <root>/data.pkl (not a torch.save file)")
    root = pkl[0][:-len("data.pkl")]
    order = (z.read(root + "byteorder").decode("ascii").strip()
             if root + "byteorder" in names else "little")
    if order not in ("little", "big"):
      raise TorchFileError(f"unknown byteorder record {order!r}")
    storages: Dict[str, _Storage] = {}
    obj = _Unpickler(io.BytesIO(z.read(pkl[0])), storages, legacy=False).load()
    for key, s in storages.items():
      name = f"{root}data/{key}"
      if name not in names:
        raise TorchFileError(f"storage record {name} is missing")
      raw = z.read(name)
      dtype = s.dtype.newbyteorder("<" if order == "little" else ">")
      if len(raw) < s.numel * dtype.itemsize:
        raise TorchFileError(f"storage record {name}: {len(raw)} bytes, expected "
                             f"{s.numel * dtype.itemsize}")
      s.array = np.frombuffer(raw, dtype, count=s.numel)
  return _resolve(obj)


def _load_legacy(path: str) -> Any:
  with open(path, "rb") as f:
    try:
      magic = pickle.load(f)
    except Exception:  # noqa: BLE001 - any unpickling failure means "not this format"
      raise TorchFileError("neither a zip archive nor a legacy torch.save pickle") from None
    if magic != LEGACY_MAGIC:
      raise TorchFileError("neither a zip archive nor a legacy torch.save pickle (magic number "
                           f"{magic!r:.40})")
    protocol = pickle.load(f)
    if protocol != LEGACY_PROTOCOL:
      raise TorchFileError(f"legacy protocol version {protocol!r}, expected {LEGACY_PROTOCOL}")
    sys_info = pickle.load(f)
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", True):
      raise TorchFileError("a legacy file written on a big-endian machine (not supported)")
    storages: Dict[str, _Storage] = {}
    obj = _Unpickler(f, storages, legacy=True).load()
    keys = pickle.load(f)
    for key in keys:
      s = storages.get(_ascii(key))
      if s is None:
        raise TorchFileError(f"storage key {key!r} was never referenced")
      head = f.read(8)
      if len(head) != 8:
        raise TorchFileError("the file ends inside the storages (truncated)")
      (numel,) = struct.unpack("<q", head)
      raw = f.read(numel * s.dtype.itemsize)
      if numel != s.numel or len(raw) != numel * s.dtype.itemsize:
        raise TorchFileError(f"storage {key}: {numel} elements recorded, {s.numel} expected, "
                             f"{len(raw)} bytes read (truncated?)")
      s.array = np.frombuffer(raw, s.dtype, count=numel)
  return _resolve(obj)


def load(path: str) -> Any:
  """The object `torch.save` wrote to `path` (zip or legacy format), tensors as NumPy arrays.

  Args:
    path: a file written by `torch.save` holding a state dict (or any nest of dicts, lists and
      tensors of the dtypes in `STORAGE_DTYPES`).

  Returns:
    The object, every tensor an `np.ndarray` (native byte order, C-contiguous) of its dtype,
    shape and strides' values; parameters as their tensors.

  Raises:
    TorchFileError (a ValueError): why the file cannot be read: not a zip / legacy torch file,
      truncated, a global other than a tensor or a dict (refused), an unknown storage type.
    OSError: the file cannot be opened.
  """
  try:
    is_zip = zipfile.is_zipfile(path)
  except OSError:
    raise
  try:
    return _load_zip(path) if is_zip else _load_legacy(path)
  except TorchFileError:
    raise
  except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, TypeError,
          KeyError, AttributeError, IndexError, struct.error, UnicodeDecodeError) as e:
    raise TorchFileError(f"damaged torch file ({type(e).__name__}: {e})") from None
