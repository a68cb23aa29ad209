"""Checkpointer: a round trip, and refusals that name the argument to fix."""

import numpy as np
import pytest

from wgan_jax.checkpoint import CheckpointError, Checkpointer

STATE = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(4, np.int32)}


def test_round_trip_keeps_state_and_extra(tmp_path):
  ckpt = Checkpointer(str(tmp_path), {"objective": "wgan-gp", "sizes": (2, 3)})
  ckpt.save(4, STATE, {"iteration": 4})
  ckpt.close()
  again = Checkpointer(str(tmp_path), {"objective": "wgan-gp", "sizes": [2, 3]})
  state, meta = again.restore(STATE)
  again.close()
  np.testing.assert_array_equal(state["w"], STATE["w"])
  assert int(state["step"]) == 4 and meta["iteration"] == 4


def test_no_checkpoint_names_the_directory(tmp_path):
  ckpt = Checkpointer(str(tmp_path / "empty"), {})
  with pytest.raises(CheckpointError, match=r"^directory: no checkpoint in .*empty"):
    ckpt.restore(STATE)
  ckpt.close()


def test_another_fingerprint_is_refused_naming_each_field(tmp_path):
  ckpt = Checkpointer(str(tmp_path), {"gp_weight": 10.0})
  ckpt.save(1, STATE)
  ckpt.close()
  other = Checkpointer(str(tmp_path), {"gp_weight": 0.5})
  with pytest.raises(CheckpointError, match="another configuration.*gp_weight: checkpoint 10.0, "
                     "this run 0.5.*another directory") as e:
    other.restore(STATE)
  other.close()
  assert "--" not in str(e.value)


def test_a_field_added_since_resumes_at_its_old_value_only(tmp_path):
  """A checkpoint written before `compute_dtype` existed was written in float32: it resumes a
  float32 run, and is another configuration for a bfloat16 one."""
  old = Checkpointer(str(tmp_path), {"config": {"gp_weight": 10.0}})
  old.save(1, STATE)
  old.close()
  same = Checkpointer(str(tmp_path), {"config": {"gp_weight": 10.0, "compute_dtype": "float32"}})
  state, _ = same.restore(STATE)
  same.close()
  assert int(state["step"]) == 4
  other = Checkpointer(str(tmp_path), {"config": {"gp_weight": 10.0,
                                                  "compute_dtype": "bfloat16"}})
  with pytest.raises(CheckpointError, match="config.compute_dtype: checkpoint 'unset', this "
                     "run 'bfloat16'"):
    other.restore(STATE)
  other.close()
