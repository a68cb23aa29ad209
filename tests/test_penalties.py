"""Gradient penalty, instance noise and weight penalty against analytic values."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import penalties


def linear_critic(w):
  return lambda x: jnp.reshape(x, (x.shape[0], -1)) @ jnp.ravel(w)


@pytest.mark.parametrize("shape", [(8, 5), (6, 2, 3, 4)])
@pytest.mark.parametrize("scale", [0.3, 1.0, 2.5])
def test_linear_critic_penalty_is_analytic(shape, scale):
  k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
  w = jax.random.normal(k1, shape[1:])
  w = scale * w / jnp.linalg.norm(w)
  real = jax.random.normal(k2, shape)
  fake = 3.0 * jax.random.normal(k3, shape) + 1.0
  for key in jax.random.split(k4, 3):  # any interpolates
    gp = wj.gradient_penalty(linear_critic(w), real, fake, key)
    np.testing.assert_allclose(gp, (scale - 1.0) ** 2, rtol=1e-5, atol=1e-6)
    gp1 = wj.gradient_penalty(linear_critic(w), real, fake, key, one_sided=True)
    np.testing.assert_allclose(gp1, max(scale - 1.0, 0.0) ** 2, rtol=1e-5, atol=1e-6)
    gp2 = wj.gradient_penalty(linear_critic(w), real, fake, key, target=2.0)
    np.testing.assert_allclose(gp2, (scale - 2.0) ** 2, rtol=1e-5, atol=1e-6)


def test_one_sided_is_zero_below_target():
  w = jnp.array([0.6, 0.0, 0.0])
  x = jnp.ones((4, 3))
  assert float(wj.gradient_penalty(linear_critic(w), x, -x, jax.random.key(0),
                                   one_sided=True)) == 0.0


def test_zero_gradient_critic_gives_target_squared_with_finite_gradients():
  x = jax.random.normal(jax.random.key(0), (5, 3))

  def gp_of(c, target):
    return wj.gradient_penalty(lambda xs: c * jnp.sum(xs, axis=1), x, -x, jax.random.key(1),
                               target=target)

  for target in (1.0, 0.5):
    value, grad = jax.value_and_grad(gp_of)(0.0, target)
    assert float(value) == target ** 2
    assert np.isfinite(float(grad))
  # Also through a network whose ReLUs are all dead (gradient exactly zero everywhere).
  w = jnp.full((3,), -1.0)
  dead = lambda p: (lambda xs: jax.nn.relu(xs @ p - 100.0))
  g = jax.grad(lambda p: wj.gradient_penalty(dead(p), x, -x, jax.random.key(2)))(w)
  assert np.all(np.isfinite(g))


def mlp_critic(params):
  def f_one(x):
    h = jnp.tanh(jnp.ravel(x) @ params["w1"] + params["b1"])
    return jnp.dot(h, params["w2"])
  return f_one, lambda xs: jax.vmap(f_one)(xs)


def test_per_example_norms_match_vmap_grad():
  ks = jax.random.split(jax.random.key(3), 5)
  params = dict(w1=jax.random.normal(ks[0], (12, 16)), b1=jax.random.normal(ks[1], (16,)),
                w2=jax.random.normal(ks[2], (16,)))
  f_one, f_batch = mlp_critic(params)
  x = jax.random.normal(ks[3], (7, 3, 4))
  expected = jnp.linalg.norm(jax.vmap(jax.grad(f_one))(x).reshape(7, -1), axis=1)
  np.testing.assert_allclose(penalties.critic_input_gradient_norms(f_batch, x), expected,
                             rtol=1e-5)
  # The full penalty equals the same computation with the same ε drawn by hand.
  real, fake = x, jax.random.normal(ks[4], x.shape)
  key = jax.random.key(9)
  eps = jax.random.uniform(key, (7,))
  x_hat = eps[:, None, None] * real + (1 - eps[:, None, None]) * fake
  norms = jnp.linalg.norm(jax.vmap(jax.grad(f_one))(x_hat).reshape(7, -1), axis=1)
  np.testing.assert_allclose(wj.gradient_penalty(f_batch, real, fake, key),
                             jnp.mean((norms - 1) ** 2), rtol=1e-5)


class GradientPenaltyTransformsTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_jit(self):
    ks = jax.random.split(jax.random.key(4), 3)
    params = dict(w1=jax.random.normal(ks[0], (2, 8)), b1=jnp.zeros(8),
                  w2=jax.random.normal(ks[1], (8,)))
    _, f = mlp_critic(params)
    real = jax.random.normal(ks[2], (6, 2))
    gp = self.variant(lambda r, f_, k: wj.gradient_penalty(f, r, f_, k))(
        real, real + 1.0, jax.random.key(5))
    # An independent reference (was: the penalty compared with itself un-jitted): the tanh
    # MLP's input gradient in closed form, ∇ₓ f = W1 · (w2 ⊙ (1 − tanh²(W1ᵀx + b1))), in
    # float64 NumPy at the same interpolates (ε ~ U[0, 1] per example from the same key).
    eps = np.asarray(jax.random.uniform(jax.random.key(5), (6,)), np.float64)[:, None]
    w1, b1, w2 = (np.asarray(params[k], np.float64) for k in ("w1", "b1", "w2"))
    x = eps * np.asarray(real, np.float64) + (1 - eps) * (np.asarray(real, np.float64) + 1.0)
    grads = (w2 * (1 - np.tanh(x @ w1 + b1) ** 2)) @ w1.T
    ref = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
    np.testing.assert_allclose(gp, ref, rtol=1e-5)

  def test_vmap_over_keys_and_critics(self):
    ws = jax.random.normal(jax.random.key(6), (4, 3))
    real = jax.random.normal(jax.random.key(7), (5, 3))
    keys = jax.random.split(jax.random.key(8), 4)
    batched = jax.vmap(lambda w, k: wj.gradient_penalty(linear_critic(w), real, -real, k))(
        ws, keys)
    looped = [wj.gradient_penalty(linear_critic(w), real, -real, k) for w, k in zip(ws, keys)]
    np.testing.assert_allclose(batched, looped, rtol=1e-5)
    np.testing.assert_allclose(batched, (jnp.linalg.norm(ws, axis=1) - 1) ** 2, rtol=1e-5)


def test_shape_mismatch_raises():
  with pytest.raises(ValueError, match="same shape"):
    wj.gradient_penalty(linear_critic(jnp.ones(3)), jnp.ones((4, 3)), jnp.ones((5, 3)),
                        jax.random.key(0))


def test_instance_noise():
  x = jnp.zeros((200_000,))
  key = jax.random.key(0)
  y = wj.instance_noise(x, key, 0.3)
  np.testing.assert_allclose(float(jnp.std(y)), 0.3, rtol=0.01)
  assert abs(float(jnp.mean(y))) < 0.01
  np.testing.assert_array_equal(wj.instance_noise(x, key, 0.3), y)  # deterministic in key
  np.testing.assert_array_equal(wj.instance_noise(x + 1, key, 0.0), x + 1)
  # Traced std, e.g. from an optax schedule.
  import optax
  sched = optax.linear_schedule(0.5, 0.0, 100)
  stds = jax.jit(jax.vmap(lambda s: jnp.std(wj.instance_noise(x, key, sched(s)))))(
      jnp.arange(0, 101, 50))
  np.testing.assert_allclose(stds, [0.5, 0.25, 0.0], rtol=0.01, atol=1e-6)


def test_weight_penalty():
  params = {"a": jnp.array([1.0, -2.0]), "b": {"c": jnp.array([[3.0]])}}
  assert float(wj.weight_penalty(params)) == 14.0
