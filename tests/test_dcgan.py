"""DCGAN models: shapes for several image sizes, and a short WGAN-GP step on digits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax.data.images import array_sampler, load_digits
from wgan_jax.models import DCGANCritic, DCGANGenerator

# Training runs, several devices or processes: the slow tier (CI runs it).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_shapes(shape):
  g, d = DCGANGenerator(image_shape=shape, dim=8), DCGANCritic(dim=8, norm="layer")
  z = jnp.zeros((3, 16))
  gv = g.init(jax.random.key(0), z, train=False)
  x = g.apply(gv, z, train=False)
  assert x.shape == (3,) + shape and float(jnp.max(jnp.abs(x))) <= 1.0
  dv = d.init(jax.random.key(1), x)
  assert d.apply(dv, x).shape == (3,)
  if shape == (32, 32, 3):  # the official CIFAR layout: 4·4·4·dim, then 2·dim, dim, 3 maps
    assert gv["params"]["Dense_0"]["kernel"].shape == (16, 4 * 4 * 4 * 8)
    assert gv["params"]["ConvTranspose_0"]["kernel"].shape[-1] == 2 * 8
    assert gv["params"]["ConvTranspose_1"]["kernel"].shape[-1] == 8
    assert gv["params"]["ConvTranspose_2"]["kernel"].shape[-1] == 3


def test_wgan_gp_on_digits_runs_and_refuses_batchnorm_critic():
  xt, *_ = load_digits()
  data = jnp.asarray(xt)
  cfg = wj.make_config("wgan-gp", batch_size=16, latent_dim=16, n_critic=1)
  gan = wj.GAN(DCGANGenerator(image_shape=(8, 8, 1), dim=8), DCGANCritic(dim=8, norm="layer"),
               cfg, array_sampler)
  state = gan.init(jax.random.key(0), data)
  state, m = gan.train_step(iterations=1)(state, jax.random.key(1), data)
  assert np.isfinite(m["d_loss"]).all() and m["gp"][-1] > 0
  assert gan.sample(state, jax.random.key(2), 4).shape == (4, 8, 8, 1)
  bad = wj.GAN(DCGANGenerator(image_shape=(8, 8, 1), dim=8), DCGANCritic(dim=8, norm="batch"),
               cfg, array_sampler)
  with pytest.raises(ValueError, match="BatchNorm"):
    bad.init(jax.random.key(0), data)
