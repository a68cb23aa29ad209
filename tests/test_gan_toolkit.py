"""Spectral normalisation, the generator's EMA and DiffAugment: against SVD, a hand average and
hand-built images; and the device-equivalence and resume patterns with each switched on."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import spectral
from wgan_jax.augment import diff_augment, diff_augment_batch
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.parallel import ParallelTrainer

DS = make_toy_dataset("8gaussians")


def toy_gan(objective="hinge", **kw):
  cfg = wj.make_config(objective, batch_size=32, **kw)
  return wj.GAN(MLPGenerator(width=16, depth=2), MLPCritic(width=16, depth=2), cfg,
                lambda _, k: DS.sample_one(k))


# Compiling a step costs seconds, running it milliseconds: the tests of the spectral norm and of
# the patterns share one game with both on (and its compiled train_step(iterations=2)).
SN_EMA = dict(spectral_norm=True, ema_decay=0.9)


@pytest.fixture(scope="module")
def sn_ema_gan():
  return toy_gan(**SN_EMA)


# ------------------------------------------------------------------ spectral normalisation
def test_power_iteration_converges_to_the_largest_singular_value():
  w = jax.random.normal(jax.random.key(0), (3, 3, 4, 5))  # a conv kernel
  u = spectral.init_vectors({"kernel": w}, jax.random.key(1))["kernel"]
  for _ in range(100):
    sigma, u, _ = spectral.power_iteration(w, u)
  np.testing.assert_allclose(sigma, np.linalg.svd(np.asarray(w).reshape(-1, 5),
                                                  compute_uv=False)[0], rtol=1e-4)


def test_normalised_weights_have_unit_spectral_norm():
  params = {"Dense_0": {"kernel": 3.0 * jax.random.normal(jax.random.key(2), (7, 4)),
                        "bias": jnp.ones(4)}}
  vectors = spectral.init_vectors(params, jax.random.key(3))
  assert list(vectors) == ["Dense_0/kernel"]  # biases are not normalised
  for _ in range(50):
    normed, vectors = spectral.normalise(params, vectors)
  assert np.linalg.svd(np.asarray(normed["Dense_0"]["kernel"]), compute_uv=False)[0] == \
      pytest.approx(1.0, rel=1e-4)
  np.testing.assert_array_equal(normed["Dense_0"]["bias"], params["Dense_0"]["bias"])


def test_spectral_norm_in_the_step_advances_u_once_per_critic_step(sn_ema_gan):
  gan = sn_ema_gan
  state = gan.init(jax.random.key(0))
  u0 = state.critic.model_state["spectral"]
  assert set(u0) == {"Dense_0/kernel", "_MLPBody_0/Dense_0/kernel", "_MLPBody_0/Dense_1/kernel"}
  s1, _ = gan.critic_step(state, jax.random.key(1))
  expected = gan.advance_spectral(state.critic.params, state.critic.model_state)["spectral"]
  chex.assert_trees_all_close(s1.critic.model_state["spectral"], expected, rtol=1e-6)
  # The critic's layers act with σ ≈ 1 after training (each u tracks its W).
  s = state
  for _ in range(15):  # 30 iterations
    s, _ = gan.train_step(iterations=2)(s, jax.random.key(2))
  d = s.critic
  for name, sigma in spectral.sigmas(d.params, d.model_state["spectral"]).items():
    flat = {spectral._path(p): w for p, w in jax.tree_util.tree_flatten_with_path(d.params)[0]}
    true = np.linalg.svd(np.asarray(flat[name]), compute_uv=False)[0]
    assert float(sigma) == pytest.approx(true, rel=0.02), name


def test_spectral_norm_bounds_the_critic_lipschitz_constant():
  # Every layer 1-Lipschitz and ReLU 1-Lipschitz: ‖∇f‖ ≤ 1 (up to the power iteration's error).
  gan = toy_gan(spectral_norm=True)
  state = gan.init(jax.random.key(0))
  for _ in range(20):  # let u converge
    state = state.replace(critic=state.critic.replace(
        model_state=gan.advance_spectral(state.critic.params, state.critic.model_state)))
  x = jax.random.normal(jax.random.key(5), (256, 2)) * 3
  norms = wj.penalties.critic_input_gradient_norms(lambda v: gan.critic_values(state, v), x)
  assert float(jnp.max(norms)) <= 1.0 + 1e-3
  plain = toy_gan()
  p_norms = wj.penalties.critic_input_gradient_norms(
      lambda v: plain.critic_values(plain.init(jax.random.key(0)), v), x)
  assert float(jnp.max(p_norms)) > 1.0  # the same critic unnormalised is not


# ------------------------------------------------------------------ EMA
def test_ema_is_the_hand_average_and_sampling_uses_it():
  gan = toy_gan("wgan-gp", ema_decay=0.9, ema_start=2, n_critic=1)
  state = gan.init(jax.random.key(0))
  hand = jax.tree_util.tree_map(np.asarray, state.generator.params)
  step = gan.train_step(iterations=1)
  for g in range(6):
    state, _ = step(state, jax.random.key(1))
    beta = 0.9 if g + 1 > 2 else 0.0
    hand = jax.tree_util.tree_map(lambda a, p: beta * a + (1 - beta) * np.asarray(p), hand,
                                  state.generator.params)
  chex.assert_trees_all_close(state.ema, hand, rtol=1e-5, atol=1e-7)
  # sample() plays the averaged generator; the live one differs.
  z_key = jax.random.key(9)
  with_ema = gan.sample(state, z_key, 8)
  live = toy_gan("wgan-gp", n_critic=1).sample(state, z_key, 8)
  by_hand = gan.apply_generator(state.ema, state.generator.model_state,
                                jax.random.normal(z_key, (8, gan.config.latent_dim)),
                                train=False)[0]
  np.testing.assert_allclose(with_ema, by_hand, rtol=1e-6)
  assert not np.allclose(with_ema, live)


def test_ema_config_errors_name_the_field():
  with pytest.raises(wj.ConfigError, match="^ema_decay: "):
    wj.make_config("wgan-gp", ema_decay=1.0)
  with pytest.raises(wj.ConfigError, match="^ema_start: "):
    wj.make_config("wgan-gp", ema_start=10)


# ------------------------------------------------------------------ the patterns
# Both mechanisms at once in the default tier (sharing the compiled 2-iteration step with the
# tests around it); each alone in the slow tier.
@pytest.mark.parametrize("kw,k", [
    (SN_EMA, 2),
    pytest.param(dict(spectral_norm=True), 3, marks=pytest.mark.slow),
    pytest.param(dict(ema_decay=0.99), 3, marks=pytest.mark.slow)],
    ids=["spectral+ema", "spectral", "ema"])
def test_k_calls_equal_one_call_of_k_iterations(kw, k, sn_ema_gan):
  """What resume relies on: the state after 2 × k iterations equals one call of 2k, bitwise."""
  gan = sn_ema_gan if kw is SN_EMA else toy_gan(**kw)
  s0 = gan.init(jax.random.key(0))
  a, _ = gan.train_step(iterations=k)(s0, jax.random.key(1))
  a, _ = gan.train_step(iterations=k)(a, jax.random.key(1))
  b, _ = gan.train_step(iterations=2 * k)(s0, jax.random.key(1))
  chex.assert_trees_all_equal(a, b)


def test_four_devices_equal_one(sn_ema_gan):
  gan = sn_ema_gan
  state = gan.init(jax.random.key(0))
  single, m1 = gan.train_step(iterations=2)(state, jax.random.key(1))
  trainer = ParallelTrainer(gan, "shard_map")
  par, m4 = trainer.train_step(iterations=2)(trainer.put(state), jax.random.key(1))
  par = trainer.get(par)
  chex.assert_trees_all_close(single, par, rtol=2e-4, atol=2e-6)
  np.testing.assert_allclose(m1["d_loss"], m4["d_loss"], rtol=1e-4)


# ------------------------------------------------------------------ DiffAugment
def test_translation_moves_the_image_and_fills_with_zeros():
  x = jnp.zeros((16, 16, 1)).at[8, 8, 0].set(1.0)
  seen = set()
  for i in range(40):
    y = np.asarray(diff_augment(x, jax.random.key(i), "translation"))
    assert y.sum() == pytest.approx(1.0)  # the pixel moved, nothing else appeared
    r, c = np.argwhere(y[..., 0] == 1.0)[0]
    assert abs(r - 8) <= 2 and abs(c - 8) <= 2  # shifts within H/8 = 2
    seen.add((int(r), int(c)))
  assert len(seen) > 10


def test_cutout_zeroes_a_square_of_half_the_side():
  x = jnp.ones((16, 16, 3))
  for i in range(20):
    y = np.asarray(diff_augment(x, jax.random.key(i), "cutout"))
    zeros = np.argwhere(y[..., 0] == 0)
    rows, cols = np.unique(zeros[:, 0]), np.unique(zeros[:, 1])
    assert len(rows) <= 8 and len(cols) <= 8 and len(zeros) == len(rows) * len(cols)
    assert (y[..., 0] == 0).sum() == (y[..., 2] == 0).sum()  # same square in every channel


def test_color_is_differentiable_and_keyed():
  x = jax.random.uniform(jax.random.key(0), (8, 8, 3), minval=-1, maxval=1)
  g = jax.grad(lambda v: jnp.sum(diff_augment(v, jax.random.key(1),
                                              "color,translation,cutout") ** 2))(x)
  assert np.isfinite(np.asarray(g)).all() and float(jnp.abs(g).sum()) > 0
  a = diff_augment(x, jax.random.key(1), "color")
  np.testing.assert_array_equal(a, diff_augment(x, jax.random.key(1), "color"))
  assert not np.allclose(a, diff_augment(x, jax.random.key(2), "color"))
  # batch form: example b augmented with key b
  xs = jnp.stack([x, -x])
  keys = jax.random.split(jax.random.key(4), 2)
  np.testing.assert_allclose(diff_augment_batch(xs, keys, "color")[1],
                             diff_augment(-x, keys[1], "color"), rtol=1e-6)


def test_augment_policy_errors():
  with pytest.raises(wj.ConfigError, match="^diffaugment: "):
    wj.make_config("wgan-gp", diffaugment="colour")
  gan = toy_gan(diffaugment="color")  # toy points are not images
  with pytest.raises(wj.ConfigError, match="^diffaugment: "):
    gan.init(jax.random.key(0))


# ------------------------------------------------------------------ with every mechanism
ALL_ON = dict(spectral_norm=True, ema_decay=0.9, r1_weight=1.0, lazy_every=2)


@pytest.mark.slow
def test_k_seeds_in_one_program_equal_single_runs():
  gan = toy_gan(**ALL_ON)
  runs = wj.IndependentRuns(gan)
  keys = jax.random.split(jax.random.key(0), 2)
  states, _ = runs.train_step(iterations=3)(runs.init(keys), keys)
  for i in range(2):
    one, _ = gan.train_step(iterations=3)(gan.init(keys[i]), keys[i])
    chex.assert_trees_all_close(jax.tree_util.tree_map(lambda x: x[i], states), one,
                                rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_mixture_of_one_is_the_plain_gan_and_three_train():
  gan = toy_gan(**ALL_ON)
  mix = wj.mix_gan(gan, components=1)
  s_plain, m_plain = gan.train_step(iterations=3)(gan.init(jax.random.key(0)),
                                                  jax.random.key(1))
  s_mix, m_mix = mix.train_step(iterations=3)(mix.init(jax.random.key(0)), jax.random.key(1))
  np.testing.assert_allclose(m_mix["d_loss"], m_plain["d_loss"], rtol=1e-5)
  np.testing.assert_allclose(mix.sample(s_mix, jax.random.key(3), 16),
                             gan.sample(s_plain, jax.random.key(3), 16), rtol=1e-5, atol=1e-6)
  mix3 = wj.mix_gan(gan, components=3)
  s3, m3 = mix3.train_step(iterations=3)(mix3.init(jax.random.key(0)), jax.random.key(1))
  assert s3.critic.model_state["spectral"]["Dense_0/kernel"].shape == (3, 1)  # u per critic
  assert np.isfinite(np.asarray(m3["r1"])).all() and float(m3["r1"][0]) > 0


@pytest.mark.slow
def test_job_resume_is_bitwise_with_spectral_norm_and_ema(tmp_path):
  from experiments import toy
  base = ["--iters", "60", "--iters-per-call", "10", "--eval-every", "30", "--width", "16",
          "--num-samples", "100", "--no-progress", "--checkpoint-every", "20",
          "--objective", "hinge", "--spectral-norm", "--ema-decay", "0.95", "--r1-weight", "1",
          "--lazy-every", "4"]
  full, part = tmp_path / "full", tmp_path / "part"
  assert toy.main(base + ["--out", str(full)]) == 0
  assert toy.main(base + ["--out", str(part), "--stop-at", "30"]) == 0
  assert toy.main(base + ["--out", str(part), "--resume"]) == 0
  np.testing.assert_array_equal(np.load(full / "samples.npy"), np.load(part / "samples.npy"))


@pytest.mark.slow
def test_a_hinge_game_with_spectral_norm_learns_the_ring():
  """A hinge game written here (not the library's), with a spectrally normalised critic and the
  generator's EMA, covers the
  8-Gaussians ring (measured after 1500 iterations: 8/8 modes, 69% of the samples within 3σ
  of a centre; the untrained generator: 0.2% of its samples)."""
  from wgan_jax.metrics import mode_coverage
  hinge = wj.Objective("user-hinge",
                       critic_terms=lambda r, f: (jax.nn.relu(1 - r), jax.nn.relu(1 + f)),
                       generator_terms=lambda f: -f,
                       defaults=dict(optimizer="adam", beta1=0.5, beta2=0.9, n_critic=5))
  cfg = wj.make_config(hinge, batch_size=256, spectral_norm=True, ema_decay=0.99, lr_d=1e-3,
                       lr_g=1e-3)
  gan = wj.GAN(MLPGenerator(width=128), MLPCritic(width=128), cfg,
               lambda _, k: DS.sample_one(k))
  state = gan.init(jax.random.key(0))
  before = mode_coverage(np.asarray(gan.sample(state, jax.random.key(1), 2000)), DS.centres,
                         DS.std)
  state, _ = gan.train_step(iterations=100)(state, jax.random.key(2))
  for _ in range(14):
    state, _ = gan.train_step(iterations=100)(state, jax.random.key(2))
  after = mode_coverage(np.asarray(gan.sample(state, jax.random.key(1), 2000)), DS.centres,
                         DS.std)
  assert before["hq_fraction"] < 0.01, before
  assert after["modes"] >= 7 and after["hq_fraction"] > 0.4, after
