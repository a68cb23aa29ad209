"""The open game: a user-defined objective, LSGAN and hinge losses, R1/R2 (lazy), DRAGAN.

Every value is checked against an independent computation: TF-GAN's published test vectors,
hand values, or the closed form of a linear or quadratic critic.
"""


import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import penalties
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator

# TF-GAN's losses_impl_test.py constants and expected values (LeastSquaresLossTest).
TFGAN_REAL = np.array([-5.0, 1.4, 12.5, 2.7], np.float32)
TFGAN_FAKE = np.array([10.0, 4.4, -5.5, 3.6], np.float32)
DS = make_toy_dataset("8gaussians")


class LossTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_least_squares_matches_tfgan_test_vectors(self):
    np.testing.assert_allclose(self.variant(wj.least_squares_generator_loss)(TFGAN_FAKE),
                               17.69625, rtol=1e-6)
    np.testing.assert_allclose(
        self.variant(wj.least_squares_discriminator_loss)(TFGAN_REAL, TFGAN_FAKE), 41.73375,
        rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_hinge_hand_values(self):
    # relu(1 - r): 6, 0, 0, 0 -> 1.5;  relu(1 + f): 11, 5.4, 0, 4.6 -> 5.25.
    np.testing.assert_allclose(
        self.variant(wj.hinge_discriminator_loss)(TFGAN_REAL, TFGAN_FAKE), 1.5 + 5.25,
        rtol=1e-6)
    np.testing.assert_allclose(self.variant(wj.hinge_generator_loss)(TFGAN_FAKE),
                               -np.mean(TFGAN_FAKE), rtol=1e-6)

  def test_terms_are_the_per_example_losses(self):
    r, f = wj.least_squares_discriminator_terms(TFGAN_REAL, TFGAN_FAKE)
    np.testing.assert_allclose(r, 0.5 * (TFGAN_REAL - 1) ** 2, rtol=1e-6)
    np.testing.assert_allclose(f, 0.5 * TFGAN_FAKE ** 2, rtol=1e-6)
    np.testing.assert_allclose(wj.least_squares_generator_terms(TFGAN_FAKE),
                               0.5 * (TFGAN_FAKE - 1) ** 2, rtol=1e-6)
    r, f = wj.hinge_discriminator_terms(TFGAN_REAL, TFGAN_FAKE)
    np.testing.assert_allclose(r, [6, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(f, [11, 5.4, 0, 4.6], rtol=1e-6)

  def test_registered_objectives(self):
    for name, d_loss in (("lsgan", wj.least_squares_discriminator_loss),
                         ("hinge", wj.hinge_discriminator_loss)):
      game = wj.get_objective(name)
      np.testing.assert_allclose(game.critic_loss(TFGAN_REAL, TFGAN_FAKE),
                                 d_loss(TFGAN_REAL, TFGAN_FAKE), rtol=1e-6)
    assert wj.get_objective("dragan").penalty_points == "perturbed-real"
    assert wj.make_config("dragan").gp_weight == 10.0

  def test_losses_refuse_bad_scores(self):
    with pytest.raises(wj.ConfigError, match="^fake_scores: "):
      wj.hinge_generator_loss(jnp.zeros((4, 1)))
    with pytest.raises(wj.ConfigError, match="^real_scores: "):
      wj.least_squares_discriminator_loss(jnp.zeros((0,)), jnp.zeros(3))


# ------------------------------------------------------------------ the regularisers
A = np.array([3.0, -4.0, 12.0], np.float32)     # ‖a‖ = 13
X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
linear = lambda x: x @ A
quadratic = lambda x: 0.5 * jnp.sum(x ** 2, axis=-1) * 3.0   # ∇ = 3x, ‖∇‖² = 9‖x‖²


def test_r1_r2_closed_forms():
  np.testing.assert_allclose(wj.r1_penalty(linear, X, gamma=2.0), 169.0, rtol=1e-6)
  np.testing.assert_allclose(wj.r2_penalty(linear, X, gamma=0.5), 169.0 / 4, rtol=1e-6)
  expected = 0.5 * 10.0 * np.mean(9.0 * np.sum(X ** 2, axis=1))
  np.testing.assert_allclose(wj.r1_penalty(quadratic, X, gamma=10.0), expected, rtol=1e-5)
  np.testing.assert_allclose(jax.jit(lambda x: wj.r2_penalty(quadratic, x, gamma=10.0))(X),
                             expected, rtol=1e-5)


def test_one_gradient_norm_primitive():
  sq = penalties.critic_input_gradient_sqnorms(quadratic, X)
  np.testing.assert_allclose(sq, 9 * np.sum(X ** 2, axis=1), rtol=1e-5)
  np.testing.assert_allclose(penalties.critic_input_gradient_norms(quadratic, X), np.sqrt(sq),
                             rtol=1e-6)


def test_dragan_penalty_closed_forms():
  key = jax.random.key(3)
  np.testing.assert_allclose(wj.dragan_penalty(linear, X, key), 12.0 ** 2, rtol=1e-6)
  # Quadratic critic: ‖∇f(x̂)‖ = 3‖x̂‖ at x̂ = x + α·C·std(x)·δ, recomputed from the same draws.
  k_noise, k_alpha = jax.random.split(key)
  delta = np.asarray(jax.random.uniform(k_noise, X.shape))
  alpha = np.asarray(jax.random.uniform(k_alpha, (X.shape[0],)))
  x_hat = X + alpha[:, None] * 0.5 * X.std() * delta
  expected = np.mean((3 * np.linalg.norm(x_hat, axis=1) - 1) ** 2)
  np.testing.assert_allclose(wj.dragan_penalty(quadratic, X, key), expected, rtol=1e-5)


def test_penalty_arguments_are_named():
  with pytest.raises(wj.ConfigError, match="^gamma: "):
    wj.r1_penalty(linear, X, gamma=-1.0)
  with pytest.raises(wj.ConfigError, match="^x: "):
    wj.r1_penalty(linear, jnp.zeros((0, 3)))
  with pytest.raises(wj.ConfigError, match="^critic_fn: "):
    wj.r2_penalty(lambda x: x, X)


# ------------------------------------------------------------------ in the steps
def toy_gan(objective, **kw):
  cfg = wj.make_config(objective, batch_size=32, **kw)
  return wj.GAN(MLPGenerator(width=16, depth=2), MLPCritic(width=16, depth=2), cfg,
                lambda _, k: DS.sample_one(k))


def test_r1_in_the_step_is_the_library_penalty_and_lazy_scales_it():
  eager = toy_gan("nsgan", r1_weight=5.0)
  lazy = toy_gan("nsgan", r1_weight=5.0, lazy_every=4)
  state = eager.init(jax.random.key(0))
  key = jax.random.key(1)
  # The step's r1 equals r1_penalty on the step's own real batch (recomputed from the draws).
  real, _, _, _ = eager._critic_inputs(state, key, None)
  d = state.critic
  critic_fn = lambda x: eager.apply_critic(d.params, d.model_state, x, train=False)[0]
  _, m = eager.critic_step(state, key)
  np.testing.assert_allclose(m["r1"], wj.r1_penalty(critic_fn, real, gamma=5.0), rtol=1e-5)
  # Lazy: k·R1 at critic steps 0, 4, 8, ...; 0 in between.
  s, values = lazy.init(jax.random.key(0)), []
  for _ in range(6):
    s, m_lazy = lazy.critic_step(s, key)
    values.append(float(m_lazy["r1"]))
  np.testing.assert_allclose(values[0], 4 * float(m["r1"]), rtol=1e-5)
  assert values[4] > 0 and values[1:4] == [0.0, 0.0, 0.0] and values[5] == 0.0


def test_lazy_without_r1_is_refused():
  with pytest.raises(wj.ConfigError, match="^lazy_every: "):
    wj.make_config("nsgan", lazy_every=4)


def test_dragan_step_penalises_points_near_the_real_data():
  gan = toy_gan("dragan")
  state = gan.init(jax.random.key(0))
  real, fake, draws, _ = gan._critic_inputs(state, jax.random.key(1), None)
  offset = np.asarray(draws.partner - real)
  std = float(np.std(np.asarray(real)))
  # x_p = x + ½·std·δ, δ ∈ [0, 1): offsets within [0, ½·std), independent of the fake batch.
  assert offset.min() >= 0 and offset.max() < 0.5 * std + 1e-6 and offset.max() > 0.3 * std
  _, m = gan.critic_step(state, jax.random.key(1))
  assert float(m["gp"]) > 0


# ------------------------------------------------------------------ your own game
def my_hinge():
  """A hinge game written here, outside the library, from jax.nn alone."""
  return wj.Objective(
      "my-hinge",
      critic_terms=lambda r, f: (jax.nn.relu(1.0 - r), jax.nn.relu(1.0 + f)),
      generator_terms=lambda f: -f,
      defaults=dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.9, n_critic=2))


def test_user_objective_through_make_config():
  cfg = wj.make_config(my_hinge(), batch_size=32)
  assert cfg.n_critic == 2 and cfg.objective_name == "my-hinge" and cfg.game.name == "my-hinge"
  assert hash(cfg) == hash(wj.make_config(cfg.objective, batch_size=32))  # a static argument


def test_user_hinge_trains_exactly_as_the_library_hinge():
  mine = toy_gan(my_hinge())
  ours = toy_gan("hinge", **my_hinge().defaults)
  s1 = mine.init(jax.random.key(0))
  s2 = ours.init(jax.random.key(0))
  s1, m1 = mine.train_step(iterations=5)(s1, jax.random.key(1))
  s2, m2 = ours.train_step(iterations=5)(s2, jax.random.key(1))
  chex.assert_trees_all_close(s1, s2, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(m1["d_loss"], m2["d_loss"], rtol=1e-6)
  assert mine.objective_name == "my-hinge"


def test_bad_user_objective_is_named():
  with pytest.raises(wj.ConfigError, match="^critic_terms: "):
    wj.Objective("x", critic_terms=3, generator_terms=lambda f: -f)
  with pytest.raises(wj.ConfigError, match="^penalty_points: "):
    wj.Objective("x", lambda r, f: (r, f), lambda f: -f, penalty_points="elsewhere")
  with pytest.raises(wj.ConfigError, match="^objective: "):
    wj.make_config(3.0)
