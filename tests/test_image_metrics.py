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


def _exact_moments(rng, n, mean, cov):
  """n points whose sample mean and (n − 1)-normalised covariance are exactly `mean`, `cov`."""
  z = rng.normal(size=(n, len(mean)))
  z -= z.mean(axis=0)
  z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # sample cov = I
  return z @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_analytic_on_correlated_data():
  """A closed form, no matrix square root: for 2 × 2 covariances Σ_a Σ_b has eigenvalues
  λ₁, λ₂ ≥ 0 and Tr (Σ_a Σ_b)^{1/2} = √λ₁ + √λ₂ = (Tr Σ_a Σ_b + 2 (det Σ_a det Σ_b)^{1/2})^{1/2}.
  The covariances are correlated and do not commute, so a diagonal (or element-wise) square
  root is far off: it gives −0.48 (clamped to 0) instead of 0.614 here. The samples are built
  with exactly these moments, so the library must match to rounding.
  (tests/test_image_metric_references.py checks 12-D random covariances against scipy's sqrtm
  and an eigendecomposition.)"""
  rng = np.random.default_rng(0)
  cov_a = np.array([[1.0, 0.9], [0.9, 1.0]])
  cov_b = np.array([[2.0, 0.6], [0.6, 0.5]])
  assert np.abs(cov_a @ cov_b - cov_b @ cov_a).max() > 1.0  # they do not commute
  mu_b = np.array([0.3, -0.4])
  xa = _exact_moments(rng, 50, np.zeros(2), cov_a)
  xb = _exact_moments(rng, 60, mu_b, cov_b)
  tr_sqrt = math.sqrt(np.trace(cov_a @ cov_b)
                      + 2 * math.sqrt(np.linalg.det(cov_a) * np.linalg.det(cov_b)))
  expected = float(mu_b @ mu_b + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt)
  assert expected == pytest.approx(0.6136132526, rel=1e-9)
  assert im.frechet_distance(xa, xb) == pytest.approx(expected, rel=1e-9)
  assert im.frechet_distance(xb, xa) == pytest.approx(expected, rel=1e-9)
  # Σ_b = s² Σ_a (the same correlated Σ_a): (Σ_a Σ_b)^{1/2} = s Σ_a, so only (1 − s)² Tr Σ_a
  # remains (a diagonal square root gives −1.57 here).
  assert im.frechet_distance(xa, 1.5 * xa) == pytest.approx(0.25 * np.trace(cov_a), rel=1e-9)
  shift = np.array([1.0, -2.0])
  assert im.frechet_distance(xa, xa + shift) == pytest.approx(5.0, rel=1e-9)
  assert im.frechet_distance(xa, xa) == pytest.approx(0.0, abs=1e-9)


def test_kernel_distance_worked_example():
  """KID, the unbiased MMD² with k(x, y) = (x·y/d + 1)³ (Bińkowski et al. 2018), by hand on
  a = {(1, 1), (1, −1)}, b = {(2, 0), (0, 2), (0, 0)}, d = 2. The dot products within a and
  within b are all 0 (k = 1), so both within-set means are 1; across, a·b is 2 (k = 8) three
  times, 0 (k = 1) twice and −2 (k = 0) once: mean 26/6. KID = 1 + 1 − 2·26/6 = −20/3.
  Each usual mistake gives another value: the biased estimator (with k(x, x)) 2.61, m and n
  swapped −5.33, a quadratic kernel −2.67, γ = 1 instead of 1/d −25.3, a linear kernel −0.67.
  (tests/test_image_metric_references.py checks random sets against double loops and the
  estimator's unbiasedness.)"""
  a = np.array([[1.0, 1.0], [1.0, -1.0]])
  b = np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
  assert im.kernel_distance(a, b) == pytest.approx(-20 / 3, rel=1e-12)
  assert im.kernel_distance(b, a) == pytest.approx(-20 / 3, rel=1e-12)
  # Halved: a·b = 2 → 1/2 → k = (5/4)³, −2 → (3/4)³; within-set still 1. KID = −73/96.
  assert im.kernel_distance(a / 2, b / 2) == pytest.approx(
      2 - 2 * (3 * 125 / 64 + 2 + 27 / 64) / 6, rel=1e-12)
  assert 2 - 2 * (3 * 125 / 64 + 2 + 27 / 64) / 6 == pytest.approx(-73 / 96, rel=1e-12)


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
