"""Our convolutions ("patches": slices + matmul; "hybrid": the fastest form per derivative) equal
flax's convolutions, in value and in first and second derivatives."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wgan_jax.models import DCGANCritic, DCGANGenerator, ResNetCritic, ResNetGenerator
from wgan_jax.models import conv as conv_mod
from wgan_jax.models.conv import Conv, ConvTranspose, conv2d, hybrid_plan


# The patches convolution (the fallback) compiles slowly: its cases run in the slow tier.
@pytest.mark.parametrize("impl", [pytest.param("patches", marks=pytest.mark.slow), "hybrid"])
@pytest.mark.parametrize("size,stride,k", [
    (8, 2, 5), (4, 1, 3), *(pytest.param(*c, marks=pytest.mark.slow)
                            for c in [(7, 2, 5), (1, 2, 5), (5, 1, 2), (6, 2, 1)])])
def test_ours_equal_flax_values_and_input_gradients(size, stride, k, impl):
  x = jax.random.normal(jax.random.key(0), (3, size, size, 4))
  pairs = [(Conv(6, (k, k), (stride, stride), impl=impl),
            nn.Conv(6, (k, k), (stride, stride), padding="SAME"))]
  if stride > 1 or k > 1:
    pairs.append((ConvTranspose(6, (k, k), (stride, stride), impl=impl),
                  nn.ConvTranspose(6, (k, k), (stride, stride), padding="SAME")))
  for ours, ref in pairs:
    v = ref.init(jax.random.key(1), x)
    # the gradient-penalty path: the gradient of a scalar of the input gradient (2nd order)
    def gp(module):
      g = jax.grad(lambda x_: jnp.sum(jnp.tanh(module.apply(v, x_))))
      return jax.grad(lambda p: jnp.sum(jax.grad(lambda x_: jnp.sum(jnp.tanh(
          module.apply(p, x_))))(x) ** 2))(v), g(x)
    # both forms in one compiled program (op by op, the second-order gradients took 3-4× longer)
    (ya, (pa, ga)), (yb, (pb, gb)) = jax.jit(
        lambda: tuple((m.apply(v, x), gp(m)) for m in (ours, ref)))()
    np.testing.assert_allclose(ya, yb, atol=2e-5)
    np.testing.assert_allclose(ga, gb, atol=2e-5)
    for a, b in zip(jax.tree_util.tree_leaves(pa), jax.tree_util.tree_leaves(pb)):
      np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.slow  # compiles both models in three implementations (about 45 s on 2 cores)
def test_impls_agree_in_the_models_and_share_parameters():
  z = jax.random.normal(jax.random.key(0), (2, 16))
  for gen, crit in [(DCGANGenerator, DCGANCritic), (ResNetGenerator, ResNetCritic)]:
    g_x = gen(image_shape=(8, 8, 1), dim=8, conv_impl="xla")
    v = g_x.init(jax.random.key(1), z, train=False)
    x = g_x.apply(v, z, train=False)
    d_x = crit(dim=8, conv_impl="xla")
    dv = d_x.init(jax.random.key(2), x)
    for impl in ("patches", "hybrid"):
      g_o, d_o = gen(image_shape=(8, 8, 1), dim=8, conv_impl=impl), crit(dim=8, conv_impl=impl)
      np.testing.assert_allclose(g_o.apply(v, z, train=False), x, atol=1e-5)
      np.testing.assert_allclose(d_o.apply(dv, x), d_x.apply(dv, x), atol=1e-5)


def test_hybrid_inside_scan_and_vmap_equals_xla():
  """The custom-VJP family composes with lax.scan (where XLA:CPU's own kernel-gradient
  convolution is slow) and vmap (MIX+GAN stacks components), to second order."""
  xs = jax.random.normal(jax.random.key(0), (2, 3, 8, 8, 4))
  ks = 0.3 * jax.random.normal(jax.random.key(1), (2, 5, 5, 4, 6))

  def gp(impl):
    def one(x, k):
      g = jax.grad(lambda x_: jnp.sum(jnp.tanh(conv2d(x_, k, 2, impl))))
      return jax.grad(lambda k_: jnp.sum(jax.grad(
          lambda x_: jnp.sum(jnp.tanh(conv2d(x_, k_, 2, impl))))(x) ** 2))(k), g(x)
    return jax.lax.scan(lambda c, xk: (c, jax.vmap(one)(*xk)), 0, (xs[None], ks[None]))[1]

  for a, b in zip(gp("hybrid"), gp("xla")):
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.slow  # the slow tier (CI runs it): keeps the default tier within 4 minutes
def test_kernel_gradient_in_batch_chunks_equals_xla(monkeypatch):
  """The hybrid kernel gradient sums per-chunk convolutions over the batch: uneven chunks of an
  odd batch give XLA's kernel gradient, of the convolution and of the transposed one."""
  monkeypatch.setattr(conv_mod, "_GK_CONTRACTION", 20)
  chunks = conv_mod._batch_chunks(5, 16)
  assert len(chunks) == 4 and chunks[0][0] == 0 and chunks[-1][1] == 5
  assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
  x = jax.random.normal(jax.random.key(0), (5, 8, 8, 4))
  k = 0.3 * jax.random.normal(jax.random.key(1), (5, 5, 4, 6))
  for op, inp in ((conv2d, x), (conv_mod.conv2d_transpose, x[:, :4, :4])):
    grads = [jax.grad(lambda k_: jnp.sum(jnp.tanh(op(inp, k_, 2, impl))))(k)
             for impl in ("hybrid", "xla")]
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("size,stride,k", [
    (16, 2, 5), (10, 3, 5), *(pytest.param(*c, marks=pytest.mark.slow)
                              for c in [(9, 2, 4), (7, 2, 3), (5, 2, 1), (6, 2, 2)])])
def test_subpixel_input_gradient_equals_xla(size, stride, k):
  """x̄ as one stride-1 convolution + depth-to-space equals XLA's input gradient, for odd and
  even kernels and inputs (SAME padding differs before and after)."""
  x = jax.random.normal(jax.random.key(0), (2, size, size + 1, 3))
  kern = jax.random.normal(jax.random.key(1), (k, k, 3, 5))
  y, vjp = jax.vjp(lambda x_: conv2d(x_, kern, stride, "xla"), x)
  dy = jax.random.normal(jax.random.key(2), y.shape)
  np.testing.assert_allclose(conv_mod._conv_grad_x_subpixel(dy, kern, stride, x.shape),
                             vjp(dy)[0], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("side", [16, 14])
def test_hybrid_with_subpixel_input_gradient_to_second_order(side):
  """At outputs of 6×6 and more (here 8×8, and the 28×28 models' 7×7) the hybrid input gradient
  is the sub-pixel form: equal to XLA's, inside the gradient penalty's double backward."""
  assert hybrid_plan(2, 5, side // 2)[1] == "subpixel"
  assert hybrid_plan(2, 5, 5)[1] == "patches"
  x = jax.random.normal(jax.random.key(0), (2, side, side, 3))
  kern = 0.3 * jax.random.normal(jax.random.key(1), (5, 5, 3, 4))

  def gp(impl):
    inner = jax.grad(lambda x_, k_: jnp.sum(jnp.tanh(conv2d(x_, k_, 2, impl))))
    return jax.grad(lambda k_: jnp.sum(inner(x, k_) ** 2))(kern), inner(x, kern)
  for a, b in zip(*jax.jit(lambda: (gp("hybrid"), gp("xla")))()):
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_bad_impl():
  with pytest.raises(ValueError, match="impl"):
    conv2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), impl="fast")
