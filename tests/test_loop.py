"""The one loop (experiments/loop.py) and the typed configs and flags (experiments/cli.py)."""

import dataclasses

import jax
import numpy as np
import pytest

import wgan_jax as wj
from experiments import cli
from experiments.configs import GameConfig, TEXT_PRESETS, TOY_PRESETS, TextConfig, ToyConfig
from experiments.loop import LoopConfig, RunResult, StopReason, train_and_evaluate
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator


def tiny_gan(objective="wgan-gp", **kw):
  data = make_toy_dataset("8gaussians")
  cfg = wj.make_config(objective, batch_size=16, **kw)
  return wj.GAN(MLPGenerator(width=8), MLPCritic(width=8), cfg,
                lambda _, key: data.sample_one(key))


def loop(**kw):
  return LoopConfig(**dict(dict(iters=20, iters_per_call=10, eval_every=10, log_every=5,
                                progress=False), **kw))


def test_loop_equals_the_fused_step_and_writes_nothing_without_a_workdir(tmp_path,
                                                                        monkeypatch):
  monkeypatch.chdir(tmp_path)
  gan = tiny_gan()
  calls = []
  r = train_and_evaluate(gan, loop(eval_at_start=True), None,
                         evaluate=lambda s, k, it: calls.append(it) or {"it": float(it)})
  assert isinstance(r, RunResult) and r.stop_reason is StopReason.COMPLETED
  assert r.generator_iterations == 20 and calls == [0, 10]
  assert [e["iteration"] for e in r.evaluations] == [0, 10]
  assert r.history["iteration"] == [5, 10, 15, 20]
  assert not any(tmp_path.iterdir())
  # the same iterations through the fused step directly, with the loop's keys
  k_init, k_train, _ = jax.random.split(jax.random.key(0), 3)
  state = gan.init(k_init)
  state, m = gan.train_step(iterations=20)(state, k_train)
  for a, b in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(r.state)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(r.history["d_loss"][-1], float(m["d_loss"][-1]), rtol=1e-5)


@pytest.mark.slow  # the slow tier (CI runs it): keeps the default tier within 4 minutes
def test_seeds_are_independent_runs():
  gan = tiny_gan("nsgan")
  r = train_and_evaluate(gan, loop(seeds=3), None)
  assert jax.tree_util.tree_leaves(r.state)[0].shape[0] == 3
  assert len(r.history["d_loss"][-1]) == 3  # one value per seed
  assert len(set(np.round(r.history["d_loss"][-1], 6))) == 3  # different seeds differ


def test_exclude_compile_time_counts_only_the_calls():
  gan = tiny_gan("nsgan")
  r = train_and_evaluate(gan, loop(exclude_compile_time=True), None)
  # compiling takes far longer than two calls of a width-8 MLP step
  assert r.train_seconds < r.first_call_seconds, (r.train_seconds, r.first_call_seconds)


def test_nonfinite_stop_is_data():
  gan = tiny_gan("wgan-gp", lr_d=1e30, lr_g=1e30)
  r = train_and_evaluate(gan, loop(iters=40), None)
  assert r.stop_reason is StopReason.NONFINITE and r.stop_reason.exit_code == 1
  assert "non-finite" in r.stopped and r.generator_iterations < 40
  assert StopReason.SIGNAL.exit_code == 130 and StopReason.STOP_AT.exit_code == 0


def test_stop_at_is_data(tmp_path):
  gan = tiny_gan("nsgan")
  r = train_and_evaluate(gan, loop(stop_at=10), str(tmp_path), fingerprint={})
  assert r.stop_reason is StopReason.STOP_AT and r.generator_iterations == 10
  assert (tmp_path / "checkpoints" / "10").is_dir()


def test_final_evaluation_is_a_hook(tmp_path):
  gan = tiny_gan("nsgan")
  calls = []

  def final(state, key, it):
    # after the last checkpoint, with the run's final key, on the final state
    calls.append((it, (tmp_path / "checkpoints" / str(it)).is_dir(), key, state))
    return {"q": float(it)}, "the samples"

  r = train_and_evaluate(gan, loop(), str(tmp_path), fingerprint={},
                         evaluate=lambda s, k, it: {"q": -1.0}, final=final)
  assert [(it, saved) for it, saved, _, _ in calls] == [(20, True)]
  assert jax.random.key_data(calls[0][2]).tolist() == jax.random.key_data(r.final_key).tolist()
  assert calls[0][3] is r.state
  # its metrics end the evaluations (the periodic one at 10 stays), and are the result's
  assert [(e["iteration"], e["q"]) for e in r.evaluations] == [(10, -1.0), (20, 20.0)]
  assert r.evaluations[-1]["seconds"] == r.train_seconds
  assert r.final == {"q": 20.0} and r.final_output == "the samples"
  assert "final" not in r.summary() and "final_output" not in r.summary()
  # a resume of the finished run (its metrics.json written) evaluates nothing again
  (tmp_path / "metrics.json").write_text('{"generator_iterations": 20}')
  r2 = train_and_evaluate(gan, loop(resume=True), str(tmp_path), fingerprint={}, final=final)
  assert r2.stop_reason is StopReason.ALREADY_FINISHED and len(calls) == 1 and r2.final is None
  # stopped early (stop_at), the final evaluation is of the iteration reached
  r3 = train_and_evaluate(gan, loop(stop_at=10), None, final=final)
  assert r3.final == {"q": 10.0} and [e["iteration"] for e in r3.evaluations] == [10]


@pytest.mark.parametrize("values,field", [
    (dict(iters=0), "iters"), (dict(eval_every=-1), "eval_every"),
    (dict(parallel="gpu"), "parallel"), (dict(seed=2**64), "seed"),
    (dict(stop_at=0), "stop_at"),
])
def test_loop_config_errors_name_the_field(values, field):
  with pytest.raises(cli.OptionError) as e:
    LoopConfig(**values)
  assert e.value.field == field and str(e.value).startswith(field + ":")
  assert cli.flag_message(e.value).startswith(cli.flag_of(field) + ":")


def test_job_config_errors_name_the_field():
  with pytest.raises(ValueError, match="norm"):
    ToyConfig(model=dataclasses.replace(ToyConfig().model, norm="batch"))
  with pytest.raises(cli.OptionError) as e:
    GameConfig(objective="began")
  assert e.value.field == "objective"
  with pytest.raises(cli.OptionError) as e:
    TextConfig(game=GameConfig(objective="nsgan", gp_weight=1.0))
  assert e.value.field == "gp_weight"


def test_preset_then_flags():
  parser = cli.build_parser(ToyConfig, prog="p", description="",
                            defaults=cli.flat(TOY_PRESETS["default"]))
  c = cli.resolve(parser.parse_args([]), presets=TOY_PRESETS)
  assert (c.model.width, c.loop.iters, c.game.lr_decay) == (128, 8000, "linear")
  assert c.gan_config().gp_weight == 0.1 and c.gan_config().lr_decay_steps == 8000
  c = cli.resolve(parser.parse_args(["--iters", "50"]), presets=TOY_PRESETS, preset="official")
  assert (c.model.width, c.loop.iters, c.game.lr_decay) == (512, 50, "none")
  assert c == cli.with_leaves(TOY_PRESETS["official"], iters=50)
  # text: the preset changes the critic count the objective's default gives
  parser = cli.build_parser(TextConfig, prog="p", description="",
                            defaults=cli.flat(TEXT_PRESETS["default"]))
  args = parser.parse_args([])
  cpu = cli.resolve(args, presets=TEXT_PRESETS)
  paper = cli.resolve(args, presets=TEXT_PRESETS, preset="paper")
  assert cpu.gan_config().n_critic == 5 and paper.gan_config().n_critic == 10
  assert paper.gan_config().lr_d == 1e-4 and cpu.gan_config().lr_d == 1e-3


def test_every_leaf_field_is_a_flag_with_help():
  parser = cli.build_parser(ToyConfig, prog="p", description="",
                            defaults=cli.flat(TOY_PRESETS["default"]))
  dests = {a.dest for a in parser._actions}
  leaves = {f for f in cli.flat(ToyConfig())}
  hidden = {"seeds", "eval_at_start", "exclude_compile_time", "stop_on_nonfinite"}
  assert leaves - hidden <= dests, leaves - hidden - dests
  assert all(a.help for a in parser._actions)
