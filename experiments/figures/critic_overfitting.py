"""WGAN-GP Fig 5b on Fashion-MNIST: a large critic overfits a 1000-image training set.

  python -m experiments.figures.critic_overfitting --out runs/figures

Gulrajani et al. 2017 (arXiv:1704.00028) §5.6, "Meaningful loss curves and detecting
overfitting": large unregularised WGANs on a random 1000-image MNIST subset; the negative critic
loss on the training and on the validation set is plotted against generator iterations, with
the gradient penalty (Fig 5b left, 2×10⁴ iterations) and with weight clipping (right).

Here: 1000 images drawn at random (from the seed's key) from Fashion-MNIST's train split are
the training set; 1000 images drawn at random from its test split are the validation set. The
models are the official WGAN-GP MNIST ones (`wgan_jax.models.mnist`, gan_mnist.py: BatchNorm in
G and D only in the clipping mode), trained as gan_mnist.py trains them: batch 50, z ∈ R^128,
5 critic steps per generator step; the penalty with Adam 1e-4, β (0.5, 0.9), λ 10; clipping
with RMSProp 5e-5 and c = 0.01 (gan_mnist's constant 5 critic steps, no warm-up).

The plotted value is the negative of the critic's cost as gan_mnist.py computes its dev cost:
the training cost expression, mean D(G(z)) − mean D(x) (+ λ·GP at x̂ = εx + (1−ε)G(z) with the
penalty), averaged over batches of 50 real images of a set, each against a batch of 50 fresh
samples (the generator and a clipping critic in training mode, as in a training step). Both
sets are scored against the same fakes and ε (one key per evaluation), so the train − validation
gap is the critic's difference between the two real sets. The critic's cost on its own training
minibatches (gan_mnist's 'train disc cost') is plotted too, faintly.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from experiments.builders import make_gan, make_models
from experiments.figures import _common
from experiments.figures import runner as _runner
import wgan_jax as wj
from wgan_jax.data.idx import load_fashion_mnist
from wgan_jax.data.images import array_sampler
from wgan_jax.train import CriticDraws

NAME = "critic_overfitting"
PAPER = ("WGAN-GP (arXiv:1704.00028) §5.6, Fig. 5b: 'we train large unregularized WGANs on a "
         "random 1000-image subset of MNIST and plot the negative critic loss on both the "
         "training and validation sets in Figure 5b. In both WGAN and WGAN-GP, the two losses diverge, "
         "suggesting that the critic overfits ... However in WGAN-GP, the training loss "
         "gradually increases even while the validation loss drops.' Here on Fashion-MNIST.")
NOTE = (  # what RESULTS.md says about this figure's runs
    "Fig 5b's protocol on Fashion-MNIST at CPU size: the official WGAN-GP MNIST models at DIM "
    "16 (gan_mnist: 64), 2500 generator iterations (paper: 2×10⁴), 1000 random train-split "
    "images, validated on 1000 random test-split images; the value includes the penalty, as "
    "gan_mnist's dev cost. Both panels diverge in the paper's direction, but only just: with "
    "the penalty the train − validation gap grows from 0.00 (first third) to 0.15 (last third, "
    "z 6.9), about 3% of the value (~5.7); with clipping from 0.0000 to 0.0005 (z 5.7), 0.6% "
    "of the value (~0.076). The paper's distinctive GP curve is not reached: from the middle "
    "to the last third the training value still falls (6.21 -> 5.73, z -9.6) with the "
    "validation value (6.14 -> 5.58): at 2500 iterations both are still in the slow decline "
    "that follows the start-up peak (~26 at iteration 50). Whether the training value turns "
    "up by 2×10⁴ iterations at DIM 64 is for --full (an accelerator). Images are in [-1, 1] "
    "(gan_mnist: [0, 1]), which about doubles the values' scale.")
PUBLISHED = ("GP panel (2×10⁴ it., y 0–10): train rises while validation falls; clipping "
             "panel (y 0–0.8): the two diverge")

LAMBDA = 10.0     # gan_mnist.py's LAMBDA
BATCH = 50        # gan_mnist.py's BATCH_SIZE
LATENT = 128      # gan_mnist.py's noise dimension
N_CRITIC = 5      # gan_mnist.py's CRITIC_ITERS (constant: no WGAN warm-up in that code)
PANELS = (("gradient penalty", "wgan-gp"), ("weight clipping", "wgan"))
SCALES = {
    # dim: DIM of the MNIST models (gan_mnist: 64); images / validation: sizes of the two sets;
    # eval_every: generator iterations between evaluations of both sets.
    "tiny": dict(iters=6, dim=4, batch=8, eval_every=1, images=64, validation=64),
    "default": dict(iters=2500, dim=16, batch=BATCH, eval_every=50, images=1000,
                    validation=1000),
    "full": dict(iters=20000, dim=64, batch=BATCH, eval_every=100, images=1000,
                 validation=1000),
}

# The checks' statistic, fixed before any run. The evaluations after iteration 0 are split
# into three equal thirds (early, middle, late) by order; a change between two thirds is the
# difference of their means, its standard error sqrt(s_a²/n_a + s_b²/n_b) (sample variances),
# and it counts when |z| = |change / s.e.| ≥ Z_MIN in the claimed direction. "Gradually
# increases" is read from the middle to the late third: the early third holds the critic's
# start-up transient (its value jumps while the critic learns, then falls as G learns the
# data's gross structure), which the paper's 2×10⁴-iteration axis does not resolve.
Z_MIN = 2.0


def subset_indices(key, population: int, n: int) -> np.ndarray:
  """n distinct indices of [0, population), drawn uniformly by `key`, in increasing order."""
  if not 0 < n <= population:
    raise ValueError(f"n: must lie in [1, {population}], got {n}")
  return np.sort(np.asarray(jax.random.permutation(key, population))[:n])


def load_sets(key, n_train: int, n_validation: int):
  """(training images, validation images): random subsets of Fashion-MNIST's train and test
  splits, chosen by fold_in(key, 0) and fold_in(key, 1); images [n, 28, 28, 1] in [-1, 1]."""
  xt, _ = load_fashion_mnist(None, "train")
  xv, _ = load_fashion_mnist(None, "test")
  return (xt[subset_indices(jax.random.fold_in(key, 0), len(xt), n_train)],
          xv[subset_indices(jax.random.fold_in(key, 1), len(xv), n_validation)])


def build(objective: str, dim: int, batch: int):
  """The official WGAN-GP MNIST models (gan_mnist.py) in `objective`'s gan_mnist mode: no
  normalisation with the penalty, BatchNorm in G and D with clipping; its optimiser recipe."""
  penalty = objective == "wgan-gp"
  extra = dict(gp_weight=LAMBDA) if penalty else dict(warmup=False)
  config = wj.make_config(objective, batch_size=batch, latent_dim=LATENT, n_critic=N_CRITIC,
                          **extra)
  norm = "none" if penalty else "batch"
  generator, critic = make_models("mnist", (28, 28, 1), dim=dim, gen_norm=norm,
                                  critic_norm=norm)
  return make_gan(generator, critic, config, array_sampler)


def games(scale: str):
  """The two panels' GANs at `scale`, each trained once on `images` training images."""
  sz = FIGURE.config(scale)
  return [_common.Game(label, build(objective, sz["dim"], sz["batch"]), (28, 28, 1),
                       sz["iters"], examples=sz["images"]) for label, objective in PANELS]


def batched(images, batch: int) -> np.ndarray:
  """images [n, ...] as [n // batch, batch, ...] (a remainder of fewer than `batch` dropped)."""
  images = np.asarray(images)
  nb = len(images) // batch
  if nb == 0:
    raise ValueError(f"images: fewer ({len(images)}) than one batch of {batch}")
  return images[:nb * batch].reshape((nb, batch) + images.shape[1:])


def cost_program(gan, n_batches: int):
  """Jitted (state, sets [S, n_batches, B, ...], key) -> {total, adv, gp} [S, n_batches]: the
  critic's training cost (`players.critic_payoff`, the expression a critic step minimises:
  adv = mean D(fake) − mean D(real), total = adv + λ·gp) on each real batch of each set,
  against batch b's fakes and ε drawn from fold_in(key, b), the same for every set."""
  latent = gan.config.latent_dim

  def one_batch(state, reals, k):
    batch = reals.shape[1]
    k_z, k_e = jax.random.split(k)
    z = jax.random.normal(k_z, (batch, latent))
    eps = jax.random.uniform(k_e, (batch,))
    g = state.generator
    fake, _ = gan.players.generate(gan, g, g.params, z, train=True)

    def on(real):
      draws = CriticDraws(eps=eps, partner=fake, lazy_on=jnp.asarray(True))
      total, aux, _ = gan.players.critic_payoff(gan, state.critic.params, state, real, fake,
                                                draws)
      return dict(total=total, adv=aux["d_adv_loss"], gp=aux["gp"])

    return jax.vmap(on)(reals)  # each set's batch b: [S]

  def program(state, sets, key):
    ks = jax.vmap(lambda b: jax.random.fold_in(key, b))(jnp.arange(n_batches))
    out = jax.lax.map(lambda a: one_batch(state, a[0], a[1]), (jnp.swapaxes(sets, 0, 1), ks))
    return jax.tree.map(lambda v: v.T, out)  # [S, n_batches]

  return gan.compiled((NAME + ".cost", n_batches), lambda: jax.jit(program))


def negative_costs(costs: Mapping) -> Dict[str, np.ndarray]:
  """Per set [S]: the negative critic loss −mean(total) (the plotted value, penalty included)
  and −mean(adv) (the Wasserstein term alone) over the batches."""
  return dict(value=-np.mean(np.asarray(costs["total"]), axis=1),
              without_penalty=-np.mean(np.asarray(costs["adv"]), axis=1),
              penalty=np.mean(np.asarray(costs["gp"]), axis=1))


def thirds(values: Sequence[float]):
  """(early, middle, late): `values` split into three consecutive parts of equal size (the
  first len % 3 values dropped)."""
  v = np.asarray(values, float)
  n = len(v) // 3
  if n < 2:
    raise ValueError(f"values: need at least 6 points for thirds of 2, got {len(v)}")
  v = v[len(v) - 3 * n:]
  return v[:n], v[n:2 * n], v[2 * n:]


def change(before: Sequence[float], after: Sequence[float]) -> Dict[str, float]:
  """mean(after) − mean(before), its standard error sqrt(s_a²/n_a + s_b²/n_b) and z = change /
  s.e. (±inf when the s.e. is 0 and the change is not)."""
  a, b = np.asarray(before, float), np.asarray(after, float)
  d = float(b.mean() - a.mean())
  se = float(np.sqrt(b.var(ddof=1) / len(b) + a.var(ddof=1) / len(a)))
  z = d / se if se > 0 else (np.sign(d) * np.inf if d else 0.0)
  return dict(change=d, se=se, z=float(z))


def summarise(train: Sequence[float], validation: Sequence[float]) -> Dict:
  """The numbers the checks read from one panel's curves (evaluations after iteration 0)."""
  t, v = np.asarray(train, float), np.asarray(validation, float)
  gap = t - v
  tt, vt, gt = thirds(t), thirds(v), thirds(gap)
  return dict(
      train_thirds=[float(x.mean()) for x in tt], validation_thirds=[float(x.mean()) for x in vt],
      gap_thirds=[float(x.mean()) for x in gt],
      gap_growth=change(gt[0], gt[2]),                    # early -> late
      train_rise=change(tt[1], tt[2]),                    # middle -> late
      validation_rise=change(vt[1], vt[2]),               # middle -> late
      train_rise_from_early=change(tt[0], tt[2]),
      validation_rise_from_early=change(vt[0], vt[2]),
      late_gap=float(gt[2].mean()),
      late_gap_relative=float(gt[2].mean() / abs(tt[2].mean())) if tt[2].mean() else math.inf)


def diverges(s: Mapping) -> bool:
  """The train − validation gap grows (early -> late third, z ≥ Z_MIN) and ends positive."""
  return s["gap_growth"]["z"] >= Z_MIN and s["late_gap"] > 0


def judge_stats(stats: Mapping[str, Mapping]) -> Dict[str, bool]:
  """The paper's Fig 5b claims as checks on `summarise` numbers per panel."""
  gp, clip = stats["gradient penalty"], stats["weight clipping"]
  return {
      "§5.6 Fig 5b (GP), 'the two losses diverge, suggesting that the critic overfits': the "
      f"train − validation gap of the negative critic loss grows from the early to the late "
      f"third (z ≥ {Z_MIN:g}) and ends positive": diverges(gp),
      "§5.6 Fig 5b (GP), 'the training loss gradually increases even while the validation "
      f"loss drops': from the middle to the late third the training value rises (z ≥ "
      f"{Z_MIN:g}) and the validation value falls (z ≤ −{Z_MIN:g})":
          gp["train_rise"]["z"] >= Z_MIN and gp["validation_rise"]["z"] <= -Z_MIN,
      "§5.6 Fig 5b (clipping), 'in both WGAN and WGAN-GP, the two losses diverge': the gap "
      f"grows from the early to the late third (z ≥ {Z_MIN:g}) and ends positive":
          diverges(clip),
  }


def train_panel(objective: str, sz: Mapping, train_x, val_x, key):
  """Train one panel's GAN on `train_x`; every `eval_every` iterations (and at 0 and the end)
  the negative critic loss on both sets. Returns (evaluations, training-minibatch history,
  train seconds)."""
  gan = build(objective, sz["dim"], sz["batch"])
  sets = jnp.asarray(np.stack([batched(train_x, sz["batch"]), batched(val_x, sz["batch"])]))
  cost = cost_program(gan, sets.shape[1])

  def evaluate(state, k, it):
    n = negative_costs(jax.device_get(cost(state, sets, k)))
    return dict(train=float(n["value"][0]), validation=float(n["value"][1]),
                train_without_penalty=float(n["without_penalty"][0]),
                validation_without_penalty=float(n["without_penalty"][1]),
                train_penalty=float(n["penalty"][0]), validation_penalty=float(n["penalty"][1]))

  evals, r = _common.train(gan, key, evaluate, data=train_x, iters=sz["iters"],
                           eval_every=sz["eval_every"], eval_at_start=True,
                           exclude_compile_time=True, log_every=10)
  h = r.history
  minibatch = dict(iteration=list(h["iteration"]),
                   negative_cost=[-float(x) for x in h["d_loss"]])
  return evals, minibatch, r.train_seconds


def measure(sz: Mapping, seed: int) -> Dict:
  """Train both panels' GANs on the same random training set; the negative critic loss on it
  and on the validation set over training, the statistics the checks read, and the sizes."""
  key = jax.random.key(seed)
  train_x, val_x = load_sets(key, sz["images"], sz["validation"])
  curves, minibatch, seconds, stats = {}, {}, {}, {}
  for i, (label, objective) in enumerate(PANELS):
    curves[label], minibatch[label], seconds[label] = train_panel(
        objective, sz, train_x, val_x, jax.random.fold_in(key, 2 + i))
    after0 = [e for e in curves[label] if e["iteration"] > 0]
    stats[label] = summarise([e["train"] for e in after0], [e["validation"] for e in after0])
  return dict(
      setup=dict(data="Fashion-MNIST (Debian dataset-fashion-mnist)",
                 training_set=f"{len(train_x)} random train-split images (fold_in(key, 0))",
                 validation_set=f"{len(val_x)} random test-split images (fold_in(key, 1))",
                 models=f"official WGAN-GP MNIST G and D (gan_mnist.py), DIM {sz['dim']} "
                        "(gan_mnist: 64)", batch=sz["batch"], latent_dim=LATENT,
                 n_critic=N_CRITIC, generator_iterations=sz["iters"],
                 eval_every=sz["eval_every"],
                 gradient_penalty=f"Adam 1e-4, β (0.5, 0.9), λ {LAMBDA:g}",
                 weight_clipping="RMSProp 5e-5 (decay 0.9), c 0.01, no warm-up",
                 value="−(mean D(G(z)) − mean D(x) [+ λ·GP]) over batches of the set, the "
                       "same fakes and ε for both sets",
                 paper="1000 MNIST images, 2×10⁴ generator iterations, gan_mnist models"),
      thresholds=dict(z_min=Z_MIN, rise_window="middle third -> late third",
                      gap_window="early third -> late third"),
      curves=curves, minibatch_cost=minibatch, stats=stats, seconds=dict(train=seconds),
      sizes=dict(sz))


# ------------------------------------------------------------------ reading the stored numbers
def stored_z(c: Mapping) -> float:
  """A stored `change`'s z: None is ±inf where the s.e. is 0 and the change is not (as
  `change` computes it; JSON has no inf), else NaN (a non-finite curve)."""
  if c["z"] is not None:
    return float(c["z"])
  d, se = _runner.value(c["change"]), _runner.value(c["se"])
  return math.copysign(math.inf, d) if se == 0 and d != 0 and not math.isnan(d) else math.nan


def stored_stats(numbers: Mapping) -> Dict[str, Dict]:
  """Each panel's stored `summarise` numbers as `judge_stats` reads them: every change's z
  (`stored_z`), every other non-finite number (None) NaN."""
  def num(k, v):
    if isinstance(v, dict):
      return dict(v, z=stored_z(v))
    return [_runner.value(x) for x in v] if isinstance(v, list) else _runner.value(v)
  return {label: {k: num(k, v) for k, v in st.items()} for label, st in numbers["stats"].items()}


def judge(numbers: Mapping) -> Dict[str, bool]:
  """The paper's Fig 5b claims on the stored numbers (`judge_stats` of their statistics)."""
  return judge_stats(stored_stats(numbers))


def summary(numbers: Mapping) -> str:
  stats, sz = stored_stats(numbers), numbers.get("sizes")
  gp, clip = stats["gradient penalty"], stats["weight clipping"]
  head = (f"DIM {sz['dim']}, {sz['iters']} it., {sz['images']} train / {sz['validation']} "
          "validation images. ") if sz else ""   # (no sizes: a run stored before they were)
  return (f"{head}GP: train − validation gap early → late third "
          f"{gp['gap_thirds'][0]:.3g} → {gp['gap_thirds'][2]:.3g} (z {gp['gap_growth']['z']:.1f}"
          f", {100 * gp['late_gap_relative']:.1f}% of the training value); middle → late "
          f"third: train {gp['train_thirds'][1]:.3g} → {gp['train_thirds'][2]:.3g} (z "
          f"{gp['train_rise']['z']:.1f}), validation {gp['validation_thirds'][1]:.3g} → "
          f"{gp['validation_thirds'][2]:.3g} (z {gp['validation_rise']['z']:.1f}). Clipping: "
          f"gap {clip['gap_thirds'][0]:.3g} → {clip['gap_thirds'][2]:.3g} (z "
          f"{clip['gap_growth']['z']:.1f}, {100 * clip['late_gap_relative']:.1f}%)")


def plot(numbers: Mapping):
  """Top: the negative critic loss on both sets (as Fig 5b); bottom: their difference."""
  sz = numbers["sizes"]   # (a run stored before the figure kept its sizes: KeyError)
  stats, minibatch = stored_stats(numbers), numbers["minibatch_cost"]
  fig, axes = _common.subplots(2, 2, figsize=(12, 7.6), sharex="col",
                               gridspec_kw=dict(height_ratios=(2, 1)))
  for c, (label, evals) in enumerate(numbers["curves"].items()):
    ax, gx = axes[0, c], axes[1, c]
    it = np.array([e["iteration"] for e in evals])
    train = np.array([e["train"] for e in evals], float)        # None (non-finite): NaN
    validation = np.array([e["validation"] for e in evals], float)
    mb = minibatch[label]
    ax.plot(mb["iteration"], np.array(mb["negative_cost"], float), color="0.75", lw=0.5,
            label="training minibatches (gan_mnist's train cost)")
    ax.plot(it, train, color="C0", label=f"training set ({sz['images']})")
    ax.plot(it, validation, color="C1", label=f"validation set ({sz['validation']}, test split)")
    gx.plot(it[1:], train[1:] - validation[1:], color="C2")
    gx.axhline(0.0, color="0.3", lw=0.8)
    n = (len(evals) - 1) // 3
    for a in (ax, gx):
      for b in (len(evals) - 2 * n, len(evals) - n):  # the thirds' boundaries
        a.axvline(evals[b]["iteration"], color="0.5", ls=":", lw=0.8)
      a.grid(alpha=0.3)
    s = stats[label]
    ax.set_title(f"{label}\nmiddle→late third: train {s['train_thirds'][1]:.3g}→"
                 f"{s['train_thirds'][2]:.3g} (z {s['train_rise']['z']:.1f}), validation "
                 f"{s['validation_thirds'][1]:.3g}→{s['validation_thirds'][2]:.3g} (z "
                 f"{s['validation_rise']['z']:.1f})", fontsize=8)
    gx.set_title(f"train − validation: early→late third {s['gap_thirds'][0]:.3g}→"
                 f"{s['gap_thirds'][2]:.3g} (z {s['gap_growth']['z']:.1f})", fontsize=8)
    both = np.r_[train[1:], validation[1:]]
    if np.isfinite(both).any():
      lo, hi = np.nanmin(both), np.nanmax(both)
      pad = 0.15 * (hi - lo) + 1e-9
      ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel("negative critic loss")
    ax.legend(fontsize=7)
    gx.set_xlabel("generator iterations")
    gx.set_ylabel("train − validation")
  fig.suptitle(f"Critic overfitting on {sz['images']} Fashion-MNIST images (WGAN-GP Fig. 5b): "
               f"DIM {sz['dim']}, {sz['iters']} generator iterations", fontsize=10)
  return fig


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge, plot=plot,
    summary=summary, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
