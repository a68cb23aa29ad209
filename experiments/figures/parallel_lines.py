"""WGAN Example 1 and figure 1: distances between parallel lines.

P₀ is the law of (0, Z) and P_θ of (θ, Z), Z ~ U[0, 1]. Closed forms: W(P₀, P_θ) = |θ|,
JS = log 2 for θ ≠ 0 (0 at θ = 0), KL = +∞ for θ ≠ 0, TV = 1 for θ ≠ 0. Beside them: the
estimate of W by a critic trained with a gradient penalty, and the estimate of JS by a trained
discriminator ((log 4 − L_D)/2, a lower bound that saturates near log 2). All θ are trained at
once (`jax.vmap` over θ).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments.figures import _common
from experiments.figures import runner as _runner
from experiments.figures._common import train_critic
import wgan_jax as wj

NAME = "parallel_lines"
PAPER = ("WGAN fig. 1: W(P0, Pθ) = |θ| is continuous with a useful gradient; JS is log 2 for "
         "every θ ≠ 0 and jumps to 0 at θ = 0 (no gradient); KL = ∞, TV = 1.")


def closed_forms(theta: np.ndarray):
  theta = np.asarray(theta, float)
  nz = theta != 0
  return dict(w=np.abs(theta), js=np.where(nz, math.log(2), 0.0),
              kl=np.where(nz, math.inf, 0.0), tv=np.where(nz, 1.0, 0.0))


class Critic(nn.Module):
  width: int = 64

  @nn.compact
  def __call__(self, x):
    h = nn.relu(nn.Dense(self.width)(x))
    h = nn.relu(nn.Dense(self.width)(h))
    return nn.Dense(1)(h)[:, 0]


def estimates(thetas, key, *, steps: int, batch: int, width: int):
  critic = Critic(width)

  def pair(theta):
    def sample_pair(k):
      k0, k1 = jax.random.split(k)
      z0 = jax.random.uniform(k0, (batch, 1))
      z1 = jax.random.uniform(k1, (batch, 1))
      return (jnp.concatenate([jnp.zeros_like(z0), z0], 1),
              jnp.concatenate([jnp.full_like(z1, theta), z1], 1))
    return sample_pair

  def one(theta, k):
    kw, kj, ke = jax.random.split(k, 3)
    pw, _ = train_critic(critic, pair(theta), kw, steps=steps, loss="wasserstein",
                         optimizer=optax.adam(1e-3, 0.5, 0.9), gp_weight=10.0)
    pj, _ = train_critic(critic, pair(theta), kj, steps=steps, loss="minimax",
                         optimizer=optax.adam(1e-3, 0.5, 0.999))
    real, fake = jax.vmap(pair(theta))(jax.random.split(ke, 16))
    real, fake = real.reshape(-1, 2), fake.reshape(-1, 2)
    w = -wj.wasserstein_critic_loss(critic.apply(pw, real), critic.apply(pw, fake))
    ld = wj.minimax_discriminator_loss(critic.apply(pj, real), critic.apply(pj, fake))
    return w, (math.log(4) - ld) / 2

  keys = jax.random.split(key, len(thetas))
  w, js = jax.jit(jax.vmap(one))(jnp.asarray(thetas, jnp.float32), keys)
  return np.asarray(w), np.asarray(js)


SCALES = {
    # points: the θ grid on [-1, 1]; steps, batch, width: each critic's training
    "tiny": dict(points=5, steps=30, batch=256, width=16),
    "default": dict(points=11, steps=600, batch=256, width=64),
    "full": dict(points=21, steps=3000, batch=256, width=256),
}
FAR = 0.4  # "far" θ: |θ| ≥ FAR, where the discriminator's JS bound should be near log 2


def games(scale: str) -> list:
  """Trains no GAN: critics (and discriminators) fitted to two fixed parallel-line
  distributions; no generator step."""
  return []


def measure(config, seed: int):
  """Both estimates at every θ of the grid, beside the closed forms."""
  thetas = np.round(np.linspace(-1, 1, config["points"]), 6)
  w_hat, js_hat = estimates(thetas, jax.random.key(seed), steps=config["steps"],
                            batch=config["batch"], width=config["width"])
  return dict(theta=thetas, closed_form=closed_forms(thetas), w_estimate=w_hat,
              js_estimate=js_hat, critic_steps=config["steps"])


def _arrays(numbers):
  """θ, the W estimate and the JS estimate as float arrays (a stored None is NaN)."""
  return tuple(np.asarray([_runner.value(v) for v in numbers[k]], float)
               for k in ("theta", "w_estimate", "js_estimate"))


def judge(numbers):
  thetas, w_hat, js_hat = _arrays(numbers)
  far, zero = np.abs(thetas) >= FAR, thetas == 0
  return {
      "trained critic's W estimate within 0.1 of |θ| at every θ":
          bool(np.all(np.abs(w_hat - np.abs(thetas)) < 0.1)),
      "W estimate increases with |θ| (a usable gradient)":
          bool(np.corrcoef(np.abs(thetas), w_hat)[0, 1] > 0.95),
      "JS estimate saturates near log 2 for |θ| ≥ 0.4 (> 0.6)": bool(np.all(js_hat[far] > 0.6)),
      "JS estimate near 0 at θ = 0 (< 0.05)": bool(np.all(np.abs(js_hat[zero]) < 0.05)),
  }


def plot(numbers):
  thetas, w_hat, js_hat = _arrays(numbers)
  fig, (a, b) = _common.subplots(1, 2, figsize=(10, 3.8))
  fine = np.linspace(-1, 1, 401)
  a.plot(fine, np.abs(fine), label="W = |θ| (closed form)")
  a.plot(thetas, w_hat, "o", label="trained critic (WGAN-GP)")
  a.set_title("Earth mover (Wasserstein-1)")
  b.plot(fine[fine != 0], np.full((fine != 0).sum(), math.log(2)), label="JS = log 2 (θ ≠ 0)")
  b.plot([0], [0], "ks", label="JS = 0 at θ = 0")
  b.plot(thetas, js_hat, "o", label="trained discriminator (lower bound)")
  b.set_title("Jensen-Shannon")
  for ax in (a, b):
    ax.set_xlabel("θ")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
  return fig


def summary(numbers):
  thetas, w_hat, js_hat = _arrays(numbers)
  far, zero = np.abs(thetas) >= FAR, thetas == 0
  return (f"max |Ŵ − |θ|| = {np.max(np.abs(w_hat - np.abs(thetas))):.3f}; JS estimate "
          f"{js_hat[far].min():.3f}–{js_hat[far].max():.3f} for |θ| ≥ 0.4, "
          f"{float(js_hat[zero][0]):.3f} at θ = 0")


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
