"""Toy samplers and the mode-coverage / exact-W1 metrics."""

import math

import jax
import numpy as np
import pytest
import scipy.stats

import wgan_jax as wj
from wgan_jax.data import load_points, make_toy_dataset, points_dataset


@pytest.mark.parametrize("name,n_modes,radius,std", [
    ("8gaussians", 8, 2 / 1.414, 0.02 / 1.414),
    ("25gaussians", 25, None, 0.05 / 2.828),
])
def test_mixture_samplers(name, n_modes, radius, std):
  ds = make_toy_dataset(name)
  assert ds.centres.shape == (n_modes, 2)
  np.testing.assert_allclose(ds.std, std, rtol=1e-6)
  if radius is not None:
    np.testing.assert_allclose(np.linalg.norm(ds.centres, axis=1), radius, rtol=1e-5)
  else:
    np.testing.assert_allclose(np.unique(ds.centres[:, 0]), np.arange(-4, 5, 2) / 2.828,
                               rtol=1e-5)
  x = np.asarray(ds.sample(jax.random.key(0), 20_000))
  d = np.linalg.norm(x[:, None] - ds.centres[None], axis=2)
  nearest = d.argmin(1)
  resid = x - ds.centres[nearest]
  np.testing.assert_allclose(resid.std(0), std, rtol=0.05)  # σ per coordinate
  counts = np.bincount(nearest, minlength=n_modes)
  assert scipy.stats.chisquare(counts).pvalue > 1e-3  # modes equally likely
  m = wj.mode_coverage(x[:2500], ds.centres, ds.std)
  assert m["modes"] == n_modes and m["hq_fraction"] > 0.97 and m["reverse_kl"] < 0.05
  np.testing.assert_array_equal(ds.sample(jax.random.key(0), 5), ds.sample(jax.random.key(0), 5))


def test_swissroll():
  ds = make_toy_dataset("swissroll")
  assert ds.centres is None
  x = np.asarray(ds.sample(jax.random.key(1), 10_000))
  r = np.linalg.norm(x, axis=1) * 7.5  # t = 1.5π(1 + 2u) ∈ [1.5π, 4.5π] before noise
  assert np.percentile(r, 1) > 1.5 * np.pi - 1.0 and np.percentile(r, 99) < 4.5 * np.pi + 1.0
  # On the spiral (t cos t, t sin t) the angle equals the radius mod 2π, up to the noise (was:
  # only the radii were checked, which any annulus passes): an annulus of the same radii has a
  # uniform phase and fails.
  phase = np.arctan2(x[:, 1], x[:, 0]) - r
  assert np.mean(np.cos(phase)) > 0.9
  phi = np.random.default_rng(0).uniform(0, 2 * np.pi, len(r))
  assert abs(np.mean(np.cos(phi - r))) < 0.1
  # The distribution of scikit-learn's make_swiss_roll (noise 0.25, its x and z columns, ÷ 7.5,
  # as the official gan_toy.py), by a two-sample KS test on each coordinate.
  from sklearn.datasets import make_swiss_roll
  ref = make_swiss_roll(10_000, noise=0.25, random_state=0)[0][:, [0, 2]] / 7.5
  for j in range(2):
    assert scipy.stats.ks_2samp(x[:, j], ref[:, j]).pvalue > 1e-3
  assert scipy.stats.ks_2samp(x[:, 0], -ref[:, 0]).pvalue < 1e-6   # the test can reject


def test_unknown_dataset():
  with pytest.raises(ValueError, match="unknown dataset"):
    make_toy_dataset("moons")


def test_points_dataset_checks(tmp_path):
  ds = points_dataset(np.array([[0.0, 1.0], [2.0, 3.0]]))
  x = np.asarray(ds.sample(jax.random.key(0), 100))
  assert set(map(tuple, x)) == {(0.0, 1.0), (2.0, 3.0)}
  with pytest.raises(ValueError, match="NaN"):
    points_dataset(np.array([[0.0, np.nan]]))
  with pytest.raises(ValueError, match=r"\[N, 2\]"):
    points_dataset(np.zeros((4, 3)))
  path = tmp_path / "p.csv"
  path.write_text("0,1\n2,nan\n")
  with pytest.raises(ValueError, match="row 1"):
    load_points(str(path))
  with pytest.raises(ValueError, match="cannot read"):
    load_points(str(tmp_path / "missing.npy"))


def test_mode_coverage_hand_computed():
  centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
  std = 1.0
  # 3 samples at mode 0, 1 at mode 1 (2.9σ away: HQ), 1 at 3.1σ from mode 2 (not HQ).
  x = np.array([[0, 0], [0.5, 0], [0, 0.5], [12.9, 0], [0, 13.1]], float)
  m = wj.mode_coverage(x, centres, std)
  assert m["modes"] == 2 and m["num_modes"] == 4
  assert m["hq_fraction"] == pytest.approx(4 / 5)
  p = np.array([3 / 4, 1 / 4])
  assert m["reverse_kl"] == pytest.approx(float(np.sum(p * np.log(4 * p))))
  far = wj.mode_coverage(np.array([[50.0, 50.0]]), centres, std)
  assert far["modes"] == 0 and far["hq_fraction"] == 0 and far["reverse_kl"] == math.inf
  uniform = wj.mode_coverage(centres, centres, std)
  assert uniform["modes"] == 4 and uniform["reverse_kl"] == pytest.approx(0.0)


def test_w1_exact():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(300, 2))
  shift = np.array([0.3, -0.4])
  assert wj.wasserstein1_exact(x, x + shift) == pytest.approx(0.5, rel=1e-9)
  a, b = rng.normal(size=500), rng.exponential(size=500)
  z = np.zeros(500)
  assert wj.wasserstein1_exact(np.stack([a, z], 1), np.stack([b, z], 1)) == pytest.approx(
      scipy.stats.wasserstein_distance(a, b), rel=1e-9)
  with pytest.raises(ValueError):
    wj.wasserstein1_exact(x, x[:10])
