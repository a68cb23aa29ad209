"""Mixed precision (`GANConfig.compute_dtype="bfloat16"`, issue 29 item 4): the networks'
matmuls and convolutions run in bfloat16 while the parameters, the optimiser, the losses and
the penalty's gradient norm stay float32. On the CPU: the compiled step really computes in
bfloat16, the state keeps its float32 types through training, and the critic's losses, penalty
and gradients stay within bfloat16's tolerance of the float32 ones at the same state and draws.
(Speed is an accelerator's question: bfloat16 is emulated, slowly, on a CPU.)"""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.data.images import array_sampler
from wgan_jax.errors import ConfigError
from wgan_jax.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator

# bfloat16 keeps 8 significant bits: each rounding is within 2^-8 ≈ 0.4% of the value; a few
# layers of them put a loss within a few percent of float32's.
REL = 0.05


def _toy(dtype, objective="wgan-gp"):
  ds = make_toy_dataset("8gaussians")
  return wj.GAN(MLPGenerator(width=64), MLPCritic(width=64),
                wj.make_config(objective, batch_size=64, compute_dtype=dtype),
                lambda d, k: ds.sample_one(k))


def test_the_compiled_critic_step_computes_in_bfloat16():
  f32, bf16 = _toy("float32"), _toy("bfloat16")
  state = f32.init(jax.random.key(0))
  text = {n: jax.jit(g.critic_step_fn).lower(state, jax.random.key(1), None).as_text()
          for n, g in (("f32", f32), ("bf16", bf16))}
  assert "bf16" in text["bf16"] and "bf16" not in text["f32"]


@pytest.mark.parametrize("objective", ["wgan-gp", pytest.param("nsgan", marks=pytest.mark.slow)])
def test_losses_penalty_and_grads_within_bfloat16_tolerance(objective):
  f32, bf16 = _toy("float32", objective), _toy("bfloat16", objective)
  state = f32.init(jax.random.key(0))
  key = jax.random.key(7)
  out = {}
  for name, gan in (("f32", f32), ("bf16", bf16)):
    loss, grads, aux, _ = jax.jit(gan.critic_grads)(state, key)
    out[name] = (loss, grads, aux)
  (l32, g32, a32), (l16, g16, a16) = out["f32"], out["bf16"]
  assert l16.dtype == jnp.float32 and all(
      g.dtype == jnp.float32 for g in jax.tree_util.tree_leaves(g16))
  np.testing.assert_allclose(l16, l32, rtol=REL, atol=1e-3)
  np.testing.assert_allclose(a16["d_adv_loss"], a32["d_adv_loss"], rtol=REL, atol=1e-3)
  if objective == "wgan-gp":
    assert a32["gp"] > 1e-3   # an untrained critic's penalty: not a trivial zero
    np.testing.assert_allclose(a16["gp"], a32["gp"], rtol=REL)
  # the gradient: the same direction, about the same length
  v32, v16 = (np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(g)])
              for g in (g32, g16))
  cos = v32 @ v16 / np.linalg.norm(v32) / np.linalg.norm(v16)
  assert cos > 0.99 and abs(np.linalg.norm(v16) / np.linalg.norm(v32) - 1) < REL


@pytest.mark.slow
def test_training_keeps_the_state_float32_and_learns_alike():
  f32, bf16 = _toy("float32"), _toy("bfloat16")
  k_init, k_train = jax.random.split(jax.random.key(0))
  states = {}
  for name, gan in (("f32", f32), ("bf16", bf16)):
    state = gan.init(k_init)
    state, metrics = gan.train_step(iterations=20)(state, k_train)
    states[name] = (state, metrics)
  s16 = states["bf16"][0]
  for a, b in zip(jax.tree_util.tree_leaves(states["f32"][0]), jax.tree_util.tree_leaves(s16)):
    assert a.dtype == b.dtype   # float32 parameters and optimiser moments, int counters
  w32, w16 = (np.asarray(states[n][1]["w_estimate"]) for n in ("f32", "bf16"))
  assert np.all(np.isfinite(w16))
  # 20 iterations of 5 critic steps from the same start: the W estimates track each other
  np.testing.assert_allclose(w16[-5:].mean(), w32[-5:].mean(), rtol=0.15, atol=0.02)


@pytest.mark.slow
def test_batchnorm_statistics_stay_float32_in_a_convolutional_step():
  x = jax.random.uniform(jax.random.key(3), (32, 16, 16, 1), minval=-1, maxval=1)
  gans = {d: wj.GAN(DCGANGenerator(dim=8, image_shape=(16, 16, 1)),
                    DCGANCritic(dim=8, norm="batch"),
                    wj.make_config("nsgan", batch_size=8, compute_dtype=d), array_sampler)
          for d in ("float32", "bfloat16")}
  state = gans["float32"].init(jax.random.key(0), x)
  out = {d: jax.jit(g.train_step(iterations=1))(state, jax.random.key(1), x)
         for d, g in gans.items()}
  for a, b in zip(jax.tree_util.tree_leaves(out["float32"][0]),
                  jax.tree_util.tree_leaves(out["bfloat16"][0])):
    assert a.dtype == b.dtype
  np.testing.assert_allclose(out["bfloat16"][1]["d_loss"], out["float32"][1]["d_loss"],
                             rtol=REL)


def test_an_unknown_compute_dtype_names_the_field():
  with pytest.raises(ConfigError, match="compute_dtype") as e:
    wj.make_config("wgan-gp", compute_dtype="float16")
  assert e.value.field == "compute_dtype"
