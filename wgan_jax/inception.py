"""The FID Inception network (TensorFlow's 2015-12-05 graph) in Flax, with its input pipeline.

This is the network behind the published FID, Inception score, KID and precision/recall numbers
(TTUR's `fid.py`, OpenAI's `inception_score.py`, pytorch-fid, torch-fidelity): Inception-v3
(Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
arXiv:1512.00567) as frozen in `inception-2015-12-05.tgz`, written layer for layer as
torch-fidelity's `FeatureExtractorInceptionV3` defines it (Obukhov et al., torch-fidelity,
github.com/toshas/torch-fidelity, v0.4.0), which in turn patches torchvision's blocks where the
graph differs from the paper:

  - the 3×3 average pools of Mixed_5b..5d, 6b..6e and 7b do not count the zero padding
    (TensorFlow's `avg_pool`: a border pixel averages over the 4 or 6 pixels that exist);
  - the pool branch of the last block (Mixed_7c) is a 3×3 MAX pool, stride 1, padding 1;
  - the classifier has 1008 outputs (1000 ImageNet classes and 8 unused);
  - BatchNorm is in inference mode only (running statistics), ε = 0.001.

Input pipeline (torch-fidelity's `forward`): uint8 RGB images → the dtype → TensorFlow 1's
bilinear resize to 299 × 299 (`resize_tf1`: align_corners=False, NO half-pixel centres) →
(x − 128) / 128 → the network. Outputs: pool3 (the 2048 features after the global average pool,
used by FID, KID and precision/recall) and the logits (IS uses `pool3 @ W` without the fc bias,
torch-fidelity's "logits_unbiased", as Salimans et al.'s own code).

The weights are the user's: torch-fidelity's `weights-inception-2015-12-05-6726825d.pth` or
pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (`load_weights`); nothing downloads. They
are read without torch (`wgan_jax.torch_file`) and cached once as .npz.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from typing import Any, Dict, Iterable, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from wgan_jax import torch_file
from wgan_jax.errors import ConfigError

INPUT_SIZE = 299
BN_EPSILON = 1e-3
FEATURES = 2048
LOGITS = 1008

# Where users get the weights (both hold the same graph's weights under the same names).
WEIGHT_SOURCES = (
    "torch-fidelity's weights-inception-2015-12-05-6726825d.pth (github.com/toshas/"
    "torch-fidelity/releases/download/v0.2.0/, also in ~/.cache/torch/hub/checkpoints after a "
    "torch-fidelity run) or pytorch-fid's pt_inception-2015-12-05-6726825d.pth (github.com/"
    "mseitzer/pytorch-fid/releases/download/fid_weights/)")

# The blocks whose outputs `InceptionV3` sows into "intermediates", in order (torch names).
BLOCKS = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1",
          "Conv2d_4a_3x3", "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
          "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")


# ---------------------------------------------------------------------------------------------
# Input: uint8 convention and TensorFlow 1's resize.

def to_uint8(images) -> np.ndarray:
  """The project's float images in [-1, 1] as the uint8 levels torch-fidelity expects.

  u = clip(⌊127.5 (x + 1) + 0.5⌋, 0, 255): round to nearest, ties up, so −1 → 0, 0 → 128 (the
  network's zero after (u − 128)/128) and 1 → 255. Levels saved by `v / 127.5 − 1` (the
  project's data loaders) come back exactly. Values outside [-1, 1] are clipped.
  """
  x = np.asarray(images, np.float64)
  return np.clip(np.floor(127.5 * (x + 1.0) + 0.5), 0, 255).astype(np.uint8)


def as_rgb_uint8(images, *, field: str = "images") -> np.ndarray:
  """[N, H, W, 3] uint8: uint8 passes; floats must lie in [-1, 1] (`to_uint8`); grey images
  ([N, H, W] or [N, H, W, 1]) are tiled to three channels, as torch-fidelity's
  `TransformPILtoRGBTensor` (PIL's convert("RGB") repeats L into R, G and B)."""
  x = np.asarray(images)
  if x.ndim == 3:
    x = x[..., None]
  if x.ndim != 4 or x.shape[-1] not in (1, 3) or min(x.shape[1:3], default=0) < 1:
    raise ConfigError(field, f"images must be [N, H, W], [N, H, W, 1] or [N, H, W, 3], got "
                      f"shape {x.shape}")
  if x.dtype != np.uint8:
    if not np.issubdtype(x.dtype, np.floating):
      raise ConfigError(field, f"images must be uint8 (0..255) or floats in [-1, 1], got {x.dtype}")
    if x.size and not (np.isfinite(x).all() and x.min() >= -1 - 1e-6 and x.max() <= 1 + 1e-6):
      raise ConfigError(field, f"float images must lie in [-1, 1], got [{np.nanmin(x):.4g}, "
                        f"{np.nanmax(x):.4g}] (non-finite values: {int((~np.isfinite(x)).sum())})")
    x = to_uint8(x)
  return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def resize_grid(in_size: int, out_size: int, dtype, *, half_pixel: bool = False
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Source indices (lo, hi) and weights of TensorFlow 1's bilinear resize along one axis.

  With align_corners=False TF1 maps output pixel i to source coordinate s = i · (in / out)
  (no half-pixel centre), lo = ⌊s⌋, hi = min(lo + 1, in − 1), weight s − lo. The arithmetic is
  torch-fidelity's (`interpolate_bilinear_2d_like_tensorflow1x`, method "slow") to the bit: the
  scale is rounded to float32, i is in `dtype`, the product in `dtype`.

  `half_pixel=True` gives s = (i + ½) · in/out − ½ clipped at 0 (TF2's and PyTorch's
  align_corners=False convention): NOT the FID network's; kept to show it breaks parity.
  """
  dtype = np.dtype(dtype)
  scale = np.float32(in_size / out_size).astype(dtype)
  i = np.arange(out_size, dtype=dtype)
  s = np.maximum((i + dtype.type(0.5)) * scale - dtype.type(0.5), 0) if half_pixel else i * scale
  lo = s.astype(np.int64)
  hi = np.minimum(lo + 1, in_size - 1)
  return lo, hi, (s - lo.astype(np.float32)).astype(dtype)


def resize_tf1(x: jax.Array, size: Sequence[int] = (INPUT_SIZE, INPUT_SIZE), *,
               half_pixel: bool = False) -> jax.Array:
  """TensorFlow 1.x `resize_bilinear(align_corners=False)` of NHWC images, in x's dtype.

  out = a + (b − a)·dy with a = p00 + (p01 − p00)·dx, b = p10 + (p11 − p10)·dx (p_rc the four
  source pixels, `resize_grid`'s indices and weights), evaluated in this order as torch-fidelity
  does, so that float32 results agree bit for bit on the CPU.
  """
  ylo, yhi, dy = resize_grid(x.shape[1], size[0], x.dtype, half_pixel=half_pixel)
  xlo, xhi, dx = resize_grid(x.shape[2], size[1], x.dtype, half_pixel=half_pixel)
  rows_lo, rows_hi = x[:, ylo], x[:, yhi]
  p00, p01 = rows_lo[:, :, xlo], rows_lo[:, :, xhi]
  p10, p11 = rows_hi[:, :, xlo], rows_hi[:, :, xhi]
  dx = jnp.asarray(dx)[None, None, :, None]
  dy = jnp.asarray(dy)[None, :, None, None]
  a = p00 + (p01 - p00) * dx
  b = p10 + (p11 - p10) * dx
  return a + (b - a) * dy


# ---------------------------------------------------------------------------------------------
# The network.

class BasicConv(nn.Module):
  """Conv (no bias) → BatchNorm (running statistics, ε) → ReLU: torchvision's BasicConv2d."""
  features: int
  kernel: Tuple[int, int]
  stride: int = 1
  padding: Tuple[int, int] = (0, 0)
  bn_epsilon: float = BN_EPSILON
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    ph, pw = self.padding
    x = nn.Conv(self.features, self.kernel, (self.stride, self.stride),
                padding=((ph, ph), (pw, pw)), use_bias=False, dtype=self.dtype,
                param_dtype=self.dtype, precision=jax.lax.Precision.HIGHEST, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=self.bn_epsilon, dtype=self.dtype,
                     param_dtype=self.dtype, name="bn")(x)
    return nn.relu(x)


class _Net(nn.Module):
  """Shared options of every block (and the diagnostics that the parity tests flip)."""
  bn_epsilon: float = BN_EPSILON
  count_include_pad: bool = False
  swap_factorised: bool = False
  dtype: Any = jnp.float32

  def conv(self, name, features, kernel, stride=1, padding=(0, 0)):
    if self.swap_factorised and kernel[0] != kernel[1]:  # the 1×n ↔ n×1 mix-up (diagnostic)
      kernel, padding = kernel[::-1], padding[::-1]
    return BasicConv(features, tuple(kernel), stride, tuple(padding), self.bn_epsilon,
                     self.dtype, name=name)

  def avg_pool(self, x):
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)),
                       count_include_pad=self.count_include_pad)


class InceptionA(_Net):
  pool_features: int = 32

  @nn.compact
  def __call__(self, x):
    b1 = self.conv("branch1x1", 64, (1, 1))(x)
    b5 = self.conv("branch5x5_2", 64, (5, 5), padding=(2, 2))(
        self.conv("branch5x5_1", 48, (1, 1))(x))
    b3 = self.conv("branch3x3dbl_1", 64, (1, 1))(x)
    b3 = self.conv("branch3x3dbl_2", 96, (3, 3), padding=(1, 1))(b3)
    b3 = self.conv("branch3x3dbl_3", 96, (3, 3), padding=(1, 1))(b3)
    bp = self.conv("branch_pool", self.pool_features, (1, 1))(self.avg_pool(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(_Net):

  @nn.compact
  def __call__(self, x):
    b3 = self.conv("branch3x3", 384, (3, 3), stride=2)(x)
    bd = self.conv("branch3x3dbl_1", 64, (1, 1))(x)
    bd = self.conv("branch3x3dbl_2", 96, (3, 3), padding=(1, 1))(bd)
    bd = self.conv("branch3x3dbl_3", 96, (3, 3), stride=2)(bd)
    bp = nn.max_pool(x, (3, 3), (2, 2))
    return jnp.concatenate([b3, bd, bp], axis=-1)


class InceptionC(_Net):
  channels_7x7: int = 128

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    b1 = self.conv("branch1x1", 192, (1, 1))(x)
    b7 = self.conv("branch7x7_1", c7, (1, 1))(x)
    b7 = self.conv("branch7x7_2", c7, (1, 7), padding=(0, 3))(b7)
    b7 = self.conv("branch7x7_3", 192, (7, 1), padding=(3, 0))(b7)
    bd = self.conv("branch7x7dbl_1", c7, (1, 1))(x)
    bd = self.conv("branch7x7dbl_2", c7, (7, 1), padding=(3, 0))(bd)
    bd = self.conv("branch7x7dbl_3", c7, (1, 7), padding=(0, 3))(bd)
    bd = self.conv("branch7x7dbl_4", c7, (7, 1), padding=(3, 0))(bd)
    bd = self.conv("branch7x7dbl_5", 192, (1, 7), padding=(0, 3))(bd)
    bp = self.conv("branch_pool", 192, (1, 1))(self.avg_pool(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(_Net):

  @nn.compact
  def __call__(self, x):
    b3 = self.conv("branch3x3_2", 320, (3, 3), stride=2)(self.conv("branch3x3_1", 192, (1, 1))(x))
    b7 = self.conv("branch7x7x3_1", 192, (1, 1))(x)
    b7 = self.conv("branch7x7x3_2", 192, (1, 7), padding=(0, 3))(b7)
    b7 = self.conv("branch7x7x3_3", 192, (7, 1), padding=(3, 0))(b7)
    b7 = self.conv("branch7x7x3_4", 192, (3, 3), stride=2)(b7)
    bp = nn.max_pool(x, (3, 3), (2, 2))
    return jnp.concatenate([b3, b7, bp], axis=-1)


class InceptionE(_Net):
  """Mixed_7b (pool "avg", padding not counted) and Mixed_7c (pool "max", the graph's quirk)."""
  pool: str = "avg"

  @nn.compact
  def __call__(self, x):
    b1 = self.conv("branch1x1", 320, (1, 1))(x)
    b3 = self.conv("branch3x3_1", 384, (1, 1))(x)
    b3 = jnp.concatenate([self.conv("branch3x3_2a", 384, (1, 3), padding=(0, 1))(b3),
                          self.conv("branch3x3_2b", 384, (3, 1), padding=(1, 0))(b3)], axis=-1)
    bd = self.conv("branch3x3dbl_1", 448, (1, 1))(x)
    bd = self.conv("branch3x3dbl_2", 384, (3, 3), padding=(1, 1))(bd)
    bd = jnp.concatenate([self.conv("branch3x3dbl_3a", 384, (1, 3), padding=(0, 1))(bd),
                          self.conv("branch3x3dbl_3b", 384, (3, 1), padding=(1, 0))(bd)], axis=-1)
    if self.pool == "max":
      pooled = nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
    else:
      pooled = self.avg_pool(x)
    bp = self.conv("branch_pool", 192, (1, 1))(pooled)
    return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class Classifier(nn.Module):
  """The 2048 → 1008 fc layer: returns (x W, x W + b)."""
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    w = self.param("kernel", nn.initializers.lecun_normal(), (FEATURES, LOGITS), self.dtype)
    b = self.param("bias", nn.initializers.zeros, (LOGITS,), self.dtype)
    unbiased = jnp.dot(x, w, precision=jax.lax.Precision.HIGHEST)
    return unbiased, unbiased + b


class InceptionV3(_Net):
  """The FID Inception network on uint8 RGB images [N, H, W, 3] (any H, W).

  Returns {"pool3": [N, 2048], "logits_unbiased": [N, 1008], "logits": [N, 1008]} in `dtype`
  and sows {block name: output (NHWC)} for the names in `BLOCKS` into "intermediates" as
  "blocks".

  Attributes:
    dtype: float32, or float64 (needs `jax.enable_x64`) for a reference-grade path.
    bn_epsilon, count_include_pad, swap_factorised, last_pool, half_pixel: the graph's values
      by default (1e-3, False, False, "max", False). The other values are the mistakes a port
      commonly makes; they exist so the parity tests can show each one breaks equality.
  """
  last_pool: str = "max"
  half_pixel: bool = False

  @nn.compact
  def __call__(self, images):
    if images.dtype != jnp.uint8 or images.ndim != 4 or images.shape[-1] != 3:
      raise ValueError(f"images must be uint8 [N, H, W, 3], got {images.dtype} {images.shape}")
    kw = dict(bn_epsilon=self.bn_epsilon, count_include_pad=self.count_include_pad,
              swap_factorised=self.swap_factorised, dtype=self.dtype)
    x = resize_tf1(images.astype(self.dtype), half_pixel=self.half_pixel)
    x = (x - 128) / 128

    blocks = {}

    def block(name, module_or_fn, x):
      blocks[name] = x = module_or_fn(x)
      return x

    x = block("Conv2d_1a_3x3", self.conv("Conv2d_1a_3x3", 32, (3, 3), stride=2), x)
    x = block("Conv2d_2a_3x3", self.conv("Conv2d_2a_3x3", 32, (3, 3)), x)
    x = block("Conv2d_2b_3x3", self.conv("Conv2d_2b_3x3", 64, (3, 3), padding=(1, 1)), x)
    x = block("MaxPool_1", lambda v: nn.max_pool(v, (3, 3), (2, 2)), x)
    x = block("Conv2d_3b_1x1", self.conv("Conv2d_3b_1x1", 80, (1, 1)), x)
    x = block("Conv2d_4a_3x3", self.conv("Conv2d_4a_3x3", 192, (3, 3)), x)
    x = block("MaxPool_2", lambda v: nn.max_pool(v, (3, 3), (2, 2)), x)
    x = block("Mixed_5b", InceptionA(pool_features=32, name="Mixed_5b", **kw), x)
    x = block("Mixed_5c", InceptionA(pool_features=64, name="Mixed_5c", **kw), x)
    x = block("Mixed_5d", InceptionA(pool_features=64, name="Mixed_5d", **kw), x)
    x = block("Mixed_6a", InceptionB(name="Mixed_6a", **kw), x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
      x = block(name, InceptionC(channels_7x7=c7, name=name, **kw), x)
    x = block("Mixed_7a", InceptionD(name="Mixed_7a", **kw), x)
    x = block("Mixed_7b", InceptionE(pool="avg", name="Mixed_7b", **kw), x)
    x = block("Mixed_7c", InceptionE(pool=self.last_pool, name="Mixed_7c", **kw), x)
    self.sow("intermediates", "blocks", blocks)
    pool3 = jnp.mean(x, axis=(1, 2))
    unbiased, logits = Classifier(self.dtype, name="fc")(pool3)
    return {"pool3": pool3, "logits_unbiased": unbiased, "logits": logits}


# ---------------------------------------------------------------------------------------------
# Weights: torch state dict -> Flax variables, validated, cached.

def variable_shapes() -> Dict[str, Tuple[int, ...]]:
  """{"params/Conv2d_1a_3x3/conv/kernel": shape, ...}: every variable the network needs."""
  shapes = jax.eval_shape(InceptionV3().init, jax.random.key(0),
                          jax.ShapeDtypeStruct((1, 75, 75, 3), jnp.uint8))
  return {"/".join(_key_name(k) for k in path): tuple(leaf.shape)
          for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]}


def _key_name(k) -> str:
  return str(getattr(k, "key", getattr(k, "name", k)))


def flax_name(torch_key: str) -> str | None:
  """The Flax variable a torch state-dict key fills ("a.b.conv.weight" → "params/a/b/conv/
  kernel"), or None for keys the network does not use (BatchNorm's num_batches_tracked)."""
  *path, leaf = torch_key.split(".")
  table = {"conv.weight": ("params", "kernel"), "bn.weight": ("params", "scale"),
           "bn.bias": ("params", "bias"), "bn.running_mean": ("batch_stats", "mean"),
           "bn.running_var": ("batch_stats", "var")}
  if leaf == "num_batches_tracked":
    return None
  if path == ["fc"]:
    return "params/fc/" + ("kernel" if leaf == "weight" else leaf)
  kind_leaf = table.get(f"{path[-1]}.{leaf}") if path else None
  if kind_leaf is None:
    return f"unknown/{torch_key}"
  kind, name = kind_leaf
  return "/".join([kind, *path, name])


def convert_state_dict(state_dict: Dict[str, np.ndarray], *, swap_factorised: bool = False
                       ) -> Dict[str, np.ndarray]:
  """The torch state dict's tensors under the Flax names and layouts (float32, flat).

  Conv weights [O, I, kh, kw] → kernels [kh, kw, I, O]; the fc weight [1008, 2048] → [2048,
  1008]; BatchNorm weight/bias → scale/bias, running_mean/var → batch_stats mean/var.
  `swap_factorised=True` converts the 1×n / n×1 kernels with the full reversal (O, I, kh, kw)
  → (kw, kh, I, O), the classic `.T` slip (for the parity tests' negative control only).
  """
  out = {}
  for key, value in state_dict.items():
    name = flax_name(key)
    if name is None:
      continue
    v = np.asarray(value, np.float32)
    if name.endswith("/kernel") and v.ndim == 4:
      swap = swap_factorised and v.shape[2] != v.shape[3]
      v = v.transpose(3, 2, 1, 0) if swap else v.transpose(2, 3, 1, 0)
    elif name == "params/fc/kernel" and v.ndim == 2:
      v = v.T
    out[name] = np.ascontiguousarray(v)
  return out


def unflatten(flat: Dict[str, np.ndarray], dtype=np.float32) -> Dict[str, Any]:
  """{"params/a/b": x} → {"params": {"a": {"b": x}}} (as `dtype`), Flax's variables."""
  tree: Dict[str, Any] = {}
  for name, value in flat.items():
    node = tree
    *path, leaf = name.split("/")
    for p in path:
      node = node.setdefault(p, {})
    node[leaf] = np.asarray(value, dtype)
  return tree


def _check_variables(flat: Dict[str, np.ndarray], path: str, field: str) -> None:
  expected = variable_shapes()
  what = f"{path} is not the FID Inception weights (expected {WEIGHT_SOURCES})"
  unknown = sorted(set(flat) - set(expected))
  missing = sorted(set(expected) - set(flat))
  if unknown or missing:
    detail = (f"{len(missing)} missing, e.g. {missing[0]}" if missing else
              f"{len(unknown)} unknown keys, e.g. {unknown[0].removeprefix('unknown/')}")
    raise ConfigError(field, f"{what}: {detail}")
  for k, shape in expected.items():
    if tuple(flat[k].shape) != shape:
      raise ConfigError(field, f"{what}: {k} has shape {tuple(flat[k].shape)}, expected {shape}")
    if not np.isfinite(flat[k]).all():
      raise ConfigError(field, f"{what}: {k} holds non-finite values")


def _sha256(path: str) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def default_cache_dir() -> str:
  """$WGAN_JAX_CACHE, else $XDG_CACHE_HOME/wgan_jax, else ~/.cache/wgan_jax."""
  if os.environ.get("WGAN_JAX_CACHE"):
    return os.environ["WGAN_JAX_CACHE"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "wgan_jax")


def _cache_paths(path: str, digest: str, cache_dir: str | None) -> list:
  name = f"{os.path.basename(path)}.flax-{digest[:16]}.npz"
  beside = os.path.join(os.path.dirname(os.path.abspath(path)), name)
  return [os.path.join(cache_dir, name)] if cache_dir else [beside,
                                                             os.path.join(default_cache_dir(), name)]


def _write_npz(target: str, flat: Dict[str, np.ndarray]) -> bool:
  try:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=os.path.dirname(target))
    with os.fdopen(fd, "wb") as f:
      np.savez(f, **flat)
    os.replace(tmp, target)
    return True
  except OSError:
    return False


def load_weights(path: str, *, cache: bool = True, cache_dir: str | None = None,
                 field: str = "inception_weights") -> Dict[str, Any]:
  """The Flax variables {"params", "batch_stats"} (float32) from a FID Inception .pth file.

  Accepts torch-fidelity's `weights-inception-2015-12-05-6726825d.pth` and pytorch-fid's
  `pt_inception-2015-12-05-6726825d.pth` (same keys; torch's zip or legacy format), read by
  `wgan_jax.torch_file` without torch. The first call converts and writes
  `<file>.flax-<sha256[:16]>.npz` beside the file, or in `cache_dir` / `default_cache_dir()`
  when that folder is not writable; later calls read the .npz (keyed by the .pth's SHA-256, so
  a replaced file is converted again).

  Raises:
    ConfigError(field, ...): one line naming the file: missing, unreadable, not a torch file,
      or not these weights (keys or shapes differ), with where users get the right file.
  """
  if not path or not os.path.isfile(path):
    raise ConfigError(field, f"{path}: no such file; pass the FID Inception weights, "
                      f"{WEIGHT_SOURCES} (nothing is downloaded)")
  try:
    digest = _sha256(path)
  except OSError as e:
    raise ConfigError(field, f"{path}: cannot be read ({e.strerror})") from None
  candidates = _cache_paths(path, digest, cache_dir)
  if cache:
    for c in candidates:
      if os.path.isfile(c):
        try:
          with np.load(c) as z:
            flat = {k: z[k] for k in z.files}
          _check_variables(flat, c, field)
          return unflatten(flat)
        except (OSError, ValueError):
          pass  # a damaged cache: convert again
  try:
    state = torch_file.load(path)
  except torch_file.TorchFileError as e:
    raise ConfigError(field, f"{path} is not a torch state dict ({e}); expected "
                      f"{WEIGHT_SOURCES}") from None
  if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
    state = state["state_dict"]
  if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
    raise ConfigError(field, f"{path} holds a {type(state).__name__}, not a state dict of "
                      f"tensors; expected {WEIGHT_SOURCES}")
  flat = convert_state_dict(state)
  _check_variables(flat, path, field)
  if cache:
    for c in candidates:
      if _write_npz(c, flat):
        break
  return unflatten(flat)


# ---------------------------------------------------------------------------------------------
# Applying the network in batches.

@functools.lru_cache(maxsize=None)
def _forward(dtype_name: str, intermediates: bool, options: Tuple[Tuple[str, Any], ...]):
  model = InceptionV3(dtype=jnp.dtype(dtype_name), **dict(options))

  def run(variables, images):
    if intermediates:
      out, state = model.apply(variables, images, mutable=["intermediates"])
      return out, state["intermediates"]["blocks"][0]
    return model.apply(variables, images)

  return jax.jit(run)


def apply(variables, images, *, dtype="float32", intermediates: bool = False, **options):
  """One batch through the network: `InceptionV3(dtype, **options).apply`, jitted.

  Args:
    variables: `load_weights`' variables (cast to `dtype` here).
    images: uint8 [N, H, W, 3].
    dtype: "float32" or "float64" (runs under `jax.enable_x64(True)`).
    intermediates: also return {block name: NHWC output}.
    **options: `InceptionV3` diagnostics (bn_epsilon, count_include_pad, last_pool, ...).

  Returns:
    {"pool3", "logits_unbiased", "logits"} (NumPy, `dtype`), and the blocks' outputs when
    `intermediates`.
  """
  dtype = np.dtype(dtype).name
  if dtype not in ("float32", "float64"):
    raise ConfigError("dtype", f"must be float32 or float64, got {dtype}")
  with jax.enable_x64(dtype == "float64"):
    v = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), variables)
    fn = _forward(dtype, intermediates, tuple(sorted(options.items())))
    out = fn(v, jnp.asarray(images))
    return jax.tree_util.tree_map(np.asarray, out)


def _batches(images, batch_size: int) -> Iterable[np.ndarray]:
  for i in range(0, len(images), batch_size):
    yield images[i:i + batch_size]


def extract(variables, images, *, batch_size: int = 50, dtype="float32",
            logits_bias: bool = False, progress: bool = False
            ) -> Tuple[np.ndarray, np.ndarray]:
  """A batch of images → (pool3 features [N, 2048], logits [N, 1008]), computed in `dtype`.

  Args:
    variables: `load_weights(path)`.
    images: [N, H, W(, C)] uint8 levels or floats in [-1, 1] (the project's convention,
      converted by `to_uint8`); grey images are tiled to RGB (`as_rgb_uint8`). Any H × W: the
      network resizes to 299 × 299 as TensorFlow 1 did.
    batch_size: images per network call; the last batch is padded, so one compilation serves.
    dtype: "float32" (as published numbers) or "float64".
    logits_bias: False gives `pool3 @ W` (torch-fidelity's "logits_unbiased", what the
      Inception score is computed from, as in Salimans et al.'s code); True adds the fc bias.
    progress: show a tqdm progress bar.

  Returns:
    (pool3, logits) as NumPy arrays of `dtype`.
  """
  x = as_rgb_uint8(images)
  if batch_size < 1:
    raise ConfigError("batch_size", f"must be ≥ 1, got {batch_size}")
  feats, logits = [], []
  bar = None
  if progress:
    from tqdm import tqdm
    bar = tqdm(total=len(x), unit="img", desc="Inception")
  for chunk in _batches(x, batch_size):
    n = len(chunk)
    if n < batch_size and len(x) > batch_size:
      chunk = np.concatenate([chunk, np.zeros((batch_size - n, *chunk.shape[1:]), np.uint8)])
    out = apply(variables, chunk, dtype=dtype)
    feats.append(out["pool3"][:n])
    logits.append(out["logits" if logits_bias else "logits_unbiased"][:n])
    if bar is not None:
      bar.update(n)
  if bar is not None:
    bar.close()
  np_dtype = np.dtype(dtype)
  if not feats:
    return np.zeros((0, FEATURES), np_dtype), np.zeros((0, LOGITS), np_dtype)
  return np.concatenate(feats), np.concatenate(logits)
