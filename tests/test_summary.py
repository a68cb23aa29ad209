"""Metric writers: TensorBoard events read back by TensorBoard's own reader, JSON lines."""

import json
import time

from tensorboard.backend.event_processing import event_accumulator

from wgan_jax import summary


def read_scalars(logdir):
  ea = event_accumulator.EventAccumulator(str(logdir))
  ea.Reload()
  return {tag: [(e.step, e.value) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}


def test_tensorboard_scalars_read_back_at_their_steps(tmp_path):
  w = summary.TensorBoardWriter(str(tmp_path / "tb"))
  for step in (10, 20, 30):
    w.scalars(step, {"d_loss": step / 8, "eval/w1": -step / 4})
  w.close()
  assert read_scalars(tmp_path / "tb") == {
      "d_loss": [(10, 1.25), (20, 2.5), (30, 3.75)],
      "eval/w1": [(10, -2.5), (20, -5.0), (30, -7.5)],
  }


def test_tensorboard_drops_non_finite_values(tmp_path):
  w = summary.TensorBoardWriter(str(tmp_path))
  w.scalars(7, {"d_loss": 1.5, "nan": float("nan"), "inf": float("inf")})
  w.scalars(8, {"d_loss": float("-inf")})
  w.close()
  assert read_scalars(tmp_path) == {"d_loss": [(7, 1.5)]}


def test_tensorboard_events_reach_the_file_before_close(tmp_path):
  w = summary.TensorBoardWriter(str(tmp_path), flush_secs=0.1)
  w.scalars(3, {"g_loss": 0.5})
  deadline = time.time() + 10
  while not read_scalars(tmp_path) and time.time() < deadline:
    time.sleep(0.1)
  try:
    assert read_scalars(tmp_path) == {"g_loss": [(3, 0.5)]}
  finally:
    w.close()


def test_tensorboard_resumed_run_adds_a_file_to_the_same_folder(tmp_path):
  first = summary.TensorBoardWriter(str(tmp_path))
  first.scalars(1, {"d_loss": 1.0})
  first.close()
  time.sleep(1.1)  # event files are named by the second they were opened in
  second = summary.TensorBoardWriter(str(tmp_path))
  second.scalars(2, {"d_loss": 2.0})
  second.close()
  assert read_scalars(tmp_path) == {"d_loss": [(1, 1.0), (2, 2.0)]}


def test_jsonl_writer_replaces_non_finite_and_truncates_on_resume(tmp_path):
  path = tmp_path / "out" / "metrics.jsonl"
  w = summary.JsonlWriter(str(path))
  for it in (1, 2, 3):
    w.write(dict(iteration=it, d_loss=float(it) if it != 2 else float("nan")))
  w.close()
  rows = [json.loads(line) for line in path.read_text().splitlines()]
  assert rows == [dict(iteration=1, d_loss=1.0), dict(iteration=2, d_loss=None),
                  dict(iteration=3, d_loss=3.0)]
  w = summary.JsonlWriter(str(path), resume_from=2)
  w.write(dict(iteration=3, d_loss=9.0))
  w.close()
  assert [json.loads(line)["d_loss"] for line in path.read_text().splitlines()] == [1.0, None, 9.0]
  summary.JsonlWriter(str(path)).close()  # a fresh run starts the file anew
  assert path.read_text() == ""



def test_one_protocol_multiwriter_and_prefixed(tmp_path):
  """JSONL and TensorBoard behind `write_scalars`: a MultiWriter sends the same scalars to both,
  Prefixed renames them on the way (the loop's eval/NAME), non-scalars stay out of TensorBoard."""
  tb = summary.TensorBoardWriter(str(tmp_path / "tb"))
  log = summary.JsonlWriter(str(tmp_path / "m.jsonl"))
  both = summary.MultiWriter([log, summary.Prefixed("eval/", tb)])
  both.write_scalars(5, {"w1": 0.5, "per_mode": [1, 2]})
  both.close()   # closes the JSONL; the TensorBoard writer is its owner's (Prefixed wraps it)
  tb.close()
  assert read_scalars(tmp_path / "tb") == {"eval/w1": [(5, 0.5)]}
  assert [json.loads(l) for l in open(tmp_path / "m.jsonl")] == [
      {"iteration": 5, "w1": 0.5, "per_mode": [1, 2]}]


def test_a_real_runs_tensorboard_folder_reads_back(tmp_path):
  """The toy job's tensorboard/ holds its losses at every logged iteration and its evaluations
  under eval/, at the same steps and values as metrics.jsonl and evaluations.jsonl."""
  from experiments import toy
  out = tmp_path / "run"
  assert toy.main(["--iters", "20", "--iters-per-call", "10", "--eval-every", "10", "--width",
                   "8", "--num-samples", "100", "--no-progress", "--log-every", "5",
                   "--batch-size", "32", "--out", str(out)]) == 0
  tb = read_scalars(out / "tensorboard")
  logged = [json.loads(l) for l in open(out / "metrics.jsonl")]
  assert [s for s, _ in tb["d_loss"]] == [r["iteration"] for r in logged] == [5, 10, 15, 20]
  for (_, v), r in zip(tb["g_loss"], logged):
    assert abs(v - r["g_loss"]) <= 1e-6 * max(1.0, abs(r["g_loss"]))
  evals = [json.loads(l) for l in open(out / "evaluations.jsonl")]
  assert [e["iteration"] for e in evals] == [10]
  assert [s for s, _ in tb["eval/w1_exact"]] == [10]
  assert abs(tb["eval/w1_exact"][0][1] - evals[0]["w1_exact"]) < 1e-6
