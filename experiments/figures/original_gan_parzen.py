"""Goodfellow et al. 2014, Table 1 and Figs 2–3 on Fashion-MNIST: Parzen-window log-likelihood,
samples beside their nearest training images, and interpolation in z.

  python -m experiments.figures.original_gan_parzen --out runs/figures [--scale tiny|default|full]

A GAN with the DCGAN generator and discriminator (`image_gan(arch="dcgan")`: tanh output on
data in [−1, 1]; the −log D generator loss, Adam 2e-4 β1 0.5, batch 100) is trained on the
first 50,000 Fashion-MNIST training images; the last 10,000 are the validation split. The
paper's MNIST models were MLPs (a maxout discriminator); the project's output-unbounded image
MLP generator did not train at this CPU scale (measured: test log-likelihood −489 nats against
uniform noise's −531 and the training images' +362), so the convolutional pair is used.

Table 1 (§5): "We estimate probability of the test set data under p_g by fitting a Gaussian
Parzen window to the samples generated with G and reporting the log-likelihood under this
distribution. The σ parameter of the Gaussians was obtained by cross validation on the
validation set." With kernel centres s_1..s_N and pixels in [0, 1] (d = 784):

  log p(x) = logsumexp_i(−‖x − s_i‖² / 2σ²) − log N − (d/2)·log(2πσ²).

Beside the GAN's estimate, the same estimator with N training images as centres (what a
generator that draws fresh real images would score) and with N uniform-noise images, each with
its own σ chosen on validation. The estimator's known weakness, measured: its value moves with
the number of centres N (it is far from converged at these N in 784 dimensions).

Fig 2: samples with their nearest training image (Euclidean pixel distance) beside each, "to
demonstrate that the model has not memorized the training set". Fig 3: generated images along
straight lines in z between random endpoints.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from experiments import common
from experiments.builders import image_gan
from experiments.figures import _common
from experiments.figures import runner as _runner
from wgan_jax import image_metrics as im
from wgan_jax.data.idx import load_fashion_mnist

NAME = "original_gan_parzen"
PAPER = ("Goodfellow et al. 2014, Table 1: Parzen-window log-likelihood of the test set under "
         "p_g (σ by cross-validation), MNIST 225 ± 2 for the adversarial net; the method 'has "
         "somewhat high variance and does not perform well in high dimensional spaces'. Fig 2: "
         "samples beside their nearest training example show that 'the model has not memorized "
         "the training set'. Fig 3: linear interpolation between coordinates in z.")
PUBLISHED = "Parzen LL on MNIST: GAN 225 ± 2, DBN 138 ± 2, Stacked CAE 121 ± 1.6 (Table 1)"
NOTE = ("Partly reproduced at the CPU default: the DCGAN pair at dim 16, nsgan, 4000 iterations "
        "at batch 100, one seed; 253 CPU s (two figures at once). The samples are "
        "recognisable garments (Fig 2: none is a copy; the median nearest-training distance is "
        "10.0 against 7.0 for test images, and 0% are nearer a training image than 95% of "
        "test images). Fig 3's interpolations change smoothly between garments. Table 1's "
        "estimator puts the test set at 192 ± 4 nats under the GAN's samples, between uniform "
        "noise (−531) and the training images themselves (362 ± 5); the paper's MNIST GAN "
        "has 225 ± 2, on another data set. The estimator's weakness is measured: with 1000 "
        "instead of 10,000 centres the GAN's value drops 72 nats and the training images' "
        "123. The interior-σ check fails only for uniform noise, whose validation curve still "
        "rises at the grid's widest σ (0.5); the GAN's σ (0.20) and the training images' "
        "(0.16) are interior. The MLP generator of the previous run did not train (−489 "
        "nats). Re-run (issue 29) with the sub-pixel convolution plan (the same function in "
        "another summation order): the verdicts are unchanged; the GAN's estimate moved from "
        "191 to 192 ± 4 nats and its drift from 65 to 72, the training-image and noise rows "
        "are the same to the bit, and the samples and interpolations differ in detail; the "
        "figure is now drawn from the stored images.")
SIZES = {"tiny": dict(iters=10, dim=4, centres=200, few_centres=50, validation=50, test=50,
                      nn_samples=20),
         "default": dict(iters=4000, dim=16, centres=10000, few_centres=1000,
                         validation=1000, test=2000, nn_samples=500),
         "full": dict(iters=50000, dim=64, centres=10000, few_centres=1000,
                      validation=10000, test=10000, nn_samples=2000)}
SIGMAS = np.logspace(-1.5, -0.3, 13)   # bandwidths tried on the validation split (pixels in [0,1])
TRAIN_IMAGES = 50000
# Thresholds of the checks, fixed before the run.
MAX_MEMORISED = 0.2    # Fig 2: share of samples nearer a training image than 95% of test images
MIN_DRIFT = 5.0        # the estimator's weakness: nats moved between few_centres and centres
GAN, REAL, NOISE = "GAN samples", "training images", "uniform noise"   # the table's rows


@jax.jit
def _parzen_block(xb, c, sig):
  """[S, m] log-likelihoods of the rows xb [m, d] under the window on c [N, d] per σ in sig."""
  n, d = c.shape
  d2 = jnp.maximum(jnp.sum(xb * xb, 1)[:, None] + jnp.sum(c * c, 1)[None] - 2 * xb @ c.T, 0.0)
  lse = jax.vmap(lambda s: jax.nn.logsumexp(-d2 / (2 * s * s), axis=1))(sig)
  return lse - math.log(n) - 0.5 * d * jnp.log(2 * math.pi * sig * sig)[:, None]


def parzen_log_likelihood(x, centres, sigmas, chunk: int = 500) -> np.ndarray:
  """log p(x) of each row of x [M, d] under the Gaussian Parzen window on `centres` [N, d] for
  each bandwidth in `sigmas` [S]: returns [S, M] (nats). Compiled once per shape."""
  x = jnp.asarray(np.asarray(x, np.float32).reshape(len(x), -1))
  c = jnp.asarray(np.asarray(centres, np.float32).reshape(len(centres), -1))
  sig = jnp.asarray(sigmas, jnp.float32)
  return np.concatenate([np.asarray(_parzen_block(x[i:i + chunk], c, sig))
                         for i in range(0, len(x), chunk)], axis=1)


def parzen_estimate(validation, test, centres, sigmas=SIGMAS):
  """σ chosen by the mean validation log-likelihood, then the test log-likelihood's mean and
  standard error at that σ."""
  val = parzen_log_likelihood(validation, centres, sigmas).mean(axis=1)
  best = int(np.argmax(val))
  ll = parzen_log_likelihood(test, centres, sigmas[best:best + 1])[0]
  return dict(sigma=float(sigmas[best]), sigma_index=best, validation_curve=val,
              mean=float(ll.mean()), se=float(ll.std(ddof=1) / math.sqrt(len(ll))))


def interpolate(z0, z1, steps: int) -> np.ndarray:
  """Points on the segment from z0 to z1, endpoints included: [steps, latent]."""
  t = np.linspace(0.0, 1.0, steps)[:, None]
  return (1 - t) * np.asarray(z0)[None] + t * np.asarray(z1)[None]


def to_unit(x) -> np.ndarray:
  """Images in [-1, 1] (generated ones clipped) to pixels in [0, 1], as the paper's data."""
  return (np.clip(np.asarray(x, np.float32), -1, 1) + 1) / 2


def build(shape, s):
  """The DCGAN pair (nsgan, batch 100, z ∈ R^100) on images of `shape` at sizes `s`."""
  return image_gan("nsgan", tuple(shape), dim=s["dim"], arch="dcgan", batch_size=100,
                   latent_dim=100)


def games(scale: str):
  """The one GAN it trains, on the first TRAIN_IMAGES Fashion-MNIST training images."""
  s = FIGURE.config(scale)
  shape = (28, 28, 1)
  return [_common.Game("nsgan dcgan", build(shape, s), shape, s["iters"],
                       examples=TRAIN_IMAGES)]


def measure(s: Mapping, seed: int) -> Dict:
  """Train the GAN; Table 1's Parzen estimates (GAN samples, training images and uniform noise
  as centres), Fig 2's nearest-training-image distances and Fig 3's interpolations, with the
  images the plot draws (as 8-bit pixel levels of [0, 1])."""
  key = jax.random.key(seed)
  train_all, _ = load_fashion_mnist(None, "train")
  test_all, _ = load_fashion_mnist(None, "test")
  train, validation = train_all[:TRAIN_IMAGES], train_all[TRAIN_IMAGES:]
  gan = build(train.shape[1:], s)
  _, r = _common.train(gan, key, data=train, iters=s["iters"], log_every=max(1, s["iters"] // 50))
  state = r.state
  sample = jax.jit(gan.sample, static_argnums=2)
  k_s, k_n, k_v, k_t, k_z = jax.random.split(jax.random.fold_in(key, 1), 5)
  fakes = np.asarray(sample(state, k_s, s["centres"]))
  rng = np.random.default_rng(seed)
  val = to_unit(validation[rng.choice(len(validation), s["validation"], replace=False)])
  test = to_unit(test_all[rng.choice(len(test_all), s["test"], replace=False)])
  train_centres = to_unit(train[rng.choice(len(train), s["centres"], replace=False)])
  noise = np.asarray(jax.random.uniform(k_n, (s["centres"],) + train.shape[1:]))
  table = {}
  for label, centres in ((GAN, to_unit(fakes)), (REAL, train_centres), (NOISE, noise)):
    table[label] = parzen_estimate(val, test, centres)
    few = parzen_estimate(val, test, centres[:s["few_centres"]])
    table[label]["mean_few_centres"] = few["mean"]
  # Fig 2: nearest training image of each sample; memorisation share against held-out images
  nn_fake = im.nearest_neighbour_distances(fakes[:s["nn_samples"]], train)
  nn_test = im.nearest_neighbour_distances(test_all[:s["nn_samples"]], train)
  tau = float(np.quantile(nn_test, 0.05))
  memorised = im.nearest_train_share(nn_fake, tau)
  nearest = _nearest_index(fakes[:12], train)
  # Fig 3: interpolation between random z pairs
  zs = np.asarray(jax.random.normal(k_z, (4, 2, gan.config.latent_dim)))
  paths = np.concatenate([interpolate(a, b, 10) for a, b in zs])
  g = state.generator
  frames = np.asarray(gan.apply_generator(g.params, g.model_state,
                                          jnp.asarray(paths, jnp.float32), train=False)[0])
  frames = frames.reshape(4, 10, *train.shape[1:])
  steps = np.linalg.norm(np.diff(to_unit(frames).reshape(4, 10, -1), axis=1), axis=2)
  drift = {k: v["mean"] - v["mean_few_centres"] for k, v in table.items()}
  level = lambda x: np.round(to_unit(x)[..., 0] * 255).astype(np.uint8)   # [.., 28, 28]
  return dict(table=table, sigmas=SIGMAS, drift=drift, memorised_share=memorised,
              memorisation_threshold=tau, nn_sample_distance_median=float(np.median(nn_fake)),
              nn_test_distance_median=float(np.median(nn_test)),
              interpolation_step_norms=steps, sizes=dict(s),
              thresholds=dict(max_memorised=MAX_MEMORISED, min_drift=MIN_DRIFT),
              images=dict(samples=level(fakes[:12]), nearest=level(train[nearest]),
                          interpolations=level(frames)))


def beats_noise(table: Mapping, drift: Mapping) -> bool:
  """Whether the GAN's row beats uniform noise's by the one margin rule (runner.beats on the
  stored means and standard errors over test images) and by more than either row's own drift
  with the number of centres: the s.e. holds only the test images' spread, not the estimator's
  dependence on its centres, which the noise baseline's drift measures (a generator of noise
  would differ from the noise row by about that much). A non-finite value beats nothing."""
  v = _runner.value
  gap = v(table[GAN]["mean"]) - v(table[NOISE]["mean"])
  return (_runner.beats(*((table[k]["mean"], table[k]["se"]) for k in (GAN, NOISE)))
          and bool(gap > max(abs(v(drift[GAN])), abs(v(drift[NOISE])))))


def judge(numbers: Mapping) -> Dict[str, bool]:
  v, s, table, drift = _runner.value, numbers["sizes"], numbers["table"], numbers["drift"]
  last = len(numbers["sigmas"]) - 1
  return {
      "Table 1 method (§5, σ 'obtained by cross validation on the validation set'): each "
      "estimate's σ is an interior maximum of the validation log-likelihood":
          all(0 < r["sigma_index"] < last for r in table.values()),
      "Table 1 ('We estimate probability of the test set data under p_g by fitting a "
      "Gaussian Parzen window to the samples generated with G'): the adversarial net's "
      "samples give the test set a higher Parzen log-likelihood than uniform noise does, by "
      f"more than {_runner.MARGIN_SE:g} s.e. of the difference (runner.beats) and by more "
      f"than the estimate of either moves between {s['few_centres']} and {s['centres']} "
      "centres (the estimator's own drift: a gap within it is no finding; measured: gap "
      f"{v(table[GAN]['mean']) - v(table[NOISE]['mean']):.0f} nats, drift "
      f"{v(drift[GAN]):+.0f} / {v(drift[NOISE]):+.0f})": beats_noise(table, drift),
      f"Table 1 caption ('somewhat high variance and does not perform well in high "
      f"dimensional spaces'): the estimate moves ≥ {MIN_DRIFT:g} nats between "
      f"{s['few_centres']} and {s['centres']} centres, for the GAN and for real images":
          v(drift[GAN]) >= MIN_DRIFT and v(drift[REAL]) >= MIN_DRIFT,
      f"Fig 2 ('the model has not memorized the training set'): ≤ {MAX_MEMORISED:.0%} of the "
      "samples are nearer a training image than 95% of held-out test images are":
          v(numbers["memorised_share"]) <= MAX_MEMORISED,
  }


def summary(numbers: Mapping) -> str:
  v, s, table, drift = _runner.value, numbers["sizes"], numbers["table"], numbers["drift"]
  gan_row, real_row, noise_row = table[GAN], table[REAL], table[NOISE]
  return (f"Parzen test log-likelihood (nats, pixels in [0,1], N = {s['centres']}): GAN "
          f"{v(gan_row['mean']):.0f} ± {v(gan_row['se']):.0f}, training images "
          f"{v(real_row['mean']):.0f} ± {v(real_row['se']):.0f}, noise "
          f"{v(noise_row['mean']):.0f}; moved {v(drift[GAN]):+.0f} / {v(drift[REAL]):+.0f} "
          f"nats from {s['few_centres']} centres; {v(numbers['memorised_share']):.1%} of samples "
          f"nearer a training image than 95% of test images; {s['iters']} iterations")


def markdown_table(numbers: Mapping) -> str:
  v, s = _runner.value, numbers["sizes"]
  md = ["| kernel centres (N = %d) | σ (validation) | test log-likelihood (nats) | with %d "
        "centres |" % (s["centres"], s["few_centres"]), "|---|---|---|---|"]
  md += [f"| {k} | {v(r['sigma']):.3f} | {v(r['mean']):.0f} ± {v(r['se']):.0f} | "
         f"{v(r['mean_few_centres']):.0f} |" for k, r in numbers["table"].items()]
  md += ["", "Published (MNIST, not Fashion-MNIST; Table 1): adversarial nets 225 ± 2, DBN "
         "138 ± 2, Stacked CAE 121 ± 1.6, Deep GSN 214 ± 1.1. Fashion-MNIST's numbers are not "
         "comparable with MNIST's."]
  return "\n".join(md)


def _nearest_index(x, train):
  """Index of each row's nearest training image (Euclidean pixel distance)."""
  q = np.asarray(x, np.float32).reshape(len(x), -1)
  t = np.asarray(train, np.float32).reshape(len(train), -1)
  d2 = (q * q).sum(1)[:, None] + (t * t).sum(1)[None] - 2 * q @ t.T
  return np.argmin(d2, axis=1)


def plot(numbers: Mapping):
  """Fig 2 (samples beside their nearest training image), Fig 3 (interpolations in z) and
  Table 1's validation curves."""
  img = {k: np.asarray(x, float) / 255 for k, x in numbers["images"].items()}
  fig = common.matplotlib_pyplot().figure(figsize=(15, 5.2))
  gs = fig.add_gridspec(1, 3, width_ratios=[1, 2.2, 1.3])
  ax = fig.add_subplot(gs[0])
  pairs = np.concatenate([np.concatenate([a, b], axis=1)
                          for a, b in zip(img["samples"], img["nearest"])])
  ax.imshow(pairs, cmap="gray", vmin=0, vmax=1)
  ax.set_title("Fig 2: samples (left)\nand their nearest training image", fontsize=8)
  ax.axis("off")
  ax = fig.add_subplot(gs[1])
  rows = [np.concatenate(list(r), axis=1) for r in img["interpolations"]]
  ax.imshow(np.concatenate(rows), cmap="gray", vmin=0, vmax=1)
  ax.set_title("Fig 3: G along straight lines in z", fontsize=8)
  ax.axis("off")
  ax = fig.add_subplot(gs[2])
  for label, r in numbers["table"].items():
    curve = [_runner.value(x) for x in r["validation_curve"]]
    ax.plot(numbers["sigmas"], curve, "o-", ms=3,
            label=f"{label}: test {_runner.value(r['mean']):.0f}")
  ax.set_xscale("log")
  ax.set_xlabel("σ (pixels in [0, 1])")
  ax.set_ylabel("validation log-likelihood (nats)")
  ax.set_title("Table 1: Parzen window, σ chosen on validation", fontsize=8)
  ax.legend(fontsize=6)
  ax.grid(alpha=0.3)
  return fig


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SIZES, measure=measure, judge=judge, plot=plot,
    summary=summary, markdown=markdown_table, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
