"""Objectives, defaults, validation and the WGAN warm-up schedule."""

import dataclasses
import math
import pickle

import pytest

import wgan_jax as wj
from wgan_jax import config, objectives


def test_defaults_per_objective():
  w = wj.make_config("wgan")
  assert (w.optimizer, w.lr_d, w.clip_value, w.n_critic, w.warmup) == ("rmsprop", 5e-5, 0.01, 5,
                                                                      True)
  gp = wj.make_config("wgan-gp")
  assert (gp.optimizer, gp.lr_d, gp.beta1, gp.beta2, gp.gp_weight, gp.n_critic) == (
      "adam", 1e-4, 0.5, 0.9, 10.0, 5)
  assert wj.make_config("wgan-gp-onesided").one_sided
  assert wj.make_config("nsgan").n_critic == 1 and not wj.make_config("nsgan").is_wasserstein
  assert wj.make_config("wgan-gp", gp_weight=0.1).gp_weight == 0.1


@pytest.mark.parametrize("objective,kwargs,field", [
    ("began", {}, "objective"),
    ("wgan", {"clip_value": 0.0}, "clip_value"),
    ("wgan", {"clip_value": -1.0}, "clip_value"),
    ("wgan-gp", {"gp_weight": 0.0}, "gp_weight"),
    ("wgan-gp", {"gp_weight": -3.0}, "gp_weight"),
    ("wgan-gp", {"gp_weight": math.nan}, "gp_weight"),
    ("nsgan", {"batch_size": 0}, "batch_size"),
    ("nsgan", {"batch_size": 2.5}, "batch_size"),
    ("nsgan", {"batch_size": True}, "batch_size"),
    ("nsgan", {"lr_d": -1e-3}, "lr_d"),
    ("nsgan", {"beta1": 1.0}, "beta1"),
    ("nsgan", {"instance_noise": -0.1}, "instance_noise"),
    ("nsgan", {"weight_penalty": math.inf}, "weight_penalty"),
    ("nsgan", {"n_critic": 0}, "n_critic"),
    ("nsgan", {"lr_dd": 1e-3}, "lr_dd"),
])
def test_bad_values_name_the_field(objective, kwargs, field):
  with pytest.raises(wj.ConfigError, match=f"^{field}: ") as info:
    wj.make_config(objective, **kwargs)
  assert info.value.field == field
  assert "--" not in str(info.value)  # the library speaks Python, not command-line flags
  assert isinstance(info.value, ValueError)


def test_config_error_message_and_pickling():
  e = wj.ConfigError("lr_d", "must be a positive number, got -1")
  assert str(e) == "lr_d: must be a positive number, got -1"
  assert (e.field, e.message) == ("lr_d", "must be a positive number, got -1")
  again = pickle.loads(pickle.dumps(e))
  assert (type(again), again.field, str(again)) == (wj.ConfigError, "lr_d", str(e))


def test_objectives_are_values_in_one_registry():
  assert config.OBJECTIVES == ("gan", "nsgan", "wgan", "wgan-gp", "wgan-gp-onesided", "lsgan",
                               "hinge", "dragan")
  assert tuple(objectives.REGISTRY) == config.OBJECTIVES
  for name, game in objectives.REGISTRY.items():
    assert game.name == name and wj.make_config(name).game is game
    cfg = wj.make_config(name)
    for k, v in game.defaults.items():  # the registry's defaults are the config's
      assert getattr(cfg, k) == v, (name, k)
    assert cfg.is_wasserstein == game.is_wasserstein and cfg.one_sided == game.one_sided
  wgan, gp = objectives.REGISTRY["wgan"], objectives.REGISTRY["wgan-gp-onesided"]
  assert wgan.clips_weights and not wgan.gradient_penalty
  assert gp.gradient_penalty and gp.one_sided and not gp.clips_weights
  with pytest.raises(TypeError):
    gp.defaults["gp_weight"] = 1.0  # immutable
  with pytest.raises(dataclasses.FrozenInstanceError):
    gp.name = "other"
  with pytest.raises(wj.ConfigError, match="^objective: "):
    config.get_objective("began")


def test_batchnorm_check_names_a_python_field():
  gp = wj.make_config("wgan-gp")
  config.check_critic_norm(gp, batch_norm=False)
  config.check_critic_norm(wj.make_config("nsgan"), batch_norm=True)
  with pytest.raises(wj.ConfigError, match="^critic: .*BatchNorm") as info:
    config.check_critic_norm(gp, batch_norm=True)
  assert "--" not in str(info.value)
  with pytest.raises(wj.ConfigError, match="^critic_norm: "):
    config.check_critic_norm(gp, batch_norm=True, field="critic_norm")


def test_warmup_schedule():
  c = wj.make_config("wgan")
  iters = [c.critic_iters(g) for g in range(1002)]
  assert iters[:25] == [100] * 25 and iters[25] == 5 and iters[499] == 5
  assert iters[500] == 100 and iters[501] == 5 and iters[1000] == 100
  assert wj.make_config("wgan", warmup=False).critic_iters(0) == 5
  assert wj.make_config("wgan-gp").critic_iters(0) == 5


@pytest.mark.parametrize("objective,block", [("wgan", 7), ("wgan-gp", 50), ("wgan", 1)])
def test_plan_blocks_follows_schedule(objective, block):
  c = wj.make_config(objective)
  start, stop = 3, 1203
  plan = list(wj.plan_blocks(c, start, stop, block))
  assert sum(k for _, k in plan) == stop - start
  g = start
  for n, k in plan:
    assert k in (1, block)
    assert all(c.critic_iters(g + i) == n for i in range(k))
    g += k
  assert len({(n, k) for n, k in plan}) <= 3  # at most three compiled programs
