"""The official toy script's wgan mode, ported to plain PyTorch without this library, beside the
library's toy job at the same settings (issue 27 item 2).

  python -m benchmarks.wgan_toy_reference --iters 3000 --seeds 3
  python -m benchmarks.wgan_toy_reference --iters 3000 --seeds 3 --optimizer tf1 --library none
  python -m benchmarks.wgan_toy_reference --merge A/wgan_toy_reference.json B/...  # one table

The reference is WGAN-GP's gan_toy.py (github.com/igul222/improved_wgan_training) in MODE
'wgan', written again in PyTorch: 8 Gaussians (centres at radius 2, σ 0.02, every point ÷ 1.414,
a fresh batch for every critic step); G: z ~ N(0, I₂) → 3 × (Linear + ReLU) → Linear 2; the
critic: x → 3 × (Linear + ReLU) → Linear 1 (hidden layers He-uniform, the last Glorot-uniform,
biases 0, as tflib's Linear); critic loss mean f(G(z)) − mean f(x), generator loss
−mean f(G(z)); 5 critic steps per generator step, every critic parameter clipped to [−0.01, 0.01]
after each critic step; learning rate 5e-5 constant, no warm-up. Width (the script's DIM 512)
and batch (256) are options; the issue's table uses width 128.

The reference's optimiser (--optimizer):
  pytorch  torch.optim.RMSprop(lr) itself, PyTorch's defaults (alpha 0.99, eps 1e-8 after the
           root): what the official WGAN code (martinarjovsky/WassersteinGAN) trains with;
  tf1      TF1's tf.train.RMSPropOptimizer(lr) written out (decay 0.9, epsilon 1e-10 inside the
           root, mean square starting at 1): what gan_toy.py trains with;
  optax    optax.rmsprop(lr)'s defaults written out (decay 0.9, eps 1e-8 inside the root, from 0).

The library's runs are `python -m experiments.toy --objective wgan --width W --batch-size B
--no-warmup --lr-decay none --iters N --seed S --rmsprop FORM` (one per --library form and
seed). Both are measured alike after N generator iterations: the exact W1 between 2500 samples
and 2500 fresh data points (optimal assignment, scipy), and `wgan_jax.mode_coverage` of the
samples (high-quality share: within 3σ of a centre; modes holding one). The library is imported
for that measurement only, after the reference has trained.

Writes OUT/wgan_toy_reference.json (every run, and each row's mean and standard deviation over
seeds) and prints the table; needs torch (requirements-parity.txt) for the reference.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np

LR = 5e-5
CLIP = 0.01
N_CRITIC = 5
N_EVAL = 2500
SCALE = 1.414
FORMS = ("pytorch", "tf1", "optax")


# ------------------------------------------------------------------------------ the reference
def centres() -> np.ndarray:
  s = 1.0 / math.sqrt(2.0)
  dirs = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)])
  return 2.0 * dirs / SCALE


STD = 0.02 / SCALE


def eight_gaussians(rng: np.random.RandomState, n: int) -> np.ndarray:
  """gan_toy.py's 8gaussians: a random centre plus 0.02·N(0, I), all ÷ 1.414."""
  c = centres()[rng.randint(len(centres()), size=n)]
  return (c + STD * rng.randn(n, 2)).astype(np.float32)


def mlp(torch, in_dim: int, width: int, out_dim: int):
  """3 × (Linear + ReLU) → Linear, initialised as tflib's Linear: 'he' (uniform, variance
  2/fan_in) for the hidden layers, the default 'glorot' (uniform, variance 2/(fan_in+fan_out))
  for the last, biases 0."""
  nn = torch.nn
  layers, d = [], in_dim
  for _ in range(3):
    layers += [nn.Linear(d, width), nn.ReLU()]
    d = width
  layers.append(nn.Linear(d, out_dim))
  with torch.no_grad():
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    for i, layer in enumerate(linears):
      fan_in, fan_out = layer.in_features, layer.out_features
      var = 2.0 / fan_in if i < len(linears) - 1 else 2.0 / (fan_in + fan_out)
      bound = math.sqrt(3.0 * var)
      layer.weight.uniform_(-bound, bound)
      layer.bias.zero_()
  return nn.Sequential(*layers)


def rmsprop_written_out(torch, params, lr: float, decay: float, eps: float, initial: float):
  """RMSProp with ε inside the root: v ← ρv + (1−ρ)g² (v₀ = `initial`), p ← p − lr·g/√(v + ε)
  (TF1's ApplyRMSProp kernel with momentum 0; optax's scale_by_rms)."""

  class RMSPropInSqrt(torch.optim.Optimizer):
    def __init__(self):
      super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self):
      for group in self.param_groups:
        for p in group["params"]:
          if p.grad is None:
            continue
          state = self.state[p]
          if not state:
            state["v"] = torch.full_like(p, initial)
          v = state["v"]
          v.mul_(decay).addcmul_(p.grad, p.grad, value=1 - decay)
          p.addcdiv_(p.grad, (v + eps).sqrt(), value=-group["lr"])

  return RMSPropInSqrt()


def make_optimizer(torch, params, form: str):
  if form == "pytorch":
    return torch.optim.RMSprop(params, lr=LR)              # alpha 0.99, eps 1e-8, no momentum
  if form == "tf1":
    return rmsprop_written_out(torch, params, LR, decay=0.9, eps=1e-10, initial=1.0)
  return rmsprop_written_out(torch, params, LR, decay=0.9, eps=1e-8, initial=0.0)


def train_reference(iters: int, seed: int, form: str, width: int, batch: int):
  """The trained generator's 2500 samples, 2500 fresh data points, and the seconds it took."""
  import torch
  torch.set_num_threads(1)
  torch.manual_seed(seed)
  rng = np.random.RandomState(seed)
  gen, critic = mlp(torch, 2, width, 2), mlp(torch, 2, width, 1)
  opt_g = make_optimizer(torch, gen.parameters(), form)
  opt_d = make_optimizer(torch, critic.parameters(), form)
  start = time.perf_counter()
  for _ in range(iters):
    critic.requires_grad_(True)
    for _ in range(N_CRITIC):
      real = torch.from_numpy(eight_gaussians(rng, batch))
      with torch.no_grad():
        fake = gen(torch.randn(batch, 2))
      loss_d = critic(fake).mean() - critic(real).mean()
      opt_d.zero_grad(set_to_none=True)
      loss_d.backward()
      opt_d.step()
      with torch.no_grad():                                 # clip every critic parameter
        for p in critic.parameters():
          p.clamp_(-CLIP, CLIP)
    critic.requires_grad_(False)
    loss_g = -critic(gen(torch.randn(batch, 2))).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
  seconds = time.perf_counter() - start
  with torch.no_grad():
    samples = gen(torch.randn(N_EVAL, 2)).numpy().astype(np.float64)
  real = eight_gaussians(np.random.RandomState(10_000 + seed), N_EVAL).astype(np.float64)
  return samples, real, seconds


def measure(samples: np.ndarray, real: np.ndarray) -> Dict[str, float]:
  """Exact W1 by optimal assignment, and the library's mode metrics (measurement only)."""
  import scipy.optimize
  import scipy.spatial.distance
  if not np.isfinite(samples).all():
    return dict(w1_exact=math.inf, hq_fraction=0.0, modes=0.0)
  cost = scipy.spatial.distance.cdist(samples, real)
  rows, cols = scipy.optimize.linear_sum_assignment(cost)
  from wgan_jax import mode_coverage
  cover = mode_coverage(samples, centres(), STD)
  return dict(w1_exact=float(cost[rows, cols].mean()), hq_fraction=float(cover["hq_fraction"]),
              modes=float(cover["modes"]))


# ------------------------------------------------------------------------------ the library
def library_command(iters: int, seed: int, form: str, width: int, batch: int, out: str):
  return [sys.executable, "-m", "experiments.toy", "--objective", "wgan", "--width", str(width),
          "--batch-size", str(batch), "--no-warmup", "--lr-decay", "none", "--iters", str(iters),
          "--seed", str(seed), "--rmsprop", form, "--eval-every", str(iters),
          "--checkpoint-every", str(iters), "--num-samples", str(N_EVAL), "--no-progress",
          "--out", out]


def run_library(iters: int, seed: int, form: str, width: int, batch: int) -> Dict[str, float]:
  with tempfile.TemporaryDirectory() as out:
    cmd = library_command(iters, seed, form, width, batch, out)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if proc.returncode != 0:
      raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    with open(os.path.join(out, "metrics.json")) as f:
      final = json.load(f)["final"]
  return dict(w1_exact=final["w1_exact"], hq_fraction=final["hq_fraction"],
              modes=final["modes"], seconds=time.perf_counter() - start)


# ------------------------------------------------------------------------------ the table
def machine() -> str:
  model = platform.processor() or ""
  try:
    with open("/proc/cpuinfo") as f:
      model = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), model)
  except OSError:
    pass
  return f"{model or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def commit() -> str:
  try:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
  except OSError:
    return ""


def summarise(runs: List[Dict]) -> Dict[str, float]:
  out = {}
  for key in ("w1_exact", "hq_fraction", "modes", "seconds"):
    v = np.array([r[key] for r in runs], np.float64)
    out[key] = float(v.mean())
    out[key + "_sd"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    out[key + "_min"], out[key + "_max"] = float(v.min()), float(v.max())
  return out


def row_text(name: str, s: Dict[str, float], n: int) -> str:
  return (f"| {name}, {n} seed{'s' * (n > 1)} | {s['w1_exact']:.3f} ± {s['w1_exact_sd']:.3f} "
          f"({s['w1_exact_min']:.3f}–{s['w1_exact_max']:.3f}) | "
          f"{100 * s['hq_fraction']:.1f}% ± {100 * s['hq_fraction_sd']:.1f} | "
          f"{s['modes']:.1f} ± {s['modes_sd']:.1f} | {s['seconds']:.0f} |")


def merge(paths: List[str]) -> str:
  """One table of the rows of several runs' JSON files (a row's seeds pooled)."""
  rows: Dict[str, List[Dict]] = {}
  for path in paths:
    with open(path) as f:
      for name, row in json.load(f)["rows"].items():
        seen = {r["seed"] for r in rows.get(name, [])}
        rows.setdefault(name, []).extend(r for r in row["runs"] if r["seed"] not in seen)
  table = TABLE_HEAD + [row_text(name, summarise(runs), len(runs))
                        for name, runs in rows.items()]
  return "\n".join(table + differences(rows))


def differences(rows: Dict[str, List[Dict]]) -> List[str]:
  """Each row's mean minus the first row's, with the standard error of the difference
  (√(s₁²/n₁ + s₂²/n₂), sample standard deviations), for W1 and the high-quality share."""
  names = list(rows)
  out = []
  for name in names[1:]:
    parts = []
    for key, unit, scale, f in (("w1_exact", "", 1.0, ".3f"),
                                ("hq_fraction", " points", 100.0, ".1f")):
      a, b = (np.array([r[key] for r in rows[n]], np.float64) * scale for n in (names[0], name))
      if len(a) < 2 or len(b) < 2:
        continue
      d, se = b.mean() - a.mean(), math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
      parts.append(f"{key} {d:+{f}}{unit} ± {se:{f}} ({abs(d) / se:.1f} s.e.)")
    if parts:
      out.append(f"{name} − {names[0]}: " + ", ".join(parts))
  return out


TABLE_HEAD = ["| run | exact W1 ± sd (range) | high-quality ± sd | modes ± sd | seconds/run |",
              "|---|---|---|---|---|"]


def main(argv=None) -> Dict:
  p = argparse.ArgumentParser(prog="python -m benchmarks.wgan_toy_reference",
                              description=__doc__.split("\n\n")[0],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--iters", type=int, default=3000, help="generator iterations (default 3000)")
  p.add_argument("--seeds", type=int, default=3, help="seeds per row (default 3)")
  p.add_argument("--first-seed", type=int, default=0, help="the rows' seeds are FIRST_SEED .. "
                 "FIRST_SEED + SEEDS − 1 (default 0), so runs can be split and merged")
  p.add_argument("--optimizer", choices=FORMS + ("none",), default="pytorch",
                 help="the reference's RMSProp: pytorch (torch.optim.RMSprop, the WGAN code's), "
                 "tf1 (TF1's RMSPropOptimizer written out, gan_toy.py's) or optax (optax's "
                 "defaults written out); none: no reference run (default pytorch)")
  p.add_argument("--library", nargs="+", choices=FORMS + ("none",), default=["pytorch"],
                 help="the library's --rmsprop forms to run beside it; none: no library run "
                 "(default pytorch, the wgan recipe's)")
  p.add_argument("--width", type=int, default=128, help="hidden units (default 128; the "
                 "script's DIM is 512)")
  p.add_argument("--batch-size", type=int, default=256, help="batch (default 256, the script's)")
  p.add_argument("--out", default="runs/bench", help="folder of wgan_toy_reference.json")
  p.add_argument("--merge", nargs="+", metavar="JSON", help="print one table of these runs' "
                 "wgan_toy_reference.json files (seeds pooled per row) and run nothing")
  a = p.parse_args(argv)
  if a.merge:
    print(merge(a.merge))
    return {}
  for name in ("iters", "seeds", "width", "batch_size"):
    if getattr(a, name) < 1:
      p.error(f"--{name.replace('_', '-')}: must be a positive integer")
  if a.first_seed < 0:
    p.error("--first-seed: must be an integer ≥ 0")
  seeds = range(a.first_seed, a.first_seed + a.seeds)
  rows = {}
  if a.optimizer != "none":
    runs = []
    for s in seeds:
      samples, real, seconds = train_reference(a.iters, s, a.optimizer, a.width, a.batch_size)
      runs.append(dict(seed=s, seconds=seconds, **measure(samples, real)))
      print(f"reference {a.optimizer} seed {s}: {runs[-1]}", flush=True)
    rows[f"independent PyTorch port, {a.optimizer} RMSProp"] = runs
  for form in (f for f in a.library if f != "none"):
    runs = []
    for s in seeds:
      runs.append(dict(seed=s, **run_library(a.iters, s, form, a.width, a.batch_size)))
      print(f"library {form} seed {s}: {runs[-1]}", flush=True)
    rows[f"library, --rmsprop {form}"] = runs
  table = TABLE_HEAD + [row_text(name, summarise(runs), len(runs))
                        for name, runs in rows.items()]
  print("\n".join(table))
  result = dict(command=" ".join(["python -m benchmarks.wgan_toy_reference"] +
                                 (sys.argv[1:] if argv is None else list(argv))),
                iters=a.iters, width=a.width, batch_size=a.batch_size, lr=LR, clip=CLIP,
                n_critic=N_CRITIC, machine=machine(), commit=commit(),
                library_command=" ".join(library_command(a.iters, 0, "FORM", a.width,
                                                         a.batch_size, "OUT")[1:]),
                rows={k: dict(runs=v, summary=summarise(v)) for k, v in rows.items()},
                table="\n".join(table))
  os.makedirs(a.out, exist_ok=True)
  with open(os.path.join(a.out, "wgan_toy_reference.json"), "w") as f:
    json.dump(result, f, indent=1)
  return result


if __name__ == "__main__":
  main()
