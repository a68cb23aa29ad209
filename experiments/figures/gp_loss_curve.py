"""WGAN-GP Fig. 5a on Fashion-MNIST: the negative critic loss converges as the samples improve.

  python -m experiments.figures.gp_loss_curve --out runs/figures

Gulrajani et al. 2017 (arXiv:1704.00028) §5.6, "Meaningful loss curves and detecting
overfitting": "An important benefit of weight-clipped WGANs is that their loss correlates with
sample quality and converges toward a minimum. To show that our method preserves this property,
we train a WGAN-GP on the LSUN bedrooms dataset and plot the negative of the critic's loss in
Figure 5a. We see that the loss converges as the generator minimizes W(P_r, P_g)." The figure
shows one curve, 0 to 4×10⁴ generator iterations, y 0 to 50, falling toward a floor.

Here: WGAN-GP with its official recipe (Adam 1e-4, β 0.5 / 0.9, λ 10, 5 critic steps) on
Fashion-MNIST's 60,000 training images with `experiments.builders.image_gan(arch="dcgan")`
(quality_over_time's models and sizes), `seeds` runs trained at once. The plotted value is the
negative of the critic's training cost (the penalty included, as the official scripts log
'train disc cost'), one value per generator iteration (`d_loss` of the loop's history),
median-filtered with the WGAN README's kernel (101) within the run, the edges padded by
reflecting the curve (so the last filtered value is a median of the last raw values, not of 50
copies of the very last one, as 'nearest' padding made it). The filter is applied when the
stored numbers are read (judge, summary, plot), to the stored raw curve. Quality: the Fréchet distance in this project's Fashion-MNIST classifier's
features (not Inception's) of `samples` samples (fixed z) against a random training subset,
every `eval_every` iterations.

The checks, their thresholds fixed before the default run (constants below), hold on every
seed: the filtered curve falls from its peak to ≤ FALL of it and levels off (over the last third
of training its fitted line changes by ≤ LEVEL of the whole fall: "converges toward a
minimum"); after the peak it tracks the samples' FD (Spearman ρ ≥ RHO_TRACKS, as
loss_tracks_quality reads WGAN Fig 3); and the samples improve (final FD ≤ IMPROVED × the
first), without which a falling loss would say nothing about quality.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from experiments.builders import image_gan
from experiments.figures import _common
from experiments.figures import runner as _runner

NAME = "gp_loss_curve"
PAPER = ("WGAN-GP (arXiv:1704.00028) §5.6, Fig. 5a: 'An important benefit of weight-clipped "
         "WGANs is that their loss correlates with sample quality and converges toward a "
         "minimum. To show that our method preserves this property, we train a WGAN-GP on the "
         "LSUN bedrooms dataset and plot the negative of the critic's loss in Figure 5a. We see "
         "that the loss converges as the generator minimizes W(P_r, P_g).' Here on "
         "Fashion-MNIST, quality = the Fréchet distance in this project's classifier's "
         "features.")
NOTE = (  # what RESULTS.md says about this figure's runs
    "Partly reproduced at the CPU default (3 seeds × 2000 generator iterations, DCGAN dim 8, "
    "batch 32; 427 CPU s (two figures at once), about 4 min on 2 idle cores). The curve has "
    "Fig 5a's shape: the negative critic cost climbs from −λ (the penalty of an untrained "
    "critic) to a peak of "
    "16-22 at iterations 210-300, then falls to about 7 by 2000 (0.32-0.45 of the peak), and "
    "after the peak it tracks the samples' FD on every seed (Spearman ρ 0.67, 0.94, 0.99) "
    "while FD falls to 0.36-0.40 of its start. It has not levelled off at this length: over "
    "the last third the fitted line still moves 0.13, 0.18 and 0.29 of the fall (the check "
    "asks ≤ 0.2 on every seed), so 'converges toward a minimum' is not shown; the paper's "
    "curve runs 4×10⁴ iterations (--full). The samples are far from the data (FD ~250 "
    "against 3.2 for real test images; blurred garment shapes). The filter's edge padding "
    "was changed from 'nearest' to 'reflect' after the first run (the last filtered value "
    "was one raw value's); the verdict did not change. Re-run (issue 29) with the sub-pixel "
    "convolution plan (the same function in another summation order): the verdicts are "
    "unchanged; the final −loss moved by ≤ 0.1 (7.13, 7.00, 7.29 → 7.10, 7.10, 7.20), ρ by "
    "≤ 0.03, the last third's share by ≤ 0.01, the peaks and FD ratios not at two decimals.")
PUBLISHED = "one LSUN curve (y 0–50, 0–4×10⁴ iterations) falling toward a floor; no number"

SHAPE = (28, 28, 1)
SCALES = {
    # iters: generator iterations; eval_every: between FD evaluations; samples: per run and
    # evaluation; reference: training images the FD compares with; kernel: the median filter.
    "tiny": dict(iters=8, eval_every=2, dim=4, batch=8, seeds=2, samples=36, reference=2000,
                 kernel=3),
    "default": dict(iters=2000, eval_every=50, dim=8, batch=32, seeds=3, samples=1000,
                    reference=10000, kernel=101),
    "full": dict(iters=40000, eval_every=1000, dim=64, batch=64, seeds=3, samples=1000,
                 reference=60000, kernel=101),
}

# Thresholds of the checks, fixed before the default run.
FALL = 0.5          # falls: the filtered curve's final value ≤ 0.5 × its peak
LEVEL = 0.2         # levels off: over the last third, the fitted line's change ≤ 0.2 × the fall
LAST = 1 / 3        # the window of "levels off"
RHO_TRACKS = 0.5    # tracks quality: Spearman ρ(filtered −loss, FD) ≥ 0.5 after the peak
MIN_POINTS = 5      # ... over at least 5 evaluations (fewer: not measurable, the check fails)
IMPROVED = 0.7      # the samples improve: final FD ≤ 0.7 × FD at iteration 0


def median_filtered(values, kernel: int) -> np.ndarray:
  """`values` median-filtered with an odd window of at most `kernel` (and at most the curve's
  length), the edges padded by reflection (scipy's 'reflect' mode: d c b a | a b c d)."""
  import scipy.ndimage
  v = np.asarray(values, float)
  k = max(1, min(int(kernel), len(v)))
  k -= 1 - k % 2
  return scipy.ndimage.median_filter(v, size=k, mode="reflect")


def curve_stats(iterations: Sequence[int], negative_loss, eval_iterations: Sequence[int],
                fd) -> Dict[str, float]:
  """One run's statistics: the filtered curve's peak, its final value, the fall (peak − final)
  and its ratio final / peak, the last third's fitted change (and its share of the fall), ρ of
  the filtered curve at the evaluations after the peak with the FD there (NaN with fewer than
  MIN_POINTS), and the FD ratio. `negative_loss` is already filtered. Any non-finite value
  makes every statistic NaN (a diverged run passes nothing)."""
  import scipy.stats
  it, y = np.asarray(iterations, float), np.asarray(negative_loss, float)
  ev, q = np.asarray(eval_iterations, float), np.asarray(fd, float)
  nan = dict(peak=math.nan, peak_iteration=math.nan, final=math.nan, fall=math.nan,
             final_over_peak=math.nan, last_change=math.nan, level_share=math.nan,
             rho=math.nan, points=0, fd_ratio=math.nan)
  if not (np.isfinite(y).all() and np.isfinite(q).all()) or len(y) < 3 or len(q) < 2:
    return nan
  p = int(np.argmax(y))
  peak, final = float(y[p]), float(y[-1])
  last = it >= it[0] + (1 - LAST) * (it[-1] - it[0])
  slope = float(np.polyfit(it[last], y[last], 1)[0]) if last.sum() >= 2 else 0.0
  change = slope * float(it[last][-1] - it[last][0]) if last.sum() >= 2 else 0.0
  fall = peak - final
  after = ev > it[p]
  at = np.interp(ev[after], it, y)
  rho = math.nan
  if after.sum() >= MIN_POINTS and np.ptp(at) > 0 and np.ptp(q[after]) > 0:
    rho = float(scipy.stats.spearmanr(at, q[after])[0])
  return dict(peak=peak, peak_iteration=float(it[p]), final=final, fall=fall,
              final_over_peak=final / peak if peak > 0 else math.nan, last_change=change,
              level_share=abs(change) / fall if fall > 0 else math.nan, rho=rho,
              points=int(after.sum()), fd_ratio=float(q[-1] / q[0]) if q[0] > 0 else math.nan)


def judge_stats(runs: Sequence[Mapping]) -> Dict[str, bool]:
  """The paper's claims on every run's `curve_stats` (NaN fails every comparison)."""
  def every(test):
    return bool(len(runs)) and all(test(r) for r in runs)

  return {
      f"Fig 5a caption: 'the negative critic loss ... converges toward a minimum': on every "
      f"seed the median-filtered curve falls to ≤ {FALL:g}× its peak, and over the last "
      f"third of training its fitted line moves ≤ {LEVEL:g}× that fall (it levels off)":
          every(lambda r: r["final_over_peak"] <= FALL and r["level_share"] <= LEVEL),
      f"§5.6: 'their loss correlates with sample quality ... our method preserves this "
      f"property': on every seed, after the peak, Spearman ρ(filtered −loss, FD) ≥ "
      f"{RHO_TRACKS:g} over ≥ {MIN_POINTS} evaluations":
          every(lambda r: r["rho"] >= RHO_TRACKS and r["points"] >= MIN_POINTS),
      f"§5.6: 'as the generator minimizes W(P_r, P_g)': the samples improve on every seed "
      f"(final FD ≤ {IMPROVED:g}× the first)":
          every(lambda r: r["fd_ratio"] <= IMPROVED),
  }


# ------------------------------------------------------------------ training
def build(s: Mapping):
  """The WGAN-GP of sizes `s`: image_gan's DCGAN pair with the official recipe."""
  return image_gan("wgan-gp", SHAPE, dim=s["dim"], batch_size=s["batch"], arch="dcgan")


def games(scale: str):
  """The one WGAN-GP at `scale`, `seeds` runs trained at once on the 60,000 training
  images."""
  s = FIGURE.config(scale)
  return [_common.Game("WGAN-GP", build(s), SHAPE, s["iters"], runs=s["seeds"],
                       at_once=s["seeds"], examples=60000)]


def measure(s: Mapping, seed: int) -> Dict:
  """Train `seeds` WGAN-GP runs at once; every run's critic cost per generator iteration,
  its filtered negative, the FD curve, their statistics and the final samples of the median
  run (by its final FD)."""
  key = jax.random.key(seed)
  xt, _, metrics = _common.fashion_mnist(key, s["reference"], s["samples"], fold=0)
  gan, runs = build(s), s["seeds"]
  k_init, k_train = jax.random.split(jax.random.fold_in(key, 10))
  score = lambda x: {"fd": _common.quality(metrics, x)["fd"]}
  evals, x, r = _common.train_scored(
      gan, (jax.random.split(k_init, runs), jax.random.split(k_train, runs),
            jax.random.fold_in(key, 1)), score, data=jnp.asarray(xt), samples=s["samples"],
      runs=runs, final=16, iters=s["iters"], eval_every=s["eval_every"], log_every=1)
  its = np.asarray(r.history["iteration"])
  cost = np.asarray(r.history["d_loss"], float).reshape(len(its), runs).T   # [runs, iters]
  ev = [e["iteration"] for e in evals]
  fd = np.asarray([e["fd"] for e in evals], float).T                        # [runs, evals]
  stats = [curve_stats(its, median_filtered(-cost[i], s["kernel"]), ev, fd[i])
           for i in range(runs)]
  shown = _common.median_run(fd[:, -1])
  return dict(
      setup=dict(data="Fashion-MNIST, all 60,000 training images (Debian "
                 "dataset-fashion-mnist), in [-1, 1]", models="image_gan dcgan (G with "
                 "BatchNorm, critic without)", objective="wgan-gp, official recipe (Adam 1e-4, "
                 "β 0.5/0.9, λ 10, n_critic 5)", dim=s["dim"], batch=s["batch"],
                 seeds=runs, generator_iterations=s["iters"], eval_every=s["eval_every"],
                 samples_per_evaluation=s["samples"], frechet_reference_images=s["reference"],
                 median_kernel=s["kernel"], value="−(critic cost incl. λ·GP) per generator "
                 "iteration, as the official 'train disc cost'",
                 paper="LSUN bedrooms 64×64, one run, 4×10⁴ generator iterations"),
      thresholds=dict(fall=FALL, level=LEVEL, last=LAST, rho_tracks=RHO_TRACKS,
                      min_points=MIN_POINTS, improved=IMPROVED),
      iterations=its, negative_loss=-cost, eval_iterations=ev, fd=fd,
      stats=stats, real_test_images_fd=metrics.reference["fashion_frechet_distance"],
      final_samples=dict(seed=shown, x=_common.stored_images(x[shown][..., 0], 16)))


# ------------------------------------------------------------------ reading the stored numbers
def _values(a) -> np.ndarray:
  """A stored curve as floats (None, a non-finite value, is NaN)."""
  return np.asarray([_runner.value(x) for x in a], float)


def filtered_curves(numbers: Mapping):
  """Every run's stored negative loss, median-filtered with the run's kernel (None is NaN)."""
  k = numbers["setup"]["median_kernel"]
  return [median_filtered(_values(c), k) for c in numbers["negative_loss"]]


def stored_stats(numbers: Mapping):
  """Every run's `curve_stats`, recomputed from the stored raw curves (None is NaN)."""
  return [curve_stats(numbers["iterations"], f, numbers["eval_iterations"], _values(q))
          for f, q in zip(filtered_curves(numbers), numbers["fd"])]


def judge(numbers: Mapping) -> Dict[str, bool]:
  return judge_stats(stored_stats(numbers))


def summary(numbers: Mapping) -> str:
  st = stored_stats(numbers)
  return ("; ".join(f"seed {i}: −loss peak {r['peak']:.2f} → {r['final']:.2f} "
                    f"({r['final_over_peak']:.2f}×), last third {r['level_share']:.2f} of the "
                    f"fall, ρ {r['rho']:+.2f}, FD ×{r['fd_ratio']:.2f}"
                    for i, r in enumerate(st)) +
          f"; real test images' FD {_runner.value(numbers['real_test_images_fd']):.1f}")


def plot(numbers: Mapping):
  v = _values
  it, ev = np.asarray(numbers["iterations"]), np.asarray(numbers["eval_iterations"])
  fig, (a, b, c) = _common.subplots(1, 3, figsize=(16, 4.5),
                                    gridspec_kw=dict(width_ratios=[2, 2, 1.2]))
  for i, (raw, f, q) in enumerate(zip(numbers["negative_loss"], filtered_curves(numbers),
                                      numbers["fd"])):
    line, = a.plot(it, f, lw=1.5, label=f"seed {i}")
    a.plot(it, v(raw), lw=0.3, alpha=0.3, color=line.get_color())
    b.plot(ev, v(q), "o-", ms=3, color=line.get_color(), label=f"seed {i}")
  a.set(xlabel="generator iterations", ylabel="negative critic loss",
        title=f"−critic cost (faint) and median-filtered ({numbers['setup']['median_kernel']})")
  a.legend(fontsize=8)
  b.axhline(_runner.value(numbers["real_test_images_fd"]), color="gray", ls=":",
            label="real test images")
  b.set(xlabel="generator iterations", ylabel="FD (classifier features)", yscale="log",
        title="sample quality (lower is better)")
  b.legend(fontsize=8)
  fs = numbers["final_samples"]
  imgs = _common.images_of(fs["x"])
  n = int(math.sqrt(len(imgs)))
  grid = imgs[:n * n].reshape(n, n, *imgs.shape[1:]).transpose(0, 2, 1, 3).reshape(
      n * imgs.shape[1], n * imgs.shape[2])
  c.imshow(grid, cmap="gray", vmin=-1, vmax=1)
  c.set(xticks=[], yticks=[], title=f"final samples, seed {fs['seed']}")
  return fig


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
