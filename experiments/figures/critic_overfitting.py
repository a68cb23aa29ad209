"""WGAN-GP figure 5b on digits: the critic overfits a small training set.

  python -m experiments.figures.critic_overfitting --out runs/figures

Train on 1000 of scikit-learn's 1797 digits and hold out the other 797; every few iterations
compute the negative critic loss E[D(real)] − E[D(G(z))] on the training digits and on the
held-out digits (the same generated batch for both), with the gradient penalty and with weight
clipping. A critic that generalises gives both sets the same value; one that memorises its
training digits scores them higher than the held-out ones.
"""

from __future__ import annotations

import numpy as np

from experiments.figures import _common

NAME = "critic_overfitting"
PAPER = ("WGAN-GP Fig. 5b (1000 MNIST digits, large unregularised models): the negative critic "
         "loss on training and validation data diverges as the critic overfits; with the "
         "gradient penalty the training value rises while the validation value drops.")
SIZES = {"tiny": dict(iters=4, dim=4, eval_every=2, batch=8, eval_fakes=64),
         "default": dict(iters=2000, dim=64, eval_every=100, batch=64, eval_fakes=1000),
         "full": dict(iters=20000, dim=128, eval_every=500, batch=64, eval_fakes=2000)}


def split_1000(seed: int = 0):
  """1000 training and 797 held-out digits (a fixed permutation of all 1797)."""
  from wgan_jax.data.images import load_digits
  xt, _, xv, _ = load_digits()
  allx = np.concatenate([xt, xv])
  order = np.random.default_rng(seed).permutation(len(allx))
  return allx[order[:1000]], allx[order[1000:]]


def run(out: str, full: bool = False, seed: int = 0, scale: str | None = None):
  import jax
  from experiments.builders import image_gan
  s = SIZES[scale or ("full" if full else "default")]
  train_x, val_x = split_1000(seed)
  curves = {}
  for label, objective in (("gradient penalty", "wgan-gp"), ("weight clipping", "wgan")):
    gan = image_gan(objective, train_x.shape[1:], dim=s["dim"], batch_size=s["batch"])
    sample = jax.jit(gan.sample, static_argnums=2)
    values = jax.jit(gan.critic_values)

    def evaluate(state, key, it):
      fake_scores = float(np.mean(np.asarray(values(state, sample(state, key, s["eval_fakes"])))))
      return dict(train=float(np.mean(np.asarray(values(state, train_x)))) - fake_scores,
                  validation=float(np.mean(np.asarray(values(state, val_x)))) - fake_scores)

    curves[label], _ = _common.train(gan, jax.random.key(seed), evaluate, data=train_x,
                                     iters=s["iters"], eval_every=s["eval_every"],
                                     eval_at_start=True, exclude_compile_time=True)

  def gap(label, part):  # mean train − validation gap over the first / last third
    e = curves[label][1:]
    third = max(1, len(e) // 3)
    sel = e[:third] if part == "early" else e[-third:]
    return float(np.mean([x["train"] - x["validation"] for x in sel]))

  gaps = {label: dict(early=gap(label, "early"), late=gap(label, "late")) for label in curves}
  checks = {
      "GP: train and validation diverge (the gap grows over training)":
          gaps["gradient penalty"]["late"] > gaps["gradient penalty"]["early"],
      "GP: the critic scores its training digits above the held-out ones at the end":
          gaps["gradient penalty"]["late"] > 0,
      "clipping: the gap grows too": gaps["weight clipping"]["late"]
      > gaps["weight clipping"]["early"],
  }
  fig, axes = _common.subplots(1, 2, figsize=(11, 4))
  for ax, (label, evals) in zip(axes, curves.items()):
    it = [e["iteration"] for e in evals]
    ax.plot(it, [e["train"] for e in evals], label="training digits (1000)")
    ax.plot(it, [e["validation"] for e in evals], label="held-out digits (797)")
    ax.set_title(label, fontsize=9)
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("negative critic loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle("Critic overfitting on 1000 digits (WGAN-GP Fig. 5b analog)", fontsize=10)
  summary = "train − validation gap, early → late: " + ", ".join(
      f"{k} {v['early']:.3g} → {v['late']:.3g}" for k, v in gaps.items())
  return _common.save(out, NAME, fig, dict(curves=curves, gaps=gaps, sizes=s), checks,
                      summary, PAPER)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
