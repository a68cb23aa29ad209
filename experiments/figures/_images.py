"""Shared plumbing of the image figures: sizes per scale and a plain training loop on digits."""

from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import jax
import jax.numpy as jnp
import numpy as np


def make_gan(objective: str, shape, *, dim: int, batch_size: int = 64, latent_dim: int = 128,
             arch: str = "dcgan", **overrides):
  """A GAN on image arrays with the official per-objective defaults (`experiments.images`);
  "mix+OBJECTIVE" gives a MIX+GAN of `components` (default 5) generators and critics."""
  import wgan_jax as wj
  from experiments.images import make_models
  from wgan_jax.data.images import array_sampler
  from wgan_jax.mixture import DEFAULT_COMPONENTS, MixtureGAN, parse_objective
  objective, mixed = parse_objective(objective)
  components = overrides.pop("components", DEFAULT_COMPONENTS)
  config = wj.make_config(objective, batch_size=batch_size, latent_dim=latent_dim, **overrides)
  critic_norm = "none" if config.uses_gradient_penalty else "batch"
  generator, critic = make_models(arch, shape, dim=dim, gen_norm="batch",
                                  critic_norm=critic_norm)
  gan = wj.GAN(generator, critic, config, array_sampler)
  return MixtureGAN.from_gan(gan, components=components) if mixed else gan


def train(gan, data: np.ndarray, key, *, iters: int, eval_every: int,
          evaluate: Callable[[object, jax.Array, int], Dict[str, float]],
          block: Optional[int] = None) -> List[Dict]:
  """Train for `iters` generator iterations; `evaluate(state, key, it)` at 0 and every
  `eval_every`. Returns [{iteration, seconds (training only, compiles excluded), ...}]."""
  from wgan_jax import plan_blocks
  k_init, k_train, k_eval = jax.random.split(key, 3)
  data = jnp.asarray(data)
  state = jax.jit(gan.init)(k_init, data)
  evals = [dict(iteration=0, seconds=0.0, **evaluate(state, jax.random.fold_in(k_eval, 0), 0))]
  seconds, g = 0.0, 0
  compiled = {}
  while g < iters:
    stop = min(g + eval_every, iters)
    for n_critic, k in plan_blocks(gan.config, g, stop, block or eval_every):
      if (n_critic, k) not in compiled:  # compile outside the clock (wall-clock curves)
        compiled[n_critic, k] = gan.train_step(n_critic, k).lower(state, k_train, data).compile()
      step = compiled[n_critic, k]
      t0 = time.time()
      state, _ = step(state, k_train, data)
      jax.block_until_ready(state)
      seconds += time.time() - t0
      g += k
    evals.append(dict(iteration=g, seconds=seconds,
                      **evaluate(state, jax.random.fold_in(k_eval, g), g)))
  return evals, state
