"""The mixture weights' regulariser has the closed-form gradient ∂R/∂α = softmax(α) − 1/T.

R(w) = Σ_k −(1/T)·log(w_k + 1e-6) at w = softmax(α) is, without the 1e-6,
−(1/T)·Σ_k α_k + logsumexp(α), whose gradient is softmax(α) − 1/T: it pulls the weights
towards uniform, and is 0 there. With the 1e-6 the exact gradient is
−(1/T)·(r − w·Σ_k r_k) with r_k = w_k / (w_k + 1e-6), which the float64 check pins down.
"""

import jax
import jax.numpy as jnp
import numpy as np

import wgan_jax as wj


def _regulariser_of_logits(alpha):
  return wj.entropy_regulariser(jax.nn.softmax(alpha))


def test_gradient_is_softmax_minus_uniform():
  ts = (2, 3, 4, 5, 6)
  # 16 random points per T; weights ≥ 0.028, where the 1e-6 changes the gradient by < 6e-6
  rng = np.random.default_rng(0)
  alphas = [jnp.asarray(0.5 * rng.normal(size=(16, t)), jnp.float32) for t in ts]
  grads = jax.jit(lambda alphas: [jax.vmap(jax.grad(_regulariser_of_logits))(a)
                                  for a in alphas])(alphas)  # one program for every T
  for t, alpha, grad in zip(ts, alphas, grads):
    closed = jax.nn.softmax(alpha) - 1.0 / t
    np.testing.assert_allclose(grad, closed, rtol=0, atol=1e-5)
    # the gradient is not small at these points: an R off by a factor, a sign or a form
    # (e.g. the entropy Σ w log w) misses the tolerance by orders of magnitude
    assert float(jnp.mean(jnp.abs(closed))) > 3e-2
    # R(softmax(α + c)) = R(softmax(α)), so the gradient sums to 0
    np.testing.assert_allclose(jnp.sum(grad, axis=1), 0.0, atol=1e-6)


def test_gradient_with_the_epsilon_is_exact_in_float64():
  t = 4
  alpha = np.random.default_rng(0).normal(size=t) * 3.0  # weights down to ~1e-3
  with jax.enable_x64():
    g = np.asarray(jax.grad(_regulariser_of_logits)(jnp.asarray(alpha, jnp.float64)))
  w = np.exp(alpha - alpha.max())
  w /= w.sum()
  r = w / (w + 1e-6)
  exact = -(r - w * r.sum()) / t
  np.testing.assert_allclose(g, exact, rtol=1e-9, atol=1e-15)
  np.testing.assert_allclose(g, w - 1.0 / t, atol=1e-3 / t)  # the 1e-6 matters only this much


def test_uniform_weights_are_the_minimum():
  value_and_grad = jax.jit(jax.value_and_grad(_regulariser_of_logits))
  values = jax.jit(jax.vmap(_regulariser_of_logits))
  for t in (2, 5):
    r0, g = value_and_grad(jnp.full((t,), 0.7))
    np.testing.assert_allclose(g, 0.0, atol=1e-7)
    # R(uniform) = log T (up to the 1e-6), and any other weights give more
    np.testing.assert_allclose(r0, np.log(t), atol=1e-5)
    others = jnp.asarray(np.random.default_rng(t).normal(size=(16, t)), jnp.float32)
    assert bool(jnp.all(values(others) > r0))
