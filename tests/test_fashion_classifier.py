"""The Fashion-MNIST evaluation classifier (`wgan_jax.classifier.FASHION_MNIST`) and its metrics
(`experiments.evaluators.FashionMetrics`).

Default tier: a tiny synthetic MNIST-format IDX set (10 classes, each a random 28×28 prototype
plus pixel noise) and a tiny recipe of the same network, trained once per module: determinism,
the cache and its key, and each metric's definition (the real test split against the training
split: near-zero Fréchet and KID, all classes; copies of training images: nearest-training-
neighbour share 1; one class: 1 class covered and a classifier score of 1). Slow tier: the real
classifier trained on Debian's Fashion-MNIST files, its measured test accuracy and reference
values.
"""

import dataclasses
import gzip
import os
import struct
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from experiments.evaluators import FashionMetrics
from wgan_jax import classifier as C
from wgan_jax import image_metrics as im
from wgan_jax.data import idx

TINY = dataclasses.replace(C.FASHION_MNIST, name="tiny", convs=((8, 5, 2), (16, 5, 2)),
                           hidden=32, steps=60, batch=32, lr=3e-3, max_shift=0, flip=False,
                           conv_impl="auto")
N_TRAIN, N_TEST = 400, 240


def _idx(a: np.ndarray) -> bytes:
  return bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def synthetic(n: int, seed: int, protos: np.ndarray):
  """n uint8 images: prototype (label) + N(0, 25²) pixel noise, labels cycling 0..9."""
  rng = np.random.default_rng(seed)
  labels = np.arange(n) % 10
  x = protos[labels] + rng.normal(0, 25, (n, 28, 28))
  return np.clip(x, 0, 255).astype(np.uint8), labels.astype(np.uint8)


def same_params(a, b) -> bool:
  (la, ta), (lb, tb) = jax.tree.flatten(a), jax.tree.flatten(b)
  return ta == tb and all(np.array_equal(x, y) for x, y in zip(la, lb))


def write_idx_set(folder):
  os.makedirs(folder, exist_ok=True)
  protos = np.random.default_rng(0).uniform(0, 255, (10, 28, 28))
  for prefix, n, seed in (("train", N_TRAIN, 1), ("t10k", N_TEST, 2)):
    x, y = synthetic(n, seed, protos)
    for kind, a in (("images-idx3", x), ("labels-idx1", y)):
      with open(os.path.join(folder, f"{prefix}-{kind}-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(_idx(a)))
  return protos


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  root = tmp_path_factory.mktemp("fashion")
  folder, cache = str(root / "idx"), str(root / "cache")
  protos = write_idx_set(folder)
  xt, yt = idx.load_fashion_mnist(folder, "train")
  xv, yv = idx.load_fashion_mnist(folder, "test")
  data = SimpleNamespace(train=xt, validation=xv, labels=yt)
  metrics = FashionMetrics(data, directory=folder, cache_dir=cache, recipe=TINY)
  return SimpleNamespace(folder=folder, cache=cache, metrics=metrics, xt=xt, yt=yt, xv=xv, yv=yv,
                         protos=protos)


def test_training_is_deterministic_and_cached_under_a_key_of_the_recipe(tiny):
  m = tiny.metrics
  assert not m.info["cached"] and m.info["test_accuracy"] >= 0.95, m.info
  key = C.cache_key(TINY, tiny.xt, tiny.yt)
  assert os.path.basename(m.info["path"]) == f"tiny_classifier-{key}.msgpack"
  said = []
  params, info = C.load_or_train_fashion_classifier(tiny.cache, tiny.folder, TINY,
                                                    announce=said.append)
  assert info["cached"] and info["path"] == m.info["path"]
  assert said == []   # a cache read is silent; a training says so first (below)
  C.load_or_train_fashion_classifier(str(tiny.cache) + "-other", tiny.folder, TINY,
                                     announce=said.append)
  assert len(said) == 1 and said[0].startswith("training the tiny classifier once")
  assert info["test_accuracy"] == m.info["test_accuracy"]
  assert info["train_seconds"] == m.info["train_seconds"] > 0   # the training run's record
  assert same_params(params, m.params)
  again = C.train_classifier(TINY, tiny.xt, tiny.yt, jax.random.key(TINY.seed))
  assert same_params(again, m.params)   # the same key trains the same parameters
  other = C.train_classifier(TINY, tiny.xt, tiny.yt, jax.random.key(TINY.seed + 1))
  assert not same_params(other, m.params)
  # Padded, chunked classification gives each image's own outputs (240 padded to 512, against
  # chunks of 100, 100 and 40).
  whole, parts = (C.classify_in_chunks(m.params, tiny.xv, TINY, chunk=c) for c in (2000, 100))
  for a, b in zip(whole, parts):
    assert a.shape[0] == N_TEST
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  # Every training setting and the data are in the key: a changed recipe trains anew.
  for change in (dict(steps=61), dict(lr=1e-3), dict(seed=1), dict(batch=16), dict(flip=True),
                 dict(max_shift=1), dict(hidden=16), dict(convs=((8, 5, 2),))):
    assert C.cache_key(dataclasses.replace(TINY, **change), tiny.xt, tiny.yt) != key, change
  assert C.cache_key(TINY, tiny.xt[::-1], tiny.yt) != key
  assert C.cache_key(TINY, tiny.xt, (tiny.yt + 1) % 10) != key
  assert C.cache_key(dataclasses.replace(TINY, name="other"), tiny.xt, tiny.yt) == key


def test_real_test_split_against_training_split_is_the_near_zero_reference(tiny):
  m = tiny.metrics
  ref = m.reference
  assert ref["fashion_classifier_test_accuracy"] == m.info["test_accuracy"]
  assert ref["fashion_classes_covered"] == 10 and ref["fashion_kl_to_uniform"] < 0.05
  assert ref["fashion_classifier_score"] > 8.0   # confident and balanced: near 10 classes
  noise = np.random.default_rng(3).uniform(-1, 1, (N_TEST // 2, 28, 28, 1)).astype(np.float32)
  bad = m.of(noise)
  assert ref["fashion_frechet_distance"] < 0.05 * bad["fashion_frechet_distance"], (ref, bad)
  assert ref["fashion_kernel_distance"] < 0.05 * bad["fashion_kernel_distance"], (ref, bad)
  same = m.of(tiny.xt)   # the training set itself: exactly zero Fréchet, and every image a copy
  assert same["fashion_frechet_distance"] < 1e-6 * bad["fashion_frechet_distance"]
  assert same["nearest_train_share"] == 1.0
  # Held-out real images: about the 5% of the threshold's quantile, as a fresh generator.
  assert 0.0 < ref["nearest_train_share"] <= 0.15, ref
  assert bad["nearest_train_share"] == 0.0
  assert not any("inception" in k.lower() for k in list(ref) + list(bad))
  assert all(k.startswith("fashion_") or k == "nearest_train_share" for k in bad)


def test_nearest_train_share_detects_memorisation(tiny):
  m = tiny.metrics
  # The threshold: the 5% quantile of the calibration test images' nearest-training distances.
  cal = tiny.xv[:N_TEST // 2]
  d_cal = im.nearest_neighbour_distances(cal, tiny.xt)
  assert m.threshold == pytest.approx(np.quantile(d_cal, 0.05), rel=1e-12)
  assert np.mean(d_cal < m.threshold) == pytest.approx(0.05, abs=1 / len(cal))
  copies = tiny.xt[:150] + np.random.default_rng(4).normal(0, 0.01, (150, 28, 28, 1))
  assert m.of(copies)["nearest_train_share"] == 1.0   # near-copies of training images
  half = np.concatenate([tiny.xt[:100], tiny.xv[N_TEST // 2:N_TEST // 2 + 100]])
  share = m.of(half)["nearest_train_share"]
  assert 0.5 <= share <= 0.6, share   # half copied, half fresh (≈ 5% of those)
  # Fresh images of the same distribution: about 5%.
  protos = tiny.protos
  x, _ = synthetic(400, 7, protos)
  fresh = (x.astype(np.float32) / 127.5 - 1.0)[..., None]
  assert m.of(fresh)["nearest_train_share"] <= 0.12


def test_nearest_neighbour_distances_match_brute_force():
  rng = np.random.default_rng(5)
  q, r = (rng.normal(size=(n, 6, 5)).astype(np.float32) for n in (37, 101))
  diff = q.reshape(37, 1, -1).astype(np.float64) - r.reshape(1, 101, -1)
  brute = np.sqrt((diff ** 2).sum(-1)).min(1)
  for chunk in (7, 101, 1000):   # blocks across the reference, one block, a larger one
    np.testing.assert_allclose(im.nearest_neighbour_distances(q, r, chunk=chunk), brute,
                               rtol=1e-12)
  assert (im.nearest_neighbour_distances(r[[3, 50, 100]], r, chunk=7) == 0).all()
  assert im.nearest_train_share(np.array([0.0, 1.0, 2.0, 3.0]), 2.0) == 0.5  # strictly below
  with pytest.raises(ValueError, match="same row size"):
    im.nearest_neighbour_distances(q, r[:, :5])


def test_one_class_covers_one_class_and_the_share_rule(tiny):
  m = tiny.metrics
  one = tiny.xv[tiny.yv == 3]
  out = m.of(one)
  assert out["fashion_classes_covered"] == 1
  assert out["fashion_classifier_score"] == pytest.approx(1.0, abs=0.05)
  assert out["fashion_kl_to_uniform"] == pytest.approx(np.log(10), abs=1e-9)
  # The rule: a class counts when it takes at least 1% of the samples.
  logits = np.eye(10)[[0] * 99 + [1]]            # class 1: exactly 1% -> covered
  assert im.class_histogram(logits, min_share=0.01)["classes_covered"] == 2
  logits = np.eye(10)[[0] * 199 + [1]]           # class 1: 0.5% -> not covered
  assert im.class_histogram(logits, min_share=0.01)["classes_covered"] == 1
  assert im.class_histogram(logits)["classes_covered"] == 2   # default: any one sample


# ------------------------------------------------------------------------------ the real files
# Measured: 0.9023 on the 10,000 test images (FASHION_MNIST recipe, key 0, XLA:CPU); the
# margin allows other CPUs' rounding.
REAL_ACCURACY = 0.9023


@pytest.mark.slow
def test_real_fashion_mnist_classifier_accuracy_and_references():
  if not os.path.isfile(os.path.join(idx.FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz")):
    pytest.skip(f"Fashion-MNIST is not installed (Debian: {idx.INSTALL_HINT})")
  xt, yt = idx.load_fashion_mnist(None, "train")
  xv, _ = idx.load_fashion_mnist(None, "test")
  # The default cache, which the figures' and jobs' tests on Fashion-MNIST share: the real
  # classifier is trained once per machine (the tiny recipe above tests training and caching).
  m = FashionMetrics(SimpleNamespace(train=xt, validation=xv, labels=yt), 2500)
  ref = m.reference
  assert ref["fashion_classifier_test_accuracy"] >= REAL_ACCURACY - 0.01, ref
  assert ref["fashion_classes_covered"] == 10
  assert ref["fashion_classifier_score"] > 7.0
  assert 0.02 <= ref["nearest_train_share"] <= 0.09, ref
  noise = np.random.default_rng(0).uniform(-1, 1, (2500, 28, 28, 1)).astype(np.float32)
  assert ref["fashion_frechet_distance"] < 0.05 * m.of(noise)["fashion_frechet_distance"]
  assert m.of(xt[:2500])["nearest_train_share"] == 1.0
