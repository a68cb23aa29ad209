"""Sample-quality metrics for 2-D data: mode coverage (VEEGAN / PacGAN) and exact W1.

SciPy is imported inside the functions, so importing the library does not need it.
"""

from __future__ import annotations

import math
from typing import Dict

import numpy as np

from wgan_jax.errors import ConfigError


def mode_coverage(samples: np.ndarray, centres: np.ndarray, std: float,
                  *, threshold: float = 3.0) -> Dict[str, float]:
  """Modes captured, share of high-quality samples and reverse KL of the mode histogram.

  A sample is high quality (HQ) if it lies within `threshold`·σ of its nearest mode centre
  (distance measured in units of σ); a mode is captured if at least one HQ sample is nearest to
  it. The reverse KL is KL(p_gen ‖ uniform) = Σ_k p_k log(M·p_k) of the histogram of HQ samples
  over the M modes (natural log); it is +inf when no sample is high quality.

  Args:
    samples: [N, D] generated points (2500 in the VEEGAN and PacGAN protocol).
    centres: [M, D] mode centres.
    std: the modes' standard deviation σ.
    threshold: HQ radius in σ (3 in the papers).

  Returns:
    dict with `modes` (int as float), `num_modes`, `hq_fraction` (in [0, 1]) and `reverse_kl`.

  References:
    Srivastava et al., VEEGAN, NeurIPS 2017, arXiv:1705.07761, §5.1 and Table 1;
    Lin et al., PacGAN, NeurIPS 2018, arXiv:1712.04086, Table 1.
  """
  import scipy.spatial.distance
  samples = np.asarray(samples, np.float64)
  centres = np.asarray(centres, np.float64)
  if samples.ndim != 2 or centres.ndim != 2 or samples.shape[1] != centres.shape[1]:
    raise ValueError(f"samples {samples.shape} and centres {centres.shape} must be [N, D], [M, D]")
  if not np.isfinite(samples).all():
    raise ValueError("samples hold NaN or infinity")
  if len(samples) == 0 or len(centres) == 0:
    raise ValueError(f"samples and centres: need at least one of each, got {len(samples)} "
                     f"samples and {len(centres)} centres")
  if isinstance(std, bool) or not (isinstance(std, (int, float, np.floating, np.integer))
                                   and math.isfinite(std) and std > 0):
    raise ConfigError("std", f"must be a finite number > 0 (the modes' σ), got {std!r}")
  d = scipy.spatial.distance.cdist(samples, centres) / std
  nearest = d.argmin(axis=1)
  hq = d[np.arange(len(samples)), nearest] <= threshold
  counts = np.bincount(nearest[hq], minlength=len(centres)).astype(np.float64)
  m = len(centres)
  if counts.sum() == 0:
    rkl = math.inf
  else:
    p = counts / counts.sum()
    nz = p > 0
    rkl = float(np.sum(p[nz] * np.log(m * p[nz])))
  return dict(modes=float((counts > 0).sum()), num_modes=float(m),
              hq_fraction=float(hq.mean()), reverse_kl=rkl)


EXACT_W1_MAX = 10_000   # points per set: an n×n float64 matrix of 0.8 GB and O(n³) time


def wasserstein1_exact(x: np.ndarray, y: np.ndarray) -> float:
  """Exact W1 between two empirical measures of equal size, by optimal assignment.

  W1 = min_π (1/n) Σ_i ‖x_i - y_π(i)‖₂ over permutations π (for equal-size uniform empirical
  measures an optimal coupling is a permutation), solved by `scipy.optimize.linear_sum_assignment`.
  """
  import scipy.optimize
  import scipy.spatial.distance
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  if x.shape != y.shape or x.ndim != 2:
    raise ValueError(f"x and y must be [n, D] arrays of the same shape, got {x.shape}, {y.shape}")
  if len(x) == 0:
    raise ValueError("x and y must hold at least one point each, got empty sets")
  if len(x) > EXACT_W1_MAX:
    raise ValueError(f"x and y: the exact W1 of {len(x):,} points needs a {len(x):,}² matrix "
                     f"and O(n³) time; at most {EXACT_W1_MAX:,} (subsample them)")
  if not (np.isfinite(x).all() and np.isfinite(y).all()):
    raise ValueError("x and y must be finite (a NaN or infinite coordinate has no distance)")
  cost = scipy.spatial.distance.cdist(x, y)
  rows, cols = scipy.optimize.linear_sum_assignment(cost)
  return float(cost[rows, cols].mean())
