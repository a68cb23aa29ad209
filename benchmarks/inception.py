"""Images per second of the Flax FID Inception extractor beside torch-fidelity's, one machine.

  python -m benchmarks.inception                      # batch 8, 5 rounds, writes JSON
  python -m benchmarks.inception --batch 16 --rounds 7 --out runs/bench/inception.json

Both networks get the same fresh random weights (torch-fidelity's extractor built without its
file, BatchNorm statistics calibrated by one pass, saved with torch.save and read into Flax by
`wgan_jax.inception.load_weights`), the same uint8 32×32 images (resized to 299 × 299 inside
each), float32. Rounds alternate Flax / torch so that both see the same machine load; each
round times one batch after a warm-up (compilation excluded); the medians are reported.
Needs torch and torch-fidelity (requirements-parity.txt); torchvision is stubbed as in
tests/test_inception_parity.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types

import jax
import numpy as np

from wgan_jax import inception


def _stub_torchvision():
  try:
    import torchvision  # noqa: F401
    return
  except Exception:  # noqa: BLE001 - absent, or broken beside this torch
    sys.modules.pop("torchvision", None)
  for name in ("torchvision", "torchvision.datasets", "torchvision.transforms",
               "torchvision.transforms.functional", "torchvision.models"):
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: type(attr, (), {})
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
      setattr(sys.modules[parent], child, module)


def torch_extractor(folder: str, seed: int = 0):
  """torch-fidelity's extractor with random calibrated weights, and the .pth it saved."""
  import torch
  _stub_torchvision()
  from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3 as cls
  torch.manual_seed(seed)
  empty = os.path.join(folder, "empty.pth")
  torch.save({}, empty)
  model = cls.__new__(cls)
  object.__setattr__(model, "load_state_dict", lambda state_dict: None)
  cls.__init__(model, "inception-v3-compat", ["2048", "logits_unbiased"],
               feature_extractor_weights_path=empty)
  del model.__dict__["load_state_dict"]
  for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(0.3, 0.8)
    bn.train()
    bn.momentum = 1.0
  with torch.no_grad():
    model(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8))
  model.eval()
  path = os.path.join(folder, "weights-random.pth")
  torch.save(model.state_dict(), path)
  return model, path


def _commit() -> str:
  try:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=os.path.dirname(os.path.dirname(__file__))).stdout.strip()
  except OSError:
    return "unknown"


def main(argv=None) -> dict:
  p = argparse.ArgumentParser(prog="python -m benchmarks.inception", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--batch", type=int, default=8, help="images per timed call (8)")
  p.add_argument("--rounds", type=int, default=5, help="alternating timed rounds (5)")
  p.add_argument("--threads", type=int, default=os.cpu_count(),
                 help="torch's intra-op threads (default: all cores, as XLA uses)")
  p.add_argument("--out", default="runs/bench/inception.json", help="JSON output path")
  args = p.parse_args(argv)

  import torch
  torch.set_num_threads(args.threads)
  with tempfile.TemporaryDirectory() as tmp:
    model, path = torch_extractor(tmp)
    variables = inception.load_weights(path, cache_dir=tmp)
  images = np.random.default_rng(0).integers(0, 256, (args.batch, 32, 32, 3)).astype(np.uint8)
  torch_images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()

  def flax_call():
    inception.apply(variables, images)

  def torch_call():
    with torch.no_grad():
      model(torch_images)

  t0 = time.perf_counter()
  flax_call()
  compile_s = time.perf_counter() - t0
  torch_call()
  times = {"flax": [], "torch": []}
  for _ in range(args.rounds):
    for name, fn in (("flax", flax_call), ("torch", torch_call)):
      t = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - t)
  med = {k: statistics.median(v) for k, v in times.items()}
  result = dict(
      images_per_second={k: args.batch / v for k, v in med.items()},
      median_seconds_per_batch=med, seconds=times, batch=args.batch, rounds=args.rounds,
      flax_first_call_seconds=compile_s, torch_threads=args.threads,
      machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
      f"{platform.system()}", jax=jax.__version__, jax_backend=jax.default_backend(),
      torch=torch.__version__, commit=_commit(),
      command="python -m benchmarks.inception " + " ".join(argv or sys.argv[1:]))
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(result, f, indent=1)
  print(f"images/s (batch {args.batch}, median of {args.rounds}): "
        f"flax {result['images_per_second']['flax']:.2f}, "
        f"torch-fidelity {result['images_per_second']['torch']:.2f}  -> {args.out}")
  return result


if __name__ == "__main__":
  main()
