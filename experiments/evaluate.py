"""Inception FID, IS, KID and precision/recall of samples, with the standard weights.

  python -m experiments.evaluate --samples runs/images/samples.npy --reference fashion-mnist \\
      --inception-weights ~/weights/pt_inception-2015-12-05-6726825d.pth --out metrics.json

Samples go through the FID Inception network (`wgan_jax.inception`: TensorFlow 1's resize to
299 × 299 of uint8 images, grey tiled to RGB) and the metrics are computed as torch-fidelity
computes them (`wgan_jax.inception_metrics`). Writes JSON: fid, is_mean, is_std, kid_mean,
kid_std, precision, recall (None when the reference is statistics only), the sample counts,
the protocol and its settings. Bad input is one line, "error: --flag: message", exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from experiments import common
from experiments.builders import image_run
from experiments.cli import OneLineParser, fail, leaf_names
from experiments.configs import ImageConfig, get_config
from experiments.evaluators import sample_in_chunks
from experiments.images import fingerprint
from wgan_jax import inception, inception_metrics as im
from wgan_jax.checkpoint import Checkpointer
from wgan_jax.errors import CheckpointError, ConfigError
from wgan_jax.inception import as_rgb_uint8

# Preset settings; the flags of the same names override them.
PROTOCOLS: Dict[str, Dict] = {
    # torch-fidelity's defaults (v0.4.0): FID by eigenvalues, IS 10 splits, KID 100 × 1000.
    "torch-fidelity": dict(num_samples=50_000, isc_splits=10, kid_subsets=100,
                           kid_subset_size=1000, prc_k=3, fid_method="eigvals"),
    # TTUR / pytorch-fid's FID (sqrtm, ε retry); the other metrics as torch-fidelity.
    "pytorch-fid": dict(num_samples=50_000, isc_splits=10, kid_subsets=100,
                        kid_subset_size=1000, prc_k=3, fid_method="sqrtm"),
    # Salimans et al.'s improved-gan inception_score.py, whose IS the WGAN-GP paper (Table 3:
    # CIFAR-10 7.86 unsupervised) and MIX+GAN (its CIFAR-10 table) report: 50,000 samples, 10
    # splits taken in order (no shuffle). Its FID here as torch-fidelity (it had none).
    "improved-gan-is": dict(num_samples=50_000, isc_splits=10, isc_shuffle=False,
                            kid_subsets=100, kid_subset_size=1000, prc_k=3,
                            fid_method="eigvals"),
    # Lucic et al. 2018, Table 2 (Fashion-MNIST FIDs 21.5 to 30.7): 10,000 samples against the
    # 10,000 test images (--reference fashion-mnist), TTUR's FID code (sqrtm).
    "lucic-fid": dict(num_samples=10_000, isc_splits=10, kid_subsets=100,
                      kid_subset_size=1000, prc_k=3, fid_method="sqrtm"),
    # A smoke check on few samples: NOT comparable with published numbers.
    "quick": dict(num_samples=1000, isc_splits=10, kid_subsets=10, kid_subset_size=100,
                  prc_k=3, fid_method="eigvals"),
}
DATASETS = ("fashion-mnist", "digits")


def build_parser() -> argparse.ArgumentParser:
  p = OneLineParser(
      prog="python -m experiments.evaluate", formatter_class=argparse.RawDescriptionHelpFormatter,
      description="Inception FID, IS, KID and precision/recall of samples against a reference, "
      "equal to torch-fidelity's numbers (tests/test_inception_parity.py).",
      epilog="Protocols:\n" + "\n".join(f"  {k}: {v}" for k, v in PROTOCOLS.items()) +
      "\n\nImages may be uint8 (0..255) or floats in [-1, 1] (the project's convention, mapped "
      "to\nuint8 by round(127.5 (x + 1))); grey images are tiled to RGB; any size.")
  p.add_argument("--samples", required=True, metavar="PATH",
                 help="the generated images: an .npy or .npz array [N, H, W(, C)], a folder of "
                 "PNG/JPEG files (read as torch-fidelity does: PIL convert('RGB')), or an "
                 "experiments.images run directory: fresh samples (as many as the protocol or "
                 "--num-samples asks) from its newest checkpoint, rebuilt from the options its "
                 "metrics.json records; without checkpoints, its samples.npy")
  p.add_argument("--reference", required=True, metavar="NAME|PATH",
                 help=f"the real images: a data set ({', '.join(DATASETS)}: Fashion-MNIST's "
                 "10,000 test images, scikit-learn's 1797 digits), an image array / folder as "
                 "for --samples, or FID statistics (.npz with mu and sigma, TTUR / pytorch-fid "
                 "format; then only FID and IS are computed)")
  p.add_argument("--inception-weights", required=True, metavar="PATH",
                 help="torch-fidelity's weights-inception-2015-12-05-6726825d.pth or "
                 "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (read without torch, "
                 "converted once and cached as .npz; nothing is downloaded)")
  p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="torch-fidelity",
                 help="preset settings (listed below); default torch-fidelity")
  p.add_argument("--num-samples", type=int, metavar="N",
                 help="use the first N samples and reference images (default: the protocol's)")
  p.add_argument("--kid-subsets", type=int, metavar="K", help="KID subsets (default: protocol)")
  p.add_argument("--kid-subset-size", type=int, metavar="M",
                 help="KID subset size, at most the sample counts (default: protocol)")
  p.add_argument("--isc-splits", type=int, metavar="S", help="IS splits (default: protocol)")
  p.add_argument("--seed", type=int, default=2020,
                 help="seed of IS's shuffle and KID's subsets (torch-fidelity: 2020)")
  p.add_argument("--batch-size", type=int, default=50, help="images per network call (50)")
  p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                 help="the network's arithmetic (float32 as published numbers)")
  p.add_argument("--cache-dir", metavar="DIR",
                 help="where the converted weights are cached (default: beside the .pth "
                 "file, else ~/.cache/wgan_jax)")
  p.add_argument("--save-reference-stats", metavar="PATH",
                 help="also write the reference's FID statistics (.npz, mu and sigma) here")
  p.add_argument("--progress", action="store_true", help="show progress bars")
  p.add_argument("--out", metavar="PATH", help="write the JSON here (default: print it)")
  return p


def _load_array(path: str) -> np.ndarray:
  if path.endswith(".npz"):
    with np.load(path, allow_pickle=False) as z:
      keys = [k for k in ("samples", "images", "x", "arr_0") if k in z.files] or z.files
      if not keys:
        raise ValueError(f"{path}: an empty .npz")
      return z[keys[0]]
  return np.load(path, allow_pickle=False)


def _load_folder(path: str) -> np.ndarray:
  from PIL import Image
  names = sorted(f for f in os.listdir(path)
                 if f.lower().endswith((".png", ".jpg", ".jpeg")))
  if not names:
    raise ValueError(f"{path}: no PNG or JPEG files in the folder")
  images = []
  for name in names:
    with Image.open(os.path.join(path, name)) as im:
      images.append(np.asarray(im.convert("RGB"), np.uint8))
  if len({im.shape for im in images}) > 1:
    raise ValueError(f"{path}: images of different sizes")
  return np.stack(images)


def samples_from_run(path: str, n: int, seed: int = 0) -> np.ndarray:
  """n fresh samples from the newest checkpoint of an `experiments.images` run directory: the
  GAN is rebuilt from the config its metrics.json records (`get_config("images", **args)`),
  its state restored, and its generator (the averaged one with --ema-decay) sampled with
  fold_in(key(seed), 1000)."""
  with open(os.path.join(path, "metrics.json")) as f:
    args = json.load(f).get("args") or {}
  fields = leaf_names(ImageConfig)
  if not args or not set(args) <= fields:
    raise ValueError(f"{path}: not an experiments.images run (its metrics.json records another "
                     "job's options)")
  config = get_config("images", **args)
  data, gan = image_run(config)
  train = jnp.asarray(data.train)
  if gan.config.num_classes:
    train = (train, jnp.asarray(data.labels, jnp.int32))
  abstract = jax.eval_shape(lambda: gan.init(jax.random.key(0), train))
  ckpt = Checkpointer(os.path.join(path, "checkpoints"), fingerprint(config, data, gan))
  state, _ = ckpt.restore(abstract)
  sample = jax.jit(gan.sample, static_argnums=2)
  key = jax.random.fold_in(jax.random.key(seed), 1000)
  return sample_in_chunks(sample, gan.averaged(state), key, n)


def load_images(path: str, flag: str, n: int = 0, seed: int = 0) -> np.ndarray:
  """Images from an .npy / .npz file, a folder of image files, or a run directory: with
  checkpoints, `n` fresh samples of its newest one; else its samples.npy."""
  if os.path.isdir(path):
    if n and os.path.isdir(os.path.join(path, "checkpoints")) and os.path.isfile(
        os.path.join(path, "metrics.json")):
      return samples_from_run(path, n, seed)
    run = os.path.join(path, "samples.npy")
    return np.load(run, allow_pickle=False) if os.path.isfile(run) else _load_folder(path)
  if not os.path.isfile(path):
    raise ConfigError(flag, f"{path}: no such file or folder")
  if not path.endswith((".npy", ".npz")):
    raise ConfigError(flag, f"{path}: expected an .npy / .npz array, a folder of images or a "
                      "run directory")
  return _load_array(path)


def load_reference(ref: str) -> Tuple[np.ndarray | None, Tuple | None]:
  """(images, None) for a data set or image file, (None, (mu, sigma)) for statistics."""
  if ref == "fashion-mnist":
    return load_fashion_mnist(None, "test")[0], None
  if ref == "digits":
    tr, _, va, _ = load_digits()
    return np.concatenate([tr, va]), None
  if ref.endswith(".npz") and os.path.isfile(ref):
    with np.load(ref, allow_pickle=False) as z:
      is_stats = "mu" in z.files and "sigma" in z.files
    if is_stats:
      return None, load_statistics(ref, field="reference")
  if not os.path.exists(ref):
    raise ConfigError("reference", f"{ref}: neither a data set ({', '.join(DATASETS)}) nor "
                      "a file or folder")
  return load_images(ref, "reference"), None


def _check_images(x, flag: str):
  try:
    return as_rgb_uint8(x, field=flag)
  except ConfigError as e:
    raise ConfigError(flag, e.message) from None


def run(args) -> Dict:
  """The metrics of args.samples against args.reference (see `build_parser`)."""
  settings = dict(PROTOCOLS[args.protocol])
  for key in ("num_samples", "kid_subsets", "kid_subset_size", "isc_splits"):
    value = getattr(args, key)
    if value is not None:
      if value < 1:
        raise ConfigError(key, f"must be a positive integer, got {value}")
      settings[key] = value
  if args.batch_size < 1:
    raise ConfigError("batch_size", f"must be a positive integer, got {args.batch_size}")
  variables = inception.load_weights(args.inception_weights, cache_dir=args.cache_dir)
  try:
    samples = load_images(args.samples, "samples", settings["num_samples"], args.seed)
  except (OSError, ValueError, CheckpointError) as e:
    if isinstance(e, ConfigError) and e.field == "samples":
      raise
    raise ConfigError("samples", str(e)) from None   # a loader's own argument named inside
  samples = _check_images(samples, "samples")[:settings["num_samples"]]
  try:
    ref_images, ref_stats = load_reference(args.reference)
  except (OSError, ValueError) as e:
    if isinstance(e, ConfigError):
      raise ConfigError("reference", e.message) from None
    raise ConfigError("reference", str(e)) from None
  if len(samples) < max(2, settings["isc_splits"]):
    raise ConfigError("samples", f"{len(samples)} images, fewer than IS's "
                      f"{settings['isc_splits']} splits (and FID's 2)")
  if ref_images is not None:
    ref_images = _check_images(ref_images, "reference")[:settings["num_samples"]]
    small = min(len(samples), len(ref_images))
    if small < settings["kid_subset_size"]:
      raise ConfigError("kid_subset_size", f"{settings['kid_subset_size']} exceeds the "
                        f"{small} images available (lower it, or --protocol quick)")
    if small <= settings["prc_k"]:
      raise ConfigError("samples", f"precision/recall needs more than k = "
                        f"{settings['prc_k']} images")
  kw = dict(batch_size=args.batch_size, dtype=args.dtype, progress=args.progress)
  t0 = time.perf_counter()
  feats, logits = inception.extract(variables, samples, **kw)
  ref_feats = None
  if ref_images is not None:
    ref_feats, _ = inception.extract(variables, ref_images, **kw)
    if args.save_reference_stats:
      im.save_statistics(args.save_reference_stats, *im.statistics(ref_feats))
  elif args.save_reference_stats:
    im.save_statistics(args.save_reference_stats, *ref_stats)
  seconds = time.perf_counter() - t0
  metrics = im.metrics_from_features(
      feats, logits, reference_features=ref_feats, reference_stats=ref_stats,
      isc_splits=settings["isc_splits"], kid_subsets=settings["kid_subsets"],
      kid_subset_size=settings["kid_subset_size"], prc_k=settings["prc_k"],
      fid_method=settings["fid_method"], isc_shuffle=settings.get("isc_shuffle", True),
      seed=args.seed)
  return dict(metrics, num_samples=len(samples),
              num_reference=None if ref_images is None else len(ref_images),
              protocol=args.protocol, settings=settings, seed=args.seed, dtype=args.dtype,
              samples=args.samples, reference=args.reference,
              inception_weights=os.path.basename(args.inception_weights),
              network_seconds=round(seconds, 3))
from wgan_jax.data.idx import load_fashion_mnist
from wgan_jax.data.images import load_digits
from wgan_jax.inception_metrics import load_statistics


def main(argv=None) -> Dict:
  args = build_parser().parse_args(argv)
  try:
    result = run(args)
  except ConfigError as e:
    flag = "--" + e.field.replace("_", "-")
    fail(f"{flag}: {e.message}")
  text = json.dumps(common.to_jsonable(result), indent=2)
  if args.out:
    common.write_json(args.out, result)
  else:
    print(text)
  return result


if __name__ == "__main__":
  main(sys.argv[1:])
