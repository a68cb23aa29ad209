"""Checkpoints, resume, signals, non-finite stops and metric writers of the shared runner."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from experiments import toy

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow

BASE = ["--iters", "120", "--iters-per-call", "20", "--eval-every", "60", "--width", "16",
        "--num-samples", "100", "--no-progress", "--checkpoint-every", "40"]


def load_params(out):
  import orbax.checkpoint as ocp
  steps = sorted(int(d) for d in os.listdir(out / "checkpoints") if d.isdigit())
  with ocp.StandardCheckpointer() as c:
    return steps, c.restore(str(out / "checkpoints" / str(steps[-1]) / "state"))


def test_stop_and_resume_is_bitwise_equal_to_uninterrupted(tmp_path):
  full, part = tmp_path / "full", tmp_path / "part"
  assert toy.main(BASE + ["--out", str(full)]) == 0
  assert toy.main(BASE + ["--out", str(part), "--stop-at", "60"]) == 0
  steps, _ = load_params(part)
  assert steps[-1] == 60
  assert toy.main(BASE + ["--out", str(part), "--resume"]) == 0
  np.testing.assert_array_equal(np.load(full / "samples.npy"), np.load(part / "samples.npy"))
  s_full, p_full = load_params(full)
  s_part, p_part = load_params(part)
  assert s_full == [40, 80, 120] and s_part == [60, 80, 120]  # the last 3 kept
  flat_f, flat_p = (jax_leaves(p) for p in (p_full, p_part))
  for a, b in zip(flat_f, flat_p):
    np.testing.assert_array_equal(a, b)
  lines = [json.loads(l) for l in (part / "metrics.jsonl").read_text().splitlines()]
  assert [l["iteration"] for l in lines] == list(range(10, 121, 10))  # no duplicates
  # Every scheduled evaluation is there, the one at the stop included (was: [] after a stop
  # at 60, against [60] uninterrupted), with the same numbers.
  evals = [[{k: v for k, v in json.loads(l).items() if k != "seconds"}
            for l in (d / "evaluations.jsonl").read_text().splitlines()] for d in (full, part)]
  assert [e["iteration"] for e in evals[0]] == [60] and evals[1] == evals[0]
  final = [json.loads((d / "metrics.json").read_text())["evaluations"] for d in (full, part)]
  assert [e["iteration"] for e in final[1]] == [e["iteration"] for e in final[0]] == [60, 120]


def test_a_stop_after_the_last_checkpoint_loses_no_output(tmp_path, capsys):
  """Was: a stop between the final checkpoint and the final outputs lost them for good
  (--resume said 'nothing to do'). Here the outputs are removed as that stop leaves them."""
  full, part = tmp_path / "full", tmp_path / "part"
  assert toy.main(BASE + ["--out", str(full)]) == 0
  assert toy.main(BASE + ["--out", str(part)]) == 0
  for name in ("metrics.json", "samples.npy", "samples.png", "losses.png"):
    (part / name).unlink()
  capsys.readouterr()
  assert toy.main(BASE + ["--out", str(part), "--resume"]) == 0
  assert "nothing to do" not in capsys.readouterr().err
  np.testing.assert_array_equal(np.load(full / "samples.npy"), np.load(part / "samples.npy"))
  a, b = (json.loads((d / "metrics.json").read_text()) for d in (full, part))
  assert [e["iteration"] for e in b["evaluations"]] == [e["iteration"] for e in a["evaluations"]]
  assert b["final"] == a["final"] and (part / "losses.png").exists()
  # now finished: a second resume has nothing to do
  assert toy.main(BASE + ["--out", str(part), "--resume"]) == 0
  assert "nothing to do" in capsys.readouterr().err


def jax_leaves(tree):
  import jax
  return jax.tree_util.tree_leaves(tree)


def test_existing_checkpoints_need_resume(tmp_path, capsys):
  out = tmp_path / "o"
  toy.main(BASE + ["--out", str(out), "--stop-at", "40"])
  with pytest.raises(SystemExit) as e:
    toy.main(BASE + ["--out", str(out)])
  assert e.value.code == 2 and "--resume" in capsys.readouterr().err


def test_resume_from_another_configuration_is_refused(tmp_path, capsys):
  out = tmp_path / "o"
  toy.main(BASE + ["--out", str(out), "--stop-at", "40"])
  with pytest.raises(SystemExit) as e:
    toy.main(BASE + ["--out", str(out), "--resume", "--gp-weight", "0.5"])
  err = capsys.readouterr().err
  assert e.value.code == 2 and "another configuration" in err and "gp_weight" in err


def test_damaged_checkpoint_is_an_error_not_a_restart(tmp_path, capsys):
  out = tmp_path / "o"
  toy.main(BASE + ["--out", str(out), "--stop-at", "40"])
  state_dir = out / "checkpoints" / "40" / "state"
  for root, _, files in os.walk(state_dir):
    for f in files:
      path = os.path.join(root, f)
      with open(path, "r+b") as fh:  # scramble every file of the state item
        data = fh.read()
        fh.seek(0)
        fh.write(bytes(b ^ 0x5A for b in data))
  with pytest.raises(SystemExit) as e:
    toy.main(BASE + ["--out", str(out), "--resume"])
  err = capsys.readouterr().err
  assert e.value.code == 2 and "damaged" in err
  assert not (out / "checkpoints" / "120").exists()


def test_resume_without_checkpoint(tmp_path, capsys):
  with pytest.raises(SystemExit) as e:
    toy.main(BASE + ["--out", str(tmp_path / "none"), "--resume"])
  assert e.value.code == 2 and "no checkpoint" in capsys.readouterr().err


def test_sigterm_checkpoints_then_resume_finishes(tmp_path):
  out = tmp_path / "o"
  cmd = [sys.executable, "-m", "experiments.toy", "--iters", "100000", "--iters-per-call", "10",
         "--width", "16", "--num-samples", "100", "--no-progress", "--out", str(out)]
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  jsonl = out / "metrics.jsonl"
  deadline = time.time() + 120
  while time.time() < deadline and not (jsonl.exists() and jsonl.stat().st_size > 0):
    time.sleep(0.2)
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=120)
  assert proc.returncode == 130, err
  assert "stopped by SIGTERM" in err
  steps = sorted(int(d) for d in os.listdir(out / "checkpoints") if d.isdigit())
  stopped_at = json.loads((out / "metrics.json").read_text())["generator_iterations"]
  assert steps[-1] == stopped_at > 0 and stopped_at % 10 == 0


def test_nonfinite_stop_keeps_last_good_checkpoint(tmp_path, capsys):
  np.save(tmp_path / "huge.npy", np.random.default_rng(0).normal(size=(100, 2)) * 1e30)
  out = tmp_path / "o"
  code = toy.main(BASE + ["--data-file", str(tmp_path / "huge.npy"), "--out", str(out)])
  err = capsys.readouterr().err
  assert code == 1 and "non-finite" in err and "generator iteration 1" in err
  steps, _ = load_params(out)
  assert steps == [0]  # the last finite state: the initial one


def test_skip_nonfinite_keeps_going(tmp_path, capsys):
  np.save(tmp_path / "huge.npy", np.random.default_rng(0).normal(size=(100, 2)) * 1e30)
  out = tmp_path / "o"
  code = toy.main(BASE + ["--data-file", str(tmp_path / "huge.npy"), "--out", str(out),
                          "--skip-nonfinite", "--iters", "40"])
  assert code == 0
  _, state = load_params(out)
  # The updates were skipped: the parameters stay finite (Adam's ν overflows to inf with these
  # 1e30-sized gradients, which apply_if_finite does not check).
  assert all(np.isfinite(x).all() for x in jax_leaves(state["critic"]["params"]))
  assert all(np.isfinite(x).all() for x in jax_leaves(state["generator"]["params"]))


def test_parallel_flag_runs_and_matches_single_device(tmp_path):
  outs = {}
  for backend in ("none", "shard_map"):
    out = tmp_path / backend
    assert toy.main(BASE + ["--iters", "40", "--out", str(out), "--parallel", backend,
                            "--batch-size", "64"]) == 0
    outs[backend] = np.load(out / "samples.npy")
  np.testing.assert_allclose(outs["none"], outs["shard_map"], rtol=1e-3, atol=1e-3)


def test_batch_not_divisible_by_devices(tmp_path, capsys):
  with pytest.raises(SystemExit) as e:
    toy.main(BASE + ["--out", str(tmp_path), "--parallel", "pmap", "--batch-size", "30"])
  assert e.value.code == 2 and "divide" in capsys.readouterr().err


def test_a_pmap_checkpoint_resumes_on_one_device(tmp_path):
  """Was: a 4-device `--parallel pmap` checkpoint was 'damaged (its state cannot be read)' on
  1 device, and an older 1-device checkpoint was silently preferred. Checkpoints now hold host
  arrays: the run continues on one device (not bitwise: the reductions are ordered
  differently), close to the uninterrupted 4-device run."""
  whole, part = tmp_path / "whole", tmp_path / "part"
  args = BASE + ["--iters", "80", "--parallel", "pmap", "--batch-size", "64"]
  assert toy.main(args + ["--out", str(whole)]) == 0
  assert toy.main(args + ["--out", str(part), "--stop-at", "40"]) == 0
  env = dict(os.environ, XLA_FLAGS="", JAX_PLATFORMS="cpu")
  code = ("import sys; from experiments import toy; sys.exit(toy.main(sys.argv[1:]))")
  one = [a if a != "pmap" else "none" for a in args]
  proc = subprocess.run([sys.executable, "-c", code] + one + ["--out", str(part), "--resume"],
                        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "damaged" not in proc.stderr
  np.testing.assert_allclose(np.load(part / "samples.npy"), np.load(whole / "samples.npy"),
                             rtol=0, atol=0.05)
