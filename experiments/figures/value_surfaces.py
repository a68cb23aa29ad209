"""WGAN-GP figure 1a: value surfaces of critics trained to optimality.

The "generator" is fixed at real data + N(0, 1) (the official FIXED_GENERATOR); critics without
normalisation are trained against it on 8gaussians, 25gaussians and swissroll, with weight
clipping (top row) and with the gradient penalty (bottom row). Clipping biases the critic to
very simple functions; the penalised critic follows the data's modes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import wgan_jax as wj
from experiments.figures import _common
from experiments.figures._common import train_critic
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic

NAME = "value_surfaces"
PAPER = ("WGAN-GP fig. 1a: with weight clipping the optimal critic is a very simple function "
         "(roughly linear or quadratic level sets, ignoring higher moments); with the gradient "
         "penalty its contours follow the individual modes and the roll.")
DATASETS = ("8gaussians", "25gaussians", "swissroll")


def quadratic_r2(xx, yy, values):
  """Share of the surface's variance a quadratic in (x, y) explains (1 = 'very simple')."""
  x, y, v = xx.ravel(), yy.ravel(), values.ravel()
  design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], 1)
  coef, *_ = np.linalg.lstsq(design, v, rcond=None)
  resid = v - design @ coef
  return float(1 - resid.var() / v.var())


def mode_contrast(critic, params, points, radius=0.25):
  """How much the critic peaks on the data: mean over data points of f(p) minus the mean of f
  on a ring of `radius` around p, in units of f's spread over those rings (0: ignores them)."""
  angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
  ring = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
  centre = np.asarray(critic.apply(params, jnp.asarray(points, jnp.float32)))
  around = np.asarray(critic.apply(params, jnp.asarray(
      (points[:, None] + ring[None]).reshape(-1, 2), jnp.float32))).reshape(len(points), -1)
  return float(np.mean(centre - around.mean(1)) / (around.std() + 1e-12))


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  scale = scale or ("full" if full else "default")
  width = dict(tiny=16, default=128, full=512)[scale]
  steps = dict(tiny=dict(clip=20, gp=20), default=dict(clip=3000, gp=1500),
               full=dict(clip=20000, gp=5000))[scale]
  critic = MLPCritic(width=width)
  grid = np.linspace(-3, 3, 128 if scale == "full" else 64, dtype=np.float32)
  xx, yy = np.meshgrid(grid, grid)
  pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], 1))
  fig, axes = _common.subplots(2, 3, figsize=(12, 8))
  numbers, r2, contrast = dict(grid=grid), {}, {}
  for j, name in enumerate(DATASETS):
    ds = make_toy_dataset(name)

    def sample_pair(k, ds=ds):
      k0, k1, k2 = jax.random.split(k, 3)
      real = ds.sample(k0, 256)
      return real, ds.sample(k1, 256) + jax.random.normal(k2, (256, 2))

    for i, method in enumerate(("clip", "gp")):
      key = jax.random.fold_in(jax.random.key(seed), 10 * j + i)
      if method == "clip":
        opt = optax.chain(optax.rmsprop(5e-5), wj.clip_params(0.01))
        fn = lambda k: train_critic(critic, sample_pair, k, steps=steps["clip"],
                                    loss="wasserstein", optimizer=opt)
      else:
        opt = optax.adam(1e-4, 0.5, 0.9)
        fn = lambda k: train_critic(critic, sample_pair, k, steps=steps["gp"],
                                    loss="wasserstein", optimizer=opt, gp_weight=0.1)
      params, _ = jax.jit(fn)(key)
      values = np.asarray(critic.apply(params, pts)).reshape(xx.shape)
      r2[f"{name}/{method}"] = quadratic_r2(xx, yy, values)
      points = ds.centres if ds.centres is not None else np.asarray(
          ds.sample(jax.random.key(seed + 7), 64))
      contrast[f"{name}/{method}"] = mode_contrast(critic, params, points)
      numbers[f"{name}/{method}"] = values
      real, fake = (np.asarray(a) for a in sample_pair(jax.random.key(seed + 99)))
      ax = axes[i, j]
      ax.contour(xx, yy, values, levels=20, linewidths=0.8)
      ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange")
      ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:green")
      ax.set_title(f"{name}, {'weight clipping' if method == 'clip' else 'gradient penalty'}"
                   f"\nquadratic fit R² {r2[f'{name}/{method}']:.2f}, peak contrast "
                   f"{contrast[f'{name}/{method}']:.2f}", fontsize=9)
      ax.set_xlim(-3, 3)
      ax.set_ylim(-3, 3)
      ax.set_aspect("equal")
  numbers["quadratic_r2"] = r2
  numbers["peak_contrast"] = contrast
  numbers["steps"] = steps
  checks = {f"{n}: the penalised critic peaks on the data more than the clipped one":
            contrast[f"{n}/gp"] > contrast[f"{n}/clip"] for n in DATASETS}
  checks.update({f"{n}: the clipped critic is the simpler surface (higher quadratic R²)":
                 r2[f"{n}/clip"] > r2[f"{n}/gp"] for n in DATASETS})
  summary = "peak contrast clip vs GP: " + ", ".join(
      f"{n} {contrast[f'{n}/clip']:.2f} vs {contrast[f'{n}/gp']:.2f}" for n in DATASETS) + \
      "; quadratic R² clip vs GP: " + ", ".join(
      f"{n} {r2[f'{n}/clip']:.2f} vs {r2[f'{n}/gp']:.2f}" for n in DATASETS)
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
