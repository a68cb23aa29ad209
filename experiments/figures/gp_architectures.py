"""WGAN-GP §5.2 / Fig 2, reduced, on Fashion-MNIST: four generator/critic variants, each trained
with DCGAN (nsgan), LSGAN, WGAN (weight clipping) and WGAN-GP, one shared set of
hyper-parameters per method.

  python -m experiments.figures.gp_architectures --out runs/figures [--scale tiny|default|full]

The variants (of the paper's list for Fig 2; its LSUN 64×64 runs are not CPU-sized):
  baseline  the DCGAN generator and critic (BatchNorm in G; in the critic BatchNorm, or layer
            normalisation under the gradient penalty, as WGAN-GP §4 prescribes)
  nobn      "No BN and a constant number of filters" in the generator
  mlp       "4-layer 512-dim ReLU MLP generator" (3 hidden layers of 512, linear output)
  tanh      "tanh nonlinearities" in both networks (WGAN-GP Table 1's design space, depth 3)

The methods with WGAN-GP Appendix E's hyper-parameters: DCGAN Adam 2e-4 (β1 .5), LSGAN RMSProp
1e-4, WGAN RMSProp and clipping 0.01 (5 critic steps; the rate 10× the paper's 5e-5 and no
warm-up, as arch_robustness, for runs ~50× shorter), WGAN-GP Adam 1e-4 (β .5, .9), λ 10, 5
critic steps. Batch 64, z ∈ R¹²⁸. One run per cell, as the paper shows.

"Trains" is measured with this project's Fashion-MNIST classifier (not an Inception network):
classifier score ≥ 0.25 × the real test images' and final Fréchet distance (FD, in its
features) ≤ 0.6 × FD at iteration 0, the thresholds of arch_robustness.
"""

from __future__ import annotations

import time
from typing import Dict, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from experiments import common
from experiments.figures import _common
from experiments.figures import runner as _runner
from experiments.plots import image_grid
import wgan_jax as wj
from wgan_jax.data.images import array_sampler
from wgan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from wgan_jax.models.design_space import DesignSpaceCritic, DesignSpaceGenerator
from wgan_jax.models.resnet import ImageMLPGenerator

NAME = "gp_architectures"
PAPER = ("WGAN-GP (arXiv:1704.00028) §5.2 'Training varied architectures on LSUN bedrooms': "
         "'For each architecture, we train models using four different GAN methods: WGAN-GP, "
         "WGAN with weight clipping, DCGAN [22], and Least-Squares GAN [18].' [...] 'We only "
         "succeeded in training every architecture with a shared set of hyperparameters using "
         "WGAN-GP. For every other training method, some of these architectures were unstable "
         "or suffered from mode collapse.' Fig 2's rows include 'Baseline (G: DCGAN, D: "
         "DCGAN)', 'G: No BN and a constant number of filters, D: DCGAN', 'G: 4-layer 512-dim "
         "ReLU MLP, D: DCGAN' and 'tanh nonlinearities everywhere in G and D'. Here on "
         "Fashion-MNIST 28×28 with those four rows.")
PUBLISHED = "sample sheets only (LSUN bedrooms 64×64), no number"
NOTE = ("Reproduced in part at the CPU default (800 generator iterations per cell, dim 16, "
        "1383 CPU s (two figures at once), about 12 min on 2 idle cores). Re-run (issue 27) "
        "with the wgan recipe's RMSProp in the official code's PyTorch form (was optax's); the "
        "other methods trained as before, but their FDs moved with the Fashion classifier "
        "retrained on this machine, and DCGAN without BatchNorm crossed the rule (FD 666 → 383, "
        "0.58 of the start). Re-run (issue 29) with the sub-pixel convolution plan (the same "
        "function in another summation order): the checks and the other 15 cells' verdicts are "
        "unchanged, but that cell falls back under the rule (score 1.93, the rule asks 1.97 = "
        "0.25 × real; FD 666 → 399, 0.60 of the start, just inside), so DCGAN trains 2 of 4; it "
        "sits at the edge of both conditions, where one run per cell cannot separate the method "
        "from run-to-run noise. The paper's ordering holds only in part: WGAN-GP and WGAN "
        "(clipping) each train 3 of 4 variants, DCGAN 2, LSGAN 1. DCGAN collapses to one "
        "repeated image with the MLP generator (score 1.00, FD rising 523 → 651); LSGAN trains "
        "only the baseline. WGAN-GP does not train every variant: with the MLP generator its FD "
        "falls only to 0.68 of the start (544 → 369; the rule asks 0.6), and WGAN (clipping) "
        "does as well there (557 → 375, 0.67), so 'only WGAN-GP' is not reproduced at this "
        "length. Every method trains the DCGAN baseline. One run per cell (16 runs), as the "
        "paper shows: a check on one run per cell cannot separate a method's failure from an "
        "unlucky seed, and 'fails' means 'did not train by the rule in this short run', not "
        "instability observed over the paper's 200K iterations. The paper searched LSGAN's "
        "learning rate; here it is App. E's RMSProp 1e-4; WGAN's rate is 10× the paper's (5e-4) "
        "without the warm-up.")

SHAPE = (28, 28, 1)
PLOTTED = 4         # final samples a panel shows, kept in the numbers (2 × 2, grey: 16
                    # panels; the indented JSON holds a line per pixel)
BATCH = 64
LATENT = 128
VARIANTS = {"baseline": "DCGAN baseline", "nobn": "G: no BN, constant filters",
            "mlp": "G: 4-layer 512-dim ReLU MLP", "tanh": "tanh nonlinearities in G and D"}
METHODS = {"nsgan": "DCGAN", "lsgan": "LSGAN", "wgan": "WGAN (clipping)", "wgan-gp": "WGAN-GP"}
SCALES = {
    "tiny": dict(dim=4, width=16, iters=6, wgan_lr=5e-4, eval_every=3, samples=256, final=512,
                 train_images=2000),
    "default": dict(dim=16, width=512, iters=800, wgan_lr=5e-4, eval_every=400, samples=500,
                    final=1000, train_images=10000),
    "full": dict(dim=64, width=512, iters=20000, wgan_lr=5e-5, eval_every=2000, samples=2000,
                 final=5000, train_images=60000),
}
# Thresholds, fixed before the default run (arch_robustness's).
TRAINS_SCORE = 0.25
TRAINS_FD = 0.6


def trains(r: Mapping, real_score: float) -> bool:
  return (r["classifier_score"] >= TRAINS_SCORE * real_score
          and r["fd"] <= TRAINS_FD * r["fd_start"])


def judge_runs(runs: Mapping[str, Mapping], real_score: float) -> Dict[str, bool]:
  """The caption's claims on runs "METHOD/VARIANT"."""
  t = lambda m, v: trains(runs[f"{m}/{v}"], real_score)
  rule = (f"(trains: classifier score ≥ {TRAINS_SCORE:g} × real and final FD ≤ {TRAINS_FD:g} × "
          "the first)")
  checks = {
      f"§5.2: 'We only succeeded in training every architecture with a shared set of "
      f"hyperparameters using WGAN-GP': WGAN-GP trains every variant {rule}":
          all(t("wgan-gp", v) for v in VARIANTS),
  }
  for m in (m for m in METHODS if m != "wgan-gp"):
    checks[f"§5.2: 'For every other training method, some of these architectures were "
           f"unstable or suffered from mode collapse': {METHODS[m]} fails on at least one "
           "variant"] = not all(t(m, v) for v in VARIANTS)
  checks["Fig 2, first row (read from its samples; the text does not say it): every method "
         "trains the DCGAN baseline"] = all(
      t(m, "baseline") for m in METHODS)
  return checks


def build(method: str, variant: str, sz: Mapping):
  """The GAN of (method, variant) at sizes `sz`."""
  penalised = method == "wgan-gp"
  critic_norm = "layer" if penalised else "batch"
  if variant == "tanh":
    gen = DesignSpaceGenerator(depth=3, nonlinearity="tanh", norm="batch", filters=sz["dim"])
    critic = DesignSpaceCritic(depth=3, nonlinearity="tanh", norm=critic_norm,
                               filters=sz["dim"])
  else:
    critic = DCGANCritic(dim=sz["dim"], norm=critic_norm)
    if variant == "mlp":
      gen = ImageMLPGenerator(image_shape=SHAPE, width=sz["width"], depth=3)
    else:
      gen = DCGANGenerator(image_shape=SHAPE, dim=sz["dim"],
                           norm="none" if variant == "nobn" else "batch",
                           constant_filters=variant == "nobn")
  over = dict(batch_size=BATCH, latent_dim=LATENT)
  if method == "lsgan":    # WGAN-GP App. E: LSGAN with RMSProp 1e-4
    over.update(optimizer="rmsprop", lr_d=1e-4, lr_g=1e-4)
  if method == "wgan":
    over.update(lr_d=sz["wgan_lr"], lr_g=sz["wgan_lr"], warmup=False)
  return wj.GAN(gen, critic, wj.make_config(method, **over), array_sampler)


def games(scale: str):
  """The 16 (method, variant) GANs at `scale`, one run each on the 60,000 training images."""
  sz = FIGURE.config(scale)
  return [_common.Game(f"{m}/{v}", build(m, v, sz), SHAPE, sz["iters"], examples=60000)
          for v in VARIANTS for m in METHODS]


def train_one(method: str, variant: str, sz: Mapping, data, metrics, key) -> Dict:
  """Train one cell: FD and classifier score at 0, every `eval_every` and at the end (with the
  first 4 final samples, for the plot)."""
  gan = build(method, variant, sz)

  def scores(x):
    m = metrics.of(x)
    return dict(fd=m["fashion_frechet_distance"], classifier_score=m["fashion_classifier_score"],
                classes_covered=m["fashion_classes_covered"])

  c0, t0 = common.cpu_seconds(), time.time()
  evals, x, r = _common.train_scored(
      gan, tuple(jax.random.split(key, 3)), scores, data=data, samples=sz["samples"],
      final=sz["final"], sample=jax.jit(gan.sample, static_argnums=2), iters=sz["iters"],
      eval_every=sz["eval_every"], iters_per_call=sz["eval_every"],
      log_every=sz["eval_every"])
  finite = bool(np.isfinite(x).all())
  final = scores(x) if finite else dict(fd=float("inf"), classifier_score=1.0,
                                        classes_covered=0)
  return dict(iterations=[e["iteration"] for e in evals], fd_curve=[e["fd"] for e in evals],
              fd_start=evals[0]["fd"], finite=finite,
              samples=_common.stored_images(x[..., 0], PLOTTED),
              seconds=time.time() - t0, cpu_seconds=common.cpu_seconds() - c0, **final)


def cells_of(numbers: Mapping) -> Dict[str, Dict[str, float]]:
  """The stored cells' numbers `trains` reads (a non-finite one, stored as None, is NaN: that
  cell does not train)."""
  keys = ("classifier_score", "fd", "fd_start")
  return {n: {k: _runner.value(r[k]) for k in keys} for n, r in numbers["runs"].items()}


def trains_of(numbers: Mapping) -> Dict[str, bool]:
  """Whether each stored cell trains, by `trains`."""
  real = _runner.value(numbers["real_test_images"]["fashion_classifier_score"])
  return {n: trains(r, real) for n, r in cells_of(numbers).items()}


def judge(numbers: Mapping) -> Dict[str, bool]:
  """The caption's claims on the stored numbers (`judge_runs` of their cells)."""
  return judge_runs(cells_of(numbers),
                    _runner.value(numbers["real_test_images"]["fashion_classifier_score"]))


def measure(sz: Mapping, seed: int) -> Dict:
  """Train every (method, variant) cell; their curves, final metrics and first 4 final
  samples."""
  key = jax.random.key(seed)
  train_x, _, metrics = _common.fashion_mnist(key, sz["train_images"], sz["final"])
  real = dict(metrics.reference)
  data = jnp.asarray(train_x)
  runs, samples = {}, {}
  for i, (m, v) in enumerate((m, v) for v in VARIANTS for m in METHODS):
    r = train_one(m, v, sz, data, metrics, jax.random.fold_in(key, i))
    samples[f"{m}/{v}"] = r.pop("samples")
    runs[f"{m}/{v}"] = r
    print(f"  {m}/{v}: score {r['classifier_score']:.2f}, FD {r['fd_start']:.0f} → "
          f"{r['fd']:.0f} ({r['cpu_seconds']:.0f} CPU s)", flush=True)
  real_score = real["fashion_classifier_score"]
  return dict(
      setup=dict(data="Fashion-MNIST train split, [-1, 1]", batch=BATCH,
                 latent_dim=LATENT, generator_iterations=sz["iters"], dim=sz["dim"],
                 mlp_width=sz["width"],
                 methods=dict(nsgan="Adam 2e-4, β (0.5, 0.999), 1 D step",
                              lsgan="RMSProp 1e-4, 1 D step",
                              wgan=f"RMSProp {sz['wgan_lr']:g}, clip 0.01, 5 critic steps, no "
                                   "warm-up",
                              **{"wgan-gp": "Adam 1e-4, β (0.5, 0.9), λ 10, 5 critic steps, "
                                            "layer-normalised critic"}),
                 eval_samples=sz["samples"], final_samples=sz["final"],
                 fd_reference_images=sz["train_images"],
                 paper="LSUN bedrooms 64×64, 7 architectures × 4 methods, ~2×10⁵ iterations"),
      thresholds=dict(trains_score=TRAINS_SCORE, trains_fd=TRAINS_FD),
      real_test_images=real,
      trains={n: trains(r, real_score) for n, r in runs.items()},
      runs=runs, samples=samples)


def summary(numbers: Mapping) -> str:
  """How many variants each method trains."""
  ok, st = trains_of(numbers), numbers["setup"]
  methods = list(dict.fromkeys(n.split("/")[0] for n in numbers["runs"]))
  variants = list(dict.fromkeys(n.split("/")[1] for n in numbers["runs"]))
  return (f"{st['generator_iterations']} generator iterations, dim {st['dim']}. Trains (of "
          f"{len(variants)} variants): " +
          ", ".join(f"{METHODS[m]} {sum(ok[f'{m}/{v}'] for v in variants)}" for m in methods))


def markdown(numbers: Mapping) -> str:
  """One row per variant, one column per method: trains or fails, score, FD start → end."""
  ok, runs, real, val = trains_of(numbers), numbers["runs"], numbers["real_test_images"], \
      _runner.value
  methods = list(dict.fromkeys(n.split("/")[0] for n in runs))
  variants = list(dict.fromkeys(n.split("/")[1] for n in runs))
  md = ["| variant | " + " | ".join(METHODS[m] for m in methods) + " |",
        "|---|" + "---|" * len(methods)]
  for v in variants:
    md.append(f"| {VARIANTS[v]} | " + " | ".join(
        f"{'trains' if ok[f'{m}/{v}'] else 'fails'}: score "
        f"{val(runs[f'{m}/{v}']['classifier_score']):.2f}, FD "
        f"{val(runs[f'{m}/{v}']['fd_start']):.0f} → {val(runs[f'{m}/{v}']['fd']):.0f}"
        for m in methods) + " |")
  md.append(f"| real test images | score {val(real['fashion_classifier_score']):.2f}, FD "
            f"{val(real['fashion_frechet_distance']):.1f} | | | |")
  return "\n".join(md)


def plot(numbers: Mapping):
  """Each cell's first 4 final samples, titled with its verdict, score and FD."""
  ok, runs, val = trains_of(numbers), numbers["runs"], _runner.value
  methods = list(dict.fromkeys(n.split("/")[0] for n in runs))
  variants = list(dict.fromkeys(n.split("/")[1] for n in runs))
  fig, axes = _common.subplots(len(variants), len(methods), figsize=(13, 13), squeeze=False)
  for i, v in enumerate(variants):
    for j, m in enumerate(methods):
      r, ax = runs[f"{m}/{v}"], axes[i, j]
      x = _common.images_of(numbers["samples"][f"{m}/{v}"])[..., None]
      ax.imshow(image_grid(x)[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
      ax.set_axis_off()
      ax.set_title(f"{METHODS[m]} / {VARIANTS[v]}\n{'trains' if ok[f'{m}/{v}'] else 'FAILS'}: "
                   f"score {val(r['classifier_score']):.2f}, FD {val(r['fd_start']):.0f}→"
                   f"{val(r['fd']):.0f}", fontsize=8)
  fig.suptitle(f"WGAN-GP Fig 2 reduced, Fashion-MNIST: {numbers['setup']['generator_iterations']}"
               " generator iterations each, one shared set of hyper-parameters per method",
               fontsize=10)
  return fig


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge, plot=plot,
    summary=summary, markdown=markdown, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
