"""The Fréchet and kernel (KID) distances against references computed independently.

Fréchet: Tr((Σ_a Σ_b)^{1/2}) of two covariances that do not commute (random dense ones), from a
symmetric eigendecomposition, Tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}), and from `scipy.linalg.sqrtm`;
a diagonal or "commuting" square root is far off on such data. KID: the unbiased MMD² with the
cubic kernel k(x, y) = (x·y/d + 1)³ (Bińkowski et al. 2018, arXiv:1801.01401, eq. (4)) written
as explicit double loops; the biased estimator and the other kernels are checked to be far from
the library's value, so that a test at this tolerance tells them apart.
"""

import numpy as np
import scipy.linalg

from wgan_jax.image_metrics import frechet_distance, kernel_distance


def _random_covariance(rng, d):
  a = rng.normal(size=(d, d)) / np.sqrt(d)
  return a @ a.T + 0.1 * np.eye(d)


def _gaussian_features(seed=0, d=12, n=2000):
  """Two Gaussian samples [n, d] whose covariances are dense and do not commute."""
  rng = np.random.default_rng(seed)
  cov_a, cov_b = _random_covariance(rng, d), _random_covariance(rng, d)
  assert np.abs(cov_a @ cov_b - cov_b @ cov_a).max() > 0.1  # really non-commuting
  xa = rng.multivariate_normal(np.zeros(d), cov_a, size=n)
  xb = rng.multivariate_normal(0.1 * rng.normal(size=d), cov_b, size=n)
  return xa, xb


def _mean_cov(x):
  mu = x.mean(axis=0)
  return mu, (x - mu).T @ (x - mu) / (len(x) - 1)  # the unbiased sample covariance


def _psd_sqrt(c):
  w, v = np.linalg.eigh(c)
  return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _frechet_reference(xa, xb):
  """‖μ_a − μ_b‖² + Tr Σ_a + Tr Σ_b − 2 Σ √λ(Σ_a^{1/2} Σ_b Σ_a^{1/2}), by eigh only."""
  (mu_a, cov_a), (mu_b, cov_b) = _mean_cov(xa), _mean_cov(xb)
  root_a = _psd_sqrt(cov_a)
  lam = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
  return (np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
          - 2.0 * np.sum(np.sqrt(np.clip(lam, 0.0, None))))


def test_frechet_distance_matches_independent_references_on_correlated_data():
  xa, xb = _gaussian_features()
  value = frechet_distance(xa, xb)
  ref = _frechet_reference(xa, xb)
  (mu_a, cov_a), (mu_b, cov_b) = _mean_cov(xa), _mean_cov(xb)
  ref_sqrtm = (np.sum((mu_a - mu_b) ** 2)
               + np.trace(cov_a + cov_b - 2.0 * scipy.linalg.sqrtm(cov_a @ cov_b).real))
  tol = 1e-8 * ref
  np.testing.assert_allclose(ref_sqrtm, ref, rtol=1e-10)  # the two references agree
  assert abs(value - ref) <= tol, (value, ref)
  # Shortcuts that are exact only for diagonal or commuting covariances are far off here.
  dmu2 = np.sum((mu_a - mu_b) ** 2)
  wrong = {
      "diagonal covariances": dmu2 + np.sum((np.sqrt(np.diag(cov_a))
                                             - np.sqrt(np.diag(cov_b))) ** 2),
      "sqrt of diag(Σ_a Σ_b)": dmu2 + np.trace(cov_a + cov_b)
                               - 2.0 * np.sum(np.sqrt(np.abs(np.diag(cov_a @ cov_b)))),
      "Σ_a^{1/2} Σ_b^{1/2}": dmu2 + np.trace(cov_a + cov_b
                                             - 2.0 * _psd_sqrt(cov_a) @ _psd_sqrt(cov_b)),
  }
  for name, w in wrong.items():
    assert abs(w - value) > 1e3 * tol + 0.05 * ref, (name, w, value)


def test_frechet_distance_is_symmetric_and_exact_for_a_pure_shift():
  xa, xb = _gaussian_features(seed=1, d=8, n=500)
  # sqrtm(Σ_a Σ_b) and sqrtm(Σ_b Σ_a) are different matrices with the same trace
  np.testing.assert_allclose(frechet_distance(xa, xb), frechet_distance(xb, xa), rtol=1e-8)
  shift = np.linspace(-1.0, 1.0, 8)
  # same covariance: Tr(2Σ − 2(Σ²)^{1/2}) = 0, only ‖shift‖² remains
  np.testing.assert_allclose(frechet_distance(xa, xa + shift), np.sum(shift ** 2), rtol=1e-6)


def _kid_reference(xa, xb, kernel, biased=False):
  """MMD² by explicit double loops over the examples (no matrix algebra)."""
  m, n = len(xa), len(xb)
  skip = not biased  # the unbiased estimator leaves out k(x_i, x_i)
  s_aa = sum(kernel(xa[i], xa[j]) for i in range(m) for j in range(m) if not (skip and i == j))
  s_bb = sum(kernel(xb[i], xb[j]) for i in range(n) for j in range(n) if not (skip and i == j))
  s_ab = sum(kernel(xa[i], xb[j]) for i in range(m) for j in range(n))
  if biased:
    return s_aa / m ** 2 + s_bb / n ** 2 - 2.0 * s_ab / (m * n)
  return s_aa / (m * (m - 1)) + s_bb / (n * (n - 1)) - 2.0 * s_ab / (m * n)


def test_kernel_distance_is_the_unbiased_cubic_kernel_mmd():
  rng = np.random.default_rng(0)
  d = 5
  xa = rng.normal(size=(30, d))  # different set sizes, so m and n cannot be swapped
  xb = 1.3 * rng.normal(size=(41, d)) + 0.4
  value = kernel_distance(xa, xb)
  cubic = lambda x, y: (np.dot(x, y) / d + 1.0) ** 3
  ref = _kid_reference(xa, xb, cubic)
  tol = 1e-9 * abs(ref)
  assert abs(value - ref) <= tol, (value, ref)
  wrong = {
      "biased estimator": _kid_reference(xa, xb, cubic, biased=True),
      "quadratic kernel": _kid_reference(xa, xb, lambda x, y: (np.dot(x, y) / d + 1.0) ** 2),
      "gamma = 1": _kid_reference(xa, xb, lambda x, y: (np.dot(x, y) + 1.0) ** 3),
      "linear kernel": _kid_reference(xa, xb, lambda x, y: np.dot(x, y) / d + 1.0),
  }
  for name, w in wrong.items():
    assert abs(w - value) > 1e4 * tol, (name, w, value)


def test_kernel_distance_is_unbiased_between_samples_of_one_distribution():
  # E[KID] = 0 when both sets come from one distribution; the biased estimator is positive
  # (by about E k(x, x)/m + E k(y, y)/n). Mean over 300 pairs of small sets, ±4 standard errors.
  rng = np.random.default_rng(1)
  d, m, n = 4, 12, 15
  values, biased = [], []
  for _ in range(300):
    xa, xb = rng.normal(size=(m, d)), rng.normal(size=(n, d))
    values.append(kernel_distance(xa, xb))
    k = lambda x, y: (x @ y.T / d + 1.0) ** 3
    biased.append(k(xa, xa).mean() + k(xb, xb).mean() - 2.0 * k(xa, xb).mean())
  se = np.std(values) / np.sqrt(len(values))
  assert abs(np.mean(values)) < 4 * se, (np.mean(values), se)
  assert np.mean(biased) > 10 * se + abs(np.mean(values))


def test_frechet_distance_of_a_set_to_itself_is_zero():
  xa, _ = _gaussian_features(seed=2, d=6, n=300)
  assert abs(frechet_distance(xa, xa)) < 1e-8
