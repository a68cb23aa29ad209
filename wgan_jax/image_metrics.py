"""Sample-quality metrics over a classifier's logits and features (pure functions).

They are the formulas of the Inception score, the Fréchet distance and the kernel (KID)
distance, written over arrays so that any classifier's outputs can be plugged in: the project's
own small classifiers, or Inception features a user computes. Numbers on our classifiers are
NOT comparable with published Inception-based scores. SciPy is imported inside the functions
that use it, so importing this module does not need it.
"""

from __future__ import annotations

import warnings
from typing import Dict

import numpy as np


def classifier_score(logits: np.ndarray, *, splits: int = 1) -> float:
  """exp(E_x KL(p(y|x) ‖ p(y))): the Inception score's formula on any classifier's logits.

  Between 1 (every sample gets the same prediction) and the number of classes (confident and
  uniformly spread predictions). With `splits` > 1 the mean over that many equal splits.

  References:
    Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, arXiv:1606.03498.
  """
  import scipy.special
  logits = np.asarray(logits, np.float64)
  if logits.ndim != 2 or len(logits) < splits:
    raise ValueError(f"logits must be [N, classes] with N ≥ splits, got {logits.shape}")
  scores = []
  for part in np.array_split(logits, splits):
    logp = scipy.special.log_softmax(part, axis=1)
    p = np.exp(logp)
    log_marginal = np.log(p.mean(axis=0) + 1e-300)
    kl = np.sum(p * (logp - log_marginal), axis=1)
    scores.append(float(np.exp(kl.mean())))
  return float(np.mean(scores))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
  """‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}) between Gaussian fits of two feature sets.

  References:
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium" (FID), NeurIPS 2017, arXiv:1706.08500.
  """
  import scipy.linalg
  a = np.asarray(features_a, np.float64)
  b = np.asarray(features_b, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
    raise ValueError(f"features must be [N, d] with the same d and N ≥ 2, got {a.shape}, "
                     f"{b.shape}")
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  with warnings.catch_warnings():  # singular covariances (dead features) are common
    warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():  # as pytorch-fid: retry with a small ridge
      ridge = 1e-6 * np.eye(len(cov_a))
      covmean = scipy.linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
  if np.iscomplexobj(covmean):
    covmean = covmean.real  # tiny imaginary parts from numerical error
  value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))
  return max(value, 0.0)


def kernel_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
  """Unbiased MMD² with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³ (KID).

  References:
    Bińkowski et al., "Demystifying MMD GANs", ICLR 2018, arXiv:1801.01401.
  """
  a = np.asarray(features_a, np.float64)
  b = np.asarray(features_b, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
    raise ValueError(f"features must be [N, d] with the same d and N ≥ 2, got {a.shape}, "
                     f"{b.shape}")
  d = a.shape[1]
  k = lambda x, y: (x @ y.T / d + 1.0) ** 3
  kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
  m, n = len(a), len(b)
  return float((kaa.sum() - np.trace(kaa)) / (m * (m - 1))
               + (kbb.sum() - np.trace(kbb)) / (n * (n - 1)) - 2 * kab.mean())


def class_histogram(logits: np.ndarray, num_classes: int | None = None,
                    min_share: float = 0.0) -> Dict[str, float]:
  """Predicted-class histogram: classes covered and KL(histogram ‖ uniform) (natural log).

  A class is covered when it is the arg-max prediction of at least one sample and of at least
  a `min_share` fraction of the samples (0: any one sample)."""
  logits = np.asarray(logits)
  c = num_classes or logits.shape[1]
  counts = np.bincount(np.argmax(logits, axis=1), minlength=c).astype(np.float64)
  p = counts / counts.sum()
  nz = p > 0
  return dict(classes_covered=float((nz & (p >= min_share)).sum()), num_classes=float(c),
              kl_to_uniform=float(np.sum(p[nz] * np.log(c * p[nz]))))


def nearest_neighbour_distances(queries: np.ndarray, reference: np.ndarray, *,
                                chunk: int = 8192) -> np.ndarray:
  """Euclidean distance of each query row to its nearest row of `reference` (both flattened
  to [N, d]): found with float32 products ‖a‖² + ‖b‖² − 2 a·b over `chunk` reference rows at a
  time, then recomputed exactly (float64) to the neighbour found, so exact copies give 0."""
  q = np.asarray(queries, np.float32).reshape(len(queries), -1)
  r = np.asarray(reference, np.float32).reshape(len(reference), -1)
  if q.shape[1] != r.shape[1] or not len(r):
    raise ValueError(f"queries and reference must have the same row size and reference rows, "
                     f"got {np.shape(queries)}, {np.shape(reference)}")
  best = np.full(len(q), np.inf, np.float32)
  arg = np.zeros(len(q), np.int64)
  qn = np.einsum("ij,ij->i", q, q)
  for i in range(0, len(r), chunk):
    block = r[i:i + chunk]
    d2 = qn[:, None] + np.einsum("ij,ij->i", block, block)[None] - 2 * (q @ block.T)
    j = np.argmin(d2, axis=1)
    v = d2[np.arange(len(q)), j]
    better = v < best
    best[better], arg[better] = v[better], i + j[better]
  diff = q.astype(np.float64) - r[arg].astype(np.float64)
  return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def nearest_train_share(distances: np.ndarray, threshold: float) -> float:
  """The fraction of samples whose nearest-training-image distance is below `threshold`
  (strictly), from `nearest_neighbour_distances`; see `experiments.evaluators.FashionMetrics`
  for the threshold that makes this a memorisation detector."""
  d = np.asarray(distances, np.float64)
  if d.ndim != 1 or not len(d):
    raise ValueError(f"distances must be a non-empty [N] array, got shape {d.shape}")
  return float(np.mean(d < threshold))


def stacked_modes(channel_logits: np.ndarray) -> Dict[str, float]:
  """Modes of stacked digits: three digits as channels, each labelled by a classifier.

  `channel_logits` [N, 3, classes]; the mode of a sample is its label triple (1000 modes for
  10 classes). Returns modes captured and KL(mode histogram ‖ uniform over all modes), natural
  log, as the VEEGAN and PacGAN papers report on 26,000 samples.

  References:
    Srivastava et al., VEEGAN, arXiv:1705.07761, Table 2; Lin et al., PacGAN,
    arXiv:1712.04086, Tables 2-3; Metz et al., Unrolled GANs, arXiv:1611.02163.
  """
  logits = np.asarray(channel_logits)
  if logits.ndim != 3 or logits.shape[1] != 3:
    raise ValueError(f"channel_logits must be [N, 3, classes], got {logits.shape}")
  c = logits.shape[2]
  labels = np.argmax(logits, axis=2)
  modes = labels[:, 0] * c * c + labels[:, 1] * c + labels[:, 2]
  counts = np.bincount(modes, minlength=c ** 3).astype(np.float64)
  p = counts / counts.sum()
  nz = p > 0
  return dict(modes=float(nz.sum()), num_modes=float(c ** 3),
              kl_to_uniform=float(np.sum(p[nz] * np.log(c ** 3 * p[nz]))))
