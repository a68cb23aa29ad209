"""Image data held as arrays: scikit-learn's 8×8 digits (embedded default) and image folders.

Images are float32 [N, H, W, C] scaled to [-1, 1]. A GAN draws its real examples inside the
compiled step from such an array passed as the step's `data` argument (`array_sampler`), one
random index per example.
"""

from __future__ import annotations

import os
from typing import Tuple

import jax
import numpy as np

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


def load_image_folder(path: str, image_size: int | None = None) -> np.ndarray:
  """Every image file directly in `path` as [N, H, W, C] float32 in [-1, 1].

  With `image_size` every image is resized (bilinear) to image_size × image_size first.

  Raises:
    ValueError: naming `path`, for no such folder, no image files in it, unreadable files, or
      images of different sizes or channel counts.
  """
  from PIL import Image
  if not os.path.isdir(path):
    raise ValueError(f"path: {path} is not a folder")
  files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTENSIONS))
  if not files:
    raise ValueError(f"path: no image files ({', '.join(IMAGE_EXTENSIONS)}) in {path}")
  arrays = []
  for f in files:
    try:
      with Image.open(os.path.join(path, f)) as im:
        if image_size:
          im = im.resize((image_size, image_size), Image.BILINEAR)
        a = np.asarray(im)
    except OSError as e:
      raise ValueError(f"path: cannot read {f}: {e}") from None
    arrays.append(a[..., None] if a.ndim == 2 else a)
  shapes = sorted({a.shape for a in arrays})
  if len(shapes) > 1:
    first = {s: next(f for f, a in zip(files, arrays) if a.shape == s) for s in shapes[:2]}
    sizes = ", ".join(f"{f} is {s[1]}×{s[0]}×{s[2]}" for s, f in first.items())
    raise ValueError(f"path: images of mixed sizes in {path}: {sizes}; pass image_size to "
                     "resize them")
  return (np.stack(arrays).astype(np.float32) / 127.5 - 1.0)


def array_sampler(data: jax.Array, key: jax.Array) -> jax.Array:
  """One example drawn uniformly from an array data set [N, ...] (for `GAN(sample_real=...)`)."""
  return data[jax.random.randint(key, (), 0, data.shape[0])]


def stack_digits(images: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
  """n stacked-digit images [n, H, W, 3]: three single-channel digits drawn independently and
  uniformly as the three channels (1000 modes for 10 classes), as in Stacked MNIST."""
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 1:
    raise ValueError(f"expected single-channel images [N, H, W, 1], got {images.shape}")
  idx = np.random.default_rng(seed).integers(0, len(images), size=(n, 3))
  return np.concatenate([images[idx[:, i]] for i in range(3)], axis=-1)
