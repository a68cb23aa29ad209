"""Training throughput of the toy WGAN-GP step: per-step calls, fused, K per call, devices.

  python -m benchmarks.throughput                 # both sizes, writes runs/bench/throughput.json
  python -m benchmarks.throughput --sizes 64 --seconds 2

For each MLP width (512: the official toy MLP; 64: small, dispatch-bound) at batch 256 it
measures generator iterations per second (each = n_critic critic steps + 1 generator step) and
critic steps per second for
  (a) Python-driven calls: n_critic jitted critic_step calls + one generator_step call,
  (b) the fused step: n_critic critic steps by lax.scan + the generator step, one call,
  (b') the same with the critic loop unrolled,
  (c) K iterations per call (lax.scan over iterations),
  (d) pmap and shard_map over all local devices (K per call),
with the compile time of each, and the achieved GFLOP/s against the machine's measured float32
matmul rate. FLOPs per iteration come from XLA's cost analysis of the compiled critic and
generator steps (the double backward of the gradient penalty included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Callable, Dict, List

import jax
import jax.numpy as jnp


def matmul_gflops(n: int = 2048, seconds: float = 2.0) -> float:
  """Measured float32 matmul rate (GFLOP/s) of the default device."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda x: x @ x)
  f(a).block_until_ready()
  reps, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds:
    f(a).block_until_ready()
    reps += 1
  return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def flops_of(fn: Callable, *args) -> float:
  analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
  if isinstance(analysis, list):
    analysis = analysis[0]
  return float(analysis.get("flops", float("nan")))


def timed(call: Callable[[], object], iterations_per_call: int, seconds: float) -> Dict:
  t0 = time.perf_counter()
  jax.block_until_ready(call())
  compile_s = time.perf_counter() - t0
  jax.block_until_ready(call())  # one more warm call
  calls, t0 = 0, time.perf_counter()
  out = None
  while time.perf_counter() - t0 < seconds or calls < 2:
    out = call()
    calls += 1
  jax.block_until_ready(out)
  dt = time.perf_counter() - t0
  return dict(first_call_s=compile_s, it_per_s=calls * iterations_per_call / dt)


def bench_size(width: int, batch: int, K: int, seconds: float) -> List[Dict]:
  import wgan_jax as wj
  from wgan_jax.data import make_toy_dataset
  from wgan_jax.models import MLPCritic, MLPGenerator
  from wgan_jax.parallel import ParallelTrainer

  ds = make_toy_dataset("8gaussians")
  cfg = wj.make_config("wgan-gp", gp_weight=0.1, batch_size=batch)
  make = lambda unroll=False: wj.GAN(MLPGenerator(width=width), MLPCritic(width=width), cfg,
                                     lambda d, k: ds.sample_one(k), unroll_critic=unroll)
  gan = make()
  n = cfg.n_critic
  key = jax.random.key(1)
  state0 = gan.init(jax.random.key(0))
  flops_iter = (n * flops_of(lambda s, k: gan.critic_step_fn(s, k), state0, key)
                + flops_of(lambda s, k: gan.generator_step_fn(s, k), state0, key))
  rows = []

  def add(mode, result, devices=1):
    rows.append(dict(width=width, batch=batch, mode=mode, devices=devices, **result,
                     critic_steps_per_s=result["it_per_s"] * n,
                     gflops=result["it_per_s"] * flops_iter / 1e9,
                     gflop_per_iteration=flops_iter / 1e9))

  st = {"s": state0}

  def per_step():
    s = st["s"]
    for _ in range(n):
      s, _ = gan.critic_step(s, key)
    s, m = gan.generator_step(s, key)
    st["s"] = s
    return m
  add("a: python per-step calls", timed(per_step, 1, seconds))

  for label, g in (("b: fused lax.scan", gan), ("b': fused, critic loop unrolled", make(True))):
    st["s"] = state0
    step = g.train_step(n, 1)
    def fused(step=step):
      st["s"], m = step(st["s"], key)
      return m
    add(label, timed(fused, 1, seconds))

  st["s"] = state0
  stepK = gan.train_step(n, K)
  def k_per_call():
    st["s"], m = stepK(st["s"], key)
    return m
  add(f"c: {K} iterations per call", timed(k_per_call, K, seconds))

  ndev = jax.local_device_count()
  if ndev > 1 and batch % ndev == 0:
    for backend in ("pmap", "shard_map"):
      trainer = ParallelTrainer(gan, backend)
      pst = {"s": trainer.put(state0)}
      pstep = trainer.train_step(n, K)
      def par(pstep=pstep, pst=pst):
        pst["s"], m = pstep(pst["s"], key)
        return m
      add(f"d: {backend}, {K} per call", timed(par, K, seconds), devices=ndev)
  return rows


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--sizes", type=int, nargs="+", default=[512, 64],
                 help="MLP widths to measure (default 512 64)")
  p.add_argument("--batch-size", type=int, default=256, help="batch size (default 256)")
  p.add_argument("--iters-per-call", type=int, default=20,
                 help="K for the K-iterations-per-call and device modes (default 20)")
  p.add_argument("--seconds", type=float, default=4.0,
                 help="measuring time per mode, after two warm calls (default 4)")
  p.add_argument("--out", default="runs/bench/throughput.json", help="JSON output path")
  args = p.parse_args(argv)
  peak = matmul_gflops()
  rows = []
  for w in args.sizes:
    rows.extend(bench_size(w, args.batch_size, args.iters_per_call, args.seconds))
  device = jax.devices()[0]
  machine = dict(platform=device.platform, device_kind=device.device_kind,
                 devices=jax.device_count(), cpu_count=os.cpu_count(),
                 processor=platform.processor() or platform.machine(), jax=jax.__version__,
                 matmul_gflops=peak)
  print(f"device: {device.device_kind} ×{jax.device_count()} ({device.platform}), jax "
        f"{jax.__version__}, float32 matmul {peak:.0f} GFLOP/s")
  header = (f"{'width':>5} {'mode':<34} {'dev':>3} {'G it/s':>9} {'D steps/s':>10} "
            f"{'1st call s':>10} {'GFLOP/s':>8} {'% matmul':>8}")
  print(header)
  print("-" * len(header))
  for r in rows:
    r["fraction_of_matmul"] = r["gflops"] / peak
    print(f"{r['width']:>5} {r['mode']:<34} {r['devices']:>3} {r['it_per_s']:>9.1f} "
          f"{r['critic_steps_per_s']:>10.1f} {r['first_call_s']:>10.2f} {r['gflops']:>8.1f} "
          f"{100 * r['fraction_of_matmul']:>7.1f}%")
  for w in args.sizes:
    r = next(r for r in rows if r["width"] == w)
    print(f"width {w}: {r['gflop_per_iteration']:.3f} GFLOP per generator iteration")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(dict(machine=machine, rows=rows), f, indent=1)
  print(f"wrote {args.out}")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
