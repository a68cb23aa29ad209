"""Arjovsky & Bottou 2017, Theorems 2.5 and 2.6, made numeric on 1-D Gaussians.

Thm 2.5: with the optimal discriminator D* = p_r / (p_r + p_g) held fixed at θ₀, the expected
gradient of the -log D generator cost is the gradient of KL(P_g‖P_r) - 2·JSD(P_r‖P_g):

  E_z[-∇_θ log D*(g_θ(z))]|θ₀ = ∇_θ[KL(P_gθ‖P_r) - 2·JSD(P_r‖P_gθ)]|θ₀.

Checked with P_r = N(0, 1), g_θ(z) = μ + s·z (θ = (μ, s), z ~ N(0, 1)): the left side by
quadrature of the analytic derivative of -log D*, the right side by central finite differences of
KL and JSD computed by quadrature (scipy), over a grid of (μ, s).

Thm 2.6: when the discriminator is D = D* + ε with ε a centred white-noise Gaussian process and its
input gradient ∇D = ∇D* + r with r another, independent one (the theorem's noise model), and the
supports are (numerically) disjoint so that D* ≈ 0 and ∇D* ≈ 0 on the generated samples, each
coordinate of the -log D gradient, -∇D/D · ∂g/∂θ → -r/ε, is a centred Cauchy variable (no mean,
no variance); its scale σ_r/σ_ε does not shrink when averaged over a batch. The original cost's
gradient, -∇D/(1 - D) · ∂g/∂θ → -r/(1 - ε), stays Gaussian-like and bounded (Thm 2.4's regime).
Measured by histogram over many noise draws: the KS distance to the predicted Cauchy law, the
(q99 - q1)/IQR tail ratio, the IQR against the batch size, and the running variance.

The paper text was not in the project's seeds; the statements above follow the paper's
Theorems 2.5 and 2.6 (arXiv 1701.04862v1), PAPERS.md §1.2 marks the numbering as recalled.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import scipy.integrate
import scipy.stats

from experiments.figures import _common
from experiments.figures import runner as _runner

NAME = "ab_theorems"
PAPER = ("Arjovsky & Bottou 2017 Thm 2.5: with an optimal discriminator the -log D generator "
         "cost's expected gradient is the gradient of KL(P_g‖P_r) - 2·JSD(P_r‖P_g). Thm 2.6: "
         "under a noisy discriminator (D* - D and ∇D* - ∇D independent centred Gaussian white "
         "noise) each coordinate of the -log D gradient is a centred Cauchy variable with "
         "infinite mean and variance; the original cost's gradient stays bounded (Thm 2.4).")
NOTE = (  # what RESULTS.md says about this figure's runs
    "Thm 2.6's premise (disjoint supports, so D* = 0 and ∇D* = 0 on the generated samples) is "
    'imitated by P_g = N(10, 0.5²) against P_r = N(0, 1), where D* ≈ 1e-20; the noise is the '
    "theorem's (independent centred Gaussian white noise on D and on ∇_x D, σ = 0.01 each). "
    'With overlapping supports (P_g = N(1, 0.5²), D* ~ 0.3) the -log D gradient is not '
    "heavy-tailed (tail ratio 3.4): the Cauchy law needs D* → 0. The paper's text was not "
    "among the project's sources; the theorem numbers follow arXiv 1701.04862v1.")

_QUAD = dict(epsabs=1e-13, epsrel=1e-12, limit=400)
FD_STEP = 1e-4
# Thm 2.5's grid of generator parameters (μ, s); (0, 1) = P_r, where both sides vanish, is left out.
MUS = (-3.0, -1.5, -0.5, 0.5, 1.0, 2.0, 4.0)
SIGMAS = (0.5, 1.0, 2.0)
# Thm 2.6: the generator N(FAR, s²) sits where D* ≈ 1e-20 (the disjoint-supports premise);
# NEAR overlaps P_r (D* ~ 0.3), outside the theorem's premise, for contrast.
FAR, NEAR, G_STD = 10.0, 1.0, 0.5
NOISE_D, NOISE_GRAD = 0.01, 0.01  # σ_ε of D* - D and σ_r of ∇D* - ∇D
BATCHES = (1, 8, 64, 512)
MAIN_BATCH = 64
# (q99 - q1) / (q75 - q25): 2·tan(0.49π)/2 for a Cauchy law, 2·2.326/1.349 for a normal one.
CAUCHY_TAIL_RATIO = 2 * math.tan(0.49 * math.pi) / (2 * math.tan(0.25 * math.pi))
NORMAL_TAIL_RATIO = 2 * scipy.stats.norm.ppf(0.99) / (2 * scipy.stats.norm.ppf(0.75))


def _limits(mu, s):
  return min(-14.0, mu - 14.0 * s), max(14.0, mu + 14.0 * s)


def _logpdf(x, mu, s):
  return -0.5 * ((x - mu) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)


def kl_quad(mu, s):
  """KL(N(mu, s²) ‖ N(0, 1)) by quadrature."""
  f = lambda x: math.exp(_logpdf(x, mu, s)) * (_logpdf(x, mu, s) - _logpdf(x, 0.0, 1.0))
  return scipy.integrate.quad(f, *_limits(mu, s), points=[0.0, mu], **_QUAD)[0]


def kl_closed(mu, s):
  return -math.log(s) + (s * s + mu * mu - 1.0) / 2.0


def jsd_quad(mu, s):
  """JSD(N(0, 1) ‖ N(mu, s²)) (nats) by quadrature."""
  def f(x):
    a, b = _logpdf(x, 0.0, 1.0), _logpdf(x, mu, s)
    m = np.logaddexp(a, b) - math.log(2.0)
    return 0.5 * (math.exp(a) * (a - m) + math.exp(b) * (b - m))
  return scipy.integrate.quad(f, *_limits(mu, s), points=[0.0, mu], **_QUAD)[0]


def objective(mu, s, jsd_factor=2.0):
  """KL(P_g‖P_r) - jsd_factor·JSD(P_r‖P_g), both by quadrature."""
  return kl_quad(mu, s) - jsd_factor * jsd_quad(mu, s)


def objective_gradient(mu, s, jsd_factor=2.0, h=FD_STEP):
  """(∂/∂μ, ∂/∂s) of `objective` by central finite differences."""
  return np.array([(objective(mu + h, s, jsd_factor) - objective(mu - h, s, jsd_factor)) / (2 * h),
                   (objective(mu, s + h, jsd_factor) - objective(mu, s - h, jsd_factor)) / (2 * h)])


def expected_minus_log_d_gradient(mu, s):
  """E_z[-∇_(μ, s) log D*(μ + s·z)] with D* = p_r/(p_r + p_g) fixed at (mu, s), by quadrature.

  d/dx[-log D*(x)] = (1 - D*(x))·(d/dx log p_g - d/dx log p_r); ∂g/∂μ = 1, ∂g/∂s = z."""
  def h(x):
    a, b = _logpdf(x, 0.0, 1.0), _logpdf(x, mu, s)
    one_minus_d = 1.0 / (1.0 + math.exp(a - b)) if a - b < 700 else 0.0
    return one_minus_d * (-(x - mu) / s ** 2 + x)
  phi = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
  gm = scipy.integrate.quad(lambda z: phi(z) * h(mu + s * z), -14, 14, **_QUAD)[0]
  gs = scipy.integrate.quad(lambda z: phi(z) * z * h(mu + s * z), -14, 14, **_QUAD)[0]
  return np.array([gm, gs])


def theorem_2_5(mus=MUS, sigmas=SIGMAS):
  """Both sides of Thm 2.5 (and the alternatives KL - JSD, KL alone) on the (μ, s) grid."""
  rows = []
  for mu in mus:
    for s in sigmas:
      lhs = expected_minus_log_d_gradient(mu, s)
      rhs = objective_gradient(mu, s)
      alt = {k: objective_gradient(mu, s, f) for k, f in (("kl_minus_jsd", 1.0), ("kl", 0.0))}
      err = lambda g: float(np.linalg.norm(lhs - g) / np.linalg.norm(g))
      rows.append(dict(mu=mu, s=s, lhs=lhs, rhs=rhs, rel_error=err(rhs),
                       kl_quad_error=abs(kl_quad(mu, s) - kl_closed(mu, s)),
                       **{f"rel_error_{k}": err(g) for k, g in alt.items()}))
  return rows


# ------------------------------------------------------------------ Theorem 2.6
def optimal_discriminator(x, mu, s):
  """D*(x) = p_r/(p_r + p_g) and dD*/dx for P_r = N(0, 1), P_g = N(mu, s²) (float64)."""
  x = np.asarray(x, np.float64)
  a, b = _logpdf(x, 0.0, 1.0), _logpdf(x, mu, s)
  d = 1.0 / (1.0 + np.exp(np.minimum(b - a, 700.0)))
  return d, d * (1.0 - d) * (-x + (x - mu) / s ** 2)


def noisy_gradients(key, mu, s, *, draws: int, batch: int, noise_d=NOISE_D, noise_grad=NOISE_GRAD):
  """`draws` batch-mean generator gradients ∂/∂μ under D = D* + ε, ∇D = ∇D* + r.

  Returns (−log D gradient, original-cost gradient), each [draws]: the batch means of
  -D'(x)/D(x) and of -D'(x)/(1 - D(x)) at x = mu + s·z (∂x/∂μ = 1)."""
  z, eps, r = np.asarray(jax.random.normal(key, (3, draws, batch)), np.float64)
  eps, r = noise_d * eps, noise_grad * r
  d_star, d_star_grad = optimal_discriminator(mu + s * z, mu, s)
  d, d_grad = d_star + eps, d_star_grad + r
  return (-d_grad / d).mean(1), (-d_grad / (1.0 - d)).mean(1)


def iqr(g):
  q25, q75 = np.percentile(g, [25, 75])
  return float(q75 - q25)


def tail_ratio(g):
  """(q99 - q1) / IQR: 31.8 for a Cauchy law, 3.45 for a normal one."""
  q1, q99 = np.percentile(g, [1, 99])
  return float((q99 - q1) / iqr(g))


def running_variance(g):
  n = np.arange(1, len(g) + 1)
  m1, m2 = np.cumsum(g) / n, np.cumsum(g * g) / n
  return m2 - m1 * m1


def variance_drift(g):
  """max/min of the running variance over the second half of the draws (1 when it has settled)."""
  v = running_variance(g)[len(g) // 2:]
  return float(v.max() / v.min())


def chain_variance_spread(g, chains: int = 20):
  """max/min of the sample variances of `chains` equal consecutive runs of the draws (≈ 1 + a few
  √(2/n) for a finite-variance law; unbounded for a Cauchy one)."""
  v = np.asarray(g)[:len(g) // chains * chains].reshape(chains, -1).var(1)
  return float(v.max() / v.min())


def theorem_2_6(key, *, draws: int, batches=BATCHES, mu=FAR, s=G_STD):
  """The statistics of the noisy gradients of both costs for each batch size."""
  out = {}
  for i, m in enumerate(batches):
    minus_log_d, original = noisy_gradients(jax.random.fold_in(key, i), mu, s, draws=draws, batch=m)
    scale = NOISE_GRAD / NOISE_D  # the Cauchy scale of -r/ε
    out[m] = dict(
        minus_log_d=minus_log_d, original=original,
        iqr=dict(minus_log_d=iqr(minus_log_d), original=iqr(original)),
        tail_ratio=dict(minus_log_d=tail_ratio(minus_log_d), original=tail_ratio(original)),
        kurtosis=dict(minus_log_d=float(scipy.stats.kurtosis(minus_log_d)),
                      original=float(scipy.stats.kurtosis(original))),
        variance_drift=dict(minus_log_d=variance_drift(minus_log_d),
                            original=variance_drift(original)),
        chain_variance_spread=dict(minus_log_d=chain_variance_spread(minus_log_d),
                                   original=chain_variance_spread(original)),
        ks_cauchy=float(scipy.stats.kstest(minus_log_d, "cauchy", args=(0.0, scale)).statistic),
        ks_normal=float(scipy.stats.kstest(minus_log_d, "norm", args=(
            np.median(minus_log_d), iqr(minus_log_d) / 1.349)).statistic),
        max_abs=dict(minus_log_d=float(np.abs(minus_log_d).max()),
                     original=float(np.abs(original).max())))
  return out


def games(scale: str) -> list:
  """Trains no GAN: the theorems' quantities by numerical integration and sampled gradients of
  a closed-form discriminator."""
  return []


SCALES = {   # draws: noise draws per batch size (Thm 2.6); curve_points: the plotted μ grid
    "tiny": dict(draws=2000, curve_points=11),
    "default": dict(draws=20000, curve_points=41),
    "full": dict(draws=100000, curve_points=41),
}
HIST_RANGE, HIST_BINS = 60.0, 241   # the plotted histograms: (gradient − median)/(IQR/2)


def _histogram(g, iqr_g):
  """The density of (g − median)/(IQR/2), clipped to ±HIST_RANGE, in HIST_BINS bins."""
  u = (g - np.median(g)) / (iqr_g / 2)  # a unit Cauchy / 1.48σ normal after this
  return np.histogram(np.clip(u, -HIST_RANGE, HIST_RANGE), bins=HIST_BINS,
                      range=(-HIST_RANGE, HIST_RANGE), density=True)[0]


def _log_spaced(n: int, points: int = 400) -> np.ndarray:
  """About `points` distinct draw counts from 11 to n, evenly spaced in log (n included)."""
  return np.unique(np.round(np.geomspace(11, n, points)).astype(int))


def measure(config, seed: int):
  """Thm 2.5 on the (μ, s) grid and along μ at s = 1; Thm 2.6's statistics at every batch
  size (and with overlapping supports at the main one), with the main batch size's histograms
  and running variances for the plot."""
  draws = config["draws"]
  key = jax.random.key(seed)
  rows = theorem_2_5()
  worst = max(r["rel_error"] for r in rows)
  worst_alt = {k: min(r[f"rel_error_{k}"] for r in rows) for k in ("kl_minus_jsd", "kl")}
  noisy = theorem_2_6(jax.random.fold_in(key, 0), draws=draws)
  near = theorem_2_6(jax.random.fold_in(key, 1), draws=draws, batches=(MAIN_BATCH,), mu=NEAR)
  main, near_main = noisy[MAIN_BATCH], near[MAIN_BATCH]
  b0, b1 = BATCHES[0], BATCHES[-1]
  shrink = {k: noisy[b0]["iqr"][k] / noisy[b1]["iqr"][k] for k in ("minus_log_d", "original")}
  grid = np.linspace(-4, 4, config["curve_points"])
  curve = np.array([objective_gradient(m, 1.0) for m in grid])[:, 0]
  lhs_c = np.array([expected_minus_log_d_gradient(m, 1.0) for m in grid])[:, 0]
  kl_c = np.array([objective_gradient(m, 1.0, 0.0) for m in grid])[:, 0]
  kj_c = np.array([objective_gradient(m, 1.0, 1.0) for m in grid])[:, 0]
  costs = ("minus_log_d", "original")
  at = _log_spaced(draws)
  return dict(
      theorem_2_5=dict(rows=rows, max_rel_error=worst, fd_step=FD_STEP,
                       best_rel_error_of_alternatives=worst_alt,
                       max_kl_quadrature_error=max(r["kl_quad_error"] for r in rows),
                       curve_mu=grid, curve_rhs=curve, curve_lhs=lhs_c, curve_kl=kl_c,
                       curve_kl_minus_jsd=kj_c),
      theorem_2_6={str(m): {k: v for k, v in st.items() if k not in costs}
                   for m, st in noisy.items()},
      theorem_2_6_overlapping={k: v for k, v in near_main.items() if k not in costs},
      setting=dict(p_r="N(0, 1)", p_g_far=f"N({FAR}, {G_STD}^2)",
                   p_g_near=f"N({NEAR}, {G_STD}^2)", sigma_eps=NOISE_D, sigma_r=NOISE_GRAD,
                   draws=draws, batches=BATCHES, cauchy_scale=NOISE_GRAD / NOISE_D,
                   cauchy_tail_ratio=CAUCHY_TAIL_RATIO, normal_tail_ratio=NORMAL_TAIL_RATIO),
      iqr_shrink_batch1_to_512=shrink,
      # the plot's batch-MAIN_BATCH panels: histograms and running variances (÷ final)
      histogram={k: _histogram(main[k], main["iqr"][k]) for k in costs},
      running_variance=dict(draws=at, **{
          k: running_variance(main[k])[at - 1] / running_variance(main[k])[-1] for k in costs}))


def _bounds(draws: int):
  """(the KS bound, the bound on the original cost's chain variance spread) at `draws`."""
  ks_bound = 2.0 / math.sqrt(draws)  # above the 99.9% KS quantile (1.95/√n)
  # log of a normal sample variance of n draws has s.d. ≈ √(2/n); 20 of them span ≈ 3.7 s.d.
  return ks_bound, math.exp(6 * math.sqrt(2 / (draws // 20)))


def judge(numbers):
  v = _runner.value
  t25, setting = numbers["theorem_2_5"], numbers["setting"]
  main = numbers["theorem_2_6"][str(MAIN_BATCH)]
  b0, b1 = setting["batches"][0], setting["batches"][-1]
  shrink = numbers["iqr_shrink_batch1_to_512"]
  ks_bound, spread_bound = _bounds(setting["draws"])
  return {
      f"Thm 2.5: E_z[-∇ log D*(g(z))] = ∇[KL(P_g‖P_r) - 2·JSD] (max relative error over "
      f"{len(t25['rows'])} (μ, s) < 1e-6)": v(t25["max_rel_error"]) < 1e-6,
      "Thm 2.5: the -2·JSD term is needed (KL - JSD and KL alone miss by > 1% at the best "
      "(μ, s))": min(v(x) for x in t25["best_rel_error_of_alternatives"].values()) > 1e-2,
      f"Thm 2.6: the -log D gradient (batch {MAIN_BATCH}) follows the centred Cauchy law of "
      f"scale σ_r/σ_ε (KS distance < {ks_bound:.3f}; to the IQR-matched normal > 0.05)":
          v(main["ks_cauchy"]) < ks_bound and v(main["ks_normal"]) > 0.05,
      "Thm 2.6: heavy tails: (q99 - q1)/IQR of the -log D gradient > 15 (Cauchy 31.8), of the "
      "original cost's < 5 (normal 3.45)":
          v(main["tail_ratio"]["minus_log_d"]) > 15 and v(main["tail_ratio"]["original"]) < 5,
      f"Thm 2.6: averaging does not help: the -log D gradient's IQR shrinks < 2x from batch {b0} "
      f"to {b1}; the original cost's > {math.sqrt(b1) / 2:.0f}x (finite variance: "
      f"√{b1} = {math.sqrt(b1):.0f}x)":
          v(shrink["minus_log_d"]) < 2 and v(shrink["original"]) > math.sqrt(b1) / 2,
      "Thm 2.6: no variance to estimate: 20 equal runs of the draws give -log D sample variances "
      f"that differ by > 10x; the original cost's by < {spread_bound:.2f}x (finite variance)":
          v(main["chain_variance_spread"]["minus_log_d"]) > 10
          and v(main["chain_variance_spread"]["original"]) < spread_bound,
  }


def plot(numbers):
  t25, setting = numbers["theorem_2_5"], numbers["setting"]
  main = numbers["theorem_2_6"][str(MAIN_BATCH)]
  arr = lambda x: np.asarray([_runner.value(y) for y in x], float)
  fig, axes = _common.subplots(1, 4, figsize=(19, 4.2))
  a = axes[0]
  grid = arr(t25["curve_mu"])
  a.plot(grid, arr(t25["curve_rhs"]), label="∇μ[KL - 2 JSD] (finite diff.)")
  a.plot(grid, arr(t25["curve_lhs"]), "o", ms=3, label="E[-∇μ log D*(g(z))] (quadrature)")
  a.plot(grid, arr(t25["curve_kl"]), "--", label="∇μ KL alone")
  a.plot(grid, arr(t25["curve_kl_minus_jsd"]), ":", label="∇μ[KL - JSD]")
  a.set(xlabel="μ (P_g = N(μ, 1), P_r = N(0, 1))",
        title=f"Thm 2.5: max rel. error {_runner.value(t25['max_rel_error']):.1e}")
  a.legend(fontsize=7)
  b = axes[1]
  edges = np.linspace(-HIST_RANGE, HIST_RANGE, HIST_BINS + 1)
  for k, lab in (("minus_log_d", "-log D cost"), ("original", "original cost")):
    b.stairs(arr(numbers["histogram"][k]), edges,
             label=f"{lab} (tail ratio {_runner.value(main['tail_ratio'][k]):.1f})")
  b.set_yscale("log")
  u = np.linspace(-60, 60, 601)
  b.plot(u, scipy.stats.cauchy.pdf(u), "k--", lw=0.8, label="Cauchy")
  b.plot(u, scipy.stats.norm.pdf(u, scale=1 / 0.6745), "k:", lw=0.8, label="normal")
  b.set(ylim=(1e-5, 1), xlabel="(gradient - median) / (IQR/2), clipped to ±60",
        title=f"Thm 2.6: batch-{MAIN_BATCH} gradients, D* ≈ 0")
  b.legend(fontsize=7)
  c = axes[2]
  batches = setting["batches"]
  for k, lab in (("minus_log_d", "-log D cost"), ("original", "original cost")):
    v = arr([numbers["theorem_2_6"][str(m)]["iqr"][k] for m in batches])
    c.loglog(batches, v / v[0], "o-", label=lab)
  c.loglog(batches, 1 / np.sqrt(batches), "k:", label="1/√batch")
  c.set(xlabel="batch size", ylabel="IQR of the batch-mean gradient (÷ batch 1)",
        title="averaging over a batch")
  c.legend(fontsize=7)
  d = axes[3]
  rv = numbers["running_variance"]
  for k, lab in (("minus_log_d", "-log D cost"), ("original", "original cost")):
    d.loglog(rv["draws"], arr(rv[k]),
             label=f"{lab} (drift {_runner.value(main['variance_drift'][k]):.2f}x)")
  d.set(xlabel="noise draws", ylabel="running variance (÷ final)", title="variance over draws")
  d.legend(fontsize=7)
  return fig


def summary(numbers):
  t25 = numbers["theorem_2_5"]
  main = numbers["theorem_2_6"][str(MAIN_BATCH)]
  near_main = numbers["theorem_2_6_overlapping"]
  shrink = numbers["iqr_shrink_batch1_to_512"]
  b1 = numbers["setting"]["batches"][-1]
  v = _runner.value
  return (f"Thm 2.5 max relative error {v(t25['max_rel_error']):.1e} over {len(t25['rows'])} "
          f"(μ, s) (KL - JSD misses by ≥ "
          f"{v(t25['best_rel_error_of_alternatives']['kl_minus_jsd']):.0%}); Thm 2.6 at batch "
          f"{MAIN_BATCH}: -log D gradient tail ratio {v(main['tail_ratio']['minus_log_d']):.1f} "
          f"(Cauchy 31.8), KS to Cauchy {v(main['ks_cauchy']):.3f}, IQR shrink 1→{b1}: "
          f"{v(shrink['minus_log_d']):.2f}x, variances of 20 "
          f"runs differ {v(main['chain_variance_spread']['minus_log_d']):.0f}x; original cost: "
          f"tail ratio {v(main['tail_ratio']['original']):.2f}, shrink "
          f"{v(shrink['original']):.1f}x, variances differ "
          f"{v(main['chain_variance_spread']['original']):.2f}x; with overlapping supports "
          f"(D* ~ 0.3) the -log D tail ratio is {v(near_main['tail_ratio']['minus_log_d']):.1f}")


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games, note=NOTE)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
