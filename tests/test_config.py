"""Objectives, defaults, validation and the WGAN warm-up schedule."""

import math

import pytest

import wgan_jax as wj


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


@pytest.mark.parametrize("objective,kwargs,option", [
    ("lsgan", {}, "--objective"),
    ("wgan", {"clip_value": 0.0}, "--clip-value"),
    ("wgan", {"clip_value": -1.0}, "--clip-value"),
    ("wgan-gp", {"gp_weight": 0.0}, "--gp-weight"),
    ("wgan-gp", {"gp_weight": -3.0}, "--gp-weight"),
    ("wgan-gp", {"gp_weight": math.nan}, "--gp-weight"),
    ("nsgan", {"batch_size": 0}, "--batch-size"),
    ("nsgan", {"batch_size": 2.5}, "--batch-size"),
    ("nsgan", {"batch_size": True}, "--batch-size"),
    ("nsgan", {"lr_d": -1e-3}, "--lr-d"),
    ("nsgan", {"beta1": 1.0}, "--beta1"),
    ("nsgan", {"instance_noise": -0.1}, "--instance-noise"),
    ("nsgan", {"weight_penalty": math.inf}, "--weight-penalty"),
    ("nsgan", {"n_critic": 0}, "--n-critic"),
])
def test_bad_values_name_the_option(objective, kwargs, option):
  with pytest.raises(wj.ConfigError, match=option):
    wj.make_config(objective, **kwargs)


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
