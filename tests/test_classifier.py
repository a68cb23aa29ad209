"""The project's digit classifier: accuracy on held-out digits, caching, metric sanity."""

import dataclasses

import jax
import numpy as np
import pytest

from wgan_jax import classifier
from wgan_jax import image_metrics as im
from wgan_jax.classifier import classify, load_or_train_digit_classifier
from wgan_jax.data.images import load_digits


def test_short_training_learns_is_cached_and_separates_digits_from_noise(tmp_path, monkeypatch):
  """The path of `load_or_train_digit_classifier` (train, write the cache, read it back, score)
  with a 30-step recipe: the full 600 steps are the slow test below."""
  monkeypatch.setattr(classifier, "DIGITS", dataclasses.replace(classifier.DIGITS, steps=30))
  params, acc = load_or_train_digit_classifier(str(tmp_path))
  # An untrained or label-blind classifier stays near chance (0.1).
  assert acc > 0.6, acc
  assert (tmp_path / "digit_classifier.msgpack").exists()
  params2, acc2 = load_or_train_digit_classifier(str(tmp_path))  # from the cache
  assert acc2 == acc
  for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(params2)):
    np.testing.assert_array_equal(a, b)
  xt, _, xv, _ = load_digits()
  logits_v, feats_v = (np.asarray(a) for a in classify(params, xv))
  assert logits_v.shape == (len(xv), 10)
  _, feats_t = (np.asarray(a) for a in classify(params, xt))
  noise = np.random.default_rng(0).uniform(-1, 1, xv.shape).astype(np.float32)
  _, feats_n = (np.asarray(a) for a in classify(params, noise))
  assert im.frechet_distance(feats_v, feats_t) < 0.2 * im.frechet_distance(feats_n, feats_t)


@pytest.mark.slow
def test_classifier_accuracy_cache_and_scores(tmp_path):
  params, acc = load_or_train_digit_classifier(str(tmp_path))
  assert acc >= 0.97, acc  # the bar, on the 297 held-out digits
  assert (tmp_path / "digit_classifier.msgpack").exists()
  params2, acc2 = load_or_train_digit_classifier(str(tmp_path))  # from the cache
  assert acc2 == acc
  xt, _, xv, _ = load_digits()
  logits_v, feats_v = (np.asarray(a) for a in classify(params, xv))
  logits_t, feats_t = (np.asarray(a) for a in classify(params, xt))
  # Real digits: a classifier score near 10 classes, all classes covered, and a Fréchet
  # distance between held-out and training digits far below that of noise.
  assert im.classifier_score(logits_v) > 8.0
  assert im.class_histogram(logits_v)["classes_covered"] == 10
  noise = np.random.default_rng(0).uniform(-1, 1, xv.shape).astype(np.float32)
  _, feats_n = (np.asarray(a) for a in classify(params, noise))
  floor = im.frechet_distance(feats_v, feats_t)
  assert floor < 0.2 * im.frechet_distance(feats_n, feats_t)
