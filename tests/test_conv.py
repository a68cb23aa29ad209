"""Convolutions as patches + matmul equal flax's convolutions (values and gradients)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wgan_jax.models import DCGANCritic, DCGANGenerator, ResNetCritic, ResNetGenerator
from wgan_jax.models.conv import Conv, ConvTranspose, conv2d


@pytest.mark.parametrize("size,stride,k", [
    pytest.param(7, 2, 5, marks=pytest.mark.slow), (4, 1, 3), (1, 2, 5)])
def test_patches_equal_flax_values_and_input_gradients(size, stride, k):
  x = jax.random.normal(jax.random.key(0), (3, size, size, 4))
  pairs = [(Conv(6, (k, k), (stride, stride), impl="patches"),
            nn.Conv(6, (k, k), (stride, stride), padding="SAME"))]
  if stride > 1 or k > 1:
    pairs.append((ConvTranspose(6, (k, k), (stride, stride), impl="patches"),
                  nn.ConvTranspose(6, (k, k), (stride, stride), padding="SAME")))
  for ours, ref in pairs:
    v = ref.init(jax.random.key(1), x)
    np.testing.assert_allclose(ours.apply(v, x), ref.apply(v, x), atol=2e-5)
    # the gradient-penalty path: the gradient of a scalar of the input gradient (2nd order)
    def gp(module):
      g = jax.grad(lambda x_: jnp.sum(jnp.tanh(module.apply(v, x_))))
      return jax.grad(lambda p: jnp.sum(jax.grad(lambda x_: jnp.sum(jnp.tanh(
          module.apply(p, x_))))(x) ** 2))(v), g(x)
    (pa, ga), (pb, gb) = gp(ours), gp(ref)
    np.testing.assert_allclose(ga, gb, atol=2e-5)
    for a, b in zip(jax.tree_util.tree_leaves(pa), jax.tree_util.tree_leaves(pb)):
      np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_impls_agree_in_the_models_and_share_parameters():
  z = jax.random.normal(jax.random.key(0), (2, 16))
  for gen, crit in [(DCGANGenerator, DCGANCritic), (ResNetGenerator, ResNetCritic)]:
    g_p = gen(image_shape=(8, 8, 1), dim=8, conv_impl="patches")
    g_x = gen(image_shape=(8, 8, 1), dim=8, conv_impl="xla")
    v = g_x.init(jax.random.key(1), z, train=False)
    x = g_x.apply(v, z, train=False)
    np.testing.assert_allclose(g_p.apply(v, z, train=False), x, atol=1e-5)
    d_p, d_x = crit(dim=8, conv_impl="patches"), crit(dim=8, conv_impl="xla")
    dv = d_x.init(jax.random.key(2), x)
    np.testing.assert_allclose(d_p.apply(dv, x), d_x.apply(dv, x), atol=1e-5)


def test_bad_impl():
  with pytest.raises(ValueError, match="impl"):
    conv2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), impl="fast")
