"""Training throughput of the toy WGAN-GP step: per-step calls, fused, K per call, devices.

  python -m benchmarks.throughput                 # both sizes, writes runs/bench/throughput.json
  python -m benchmarks.throughput --sizes 64 --seconds 2

For each MLP width (512: the official toy MLP; 64: small, dispatch-bound) at batch 256 it
measures generator iterations per second (each = n_critic critic steps + 1 generator step) and
critic steps per second for
  (a) Python-driven calls: n_critic jitted critic_step calls + one generator_step call,
  (b) the fused step: n_critic critic steps by lax.scan + the generator step, one call,
  (b') the same with the critic loop unrolled,
  (c) K iterations per call (lax.scan over iterations); (c′) the same compiled with JAX's own
      CPU lowering of the threefry hash instead of the unrolled one `import wgan_jax` sets
      (wgan_jax/rng.py: the same bits),
  (d) pmap and shard_map over all local devices (K per call),
  ref: the same work as a plain JAX loop without this library (K per call), compiled as JAX
      alone compiles it; ref′ the same loop with the unrolled threefry,
with the compile time of each, and the achieved GFLOP/s against two measured float32 matmul
rates: a 2048² matmul (the machine's peak) and the model's own hidden-layer matmul
[batch, width] @ [width, width] (the best a step made of those matmuls could reach), and each
mode's speed over the plain JAX loop's. FLOPs per iteration come from XLA's cost analysis of the compiled critic and
generator steps (the double backward of the gradient penalty included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Callable, Dict, List, NoReturn

import jax
import jax.numpy as jnp
import optax

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.parallel import ParallelTrainer


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


def layer_matmul_gflops(batch: int, width: int, seconds: float = 2.0, chain: int = 200) -> float:
  """Measured rate of the model's own hidden-layer matmul, [batch, width] @ [width, width].

  A chain of `chain` dependent matmuls in one call, so dispatch does not count: the best a
  step made of this layer's matmuls could do on this machine (the width-64 matmuls are far
  below the 2048² rate).
  """
  a = jax.random.normal(jax.random.key(0), (batch, width), jnp.float32)
  w = jax.random.normal(jax.random.key(1), (width, width), jnp.float32) / width ** 0.5
  f = jax.jit(lambda a, w: jax.lax.scan(lambda x, _: ((x @ w) * 0.5, None), a, None,
                                        length=chain)[0])
  f(a, w).block_until_ready()
  reps, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds:
    f(a, w).block_until_ready()
    reps += 1
  return 2 * batch * width * width * chain * reps / (time.perf_counter() - t0) / 1e9


def plain_jax_loop(width: int, batch: int, K: int, n_critic: int = 5) -> Callable:
  """The same work written as a plain JAX loop, without this library: the reference the issue
  quotes. Toy WGAN-GP on 8 Gaussians, MLP 2 → width ×3 → 2 (critic → 1), λ 0.1, Adam(1e-4,
  0.5, 0.9), one key per step for the batch draws, K iterations per call by lax.scan."""

  def init(key, sizes):
    return [(jax.random.normal(jax.random.fold_in(key, i), (a, b)) / a ** 0.5, jnp.zeros(b))
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]

  def mlp(ps, x):
    for w, b in ps[:-1]:
      x = jax.nn.relu(x @ w + b)
    return x @ ps[-1][0] + ps[-1][1]

  angles = jnp.arange(8) * (jnp.pi / 4)
  centers = 2.0 * jnp.stack([jnp.cos(angles), jnp.sin(angles)], 1)
  opt = optax.adam(1e-4, 0.5, 0.9)

  def d_loss(dp, gp, key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    real = (centers[jax.random.randint(k1, (batch,), 0, 8)]
            + 0.02 * jax.random.normal(k2, (batch, 2))) / 1.414
    fake = mlp(gp, jax.random.normal(k3, (batch, 2)))
    eps = jax.random.uniform(k4, (batch, 1))
    x_hat = eps * real + (1 - eps) * fake
    g = jax.grad(lambda x: jnp.sum(mlp(dp, x)))(x_hat)
    penalty = jnp.mean((jnp.sqrt(jnp.sum(g * g, 1) + 1e-12) - 1) ** 2)
    return jnp.mean(mlp(dp, fake)) - jnp.mean(mlp(dp, real)) + 0.1 * penalty

  def iteration(carry, key):
    gp, gs, dp, ds = carry

    def critic(c, k):
      dp, ds = c
      u, ds = opt.update(jax.grad(d_loss)(dp, gp, k), ds, dp)
      return (optax.apply_updates(dp, u), ds), None

    (dp, ds), _ = jax.lax.scan(critic, (dp, ds), jax.random.split(key, n_critic))
    g_grad = jax.grad(lambda p: -jnp.mean(mlp(dp, mlp(p, jax.random.normal(
        jax.random.fold_in(key, n_critic), (batch, 2))))))(gp)
    u, gs = opt.update(g_grad, gs, gp)
    return (optax.apply_updates(gp, u), gs, dp, ds), None

  step = jax.jit(lambda c, key: jax.lax.scan(iteration, c, jax.random.split(key, K))[0])
  G = init(jax.random.key(0), [2, width, width, width, 2])
  D = init(jax.random.key(1), [2, width, width, width, 1])
  st = {"c": (G, opt.init(G), D, opt.init(D)), "n": 0}

  def call():
    st["c"] = step(st["c"], jax.random.key(st["n"]))
    st["n"] += 1
    return st["c"]
  return call


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

  def k_per_call_of(g):
    st["s"], stepK = state0, g.train_step(n, K)
    def k_per_call():
      st["s"], m = stepK(st["s"], key)
      return m
    return k_per_call
  add(f"c: {K} iterations per call", timed(k_per_call_of(gan), K, seconds))
  # The plain loop as a user of JAX alone runs it: JAX's own CPU lowering of threefry (a 5-trip
  # loop; `import wgan_jax` compiles it unrolled, wgan_jax/rng.py). Then both programs under
  # the other form, so the table separates the lowering from the library's own work.
  unrolled = wj.use_unrolled_threefry(False)
  add(f"ref: plain JAX loop, {K} per call", timed(plain_jax_loop(width, batch, K), K, seconds))
  add(f"c′: {K} per call, JAX's CPU threefry", timed(k_per_call_of(make()), K, seconds))
  wj.use_unrolled_threefry(bool(unrolled))
  add(f"ref′: plain JAX loop, {K}/call, unrolled", timed(plain_jax_loop(width, batch, K), K,
                                                         seconds))

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


# ------------------------------------------------------------------------ argument checks
def refuse(flag: str, message: str) -> NoReturn:
  """One-line `error: --flag: message` to stderr and exit 2: how bad arguments are reported."""
  print(f"error: {flag}: {message}", file=sys.stderr)
  raise SystemExit(2)


class OneLineParser(argparse.ArgumentParser):
  """argparse's own errors (an unknown flag, a non-number) as one line too, exit 2."""

  def error(self, message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_int(flag: str, value: int, minimum: int = 1) -> None:
  if value < minimum:
    refuse(flag, f"must be ≥ {minimum}, got {value}")


def check_seconds(flag: str, value: float, allow_zero: bool = False) -> None:
  if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
    refuse(flag, f"must be a finite number {'≥ 0' if allow_zero else '> 0'}, got {value:g}")


def check_out(path: str, flag: str = "--out") -> None:
  """Refuse an output path that could not be written, before any benchmark work: a folder, a
  path under a file, a place without write permission. Creates nothing that stays (the
  folders made for the probe are removed again; an existing file is opened for appending,
  which leaves it unchanged)."""
  if os.path.isdir(path) or path.endswith(("/", os.sep)):
    refuse(flag, f"{path} is a folder; name the JSON file to write")
  parent = os.path.dirname(os.path.abspath(path))
  made, d = [], parent
  while not os.path.exists(d):
    made.append(d)
    d = os.path.dirname(d)
  if not os.path.isdir(d):
    refuse(flag, f"cannot write {path}: {d} is a file, not a folder")
  try:
    os.makedirs(parent, exist_ok=True)
    existed = os.path.exists(path)
    with open(path, "a"):
      pass
    if not existed:
      os.remove(path)
  except OSError as e:
    refuse(flag, f"cannot write {path}: {e.strerror or e}")
  finally:
    for d in made:
      try:
        os.rmdir(d)
      except OSError:
        pass


def main(argv=None) -> int:
  p = OneLineParser(prog="python -m benchmarks.throughput", description=__doc__,
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
  for w in args.sizes:
    check_int("--sizes", w)
  check_int("--batch-size", args.batch_size)
  check_int("--iters-per-call", args.iters_per_call)
  check_seconds("--seconds", args.seconds)
  check_out(args.out)
  peak = matmul_gflops()
  layer_rate = {w: layer_matmul_gflops(args.batch_size, w) for w in args.sizes}
  rows = []
  for w in args.sizes:
    rows.extend(bench_size(w, args.batch_size, args.iters_per_call, args.seconds))
  device = jax.devices()[0]
  machine = dict(platform=device.platform, device_kind=device.device_kind,
                 devices=jax.device_count(), cpu_count=os.cpu_count(),
                 processor=platform.processor() or platform.machine(), jax=jax.__version__,
                 matmul_gflops=peak,
                 layer_matmul_gflops={str(w): r for w, r in layer_rate.items()})
  print(f"device: {device.device_kind} ×{jax.device_count()} ({device.platform}), jax "
        f"{jax.__version__}, float32 matmul 2048²: {peak:.0f} GFLOP/s; the layer's own matmul "
        + ", ".join(f"[{args.batch_size},{w}]@[{w},{w}]: {r:.0f} GFLOP/s"
                    for w, r in layer_rate.items()))
  header = (f"{'width':>5} {'mode':<34} {'dev':>3} {'G it/s':>9} {'D steps/s':>10} "
            f"{'1st call s':>10} {'GFLOP/s':>8} {'% matmul':>8} {'% layer':>8} {'/ plain':>7}")
  print(header)
  print("-" * len(header))
  for r in rows:
    plain = next(q for q in rows if q["width"] == r["width"] and q["mode"].startswith("ref"))
    r["fraction_of_matmul"] = r["gflops"] / peak
    r["fraction_of_layer_matmul"] = r["gflops"] / layer_rate[r["width"]]
    r["over_plain_jax"] = r["it_per_s"] / plain["it_per_s"]
    print(f"{r['width']:>5} {r['mode']:<34} {r['devices']:>3} {r['it_per_s']:>9.1f} "
          f"{r['critic_steps_per_s']:>10.1f} {r['first_call_s']:>10.2f} {r['gflops']:>8.1f} "
          f"{100 * r['fraction_of_matmul']:>7.1f}% {100 * r['fraction_of_layer_matmul']:>7.1f}% "
          f"{r['over_plain_jax']:>7.2f}")
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
