"""One set of steps for the plain GAN and MIX+GAN (players as values), and compiled steps that
live and die with their GAN."""

import gc
import weakref

import jax
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import train
from wgan_jax.data import make_toy_dataset
from wgan_jax.mixture import MixtureGAN, MixturePlayers, mixture_of
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.parallel import ParallelTrainer

DS = make_toy_dataset("8gaussians")


def sample_real(data, key):
  return DS.sample_one(key)


def make_gan(objective="wgan-gp", **overrides):
  overrides.setdefault("batch_size", 8)
  cfg = wj.make_config(objective, **overrides)
  return wj.GAN(MLPGenerator(width=8, depth=1), MLPCritic(width=8, depth=1), cfg, sample_real)


def test_mixture_is_a_players_value_over_the_same_steps():
  gan = make_gan()
  mix = MixtureGAN.from_gan(gan, components=2, entropy_weight=0.3)
  assert gan.players == train.SinglePlayers()
  assert mix.players == MixturePlayers(2, 0.3)
  assert (mix.components, mix.entropy_weight) == (2, 0.3)
  assert (gan.objective_name, mix.objective_name) == ("wgan-gp", "mix+wgan-gp")
  assert not hasattr(gan, "components")
  # callers tell a mixture by its players value, not by probing attributes
  assert mixture_of(gan) is None and mixture_of(mix) == MixturePlayers(2, 0.3)
  # The steps are written once, in GAN: the mixture defines none of them.
  for name in ("init", "critic_grads", "generator_grads", "critic_payoff", "generator_payoff",
               "_critic_step", "_generator_step", "_train_iterations", "train_step",
               "critic_step", "generator_step", "d_optimizer", "g_optimizer", "sample",
               "critic_values"):
    assert name in vars(train.GAN) and name not in vars(MixtureGAN), name
  # The players survive dataclasses.replace (how parallel.shard_gan binds the device axis).
  sharded = ParallelTrainer(mix, "shard_map").gan
  assert isinstance(sharded, MixtureGAN) and sharded.players == mix.players
  assert sharded.num_shards == 4 and sharded.axis_name is not None


def test_players_is_not_an_argument():
  with pytest.raises(TypeError):
    wj.GAN(MLPGenerator(), MLPCritic(), wj.make_config("nsgan"), sample_real,
           players=MixturePlayers(2))


def test_batch_not_divisible_names_the_field():
  with pytest.raises(wj.ConfigError, match="^batch_size: .*does not divide") as info:
    wj.GAN(MLPGenerator(), MLPCritic(), wj.make_config("nsgan", batch_size=10), sample_real,
           axis_name="d", num_shards=4)
  assert info.value.field == "batch_size"
  with pytest.raises(wj.ConfigError, match="^backend: "):
    ParallelTrainer(make_gan(), "gpu_magic")


def test_batchnorm_critic_error_names_no_flag():
  gan = wj.GAN(MLPGenerator(width=8, depth=1), MLPCritic(width=8, depth=1, norm="batch"),
               wj.make_config("wgan-gp", batch_size=8), sample_real)
  for g in (gan, MixtureGAN.from_gan(gan, components=2)):
    with pytest.raises(wj.ConfigError, match="^critic: .*BatchNorm") as info:
      g.init(jax.random.key(0))
    assert "--" not in str(info.value)


def _dead_after_gc(ref):
  gc.collect()
  return ref() is None


@pytest.mark.parametrize("kind", ["plain", "mixture"])
def test_compiled_once_and_dropped_with_the_gan(kind):
  gan = make_gan()
  if kind == "mixture":
    gan = MixtureGAN.from_gan(gan, components=2)
  step = gan.train_step(2, 3)
  assert gan.train_step(2, 3) is step  # built once per (n_critic, iterations)
  assert gan.train_step(None, 3) is gan.train_step(gan.config.n_critic, 3)
  assert gan.critic_step is gan.critic_step and gan.generator_step is gan.generator_step
  state = gan.init(jax.random.key(0))
  state, m = step(state, jax.random.key(1))
  state, m = gan.train_step(2, 3)(state, jax.random.key(2))  # trace_once: no recompiling
  assert np.isfinite(m["d_loss"]).all()
  ref = weakref.ref(gan)
  del gan, step
  assert _dead_after_gc(ref)


@pytest.mark.slow  # the slow tier (CI runs it): keeps the default tier within 4 minutes
def test_independent_runs_and_parallel_trainer_are_dropped_too():
  gan = make_gan("nsgan")
  runs = wj.IndependentRuns(gan)
  step = runs.train_step(iterations=2)
  assert runs.train_step(iterations=2) is step
  states, _ = step(runs.init(jax.random.split(jax.random.key(0), 2)),
                   jax.random.split(jax.random.key(1), 2))
  trainer = ParallelTrainer(gan, "shard_map")
  pstep = trainer.train_step(1, 1)
  assert trainer.train_step(1, 1) is pstep
  pstep(trainer.put(gan.init(jax.random.key(0))), jax.random.key(1))
  refs = [weakref.ref(x) for x in (gan, runs, trainer, trainer.gan)]
  del gan, runs, step, trainer, pstep
  assert _dead_after_gc(refs[0]) and all(r() is None for r in refs)
