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
from wgan_jax.mixture import MixturePlayers, mix_gan, mixture_of
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
  mix = mix_gan(gan, components=2, entropy_weight=0.3)
  assert gan.players == train.SinglePlayers()
  assert type(mix) is train.GAN and mix.players == MixturePlayers(2, 0.3)
  # the same value as the players given as the argument they are
  direct = wj.GAN(gan.generator, gan.critic, gan.config, sample_real,
                  players=MixturePlayers(2, 0.3))
  assert direct.players == mix.players and direct.config == mix.config
  assert (gan.objective_name, mix.objective_name) == ("wgan-gp", "mix+wgan-gp")
  assert not hasattr(gan, "components") and not hasattr(mix, "components")
  # callers tell a mixture by its players value, not by probing attributes
  assert mixture_of(gan) is None and mixture_of(mix) == MixturePlayers(2, 0.3)
  # No GAN subclass anywhere: the steps are written once, in GAN.
  assert train.GAN.__subclasses__() == []
  # The players survive dataclasses.replace (how parallel.shard_gan binds the device axis).
  sharded = ParallelTrainer(mix, "shard_map").gan
  assert type(sharded) is train.GAN and sharded.players == mix.players
  assert sharded.num_shards == 4 and sharded.axis_name is not None


def test_mix_gan_checks_its_arguments_by_name():
  for kw, field in ((dict(components=0), "components"), (dict(entropy_weight=-1.0),
                                                         "entropy_weight")):
    with pytest.raises(wj.ConfigError) as info:
      mix_gan(make_gan(), **kw)
    assert info.value.field == field
  from wgan_jax import mixture
  with pytest.raises(wj.ConfigError) as info:
    mixture.sample_with_components(make_gan(), None, jax.random.key(0), 4)
  assert info.value.field == "gan"


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
  for g in (gan, mix_gan(gan, components=2)):
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
    gan = mix_gan(gan, components=2)
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
