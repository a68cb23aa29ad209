"""Issue 26's acceptance: a SIGKILL, SIGTERM or SIGINT at any moment of a run, then `--resume`,
leaves the same files with the same contents as an uninterrupted run: every scheduled
evaluation and the final outputs.

Each case runs `python -m experiments.toy` in a child process that sends itself the signal at
one exact point (a wrapper around the checkpoint writer or the output writer, installed before
the job starts), so the stop lands inside the window named, not wherever a timer happens to
fall:

- between the checkpoint at an evaluation point and that evaluation (a SIGKILL there lost the
  evaluation: evaluations.jsonl held [200], metrics.json [200, 300] against [100, 200, 300]);
- between the last checkpoint and the final outputs (a stop there lost them for good: --resume
  said "nothing to do");
- inside the final outputs, after samples.npy and before metrics.json;
- between two checkpoints, mid-training.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow   # two or three toy runs in child processes per case

ARGS = ["--iters", "90", "--iters-per-call", "15", "--eval-every", "30", "--checkpoint-every",
        "30", "--width", "16", "--num-samples", "200", "--no-progress"]

# The child: wrap `where` so that it sends `signal` to its own process at the named call.
CHILD = """
import os, signal, sys
from wgan_jax import checkpoint
from experiments import common, toy
SIG = getattr(signal, {sig!r})
# Ctrl-C's default, as Python started from a terminal has it: a test runner started in the
# background (nohup, `cmd &` in a script) passes SIGINT down ignored, and the job rightly keeps
# an ignored SIGINT ignored outside its loop.
signal.signal(signal.SIGINT, signal.default_int_handler)

def stop():
  os.kill(os.getpid(), SIG)
  if SIG != signal.SIGKILL:   # let the handler run (SIGINT raises KeyboardInterrupt here)
    import time; time.sleep(0.5)

where, at = {where!r}, {at!r}
if where == "after_checkpoint":      # the checkpoint at `at` is written, nothing after it
  save = checkpoint.Checkpointer.save
  def wrapped(self, step, state, extra=None):
    save(self, step, state, extra)
    if step == at:
      self.manager.wait_until_finished()
      stop()
  checkpoint.Checkpointer.save = wrapped
elif where == "after_samples":      # inside the final outputs: samples.npy written
  save_npy = common.save_npy
  def wrapped(path, array):
    save_npy(path, array)
    if path.endswith("/samples.npy"):
      stop()
  common.save_npy = wrapped
raise SystemExit(toy.main(sys.argv[1:]))
"""


def _run(out, *extra, sig=None, where=None, at=None):
  if sig is None:
    cmd = [sys.executable, "-m", "experiments.toy"]
  else:
    cmd = [sys.executable, "-c", CHILD.format(sig=sig, where=where, at=at)]
  return subprocess.run(cmd + ARGS + ["--out", str(out), *extra], capture_output=True,
                        text=True, timeout=600)


def _files(out):
  """What a finished run leaves, as comparable values (timings dropped)."""
  def jsonl(name):
    rows = [json.loads(l) for l in (out / name).read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
  metrics = json.loads((out / "metrics.json").read_text())
  return dict(
      samples=np.load(out / "samples.npy"),
      evaluations=[{k: v for k, v in e.items() if k != "seconds"}
                   for e in metrics["evaluations"]],
      final=metrics["final"], iterations=metrics["generator_iterations"],
      evaluations_jsonl=jsonl("evaluations.jsonl"),
      logged=[r["iteration"] for r in jsonl("metrics.jsonl")],
      pngs=sorted(p.name for p in out.glob("*.png")))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  out = tmp_path_factory.mktemp("whole") / "run"
  r = _run(out)
  assert r.returncode == 0, r.stderr
  return _files(out)


@pytest.mark.parametrize("sig, where, at", [
    ("SIGKILL", "after_checkpoint", 30),   # checkpoint at 30 written, evaluation at 30 not
    ("SIGKILL", "after_checkpoint", 90),   # the last checkpoint, before the final outputs
    ("SIGINT", "after_checkpoint", 90),
    ("SIGKILL", "after_samples", None),    # inside the final outputs
    ("SIGINT", "after_samples", None),
    ("SIGTERM", "after_checkpoint", 30),   # mid-training: the loop's own handler stops it
])
def test_a_stop_in_each_window_then_resume_equals_the_uninterrupted_run(
    tmp_path, uninterrupted, sig, where, at):
  out = tmp_path / "run"
  stopped = _run(out, sig=sig, where=where, at=at)
  assert stopped.returncode != 0, "the stop did not land: the run finished"
  if sig == "SIGKILL":
    assert stopped.returncode == -9
  else:   # one line saying how to go on, no traceback
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr, stopped.stderr
  resumed = _run(out, "--resume")
  assert resumed.returncode == 0, resumed.stderr
  assert "nothing to do" not in resumed.stderr
  got = _files(out)
  np.testing.assert_array_equal(got.pop("samples"), uninterrupted["samples"])
  want = {k: v for k, v in uninterrupted.items() if k != "samples"}
  assert got == want
  if where == "after_samples":   # finished now: a second resume has nothing to do
    again = _run(out, "--resume")
    assert again.returncode == 0 and "nothing to do" in again.stderr
