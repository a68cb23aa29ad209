"""The library validates at its boundary (issue 15, item 7).

Library misuse (empty or scalar batches, non-float inputs, a critic with a non-[B] output,
negative counts, non-numeric or non-finite hyper-parameters, a negative or NaN penalty target)
raises a `ValueError` (a `wgan_jax.ConfigError`) whose message starts with the Python name of the
argument at fault, instead of returning nan or a number, or failing inside JAX. The checks read
only shapes, dtypes and Python values, so they run when a function is traced: the last tests
check that they fire under `jit` and leave `jit`, `vmap` and `pmap` of valid inputs alone.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from wgan_jax import penalties
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.parallel import ParallelTrainer

KEY = jax.random.key(0)
SCORES = jnp.ones(4)
EMPTY = jnp.zeros((0,))
BATCH = jnp.ones((4, 2))
INT_BATCH = jnp.ones((4, 2), jnp.int32)
EMPTY_BATCH = jnp.zeros((0, 2))


def linear_critic(x):  # f(x) = x_0 + x_1: ‖∇f‖ = √2 everywhere
  return jnp.sum(x, axis=1)


def two_scores(x):  # [B, 2] -> [B, 2]: two scores per example
  return jnp.stack([x[:, 0], x[:, 1]], axis=1)


@functools.lru_cache(maxsize=None)
def gan():
  ds = make_toy_dataset("8gaussians")
  return wj.GAN(MLPGenerator(width=8, depth=1), MLPCritic(width=8, depth=1),
                wj.make_config("wgan-gp", batch_size=8), lambda data, key: ds.sample_one(key))


def runs_and_states():
  """IndependentRuns of `gan()` and the shapes of two runs' states (traced, never run)."""
  runs = wj.IndependentRuns(gan())
  return runs, jax.eval_shape(runs.init, jax.random.split(KEY, 2))


def cfg(objective="wgan-gp", **overrides):
  return wj.make_config(objective, **overrides)


# (call, the argument its error must name). Each of these misbehaved before the checks: the old
# behaviour is in the comment (nan / a number / a JAX error / a TypeError / runs silently).
MISUSE = [
    # losses: an empty batch returned nan (the terms an empty array)
    pytest.param(lambda: wj.wasserstein_critic_loss(EMPTY, EMPTY), "real_scores",
                 id="wasserstein_critic_loss-empty"),
    pytest.param(lambda: wj.wasserstein_critic_loss(SCORES, EMPTY), "fake_scores",
                 id="wasserstein_critic_loss-empty-fake"),
    pytest.param(lambda: wj.wasserstein_generator_loss(EMPTY), "fake_scores",
                 id="wasserstein_generator_loss-empty"),
    pytest.param(lambda: wj.minimax_discriminator_loss(SCORES, EMPTY), "fake_logits",
                 id="minimax_discriminator_loss-empty"),
    pytest.param(lambda: wj.minimax_generator_loss(EMPTY), "fake_logits",
                 id="minimax_generator_loss-empty"),
    pytest.param(lambda: wj.nonsaturating_generator_loss(EMPTY), "fake_logits",
                 id="nonsaturating_generator_loss-empty"),
    pytest.param(lambda: wj.wasserstein_critic_terms(EMPTY, SCORES), "real_scores",
                 id="wasserstein_critic_terms-empty"),
    pytest.param(lambda: wj.minimax_discriminator_terms(EMPTY, SCORES), "real_logits",
                 id="minimax_discriminator_terms-empty"),
    pytest.param(lambda: wj.minimax_generator_terms(EMPTY), "fake_logits",
                 id="minimax_generator_terms-empty"),
    pytest.param(lambda: wj.nonsaturating_generator_terms(EMPTY), "fake_logits",
                 id="nonsaturating_generator_terms-empty"),
    pytest.param(lambda: wj.wasserstein_generator_terms(EMPTY), "fake_scores",
                 id="wasserstein_generator_terms-empty"),
    # losses: scalars, non-vectors and non-float scores raised chex's AssertionError
    pytest.param(lambda: wj.wasserstein_critic_loss(jnp.float32(1.0), SCORES), "real_scores",
                 id="wasserstein_critic_loss-scalar"),
    pytest.param(lambda: wj.nonsaturating_generator_loss(1.0), "fake_logits",
                 id="nonsaturating_generator_loss-python-float"),
    pytest.param(lambda: wj.wasserstein_generator_loss(jnp.ones((4, 1))), "fake_scores",
                 id="wasserstein_generator_loss-rank2"),
    pytest.param(lambda: wj.wasserstein_critic_loss(SCORES, jnp.ones(4, jnp.int32)),
                 "fake_scores", id="wasserstein_critic_loss-int"),
    pytest.param(lambda: wj.minimax_discriminator_loss(jnp.ones(4, bool), SCORES),
                 "real_logits", id="minimax_discriminator_loss-bool"),
    pytest.param(lambda: wj.wasserstein_generator_loss(jnp.ones(4, jnp.complex64)),
                 "fake_scores", id="wasserstein_generator_loss-complex"),
    pytest.param(lambda: wj.nonsaturating_generator_terms([1.0, 2.0]), "fake_logits",
                 id="nonsaturating_generator_terms-list"),
    pytest.param(lambda: wj.get_objective("wgan").critic_loss(SCORES, EMPTY), "fake_scores",
                 id="Objective.critic_loss-empty"),
    # gradient_penalty: a [B, 2] (or scalar) critic returned a number; empty batches nan
    pytest.param(lambda: wj.gradient_penalty(two_scores, BATCH, BATCH, KEY), "critic_fn",
                 id="gradient_penalty-critic-B2"),
    pytest.param(lambda: wj.gradient_penalty(jnp.sum, BATCH, BATCH, KEY), "critic_fn",
                 id="gradient_penalty-critic-scalar"),
    pytest.param(lambda: wj.gradient_penalty(lambda x: jnp.sum(x, 1, keepdims=True), BATCH,
                                             BATCH, KEY), "critic_fn",
                 id="gradient_penalty-critic-B1"),
    pytest.param(lambda: wj.gradient_penalty(None, BATCH, BATCH, KEY), "critic_fn",
                 id="gradient_penalty-critic-not-callable"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, EMPTY_BATCH, EMPTY_BATCH, KEY),
                 "real", id="gradient_penalty-empty"),
    pytest.param(lambda: wj.gradient_penalty(lambda x: x, jnp.float32(1.0), jnp.float32(1.0),
                                             KEY), "real", id="gradient_penalty-scalar"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, INT_BATCH, INT_BATCH, KEY), "real",
                 id="gradient_penalty-int"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, INT_BATCH, KEY), "fake",
                 id="gradient_penalty-int-fake"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, BATCH, KEY, target=-1.0),
                 "target", id="gradient_penalty-target-negative"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, BATCH, KEY, target=math.nan),
                 "target", id="gradient_penalty-target-nan"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, BATCH, KEY, target="1"),
                 "target", id="gradient_penalty-target-str"),
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, BATCH, KEY, target=None),
                 "target", id="gradient_penalty-target-none"),
    # interpolate, gradient_norm_penalty, critic_input_gradient_norms
    pytest.param(lambda: wj.interpolate(BATCH, BATCH, jnp.ones(3)), "eps",
                 id="interpolate-eps-shape"),
    pytest.param(lambda: wj.interpolate(INT_BATCH, INT_BATCH, jnp.ones(4)), "real",
                 id="interpolate-int"),
    pytest.param(lambda: wj.interpolate(EMPTY_BATCH, EMPTY_BATCH, EMPTY), "real",
                 id="interpolate-empty"),
    pytest.param(lambda: wj.interpolate(jnp.float32(1.0), jnp.float32(1.0), jnp.ones(1)),
                 "real", id="interpolate-scalar"),
    pytest.param(lambda: penalties.gradient_norm_penalty(two_scores, BATCH), "critic_fn",
                 id="gradient_norm_penalty-critic-B2"),
    pytest.param(lambda: penalties.gradient_norm_penalty(linear_critic, BATCH, target=math.nan),
                 "target", id="gradient_norm_penalty-target-nan"),
    pytest.param(lambda: penalties.gradient_norm_penalty(linear_critic, EMPTY_BATCH), "x_hat",
                 id="gradient_norm_penalty-empty"),
    pytest.param(lambda: penalties.critic_input_gradient_norms(two_scores, BATCH), "critic_fn",
                 id="critic_input_gradient_norms-critic-B2"),
    pytest.param(lambda: penalties.critic_input_gradient_norms(linear_critic, INT_BATCH), "x",
                 id="critic_input_gradient_norms-int"),
    # instance_noise: a NaN std returned nan everywhere, a negative or string std ran
    pytest.param(lambda: wj.instance_noise(BATCH, KEY, math.nan), "stddev",
                 id="instance_noise-nan"),
    pytest.param(lambda: wj.instance_noise(BATCH, KEY, -0.1), "stddev",
                 id="instance_noise-negative"),
    pytest.param(lambda: wj.instance_noise(BATCH, KEY, "0.1"), "stddev", id="instance_noise-str"),
    pytest.param(lambda: wj.instance_noise(INT_BATCH, KEY, 0.1), "x", id="instance_noise-int"),
    # weight_penalty: integer and boolean leaves were summed
    pytest.param(lambda: wj.weight_penalty({"w": jnp.ones(3, jnp.int32)}), "params",
                 id="weight_penalty-int-leaf"),
    pytest.param(lambda: wj.weight_penalty({"w": jnp.ones(3), "b": jnp.ones(3, bool)}),
                 "params", id="weight_penalty-bool-leaf"),
    # clip_params: a string or None raised a TypeError, inf or True built a transform
    pytest.param(lambda: wj.clip_params("0.01"), "clip_value", id="clip_params-str"),
    pytest.param(lambda: wj.clip_params(None), "clip_value", id="clip_params-none"),
    pytest.param(lambda: wj.clip_params(math.inf), "clip_value", id="clip_params-inf"),
    pytest.param(lambda: wj.clip_params(True), "clip_value", id="clip_params-bool"),
    # GANConfig: strings raised a TypeError inside math.isfinite, booleans were numbers
    pytest.param(lambda: cfg(gp_weight="10"), "gp_weight", id="config-gp_weight-str"),
    pytest.param(lambda: cfg(gp_weight=True), "gp_weight", id="config-gp_weight-bool"),
    pytest.param(lambda: cfg(gp_target="1"), "gp_target", id="config-gp_target-str"),
    pytest.param(lambda: cfg(lr_g=True), "lr_g", id="config-lr_g-bool"),
    pytest.param(lambda: cfg(beta2=False), "beta2", id="config-beta2-bool"),
    pytest.param(lambda: cfg("wgan", clip_value="0.01"), "clip_value",
                 id="config-clip_value-str"),
    pytest.param(lambda: cfg("wgan", clip_value=True), "clip_value",
                 id="config-clip_value-bool"),
    pytest.param(lambda: cfg(instance_noise="0.1"), "instance_noise",
                 id="config-instance_noise-str"),
    pytest.param(lambda: cfg(instance_noise=True), "instance_noise",
                 id="config-instance_noise-bool"),
    pytest.param(lambda: cfg(instance_noise_anneal=True), "instance_noise_anneal",
                 id="config-instance_noise_anneal-bool"),
    pytest.param(lambda: cfg(weight_penalty="0.1"), "weight_penalty",
                 id="config-weight_penalty-str"),
    pytest.param(lambda: cfg(warmup="yes"), "warmup", id="config-warmup-str"),
    pytest.param(lambda: cfg(skip_nonfinite=1), "skip_nonfinite", id="config-skip_nonfinite-int"),
    # GAN.train_step: 0 iterations / n_critic <= 0 ran silently, negative iterations -> MLIRError
    pytest.param(lambda: gan().train_step(iterations=0), "iterations",
                 id="train_step-iterations-0"),
    pytest.param(lambda: gan().train_step(iterations=-2), "iterations",
                 id="train_step-iterations-negative"),
    pytest.param(lambda: gan().train_step(iterations=2.0), "iterations",
                 id="train_step-iterations-float"),
    pytest.param(lambda: gan().train_step(n_critic=0), "n_critic", id="train_step-n_critic-0"),
    pytest.param(lambda: gan().train_step(n_critic=-3), "n_critic",
                 id="train_step-n_critic-negative"),
    pytest.param(lambda: gan().train_step(n_critic=True), "n_critic",
                 id="train_step-n_critic-bool"),
    pytest.param(lambda: gan().train_step_fn(n_critic=-3), "n_critic",
                 id="train_step_fn-n_critic-negative"),
    # GAN.sample: n = 0 returned an empty array, n < 0 an MLIRError, a float a JAX TypeError
    pytest.param(lambda: gan().sample(None, KEY, 0), "n", id="sample-n-0"),
    pytest.param(lambda: gan().sample(None, KEY, -1), "n", id="sample-n-negative"),
    pytest.param(lambda: gan().sample(None, KEY, 2.5), "n", id="sample-n-float"),
    # IndependentRuns
    pytest.param(lambda: wj.IndependentRuns(gan()).train_step(iterations=0), "iterations",
                 id="runs.train_step-iterations-0"),
    pytest.param(lambda: wj.IndependentRuns(gan()).train_step(n_critic=-1), "n_critic",
                 id="runs.train_step-n_critic-negative"),
    pytest.param(lambda: wj.IndependentRuns(gan()).sample(None, KEY, 0), "n",
                 id="runs.sample-n-0"),
    pytest.param(lambda: wj.IndependentRuns(gan()).init(KEY), "keys", id="runs.init-one-key"),
    pytest.param(lambda: wj.IndependentRuns(gan()).init(jax.random.split(KEY, 0)), "keys",
                 id="runs.init-no-keys"),
    pytest.param(lambda: runs_and_states()[0].train_step(iterations=1)(
        runs_and_states()[1], jax.random.split(KEY, 3)), "keys",
                 id="runs.train_step-keys-mismatch"),
    # plan_blocks: stop < start, block < 1 and negative starts planned garbage or nothing
    pytest.param(lambda: wj.plan_blocks(cfg(), 10, 5, 4), "stop", id="plan_blocks-stop<start"),
    pytest.param(lambda: wj.plan_blocks(cfg(), 0, 10, 0), "block", id="plan_blocks-block-0"),
    pytest.param(lambda: wj.plan_blocks(cfg(), 0, 10, -1), "block",
                 id="plan_blocks-block-negative"),
    pytest.param(lambda: wj.plan_blocks(cfg(), -5, 10, 2), "start",
                 id="plan_blocks-start-negative"),
    pytest.param(lambda: wj.plan_blocks(cfg(), 0, 10.5, 2), "stop", id="plan_blocks-stop-float"),
    # example_keys: a negative n gave zero keys, a float n rounded up
    pytest.param(lambda: wj.example_keys(KEY, -1), "n", id="example_keys-n-negative"),
    pytest.param(lambda: wj.example_keys(KEY, 2.5), "n", id="example_keys-n-float"),
]

# Refused before as well (a ValueError or ConfigError); kept so that they stay refused, now with
# the "argument: message" form and the `field` attribute.
ALREADY_REFUSED = [
    pytest.param(lambda: wj.gradient_penalty(linear_critic, BATCH, jnp.ones((4, 3)), KEY),
                 "fake", id="gradient_penalty-shape-mismatch"),
    pytest.param(lambda: wj.clip_params(-1), "clip_value", id="clip_params-negative"),
    pytest.param(lambda: wj.clip_params(0), "clip_value", id="clip_params-0"),
    pytest.param(lambda: wj.clip_params(math.nan), "clip_value", id="clip_params-nan"),
    pytest.param(lambda: cfg(n_critic=-3), "n_critic", id="config-n_critic-negative"),
    pytest.param(lambda: wj.GANConfig(n_critic=-3, gp_weight=10.0), "n_critic",
                 id="GANConfig-n_critic-negative"),
    pytest.param(lambda: cfg(gp_target=-1.0), "gp_target", id="config-gp_target-negative"),
    pytest.param(lambda: cfg(gp_target=math.nan), "gp_target", id="config-gp_target-nan"),
    pytest.param(lambda: cfg(lr_d="1e-4"), "lr_d", id="config-lr_d-str"),
    pytest.param(lambda: cfg(beta1=math.nan), "beta1", id="config-beta1-nan"),
]


@pytest.mark.parametrize("call,argument", MISUSE + ALREADY_REFUSED)
def test_misuse_raises_a_value_error_naming_the_argument(call, argument):
  with pytest.raises(ValueError) as info:
    call()
  error = info.value
  assert isinstance(error, wj.ConfigError), repr(error)
  assert error.field == argument
  assert str(error).startswith(f"{argument}: ")
  assert "--" not in str(error)  # the library speaks Python, not command-line flags


def test_checks_fire_when_traced_under_jit():
  with pytest.raises(ValueError, match="^fake_scores: "):
    jax.jit(wj.wasserstein_generator_loss)(EMPTY)
  with pytest.raises(ValueError, match="^critic_fn: "):
    jax.jit(lambda r, f, k: wj.gradient_penalty(two_scores, r, f, k))(BATCH, BATCH, KEY)
  with pytest.raises(ValueError, match="^real: "):
    jax.vmap(lambda r: wj.gradient_penalty(linear_critic, r, r, KEY))(jnp.ones(3))  # r: ()


def test_plan_blocks_refuses_when_called_not_when_iterated():
  with pytest.raises(ValueError, match="^stop: "):
    wj.plan_blocks(cfg(), 3, 2, 1)  # no list(): the check is not deferred to the first next()
  assert list(wj.plan_blocks(cfg(), 5, 5, 1)) == []
  assert list(wj.plan_blocks(cfg(), 0, 4, 2)) == [(5, 2), (5, 2)]


def test_edge_values_that_stay_valid():
  assert float(wj.gradient_penalty(linear_critic, BATCH, -BATCH, KEY, target=0)) == \
      pytest.approx(2.0, rel=1e-5)
  np.testing.assert_array_equal(wj.instance_noise(BATCH, KEY, 0), BATCH)
  np.testing.assert_array_equal(wj.instance_noise(jnp.float32(1.0), KEY, 0.0), 1.0)
  for c in (0.01, 1, np.float32(0.01), jnp.float32(0.01)):
    wj.clip_params(c)
  assert wj.example_keys(KEY, 0).shape == (0,)
  assert float(wj.weight_penalty({"w": jnp.ones(2, jnp.bfloat16), "b": 1.0})) == 3.0
  c = cfg(lr_d=np.float32(1e-4), gp_weight=np.float64(10.0), warmup=np.bool_(False))
  assert c.lr_d == np.float32(1e-4) and hash(c) == hash(c)
  runs, states = runs_and_states()
  assert states.step.shape == (2,)
  raw = jax.random.split(jax.random.PRNGKey(0), 3)  # raw uint32 [K, 2] keys are keys too
  assert jax.eval_shape(runs.init, raw).step.shape == (3,)


def test_traced_hyper_parameters_are_accepted():
  """A traced std (an optax schedule's value) or target is checked for its shape only."""
  std = jax.jit(lambda s: jnp.std(wj.instance_noise(jnp.zeros(10_000), KEY, s)))(0.5)
  assert float(std) == pytest.approx(0.5, rel=0.05)
  gp = jax.jit(lambda t: wj.gradient_penalty(linear_critic, BATCH, -BATCH, KEY, target=t))(
      jnp.float32(1.0))
  assert float(gp) == pytest.approx((math.sqrt(2) - 1) ** 2, rel=1e-5)
  with pytest.raises(ValueError, match="^stddev: "):
    jax.jit(lambda s: wj.instance_noise(BATCH, KEY, s))(jnp.ones(2))  # not a scalar
  with pytest.raises(ValueError, match="^clip_value: "):
    jax.jit(lambda c: wj.clip_params(c).init({}))(jnp.float32(0.01))  # must be known


def test_gradient_penalty_under_jit_vmap_and_pmap():
  """The checks read static shapes only: the penalty is unchanged through every transform."""
  assert jax.local_device_count() == 4  # tests/conftest.py: pmap must not silently skip
  ws = jax.random.normal(jax.random.key(1), (4, 3))
  real = jax.random.normal(jax.random.key(2), (5, 3))
  keys = jax.random.split(jax.random.key(3), 4)

  def gp(w, k):
    return wj.gradient_penalty(lambda x: x @ w, real, -real, k)

  expected = (jnp.linalg.norm(ws, axis=1) - 1) ** 2  # a linear critic: ‖∇f‖ = ‖w‖
  for fn in (jax.jit(jax.vmap(gp)), jax.vmap(gp), jax.pmap(gp)):
    np.testing.assert_allclose(fn(ws, keys), expected, rtol=1e-5)
  np.testing.assert_allclose(gp(ws[0], keys[0]), expected[0], rtol=1e-5)  # eager


# Left over from the second probe (docs/robustness.md): each misbehaved before its check.
def _int_params():
  return {"w": jnp.ones((2, 2), jnp.int32)}


@pytest.mark.parametrize("call,argument", [
    # clip_params on an integer tree set every parameter to 0, silently
    (lambda: wj.clip_params(0.01).update(_int_params(), optax_state(), _int_params()), "params"),
    # an empty device list: ZeroDivisionError
    (lambda: ParallelTrainer(gan(), "pmap", devices=[]), "devices"),
    # a Python int, a float array or a batch of keys as `key`: JAX's TypeError (or a silent
    # vectorised run), not naming `key`
    (lambda: gan().init(0), "key"),
    (lambda: gan().init(jnp.zeros(2)), "key"),
    (lambda: gan().init(jax.random.split(KEY, 3)), "key"),
    (lambda: gan().sample(gan().init(KEY), 3, 4), "key"),
    (lambda: gan().train_step(1)(gan().init(KEY), jax.random.split(KEY, 2)), "key"),
])
def test_second_probe_misuse_names_the_argument(call, argument):
  with pytest.raises(ValueError, match=rf"^{argument}: "):
    call()


def optax_state():
  import optax
  return optax.EmptyState()


def test_wasserstein1_exact_refuses_empty_and_nonfinite_sets():
  from wgan_jax.metrics import wasserstein1_exact
  with pytest.raises(ValueError, match="at least one point"):
    wasserstein1_exact(np.zeros((0, 2)), np.zeros((0, 2)))
  with pytest.raises(ValueError, match="finite"):
    wasserstein1_exact(np.array([[np.nan, 0.0]]), np.zeros((1, 2)))
  assert wasserstein1_exact(np.zeros((1, 2)), np.array([[3.0, 4.0]])) == 5.0
