"""Speed of the DCGAN WGAN-GP step: JAX (this library) against the same step in PyTorch eager.

  python -m benchmarks.dcgan                          # CIFAR size + digits size, writes JSON
  python -m benchmarks.dcgan --image-shape 32 32 3 --seconds 2 --rounds 5
  python -m benchmarks.dcgan --no-torch               # the JAX half only
  python -m benchmarks.dcgan --roles --impls hybrid patches xla   # each conv, each role
  python -m benchmarks.dcgan --arch mnist --torch-compile   # gan_mnist's models, 28×28×1

The step is WGAN-GP (Gulrajani et al. 2017, Algorithm 1; λ 10, n_critic 5, Adam 1e-4 β (0.5,
0.9)) with the official DCGAN layouts of `wgan_jax.models.dcgan`: generator Dense → BatchNorm →
ReLU → 5×5 stride-2 transposed convolutions (BatchNorm + ReLU between) → tanh; critic 5×5
stride-2 convolutions with LeakyReLU 0.2 → Dense 1, no normalisation. The default sizes are the
issue's "DCGAN-size" (32×32×3, dim 64, batch 64: the official CIFAR-10 model) and the digits
size our image experiment trains by default (8×8×1, dim 64, batch 64). Real examples are drawn
inside the step from an array of random images (the data do not change the arithmetic).

Measured: generator iterations per second (one iteration = n_critic critic steps, each with the
penalty's double backward, + one generator step) and GFLOP/s, for the JAX modes
  a   Python-driven: n_critic jitted critic_step calls + one generator_step call,
  b   fused: n_critic critic steps by lax.scan + the generator step, one call,
  b'  fused with the critic loop unrolled (GAN(..., unroll_critic=True)),
  c   K iterations per call (lax.scan over iterations; --iters-per-call),
  r   (opt-in) S independent runs at once, `IndependentRuns` (vmap over the seeds; --seeds),
      K iterations per call, counted per seed: S × K generator iterations per call; what a
      figure that trains S seeds gains by training them in one program. It is not a faster
      single run, so the "JAX-best / PyTorch" ratios leave it out and print its own.
each with the convolutions of `wgan_jax.models.conv`: "hybrid" (the CPU default: each
derivative in its fastest form), "patches" (shifted slices + one matmul) and "xla" (XLA's own
convolutions); and for the same step written in PyTorch eager (torch.nn,
NCHW, torch.autograd.grad(create_graph=True) for the penalty, torch.optim.Adam, all CPU threads)
and, with --torch-compile, with its critic step compiled (torch.compile of a torch.func.grad of
the functional loss, the penalty's input gradient a nested torch.func.grad). --arch mnist
measures gan_mnist.py's models (WGAN-GP mode) instead of the DCGAN pair.
PyTorch is optional: without it the script says so and measures JAX only.

FLOPs per iteration come from XLA's cost analysis of the compiled critic_step_fn × n_critic +
generator_step_fn of each conv impl. The counts differ: the patches form multiplies the zeros
that a transposed convolution inserts between input pixels (its matmul runs over the
zero-interleaved input), so its count includes work a direct convolution skips. The PyTorch
row's GFLOP/s uses the "xla" count (direct convolutions, as PyTorch computes them) when "xla"
is measured, else the first impl's.

Fairness on a shared machine: every variant is compiled and warmed first, then the variants are
measured in turn, `--rounds` times, in a rotated order, each for `--seconds`. The table gives the
best and the median over rounds, and the ratio JAX-best / PyTorch (in it/s, > 1: JAX is faster)
is taken within each round (the best JAX variant of that round against PyTorch of that round),
so slow phases of a shared CPU hit both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

import wgan_jax as wj
from benchmarks.throughput import (OneLineParser, check_int, check_out, check_seconds,
                                   matmul_gflops, refuse)
from wgan_jax.data.images import array_sampler
from wgan_jax.models import DCGANCritic, DCGANGenerator, MNISTCritic, MNISTGenerator
from wgan_jax.models.conv import conv2d, conv2d_transpose
from wgan_jax.models.dcgan import stages_for

IMPLS = ("hybrid", "patches", "xla")
MODES = ("a", "b", "b'", "c", "r")
DEFAULT_MODES = ("a", "b", "b'", "c")
TORCH = "torch"


# ------------------------------------------------------------------------------------ timing
def progress(msg: str) -> None:
  print(msg, file=sys.stderr, flush=True)


def run_for(call: Callable[[], object], iterations_per_call: int, seconds: float) -> float:
  """Generator iterations per second of `call` over about `seconds` (at least 2 calls)."""
  calls, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds or calls < 2:
    # block on every call: these calls take 0.1-10 s, and unblocked ones queue up far past
    # `seconds` (JAX dispatches asynchronously)
    jax.block_until_ready(call())
    calls += 1
  return calls * iterations_per_call / (time.perf_counter() - t0)


class Variant:
  """One measured thing: a warm call that advances its own state, and its results."""

  def __init__(self, size: str, impl: str, mode: str, call: Callable[[], object],
               iterations_per_call: int, gflop_per_iteration: float,
               setup: Callable[[], None] = lambda: None):
    self.size, self.impl, self.mode, self.call, self.setup = size, impl, mode, call, setup
    setup()
    self.iterations_per_call = iterations_per_call
    self.gflop_per_iteration = gflop_per_iteration
    t0 = time.perf_counter()
    jax.block_until_ready(call())  # compile (JAX) or first call
    self.first_call_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(call())  # one more warm call
    progress(f"  {size} {impl} {mode}: first call {self.first_call_s:.1f} s, warm call "
             f"{time.perf_counter() - t0:.2f} s")
    self.rounds: List[float] = []

  def measure(self, seconds: float) -> float:
    self.setup()
    r = run_for(self.call, self.iterations_per_call, seconds)
    self.rounds.append(r)
    progress(f"  {self.size} {self.impl} {self.mode}: {r:.3f} it/s")
    return r


# ------------------------------------------------------------------------------------ JAX
def cost_flops(compiled) -> float:
  """FLOPs of a compiled program by XLA's cost analysis (nan when it gives none)."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, list):
    analysis = analysis[0]
  return float((analysis or {}).get("flops", float("nan")))


def jax_models(arch: str, image_shape, dim: int, impl: str):
  """(generator, critic) of the measured step: "dcgan" (`wgan_jax.models.dcgan`, G with
  BatchNorm) or "mnist" (gan_mnist.py's models in its WGAN-GP mode, no normalisation)."""
  if arch == "mnist":
    return (MNISTGenerator(dim=dim, norm="none", conv_impl=impl),
            MNISTCritic(dim=dim, norm="none", conv_impl=impl))
  return (DCGANGenerator(image_shape=tuple(image_shape), dim=dim, norm="batch", conv_impl=impl),
          DCGANCritic(dim=dim, norm="none", conv_impl=impl))


def jax_variants(size: str, image_shape: Tuple[int, int, int], dim: int, batch: int,
                 latent: int, K: int, impls: Sequence[str],
                 n_critic: int = 5, modes: Sequence[str] = DEFAULT_MODES,
                 arch: str = "dcgan", seeds: int = 3) -> Tuple[List[Variant], Dict]:

  cfg = wj.make_config("wgan-gp", batch_size=batch, latent_dim=latent, n_critic=n_critic)
  n = cfg.n_critic
  data = jnp.clip(jax.random.normal(jax.random.key(2), (512,) + tuple(image_shape)), -1, 1)
  key = jax.random.key(1)
  variants, flops = [], {}
  state0 = None
  for impl in impls:
    def make(unroll=False, impl=impl):
      return wj.GAN(*jax_models(arch, image_shape, dim, impl), cfg, array_sampler,
                    unroll_critic=unroll)
    gan = make()
    if state0 is None:  # one compiled init (eager init runs many tiny ops); both conv impls
      state0 = jax.jit(gan.init)(jax.random.key(0), data)  # have the same parameter layout
    # the per-step programs, compiled once: their cost analysis gives the FLOPs, and they are
    # what mode a calls (the executables `gan.critic_step` / `gan.generator_step` would build)
    t0 = time.perf_counter()
    critic = jax.jit(gan.critic_step_fn).lower(state0, key, data).compile()
    generator = jax.jit(gan.generator_step_fn).lower(state0, key).compile()
    compile_s = time.perf_counter() - t0
    progress(f"  {size} {impl}: critic_step + generator_step compiled in {compile_s:.1f} s")
    gflop = (n * cost_flops(critic) + cost_flops(generator)) / 1e9
    flops[impl] = gflop

    st = {"s": state0}

    def per_step(critic=critic, generator=generator, st=st):
      s = st["s"]
      for _ in range(n):
        s, _ = critic(s, key, data)
      st["s"], m = generator(s, key)
      return m
    if "a" in modes:
      v = Variant(size, impl, "a: python per-step calls", per_step, 1, gflop)
      v.first_call_s += compile_s
      variants.append(v)

    for label, g, iters in (("b: fused lax.scan", gan, 1),
                            ("b': fused, critic loop unrolled", make(True), 1),
                            (f"c: {K} iterations per call", gan, K)):
      if label.split(":")[0] not in modes:
        continue
      step = g.train_step(n, iters)
      st = {"s": state0}

      def fused(step=step, st=st):
        st["s"], m = step(st["s"], key, data)
        return m
      variants.append(Variant(size, impl, label, fused, iters, gflop))
    if "r" in modes:   # S seeds in one program; it/s counts generator iterations of every seed
      runs = wj.IndependentRuns(gan)
      keys = jax.random.split(jax.random.key(0), seeds)
      st = {"s": jax.jit(lambda k: runs.init(k, data))(keys)}
      step = runs.train_step(n, K)
      run_keys = jax.random.split(key, seeds)

      def at_once(step=step, st=st, run_keys=run_keys):
        st["s"], m = step(st["s"], run_keys, data)
        return m
      variants.append(Variant(size, impl, f"r: {seeds} seeds at once, {K}/call, per seed",
                              at_once, seeds * K, gflop))
  return variants, flops


# ------------------------------------------------------------------------------------ PyTorch
def torch_available() -> Optional[str]:
  try:
    import torch
    return torch.__version__
  except Exception:  # noqa: BLE001 - any import failure means: measure JAX only
    return None


def torch_stages(h: int, w: int) -> int:
  return stages_for((h, w))


def torch_mnist_models(dim: int, latent: int):
  """gan_mnist.py's generator and critic (its WGAN-GP mode: no normalisation), as
  wgan_jax.models.mnist writes them, in torch.nn (NCHW): G Linear → ReLU → 4·4·4dim → three 5×5
  stride-2 transposed convolutions (the official crop to 7×7 after the first) → 2·σ − 1; D three
  5×5 stride-2 convolutions with LeakyReLU 0.2 → Linear 1."""
  import torch
  from torch import nn

  up = lambda a, b: nn.ConvTranspose2d(a, b, 5, stride=2, padding=2, output_padding=1)

  class Generator(nn.Module):
    def __init__(self):
      super().__init__()
      self.dense = nn.Linear(latent, 4 * 4 * 4 * dim)
      self.up1, self.up2, self.up3 = up(4 * dim, 2 * dim), up(2 * dim, dim), up(dim, 1)

    def forward(self, z):
      x = torch.relu(self.dense(z)).view(z.shape[0], 4 * dim, 4, 4)
      x = torch.relu(self.up1(x))[:, :, :7, :7]
      x = torch.relu(self.up2(x))
      return 2 * torch.sigmoid(self.up3(x)) - 1

  critic = nn.Sequential(
      nn.Conv2d(1, dim, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
      nn.Conv2d(dim, 2 * dim, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
      nn.Conv2d(2 * dim, 4 * dim, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
      nn.Flatten(), nn.Linear(4 * 4 * 4 * dim, 1))
  return Generator(), critic


def torch_models(image_shape, dim: int, latent: int, arch: str = "dcgan"):
  """The same generator and critic as wgan_jax.models.dcgan (or, with arch "mnist", as
  wgan_jax.models.mnist), in torch.nn (NCHW)."""
  import torch
  from torch import nn

  if arch == "mnist":
    gen, critic = torch_mnist_models(dim, latent)
    for m in list(gen.modules()) + list(critic.modules()):
      if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    return gen, critic

  h, w, c = image_shape
  k = torch_stages(h, w)
  h0, w0, c0 = h // 2 ** k, w // 2 ** k, dim * 2 ** (k - 1)

  class Generator(nn.Module):
    def __init__(self):
      super().__init__()
      self.dense = nn.Linear(latent, h0 * w0 * c0)
      self.bn0 = nn.BatchNorm2d(c0, momentum=0.1)  # flax momentum 0.9 = torch 0.1
      ups = []
      ch = c0
      for i in range(k - 1, 0, -1):
        out = dim * 2 ** (i - 1)
        ups += [nn.ConvTranspose2d(ch, out, 5, stride=2, padding=2, output_padding=1),
                nn.BatchNorm2d(out, momentum=0.1), nn.ReLU()]
        ch = out
      ups += [nn.ConvTranspose2d(ch, c, 5, stride=2, padding=2, output_padding=1), nn.Tanh()]
      self.ups = nn.Sequential(*ups)

    def forward(self, z):
      x = self.dense(z).view(z.shape[0], c0, h0, w0)
      return self.ups(torch.relu(self.bn0(x)))

  layers = []
  ch = c
  for i in range(k):
    layers += [nn.Conv2d(ch, dim * 2 ** i, 5, stride=2, padding=2), nn.LeakyReLU(0.2)]
    ch = dim * 2 ** i
  critic = nn.Sequential(*layers, nn.Flatten(), nn.Linear(h0 * w0 * ch, 1))
  gen = Generator()
  for m in list(gen.modules()) + list(critic.modules()):  # N(0, 0.02) weights, as ours
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      nn.init.normal_(m.weight, 0.0, 0.02)
      nn.init.zeros_(m.bias)
  return gen, critic


def torch_variant(size: str, image_shape, dim: int, batch: int, latent: int, n_critic: int,
                  gp_weight: float, gflop: float, threads: int, arch: str = "dcgan",
                  compiled: bool = False) -> Variant:
  """The WGAN-GP iteration in PyTorch: eager, or (`compiled`) with the critic step's loss and
  gradient as one `torch.compile`d `torch.func.grad` of a functional loss (the penalty's input
  gradient by a nested `torch.func.grad`: double backward through autograd.grad is not
  compiled) and torch.optim.Adam applying it; the generator step stays eager."""
  import torch

  setup = lambda: torch.set_num_threads(threads)
  setup()
  torch.manual_seed(0)
  h, w, c = image_shape
  data = torch.randn(512, c, h, w).clamp_(-1, 1)
  gen, critic = torch_models(image_shape, dim, latent, arch)
  gen.train(), critic.train()
  opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.5, 0.9))
  opt_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
  params = dict(critic.named_parameters())

  def d_loss(p, real, fake, eps):
    f = lambda x: torch.func.functional_call(critic, p, (x,))
    x_hat = eps * real + (1 - eps) * fake
    grad = torch.func.grad(lambda x: f(x).sum())(x_hat)
    gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return f(fake).mean() - f(real).mean() + gp_weight * gp

  d_grads = torch.compile(torch.func.grad(d_loss)) if compiled else None

  def critic_step(real, fake):
    eps = torch.rand(batch, 1, 1, 1)
    if compiled:
      grads = d_grads({k: v.detach() for k, v in params.items()}, real, fake, eps)
      for k, v in params.items():
        v.grad = grads[k]
    else:
      d_real, d_fake = critic(real).mean(), critic(fake).mean()
      x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
      grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
      gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
      loss = d_fake - d_real + gp_weight * gp
      opt_d.zero_grad(set_to_none=True)
      loss.backward()
    opt_d.step()

  def iteration():
    for p in critic.parameters():
      p.requires_grad_(True)
    for _ in range(n_critic):
      real = data[torch.randint(0, data.shape[0], (batch,))]
      with torch.no_grad():
        fake = gen(torch.randn(batch, latent))
      critic_step(real, fake)
    for p in critic.parameters():  # the generator step differentiates G's parameters only
      p.requires_grad_(False)
    g_loss = -critic(gen(torch.randn(batch, latent))).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return None

  kind = "torch.compile critic step" if compiled else "pytorch eager"
  v = Variant(size, TORCH, f"{kind}, {threads} thread{'s' * (threads > 1)}", iteration, 1,
              gflop, setup)
  v.torch_models = (gen, critic)   # for the tests: the trained modules
  return v


def torch_matmul_gflops(n: int = 2048, seconds: float = 2.0, threads: int = 1) -> float:
  import torch
  torch.set_num_threads(threads)
  a = torch.randn(n, n)
  a @ a
  reps, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds:
    a @ a
    reps += 1
  return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


# ------------------------------------------------------------------------------------ roles
def conv_layers(image_shape, dim: int) -> List[Tuple[str, int, int, int, int]]:
  """(op, input side, C_in, C_out, stride) of every 5×5 convolution of the DCGAN pair."""
  h, _, c = image_shape
  k = stages_for(image_shape[:2])
  crit = [("conv", h // 2 ** i, c if i == 0 else dim * 2 ** (i - 1), dim * 2 ** i, 2)
          for i in range(k)]
  gen = [("conv_transpose", h // 2 ** (i + 1), dim * 2 ** i, dim * 2 ** (i - 1) if i else c, 2)
         for i in range(k - 1, -1, -1)]
  return crit + gen


def time_call(f: Callable, *args, seconds: float = 0.5) -> float:
  """Milliseconds per warm call of f(*args)."""
  jax.block_until_ready(f(*args))
  jax.block_until_ready(f(*args))
  return 1e3 / run_for(lambda: f(*args), 1, seconds)


def roles_table(image_shape, dim: int, batch: int, impls: Sequence[str], seconds: float,
                in_scan: bool) -> List[Dict]:
  """ms of y = B(x, k), x̄ = B_x(ȳ, k) and k̄ = B_k(x, ȳ) per layer and conv impl.

  With `in_scan` each call runs inside a length-1 `lax.scan`, as the fused training step does
  (XLA:CPU compiles some convolutions differently inside loop bodies).
  """
  rows = []
  for op, side, cin, cout, s in conv_layers(image_shape, dim):
    x = jax.random.normal(jax.random.key(0), (batch, side, side, cin))
    k = 0.05 * jax.random.normal(jax.random.key(1), (5, 5, cin, cout))
    row = dict(op=op, input=[batch, side, side, cin], c_out=cout, stride=s)
    for impl in impls:
      f = ((lambda x, k, impl=impl: conv2d(x, k, s, impl)) if op == "conv" else
           (lambda x, k, impl=impl: conv2d_transpose(x, k, s, impl)))
      dy = jnp.ones_like(jax.eval_shape(f, x, k))
      fns = dict(
          fwd=(f, (x, k)),
          grad_x=(lambda dy, k, f=f: jax.vjp(lambda x_: f(x_, k), x)[1](dy)[0], (dy, k)),
          grad_k=(lambda x, dy, f=f: jax.vjp(lambda k_: f(x, k_), k)[1](dy)[0], (x, dy)))
      for role, (fn, args) in fns.items():
        if in_scan:
          fn = (lambda fn: lambda *a: jax.lax.scan(lambda c, _: (c, fn(*a)), 0, None,
                                                    length=1)[1])(fn)
        row[f"{impl}_{role}_ms"] = time_call(jax.jit(fn), *args, seconds=seconds)
      progress(f"  {op} {row['input']} -> {cout} {impl}: " + ", ".join(
          f"{r} {row[f'{impl}_{r}_ms']:.1f} ms" for r in ("fwd", "grad_x", "grad_k")))
    rows.append(row)
  return rows


def print_roles(rows: List[Dict], impls: Sequence[str]) -> None:
  header = f"{'layer':<34} " + " ".join(f"{i + ' ' + r:>16}" for i in impls
                                        for r in ("fwd", "grad_x", "grad_k"))
  print(header)
  print("-" * len(header))
  for r in rows:
    name = f"{r['op']} {'x'.join(map(str, r['input'][1:]))}->{r['c_out']}"
    print(f"{name:<34} " + " ".join(f"{r[f'{i}_{x}_ms']:>13.1f} ms" for i in impls
                                    for x in ("fwd", "grad_x", "grad_k")))


# ------------------------------------------------------------------------------------ main
def _seeds(mode: str) -> bool:
  """Mode r: several seeds at once, not a single run's step."""
  return mode.startswith("r:")


def _compiled(mode: str) -> bool:
  return mode.startswith("torch.compile")


def size_name(shape, dim, batch, arch: str = "dcgan") -> str:
  return (f"{'mnist ' if arch == 'mnist' else ''}{shape[0]}x{shape[1]}x{shape[2]} d{dim} "
          f"b{batch}")


def main(argv=None) -> int:
  p = OneLineParser(prog="python -m benchmarks.dcgan", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--image-shape", type=int, nargs=3, action="append", metavar=("H", "W", "C"),
                 help="image size to measure; repeat the option for several sizes (default: "
                      "32 32 3, the DCGAN/CIFAR size, and 8 8 1, the digits size)")
  p.add_argument("--arch", choices=("dcgan", "mnist"), default="dcgan",
                 help="the models: dcgan (wgan_jax.models.dcgan, sized to the images) or mnist "
                      "(gan_mnist.py's, WGAN-GP mode, 28×28×1 only: the Fashion-MNIST "
                      "figures' critic_overfitting models); default dcgan")
  p.add_argument("--torch-compile", action="store_true",
                 help="also a PyTorch row with the critic step compiled (torch.compile of a "
                      "torch.func.grad; the generator step eager), at the first "
                      "--torch-threads value; compiling takes a minute or more per size")
  p.add_argument("--dim", type=int, default=64,
                 help="model width: the critic's first conv has dim maps, the generator's "
                      "coarsest 4·dim (default 64, the official models)")
  p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
  p.add_argument("--latent-dim", type=int, default=128, help="latent size (default 128)")
  p.add_argument("--n-critic", type=int, default=5,
                 help="critic steps per generator iteration (default 5, WGAN-GP's)")
  p.add_argument("--iters-per-call", type=int, default=5,
                 help="K for mode c, generator iterations per call (default 5)")
  p.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS),
                 help="JAX conv implementations to measure (default: hybrid patches xla)")
  p.add_argument("--modes", nargs="+", choices=MODES, default=list(DEFAULT_MODES),
                 help="JAX modes to measure: a per-step calls, b fused scan, b' fused unrolled, "
                      "c K iterations per call, r --seeds independent runs at once "
                      "(IndependentRuns), K per call, counted per seed (default: a b b' c)")
  p.add_argument("--seeds", type=int, default=3,
                 help="S, the independent runs mode r trains at once (default 3)")
  p.add_argument("--seconds", type=float, default=4.0,
                 help="measuring time of each variant in each round, after compiling and two "
                      "warm calls (default 4; a variant always makes at least 2 calls)")
  p.add_argument("--rounds", type=int, default=3,
                 help="measuring rounds; all variants of a size are measured once per round, "
                      "in an order rotated by one each round (default 3)")
  p.add_argument("--torch-threads", type=int, nargs="+", default=None,
                 help="torch.set_num_threads values, one PyTorch row each (default: "
                      "os.cpu_count(), then 1 when that is more than 1: on a CPU shared with "
                      "other jobs PyTorch's OpenMP threads can be far slower than one thread)")
  p.add_argument("--no-torch", action="store_true",
                 help="skip the PyTorch eager rows even if torch is installed")
  p.add_argument("--matmul-seconds", type=float, default=2.0,
                 help="time spent measuring the float32 2048² matmul rate of JAX and of torch "
                      "(each; default 2; 0 skips it)")
  p.add_argument("--roles", action="store_true",
                 help="instead of the training step, time each convolution of the models in "
                      "its three roles (forward, input gradient, kernel gradient) for each "
                      "--impls, at the batch size, inside a lax.scan as the fused step runs "
                      "them; writes the table and JSON")
  p.add_argument("--out", default="runs/bench/dcgan.json", help="JSON output path")
  args = p.parse_args(argv)
  default_shapes = [(28, 28, 1)] if args.arch == "mnist" else [(32, 32, 3), (8, 8, 1)]
  shapes = [tuple(s) for s in (args.image_shape or default_shapes)]
  if args.arch == "mnist" and any(s != (28, 28, 1) for s in shapes):
    refuse("--image-shape", "--arch mnist is gan_mnist.py's 28×28×1 models only")
  for shape in shapes:
    if min(shape) < 1:
      refuse("--image-shape", f"H, W and C must be ≥ 1, got {' '.join(map(str, shape))}")
    try:
      stages_for(shape[:2])
    except ValueError as e:
      refuse("--image-shape", str(e))
  for flag in ("--dim", "--batch-size", "--latent-dim", "--n-critic", "--iters-per-call",
               "--rounds", "--seeds"):
    check_int(flag, getattr(args, flag[2:].replace("-", "_")))
  for t in args.torch_threads or []:
    check_int("--torch-threads", t)
  check_seconds("--seconds", args.seconds)
  check_seconds("--matmul-seconds", args.matmul_seconds, allow_zero=True)
  check_out(args.out)
  if args.roles:
    out = {}
    for shape in shapes:
      name = size_name(shape, args.dim, args.batch_size, args.arch)
      progress(f"roles {name} ...")
      rows = roles_table(shape, args.dim, args.batch_size, args.impls,
                         min(args.seconds, 1.0), in_scan=True)
      print(f"{name}, ms per call inside lax.scan, jax {jax.__version__}, "
            f"{jax.devices()[0].device_kind}")
      print_roles(rows, args.impls)
      out[name] = rows
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
      json.dump(dict(args=vars(args), roles=out), f, indent=1)
    print(f"wrote {args.out}")
    return 0
  ncpu = os.cpu_count() or 1
  threads = args.torch_threads or ([ncpu, 1] if ncpu > 1 else [1])

  torch_version = None if args.no_torch else torch_available()
  if not args.no_torch and torch_version is None:
    print("note: PyTorch is not importable here (pip install torch); measuring JAX only")
  device = jax.devices()[0]
  machine = dict(platform=device.platform, device_kind=device.device_kind,
                 devices=jax.device_count(), cpu_count=ncpu,
                 processor=platform.processor() or platform.machine(),
                 python=platform.python_version(), jax=jax.__version__, torch=torch_version)
  if hasattr(os, "getloadavg"):
    machine["load_average_before"] = os.getloadavg()
  if args.matmul_seconds > 0:
    machine["jax_matmul_gflops"] = matmul_gflops(seconds=args.matmul_seconds)
    if torch_version:
      machine["torch_matmul_gflops"] = torch_matmul_gflops(seconds=args.matmul_seconds,
                                                           threads=threads[0])

  cfg = wj.make_config("wgan-gp")
  n_critic = args.n_critic
  sizes = []
  for shape in shapes:
    name = size_name(shape, args.dim, args.batch_size, args.arch)
    progress(f"compiling {name} ...")
    variants, flops = jax_variants(name, shape, args.dim, args.batch_size, args.latent_dim,
                                   args.iters_per_call, args.impls, n_critic, args.modes,
                                   arch=args.arch, seeds=args.seeds)
    if torch_version:
      ref = flops.get("xla", next(iter(flops.values())))
      for t in threads:
        variants.append(torch_variant(name, shape, args.dim, args.batch_size, args.latent_dim,
                                      n_critic, cfg.gp_weight, ref, t, arch=args.arch))
      if args.torch_compile:
        progress(f"compiling the PyTorch critic step of {name} (torch.compile) ...")
        variants.append(torch_variant(name, shape, args.dim, args.batch_size, args.latent_dim,
                                      n_critic, cfg.gp_weight, ref, threads[0], arch=args.arch,
                                      compiled=True))
    sizes.append(dict(name=name, shape=shape, variants=variants, flops=flops))

  # measure: all variants of a size, interleaved, in a rotated order per round; the ratios
  # compare the best JAX variant and PyTorch within each round
  round_ratios: Dict[str, Dict[str, List[float]]] = {}
  for s in sizes:
    vs = s["variants"]
    ratios = round_ratios.setdefault(s["name"], {"default_threads": [], "best_threads": [],
                                                 "compiled": []})
    for r in range(args.rounds):
      progress(f"measuring {s['name']}, round {r + 1}/{args.rounds} ...")
      shift = r % len(vs)
      for v in vs[shift:] + vs[:shift]:
        v.measure(args.seconds)
      tv = [v for v in vs if v.impl == TORCH and not _compiled(v.mode)]
      tc = [v for v in vs if v.impl == TORCH and _compiled(v.mode)]
      best_jax = max(v.rounds[-1] for v in vs if v.impl != TORCH and not _seeds(v.mode))
      if tv:
        ratios["default_threads"].append(best_jax / tv[0].rounds[-1])
        ratios["best_threads"].append(best_jax / max(v.rounds[-1] for v in tv))
      at_once = [v.rounds[-1] for v in vs if _seeds(v.mode)]
      if at_once:   # S seeds at once, per seed, against the best single-run step of the round
        ratios.setdefault("seeds_over_single", []).append(max(at_once) / best_jax)
        if tv:
          ratios.setdefault("seeds_over_torch", []).append(
              max(at_once) / max(v.rounds[-1] for v in tv))
      if tc:
        ratios["compiled"].append(best_jax / tc[0].rounds[-1])

  rows = []
  for s in sizes:
    for v in s["variants"]:
      best, med = max(v.rounds), statistics.median(v.rounds)
      rows.append(dict(size=v.size, image_shape=list(s["shape"]), dim=args.dim,
                       batch=args.batch_size, impl=v.impl, mode=v.mode,
                       first_call_s=v.first_call_s, it_per_s_rounds=v.rounds,
                       it_per_s=best, it_per_s_median=med,
                       critic_steps_per_s=best * n_critic,
                       gflop_per_iteration=v.gflop_per_iteration,
                       gflops=best * v.gflop_per_iteration,
                       gflops_median=med * v.gflop_per_iteration))
  if hasattr(os, "getloadavg"):
    machine["load_average_after"] = os.getloadavg()

  fmt = lambda la: "/".join(f"{x:.1f}" for x in la) if la else "?"
  print(f"device: {device.device_kind} ×{jax.device_count()} ({device.platform}), {ncpu} CPUs "
        f"({machine['processor']}), jax {jax.__version__}, torch {torch_version or '-'}"
        + (f"; float32 matmul: JAX {machine['jax_matmul_gflops']:.0f} GFLOP/s" if
           "jax_matmul_gflops" in machine else "")
        + (f", torch ({threads[0]} thr.) {machine['torch_matmul_gflops']:.0f} GFLOP/s" if
           "torch_matmul_gflops" in machine else ""))
  print(f"load average (1/5/15 min) before {fmt(machine.get('load_average_before'))}, after "
        f"{fmt(machine.get('load_average_after'))}; {args.rounds} interleaved rounds × "
        f"{args.seconds:g} s per variant; GFLOP/s from the best round")
  header = (f"{'size':<17} {'impl':<7} {'mode':<32} {'1st call s':>10} {'best it/s':>9} "
            f"{'median':>8} {'GFLOP/s':>8} {'GFLOP/it':>8}")
  print(header)
  print("-" * len(header))
  for r in rows:
    print(f"{r['size']:<17} {r['impl']:<7} {r['mode']:<32} {r['first_call_s']:>10.2f} "
          f"{r['it_per_s']:>9.2f} {r['it_per_s_median']:>8.2f} {r['gflops']:>8.1f} "
          f"{r['gflop_per_iteration']:>8.2f}")
  summary = {}
  for s in sizes:
    name = s["name"]
    srows = [r for r in rows if r["size"] == name]
    jrows = [r for r in srows if r["impl"] != TORCH and not _seeds(r["mode"])]
    best = max(jrows, key=lambda r: r["it_per_s"])
    info = dict(jax_best=dict(impl=best["impl"], mode=best["mode"], it_per_s=best["it_per_s"]))
    parts = []
    for impl in args.impls:
      by = {r["mode"].split(":")[0]: r["it_per_s_median"] for r in jrows if r["impl"] == impl}
      if not {"a", "b", "b'"} <= set(by):
        continue
      info[f"scan_over_unrolled_{impl}"] = by["b"] / by["b'"]
      info[f"scan_over_per_step_{impl}"] = by["b"] / by["a"]
      parts.append(f"{impl}: fused scan / unrolled {info['scan_over_unrolled_' + impl]:.2f}, "
                   f"scan / per-step {info['scan_over_per_step_' + impl]:.2f}")
    print(f"{name}: best JAX = {best['impl']}, {best['mode']}: {best['it_per_s']:.2f} it/s. "
          + ("Median it/s ratios: " + "; ".join(parts) if parts else ""))
    trows = [r for r in srows if r["impl"] == TORCH and not _compiled(r["mode"])]
    crows = [r for r in srows if r["impl"] == TORCH and _compiled(r["mode"])]
    if crows:
      ratios = round_ratios[name]["compiled"]
      info.update(torch_compiled_it_per_s=crows[0]["it_per_s"],
                  ratio_rounds_compiled=ratios,
                  ratio_median_compiled=statistics.median(ratios))
      print(f"{name}: JAX-best / {crows[0]['mode']}: per round "
            f"{', '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})")
    if trows:
      ratios = round_ratios[name]
      tbest = max(trows, key=lambda r: r["it_per_s"])
      info.update(torch_it_per_s={r["mode"]: r["it_per_s"] for r in trows},
                  ratio_best_over_rounds_default_threads=best["it_per_s"] / trows[0]["it_per_s"],
                  ratio_best_over_rounds_best_threads=best["it_per_s"] / tbest["it_per_s"],
                  ratio_rounds_default_threads=ratios["default_threads"],
                  ratio_rounds_best_threads=ratios["best_threads"],
                  ratio_median_default_threads=statistics.median(ratios["default_threads"]),
                  ratio_median_best_threads=statistics.median(ratios["best_threads"]))
      for key, label in (("default_threads", trows[0]["mode"]),
                         ("best_threads", "PyTorch, its faster thread count")):
        print(f"{name}: JAX-best / {label}: per round "
              f"{', '.join(f'{x:.2f}' for x in ratios[key])} (median "
              f"{statistics.median(ratios[key]):.2f}); best over rounds "
              f"{info['ratio_best_over_rounds_' + key]:.2f}")
    for key, label in (("seeds_over_single", "the best single-run JAX step"),
                       ("seeds_over_torch", "PyTorch, its faster thread count")):
      if round_ratios[name].get(key):
        r = round_ratios[name][key]
        info.update({f"ratio_rounds_{key}": r, f"ratio_median_{key}": statistics.median(r)})
        print(f"{name}: {args.seeds} seeds at once (per seed) / {label}: per round "
              f"{', '.join(f'{x:.2f}' for x in r)} (median {statistics.median(r):.2f})")
    summary[name] = info
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(dict(machine=machine, args=vars(args), rows=rows, summary=summary), f, indent=1)
  print(f"wrote {args.out}")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
