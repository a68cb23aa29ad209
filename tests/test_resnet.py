"""The WGAN-GP ResNet and the WGAN paper's image MLP: shapes, layout, one training step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data.images import array_sampler
from wgan_jax.models import ImageMLPGenerator, MLPCritic, ResNetCritic, ResNetGenerator

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shape", [(8, 8, 1), (32, 32, 3)])
def test_resnet_shapes_and_layout(shape):
  g, d = ResNetGenerator(image_shape=shape, dim=8), ResNetCritic(dim=8)
  z = jnp.zeros((3, 16))
  gv = g.init(jax.random.key(0), z, train=False)
  x = g.apply(gv, z, train=False)
  assert x.shape == (3,) + shape and float(jnp.max(jnp.abs(x))) <= 1.0
  dv = d.init(jax.random.key(1), x)
  assert d.apply(dv, x).shape == (3,)
  # 32×32: three up blocks from 4×4 (as gan_cifar_resnet.py); critic: first + 2 down + 2 plain
  ups = [k for k in gv["params"] if k.startswith("_GenBlock")]
  blocks = [k for k in dv["params"] if k.startswith("_CriticBlock")]
  assert len(ups) == {8: 1, 32: 3}[shape[0]]
  assert len(blocks) == {8: 3, 32: 5}[shape[0]]
  assert "batch_stats" in gv and "batch_stats" not in dv
  with pytest.raises(ValueError, match="supports norm"):
    ResNetCritic(dim=8, norm="batch").init(jax.random.key(1), x)


@pytest.mark.slow
def test_resnet_wgan_gp_step_and_image_mlp():
  data = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype(np.float32))
  cfg = wj.make_config("wgan-gp", batch_size=8, latent_dim=16, n_critic=1)
  gan = wj.GAN(ResNetGenerator(image_shape=(8, 8, 1), dim=8), ResNetCritic(dim=8), cfg,
               array_sampler)
  state = gan.init(jax.random.key(0), data)
  state, m = gan.train_step(iterations=2)(state, jax.random.key(1), data)
  assert np.isfinite(m["d_loss"]).all() and (m["gp"] > 0).all()
  mlp = ImageMLPGenerator(image_shape=(8, 8, 1), width=32)
  v = mlp.init(jax.random.key(0), jnp.zeros((2, 16)))
  out = mlp.apply(v, jnp.ones((2, 16)))
  assert out.shape == (2, 8, 8, 1)
  g = v["params"]["MLPGenerator_0"]
  assert len(g["_MLPBody_0"]) + len(g) - 1 == 4  # 3 hidden ReLU layers + output (as MLP_G)
  critic = MLPCritic(width=32).init(jax.random.key(1), out)["params"]
  assert critic["_MLPBody_0"]["Dense_0"]["kernel"].shape == (64, 32)  # reads flattened images
