"""Image data sets from tensorflow-datasets, read through `tfds.data_source` (no TensorFlow).

`tfds.data_source` gives random access to a prepared data set's records (ArrayRecord files), so
this module needs neither TensorFlow nor tf.data:

- deterministic shuffling: the records are read in the order of a permutation drawn from the
  run's seed (`epoch_order`), so the same seed reads the same images in the same order;
- per-process sharding: process p of P reads positions p, p + P, p + 2P, ... of that order (a
  disjoint share; the shares cover the order), for users who feed each host its own data;
- background prefetch: records are fetched and decoded by a pool of threads, `prefetch` chunks
  ahead of the consumer (`iter_batches`), so the host keeps reading while the device computes.

`load_tfds_images` materialises up to `max_examples` images as one float32 array in [-1, 1]:
the GAN steps then draw their batches inside the compiled program from a device-resident array,
so the accelerator never waits on the host during training (the experiments' choice, see the
README). Tests run it under `tfds.testing.mock_data`; with the internet, `download=True`
prepares the data set (in the ArrayRecord format random access needs).
"""

from __future__ import annotations

import concurrent.futures
import itertools
from typing import Iterator, Optional

import numpy as np

from wgan_jax.errors import ConfigError


def _tfds():
  try:
    import tensorflow_datasets as tfds
  except ImportError as e:  # pragma: no cover - it is in requirements.txt
    raise ImportError("reading TFDS data sets needs tensorflow-datasets "
                      "(pip install 'wgan-jax[tfds]')") from e
  return tfds


def open_source(name: str, *, split: str = "train", data_dir: Optional[str] = None,
                download: bool = False):
  """`tfds.data_source(name, split)` with clear errors.

  Raises:
    ValueError: naming the argument to fix: TFDS does not know `name`; `split` does not exist;
      or the data set is not prepared in `data_dir` and `download` is False (or preparing it
      failed).
  """
  tfds = _tfds()
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # DatasetNotFoundError (and friends): not a known name
    if type(e).__name__ == "DatasetNotFoundError" or isinstance(e, (KeyError, ValueError)):
      raise ConfigError("name", f"tensorflow-datasets does not know a data set named {name!r} "
                       "(see `tfds.list_builders()`)") from None
    raise
  try:
    return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
  except Exception as first:  # not prepared, wrong format, or an unknown split
    prepared = False
    try:
      prepared = builder.is_prepared()
    except Exception:
      pass
    if prepared:
      splits = list(getattr(builder.info, "splits", {}) or {})
      raise ConfigError("split", f"cannot open split {split!r} of {name} ({splits or 'no'} "
                       f"splits): {first}") from None
    if not download:
      raise ConfigError(
          "name", f"{name} is not prepared in {data_dir or '~/tensorflow_datasets'}; "
          "pass download=True to fetch and prepare it (needs the internet), or the data_dir "
          "where it is prepared") from None
  try:
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(file_format="array_record"))
    return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
  except Exception as e:
    raise ConfigError("download", f"could not fetch and prepare {name}: "
                     f"{type(e).__name__}: {e}") from None


def epoch_order(n: int, seed: int, *, process_index: int = 0, process_count: int = 1,
                epoch: int = 0) -> np.ndarray:
  """The record indices process `process_index` reads in `epoch`: a permutation of range(n)
  drawn from (seed, epoch), then every `process_count`-th position from `process_index`."""
  if not 0 <= process_index < process_count:
    raise ValueError(f"process index {process_index} not in [0, {process_count})")
  order = np.random.default_rng([seed, epoch]).permutation(n)
  return order[process_index::process_count]


def to_unit_range(images: np.ndarray, image_size: Optional[int] = None) -> np.ndarray:
  """uint8 images [N, H, W, C] (optionally resized, bilinear) → float32 in [-1, 1]."""
  images = np.asarray(images)
  if images.ndim == 3:
    images = images[..., None]
  if image_size and images.shape[1:3] != (image_size, image_size):
    from PIL import Image
    images = np.stack([
        np.asarray(Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im).resize(
            (image_size, image_size), Image.BILINEAR)).reshape(image_size, image_size, -1)
        for im in images])
  return images.astype(np.float32) / 127.5 - 1.0


def iter_batches(source, indices: np.ndarray, batch_size: int, *, image_key: str = "image",
                 image_size: Optional[int] = None, workers: int = 4,
                 prefetch: int = 2) -> Iterator[np.ndarray]:
  """Batches of images [B, H, W, C] in [-1, 1] read from `source` at `indices`, in order.

  Records are fetched and decoded by `workers` threads, up to `prefetch` batches ahead of the
  consumer. The last batch may be smaller.
  """
  chunks = [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]

  def read(chunk):
    records = [source[int(i)] for i in chunk]
    if image_key not in records[0]:
      raise ConfigError("image_key", f"the records have no {image_key!r} feature (they have "
                       f"{sorted(records[0])}); name the image feature, or read an image "
                       "data set")
    imgs = [np.asarray(r[image_key]) for r in records]
    shapes = {im.shape for im in imgs}
    if len(shapes) > 1 and not image_size:
      raise ConfigError("image_size", f"images of mixed sizes {sorted(shapes)[:3]}; pass "
                       "image_size to resize them")
    if image_size:
      return np.concatenate([to_unit_range(im[None], image_size) for im in imgs])
    return to_unit_range(np.stack(imgs))

  with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
    pending = [pool.submit(read, c) for c in itertools.islice(chunks, prefetch)]
    for nxt in itertools.chain(chunks[prefetch:], [None] * prefetch):
      batch = pending.pop(0).result()
      if nxt is not None:
        pending.append(pool.submit(read, nxt))
      yield batch
      if not pending:
        return


def load_tfds_images(name: str, *, split: str = "train", data_dir: Optional[str] = None,
                     max_examples: int = 60000, seed: int = 0,
                     image_size: Optional[int] = None, download: bool = False,
                     process_index: int = 0, process_count: int = 1,
                     image_key: str = "image") -> np.ndarray:
  """Up to `max_examples` images of a TFDS data set as float32 [N, H, W, C] in [-1, 1].

  The images are this process's share of the seed's shuffled order (see `epoch_order`), read
  with background threads. Raises ValueError naming the argument to fix (see `open_source`).
  """
  if max_examples < 1:
    raise ConfigError("max_examples", f"must be positive, got {max_examples}")
  source = open_source(name, split=split, data_dir=data_dir, download=download)
  n = len(source)
  if n == 0:
    raise ConfigError("split", f"split {split!r} of {name} is empty")
  order = epoch_order(n, seed, process_index=process_index, process_count=process_count)
  order = order[:max_examples]
  return np.concatenate(list(iter_batches(source, order, 1024, image_key=image_key,
                                          image_size=image_size)))
