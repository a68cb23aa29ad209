"""Image data held as arrays: scikit-learn's 8×8 digits (embedded default) and image folders.

Images are float32 [N, H, W, C] scaled to [-1, 1]. A GAN draws its real examples inside the
compiled step from such an array passed as the step's `data` argument (`array_sampler`), one
random index per example.
"""

from __future__ import annotations

import os
from typing import Tuple

import jax
import jax.numpy as jnp
import numpy as np

from wgan_jax.errors import ConfigError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_digits(validation: int = 297) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """scikit-learn's 1797 handwritten 8×8 digits (shipped inside the package: no download).

  Returns (train_images, train_labels, val_images, val_labels); images [N, 8, 8, 1] in
  [-1, 1] (the raw 0..16 grey levels scaled), split by a fixed permutation (seed 0) into
  1797 − `validation` training and `validation` held-out images.
  """
  from sklearn.datasets import load_digits as sk_load_digits
  d = sk_load_digits()
  images = (d.images.astype(np.float32) / 8.0 - 1.0)[..., None]
  order = np.random.default_rng(0).permutation(len(images))
  val, train = order[:validation], order[validation:]
  return images[train], d.target[train], images[val], d.target[val]


# Pillow modes a folder image may have, and what each becomes (see `load_image_folder`).
GREY_MODES = ("1", "L", "LA", "I;16", "I;16L", "I;16B", "I;16N", "I")
COLOUR_MODES = ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr")
PALETTE_MODES = ("P", "PA")
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _image_values(im, name: str, image_size: int | None) -> np.ndarray:
  """One opened Pillow image as [H, W, 1] (grey) or [H, W, 3] (colour), in 8-bit units.

  uint8 where the file is 8-bit without alpha (resized by Pillow as before), else float32 in
  [0, 255]: 16-bit grey scaled by 255/65535, alpha composited on white before resizing
  (compositing on a constant background commutes with the linear resampling, so this equals
  resizing the premultiplied image).
  """
  from PIL import Image
  mode = im.mode
  has_alpha = "transparency" in im.info
  if mode in SIXTEEN_BIT_MODES:
    a = np.asarray(im).astype(np.int64)
    if mode == "I" and a.size and (a.min() < 0 or a.max() > 65535):
      raise ConfigError("path", f"{name} has image mode I with values {a.min()}..{a.max()}, "
                       "outside 16-bit 0..65535; save it as 8- or 16-bit grey")
    v = a.astype(np.float32) * np.float32(255.0 / 65535.0)
    if has_alpha and isinstance(im.info["transparency"], int):
      v = np.where(a == im.info["transparency"], np.float32(255.0), v)
    channels = [v]
  else:
    if mode == "1":
      im = im.convert("L")
    elif mode == "L":
      im = im.convert("LA") if has_alpha else im
    elif mode in PALETTE_MODES:
      im = im.convert("RGBA" if mode == "PA" or has_alpha else "RGB")
    elif mode in ("RGB", "RGBX"):
      im = im.convert("RGBA" if has_alpha else "RGB")
    elif mode in ("CMYK", "YCbCr"):
      im = im.convert("RGB")
    elif mode not in ("LA", "RGBA"):
      why = {"F": "32-bit float, whose value range is unknown",
             "LAB": "CIE L*a*b*", "HSV": "hue-saturation-value"}.get(mode, "not supported")
      raise ConfigError(
          "path", f"{name} has image mode {mode} ({why}); supported modes are "
          f"{', '.join(GREY_MODES + PALETTE_MODES + COLOUR_MODES)}: convert it to one of them")
    a = np.asarray(im)
    a = a[..., None] if a.ndim == 2 else a
    if mode in PALETTE_MODES:   # grey when every visible colour it uses is grey
      seen = a[..., 3] > 0 if a.shape[-1] == 4 else np.ones(a.shape[:2], bool)
      if ((a[..., 0] == a[..., 1]) & (a[..., 1] == a[..., 2]) | ~seen).all():
        a = a[..., [0, 3]] if a.shape[-1] == 4 else a[..., :1]
    if a.shape[-1] in (1, 3):
      if image_size:
        im = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a)
        a = np.asarray(im.resize((image_size, image_size), Image.BILINEAR))
        a = a[..., None] if a.ndim == 2 else a
      return a
    alpha = a[..., -1:].astype(np.float32) / np.float32(255.0)
    v = a[..., :-1].astype(np.float32) * alpha + np.float32(255.0) * (1 - alpha)
    channels = [v[..., c] for c in range(v.shape[-1])]
  if image_size:
    channels = [np.asarray(Image.fromarray(c).resize((image_size, image_size), Image.BILINEAR))
                for c in channels]
  return np.clip(np.stack(channels, axis=-1), 0.0, 255.0)


def load_image_folder(path: str, image_size: int | None = None) -> np.ndarray:
  """Every image file directly in `path` as [N, H, W, C] float32 in [-1, 1].

  With `image_size` every image is resized (bilinear) to image_size × image_size first.

  Each file is converted by its Pillow mode, never reinterpreted (the first frame of an
  animated file):
    - grey: "1" (1-bit: 0 → -1, 1 → 1), "L", "LA", 16-bit "I;16" / "I;16B" / "I;16L" / "I"
      (scaled by 65535, so 65535 → 1.0; mode "I" must hold 0..65535);
    - colour: "RGB", "RGBX", "RGBA", "CMYK" and "YCbCr" (converted to RGB by Pillow);
    - palette "P" / "PA": looked up through the palette, grey when every colour it uses is grey
      (R = G = B), else colour;
    - alpha (an alpha channel or a transparent colour / palette index) is composited on a WHITE
      background, then dropped: a transparent pixel loads as 1.0;
    - anything else ("F" float images, whose value range is unknown, "LAB", "HSV", ...) is
      refused.
  Channel rule: C is 1 when every image of the folder is grey, else 3, the grey images being
  repeated into R, G and B. The values are the 8-bit levels v as v / 127.5 − 1 (16-bit levels
  scaled to 0..255 first).

  Raises:
    ValueError: naming `path`, for no such folder, no image files in it, unreadable files,
      images of an unsupported mode (naming the file and its mode), or images of different
      sizes; naming `image_size`, for a value that is not a positive integer.
  """
  from PIL import Image
  if image_size is not None and (isinstance(image_size, bool) or
                                 not isinstance(image_size, int) or image_size < 1):
    raise ConfigError("image_size", f"must be a positive integer, got {image_size!r}")
  if not os.path.isdir(path):
    raise ConfigError("path", f"{path} is not a folder")
  files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTENSIONS))
  if not files:
    raise ConfigError("path", f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {path}")
  arrays = []
  for f in files:
    name = os.path.join(path, f)
    try:
      with Image.open(name) as im:
        im.load()
        arrays.append(_image_values(im, name, image_size))
    except (OSError, Image.DecompressionBombError) as e:
      raise ConfigError("path", f"cannot read {f}: {e}") from None
  sizes = sorted({a.shape[:2] for a in arrays})
  if len(sizes) > 1:
    first = {s: next(f for f, a in zip(files, arrays) if a.shape[:2] == s) for s in sizes[:2]}
    desc = ", ".join(f"{f} is {s[1]}×{s[0]}" for s, f in first.items())
    raise ConfigError("path", f"images of mixed sizes in {path}: {desc}; pass image_size to "
                     "resize them")
  channels = max(a.shape[-1] for a in arrays)
  out = np.empty((len(arrays),) + sizes[0] + (channels,), np.float32)
  for i, a in enumerate(arrays):
    out[i] = a.astype(np.float32) / 127.5 - 1.0   # a grey image fills all 3 channels
  return out


def array_sampler(data: jax.Array, key: jax.Array) -> jax.Array:
  """One example drawn uniformly from an array data set [N, ...] (for `GAN(sample_real=...)`)."""
  return data[jax.random.randint(key, (), 0, data.shape[0])]


def labelled_array_sampler(data, key: jax.Array):
  """One (example, label) pair drawn uniformly from (images [N, ...], labels [N]), for a
  class-conditional `GAN` (`GANConfig.num_classes` > 0)."""
  images, labels = data
  i = jax.random.randint(key, (), 0, images.shape[0])
  return images[i], labels[i].astype(jnp.int32)


def stack_digits(images: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
  """n stacked-digit images [n, H, W, 3]: three single-channel digits drawn independently and
  uniformly as the three channels (1000 modes for 10 classes), as in Stacked MNIST."""
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 1:
    raise ValueError(f"expected single-channel images [N, H, W, 1], got {images.shape}")
  idx = np.random.default_rng(seed).integers(0, len(images), size=(n, 3))
  return np.concatenate([images[idx[:, i]] for i in range(3)], axis=-1)
