"""Classifier score, Fréchet and kernel distances against analytic values."""

import math

import numpy as np
import pytest

from wgan_jax import image_metrics as im


def test_classifier_score_bounds():
  confident_uniform = np.eye(10)[np.arange(1000) % 10] * 50.0
  assert im.classifier_score(confident_uniform) == pytest.approx(10.0, rel=1e-6)
  one_class = np.tile(np.eye(10)[3] * 50.0, (100, 1))
  assert im.classifier_score(one_class) == pytest.approx(1.0, rel=1e-6)
  unsure = np.zeros((100, 10))
  assert im.classifier_score(unsure) == pytest.approx(1.0, rel=1e-9)
  # Two classes, each prediction 90/10: exp(KL) with p(y) = (1/2, 1/2).
  logits = np.log(np.array([[0.9, 0.1], [0.1, 0.9]] * 50))
  kl = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
  assert im.classifier_score(logits) == pytest.approx(math.exp(kl), rel=1e-9)
  assert im.classifier_score(confident_uniform, splits=10) == pytest.approx(10.0, rel=1e-6)


def test_frechet_distance_analytic():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(20000, 3))
  assert im.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
  shift = np.array([1.0, -2.0, 0.5])
  assert im.frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
  # Scaled: Σ_b = s² Σ_a with Σ_a ≈ I gives d·(1 - s)² for the covariance term.
  fd = im.frechet_distance(x, 2.0 * x)
  assert fd == pytest.approx(3 * (1 - 2.0) ** 2, rel=0.05)


def test_kernel_distance():
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
  same = im.kernel_distance(a, b)
  shifted = im.kernel_distance(a, b + 1.0)
  assert abs(same) < 0.05 and shifted > 10 * abs(same) and shifted > 0.1


def test_class_histogram():
  logits = np.eye(4)[[0, 0, 1, 3]]
  h = im.class_histogram(logits)
  p = np.array([0.5, 0.25, 0.25])
  assert h["classes_covered"] == 3 and h["kl_to_uniform"] == pytest.approx(
      float(np.sum(p * np.log(4 * p))))


def test_bad_shapes():
  with pytest.raises(ValueError):
    im.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
  with pytest.raises(ValueError):
    im.classifier_score(np.zeros(5))


def test_stacked_modes():
  eye = np.eye(10)
  # Samples with label triples (1,2,3) twice and (4,5,6) once.
  logits = np.stack([np.stack([eye[1], eye[2], eye[3]])] * 2 + [np.stack([eye[4], eye[5],
                                                                           eye[6]])])
  m = im.stacked_modes(logits * 10)
  p = np.array([2 / 3, 1 / 3])
  assert m["modes"] == 2 and m["num_modes"] == 1000
  assert m["kl_to_uniform"] == pytest.approx(float(np.sum(p * np.log(1000 * p))))
  with pytest.raises(ValueError):
    im.stacked_modes(np.zeros((4, 2, 10)))


def test_stacked_digits_cover_all_modes_with_the_real_labels():
  from wgan_jax.data.images import load_digits, stack_digits
  xt, yt, _, _ = load_digits()
  stacked = stack_digits(xt, 26_000, seed=0)
  assert stacked.shape == (26_000, 8, 8, 3)
  # Label the channels with the true labels (by lookup): all 1000 modes, KL near 0.
  lookup = {x.tobytes(): y for x, y in zip(xt, yt)}
  labels = np.array([[lookup[s[..., c:c + 1].tobytes()] for c in range(3)]
                     for s in stacked[:26_000]])
  m = im.stacked_modes(np.eye(10)[labels])
  assert m["modes"] == 1000 and m["kl_to_uniform"] < 0.05
