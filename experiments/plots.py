"""The figures of the jobs: toy samples with critic contours, loss curves, mixture weights,
image grids, image metrics over training, and the text JSD curves (matplotlib, Agg)."""

from __future__ import annotations

import os
import textwrap
from typing import Dict, List

import jax
import jax.numpy as jnp
import numpy as np

from experiments import common


def plot_samples(path, gan, state, dataset, fake, key, title, components=None, weights=None):
  """Samples over the real data and the critic's contours; with `components` (the generator
  of each sample, a mixture) each generator's samples in its own colour, labelled by weight."""
  plt = common.matplotlib_pyplot()
  real = np.asarray(dataset.sample(key, len(fake)))
  lim = 1.25 * float(np.abs(real).max())
  grid = np.linspace(-lim, lim, 128, dtype=np.float32)
  xx, yy = np.meshgrid(grid, grid)
  pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=1))
  values = np.asarray(jax.jit(gan.critic_values)(state, pts)).reshape(xx.shape)
  fig, ax = plt.subplots(figsize=(6, 6))
  cs = ax.contour(xx, yy, values, levels=20, cmap="viridis", linewidths=0.8)
  fig.colorbar(cs, ax=ax, shrink=0.8, label="critic value")
  ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", label="real")
  shown = fake[np.all(np.abs(fake) < 2 * lim, axis=1)]
  if components is None:
    ax.scatter(shown[:, 0], shown[:, 1], s=2, c="tab:green", label="generated")
  else:
    comp = np.asarray(components)[np.all(np.abs(fake) < 2 * lim, axis=1)]
    colours = plt.get_cmap("tab10")
    for i in range(len(weights)):
      pts = shown[comp == i]
      ax.scatter(pts[:, 0], pts[:, 1], s=2, color=colours((i + 2) % 10),
                 label=f"G{i} (w {weights[i]:.2f})")
  ax.set_xlim(-lim, lim)
  ax.set_ylim(-lim, lim)
  ax.set_aspect("equal")
  ax.legend(loc="upper right", markerscale=4)
  ax.set_title(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return dict(grid=grid, critic_values=values)


def plot_losses(path, history, title):
  plt = common.matplotlib_pyplot()
  keys = [k for k in ("d_loss", "g_loss", "w_estimate", "gp") if k in history]
  fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.2 * len(keys)), sharex=True)
  axes = np.atleast_1d(axes)
  for ax, k in zip(axes, keys):
    ax.plot(history["iteration"], history[k], lw=0.8)
    ax.set_ylabel(k)
    ax.grid(alpha=0.3)
  axes[-1].set_xlabel("generator iteration")
  axes[0].set_title(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_weights(path, history, components, title):
  """The mixture weights of both players over training (from the logged metrics)."""
  plt = common.matplotlib_pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
  for ax, side, name in zip(axes, ("g", "d"), ("generators", "critics")):
    for i in range(components):
      ax.plot(history["iteration"], history[f"w_{side}_{i}"], lw=1, label=f"{side.upper()}{i}")
    ax.axhline(1 / components, color="gray", ls=":", lw=0.8)
    ax.set_title(f"weights of the {name}", fontsize=9)
    ax.set_xlabel("generator iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
  axes[0].set_ylabel("mixture weight")
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def image_grid(x: np.ndarray) -> np.ndarray:
  """Images x [N, H, W, C] in [−1, 1] tiled row by row into a square canvas in [0, 1] with
  1-pixel white borders: [k(H+1)+1, k(W+1)+1, C], k = ⌈√N⌉."""
  x = np.clip((np.asarray(x, np.float32) + 1) / 2, 0, 1)
  k = int(np.ceil(np.sqrt(len(x))))
  h, w, c = x.shape[1:]
  canvas = np.ones((k * (h + 1) + 1, k * (w + 1) + 1, c), np.float32)
  for i, img in enumerate(x):
    r, q = divmod(i, k)
    canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + q * (w + 1):1 + q * (w + 1) + w] = img
  return canvas


def save_grid(path: str, x: np.ndarray, title: str, n: int = 64) -> None:
  """A square grid of the first n images (in [-1, 1]) as a PNG."""
  plt = common.matplotlib_pyplot()
  canvas = image_grid(x[:n])
  c = canvas.shape[-1]
  fig, ax = plt.subplots(figsize=(5, 5.3))
  ax.imshow(canvas[..., 0] if c == 1 else canvas, cmap="gray" if c == 1 else None,
            vmin=0, vmax=1, interpolation="nearest")
  ax.set_axis_off()
  ax.set_title("\n".join(textwrap.fill(line, 70) for line in title.splitlines()), fontsize=8)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_metrics(path: str, evaluations: List[Dict], reference: Dict, title: str) -> None:
  plt = common.matplotlib_pyplot()
  keys = [k for k in ("classifier_score", "frechet_distance", "classes_covered", "modes",
                      "fashion_classifier_score", "fashion_frechet_distance",
                      "fashion_classes_covered", "nearest_train_share")
          if evaluations and k in evaluations[0]]
  if not keys:
    return
  fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.2))
  axes = np.atleast_1d(axes)
  its = [e["iteration"] for e in evaluations]
  for ax, k in zip(axes, keys):
    ax.plot(its, [e[k] for e in evaluations], "o-", ms=3)
    if k in reference:
      ax.axhline(reference[k], color="k", ls="--", lw=0.8, label="held-out real")
      ax.legend(fontsize=7)
    ax.set_xlabel("generator iteration")
    ax.set_title(k, fontsize=9)
    ax.grid(alpha=0.3)
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_jsd(path, curves: Dict[str, Dict], floor: Dict[str, float], title: str):
  """Write `jsd_figure` to `path`."""
  fig = jsd_figure(curves, floor, title)
  fig.savefig(path, dpi=100)
  common.matplotlib_pyplot().close(fig)


def jsd_figure(curves: Dict[str, Dict], floor: Dict[str, float], title: str):
  """JSD n = 1..4 over training for each run (solid), floors dashed; D accuracy and ‖∇G‖."""
  plt = common.matplotlib_pyplot()
  diag = [k for k in ("d_accuracy", "g_grad_norm", "w_estimate")
          if any(k in c.get("history", {}) for c in curves.values())]
  fig, axes = plt.subplots(1, 4 + len(diag), figsize=(3.2 * (4 + len(diag)), 3.2))
  colors = dict(zip(curves, ("tab:blue", "tab:red", "tab:green", "tab:purple")))
  for i, n in enumerate(range(1, 5)):
    ax = axes[i]
    for name, c in curves.items():
      ev = c["evaluations"]
      ax.plot([e["iteration"] for e in ev], [e[f"jsd_{n}"] for e in ev], "-o", ms=2,
              color=colors[name], label=name)
    ax.axhline(floor[f"jsd_{n}"], ls="--", color="gray", lw=0.8, label="held-out floor")
    ax.set_title(f"{n}-gram JSD (bits)", fontsize=9)
    ax.set_xlabel("generator iteration")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  for ax, k in zip(axes[4:], diag):
    for name, c in curves.items():
      h = c.get("history", {})
      if k in h:
        ax.plot(h["iteration"], h[k], lw=0.8, color=colors[name], label=name)
    ax.set_title({"d_accuracy": "discriminator accuracy", "g_grad_norm": "‖∇G loss‖",
                  "w_estimate": "W estimate"}[k], fontsize=9)
    if k == "g_grad_norm":
      ax.set_yscale("log")
    ax.set_xlabel("generator iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  return fig


