"""Mode collapse on the ring of 8 Gaussians and the grid of 25 (VEEGAN / PacGAN table 1).

`gan`, `nsgan`, `wgan`, `wgan-gp` and `nsgan` with annealed instance noise, each trained for
several seeds at once in one compiled program (`wgan_jax.IndependentRuns`: `jax.vmap` over the
seeds), then evaluated on 2500 samples: modes captured, % high quality (within 3σ of the
nearest mode) and the reverse KL of the mode histogram, mean ± standard error over seeds. Our
data use the official WGAN-GP toy scaling (ring radius 1.414, σ 0.014; grid spacing 0.71,
σ 0.018) and our MLPs; the published rows come from other set-ups (VEEGAN/PacGAN: ring radius
1, σ 0.01; grid {−4..4}², σ 0.05; their own networks), so compare shapes, not digits.
"""

from __future__ import annotations

import numpy as np

from experiments.figures import _common
from wgan_jax import IndependentRuns
from wgan_jax.data import make_toy_dataset

NAME = "mode_collapse"
PAPER = ("VEEGAN T1 / PacGAN T1: a standard GAN drops modes of the ring and the grid "
         "(PacGAN: 6.3/8 and 17.3/25); WGAN reports no evidence of mode collapse.")
PUBLISHED = {
    "VEEGAN T1 GAN": dict(ring_modes="1", ring_hq="99.3", grid_modes="3.3", grid_hq="0.5"),
    "VEEGAN T1 Unrolled GAN": dict(ring_modes="7.6", ring_hq="35.6", grid_modes="23.6",
                                   grid_hq="16"),
    "VEEGAN T1 VEEGAN": dict(ring_modes="8", ring_hq="52.9", grid_modes="24.6", grid_hq="40"),
    "PacGAN T1 GAN": dict(ring_modes="6.3±0.5", ring_hq="98.2±0.2", ring_kl="0.45±0.09",
                          grid_modes="17.3±0.8", grid_hq="94.8±0.7", grid_kl="0.70±0.07"),
    "PacGAN T1 PacGAN2": dict(ring_modes="7.9±0.1", ring_hq="95.6±2.0", ring_kl="0.07±0.03",
                              grid_modes="23.8±0.7", grid_hq="91.3±0.8", grid_kl="0.13±0.04"),
}
METHODS = _common.TOY_METHODS


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  seeds, iters, width = _common.toy_sizes(scale or ("full" if full else "default"))
  rows, samples = {}, {}
  for d_i, name in enumerate(_common.TOY_DATASETS):
    ds = make_toy_dataset(name)
    for method in METHODS:
      gan, states, _, k_eval = _common.toy_seeds(ds, method, seeds=seeds, iters=iters,
                                                 width=width, seed=seed, d_i=d_i)
      x = np.asarray(IndependentRuns(gan).sample(states, k_eval, 2500))
      rows[(name, method)] = _common.coverage_row(x, ds)
      samples[(name, method)] = x[0]
  g = lambda n, m: rows[(n, m)]["modes"][0]
  checks = {
      "wgan-gp captures at least as many modes as nsgan on both data sets":
          g("8gaussians", "wgan-gp") >= g("8gaussians", "nsgan")
          and g("25gaussians", "wgan-gp") >= g("25gaussians", "nsgan"),
      "the standard GAN (gan or nsgan) drops modes of the grid on average":
          min(g("25gaussians", "gan"), g("25gaussians", "nsgan")) < 25,
      "instance noise captures at least as many grid modes as plain nsgan":
          g("25gaussians", "nsgan + instance noise") >= g("25gaussians", "nsgan"),
  }
  numbers = dict(table=_common.toy_table(rows), published=PUBLISHED, seeds=seeds,
                 iterations=iters, width=width)
  summary = "modes (ring / grid): " + ", ".join(
      f"{m} {g('8gaussians', m):.1f}/{g('25gaussians', m):.1f}" for m in METHODS)
  return _common.save(out, NAME, _common.toy_grid(rows, samples, METHODS), numbers, checks,
                      summary, PAPER, markdown_table(rows, seeds, iters))


def markdown_table(rows, seeds, iters) -> str:
  lines = _common.toy_markdown(rows, METHODS, f"Ours ({seeds} seeds, {iters} generator "
                               "iterations, mean ± s.e.):")
  lines += ["", "Published (other set-ups: ring radius 1, σ 0.01; grid spacing 2, σ 0.05; "
            "their networks):", "",
            "| source | ring modes | ring % HQ | ring rev-KL | grid modes | grid % HQ | "
            "grid rev-KL |", "|---|---|---|---|---|---|---|"]
  for src, r in PUBLISHED.items():
    lines.append(f"| {src} | {r.get('ring_modes', '–')} | {r.get('ring_hq', '–')} | "
                 f"{r.get('ring_kl', '–')} | {r.get('grid_modes', '–')} | "
                 f"{r.get('grid_hq', '–')} | {r.get('grid_kl', '–')} |")
  return "\n".join(lines)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
