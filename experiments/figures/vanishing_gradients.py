"""Arjovsky & Bottou figures 1–3: a discriminator trained against a frozen generator.

A GAN (`nsgan`) is pretrained on the ring of 8 Gaussians for three lengths; the generator is
frozen and a fresh discriminator is trained from scratch against it. Over the discriminator's
iterations we log its cross-entropy and accuracy, and the norm of the generator's gradient under
the original cost E log(1 − D(G(z))) and under the −log D cost, on a log scale. The same with
instance noise (σ = 0.1) on the discriminator's inputs.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

import wgan_jax as wj
from experiments.figures import _common
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator

NAME = "vanishing_gradients"
PAPER = ("Arjovsky & Bottou figs 1–3: the fresh discriminator's error falls to ~0 and its "
         "accuracy to 1; the generator's gradient under the original cost decays by orders of "
         "magnitude; under −log D it grows, with growing variance. Instance noise keeps the "
         "gradients informative.")


def make(objective, width, noise):
  cfg = wj.make_config(objective, batch_size=256, instance_noise=noise)
  ds = make_toy_dataset("8gaussians")
  return wj.GAN(MLPGenerator(width=width), MLPCritic(width=width), cfg,
                lambda d, k: ds.sample_one(k))


def probe(pretrained, key, *, width, noise, d_steps, log_every):
  """Train a fresh D against the frozen G; log every `log_every` steps."""
  g_orig, g_ns = make("gan", width, noise), make("nsgan", width, noise)
  fresh = g_orig.init(jax.random.fold_in(key, 1))
  state = pretrained.replace(critic=fresh.critic, critic_steps=jnp.zeros((), jnp.int32))

  def block(state, i):
    def one(s, _):
      return g_orig.critic_step_fn(s, key)
    state, m = jax.lax.scan(one, state, None, length=log_every)
    k = jax.random.fold_in(key, i)
    _, gr_orig, _ = g_orig.generator_grads(state, k)
    _, gr_ns, _ = g_ns.generator_grads(state, k)
    return state, dict(d_loss=m["d_adv_loss"][-1], d_accuracy=m["d_accuracy"][-1],
                       grad_original=optax.tree.norm(gr_orig), grad_logd=optax.tree.norm(gr_ns))

  _, logs = jax.lax.scan(block, state, jnp.arange(d_steps // log_every))
  return logs


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  scale = scale or ("full" if full else "default")
  lengths = dict(tiny=(5, 20, 50), default=(100, 1000, 5000), full=(1000, 10000, 25000))[scale]
  d_steps = dict(tiny=100, default=3000, full=4000)[scale]
  width = dict(tiny=16, default=64, full=512)[scale]
  log_every = 10 if scale == "tiny" else 25
  key = jax.random.key(seed)
  pretrained = {}

  def keep(state, k, it):  # the pretrained generator at each length
    if it in lengths:
      pretrained[it] = state
    return {}

  _common.train(make("nsgan", width, 0.0), tuple(jax.random.fold_in(key, i) for i in range(3)),
                keep, iters=lengths[-1], eval_every=math.gcd(*lengths), iters_per_call=50)
  logs = {}
  for noise in (0.0, 0.1):
    for n in lengths:
      logs[(noise, n)] = jax.device_get(jax.jit(lambda s, k, noise=noise: probe(
          s, k, width=width, noise=noise, d_steps=d_steps, log_every=log_every))(
              pretrained[n], jax.random.fold_in(key, 2)))
  steps = np.arange(1, d_steps // log_every + 1) * log_every
  fig, axes = _common.subplots(2, 3, figsize=(14, 7.5))
  for r, noise in enumerate((0.0, 0.1)):
    tag = "no noise" if noise == 0 else f"instance noise σ {noise}"
    for c, n in enumerate(lengths):
      lg, col = logs[(noise, n)], f"C{c}"
      axes[r, 0].semilogy(steps, lg["d_loss"], color=col, label=f"G pretrained {n} it.")
      axes[r, 0].plot(steps, lg["d_accuracy"], "--", color=col, lw=0.8)
      axes[r, 1].semilogy(steps, lg["grad_original"], color=col, label=f"{n} it.")
      axes[r, 2].semilogy(steps, lg["grad_logd"], color=col, label=f"{n} it.")
    axes[r, 0].set_title(f"D cross-entropy (solid) and accuracy (dashed), {tag}", fontsize=9)
    axes[r, 1].set_title(f"‖∇θ E log(1 − D(G(z)))‖ (original cost), {tag}", fontsize=9)
    axes[r, 2].set_title(f"‖∇θ −E log D(G(z))‖ (−log D cost), {tag}", fontsize=9)
    for a in axes[r]:
      a.set_xlabel("discriminator iterations")
      a.legend(fontsize=7)
  change = lambda k: {f"{noise}/{n}": float(np.log10(logs[(noise, n)][k][-1] /
                                                      logs[(noise, n)][k][0]))
                      for noise in (0.0, 0.1) for n in lengths}  # log10 change over D's steps
  drop, drop_ns = change("grad_original"), change("grad_logd")
  final_acc = {f"{noise}/{n}": float(logs[(noise, n)]["d_accuracy"][-1])
               for noise in (0.0, 0.1) for n in lengths}
  checks = {
      "without noise, the original-cost gradient falls by ≥ 2 orders of magnitude (every length)":
          all(drop[f"0.0/{n}"] <= -2 for n in lengths),
      "without noise, the −log D gradient falls less than the original one (every length)":
          all(drop_ns[f"0.0/{n}"] > drop[f"0.0/{n}"] for n in lengths),
      "without noise, the fresh discriminator reaches accuracy ≥ 0.99":
          all(final_acc[f"0.0/{n}"] >= 0.99 for n in lengths),
      "with instance noise, the original-cost gradient stays within 1 order of magnitude":
          all(drop[f"0.1/{n}"] > -1 for n in lengths),
  }
  numbers = dict(pretrain_lengths=lengths, discriminator_steps=steps,
                 logs={f"noise {k[0]}, pretrained {k[1]}": v for k, v in logs.items()},
                 log10_change_original=drop, log10_change_logd=drop_ns,
                 final_accuracy=final_acc, width=width)
  summary = ("log10 change of ‖∇ original‖ without / with noise: " +
             ", ".join(f"{n} it. {drop[f'0.0/{n}']:+.1f} / {drop[f'0.1/{n}']:+.1f}"
                       for n in lengths) +
             "; of ‖∇ −log D‖ without noise: " +
             ", ".join(f"{drop_ns[f'0.0/{n}']:+.1f}" for n in lengths))
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
