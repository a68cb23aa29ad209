"""The third probe's weak groups (issue 26): options a game would silently ignore, values certain
to fail refused up front, each a one-line error naming the flag (CLI) or field (Python)."""

import pytest

import wgan_jax as wj
from experiments import toy
from experiments.configs import STEP_COUNT_MAX, get_config, machine_memory


@pytest.mark.parametrize("job, fields, field", [
    ("toy", dict(objective="gan", warmup=False), "warmup"),           # was: silently ignored
    ("toy", dict(objective="wgan", beta1=0.3), "beta1"),              # RMSProp has no β
    ("images", dict(objective="wgan", beta2=0.5), "beta2"),
    ("toy", dict(objective="nsgan", gp_target=2.0), "gp_target"),     # no penalty to target
    ("toy", dict(mixture_entropy=0.5), "mixture_entropy"),            # no mixture
    ("toy", dict(iters=5 * 10 ** 8), "iters"),                        # was: int32 count overflow
    ("toy", dict(width=10 ** 6), "width"),                            # was: 240 s of silence
    ("toy", dict(batch_size=10 ** 9), "batch_size"),
    ("toy", dict(num_samples=100_000), "num_samples"),                # was: MemoryError after
    ("images", dict(image_size=100_000), "image_size"),               # was: the OOM killer
    ("images", dict(batch_size=10 ** 9), "batch_size"),
    ("text", dict(max_vocab=10 ** 9), "max_vocab"),
])
def test_refused_in_python_naming_the_field(job, fields, field):
  with pytest.raises(wj.ConfigError) as e:
    get_config(job, **fields)
  assert e.value.field == field


@pytest.mark.parametrize("fields", [
    dict(objective="wgan", warmup=False), dict(objective="wgan", optimizer="adam", beta1=0.3),
    dict(objective="nsgan", gp_weight=1.0, gp_target=2.0),
    dict(objective="mix+wgan-gp", mixture_entropy=0.5), dict(mixture=2, mixture_entropy=0.0),
    dict(iters=10 ** 8), dict(num_samples=10_000),
])
def test_the_meaningful_combinations_stay_accepted(fields):
  get_config("toy", **fields)


def test_the_limits_are_the_real_ones():
  """The step-count limit is int32's, and the memory bounds are lower bounds: a config just
  under the machine's memory passes."""
  assert STEP_COUNT_MAX == 2 ** 31 - 1
  c = wj.make_config("wgan-gp")                           # 5 critic steps per iteration
  ok = STEP_COUNT_MAX // c.n_critic
  get_config("toy", iters=ok)
  with pytest.raises(wj.ConfigError, match="^iters: "):
    get_config("toy", iters=ok + 1)
  fits = int((machine_memory() / (2 * 3 * 4.0)) ** 0.5) - 1   # the weights just fit
  get_config("toy", width=fits)


@pytest.mark.parametrize("argv, flag", [
    (["--objective", "gan", "--no-warmup"], "--no-warmup"),
    (["--objective", "wgan", "--beta1", "0.3"], "--beta1"),
    (["--gp-target", "2", "--objective", "nsgan"], "--gp-target"),
    (["--mixture-entropy", "0.5"], "--mixture-entropy"),
    (["--num-samples", "100000"], "--num-samples"),
    (["--width", "1000000"], "--width"),
])
def test_the_command_line_says_it_in_one_line_before_any_work(argv, flag, capsys, tmp_path):
  out = tmp_path / "o"
  with pytest.raises(SystemExit) as e:
    toy.main(argv + ["--out", str(out), "--no-progress"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err
  assert not out.exists()


def test_exact_w1_refuses_sets_past_its_size():
  import numpy as np
  from wgan_jax.metrics import EXACT_W1_MAX
  x = np.zeros((EXACT_W1_MAX + 1, 2))
  with pytest.raises(ValueError, match="^x and y: .*at most 10,000"):
    wj.wasserstein1_exact(x, x)
