"""Shared plumbing of the figure scripts: the CLI, a small critic trainer, and the outputs."""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable, Dict

import jax
import jax.numpy as jnp
import optax

from experiments import common


def figure_main(name: str, doc: str, run: Callable, argv=None) -> int:
  p = argparse.ArgumentParser(prog=f"python -m experiments.figures.{name}", description=doc,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", default="runs/figures",
                 help=f"output folder for {name}.png and {name}.json (default runs/figures)")
  p.add_argument("--full", action="store_true",
                 help="the paper's sizes (for an accelerator) instead of the CPU default")
  p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  args = p.parse_args(argv)
  t0 = time.time()
  result = run(args.out, full=args.full, seed=args.seed)
  print(f"{name}: {result['summary']} ({time.time() - t0:.0f} s)")
  for claim, ok in result["checks"].items():
    print(f"  [{'yes' if ok else 'NO '}] {claim}")
  print(f"wrote {os.path.join(args.out, name)}.png and .json")
  return 0


def save(out: str, name: str, fig, numbers: Dict, checks: Dict[str, bool], summary: str,
         paper: str) -> Dict:
  os.makedirs(out, exist_ok=True)
  fig.savefig(os.path.join(out, f"{name}.png"), dpi=110)
  common.matplotlib_pyplot().close(fig)
  result = dict(name=name, paper=paper, summary=summary,
                checks={k: bool(v) for k, v in checks.items()}, numbers=numbers)
  common.write_json(os.path.join(out, f"{name}.json"), result)
  return result


def train_critic(critic, sample_pair: Callable, key, *, steps: int, loss: str,
                 optimizer: optax.GradientTransformation, gp_weight: float = 0.0,
                 example_shape=(2,)):
  """Train `critic` to (near) optimality against fixed real/fake samplers; returns params.

  sample_pair(key) -> (real [B, ...], fake [B, ...]); loss "wasserstein" or "minimax".
  Pure and jit-compiled (a `lax.scan` over steps), so it can be vmapped over keys or data.
  """
  import wgan_jax as wj
  k_init, k_train = jax.random.split(key)
  params = critic.init(k_init, jnp.zeros((1,) + tuple(example_shape)))
  opt_state = optimizer.init(params)

  def loss_fn(p, real, fake, k):
    f = lambda x: critic.apply(p, x)
    if loss == "wasserstein":
      out = wj.wasserstein_critic_loss(f(real), f(fake))
    else:
      out = wj.minimax_discriminator_loss(f(real), f(fake))
    if gp_weight:
      out = out + gp_weight * wj.gradient_penalty(f, real, fake, k)
    return out

  def step(carry, i):
    p, s = carry
    k = jax.random.fold_in(k_train, i)
    real, fake = sample_pair(jax.random.fold_in(k, 0))
    l, g = jax.value_and_grad(loss_fn)(p, real, fake, jax.random.fold_in(k, 1))
    u, s = optimizer.update(g, s, p)
    return (optax.apply_updates(p, u), s), l

  (params, _), losses = jax.lax.scan(step, (params, opt_state), jnp.arange(steps))
  return params, losses
