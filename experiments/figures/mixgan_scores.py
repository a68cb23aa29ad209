"""MIX+GAN (Arora et al. 2017): the score table with its compute control, and the theory figure.

  python -m experiments.figures.mixgan_scores --out runs/figures [--scale tiny|default|full]

Table (the paper's CIFAR-10 Inception-score table, here on Fashion-MNIST with this project's
Fashion classifier score, `FashionMetrics`; not an Inception number): five methods, `seeds`
independent runs each trained at once (`IndependentRuns`), the DCGAN family of
`experiments.builders.image_gan` with each objective's official defaults:
  nsgan        the DCGAN recipe at width `dim`
  nsgan ×5     the same with ≈5× the parameters (G and D together; the width whose count is
               nearest 5×, `control_dim`): the paper's control that a mixture's gain is not its
               size
  mix+nsgan    MIX+GAN of T = 5 DCGANs at width `dim` (softmax mixture weights, entropy term 0.1)
  wgan         WGAN with weight clipping (RMSProp 5e-5, c 0.01, the official warm-up)
  mix+wgan     MIX+GAN of T = 5 of those
Each is scored every `eval_every` generator iterations on `samples` samples per run; the level
is the mean score over the last third of the evaluations (mean ± s.e. over runs).

Theory (§3: W and JS do not generalise, the neural-net distance does): two independent
m-samples of N(0, I/d), d = 100. Their empirical W1 (exact, by linear assignment) stays near the
typical distance between two points (≈ √2) for every m, and their JS is exactly log 2 (disjoint
supports), although both come from one distribution; a small critic (d → 8 → 1 ReLU MLP, 1-
Lipschitz through the gradient penalty, λ = 10, trained to optimality on the two samples) finds
a distance that falls towards 0 as m grows, as does the linear 1-Lipschitz critic (exactly
‖mean₁ − mean₂‖).
"""

from __future__ import annotations

import functools
import math
from typing import Dict, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments import common
from experiments.builders import image_gan, make_models
from experiments.figures import _common
from experiments.figures import runner as _runner
from wgan_jax import mixture
from wgan_jax.models import MLPCritic

NAME = "mixgan_scores"
PAPER = ("MIX+GAN (Arora et al. 2017, arXiv:1703.00573): a mixture of T = 5 generators and "
         "discriminators improves on its base model on CIFAR-10's Inception score (DCGAN → "
         "MIX+DCGAN, WGAN → MIX+WGAN), beyond a DCGAN given about 5× the parameters; the "
         "mixture trains as stably as its base. Theory (§3): W1 and JS between two empirical "
         "samples of one high-dimensional Gaussian stay large (JS = log 2), while the distance "
         "a small discriminator can see between them goes to 0 as the sample size grows. Here "
         "on Fashion-MNIST with this project's classifier score.")
PUBLISHED = ("CIFAR-10 Inception score: DCGAN 6.58, MIX+DCGAN 7.72 ± 0.09, DCGAN at 5× size "
             "7.34 ± 0.07 (from memory, docs/papers.md); WGAN 3.82 ± 0.06, MIX+WGAN 4.04 ± 0.07 "
             "(verified); real data 11.24 ± 0.16")
NOTE = ("Reproduced in part at the CPU default (3 seeds × 1000 generator iterations, DCGAN dim 8, "
        "batch 32, T = 5; 1895 CPU s (two figures at once), about 16 min on 2 idle cores). "
        "Re-run (issue 27) with "
        "the wgan recipe's RMSProp in the official code's PyTorch form (was optax's); the "
        "nsgan rows train as before, but every score moved with the Fashion classifier "
        "retrained on this machine (real 8.10 → 7.97). Re-run (issue 29) with the sub-pixel "
        "convolution plan (the same function in another summation order): the theory figure "
        "is identical, the wgan rows' levels unchanged to 2 decimals, the nsgan rows moved "
        "by up to 0.06 (nsgan 2.46 → 2.40, mix+nsgan 2.90 → 2.94) and the compute control's "
        "check flipped from failing to passing (1.3 → 2.1 s.e.). The DCGAN rows are "
        "reproduced, the control only just: mix+nsgan's level 2.94 ± 0.01 beats nsgan's "
        "2.40 ± 0.08 (by 6.4 s.e. of the difference) and the 5×-parameter control's "
        "2.81 ± 0.06 (dim 34: a generator of 489k parameters against the mixture's 5 × 105k) "
        "by 0.13, 2.1 s.e. of the difference, just over the 2 that the one margin rule asks; "
        "with the margin 0.08 → 0.13 and mix+nsgan's s.e. 0.05 → 0.01 from a change of "
        "summation order alone, the control's verdict sits within run-to-run noise at 3 "
        "seeds. The WGAN "
        "row is not: with the official RMSProp both clipped rows learn faster (wgan 1.51 → "
        "1.87, mix+wgan 1.36 → 1.56), but mix+wgan stays below wgan (1.5 s.e.), both still "
        "rising at 1000 iterations at the recipe's 5e-5 (published: 4.04 against 3.82, also "
        "low). The mixture weights hardly moved: the largest distance from 1/5 over every run, "
        "G and D, is 0.021 (mix+nsgan) and 0.011 (mix+wgan), so each mixture acts as a uniform "
        "ensemble. The theory figure is reproduced: between two 2048-samples of N(0, I/100) "
        "the exact W1 stays at 1.16 (1.26 at m = 32) and JS is log 2, while the small "
        "penalised critic's distance falls 0.52 → 0.059 and the linear critic's 0.23 → 0.027, "
        "about as 1/√m.")

METHODS = {  # label: (objective, parameter-count multiplier)
    "nsgan": ("nsgan", 1), "nsgan ×5": ("nsgan", 5),
    "mix+nsgan": ("mix+nsgan", 1), "wgan": ("wgan", 1), "mix+wgan": ("mix+wgan", 1)}
COMPONENTS = 5        # the paper's and the official code's T
SCALES = {
    "tiny": dict(iters=4, eval_every=2, dim=4, batch=10, seeds=2, samples=64, reference=2000,
                 dims=8, ms=(8, 16), critic_steps=20, critic_width=4),
    "default": dict(iters=1000, eval_every=100, dim=8, batch=32, seeds=3, samples=500,
                    reference=10000, dims=100, ms=(32, 128, 512, 2048), critic_steps=1500,
                    critic_width=8),
    "full": dict(iters=50000, eval_every=2500, dim=64, batch=64, seeds=3, samples=2000,
                 reference=60000, dims=100, ms=(32, 128, 512, 2048, 8192), critic_steps=5000,
                 critic_width=8),
}
# Thresholds of the checks, fixed before the default run.
TAIL = 1 / 3          # the level: mean over the last third of the evaluations
SMALL_CRITIC_FALL = 0.5   # the small critic's distance at the largest m ≤ 0.5 × at the smallest
W1_STAYS = 0.8            # W1 at the largest m ≥ 0.8 × at the smallest


# ------------------------------------------------------------------ theory
def gaussian_distances(key, m: int, d: int, *, critic_steps: int, critic_width: int) -> Dict:
  """Distances between two independent m-samples of N(0, I/d): exact W1, the linear 1-Lipschitz
  critic's ‖mean₁ − mean₂‖, and a small penalised critic's E f(x) − E f(y) after training."""
  import scipy.optimize
  import scipy.spatial
  kx, ky, kc = jax.random.split(key, 3)
  x = np.asarray(jax.random.normal(kx, (m, d))) / math.sqrt(d)
  y = np.asarray(jax.random.normal(ky, (m, d))) / math.sqrt(d)
  cost = scipy.spatial.distance.cdist(x, y)
  rows, cols = scipy.optimize.linear_sum_assignment(cost)
  critic = MLPCritic(width=critic_width, depth=1)
  xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
  params, _ = _common.train_critic(critic, lambda k: (xj, yj), kc, steps=critic_steps,
                                   loss="wasserstein", optimizer=optax.adam(1e-3, b1=0.5, b2=0.9),
                                   gp_weight=10.0, example_shape=(d,))
  f = lambda v: np.asarray(critic.apply(params, v)).reshape(-1)
  return dict(m=m, w1=float(cost[rows, cols].mean()), js=math.log(2),
              linear=float(np.linalg.norm(x.mean(0) - y.mean(0))),
              small_critic=float(f(xj).mean() - f(yj).mean()))


# ------------------------------------------------------------------ the table
@functools.lru_cache(maxsize=None)
def parameter_count(dim: int, shape, latent_dim: int = 128) -> int:
  """Parameters of the DCGAN generator and critic of `image_gan` at width `dim` (no compute)."""
  g, d = make_models("dcgan", shape, dim=dim, gen_norm="batch", critic_norm="batch")
  count = lambda m, x: sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(
      jax.eval_shape(m.init, jax.random.key(0), x)["params"]))
  return (count(g, jnp.zeros((1, latent_dim))) +
          count(d, jnp.zeros((1,) + tuple(shape))))


def control_dim(dim: int, shape, factor: float) -> int:
  """The width whose generator + critic have the parameter count nearest `factor` × width
  `dim`'s (on a log scale)."""
  if factor == 1:
    return dim
  base = parameter_count(dim, shape)
  gap = lambda w: abs(math.log(parameter_count(w, shape) / (factor * base)))
  # The count grows strictly with the width, so the nearest width on [dim, 8·dim] is one of
  # the two around the first whose count reaches the target: found by bisection (≈ 10 counts
  # instead of 7·dim + 1; the same width as the scan `min(range(dim, 8 * dim + 1), key=gap)`,
  # the smaller one on a tie).
  lo, hi = dim, 8 * dim
  while lo < hi:
    mid = (lo + hi) // 2
    if parameter_count(mid, shape) < factor * base:
      lo = mid + 1
    else:
      hi = mid
  return min((w for w in (lo - 1, lo) if dim <= w), key=gap)


def build(label: str, shape, s: Mapping):
  """(GAN, its DCGAN width) of method `label` on images of `shape` at sizes `s`: the
  parameter-matched control's width from `control_dim`."""
  objective, factor = METHODS[label]
  dim = control_dim(s["dim"], tuple(shape), factor)
  return image_gan(objective, tuple(shape), dim=dim, batch_size=s["batch"],
                   components=COMPONENTS), dim


def games(scale: str):
  """The five methods' GANs at `scale`, `seeds` runs each trained at once on the 60,000
  training images (the §3 theory panel trains small critics only, no GAN)."""
  s = FIGURE.config(scale)
  shape = (28, 28, 1)
  return [_common.Game(label, build(label, shape, s)[0], shape, s["iters"], runs=s["seeds"],
                       at_once=s["seeds"], examples=60000) for label in METHODS]


def train_method(label: str, data, metrics, key, eval_key, s: Mapping) -> Dict:
  """`s["seeds"]` runs of one method trained together: score curves, final mixture weights."""
  gan, dim = build(label, tuple(data.shape[1:]), s)
  runs = s["seeds"]
  k_init, k_train = jax.random.split(key)
  c0 = common.cpu_seconds()
  evals, _, r = _common.train_scored(
      gan, (jax.random.split(k_init, runs), jax.random.split(k_train, runs), eval_key),
      lambda x: _common.quality(metrics, x), data=data, samples=s["samples"], runs=runs,
      iters=s["iters"], eval_every=s["eval_every"])
  leaves = lambda p: sum(int(np.prod(v.shape[1:])) for v in jax.tree_util.tree_leaves(p))
  out = dict(iterations=[e["iteration"] for e in evals],
             score=np.asarray([e["classifier_score"] for e in evals]).T.tolist(),
             fd=np.asarray([e["fd"] for e in evals]).T.tolist(), dim=dim,
             generator_parameters=leaves(r.state.generator.params),
             critic_parameters=leaves(r.state.critic.params),
             cpu_seconds=common.cpu_seconds() - c0)
  if mixture.mixture_of(gan) is not None:
    w_g, w_d = (np.asarray(w) for w in jax.vmap(mixture.weights)(r.state))
    out.update(w_g=w_g.tolist(), w_d=w_d.tolist(),
               weight_movement=float(max(np.abs(w_g - 1 / COMPONENTS).max(),
                                         np.abs(w_d - 1 / COMPONENTS).max())))
  return out


def level(scores) -> tuple:
  """Mean ± s.e. over runs of each run's mean score over the last third of its evaluations."""
  s = np.asarray(scores, float)                  # [runs, evaluations]
  tail = s[:, -max(1, int(round(s.shape[1] * TAIL))):]
  return _common.mean_se(tail.mean(axis=1))


def judge(numbers: Mapping) -> Dict[str, bool]:
  """The paper's claims on the stored levels and theory: a method beats another by the one
  margin rule of every figure, `runner.beats` (its mean level higher by more than
  `runner.MARGIN_SE` = 2 standard errors of the difference, √(se₁² + se₂²); was: by 1 s.e.,
  which a difference of pure noise passes about one time in six); a non-finite number (stored
  as None) is NaN and passes no comparison."""
  levels = numbers["levels"]
  theory = [dict(t, w1=_runner.value(t["w1"]), small_critic=_runner.value(t["small_critic"]))
            for t in numbers["theory"]]
  beats = lambda a, b: _runner.beats(levels[a], levels[b])
  first, last = theory[0], theory[-1]
  margin = f"by more than {_runner.MARGIN_SE:g} s.e. of the difference"
  return {
      f"MIX+GAN table: mix+nsgan scores above nsgan ({margin})":
          beats("mix+nsgan", "nsgan"),
      f"MIX+GAN table, the compute control: mix+nsgan scores above an nsgan with ≈5× the "
      f"parameters ({margin})": beats("mix+nsgan", "nsgan ×5"),
      f"MIX+GAN table: mix+wgan scores above wgan ({margin})": beats("mix+wgan", "wgan"),
      f"§3: the empirical W1 between two m-samples of one Gaussian does not shrink with m "
      f"(at m = {last['m']} ≥ {W1_STAYS:g} × at m = {first['m']})":
          last["w1"] >= W1_STAYS * first["w1"],
      f"§3: a small critic's distance between the two samples goes towards 0 as m grows (at m = "
      f"{last['m']} ≤ {SMALL_CRITIC_FALL:g} × at m = {first['m']}, falling at every step)":
          last["small_critic"] <= SMALL_CRITIC_FALL * first["small_critic"]
          and all(b["small_critic"] < a["small_critic"] for a, b in zip(theory, theory[1:])),
  }


def measure(s: Mapping, seed: int) -> Dict:
  """The §3 distances at every m, then the five methods' seeds trained and scored; each
  method's level."""
  key = jax.random.key(seed)
  theory = [gaussian_distances(jax.random.fold_in(jax.random.fold_in(key, 200), m), m,
                               s["dims"], critic_steps=s["critic_steps"],
                               critic_width=s["critic_width"]) for m in s["ms"]]
  train_x, _, metrics = _common.fashion_mnist(key, s["reference"], s["samples"])
  data = jnp.asarray(train_x)
  eval_key = jax.random.fold_in(key, 300)
  table = {}
  for i, label in enumerate(METHODS):
    table[label] = train_method(label, data, metrics, jax.random.fold_in(key, 10 + i),
                                eval_key, s)
    print(f"  {label}: level {level(table[label]['score'])[0]:.2f} "
          f"({table[label]['cpu_seconds']:.0f} CPU s)", flush=True)
  levels = {k: level(v["score"]) for k, v in table.items()}
  return dict(
      setup=dict(data="Fashion-MNIST train split (60,000 images, [-1, 1])",
                 arch="DCGAN family (experiments.builders.image_gan), each objective's "
                      "official defaults", components=COMPONENTS,
                 methods={k: dict(objective=o, dim=table[k]["dim"]) for k, (o, _) in
                          METHODS.items()}, seeds=s["seeds"], batch=s["batch"],
                 generator_iterations=s["iters"], eval_every=s["eval_every"],
                 samples=s["samples"], level=f"mean score over the last {TAIL:.2f} of the "
                                             "evaluations, mean ± s.e. over runs",
                 gaussian=dict(d=s["dims"], ms=list(s["ms"]), critic=f"{s['dims']} → "
                               f"{s['critic_width']} → 1 ReLU MLP, gradient penalty 10, Adam "
                               f"1e-3, {s['critic_steps']} full-batch steps")),
      thresholds=dict(tail=TAIL, small_critic_fall=SMALL_CRITIC_FALL, w1_stays=W1_STAYS),
      levels=levels, table=table, theory=theory,
      real_test_images_score=metrics.reference["fashion_classifier_score"])


def summary(numbers: Mapping) -> str:
  """The levels, the mixture weights' movement and the §3 distances at the smallest and
  largest m."""
  st, theory, v = numbers["setup"], numbers["theory"], _runner.value
  moved = {k: t["weight_movement"] for k, t in numbers["table"].items()
           if "weight_movement" in t}
  first, last = theory[0], theory[-1]
  return (f"{st['seeds']} seeds × {st['generator_iterations']} generator iterations, dim "
          f"{st['methods']['nsgan']['dim']}. Level (Fashion classifier score): " +
          ", ".join(f"{k} {v(m):.2f} ± {v(e):.2f}" for k, (m, e) in numbers["levels"].items()) +
          f" (real {v(numbers['real_test_images_score']):.2f}); mixture weights' largest "
          f"distance from 1/{COMPONENTS}: " + ", ".join(f"{k} {v(w):.3f}" for k, w in
                                                       moved.items()) +
          f". Gaussian d = {st['gaussian']['d']}, m {first['m']} → {last['m']}: W1 "
          f"{v(first['w1']):.3f} → {v(last['w1']):.3f}, small critic "
          f"{v(first['small_critic']):.3f} → {v(last['small_critic']):.3f}, linear "
          f"{v(first['linear']):.3f} → {v(last['linear']):.3f}")


def markdown(numbers: Mapping) -> str:
  """The score table beside the published scores, and the §3 distances."""
  levels, v = numbers["levels"], _runner.value
  md = ["| method | width | G / D parameters | score level | published (CIFAR-10 IS) |",
        "|---|---|---|---|---|"]
  pub = {"nsgan": "6.58 (DCGAN)", "nsgan ×5": "7.34 (DCGAN 5× size)",
         "mix+nsgan": "7.72 (MIX+DCGAN)", "wgan": "3.82", "mix+wgan": "4.04"}
  md += [f"| {k} | {t['dim']} | {t['generator_parameters']:,} / {t['critic_parameters']:,} | "
         f"{v(levels[k][0]):.2f} ± {v(levels[k][1]):.2f} | {pub[k]} |"
         for k, t in numbers["table"].items()]
  md += ["", "| m | W1 (exact) | JS | linear critic | small critic |", "|---|---|---|---|---|"]
  md += [f"| {t['m']} | {v(t['w1']):.3f} | {v(t['js']):.3f} | {v(t['linear']):.3f} | "
         f"{v(t['small_critic']):.3f} |" for t in numbers["theory"]]
  return "\n".join(md)


def plot(numbers: Mapping):
  """Score curves (mean and range over the runs), the levels, the §3 distances against m."""
  table, levels, theory = numbers["table"], numbers["levels"], numbers["theory"]
  st, v = numbers["setup"], _runner.value
  fig, axes = _common.subplots(1, 3, figsize=(16, 4.6))
  colours = {"nsgan": "tab:red", "nsgan ×5": "darkred", "mix+nsgan": "salmon",
             "wgan": "tab:blue", "mix+wgan": "lightblue"}
  for k, t in table.items():
    sc = np.asarray(t["score"], float)
    axes[0].plot(t["iterations"], sc.mean(0), color=colours[k], label=k)
    axes[0].fill_between(t["iterations"], sc.min(0), sc.max(0), color=colours[k], alpha=0.2)
  axes[0].set(xlabel="generator iterations", ylabel="Fashion classifier score",
              title=f"score, mean and range over {st['seeds']} runs (real "
                    f"{v(numbers['real_test_images_score']):.2f})")
  axes[0].legend(fontsize=7)
  labels = list(levels)
  axes[1].bar(labels, [v(levels[k][0]) for k in labels], yerr=[v(levels[k][1]) for k in labels],
              color=[colours[k] for k in labels])
  axes[1].set(ylabel="score level (last third)", title="the MIX+GAN table")
  axes[1].tick_params(axis="x", labelsize=8)
  ms = [t["m"] for t in theory]
  for key, lab in (("w1", "W1 (exact)"), ("js", "JS (= log 2)"), ("linear", "linear critic"),
                   ("small_critic", "small critic (GP)")):
    axes[2].plot(ms, [v(t[key]) for t in theory], marker="o", label=lab)
  axes[2].set(xscale="log", yscale="log", xlabel="m (samples of each)",
              title=f"two m-samples of N(0, I/{st['gaussian']['d']})", ylabel="distance")
  axes[2].legend(fontsize=7)
  return fig


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge, plot=plot,
    summary=summary, markdown=markdown, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
