"""The hybrid convolutions' per-layer choices (`wgan_jax.models.conv.hybrid_plan`) A/B-tested on
the whole 28×28 DCGAN WGAN-GP step (the Fashion-MNIST figures' models).

  python -m benchmarks.conv_plan --dim 16 --rounds 4 --seconds 6
  python -m benchmarks.conv_plan --dim 64 --rounds 4 --seconds 8 --variants default patches7

Each variant is `hybrid_plan` with one choice changed; every variant's fused step (batch 64,
n_critic 5, λ 10, Adam, 5 iterations per call) is compiled in one process, then timed in
alternating rounds, so the machine's drift hits all of them alike. Prints generator iterations
per second and each round's ratio to the first variant. The variants compute the same function
(the tests of `wgan_jax.models.conv` hold every form to flax's convolutions), in another
summation order: a run trained under one is not bit for bit a run trained under another.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Dict, Sequence

import jax

import wgan_jax as wj
from wgan_jax.models import conv
from wgan_jax.models.dcgan import DCGANCritic, DCGANGenerator

DEFAULT = conv.hybrid_plan


def _patches7(stride: int, k: int, out: int):
  """The input gradient of a strided layer whose output is 7×7 (or 6×6) as patches: the
  library's choice before the sub-pixel form replaced it there (measured with this benchmark)."""
  if k > 1 and stride > 1 and 4 <= out < 8:
    return "xla", "patches", "xla"
  return DEFAULT(stride, k, out)


def _patches_below(side: int, role: int) -> Callable:
  def plan(stride: int, k: int, out: int):
    forms = list(DEFAULT(stride, k, out))
    if out < side:
      forms[role] = "patches"
    return tuple(forms)
  return plan


VARIANTS: Dict[str, Callable] = {
    "default": DEFAULT,
    "patches7": _patches7,
    "patches_fwd7": _patches_below(8, 0),    # the forward pass of the 7×7 layers as patches
    "patches_gk7": _patches_below(8, 2),     # their kernel gradient as patches
    "patches_gk14": _patches_below(16, 2),   # ... and the 14×14 layers' too
}


def step_of(dim: int, data: jax.Array):
  gan = wj.GAN(DCGANGenerator(image_shape=(28, 28, 1), dim=dim, conv_impl="hybrid"),
               DCGANCritic(dim=dim, conv_impl="hybrid"),
               wj.make_config("wgan-gp", batch_size=64, n_critic=5),
               lambda d, k: d[jax.random.randint(k, (), 0, d.shape[0])])
  return gan.train_step(5, 5), gan.init(jax.random.key(0), data)


def measure(dim: int, names: Sequence[str], rounds: int, seconds: float, log=print) -> Dict:
  """{variant: [iterations per second, one per round]}."""
  data = jax.random.normal(jax.random.key(0), (512, 28, 28, 1))
  steps, found = {}, conv.hybrid_plan
  try:
    for name in names:
      conv.hybrid_plan = VARIANTS[name]   # read when the step is traced
      t = time.time()
      f, state = step_of(dim, data)
      state, _ = f(state, jax.random.key(1), data)
      jax.block_until_ready(state)
      steps[name] = [f, state]
      log(f"{name}: compiled and one call in {time.time() - t:.1f} s")
  finally:
    conv.hybrid_plan = found   # the plan as it was on entry
  rates = {n: [] for n in names}
  for r in range(rounds):
    for name in names:
      f, state = steps[name]
      calls, t0 = 0, time.time()
      while time.time() - t0 < seconds:
        state, _ = f(state, jax.random.key(2 + calls), data)
        jax.block_until_ready(state)
        calls += 1
      rates[name].append(5 * calls / (time.time() - t0))
      steps[name][1] = state
    log(f"round {r}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in rates.items()))
  return rates


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m benchmarks.conv_plan", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--dim", type=int, default=16, help="DCGAN base width (default 16, the "
                 "figures' CPU size; the official 64)")
  p.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
  p.add_argument("--seconds", type=float, default=6.0, help="seconds per variant per round "
                 "(default 6)")
  p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                 help="the plans to compare, the first the reference (default: all)")
  args = p.parse_args(argv)
  rates = measure(args.dim, args.variants, args.rounds, args.seconds)
  base = rates[args.variants[0]]
  for name, v in rates.items():
    print(f"{name:14s} best {max(v):.3f} it/s; per round / {args.variants[0]}: " +
          ", ".join(f"{a / b:.3f}" for a, b in zip(v, base)))
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
