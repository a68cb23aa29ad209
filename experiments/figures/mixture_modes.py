"""MIX+GAN against a single pair on the ring of 8 Gaussians and the grid of 25 (Arora et al. 2017).

`nsgan`, `mix+nsgan`, `wgan-gp` and `mix+wgan-gp` (T = 5 generators and 5 critics, learned
weights, entropy weight 0.1; `wgan_jax.mixture.MixtureGAN`), several seeds each trained at once
(`wgan_jax.IndependentRuns`, a vmap over seeds around the vmap over components), with the sizes
of `mode_collapse` (same seeds, iterations, widths, batch 256, λ = 0.1): modes captured and % high
quality on 2500 samples, mean ± standard error over seeds. The plain rows use the keys of
`mode_collapse`, so they are the numbers of its table; each mixture uses the same key as its plain
run (its component 0 starts from the plain run's initial networks and sees the same data draws).
Each mixture component's samples are drawn in its own colour.

The paper has no 2-D experiment (its claims are CIFAR-10 Inception scores and CelebA samples);
PAPERS.md §1.5 proposes this check: the weights should stay non-degenerate and the mixture
should cover at least as many modes as the single model.
"""

from __future__ import annotations

import jax
import numpy as np

import wgan_jax as wj
from experiments import common
from experiments.figures import mode_collapse
from experiments.figures._common import figure_main, save
from wgan_jax.data import make_toy_dataset
from wgan_jax.mixture import MixtureGAN, parse_objective
from wgan_jax.models import MLPCritic, MLPGenerator

NAME = "mixture_modes"
PAPER = ("Arora et al. 2017 (MIX+GAN): a mixture of T generators and T discriminators reaches an "
         "approximate equilibrium where a single pair may not; MIX+DCGAN improves CIFAR-10 "
         "Inception scores and trains at least as stably. No 2-D experiment in the paper.")
METHODS = ("nsgan", "mix+nsgan", "wgan-gp", "mix+wgan-gp")
DATASETS = ("8gaussians", "25gaussians")
COMPONENTS = 5
BLOCK = 50


def _key(seed: int, d_i: int, objective: str):
  """The key `mode_collapse` uses for this data set and (plain) objective."""
  m_i = list(mode_collapse.METHODS).index(objective)
  return jax.random.fold_in(jax.random.key(seed), 10 * d_i + m_i)


def train_mixture_seeds(dataset, objective, *, seeds, iters, width, key,
                        components=COMPONENTS):
  """mode_collapse.train_seeds for MIX+<objective>: samples [K, 2500, 2], their generators
  [K, 2500], and the weights of both sides every BLOCK iterations ([n, K, T] each)."""
  kw = dict(mode_collapse.METHODS[objective])
  kw.pop("objective")
  cfg = wj.make_config(objective, batch_size=256, **kw)
  gan = wj.GAN(MLPGenerator(width=width), MLPCritic(width=width), cfg,
               lambda d, k: dataset.sample_one(k))
  mix = MixtureGAN.from_gan(gan, components=components)
  runs = wj.IndependentRuns(mix)
  k_init, k_train, k_eval = jax.random.split(key, 3)
  states = runs.init(jax.random.split(k_init, seeds))
  train_keys = jax.random.split(k_train, seeds)
  track = dict(iteration=[], w_g=[], w_d=[])
  g = 0
  for n_critic, k in wj.plan_blocks(cfg, 0, iters, BLOCK):
    states, m = runs.train_step(n_critic, k)(states, train_keys)
    g += k
    track["iteration"].append(g)
    for side in ("g", "d"):
      track[f"w_{side}"].append(np.stack(
          [np.asarray(m[f"w_{side}_{i}"][:, -1]) for i in range(components)], axis=-1))
  x, comp = jax.jit(jax.vmap(lambda s: mix.sample_with_components(s, k_eval, 2500)))(states)
  w_g, w_d = jax.vmap(mix.weights)(states)
  track = dict(iteration=track["iteration"], w_g=np.asarray(track["w_g"]),
               w_d=np.asarray(track["w_d"]))
  return np.asarray(x), np.asarray(comp), np.asarray(w_g), np.asarray(w_d), track


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  scale = scale or ("full" if full else "default")
  seeds = dict(tiny=2, default=5, full=10)[scale]  # as mode_collapse
  iters = dict(tiny=10, default=1500, full=20000)[scale]
  width = dict(tiny=8, default=64, full=512)[scale]
  rows, samples, comps, weights, tracks = {}, {}, {}, {}, {}
  for d_i, name in enumerate(DATASETS):
    ds = make_toy_dataset(name)
    for method in METHODS:
      objective, mixed = parse_objective(method)
      key = _key(seed, d_i, objective)
      if mixed:
        x, comp, w_g, w_d, track = train_mixture_seeds(ds, objective, seeds=seeds, iters=iters,
                                                       width=width, key=key)
        comps[(name, method)] = comp[0]
        weights[(name, method)] = dict(w_g=w_g, w_d=w_d)
        tracks[(name, method)] = track
      else:
        x = mode_collapse.train_seeds(ds, objective, seeds=seeds, iters=iters, width=width,
                                      key=key)
      per_seed = [wj.mode_coverage(xi, ds.centres, ds.std) for xi in x]
      rows[(name, method)] = {k: mode_collapse.mean_se([p[k] for p in per_seed])
                              for k in ("modes", "hq_fraction", "reverse_kl")}
      rows[(name, method)]["per_seed"] = per_seed
      samples[(name, method)] = x[0]

  fig = plot(rows, samples, comps, weights)
  g = lambda n, m: rows[(n, m)]["modes"][0]
  min_w = min(float(min(w["w_g"].min(), w["w_d"].min())) for w in weights.values())
  max_w = max(float(max(w["w_g"].max(), w["w_d"].max())) for w in weights.values())
  checks = {
      f"mixture weights stay non-degenerate (min weight > 0.05; measured {min_w:.3f})":
          min_w > 0.05,
      "mix+nsgan captures at least as many modes as nsgan on both data sets":
          all(g(n, "mix+nsgan") >= g(n, "nsgan") for n in DATASETS),
      "mix+wgan-gp captures at least as many modes as wgan-gp on both data sets":
          all(g(n, "mix+wgan-gp") >= g(n, "wgan-gp") for n in DATASETS),
  }
  table = [dict(dataset=n, method=m, modes=r["modes"],
                hq_percent=(100 * r["hq_fraction"][0], 100 * r["hq_fraction"][1]),
                reverse_kl=r["reverse_kl"], per_seed=r["per_seed"]) for (n, m), r in rows.items()]
  mix_numbers = {f"{n}/{m}": dict(final_w_g=w["w_g"], final_w_d=w["w_d"],
                                  track=tracks[(n, m)]) for (n, m), w in weights.items()}
  numbers = dict(table=table, mixtures=mix_numbers, components=COMPONENTS, entropy_weight=0.1,
                 seeds=seeds, iterations=iters, width=width, min_weight=min_w,
                 max_weight=max_w)
  summary = "modes (ring / grid): " + ", ".join(
      f"{m} {g('8gaussians', m):.1f}/{g('25gaussians', m):.1f}" for m in METHODS) + (
      f"; mixture weights in [{min_w:.3f}, {max_w:.3f}]")
  result = save(out, NAME, fig, numbers, checks, summary, PAPER)
  result["markdown"] = markdown_table(rows, seeds, iters, min_w, max_w)
  return result


def plot(rows, samples, comps, weights):
  plt = common.matplotlib_pyplot()
  colours = plt.get_cmap("tab10")
  fig, axes = plt.subplots(len(DATASETS), len(METHODS), figsize=(3.1 * len(METHODS), 6.4))
  for i, name in enumerate(DATASETS):
    ds = make_toy_dataset(name)
    for j, method in enumerate(METHODS):
      ax = axes[i, j]
      x = samples[(name, method)]
      ax.scatter(ds.centres[:, 0], ds.centres[:, 1], s=30, c="black", marker="x", zorder=3)
      if (name, method) in comps:
        comp = comps[(name, method)]
        w_g = weights[(name, method)]["w_g"][0]
        for c in range(len(w_g)):
          pts = x[comp == c]
          ax.scatter(pts[:, 0], pts[:, 1], s=1, color=colours(c), alpha=0.5,
                     label=f"G{c} w={w_g[c]:.2f}")
        ax.legend(loc="lower left", fontsize=5, markerscale=6, handletextpad=0.1)
      else:
        ax.scatter(x[:, 0], x[:, 1], s=1, c="tab:green", alpha=0.5)
      r = rows[(name, method)]
      ax.set_title(f"{method} ({name})\n{r['modes'][0]:.1f} ± {r['modes'][1]:.1f} modes, "
                   f"{100 * r['hq_fraction'][0]:.0f}% HQ", fontsize=8)
      ax.set_xlim(-2.2, 2.2)
      ax.set_ylim(-2.2, 2.2)
      ax.set_aspect("equal")
  fig.tight_layout()
  return fig


def markdown_table(rows, seeds, iters, min_w, max_w) -> str:
  lines = [f"Ours ({seeds} seeds, {iters} generator iterations, T = {COMPONENTS}, mean ± s.e.; "
           "the nsgan and wgan-gp rows are those of mode_collapse):", "",
           "| method | ring modes (/8) | ring % HQ | ring rev-KL | grid modes (/25) | grid % HQ "
           "| grid rev-KL |", "|---|---|---|---|---|---|---|"]
  for m in METHODS:
    cells = []
    for n in DATASETS:
      r = rows[(n, m)]
      cells += [f"{r['modes'][0]:.1f} ± {r['modes'][1]:.1f}",
                f"{100 * r['hq_fraction'][0]:.1f} ± {100 * r['hq_fraction'][1]:.1f}",
                f"{r['reverse_kl'][0]:.2f} ± {r['reverse_kl'][1]:.2f}"]
    lines.append(f"| {m} | " + " | ".join(cells) + " |")
  lines += ["", f"Final mixture weights (every seed, both sides) lie in [{min_w:.3f}, "
            f"{max_w:.3f}] (uniform: {1 / COMPONENTS:.2f})."]
  return "\n".join(lines)


def main(argv=None):
  return figure_main(NAME, __doc__, run, argv)


if __name__ == "__main__":
  raise SystemExit(main())
