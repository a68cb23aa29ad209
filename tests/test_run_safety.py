"""Nothing lost, every bad input a one-line error (issue 15): logs across a resume, one run per
output folder, forgiving resumes, damaged checkpoints, non-finite stops, skipped updates and an
unreachable coordinator. Each test failed on the code before these fixes."""

import json
import os
import subprocess
import sys
import time

import pytest

from experiments import toy

BASE = ["--iters", "60", "--iters-per-call", "10", "--eval-every", "20", "--width", "8",
        "--num-samples", "100", "--no-progress", "--checkpoint-every", "20", "--seed", "3"]


def run(argv, capsys=None):
  if capsys:
    capsys.readouterr()  # only this run's output
  try:
    code = toy.main(argv)
  except SystemExit as e:
    code = e.code
  err = capsys.readouterr().err if capsys else ""
  return code, err


def metrics(out):
  m = json.loads((out / "metrics.json").read_text())
  for e in m["evaluations"]:
    e.pop("seconds")
  return m


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_resume_keeps_every_logged_iteration_and_evaluation(tmp_path, capsys):
  """Was: metrics.json after a stop at 30 and a resume held only the rows after 30, and the
  evaluation at 20 was gone."""
  full, part = tmp_path / "full", tmp_path / "part"
  assert run(BASE + ["--out", str(full)])[0] == 0
  assert run(BASE + ["--out", str(part), "--stop-at", "30"])[0] == 0
  assert run(BASE + ["--out", str(part), "--resume"])[0] == 0
  a, b = metrics(full), metrics(part)
  assert b["history"]["iteration"] == a["history"]["iteration"] == list(range(10, 61, 10))
  assert b["history"]["d_loss"] == a["history"]["d_loss"]
  assert b["evaluations"] == a["evaluations"]
  assert [e["iteration"] for e in b["evaluations"]] == [20, 40, 60]
  # resuming a finished run is a no-op that says so, and loses nothing
  before = (part / "metrics.json").read_bytes()
  code, err = run(BASE + ["--out", str(part), "--resume"], capsys)
  assert code == 0 and "nothing to do" in err and "already finished" in err
  assert (part / "metrics.json").read_bytes() == before


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, capsys):
  """Was: two runs into one --out both exited 0, one overwriting the other."""
  out = tmp_path / "o"
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from experiments import loop; "
       f"loop.hold_workdir({str(out)!r}); print('held', flush=True); time.sleep(60)"],
      stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
  try:
    assert holder.stdout.readline().strip() == "held"
    code, err = run(BASE + ["--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--out" in err and "in use by another run" in err and f"pid {holder.pid}" in err
  finally:
    holder.kill()  # a killed holder leaves no stale lock: the OS releases it
    holder.wait()
  assert run(BASE + ["--out", str(out), "--iters", "10"])[0] == 0


@pytest.mark.parametrize("kind,needle", [("file", "exists and is not a folder"),
                                         ("unwritable", "cannot write into")])
def test_bad_output_folder_fails_before_any_work(tmp_path, capsys, kind, needle):
  """Was: a traceback (and for `reproduce`, only after computing the figure)."""
  if kind == "file":
    (tmp_path / "target").write_text("x")
    out = str(tmp_path / "target")
  else:
    out = "/proc/no/such/folder"  # unwritable even for root
  t0 = time.time()
  code, err = run(BASE + ["--out", out], capsys)
  assert code == 2 and len(err.strip().splitlines()) == 1 and "--out" in err and needle in err
  assert time.time() - t0 < 5  # before any data, model or compile


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_resume_names_each_differing_field_and_allows_safe_changes(tmp_path, capsys):
  """Was: two 500-character config dicts; and a changed learning rate was refused."""
  out = tmp_path / "o"
  assert run(BASE + ["--out", str(out), "--stop-at", "20"])[0] == 0
  code, err = run(BASE + ["--out", str(out), "--resume", "--gp-weight", "0.5", "--width", "16"],
                  capsys)
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "config.gp_weight: checkpoint 0.1, this run 0.5" in err
  assert "width: checkpoint 8, this run 16" in err and "{" not in err
  code, err = run(BASE + ["--out", str(out), "--resume", "--lr-d", "5e-5"], capsys)
  assert code == 0 and "changed option: config.lr_d: checkpoint 0.0001, this run 5e-05" in err


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_damaged_newest_checkpoint_falls_back_to_the_newest_intact(tmp_path, capsys):
  """Was: an error, although older checkpoints were intact."""
  out = tmp_path / "o"
  assert run(BASE + ["--out", str(out), "--stop-at", "40"])[0] == 0
  newest = out / "checkpoints" / "40" / "state"
  for root, _, files in os.walk(newest):
    for f in files:
      with open(os.path.join(root, f), "wb") as fh:
        fh.write(b"garbage")
  with pytest.warns(UserWarning, match="damaged.*newest intact one, step 20"):
    code, err = run(BASE + ["--out", str(out), "--resume"], capsys)
  assert code == 0
  m = json.loads((out / "metrics.json").read_text())
  assert m["start_iteration"] == 20 and m["generator_iterations"] == 60
  assert sorted(os.listdir(out / "checkpoints"))[-1] == "60"
  assert os.listdir(out / "checkpoints-damaged")[0].startswith("40-")


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_nonfinite_stop_keeps_the_last_finite_iteration_and_resumes_with_a_smaller_lr(
    tmp_path, capsys):
  """Was: the checkpoint was the start of the call (up to iters-per-call − 1 finite iterations
  lost), and a smaller learning rate was refused on resume."""
  out = tmp_path / "o"
  bad = BASE + ["--out", str(out), "--objective", "nsgan", "--iters-per-call", "20"]
  code, err = run(bad + ["--lr-d", "1e8", "--lr-g", "1e8"], capsys)
  assert code == 1 and "non-finite" in err
  step = int(err.split("generator iteration ")[1].split(";")[0]) - 1
  assert step >= 1 and os.listdir(out / "checkpoints") == [str(step)]
  # the checkpoint is accepted with another learning rate (after lr 1e8 its parameters are
  # huge, so training may diverge again: exit 1, not the refusal's 2)
  code, err = run(bad + ["--resume", "--lr-d", "1e-4", "--lr-g", "1e-4"], capsys)
  assert code in (0, 1) and "changed option: config.lr_d" in err
  m = json.loads((out / "metrics.json").read_text())
  assert m["start_iteration"] == step


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_skipped_updates_are_counted_and_all_skipped_fails(tmp_path, capsys):
  """Was: a run whose every update was skipped reported nothing and exited 0."""
  code, err = run(BASE + ["--out", str(tmp_path / "o"), "--objective", "nsgan",
                          "--lr-d", "1e30", "--lr-g", "1e30", "--skip-nonfinite"], capsys)
  assert code == 1 and "skipped non-finite updates:" in err and "learned nothing" in err
  m = json.loads((tmp_path / "o" / "metrics.json").read_text())
  assert m["skipped_updates"]["critic"] > 0 and m["stop_reason"] == "all_skipped"


def test_unreachable_coordinator_fails_in_time_naming_the_address(tmp_path, capsys):
  """Was: 300 s of silence, then a C++ check-failure trace."""
  t0 = time.time()
  code, err = run(BASE + ["--out", str(tmp_path / "o"), "--parallel", "shard_map",
                          "--coordinator-address", "127.0.0.1:9", "--num-processes", "2",
                          "--process-id", "1", "--coordinator-timeout", "2"], capsys)
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "--coordinator-address" in err and "127.0.0.1:9" in err and "2 s" in err
  assert time.time() - t0 < 10


def test_reproduce_refuses_a_bad_output_folder_before_computing(tmp_path, capsys):
  from experiments import reproduce
  (tmp_path / "f").write_text("x")
  t0 = time.time()
  with pytest.raises(SystemExit) as e:
    reproduce.main(["--only", "optimal_critic", "--out", str(tmp_path / "f")])
  err = capsys.readouterr().err
  assert e.value.code == 2 and "--out" in err and "not a folder" in err
  assert time.time() - t0 < 5
