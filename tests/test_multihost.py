"""Two real processes on the CPU (JAX's multi-controller runtime with gloo collectives)."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow

ARGS = ["--iters", "40", "--iters-per-call", "20", "--eval-every", "20", "--width", "16",
        "--num-samples", "100", "--no-progress", "--batch-size", "64"]


def free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def env():
  e = dict(os.environ, JAX_PLATFORMS="cpu")
  e.pop("XLA_FLAGS", None)  # one CPU device per process
  return e


def test_two_process_run_equals_one_process_run(tmp_path):
  port = free_port()
  multi, single = tmp_path / "multi", tmp_path / "single"
  logs = [(tmp_path / f"out{i}.txt", tmp_path / f"err{i}.txt") for i in range(2)]
  procs = []
  for i, (out, err) in enumerate(logs):
    with open(out, "w") as fo, open(err, "w") as fe:
      procs.append(subprocess.Popen(
          [sys.executable, "-m", "experiments.toy", *ARGS, "--out", str(multi), "--parallel",
           "shard_map", "--coordinator-address", f"localhost:{port}", "--num-processes", "2",
           "--process-id", str(i)], env=env(), stdout=fo, stderr=fe, text=True))
  # A process that fails leaves the other waiting at a barrier for minutes: stop both as soon
  # as one fails, or after 180 s (a passing pair takes about 20 s on 2 cores).
  deadline = time.monotonic() + 180
  try:
    while (any(p.poll() is None for p in procs) and time.monotonic() < deadline
           and not any(p.poll() for p in procs)):
      time.sleep(0.2)
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
      p.wait()
  outs = [(out.read_text(), err.read_text()) for out, err in logs]
  for p, (out, err) in zip(procs, outs):
    assert p.returncode == 0, err[-2000:]
  assert "wrote" in outs[0][0] and "wrote" not in outs[1][0]  # only process 0 writes
  one = subprocess.run([sys.executable, "-m", "experiments.toy", *ARGS, "--out", str(single)],
                       env=env(), capture_output=True, text=True, timeout=300)
  assert one.returncode == 0, one.stderr[-2000:]
  # Same global batch of 64, split 32 + 32 over the two processes' devices.
  np.testing.assert_allclose(np.load(multi / "samples.npy"), np.load(single / "samples.npy"),
                             rtol=1e-5, atol=1e-6)
  h_multi = json.loads((multi / "metrics.json").read_text())["history"]
  h_single = json.loads((single / "metrics.json").read_text())["history"]
  np.testing.assert_allclose(h_multi["d_loss"], h_single["d_loss"], rtol=1e-4, atol=1e-6)
  assert (multi / "checkpoints" / "40").is_dir()
