"""Stacked digits (1000 modes): modes captured and KL to uniform, nsgan against wgan-gp, each
alone and as a MIX+GAN mixture.

  python -m experiments.figures.stacked_digits --out runs/figures

Three of scikit-learn's 8×8 digits drawn independently as the three channels of one image give
1000 modes (label triples). Several seeds of each objective train at once (`IndependentRuns`,
one compiled program); each generates 26,000 samples whose channels the project's digit
classifier labels, as the Stacked MNIST protocol of VEEGAN and PacGAN does.
"""

from __future__ import annotations

import numpy as np

from experiments.figures import _common

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


def judge(table, real):
  """The papers' claims as checks on the table of mean ± s.e. over seeds (`real`: the metrics
  of held-out real stacked digits)."""
  ns = table["nsgan"]
  return {
      f"precondition (collapse, not noise): nsgan's samples are digits, per-channel classifier "
      f"score ≥ {RECOGNISABLE:g} × the real digits'":
          ns["classifier_score"][0] >= RECOGNISABLE * real["classifier_score"],
      f"VEEGAN T2 / PacGAN T2–3: the DCGAN recipe (nsgan) captures only part of the 1000 "
      f"modes (< {MISSING_SHARE:g} × real held-out data's) and its KL to uniform is high "
      f"(≥ real + {KL_EXCESS:g})":
          ns["modes"][0] < MISSING_SHARE * real["modes"] and
          ns["kl"][0] >= real["kl_to_uniform"] + KL_EXCESS,
      "MIX+GAN (Arora et al. 2017, Table 1: the mixture improves on its base): mix+nsgan "
      "captures more modes than nsgan":
          table["mix+nsgan"]["modes"][0] > ns["modes"][0],
      "MIX+GAN: mix+wgan-gp captures more modes than wgan-gp":
          table["mix+wgan-gp"]["modes"][0] > table["wgan-gp"]["modes"][0],
  }
SIZES = {"tiny": dict(iters=4, dim=4, seeds=2, batch=8, samples=2600, data=2000, mixture=2),
         "default": dict(iters=1500, dim=32, seeds=3, batch=64, samples=26000, data=25600,
                         mixture=3),
         "full": dict(iters=20000, dim=64, seeds=10, batch=64, samples=26000, data=60000,
                      mixture=5)}
OBJECTIVES = ("nsgan", "mix+nsgan", "wgan-gp", "mix+wgan-gp")


def build(objective: str, shape, s):
  """The GAN of `objective` (a MIX+GAN of `s["mixture"]` pairs for mix+) on images of
  `shape` at sizes `s`."""
  from experiments.builders import image_gan
  return image_gan(objective, shape, dim=s["dim"], batch_size=s["batch"],
                   components=s["mixture"])


def games(scale: str):
  """The four objectives' GANs at `scale`, `seeds` runs each trained at once on `data`
  stacked digits (8×8×3)."""
  from wgan_jax.data.images import load_digits, stack_digits
  s = SIZES[scale]
  shape = tuple(stack_digits(load_digits()[0], 1, seed=0).shape[1:])
  return [_common.Game(o, build(o, shape, s), shape, s["iters"], runs=s["seeds"],
                       at_once=s["seeds"], examples=s["data"]) for o in OBJECTIVES]


def run(out: str, full: bool = False, seed: int = 0, scale: str | None = None):
  import jax
  from experiments.builders import ImageData
  from experiments.evaluators import DigitMetrics, sample_in_chunks
  from experiments.plots import image_grid
  from wgan_jax.data.images import load_digits, stack_digits
  s = SIZES[scale or ("full" if full else "default")]
  xt, _, xv, _ = load_digits()
  data = stack_digits(xt, s["data"], seed=seed)
  held_out = stack_digits(xv, s["samples"], seed + 1)  # as many as the generated samples
  metrics = DigitMetrics(ImageData("stacked-digits", data, held_out))
  rows, samples = {}, {}
  for objective in OBJECTIVES:
    gan = build(objective, data.shape[1:], s)
    key = jax.random.key(seed)
    keys = jax.random.split(key, s["seeds"])  # each seed's init and train key
    _, res = _common.train(gan, (keys, keys, key), data=data, iters=s["iters"],
                           seeds=s["seeds"], log_every=s["iters"])
    sample = jax.jit(gan.sample, static_argnums=2)
    fakes = np.stack([sample_in_chunks(sample, jax.tree_util.tree_map(lambda x: x[i], res.state),
                                       jax.random.key(seed + 7), s["samples"])
                      for i in range(s["seeds"])])
    per_seed = [metrics.of(f) for f in fakes]
    rows[objective] = dict(
        modes=[r["modes"] for r in per_seed], kl=[r["kl_to_uniform"] for r in per_seed],
        classifier_score=[r["classifier_score"] for r in per_seed])
    samples[objective] = fakes[0, :64]

  table = {o: {k: _common.mean_se(v) for k, v in r.items()} for o, r in rows.items()}
  real = metrics.reference
  checks = judge(table, real)
  fig, axes = _common.subplots(1, 3, figsize=(14, 4.6))
  labels = list(rows)
  axes[0].bar(labels, [table[o]["modes"][0] for o in labels],
              yerr=[table[o]["modes"][1] for o in labels],
              color=["tab:red", "salmon", "tab:blue", "lightblue"])
  axes[0].tick_params(axis="x", labelsize=7)
  axes[0].axhline(real.get("modes", 1000), color="k", ls="--", lw=0.8,
                  label=f"real held-out ({real.get('modes', 0):.0f}, {s['samples']} samples)")
  axes[0].set_ylabel("modes captured (of 1000)")
  axes[0].legend(fontsize=7)
  for ax, o in zip(axes[1:], ("nsgan", "wgan-gp")):
    canvas = image_grid(samples[o])
    ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{o}: {table[o]['modes'][0]:.0f} modes, KL {table[o]['kl'][0]:.2f}",
                 fontsize=9)
  fig.suptitle(f"Stacked digits, {s['seeds']} seeds × {s['iters']} generator iterations "
               f"(mixtures: T = {s['mixture']})",
               fontsize=10)
  summary = "; ".join(f"{o}: modes {t['modes'][0]:.0f} ± {t['modes'][1]:.0f}, KL "
                      f"{t['kl'][0]:.2f} ± {t['kl'][1]:.2f}" for o, t in table.items())
  md = ["| objective | modes (of 1000) | KL to uniform | classifier score |", "|---|---|---|---|"]
  md += [f"| {o} | {t['modes'][0]:.1f} ± {t['modes'][1]:.1f} | {t['kl'][0]:.3f} ± "
         f"{t['kl'][1]:.3f} | {t['classifier_score'][0]:.2f} |" for o, t in table.items()]
  return _common.save(out, NAME, fig, dict(rows=rows, table=table, real=real, sizes=s),
                      checks, summary, PAPER, "\n".join(md))


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
