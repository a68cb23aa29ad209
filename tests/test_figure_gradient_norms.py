"""WGAN-GP fig. 1b (experiments/figures/gradient_norms.py): the per-layer gradient-norm profile
is measured exactly (against jax.grad, and in closed form where float32 would underflow), and
each check of the paper's claims fails on a profile or histogram where the phenomenon is absent."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import common
from experiments.figures import gradient_norms as gn
from experiments.figures import runner
from wgan_jax.models import MLPCritic

from figure_numbers import NUMBERS   # tests/figure_numbers.py

WIDTH = 8


def _mlp(key, width=WIDTH, depth=gn.DEPTH):
  """The figure's critic (a `wgan_jax.models` MLP) as Dense layers [(W, b)]."""
  return gn.layers(MLPCritic(width=width, depth=depth).init(key, jnp.zeros((1, 2)))["params"])


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


def test_the_wgans_are_the_papers_recipe_through_the_library():
  """Clipping: RMSProp 5e-5 for both players, every critic variable clipped at c, no warm-up;
  the penalty: Adam (1e-4, β 0.5, 0.9), λ = 10; 12-layer MLPs of the scale's width."""
  for m in gn.METHODS:
    gan = gn.gan_of(m, width=16, n_critic=5, batch=256)
    c = gan.config
    assert (c.n_critic, c.batch_size, c.warmup, c.latent_dim) == (5, 256, False, 2)
    assert gan.critic.depth == gan.generator.depth == gn.DEPTH == 12
    if m.startswith("clip"):
      assert (c.objective, c.optimizer, c.lr_d, c.lr_g) == ("wgan", "rmsprop", 5e-5, 5e-5)
      assert c.clip_value == float(m.split()[1]) and c.gp_weight == 0
    else:
      assert (c.objective, c.optimizer, c.lr_d, c.lr_g) == ("wgan-gp", "adam", 1e-4, 1e-4)
      assert (c.beta1, c.beta2, c.gp_weight, c.clip_value) == (0.5, 0.9, 10.0, None)
  games = gn.games("default")
  assert [g.label for g in games] == list(gn.METHODS)
  assert all(g.iterations == 300 and g.gan.critic.width == 256 for g in games)


def _numbers(profiles=None, clipped=None, penalised=None, share=0.95):
  """Stored numbers with the paper's picture (or the given profiles / weights)."""
  rng = np.random.default_rng(0)
  c = 0.01
  if clipped is None:   # piled at ±c
    clipped = np.clip(c * np.sign(rng.standard_normal(5000)) + 0.001 * rng.standard_normal(5000),
                      -c, c)
  if penalised is None:  # one central mode
    penalised = 0.05 * rng.standard_normal(5000)
  return runner.as_stored(dict(
      log10_norms=profiles or _paper_like(), clip_share_at_c={"clip 0.01": share},
      check_histograms={"clip 0.01": gn.clipped_histogram(clipped, c),
                        "gradient penalty": gn.symmetric_histogram(penalised)}))


ABSENT = {  # a change that removes one phenomenon: the checks it must fail (c = 0.001's
    # "faster than c = 0.01, which vanishes" fails with c = 0.01's own)
    "c = 0.1 does not explode": (dict(profiles=dict(_paper_like(), **{
        "clip 0.1": _profile(0.05)})), {0}),
    "c = 0.01 does not vanish": (dict(profiles=dict(_paper_like(), **{
        "clip 0.01": _profile(-0.1)})), {1, 2}),
    "c = 0.001 vanishes no faster than c = 0.01": (dict(profiles=dict(_paper_like(), **{
        "clip 0.001": _profile(-0.5)})), {2}),
    "the penalised profile explodes": (dict(profiles=dict(_paper_like(), **{
        "gradient penalty": _profile(0.2)})), {3}),
    "the clipped weights are uniform": (dict(
        clipped=np.random.default_rng(1).uniform(-0.01, 0.01, 5000), share=0.1), {4}),
    "the penalised weights are two-valued": (dict(penalised=np.concatenate(
        [0.01 * np.random.default_rng(2).standard_normal(2500) - 0.1,
         0.01 * np.random.default_rng(3).standard_normal(2500) + 0.1])), {5}),
}


def test_judge_passes_on_the_papers_picture():
  assert list(gn.judge(_numbers()).values()) == [True] * 6


@pytest.mark.parametrize("change,failing", ABSENT.values(), ids=list(ABSENT))
def test_each_check_fails_when_its_phenomenon_is_absent(change, failing):
  assert list(gn.judge(_numbers(**change)).values()) == [i not in failing for i in range(6)]


def test_a_diverged_profile_fails_its_checks():
  """A non-finite log10 norm (stored as None) passes none of the checks that read it."""
  dead = dict(_paper_like(), **{"clip 0.1": [-math.inf] + list(_profile(0.5)[1:])})
  assert list(gn.judge(_numbers(dead)).values()) == [False] + [True] * 5


def test_judge_of_a_run_stored_before_check_histograms_reads_its_60_bin_histograms():
  """docs/results' run (2bccb2d) stored np.histogram(w, bins=60) of each method's weights."""
  rng = np.random.default_rng(0)
  piled = np.clip(0.01 * np.sign(rng.standard_normal(5000)), -0.01, 0.01)
  old = runner.as_stored(dict(log10_norms=_paper_like(), clip_share_at_c={"clip 0.01": 0.99},
                              histograms={"clip 0.01": np.histogram(piled, bins=60),
                                          "gradient penalty": np.histogram(
                                              rng.uniform(-0.1, 0.1, 5000), bins=60)}))
  assert list(gn.judge(old).values()) == [True] * 5 + [False]


def test_the_weight_checks_on_weights_and_on_their_stored_histograms_agree():
  rng = np.random.default_rng(4)
  for w in (np.clip(0.01 * np.sign(rng.standard_normal(3000)), -0.01, 0.01),
            rng.uniform(-0.01, 0.01, 3000), 0.003 * rng.standard_normal(3000)):
    assert gn.piled_at_bounds(w, 0.01) == gn.piled_counts(gn.clipped_histogram(w, 0.01),
                                                          gn.share_at_bounds(w, 0.01))
    assert gn.unimodal_spread(w) == gn.unimodal_counts(gn.symmetric_histogram(w))


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  """The tiny run end to end: the four WGANs trained through the experiments' loop, their
  profiles measured at iteration 0 and at the end (evals = 1), and what the plot reads."""
  r = runner.run(gn.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "gradient_norms.png").read_bytes()[:4] == b"\x89PNG"
  n = r["numbers"]
  for m in gn.METHODS:
    profiles = np.asarray(n["log10_profiles_during_training"][m])
    assert profiles.shape == (2, 13) and profiles[-1].tolist() == n["log10_norms"][m]
  h = n["plot_histograms"]
  assert len(h["clip"]) == 41 and len(h["gp_edges"]) == 61 and len(h["gp_initial"]) == 60
  assert sum(h["gp_trained"]) == sum(h["gp_initial"]) == (gn.DEPTH - 1) * 16 * 16
  assert r["checks"] == gn.judge(n) and len(r["checks"]) == 6
  NUMBERS["gradient_norms"](n)   # tests/figure_numbers.py: what holds at any quality


@pytest.mark.slow  # matplotlib
def test_plot_and_summary_read_only_the_stored_numbers():
  numbers = _numbers()
  edges = np.linspace(-0.2, 0.2, 61)
  numbers.update(runner.as_stored(dict(
      log10_profiles_during_training={m: [v, v] for m, v in _paper_like().items()},
      clip_share_at_c_first_clip_of_init={"clip 0.01": 0.97}, width=16, iters=4,
      penalised_weights=dict(mean_abs_change=0.001, initial_std=0.35),
      plot_histograms=dict(clip_range=(-0.0205, 0.0205), clip=np.arange(41), gp_edges=edges,
                           gp_trained=np.ones(60), gp_initial=np.ones(60)))))
  assert "clip 0.1 +0.50 (+6.0)" in gn.summary(numbers)
  fig = gn.plot(numbers)
  assert "95% within 10% of ±c" in fig.axes[1].get_title()
  common.matplotlib_pyplot().close(fig)
