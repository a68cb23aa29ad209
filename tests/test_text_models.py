"""The language GAN's models: shapes, softmax rows, the convolution, the penalty, decoding."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import penalties
from wgan_jax.models.text import Conv1D, ResBlock, TextCritic, TextGenerator, decode_tokens


def test_generator_emits_softmax_rows_and_critic_one_score():
  g = TextGenerator(seq_len=12, vocab_size=7, width=8, num_blocks=2)
  z = jax.random.normal(jax.random.key(0), (3, 128))
  v = g.init(jax.random.key(1), z)
  p = g.apply(v, z, train=True)
  assert p.shape == (3, 12, 7)
  np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
  assert (p >= 0).all()
  d = TextCritic(width=8, num_blocks=2)
  dv = d.init(jax.random.key(2), p)
  assert d.apply(dv, p).shape == (3,)
  # 5 residual blocks by default, each of two width-5 convolutions.
  full = jax.eval_shape(TextCritic(width=8).init, jax.random.key(3), p)["params"]
  assert sum(k.startswith("ResBlock") for k in full) == 5
  assert full["ResBlock_0"]["Conv1D_0"]["kernel"].shape == (5, 8, 8)


def test_generator_output_is_a_differentiable_softmax():
  """Rows summing to 1 do not make a softmax: a one-hot arg-max output has them too, but no
  gradient, and the critic's gradient must reach the generator through its output (the
  paper's reason for softmax outputs). The output layer's bias b adds b to every position's
  logits, so the derivative of p along b = δ is the softmax Jacobian's, p ⊙ (δ − p·δ), and
  the gradient reaches the first layer."""
  g = TextGenerator(seq_len=12, vocab_size=7, width=8, num_blocks=2)
  z = jax.random.normal(jax.random.key(0), (3, 128))
  params = g.init(jax.random.key(1), z)["params"]
  delta = jax.random.normal(jax.random.key(2), (7,))
  tangent = jax.tree_util.tree_map(jnp.zeros_like, params)
  tangent["Conv1D_0"] = dict(tangent["Conv1D_0"], bias=delta)
  p, dp = jax.jvp(lambda q: g.apply({"params": q}, z), (params,), (tangent,))
  expected = p * (delta - jnp.sum(p * delta, axis=-1, keepdims=True))
  assert float(jnp.abs(expected).max()) > 1e-3
  np.testing.assert_allclose(dp, expected, rtol=1e-4, atol=1e-6)
  # the gradient of a critic-like score reaches every layer
  w = jax.random.normal(jax.random.key(3), (12, 7))
  grads = jax.grad(lambda q: jnp.sum(g.apply({"params": q}, z) * w))(params)
  for path, leaf in jax.tree_util.tree_leaves_with_path(grads):
    assert float(jnp.abs(leaf).max()) > 1e-6, jax.tree_util.keystr(path)


def test_conv1d_equals_flax_conv_with_same_padding():
  x = jax.random.normal(jax.random.key(0), (2, 9, 4))
  for k in (1, 5):
    ours = Conv1D(6, k)
    params = ours.init(jax.random.key(1), x)
    ref = nn.Conv(6, (k,), padding="SAME")
    np.testing.assert_allclose(ours.apply(params, x), ref.apply(params, x), atol=1e-5)


def test_resblock_scales_its_branch_by_0_3():
  x = jax.random.normal(jax.random.key(0), (2, 6, 4))
  block = ResBlock(4)
  v = block.init(jax.random.key(1), x)
  h = block.apply(v, x) - x
  v0 = jax.tree_util.tree_map(lambda a: a, v)
  unscaled = ResBlock(4, scale=1.0).apply(v0, x) - x
  np.testing.assert_allclose(h, 0.3 * unscaled, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_norm_over_sequence_and_vocabulary_is_analytic():
  # A linear critic f(x) = Σ_{l,v} W[l,v] x[l,v] has ∇f = W everywhere: ‖∇f‖ = ‖W‖_F.
  w = jax.random.normal(jax.random.key(0), (5, 7))
  f = lambda x: jnp.einsum("blv,lv->b", x, w)
  real = jax.nn.one_hot(jnp.array([[0, 1, 2, 3, 4]] * 4), 7)
  fake = jax.nn.softmax(jax.random.normal(jax.random.key(1), (4, 5, 7)))
  norms = penalties.critic_input_gradient_norms(f, real)
  np.testing.assert_allclose(norms, float(jnp.linalg.norm(w)), rtol=1e-5)
  gp = wj.gradient_penalty(f, real, fake, jax.random.key(2))
  np.testing.assert_allclose(gp, (float(jnp.linalg.norm(w)) - 1) ** 2, rtol=1e-5)


def test_decoding_by_argmax_and_by_sampling():
  p = jnp.array([[[0.1, 0.9], [0.8, 0.2]]])
  np.testing.assert_array_equal(decode_tokens(p, "argmax"), [[1, 0]])
  probs = jnp.broadcast_to(jnp.array([0.2, 0.8]), (20000, 1, 2))
  ids = decode_tokens(probs, "sample", jax.random.key(0))
  assert ids.shape == (20000, 1) and ids.dtype == jnp.int32
  assert float(ids.mean()) == pytest.approx(0.8, abs=0.02)
  np.testing.assert_array_equal(decode_tokens(probs, "sample", jax.random.key(0)), ids)
  with pytest.raises(ValueError, match="^key: "):
    decode_tokens(p, "sample")
  with pytest.raises(ValueError, match="method: unknown decoding 'beam'"):
    decode_tokens(p, "beam")
