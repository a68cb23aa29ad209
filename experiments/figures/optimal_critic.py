"""WGAN figure 2: the optimal discriminator and the optimal critic between two 1-D Gaussians.

A GAN discriminator trained to optimality saturates: D ≈ 1 on the real mode and ≈ 0 on the fake
one, so its gradient vanishes where the generated samples are. A WGAN critic with clipped
weights trained to optimality is close to linear, with a useful gradient everywhere.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.stats

import wgan_jax as wj
from experiments.figures import _common
from experiments.figures import runner as _runner
from experiments.figures._common import train_critic

NAME = "optimal_critic"
PAPER = ("WGAN fig. 2: the GAN discriminator saturates (vanishing gradients away from the "
         "decision boundary); the clipped WGAN critic is nearly linear with clean gradients "
         "everywhere.")
REAL, FAKE, STD = -2.0, 2.0, 0.5


class MLP(nn.Module):
  width: int = 64

  @nn.compact
  def __call__(self, x):
    h = x.reshape(x.shape[0], -1)
    for _ in range(3):
      h = nn.relu(nn.Dense(self.width)(h))
    return nn.Dense(1)(h)[:, 0]


SCALES = {   # steps: each network's training steps; width: its hidden layers' width
    "tiny": dict(steps=50, width=16),
    "default": dict(steps=3000, width=64),
    "full": dict(steps=20000, width=128),
}
INNER = (-4.0, 4.0)   # where the critic should be linear with a useful gradient


def games(scale: str) -> list:
  """Trains no GAN: critics fitted to fixed real and fake samples; no generator step."""
  return []


def measure(config, seed: int):
  """The trained discriminator and clipped critic, their input gradients and the densities on
  401 points of [-5, 5]; the critic's line fit on [-4, 4]."""
  steps = config["steps"]
  model = MLP(config["width"])

  def sample_pair(k):
    k0, k1 = jax.random.split(k)
    return (REAL + STD * jax.random.normal(k0, (256, 1)),
            FAKE + STD * jax.random.normal(k1, (256, 1)))

  kd, kc = jax.random.split(jax.random.key(seed))
  pd, _ = jax.jit(lambda k: train_critic(model, sample_pair, k, steps=steps, loss="minimax",
                                         optimizer=optax.adam(1e-3, 0.5, 0.999),
                                         example_shape=(1,)))(kd)
  pc, closs = jax.jit(lambda k: train_critic(
      model, sample_pair, k, steps=steps, loss="wasserstein",
      optimizer=optax.chain(optax.rmsprop(1e-3), wj.clip_params(0.01)),
      example_shape=(1,)))(kc)
  x = np.linspace(-5, 5, 401, dtype=np.float32)
  xs = jnp.asarray(x)[:, None]
  d_fn = lambda p, v: jax.nn.sigmoid(model.apply(p, v[None, None])[0])
  f_fn = lambda p, v: model.apply(p, v[None, None])[0]
  d = np.asarray(jax.nn.sigmoid(model.apply(pd, xs)))
  f = np.asarray(model.apply(pc, xs))
  dd = np.abs(np.asarray(jax.vmap(jax.grad(lambda v: d_fn(pd, v)))(jnp.asarray(x))))
  df = np.abs(np.asarray(jax.vmap(jax.grad(lambda v: f_fn(pc, v)))(jnp.asarray(x))))
  pr, pg = scipy.stats.norm(REAL, STD).pdf(x), scipy.stats.norm(FAKE, STD).pdf(x)
  inner = (x >= INNER[0]) & (x <= INNER[1])
  slope, icpt = np.polyfit(x[inner], f[inner], 1)
  resid = f[inner] - (slope * x[inner] + icpt)
  r2 = 1 - resid.var() / f[inner].var()
  return dict(x=x, real_density=pr, fake_density=pg, discriminator=d, critic=f,
              discriminator_grad=dd, critic_grad=df, critic_linear_r2=r2,
              critic_slope=slope, steps=steps)


def _curves(numbers, *keys):
  """The stored curves `keys` as float arrays (a stored None is NaN)."""
  return tuple(np.asarray([_runner.value(v) for v in numbers[k]], float) for k in keys)


def _regions(x):
  """(where the fakes are: |x − FAKE| < STD, the inner interval)."""
  return np.abs(x - FAKE) < STD, (x >= INNER[0]) & (x <= INNER[1])


def judge(numbers):
  x, dd, df = _curves(numbers, "x", "discriminator_grad", "critic_grad")
  at_fake, inner = _regions(x)
  return {
      "the discriminator's gradient where the fakes are is < 1% of its peak":
          bool(dd[at_fake].max() < 0.01 * dd.max()),
      "the critic is close to linear on [-4, 4] (R² of a line > 0.95)":
          bool(_runner.value(numbers["critic_linear_r2"]) > 0.95),
      "the critic's gradient is useful everywhere on [-4, 4] (min > 10% of max)":
          bool(df[inner].min() > 0.1 * df[inner].max()),
  }


def plot(numbers):
  x, pr, pg, d, f, dd, df = _curves(numbers, "x", "real_density", "fake_density",
                                    "discriminator", "critic", "discriminator_grad",
                                    "critic_grad")
  fig, (a, b) = _common.subplots(1, 2, figsize=(11, 4))
  a.fill_between(x, pr / pr.max(), alpha=0.3, label="real density (scaled)")
  a.fill_between(x, pg / pg.max(), alpha=0.3, label="fake density (scaled)")
  a.plot(x, d, label="GAN discriminator D(x)")
  span = f.max() - f.min()
  a.plot(x, (f - f.min()) / span, label="WGAN critic f(x) (rescaled to [0, 1])")
  a.set_xlabel("x")
  a.legend(fontsize=8)
  b.semilogy(x, dd + 1e-12, label="|dD/dx|")
  b.semilogy(x, df / df.max(), label="|df/dx| (÷ max)")
  b.set_xlabel("x")
  b.set_title("gradients")
  b.legend(fontsize=8)
  return fig


def summary(numbers):
  x, dd, df = _curves(numbers, "x", "discriminator_grad", "critic_grad")
  at_fake, inner = _regions(x)
  return (f"|dD/dx| at the fakes ≤ {dd[at_fake].max():.2e} (peak {dd.max():.2e}); critic "
          f"linear R² {_runner.value(numbers['critic_linear_r2']):.3f}, gradient min/max "
          f"{df[inner].min() / df[inner].max():.2f}")


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
