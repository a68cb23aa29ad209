"""WGAN-GP fig. 1b (experiments/figures/gradient_norms.py): the per-layer gradient-norm profile
is measured exactly (against jax.grad, and in closed form where float32 would underflow), and
each check of the paper's claims fails on a profile or histogram where the phenomenon is absent."""

import jax
import jax.numpy as jnp
import numpy as np

from experiments.figures import gradient_norms as gn

WIDTH = 8


def _mlp(key, width=WIDTH, depth=gn.DEPTH):
  return gn.init_mlp(key, [2] + [width] * depth + [1])


def test_log_norms_match_autodiff_through_the_dense_outputs():
  params = _mlp(jax.random.key(0), depth=4)
  # Non-zero biases so that some ReLUs are off and the mask matters.
  params = [(w, 0.3 * jax.random.normal(jax.random.key(i + 1), b.shape))
            for i, (w, b) in enumerate(params)]
  real = jax.random.normal(jax.random.key(10), (16, 2))
  fake = jax.random.normal(jax.random.key(11), (12, 2)) + 1.0
  x = jnp.concatenate([real, fake])

  def loss(deltas):
    f = gn.forward(params, x, deltas)[:, 0]
    return jnp.mean(f[16:]) - jnp.mean(f[:16])

  deltas = [jnp.zeros((28, w.shape[1])) for w, _ in params]
  expected = np.array([np.linalg.norm(g) for g in jax.jit(jax.grad(loss))(deltas)])
  got = np.exp(np.asarray(jax.jit(gn.log_layer_gradient_norms)(params, real, fake)))
  np.testing.assert_allclose(got, expected, rtol=2e-5)
  np.testing.assert_allclose(got[-1], np.sqrt(1 / 16 + 1 / 12), rtol=1e-6)  # ∂L/∂f = ∓1/n


def _constant_mlp(c, width, depth=gn.DEPTH):
  sizes = [2] + [width] * depth + [1]
  return [(jnp.full((m, n), c, jnp.float32), jnp.zeros((n,))) for m, n in zip(sizes[:-1],
                                                                               sizes[1:])]


def test_profile_of_a_constant_network_is_exact_even_below_float32_range():
  """All weights c and positive inputs: every ReLU is on, so going back one hidden layer
  multiplies ‖∂L/∂h‖ by exactly c·width (and from the 1-unit output to layer 12 by c·√width).
  At c = 1e-3, width 4 the input layer's norm is ~1e-30: its square underflows float32, which
  the per-layer rescaling must survive."""
  real = jnp.full((8, 2), 1.0)
  fake = jnp.full((8, 2), 2.0)
  for c, width in ((0.5, 4), (1e-3, 4)):  # growing, and falling by 2.4 decades a layer
    logs = np.asarray(jax.jit(gn.log_layer_gradient_norms)(_constant_mlp(c, width), real, fake))
    log10 = logs / np.log(10)
    # Layer 13: ∂L/∂f = ±1/8 for 16 points, norm 1/√8 · ... = √(16)/8 = 0.5.
    np.testing.assert_allclose(log10[-1], np.log10(0.5), atol=1e-6)
    np.testing.assert_allclose(np.diff(log10)[:-1], -np.log10(c * width), atol=1e-4)
    np.testing.assert_allclose(np.diff(log10)[-1], -np.log10(c * np.sqrt(width)), atol=1e-4)
    s = gn.profile_stats(log10[:-1])
    np.testing.assert_allclose(s["slope_back"], np.log10(c * width), atol=1e-4)
    assert s["r2"] > 0.999999


def _profile(slope_back, noise=0.0, seed=0):
  """log10 norms of a 13-layer profile changing by `slope_back` decades per layer going back."""
  layers = np.arange(1, gn.DEPTH + 2)
  rng = np.random.default_rng(seed)
  return -1.0 + slope_back * (layers[-1] - layers) + noise * rng.standard_normal(len(layers))


def _paper_like():
  return {"clip 0.1": _profile(0.5), "clip 0.01": _profile(-1.0), "clip 0.001": _profile(-2.0),
          "gradient penalty": _profile(0.0, noise=0.1)}


def test_profile_checks_pass_on_the_papers_picture():
  assert all(gn.profile_checks(_paper_like()).values())


def test_profile_checks_fail_where_the_phenomenon_is_absent():
  keys = list(gn.profile_checks(_paper_like()))
  explode, vanish01, vanish001, flat = keys

  flat_everywhere = {m: _profile(0.0, noise=0.05, seed=i) for i, m in enumerate(gn.METHODS)}
  got = gn.profile_checks(flat_everywhere)
  assert not got[explode] and not got[vanish01] and not got[vanish001] and got[flat]

  slight = dict(_paper_like(), **{"clip 0.1": _profile(0.05)})  # +0.6 decades in 12 layers
  assert not gn.profile_checks(slight)[explode]

  noisy = dict(_paper_like(), **{"clip 0.1": _profile(0.1, noise=1.0, seed=3)})  # not exponential
  assert gn.profile_stats(noisy["clip 0.1"])["r2"] < gn.EXPONENTIAL_R2
  assert not gn.profile_checks(noisy)[explode]

  swapped = dict(_paper_like(), **{"clip 0.001": _profile(-0.5)})  # slower than c = 0.01
  got = gn.profile_checks(swapped)
  assert got[vanish01] and not got[vanish001]

  for bad_gp in (_profile(0.2), _profile(-0.2)):  # 2.4 decades over 12 layers
    assert not gn.profile_checks(dict(_paper_like(), **{"gradient penalty": bad_gp}))[flat]


def test_weight_checks_tell_two_values_from_a_uniform_and_a_bell():
  rng = np.random.default_rng(0)
  c, n = 0.01, 20000
  two_valued = np.clip(c * np.sign(rng.standard_normal(n)) + 0.002 * rng.standard_normal(n),
                       -c, c)
  uniform = rng.uniform(-c, c, n)
  bell = np.clip(0.003 * rng.standard_normal(n), -c, c)
  assert gn.piled_at_bounds(two_valued, c)
  assert not gn.piled_at_bounds(uniform, c)
  assert not gn.piled_at_bounds(bell, c)
  assert gn.unimodal_spread(bell) and gn.unimodal_spread(0.05 * rng.standard_normal(n))
  assert not gn.unimodal_spread(rng.uniform(-0.15, 0.15, n))  # the He-uniform initial weights
  assert not gn.unimodal_spread(two_valued)
  bimodal = np.concatenate([0.02 * rng.standard_normal(n) - 0.1, 0.02 * rng.standard_normal(n)
                            + 0.1])
  assert not gn.unimodal_spread(bimodal)
  # A barely trained uniform (70% uniform + 30% tent: one central mode, only ~1.7x the outer
  # quarter) is not the paper's spread-out bell.
  gentle = np.concatenate([rng.uniform(-0.15, 0.15, 280000),
                           rng.triangular(-0.15, 0.0, 0.15, 120000)])
  assert not gn.unimodal_spread(gentle)
  # The share within 10% of ±c: exactly the two-valued mass.
  assert gn.share_at_bounds(np.array([c, -c, 0.95 * c, 0.5 * c]), c) == 0.75


def test_histogram_weights_exclude_first_and_last_layers():
  """The first kernel (fan-in 2, U(±√3)) would make the initial histogram peaked by itself."""
  params = _mlp(jax.random.key(1), width=16)
  w = gn.kernels(params)
  assert w.size == (gn.DEPTH - 1) * 16 * 16
  assert np.abs(w).max() <= np.sqrt(6 / 16)
  assert not gn.unimodal_spread(w)
