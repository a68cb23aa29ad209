"""Stacked digits (1000 modes): modes captured and KL to uniform, nsgan against wgan-gp, each
alone and as a MIX+GAN mixture.

  python -m experiments.figures.stacked_digits --out runs/figures

Three of scikit-learn's 8×8 digits drawn independently as the three channels of one image give
1000 modes (label triples). Several seeds of each objective train at once (`IndependentRuns`,
one compiled program); each generates 26,000 samples whose channels the project's digit
classifier labels, as the Stacked MNIST protocol of VEEGAN and PacGAN does.
"""

from __future__ import annotations

import jax
import numpy as np

from experiments.builders import ImageData, image_gan
from experiments.evaluators import DigitMetrics, sample_in_chunks
from experiments.figures import _common
from experiments.figures import runner as _runner
from experiments.plots import image_grid
from wgan_jax.data.images import load_digits, stack_digits

NAME = "stacked_digits"
PAPER = ("Stacked MNIST (VEEGAN Table 2, PacGAN Tables 2-3, Unrolled GAN): a DCGAN captures "
         "only part of the 1000 modes with a high KL to uniform; methods against mode collapse "
         "capture (nearly) all with a low KL. MIX+GAN (Arora et al. 2017, Table 1): the "
         "mixture improves on its single-pair base (there by Inception score on CIFAR-10). "
         "WGAN-GP is not in those tables: its row is ours to measure, not a check.")
PUBLISHED = ("DCGAN 99 modes, KL 3.4 (VEEGAN T2); 78.9 ± 6.5 modes, KL 4.50 (PacGAN T2); "
             "628 ± 141, KL 2.58 with D = ½G (PacGAN T3)")
NOTE = ("Partly reproduced at the registered default (3 seeds × 1500 generator iterations, "
        "dim 32, T = 3; 2040 CPU s, about 17 min on 2 idle cores). The DCGAN recipe (nsgan) "
        "captures 240 ± 117 of the 1000 modes with a KL to uniform of 3.89 ± 1.46 (published "
        "DCGAN: 99 modes, KL 3.4, VEEGAN T2; 78.9 modes, KL 4.50, PacGAN T2); one of its seeds "
        "collapsed to 6 modes. The precondition fails, though: nsgan's per-channel classifier "
        "score is 3.18 against the real digits' 8.90 (the threshold is 0.8×), so part of what "
        "is missing is poorly drawn digits rather than pure collapse. MIX+GAN gains modes over "
        "nsgan (726 ± 80) but not over wgan-gp (852 ± 26 against 993 ± 3): with T = 3 each "
        "generator sees a third of the fake batch over the same iterations. wgan-gp, which "
        "is not in the papers' tables, covers 993 ± 3 modes with KL 0.36 (real held-out "
        "digits: 1000 modes, KL 0.05).")
# Thresholds of the checks, fixed before the run at the registered (default) size.
MISSING_SHARE = 0.9      # "only part of the modes": fewer than 90% of what real digits cover
KL_EXCESS = 0.5          # "a high KL": at least 0.5 nats above the real held-out digits' KL
RECOGNISABLE = 0.8       # collapse, not noise: classifier score ≥ 80% of the real digits'


def judge(numbers):
  """The papers' claims as checks on the stored table of mean ± s.e. over seeds (`real`: the
  metrics of held-out real stacked digits); a non-finite mean (None) passes no check."""
  real = {k: _runner.value(v) for k, v in numbers["real"].items()}
  mean = lambda o, k: _mean(numbers, o, k)[0]
  return {
      f"precondition (collapse, not noise): nsgan's samples are digits, per-channel classifier "
      f"score ≥ {RECOGNISABLE:g} × the real digits'":
          mean("nsgan", "classifier_score") >= RECOGNISABLE * real["classifier_score"],
      f"VEEGAN T2 / PacGAN T2–3: the DCGAN recipe (nsgan) captures only part of the 1000 "
      f"modes (< {MISSING_SHARE:g} × real held-out data's) and its KL to uniform is high "
      f"(≥ real + {KL_EXCESS:g})":
          mean("nsgan", "modes") < MISSING_SHARE * real["modes"] and
          mean("nsgan", "kl") >= real["kl_to_uniform"] + KL_EXCESS,
      "MIX+GAN (Arora et al. 2017, Table 1: the mixture improves on its base): mix+nsgan "
      "captures more modes than nsgan":
          mean("mix+nsgan", "modes") > mean("nsgan", "modes"),
      "MIX+GAN: mix+wgan-gp captures more modes than wgan-gp":
          mean("mix+wgan-gp", "modes") > mean("wgan-gp", "modes"),
  }
SIZES = {"tiny": dict(iters=4, dim=4, seeds=2, batch=8, samples=2600, data=2000, mixture=2),
         "default": dict(iters=1500, dim=32, seeds=3, batch=64, samples=26000, data=25600,
                         mixture=3),
         "full": dict(iters=20000, dim=64, seeds=10, batch=64, samples=26000, data=60000,
                      mixture=5)}
OBJECTIVES = ("nsgan", "mix+nsgan", "wgan-gp", "mix+wgan-gp")
PLOTTED = ("nsgan", "wgan-gp")   # the objectives whose samples the figure shows
PLOTTED_SAMPLES = 36             # of their median-modes seed (6 × 6)


def build(objective: str, shape, s):
  """The GAN of `objective` (a MIX+GAN of `s["mixture"]` pairs for mix+) on images of
  `shape` at sizes `s`."""
  return image_gan(objective, shape, dim=s["dim"], batch_size=s["batch"],
                   components=s["mixture"])


def games(scale: str):
  """The four objectives' GANs at `scale`, `seeds` runs each trained at once on `data`
  stacked digits (8×8×3)."""
  s = FIGURE.config(scale)
  shape = tuple(stack_digits(load_digits()[0], 1, seed=0).shape[1:])
  return [_common.Game(o, build(o, shape, s), shape, s["iters"], runs=s["seeds"],
                       at_once=s["seeds"], examples=s["data"]) for o in OBJECTIVES]


def train_seeds(objective: str, data, s, seed: int) -> np.ndarray:
  """`s["seeds"]` runs of `objective` trained at once on `data` (run k's init and train key
  split(key(seed), seeds)[k]); every run's `s["samples"]` samples, each run's drawn with
  key(seed + 7): [seeds, samples, ...]."""
  gan = build(objective, data.shape[1:], s)
  key = jax.random.key(seed)
  keys = jax.random.split(key, s["seeds"])  # each seed's init and train key
  _, res = _common.train(gan, (keys, keys, key), data=data, iters=s["iters"],
                         seeds=s["seeds"], log_every=s["iters"])
  sample = jax.jit(gan.sample, static_argnums=2)
  return np.stack([sample_in_chunks(sample, jax.tree_util.tree_map(lambda x: x[i], res.state),
                                    jax.random.key(seed + 7), s["samples"])
                   for i in range(s["seeds"])])


def measure(s, seed: int):
  """Train every objective's seeds; each seed's modes, KL to uniform and classifier score,
  their mean ± s.e., the held-out real digits' numbers, and the samples of the median-modes
  seed of the plotted objectives."""
  xt, _, xv, _ = load_digits()
  data = stack_digits(xt, s["data"], seed=seed)
  held_out = stack_digits(xv, s["samples"], seed + 1)  # as many as the generated samples
  metrics = DigitMetrics(ImageData("stacked-digits", data, held_out))
  rows, samples = {}, {}
  for objective in OBJECTIVES:
    fakes = train_seeds(objective, data, s, seed)
    per_seed = _common.per_run(metrics.of, fakes)
    rows[objective] = dict(modes=per_seed["modes"], kl=per_seed["kl_to_uniform"],
                           classifier_score=per_seed["classifier_score"])
    if objective in PLOTTED:
      k = _common.median_run(rows[objective]["modes"])
      samples[objective] = dict(seed=k, x=_common.stored_images(fakes[k], PLOTTED_SAMPLES))
  table = {o: {k: _common.mean_se(v) for k, v in r.items()} for o, r in rows.items()}
  return dict(rows=rows, table=table, real=metrics.reference, sizes=dict(s), samples=samples)


def _mean(numbers, objective: str, key: str):
  """(mean, s.e.) of a table cell as floats (None: NaN)."""
  return tuple(_runner.value(v) for v in numbers["table"][objective][key])


def plot(numbers):
  """The modes captured by each objective against the real digits'; the samples of nsgan's and
  wgan-gp's median-modes seed."""
  samples = numbers["samples"]   # (a run stored before the plot read them: KeyError)
  s, real = numbers["sizes"], numbers["real"]
  fig, axes = _common.subplots(1, 3, figsize=(14, 4.6))
  labels = list(numbers["table"])
  axes[0].bar(labels, [_mean(numbers, o, "modes")[0] for o in labels],
              yerr=[_mean(numbers, o, "modes")[1] for o in labels],
              color=["tab:red", "salmon", "tab:blue", "lightblue"])
  axes[0].tick_params(axis="x", labelsize=7)
  axes[0].axhline(_runner.value(real.get("modes", 1000)), color="k", ls="--", lw=0.8,
                  label=f"real held-out ({_runner.value(real.get('modes', 0)):.0f}, "
                        f"{s['samples']} samples)")
  axes[0].set_ylabel("modes captured (of 1000)")
  axes[0].legend(fontsize=7)
  for ax, o in zip(axes[1:], PLOTTED):
    ax.imshow(image_grid(_common.images_of(samples[o]["x"])), interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{o}: {_mean(numbers, o, 'modes')[0]:.0f} modes, KL "
                 f"{_mean(numbers, o, 'kl')[0]:.2f} (mean of {s['seeds']} seeds)\nplotted: "
                 f"seed {samples[o]['seed']} (median modes)", fontsize=9)
  fig.suptitle(f"Stacked digits, {s['seeds']} seeds × {s['iters']} generator iterations "
               f"(mixtures: T = {s['mixture']})",
               fontsize=10)
  return fig


def summary(numbers) -> str:
  return "; ".join(f"{o}: modes {m[0]:.0f} ± {m[1]:.0f}, KL {k[0]:.2f} ± {k[1]:.2f}"
                   for o in numbers["table"]
                   for m, k in [(_mean(numbers, o, "modes"), _mean(numbers, o, "kl"))])


def markdown(numbers) -> str:
  md = ["| objective | modes (of 1000) | KL to uniform | classifier score |", "|---|---|---|---|"]
  for o in numbers["table"]:
    m, k, c = (_mean(numbers, o, key) for key in ("modes", "kl", "classifier_score"))
    md.append(f"| {o} | {m[0]:.1f} ± {m[1]:.1f} | {k[0]:.3f} ± {k[1]:.3f} | {c[0]:.2f} |")
  return "\n".join(md)


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SIZES, measure=measure, judge=judge, plot=plot,
    summary=summary, markdown=markdown, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
