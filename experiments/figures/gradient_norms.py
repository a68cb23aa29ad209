"""WGAN-GP figure 1b: gradient norms through a deep critic, and the weights' histograms.

12-layer ReLU critics (no normalisation) on the swiss roll, trained against a fixed "generator"
(real data + N(0, 1)) with weight clipping c ∈ {0.1, 0.01, 0.001} (RMSProp 5e-5) and with the
gradient penalty (Adam 1e-4, β (0.5, 0.9), λ 0.1). Left: the norm of the gradient of the critic
loss with respect to the output of each of the 13 Dense layers, from the output (13) back to the
input (1). Right: the weights of the clipped (c = 0.01) and the penalised critics.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import wgan_jax as wj
from experiments.figures import _common
from wgan_jax.data import make_toy_dataset

NAME = "gradient_norms"
PAPER = ("WGAN-GP fig. 1b: going back from the output, clipping's gradient norms explode "
         "(c = 0.1) or vanish exponentially (c = 0.01, 0.001); the penalty's stay about flat. "
         "Clipped weights pile up at ±c; penalised ones spread unimodally.")
DEPTH = 12
METHODS = ("clip 0.1", "clip 0.01", "clip 0.001", "gradient penalty")


def init_mlp(key, width):
  sizes = [2] + [width] * DEPTH + [1]
  params = []
  for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
    lim = np.sqrt(6.0 / m) if i < DEPTH else np.sqrt(6.0 / (m + n))
    w = jax.random.uniform(jax.random.fold_in(key, i), (m, n), minval=-lim, maxval=lim)
    params.append((w, jnp.zeros((n,))))
  return params


def forward(params, x, deltas=None):
  h = x
  for i, (w, b) in enumerate(params):
    h = h @ w + b
    if deltas is not None:
      h = h + deltas[i]
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  return h[:, 0]


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  scale = scale or ("full" if full else "default")
  width = dict(tiny=16, default=128, full=512)[scale]
  steps = dict(tiny=10, default=400, full=2000)[scale]
  ds = make_toy_dataset("swissroll")
  batch = 256

  def sample_pair(k):
    k0, k1, k2 = jax.random.split(k, 3)
    return ds.sample(k0, batch), ds.sample(k1, batch) + jax.random.normal(k2, (batch, 2))

  def critic_loss(params, real, fake, deltas=None):
    if deltas is None:
      return wj.wasserstein_critic_loss(forward(params, real), forward(params, fake))
    both = forward(params, jnp.concatenate([real, fake]), deltas)
    return wj.wasserstein_critic_loss(both[:batch], both[batch:])

  def train(method, key):
    params = init_mlp(key, width)
    if method.startswith("clip"):
      c = float(method.split()[1])
      opt = optax.chain(optax.rmsprop(5e-5), wj.clip_params(c))
      loss_fn = lambda p, r, f, k: critic_loss(p, r, f)
    else:
      opt = optax.adam(1e-4, 0.5, 0.9)
      loss_fn = lambda p, r, f, k: critic_loss(p, r, f) + 0.1 * wj.gradient_penalty(
          lambda x: forward(p, x), r, f, k)
    state = opt.init(params)

    def step(carry, i):
      p, s = carry
      k = jax.random.fold_in(key, i)
      real, fake = sample_pair(k)
      g = jax.grad(loss_fn)(p, real, fake, jax.random.fold_in(k, 1))
      u, s = opt.update(g, s, p)
      return (optax.apply_updates(p, u), s), None

    (params, _), _ = jax.lax.scan(step, (params, state), jnp.arange(steps))
    real, fake = sample_pair(jax.random.fold_in(key, 10**6))
    deltas = [jnp.zeros((2 * batch, w.shape[1])) for w, _ in params]
    g = jax.grad(lambda d: critic_loss(params, real, fake, d))(deltas)
    return params, jnp.stack([jnp.linalg.norm(x) for x in g])

  norms, weights = {}, {}
  for i, m in enumerate(METHODS):
    params, n = jax.jit(lambda k, m=m: train(m, k))(jax.random.fold_in(jax.random.key(seed), i))
    norms[m] = np.asarray(n)
    weights[m] = np.concatenate([np.asarray(w).ravel() for w, _ in params[:-1]])
  layers = np.arange(1, DEPTH + 2)  # Dense layer index, 1 = first (input side)
  # Slope of log10 ‖∂L/∂h_l‖ per layer going back from the output (13) to the input (1).
  slope = {m: float(-np.polyfit(layers, np.log10(norms[m] + 1e-30), 1)[0]) for m in METHODS}
  frac_at_c = float(np.mean(np.abs(weights["clip 0.01"]) > 0.9 * 0.01))
  gp_w = weights["gradient penalty"]
  fig, (a, b, c) = _common.subplots(1, 3, figsize=(14, 4))
  for m in METHODS:
    a.semilogy(layers, norms[m], "o-", label=m)
  a.set_xlabel("discriminator layer")
  a.set_ylabel("gradient norm")
  a.invert_xaxis()
  a.legend(fontsize=8)
  a.set_title("‖∂L/∂(layer output)‖, output (13) → input (1)", fontsize=9)
  b.hist(weights["clip 0.01"], bins=60)
  b.set_title(f"weight clipping c = 0.01 ({100 * frac_at_c:.0f}% within 10% of ±c)", fontsize=9)
  c.hist(gp_w, bins=60)
  c.set_title("gradient penalty", fontsize=9)
  checks = {
      "c = 0.1: gradients explode going back to the input": slope["clip 0.1"] > 0.1,
      "c = 0.01: gradients vanish going back": slope["clip 0.01"] < -0.1,
      "c = 0.001: gradients vanish, fastest": slope["clip 0.001"] < slope["clip 0.01"] < 0,
      "gradient penalty: flatter than every clipping run":
          abs(slope["gradient penalty"]) < min(abs(slope[m]) for m in METHODS[:3]),
      "clipped weights pile up at ±c (> 50% within 10% of c)": frac_at_c > 0.5,
  }
  numbers = dict(layers=layers, norms=norms, log10_slope_per_layer_backwards=slope,
                 clip_fraction_at_c=frac_at_c,
                 histograms={m: np.histogram(w, bins=60) for m, w in weights.items()},
                 steps=steps, width=width)
  summary = ("log10 gradient-norm change per layer going back: " +
             ", ".join(f"{m} {slope[m]:+.2f}" for m in METHODS) +
             f"; {100 * frac_at_c:.0f}% of clipped weights at ±c")
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
