"""MIX+GAN against a single pair on the ring of 8 Gaussians and the grid of 25 (Arora et al. 2017).

`nsgan`, `mix+nsgan`, `wgan-gp` and `mix+wgan-gp` (T = 5 generators and 5 critics, learned
weights, entropy weight 0.1; `wgan_jax.mixture.MixtureGAN`), several seeds each trained at once
(`wgan_jax.IndependentRuns`, a vmap over seeds around the vmap over components), at the sizes of
`SIZES` (batch 256, λ = 0.1, the objectives' own learning rates): modes captured and % high
quality on 2500 samples, mean ± standard error over seeds. The plain rows use the keys of
`mode_collapse` but not its (longer) training, so they are not the numbers of its table; each
mixture uses the same key as its plain run (its component 0 starts from the plain run's initial
networks and sees the same data draws).
Each panel plots the samples of the row's median seed (by modes captured), each mixture
component's in its own colour.

The paper has no 2-D experiment (its claims are CIFAR-10 Inception scores and CelebA samples);
docs/papers.md §1.5 proposes this check: the weights should stay non-degenerate and the mixture
should cover at least as many modes as the single model.
"""

from __future__ import annotations

import jax
import numpy as np

from experiments.figures import _common
from experiments.figures import runner as _runner
from experiments.figures.mode_collapse import representative, rows_of
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
SIZES = {  # seeds, generator iterations, MLP width
    "tiny": dict(seeds=2, iters=10, width=8),
    "default": dict(seeds=5, iters=1500, width=64),
    "full": dict(seeds=10, iters=20000, width=512),
}
MIN_WEIGHT = 0.05  # "non-degenerate": every final mixture weight above it


def games(scale: str):
  """The GANs of the table at `scale`: each method on both data sets, `seeds` runs each
  trained at once."""
  seeds, iters, width = (FIGURE.config(scale)[k] for k in ("seeds", "iters", "width"))
  return [_common.Game(f"{name}/{method}", _common.toy_gan(
              make_toy_dataset(name), method.removeprefix("mix+"), iters=iters, width=width,
              components=COMPONENTS if method.startswith("mix+") else 1),
              None, iters, runs=seeds, at_once=seeds)
          for name in _common.TOY_DATASETS for method in METHODS]


def measure(size, seed: int):
  """Train every method's seeds on both data sets: the coverage table, the mixtures' final
  weights and their tracks, and the samples of each row's representative seed."""
  seeds, iters, width = size["seeds"], size["iters"], size["width"]
  rows, samples, weights, tracks = {}, {}, {}, {}
  for d_i, name in enumerate(_common.TOY_DATASETS):
    ds = make_toy_dataset(name)
    for method in METHODS:
      mixed = method.startswith("mix+")
      gan, states, history, k_eval = _common.toy_seeds(
          ds, method.removeprefix("mix+"), seeds=seeds, iters=iters, width=width, seed=seed,
          d_i=d_i, components=COMPONENTS if mixed else 1)
      comp = None
      if mixed:
        x, comp = jax.jit(jax.vmap(lambda s: gan.sample_with_components(s, k_eval, 2500)))(
            states)
        w_g, w_d = (np.asarray(w) for w in jax.vmap(gan.weights)(states))
        weights[(name, method)] = dict(w_g=w_g, w_d=w_d)
        tracks[(name, method)] = dict(iteration=history["iteration"], **{
            f"w_{s}": np.stack([np.asarray(history[f"w_{s}_{i}"]) for i in range(COMPONENTS)],
                               axis=-1) for s in ("g", "d")})
      else:
        x = IndependentRuns(gan).sample(states, k_eval, 2500)
      x = np.asarray(x)
      rows[(name, method)] = _common.coverage_row(x, ds)
      k = representative(rows[(name, method)]["per_seed"])
      samples[f"{name}/{method}"] = dict(seed=k, x=np.round(x[k], 4), **(
          {} if comp is None else dict(components=np.asarray(comp)[k])))
  min_w = min(float(min(w["w_g"].min(), w["w_d"].min())) for w in weights.values())
  max_w = max(float(max(w["w_g"].max(), w["w_d"].max())) for w in weights.values())
  mix_numbers = {f"{n}/{m}": dict(final_w_g=w["w_g"], final_w_d=w["w_d"],
                                  track=tracks[(n, m)]) for (n, m), w in weights.items()}
  return dict(table=_common.toy_table(rows), mixtures=mix_numbers, components=COMPONENTS,
              entropy_weight=0.1, seeds=seeds, iterations=iters, width=width,
              min_weight=min_w, max_weight=max_w, samples=samples)


def weight_range(numbers):
  """(min, max) of every stored final mixture weight (every seed, both sides); NaN when one is
  not finite."""
  w = np.concatenate([np.asarray(v[k], float).ravel() for v in numbers["mixtures"].values()
                      for k in ("final_w_g", "final_w_d")])
  return float(w.min()), float(w.max())


def judge(numbers):
  """Non-degenerate weights, and each mixture's modes against its single pair's."""
  rows = rows_of(numbers)
  g = lambda n, m: rows[(n, m)]["modes"][0]
  min_w = weight_range(numbers)[0]
  return {
      f"mixture weights stay non-degenerate (min weight > {MIN_WEIGHT}; measured "
      f"{min_w:.3f})": min_w > MIN_WEIGHT,
      "mix+nsgan captures at least as many modes as nsgan on both data sets":
          all(g(n, "mix+nsgan") >= g(n, "nsgan") for n in _common.TOY_DATASETS),
      "mix+wgan-gp captures at least as many modes as wgan-gp on both data sets":
          all(g(n, "mix+wgan-gp") >= g(n, "wgan-gp") for n in _common.TOY_DATASETS),
  }


def summary(numbers) -> str:
  rows = rows_of(numbers)
  g = lambda n, m: rows[(n, m)]["modes"][0]
  min_w, max_w = weight_range(numbers)
  return "modes (ring / grid): " + ", ".join(
      f"{m} {g('8gaussians', m):.1f}/{g('25gaussians', m):.1f}" for m in METHODS) + (
      f"; mixture weights in [{min_w:.3f}, {max_w:.3f}]")


def plot(numbers):
  """One panel per (data set, method): the representative seed's samples, a mixture's in one
  colour per generator labelled with that seed's weight."""
  samples, mixtures = numbers["samples"], numbers["mixtures"]
  keys = [(n, m) for n in _common.TOY_DATASETS for m in METHODS]
  shown = {(n, m): samples[f"{n}/{m}"] for n, m in keys}
  mixed = [key for key in keys if "components" in shown[key]]
  return _common.toy_grid(
      rows_of(numbers), {key: np.asarray(shown[key]["x"], float) for key in keys}, METHODS,
      {key: np.asarray(shown[key]["components"]) for key in mixed},
      {key: dict(w_g=[mixtures["/".join(key)]["final_w_g"][shown[key]["seed"]]])
       for key in mixed},
      seeds={key: shown[key]["seed"] for key in keys})


def markdown_table(numbers) -> str:
  min_w, max_w = weight_range(numbers)
  lines = _common.toy_markdown(rows_of(numbers), METHODS, f"Ours ({numbers['seeds']} seeds, "
                               f"{numbers['iterations']} generator iterations, T = "
                               f"{COMPONENTS}, mean ± s.e.):")
  lines += ["", f"Final mixture weights (every seed, both sides) lie in [{min_w:.3f}, "
            f"{max_w:.3f}] (uniform: {1 / COMPONENTS:.2f})."]
  return "\n".join(lines)


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SIZES, measure=measure, judge=judge,
                        plot=plot, summary=summary, markdown=markdown_table, games=games,
                        note=NOTE)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
