"""original_gan_parzen (Goodfellow et al. Table 1, Figs 2-3): the Parzen-window estimator
against a direct computation, and the bandwidth choice."""

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from experiments.figures import original_gan_parzen as op


def test_parzen_log_likelihood_matches_a_direct_gaussian_mixture():
  rng = np.random.default_rng(0)
  centres, x = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
  sigmas = np.array([0.3, 1.0])
  got = op.parzen_log_likelihood(x, centres, sigmas, chunk=2)
  for i, s in enumerate(sigmas):
    dens = np.mean([scipy.stats.multivariate_normal.pdf(x, c, s * s * np.eye(3))
                    for c in centres], axis=0)
    np.testing.assert_allclose(got[i], np.log(dens), rtol=1e-4)


def test_bandwidth_is_chosen_on_validation_and_is_interior_for_gaussian_data():
  rng = np.random.default_rng(1)
  centres, val, test = (rng.normal(0, 0.5, size=(n, 4)) for n in (400, 200, 200))
  sigmas = np.logspace(-2, 1, 13)
  est = op.parzen_estimate(val, test, centres, sigmas)
  assert 0 < est["sigma_index"] < len(sigmas) - 1
  assert est["sigma"] == sigmas[int(np.argmax(est["validation_curve"]))]
  # the test value is the estimator at that σ, mean ± standard error
  ll = op.parzen_log_likelihood(test, centres, sigmas[est["sigma_index"]:][:1])[0]
  assert est["mean"] == pytest.approx(ll.mean(), rel=1e-6)
  assert est["se"] == pytest.approx(ll.std(ddof=1) / math.sqrt(len(ll)), rel=1e-6)


def test_interpolation_and_pixel_scaling():
  path = op.interpolate(np.zeros(2), np.array([2.0, -4.0]), 5)
  np.testing.assert_allclose(path[[0, 2, 4]], [[0, 0], [1, -2], [2, -4]])
  np.testing.assert_allclose(op.to_unit(np.array([-3.0, -1.0, 0.0, 1.0, 2.0])),
                             [0, 0, 0.5, 1, 1])
