"""MIX+GAN against a single pair on the ring of 8 Gaussians and the grid of 25 (Arora et al. 2017).

`nsgan`, `mix+nsgan`, `wgan-gp` and `mix+wgan-gp` (T = 5 generators and 5 critics, learned
weights, entropy weight 0.1; `wgan_jax.mixture.MixtureGAN`), several seeds each trained at once
(`wgan_jax.IndependentRuns`, a vmap over seeds around the vmap over components), at the sizes of
`SIZES` (batch 256, λ = 0.1, the objectives' own learning rates): modes captured and % high
quality on 2500 samples, mean ± standard error over seeds. The plain rows use the keys of
`mode_collapse` but not its (longer) training, so they are not the numbers of its table; each
mixture uses the same key as its plain run (its component 0 starts from the plain run's initial
networks and sees the same data draws).
Each mixture component's samples are drawn in its own colour.

The paper has no 2-D experiment (its claims are CIFAR-10 Inception scores and CelebA samples);
docs/papers.md §1.5 proposes this check: the weights should stay non-degenerate and the mixture
should cover at least as many modes as the single model.
"""

from __future__ import annotations

import jax
import numpy as np

from experiments.figures import _common
from wgan_jax import IndependentRuns
from wgan_jax.data import make_toy_dataset

NAME = "mixture_modes"
PAPER = ("Arora et al. 2017 (MIX+GAN): a mixture of T generators and T discriminators reaches an "
         "approximate equilibrium where a single pair may not; MIX+DCGAN improves CIFAR-10 "
         "Inception scores and trains at least as stably. No 2-D experiment in the paper.")
NOTE = (  # what RESULTS.md says about this figure's runs
    "The plain runs use the keys of mode_collapse's rows but shorter training (1500 "
    "iterations, width 64, batch 256, the objectives' own learning rates), so they are not "
    "its numbers; each mixture starts its component 0 from the plain run's initial networks. "
    'A T = 5 mixture has 5x the parameters and costs about 3x a plain run, so this is not a '
    'compute-matched comparison. The mixture gains modes and high-quality samples but its '
    'grid mode histogram is less even (reverse KL 0.70 vs 0.62 for nsgan, 0.47 vs 0.37 for '
    'wgan-gp). In 1500 iterations the weights move only a little (0.13-0.35 around 0.2): Adam '
    'moves each logit by at most about lr per step.')
METHODS = ("nsgan", "mix+nsgan", "wgan-gp", "mix+wgan-gp")
COMPONENTS = 5
SIZES = dict(tiny=(2, 10, 8), default=(5, 1500, 64),  # seeds, generator iterations, width
             full=(10, 20000, 512))


def games(scale: str):
  """The GANs of the table at `scale`: each method on both data sets, `seeds` runs each
  trained at once."""
  seeds, iters, width = SIZES[scale]
  return [_common.Game(f"{name}/{method}", _common.toy_gan(
              make_toy_dataset(name), method.removeprefix("mix+"), iters=iters, width=width,
              components=COMPONENTS if method.startswith("mix+") else 1),
              None, iters, runs=seeds, at_once=seeds)
          for name in _common.TOY_DATASETS for method in METHODS]


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  seeds, iters, width = SIZES[scale or ("full" if full else "default")]
  rows, samples, comps, weights, tracks = {}, {}, {}, {}, {}
  for d_i, name in enumerate(_common.TOY_DATASETS):
    ds = make_toy_dataset(name)
    for method in METHODS:
      mixed = method.startswith("mix+")
      gan, states, history, k_eval = _common.toy_seeds(
          ds, method.removeprefix("mix+"), seeds=seeds, iters=iters, width=width, seed=seed,
          d_i=d_i, components=COMPONENTS if mixed else 1)
      if mixed:
        x, comp = jax.jit(jax.vmap(lambda s: gan.sample_with_components(s, k_eval, 2500)))(
            states)
        w_g, w_d = (np.asarray(w) for w in jax.vmap(gan.weights)(states))
        comps[(name, method)] = np.asarray(comp)[0]
        weights[(name, method)] = dict(w_g=w_g, w_d=w_d)
        tracks[(name, method)] = dict(iteration=history["iteration"], **{
            f"w_{s}": np.stack([np.asarray(history[f"w_{s}_{i}"]) for i in range(COMPONENTS)],
                               axis=-1) for s in ("g", "d")})
      else:
        x = IndependentRuns(gan).sample(states, k_eval, 2500)
      x = np.asarray(x)
      rows[(name, method)] = _common.coverage_row(x, ds)
      samples[(name, method)] = x[0]

  g = lambda n, m: rows[(n, m)]["modes"][0]
  min_w = min(float(min(w["w_g"].min(), w["w_d"].min())) for w in weights.values())
  max_w = max(float(max(w["w_g"].max(), w["w_d"].max())) for w in weights.values())
  checks = {
      f"mixture weights stay non-degenerate (min weight > 0.05; measured {min_w:.3f})":
          min_w > 0.05,
      "mix+nsgan captures at least as many modes as nsgan on both data sets":
          all(g(n, "mix+nsgan") >= g(n, "nsgan") for n in _common.TOY_DATASETS),
      "mix+wgan-gp captures at least as many modes as wgan-gp on both data sets":
          all(g(n, "mix+wgan-gp") >= g(n, "wgan-gp") for n in _common.TOY_DATASETS),
  }
  mix_numbers = {f"{n}/{m}": dict(final_w_g=w["w_g"], final_w_d=w["w_d"],
                                  track=tracks[(n, m)]) for (n, m), w in weights.items()}
  numbers = dict(table=_common.toy_table(rows), mixtures=mix_numbers, components=COMPONENTS,
                 entropy_weight=0.1, seeds=seeds, iterations=iters, width=width,
                 min_weight=min_w, max_weight=max_w)
  summary = "modes (ring / grid): " + ", ".join(
      f"{m} {g('8gaussians', m):.1f}/{g('25gaussians', m):.1f}" for m in METHODS) + (
      f"; mixture weights in [{min_w:.3f}, {max_w:.3f}]")
  fig = _common.toy_grid(rows, samples, METHODS, comps, weights)
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER,
                      markdown_table(rows, seeds, iters, min_w, max_w))


def markdown_table(rows, seeds, iters, min_w, max_w) -> str:
  lines = _common.toy_markdown(rows, METHODS, f"Ours ({seeds} seeds, {iters} generator "
                               f"iterations, T = {COMPONENTS}, mean ± s.e.):")
  lines += ["", f"Final mixture weights (every seed, both sides) lie in [{min_w:.3f}, "
            f"{max_w:.3f}] (uniform: {1 / COMPONENTS:.2f})."]
  return "\n".join(lines)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
