"""FID, Inception score, KID and precision/recall on Inception features, as torch-fidelity.

Each metric is the formula of its paper computed the way torch-fidelity 0.4.0 computes it
(Obukhov et al., github.com/toshas/torch-fidelity: metric_fid.py, metric_isc.py, metric_kid.py,
metric_prc.py), down to its splits, subsets and random-number draws, so that the numbers equal
the reference's (tests/test_inception_parity.py). Statistics are float64. Features come from
`wgan_jax.inception.extract`; `evaluate` streams images through the network in batches.

  FID   ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^{1/2}                 (Heusel et al. 2017)
  IS    exp E_x KL(p(y|x) ‖ p(y)), mean ± std over 10 splits          (Salimans et al. 2016)
  KID   unbiased MMD² with k(x, y) = (x·y/d + 1)³, mean ± std over subsets (Bińkowski et al. 2018)
  P/R   share of samples inside the other set's k-NN balls, k = 3     (Kynkäänniemi et al. 2019)
"""

from __future__ import annotations

import os
from typing import Dict, Tuple

import numpy as np

from wgan_jax.errors import ConfigError


# ---------------------------------------------------------------------------------------------
# FID.

class FeatureStatistics:
  """Streaming float64 mean and covariance of feature rows (for FID over 50,000 samples).

  Accumulates Σ (x − c) and Σ (x − c)(x − c)ᵀ around c, the first batch's mean (shifting keeps
  the one-pass covariance exact to float64 rounding when features have a large mean); then
  μ = c + S₁/n and Σ = (S₂ − S₁S₁ᵀ/n)/(n − 1), NumPy's `np.cov(rowvar=False)`.
  """

  def __init__(self):
    self.n = 0
    self.shift = self.s1 = self.s2 = None

  def update(self, features) -> "FeatureStatistics":
    f = np.asarray(features, np.float64)
    if f.ndim != 2:
      raise ValueError(f"features must be [N, d], got shape {f.shape}")
    if not len(f):
      return self
    if self.shift is None:
      self.shift = f.mean(axis=0)
      d = f.shape[1]
      self.s1, self.s2 = np.zeros(d), np.zeros((d, d))
    elif f.shape[1] != len(self.shift):
      raise ValueError(f"features of width {f.shape[1]}, earlier ones {len(self.shift)}")
    c = f - self.shift
    self.s1 += c.sum(axis=0)
    self.s2 += c.T @ c
    self.n += len(f)
    return self

  def result(self) -> Tuple[np.ndarray, np.ndarray]:
    """(μ [d], Σ [d, d]), float64."""
    if self.n < 2:
      raise ValueError(f"statistics need at least 2 samples, got {self.n}")
    mean_c = self.s1 / self.n
    sigma = (self.s2 - np.outer(self.s1, mean_c)) / (self.n - 1)
    return self.shift + mean_c, (sigma + sigma.T) / 2


def statistics(features) -> Tuple[np.ndarray, np.ndarray]:
  """(μ, Σ) of feature rows in float64 (`FeatureStatistics` in one batch)."""
  return FeatureStatistics().update(features).result()


def frechet_distance(mu1, sigma1, mu2, sigma2, *, method: str = "eigvals",
                     eps: float = 1e-6) -> float:
  """FID = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^{1/2} between two Gaussians.

  Tr (Σ₁Σ₂)^{1/2} is computed one of two standard ways, equal when Σ₁Σ₂ is well conditioned:
    "eigvals" (torch-fidelity 0.4.0's `fid_statistics_to_metric`): Σ_i Re √λ_i over the
      eigenvalues λ_i of Σ₁Σ₂ taken as complex numbers (tiny negative or complex eigenvalues of
      an ill-conditioned product contribute ≈ 0 instead of failing);
    "sqrtm" (TTUR's fid.py and pytorch-fid's `calculate_frechet_distance`): scipy's sqrtm of
      Σ₁Σ₂; if the result is not finite, sqrtm((Σ₁ + εI)(Σ₂ + εI)) with ε = `eps`; the real
      part, after checking that the diagonal's imaginary part is below 1e-3.

  References:
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium", NeurIPS 2017, arXiv:1706.08500.
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
    raise ValueError(f"statistics of different shapes: mu {mu1.shape} / {mu2.shape}, sigma "
                     f"{s1.shape} / {s2.shape}")
  diff = mu1 - mu2
  if method == "eigvals":
    tr_covmean = np.sum(np.sqrt(np.linalg.eigvals(s1 @ s2).astype(np.complex128)).real)
  elif method == "sqrtm":
    import scipy.linalg
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
      offset = np.eye(len(s1)) * eps
      covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
      if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
        raise ValueError(f"sqrtm: imaginary component {np.max(np.abs(covmean.imag)):.3g}")
      covmean = covmean.real
    tr_covmean = np.trace(covmean)
  else:
    raise ConfigError("method", f"must be 'eigvals' or 'sqrtm', got {method!r}")
  return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def save_statistics(path: str, mu, sigma) -> None:
  """Writes {"mu": [d], "sigma": [d, d]} (float64) as .npz: TTUR's and pytorch-fid's format."""
  mu, sigma = np.asarray(mu, np.float64), np.asarray(sigma, np.float64)
  if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
    raise ValueError(f"mu must be [d] and sigma [d, d], got {mu.shape}, {sigma.shape}")
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  with open(path, "wb") as f:
    np.savez(f, mu=mu, sigma=sigma)


def load_statistics(path: str, *, field: str = "reference") -> Tuple[np.ndarray, np.ndarray]:
  """(μ, Σ) from an .npz with "mu" and "sigma" (TTUR, pytorch-fid or `save_statistics`).

  Raises:
    ConfigError(field, ...): one line naming the file: missing, not an .npz, no mu / sigma,
      shapes that do not fit, non-finite values.
  """
  if not os.path.isfile(path):
    raise ConfigError(field, f"{path}: no such file")
  try:
    with np.load(path, allow_pickle=False) as z:
      if not hasattr(z, "files") or "mu" not in z.files or "sigma" not in z.files:
        raise ConfigError(field, f"{path}: an .npz with arrays 'mu' and 'sigma' expected (FID "
                          "statistics as TTUR / pytorch-fid save them)")
      mu, sigma = np.asarray(z["mu"], np.float64), np.asarray(z["sigma"], np.float64)
  except ConfigError:
    raise
  except (OSError, ValueError) as e:
    raise ConfigError(field, f"{path}: not a readable .npz ({e})") from None
  if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
    raise ConfigError(field, f"{path}: mu {mu.shape} and sigma {sigma.shape} do not fit "
                      "([d] and [d, d])")
  if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
    raise ConfigError(field, f"{path}: non-finite values in mu or sigma")
  return mu, sigma


# ---------------------------------------------------------------------------------------------
# Inception score.

def inception_score(logits, *, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> Tuple[float, float]:
  """(mean, std) of exp E_x KL(p(y|x) ‖ p̂(y)) over `splits` parts, as torch-fidelity.

  torch-fidelity's convention: the rows are permuted by `np.random.RandomState(seed)
  .permutation(N)` (shuffle=True), split i holds rows [i·N//splits, (i+1)·N//splits), p̂ is the
  split's mean of softmax(logits), computed in float64; std is the population std (ddof 0).
  Pass the logits WITHOUT the fc bias (`extract`'s default), as torch-fidelity and Salimans et
  al.'s code.

  References:
    Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, arXiv:1606.03498.
  """
  import scipy.special
  x = np.asarray(logits, np.float64)
  if x.ndim != 2 or splits < 1 or len(x) < splits:
    raise ValueError(f"logits must be [N, classes] with N ≥ splits = {splits}, got {x.shape}")
  n = len(x)
  if shuffle:
    x = x[np.random.RandomState(seed).permutation(n)]
  log_p = scipy.special.log_softmax(x, axis=1)
  p = np.exp(log_p)
  scores = []
  for i in range(splits):
    part = slice(i * n // splits, (i + 1) * n // splits)
    q = p[part].mean(axis=0, keepdims=True)
    kl = np.sum(p[part] * (log_p[part] - np.log(q)), axis=1)
    scores.append(float(np.exp(kl.mean())))
  return float(np.mean(scores)), float(np.std(scores))


# ---------------------------------------------------------------------------------------------
# KID.

def polynomial_kernel(x, y, *, degree: int = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
  """k(x, y) = (γ x·y + c)^degree, γ = 1/d by default (KID's cubic kernel)."""
  gamma = 1.0 / x.shape[1] if gamma is None else gamma
  return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx, k_xy, k_yy) -> float:
  """Unbiased MMD² from m × m kernel matrices: (ΣK_xx − tr + ΣK_yy − tr)/(m(m − 1)) − 2ΣK_xy/m²
  (Gretton et al. 2012; the estimator torch-fidelity's `mmd2` uses by default)."""
  m = len(k_xx)
  off = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
  return float(off - 2 * k_xy.sum() / (m * m))


def kernel_inception_distance(features_1, features_2, *, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 2020, degree: int = 3,
                              gamma: float | None = None, coef0: float = 1.0
                              ) -> Tuple[float, float]:
  """(mean, std) of the unbiased MMD² with the polynomial kernel over random subsets.

  torch-fidelity's draws: rng = np.random.RandomState(seed); for each subset, first
  rng.choice(N₁, subset_size, replace=False) rows of features_1, then rng.choice(N₂, …) of
  features_2. Kernels in float64 (torch-fidelity: in the features' float32); std is ddof 0.

  References:
    Bińkowski et al., "Demystifying MMD GANs", ICLR 2018, arXiv:1801.01401.
  """
  a, b = np.asarray(features_1, np.float64), np.asarray(features_2, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
    raise ValueError(f"features must be [N, d] with the same d, got {a.shape}, {b.shape}")
  if min(len(a), len(b)) < subset_size or subset_size < 2:
    raise ConfigError("kid_subset_size", f"{subset_size} must be ≥ 2 and at most the number "
                      f"of samples ({len(a)} and {len(b)})")
  rng = np.random.RandomState(seed)
  k = lambda x, y: polynomial_kernel(x, y, degree=degree, gamma=gamma, coef0=coef0)
  mmds = np.zeros(subsets)
  for i in range(subsets):
    x = a[rng.choice(len(a), subset_size, replace=False)]
    y = b[rng.choice(len(b), subset_size, replace=False)]
    mmds[i] = mmd2_unbiased(k(x, x), k(x, y), k(y, y))
  return float(np.mean(mmds)), float(np.std(mmds))


# ---------------------------------------------------------------------------------------------
# Precision and recall.

def _distances(x, y) -> np.ndarray:
  """Euclidean distances [len(x), len(y)] in float64: √max(‖x‖² + ‖y‖² − 2x·y, 0)."""
  d2 = (np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None]
        - 2 * (x @ y.T))
  return np.sqrt(np.maximum(d2, 0))


def knn_radii(features, *, k: int = 3, chunk: int = 1024) -> np.ndarray:
  """Distance of each row to its k-th nearest other row: the (k+1)-th smallest distance with
  itself included (torch-fidelity's `kthvalue(k + 1)` over the full distance rows)."""
  f = np.asarray(features, np.float64)
  if len(f) <= k:
    raise ValueError(f"need more than k = {k} samples, got {len(f)}")
  out = np.empty(len(f))
  for i in range(0, len(f), chunk):
    d = _distances(f[i:i + chunk], f)
    d[np.arange(len(d)), np.arange(i, i + len(d))] = 0.0  # exactly, whatever the rounding
    out[i:i + chunk] = np.partition(d, k, axis=1)[:, k]
  return out


def _inside_any_ball(queries, centres, radii, chunk: int) -> np.ndarray:
  covered = np.empty(len(queries), bool)
  for i in range(0, len(queries), chunk):
    covered[i:i + chunk] = (_distances(queries[i:i + chunk], centres) <= radii[None]).any(axis=1)
  return covered


def precision_recall(generated, real, *, k: int = 3, chunk: int = 1024
                     ) -> Tuple[float, float]:
  """Improved precision and recall (k-NN manifolds), torch-fidelity's `prc` convention.

  precision = share of generated samples within the k-NN radius of at least one real sample;
  recall    = share of real samples within the k-NN radius of at least one generated sample;
  a point is inside a ball when its distance is ≤ the radius. Distances in float64, in chunks
  of `chunk` rows (memory chunk × N).

  References:
    Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative
    Models", NeurIPS 2019, arXiv:1904.06991.
  """
  g, r = np.asarray(generated, np.float64), np.asarray(real, np.float64)
  if g.ndim != 2 or r.ndim != 2 or g.shape[1] != r.shape[1]:
    raise ValueError(f"features must be [N, d] with the same d, got {g.shape}, {r.shape}")
  precision = _inside_any_ball(g, r, knn_radii(r, k=k, chunk=chunk), chunk).mean()
  recall = _inside_any_ball(r, g, knn_radii(g, k=k, chunk=chunk), chunk).mean()
  return float(precision), float(recall)


# ---------------------------------------------------------------------------------------------
# Everything at once.

def metrics_from_features(features, logits, *, reference_features=None, reference_stats=None,
                          isc_splits: int = 10, kid_subsets: int = 100,
                          kid_subset_size: int = 1000, prc_k: int = 3, fid_method="eigvals",
                          isc_shuffle: bool = True, seed: int = 2020
                          ) -> Dict[str, float | None]:
  """FID, IS, KID and precision/recall of samples against a reference, as a flat dict.

  `reference_features` [M, 2048] enable every metric; `reference_stats` (μ, Σ) alone only FID
  (KID and precision/recall are then None). Keys: fid, is_mean, is_std, kid_mean, kid_std,
  precision, recall.
  """
  mu, sigma = statistics(features)
  if reference_features is not None:
    ref_mu, ref_sigma = statistics(reference_features)
  elif reference_stats is not None:
    ref_mu, ref_sigma = reference_stats
  else:
    raise ValueError("pass reference_features or reference_stats")
  is_mean, is_std = inception_score(logits, splits=isc_splits, shuffle=isc_shuffle, seed=seed)
  out = dict(fid=frechet_distance(mu, sigma, ref_mu, ref_sigma, method=fid_method),
             is_mean=is_mean, is_std=is_std, kid_mean=None, kid_std=None, precision=None,
             recall=None)
  if reference_features is not None:
    out["kid_mean"], out["kid_std"] = kernel_inception_distance(
        features, reference_features, subsets=kid_subsets, subset_size=kid_subset_size,
        seed=seed)
    out["precision"], out["recall"] = precision_recall(features, reference_features, k=prc_k)
  return out
