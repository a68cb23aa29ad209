"""Losses and their per-example terms against hand-computed values and analytic gradients,
jit and no-jit."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import losses, objectives


def sig(x):
  return 1.0 / (1.0 + math.exp(-x))


REAL = np.array([0.0, 2.0, -0.5], np.float32)
FAKE = np.array([-1.0, 1.0], np.float32)


class LossValuesTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_minimax_discriminator_value(self):
    expected = (-np.mean([math.log(sig(x)) for x in REAL])
                - np.mean([math.log(1 - sig(x)) for x in FAKE]))
    got = self.variant(wj.minimax_discriminator_loss)(REAL, FAKE)
    np.testing.assert_allclose(got, expected, rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_generator_values(self):
    np.testing.assert_allclose(
        self.variant(wj.minimax_generator_loss)(FAKE),
        np.mean([math.log(1 - sig(x)) for x in FAKE]), rtol=1e-6)
    np.testing.assert_allclose(
        self.variant(wj.nonsaturating_generator_loss)(FAKE),
        -np.mean([math.log(sig(x)) for x in FAKE]), rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_wasserstein_values(self):
    np.testing.assert_allclose(self.variant(wj.wasserstein_critic_loss)(REAL, FAKE),
                               FAKE.mean() - REAL.mean(), rtol=1e-6)
    np.testing.assert_allclose(self.variant(wj.wasserstein_generator_loss)(FAKE),
                               -FAKE.mean(), rtol=1e-6)

  def test_stable_for_extreme_logits(self):
    big = jnp.array([80.0, -80.0])
    for v in (wj.minimax_discriminator_loss(big, big), wj.minimax_generator_loss(big),
              wj.nonsaturating_generator_loss(big)):
      assert np.isfinite(v)
    # log σ(-80) = -80 to float precision: no clipping of the probability.
    np.testing.assert_allclose(wj.nonsaturating_generator_loss(jnp.array([-80.0])), 80.0,
                               rtol=1e-6)

  def test_rejects_non_vector_scores(self):
    with pytest.raises(ValueError, match="^fake_scores: "):
      wj.wasserstein_generator_loss(jnp.zeros((4, 1)))


class LossGradientTest(chex.TestCase):

  def test_discriminator_gradient(self):
    s = jax.nn.sigmoid
    g_real, g_fake = jax.grad(wj.minimax_discriminator_loss, argnums=(0, 1))(REAL, FAKE)
    np.testing.assert_allclose(g_real, -(1 - s(REAL)) / len(REAL), rtol=1e-5)
    np.testing.assert_allclose(g_fake, s(FAKE) / len(FAKE), rtol=1e-5)

  def test_generator_gradients(self):
    s = jax.nn.sigmoid
    np.testing.assert_allclose(jax.grad(wj.minimax_generator_loss)(FAKE),
                               -s(FAKE) / len(FAKE), rtol=1e-5)
    np.testing.assert_allclose(jax.grad(wj.nonsaturating_generator_loss)(FAKE),
                               -(1 - s(FAKE)) / len(FAKE), rtol=1e-5)

  def test_wasserstein_gradients(self):
    g_real, g_fake = jax.grad(wj.wasserstein_critic_loss, argnums=(0, 1))(REAL, FAKE)
    np.testing.assert_allclose(g_real, -np.ones(3) / 3, rtol=1e-6)
    np.testing.assert_allclose(g_fake, np.ones(2) / 2, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(wj.wasserstein_generator_loss)(FAKE),
                               -np.ones(2) / 2, rtol=1e-6)

  def test_saturating_and_nonsaturating_share_fixed_point_not_gradient(self):
    # At the equilibrium D(G(z)) = 1/2 (logit 0) both generator losses pull with the same
    # gradient, -1/2 per example ...
    at_half = jnp.zeros((1,))
    np.testing.assert_allclose(jax.grad(wj.minimax_generator_loss)(at_half), [-0.5])
    np.testing.assert_allclose(jax.grad(wj.nonsaturating_generator_loss)(at_half), [-0.5])
    # ... both decrease in the fake logit everywhere (same direction of improvement) ...
    grid = jnp.linspace(-10.0, 10.0, 101)
    assert np.all(jax.vmap(jax.grad(lambda l: wj.minimax_generator_loss(l[None])))(grid) < 0)
    assert np.all(jax.vmap(jax.grad(
        lambda l: wj.nonsaturating_generator_loss(l[None])))(grid) < 0)
    # ... but when D rejects the samples (D(G(z)) ≈ 0) the saturating gradient vanishes and
    # the -log D gradient does not.
    rejected = jnp.array([-15.0])
    g_sat = jax.grad(wj.minimax_generator_loss)(rejected)
    g_ns = jax.grad(wj.nonsaturating_generator_loss)(rejected)
    assert abs(float(g_sat[0])) < 1e-6
    np.testing.assert_allclose(g_ns, [-1.0], atol=1e-6)


class PerExampleTermsTest(chex.TestCase):
  """The per-example terms, and each batch loss as exactly the mean of its terms."""

  @chex.variants(with_jit=True, without_jit=True)
  def test_discriminator_terms(self):
    real_t, fake_t = self.variant(losses.minimax_discriminator_terms)(REAL, FAKE)
    np.testing.assert_allclose(real_t, [-math.log(sig(x)) for x in REAL], rtol=1e-6)
    np.testing.assert_allclose(fake_t, [-math.log(1 - sig(x)) for x in FAKE], rtol=1e-6)
    real_t, fake_t = self.variant(losses.wasserstein_critic_terms)(REAL, FAKE)
    np.testing.assert_array_equal(real_t, -REAL)
    np.testing.assert_array_equal(fake_t, FAKE)

  @chex.variants(with_jit=True, without_jit=True)
  def test_generator_terms(self):
    np.testing.assert_allclose(self.variant(losses.minimax_generator_terms)(FAKE),
                               [math.log(1 - sig(x)) for x in FAKE], rtol=1e-6)
    np.testing.assert_allclose(self.variant(losses.nonsaturating_generator_terms)(FAKE),
                               [-math.log(sig(x)) for x in FAKE], rtol=1e-6)
    np.testing.assert_array_equal(self.variant(losses.wasserstein_generator_terms)(FAKE), -FAKE)

  def test_losses_are_the_means_of_the_terms(self):
    pairs = [(wj.minimax_discriminator_loss, losses.minimax_discriminator_terms),
             (wj.wasserstein_critic_loss, losses.wasserstein_critic_terms)]
    for loss, terms in pairs:
      real_t, fake_t = terms(REAL, FAKE)
      assert float(loss(REAL, FAKE)) == float(jnp.mean(real_t) + jnp.mean(fake_t))
    for loss, terms in [(wj.minimax_generator_loss, losses.minimax_generator_terms),
                        (wj.nonsaturating_generator_loss, losses.nonsaturating_generator_terms),
                        (wj.wasserstein_generator_loss, losses.wasserstein_generator_terms)]:
      assert float(loss(FAKE)) == float(jnp.mean(terms(FAKE)))

  def test_objectives_use_these_terms(self):
    reg = objectives.REGISTRY
    assert reg["gan"].critic_terms is losses.minimax_discriminator_terms
    assert reg["gan"].generator_terms is losses.minimax_generator_terms
    assert reg["nsgan"].generator_terms is losses.nonsaturating_generator_terms
    for name in ("wgan", "wgan-gp", "wgan-gp-onesided"):
      assert reg[name].critic_terms is losses.wasserstein_critic_terms
      assert reg[name].generator_terms is losses.wasserstein_generator_terms
    # an objective's batch losses are the library's
    np.testing.assert_allclose(reg["nsgan"].critic_loss(REAL, FAKE),
                               wj.minimax_discriminator_loss(REAL, FAKE), rtol=1e-7)
    np.testing.assert_allclose(reg["gan"].generator_loss(FAKE), wj.minimax_generator_loss(FAKE),
                               rtol=1e-7)
    np.testing.assert_allclose(reg["wgan"].critic_loss(REAL, FAKE),
                               wj.wasserstein_critic_loss(REAL, FAKE), rtol=1e-7)

  def test_terms_reject_non_vector_scores(self):
    with pytest.raises(ValueError, match="^real_scores: "):
      losses.wasserstein_critic_terms(jnp.zeros((4, 1)), jnp.zeros((4,)))
