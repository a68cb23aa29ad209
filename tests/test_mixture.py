"""MIX+GAN (wgan_jax.mixture): reduction to the plain GAN, vmap against a loop, the weights,
mixture sampling, the per-critic gradient penalty."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj
from wgan_jax import losses, mixture, penalties
from wgan_jax.data import make_toy_dataset
from wgan_jax.mixture import (entropy_regulariser, mix_gan, make_mixture_optimizer,
                              mixture_weights, parse_objective)
from wgan_jax.models import MLPCritic, MLPGenerator

from update_check import assert_same_update

DS = make_toy_dataset("8gaussians")


def sample_real(data, key):
  return DS.sample_one(key)


def make_gan(objective, width=16, critic=None, **overrides):
  overrides.setdefault("batch_size", 32)
  if objective == "wgan-gp":
    overrides.setdefault("gp_weight", 0.1)
  cfg = wj.make_config(objective, **overrides)
  return wj.GAN(MLPGenerator(width=width, depth=2),
                critic or MLPCritic(width=width, depth=2), cfg, sample_real)


def component(tree, i):
  return jax.tree_util.tree_map(lambda x: x[i], tree)


def assert_trees_close(a, b, **kw):
  jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, **kw), a, b)


@pytest.mark.parametrize("objective", [
    pytest.param("nsgan", marks=pytest.mark.slow), "wgan-gp",
    pytest.param("wgan", marks=pytest.mark.slow)])
def test_one_component_is_exactly_the_plain_gan(objective):
  gan = make_gan(objective)
  mix = mix_gan(gan, components=1)
  s_plain, s_mix = gan.init(jax.random.key(0)), mix.init(jax.random.key(0))
  assert_trees_close(s_plain.generator.params, component(s_mix.generator.params["components"], 0),
                     rtol=0, atol=0)
  assert_trees_close(s_plain.critic.params, component(s_mix.critic.params["components"], 0),
                     rtol=0, atol=0)
  n_critic = 2
  s_plain, m_plain = gan.train_step(n_critic, 2)(s_plain, jax.random.key(1))
  s_mix, m_mix = mix.train_step(n_critic, 2)(s_mix, jax.random.key(1))
  for k, v in m_plain.items():  # same losses (R(w) at T = 1 is the constant -1e-6·β)
    np.testing.assert_allclose(m_mix[k], v, rtol=1e-5, atol=2e-7, err_msg=k)
  np.testing.assert_array_equal(m_mix["w_g_0"], 1.0)
  np.testing.assert_array_equal(m_mix["w_d_0"], 1.0)
  # same updates; α gets no gradient (softmax of one logit is 1)
  assert_trees_close(s_plain.generator.params, component(s_mix.generator.params["components"], 0),
                     rtol=1e-5, atol=1e-6)
  assert_trees_close(s_plain.critic.params, component(s_mix.critic.params["components"], 0),
                     rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(s_mix.generator.params["logits"], 0.0)
  np.testing.assert_array_equal(s_mix.critic.params["logits"], 0.0)
  x = jnp.asarray(DS.sample(jax.random.key(2), 16))
  np.testing.assert_allclose(mix.critic_values(s_mix, x), gan.critic_values(s_plain, x),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(mix.sample(s_mix, jax.random.key(3), 16),
                             gan.sample(s_plain, jax.random.key(3), 16), rtol=1e-5, atol=1e-6)


def _loop_payoffs(mix, state, key, d_params=None, g_params=None):
  """The pair payoffs of the critics (given d_params) or of the generators (given g_params),
  by a Python loop over (i, j) with the plain library losses on each generator's stratum
  (the examples b with b mod T = i)."""
  c, t = mix.config, mix.players.components
  gen = lambda p, zz: mix.generator.apply({"params": p}, zz, train=True)
  crit = lambda p, x: mix.critic.apply({"params": p}, x, train=True)
  pay = np.zeros((t, t), object)
  if d_params is not None:
    step_key = jax.random.fold_in(jax.random.fold_in(key, 0), state.critic_steps)
    real, z, eps, *_ = mix._draws(step_key, None)
  else:
    g_key = jax.random.fold_in(jax.random.fold_in(key, 1), state.step)
    sub = jax.vmap(lambda k: jax.random.split(k, 2))(wj.example_keys(g_key, c.batch_size))
    z = jax.vmap(lambda k: jax.random.normal(k, (c.latent_dim,)))(sub[:, 0])
  for i in range(t):
    rows = np.arange(c.batch_size) % t == i
    if d_params is None:
      fake = gen(component(g_params["components"], i), z)[rows]
      for j in range(t):
        s_g = crit(component(state.critic.params["components"], j), fake)
        pay[i, j] = (losses.wasserstein_generator_loss(s_g) if c.is_wasserstein
                     else losses.nonsaturating_generator_loss(s_g))
      continue
    fake = jax.lax.stop_gradient(gen(component(state.generator.params["components"], i), z))
    for j in range(t):
      p_j = component(d_params["components"], j)
      s_real, s_fake = crit(p_j, real), crit(p_j, fake[rows])
      if c.is_wasserstein:
        loss = losses.wasserstein_critic_loss(s_real, s_fake)
      else:
        loss = losses.minimax_discriminator_loss(s_real, s_fake)
      if c.uses_gradient_penalty:
        x_hat = penalties.interpolate(real[rows], fake[rows], eps[rows])
        loss = loss + c.gp_weight * penalties.gradient_norm_penalty(lambda x: crit(p_j, x), x_hat)
      pay[i, j] = loss
  return pay


@pytest.mark.parametrize("objective,t", [("nsgan", 2),
                                         pytest.param("wgan-gp", 3, marks=pytest.mark.slow)])
def test_vmapped_components_equal_a_python_loop(objective, t):
  mix = mix_gan(make_gan(objective), components=t, entropy_weight=0.1)
  state = mix.init(jax.random.key(0))
  # non-uniform weights on both sides (T = 3 with batch 32: strata of 11, 11 and 10 examples)
  state = state.replace(
      generator=state.generator.replace(params=dict(state.generator.params,
                                                    logits=jnp.array([0.5, -0.3, 0.1][:t]))),
      critic=state.critic.replace(params=dict(state.critic.params,
                                              logits=jnp.array([-0.2, 0.4, 0.0][:t]))))
  key = jax.random.key(7)
  w_g, w_d = mixture.weights(state)

  def loop_critic(d_params):
    d_pay = _loop_payoffs(mix, state, key, d_params=d_params)
    w = mixture_weights(d_params["logits"])
    total = sum(w_g[i] * w[j] * d_pay[i, j] for i in range(t) for j in range(t))
    return total + 0.1 * entropy_regulariser(w), jnp.array(d_pay.tolist())

  def loop_generator(g_params):
    g_pay = _loop_payoffs(mix, state, key, g_params=g_params)
    w = mixture_weights(g_params["logits"])
    total = sum(w[i] * w_d[j] * g_pay[i, j] for i in range(t) for j in range(t))
    return total + 0.1 * entropy_regulariser(w), jnp.array(g_pay.tolist())

  def mix_critic(d_params):
    total, aux, _ = mix.critic_payoff(d_params, state, key)
    return total, aux

  def mix_generator(g_params):
    total, aux, _ = mix.generator_payoff(g_params, state, key)
    return total, aux

  @jax.jit  # the loop's and the library's values and gradients, in one program
  def both(d_params, g_params):
    vg = lambda f, p: jax.value_and_grad(f, has_aux=True)(p)
    return (vg(loop_critic, d_params), vg(loop_generator, g_params),
            vg(mix_critic, d_params), vg(mix_generator, g_params))

  (((d_ref, d_pay), d_grads_ref), ((g_ref, g_pay), g_grads_ref), ((d_loss, aux), d_grads),
   ((g_loss, g_aux), g_grads)) = both(state.critic.params, state.generator.params)
  np.testing.assert_allclose(aux["payoff"], d_pay, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(g_aux["payoff"], g_pay, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(d_loss, d_ref, rtol=1e-5)
  np.testing.assert_allclose(g_loss, g_ref, rtol=1e-5)
  assert_trees_close(d_grads, d_grads_ref, rtol=1e-4, atol=1e-6)
  assert_trees_close(g_grads, g_grads_ref, rtol=1e-4, atol=1e-6)
  # the payoff is the weighted average over all pairs
  np.testing.assert_allclose(aux["d_adv_loss"] + mix.config.gp_weight * aux["gp"],
                             w_g @ d_pay @ w_d, rtol=1e-5)
  np.testing.assert_allclose(g_aux["g_adv_loss"], w_g @ g_pay @ w_d, rtol=1e-5)


def test_entropy_term_points_towards_uniform_weights():
  alpha = jnp.array([2.0, 0.0, -1.0, 0.5])
  reg = lambda a: entropy_regulariser(mixture_weights(a))
  grad = jax.grad(reg)(alpha)
  # descent lowers the largest logit and raises the smallest
  assert -grad[0] < 0 < -grad[2]
  w0, w1 = mixture_weights(alpha), mixture_weights(alpha - 0.5 * grad)
  kl = lambda w: float(jnp.sum(0.25 * jnp.log(0.25 / w)))  # KL(uniform ‖ w)
  assert kl(w1) < kl(w0)
  assert float(w1.max() - w1.min()) < float(w0.max() - w0.min())
  # uniform weights are its minimum: zero gradient, value log T (up to the 1e-6)
  np.testing.assert_allclose(jax.grad(reg)(jnp.full(4, 0.3)), 0.0, atol=1e-6)
  np.testing.assert_allclose(reg(jnp.zeros(4)), np.log(4), rtol=1e-5)
  assert float(reg(alpha)) > np.log(4)


# Two 30-iteration programs (β = 0 and 1): the slow tier. The default tier keeps the entropy
# term's gradient towards uniform weights (test_entropy_term_points_towards_uniform_weights).
@pytest.mark.slow
def test_weights_stay_a_distribution_and_entropy_keeps_them_apart():
  # A large learning rate so that α moves visibly in a few iterations.
  gan = make_gan("nsgan", lr_d=0.05, lr_g=0.05)
  runs = {}
  for beta in (0.0, 1.0):
    mix = mix_gan(gan, components=3, entropy_weight=beta)
    state, m = mix.train_step(1, 30)(mix.init(jax.random.key(0)), jax.random.key(1))
    for side in ("g", "d"):
      w = np.stack([m[f"w_{side}_{i}"] for i in range(3)], axis=-1)
      assert np.all(w > 0) and np.all(w < 1)
      np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    w_g, w_d = mixture.weights(state)
    np.testing.assert_allclose([w_g.sum(), w_d.sum()], 1.0, rtol=1e-6)
    runs[beta] = np.concatenate([state.generator.params["logits"], state.critic.params["logits"]])
  # the logits moved, and less far from uniform with the entropy term
  assert np.ptp(runs[0.0][:3]) + np.ptp(runs[0.0][3:]) > 0.1
  spread = lambda a: np.ptp(a[:3]) + np.ptp(a[3:])
  assert spread(runs[1.0]) < spread(runs[0.0])


def test_mixture_sampling_draws_each_component_by_its_weight():
  mix = mix_gan(make_gan("nsgan"), components=3)
  state = mix.init(jax.random.key(0))
  w = np.array([0.6, 0.3, 0.1], np.float32)
  state = state.replace(generator=state.generator.replace(
      params=dict(state.generator.params, logits=jnp.log(jnp.asarray(w)) + 1.7)))
  n = 20000
  x, comp = jax.jit(lambda s, k: mixture.sample_with_components(mix, s, k, n))(
      state, jax.random.key(4))
  share = np.bincount(np.asarray(comp), minlength=3) / n
  assert np.all(np.abs(share - w) < 4 * np.sqrt(w * (1 - w) / n)), share
  # each sample is its component's generator applied to its z
  z = jax.random.normal(jax.random.key(4), (n, mix.config.latent_dim))
  for i in range(3):
    rows = np.asarray(comp) == i
    expected = mix.generator.apply({"params": component(
        state.generator.params["components"], i)}, z[rows], train=False)
    np.testing.assert_allclose(x[rows], expected, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(mix.sample(state, jax.random.key(4), 100),
                                mixture.sample_with_components(mix, state, jax.random.key(4), 100)[0])


class LinearCritic(nn.Module):
  """f(x) = a·x + b: ‖∇f‖ = ‖a‖ everywhere, so the gradient penalty is (‖a‖ - 1)²."""

  @nn.compact
  def __call__(self, x, train: bool = True):
    return nn.Dense(1)(x)[:, 0]


def test_gradient_penalty_is_applied_per_critic():
  gan = make_gan("wgan-gp", critic=LinearCritic(), gp_weight=10.0)
  mix = mix_gan(gan, components=3)
  state = mix.init(jax.random.key(0))
  norms = np.array([0.5, 1.0, 2.0], np.float32)
  kernel = np.zeros((3, 2, 1), np.float32)
  kernel[:, 0, 0] = norms * 0.6
  kernel[:, 1, 0] = norms * 0.8
  d_params = dict(state.critic.params, logits=jnp.array([0.3, -0.5, 0.9]))
  d_params["components"] = dict(d_params["components"])
  d_params["components"]["Dense_0"] = dict(d_params["components"]["Dense_0"],
                                           kernel=jnp.asarray(kernel))
  state = state.replace(generator=state.generator.replace(
      params=dict(state.generator.params, logits=jnp.array([1.0, 0.0, -1.0]))))
  _, aux, _ = jax.jit(mix.critic_payoff)(d_params, state, jax.random.key(1))
  per_critic = (norms - 1.0) ** 2  # 0.25, 0, 1
  w_d = np.asarray(mixture_weights(d_params["logits"]))
  np.testing.assert_allclose(aux["gp"], w_d @ per_critic, rtol=1e-5)
  # in the pair payoff, critic j carries its own penalty whatever the generator: P_ij is the
  # linear critic's Wasserstein loss, computed here in float64 from the step's draws,
  # mean_{b ∈ stratum i} a_j·G_i(z_b) − mean_b a_j·x_b (the biases cancel), plus 10·(‖a_j‖ − 1)²
  step_key = jax.random.fold_in(jax.random.fold_in(jax.random.key(1), 0), state.critic_steps)
  real, z, *_ = mix._draws(step_key, None)
  real = np.asarray(real, np.float64)
  a = kernel[:, :, 0].astype(np.float64)  # [T_D, 2]
  adv_ref = np.zeros((3, 3))
  for i in range(3):
    rows = np.arange(mix.config.batch_size) % 3 == i
    fake_i = np.asarray(mix.generator.apply(
        {"params": component(state.generator.params["components"], i)}, z[rows], train=True),
        np.float64)
    for j in range(3):
      adv_ref[i, j] = np.mean(fake_i @ a[j]) - np.mean(real @ a[j])
  assert np.ptp(adv_ref, axis=0).min() > 1e-3  # the generators differ for every critic
  np.testing.assert_allclose(aux["payoff"], adv_ref + 10.0 * per_critic[None, :], rtol=1e-5,
                             atol=1e-5)
  adv = np.asarray(aux["payoff"]) - 10.0 * per_critic[None, :]
  w_g = np.asarray(mixture_weights(state.generator.params["logits"]))
  np.testing.assert_allclose(w_g @ adv @ w_d, aux["d_adv_loss"], rtol=1e-5, atol=1e-6)


def test_clipping_spares_the_logits():
  cfg = wj.make_config("wgan", lr_d=1.0)
  opt = make_mixture_optimizer(cfg, 1.0, critic=True)
  params = {"components": {"w": jnp.zeros((2, 3))}, "logits": jnp.zeros(2)}
  grads = {"components": {"w": -jnp.ones((2, 3))}, "logits": jnp.array([-1.0, 1.0])}
  updates, _ = opt.update(grads, opt.init(params), params)
  new = optax.apply_updates(params, updates)
  assert float(jnp.max(jnp.abs(new["components"]["w"]))) <= 0.01
  assert float(new["logits"][0]) > 0.5 and float(new["logits"][1]) < -0.5


def test_objective_names_and_bad_values():
  assert parse_objective("mix+wgan-gp") == ("wgan-gp", True)
  assert parse_objective("nsgan") == ("nsgan", False)
  with pytest.raises(wj.ConfigError, match="^objective: "):
    parse_objective("mix+began")
  gan = make_gan("nsgan")
  with pytest.raises(wj.ConfigError, match="^components: ") as info:
    mix_gan(gan, components=0)
  assert info.value.field == "components"
  with pytest.raises(wj.ConfigError, match="^entropy_weight: ") as info:
    mix_gan(gan, components=2, entropy_weight=-1.0)
  assert info.value.field == "entropy_weight"


@pytest.mark.slow
def test_shard_map_equals_one_device():
  """The data-parallel backend drives a mixture unchanged: same gradients (the strata are
  global), the same update in a fused step up to Adam's amplification of rounding noise in
  zero-gradient parameters (as in test_parallel.py)."""
  from wgan_jax.parallel import ParallelTrainer
  assert jax.device_count() == 4
  mix = mix_gan(make_gan("wgan-gp"), components=3)
  state = mix.init(jax.random.key(0))
  key = jax.random.key(1)
  trainer = ParallelTrainer(mix, "shard_map")
  assert trainer.gan.players.components == 3 and trainer.gan.num_shards == 4

  def grads(gan, s, k, data=None):
    return gan.critic_grads(s, k, data)[1], gan.generator_grads(s, k)[1]
  one = jax.jit(lambda s, k: grads(mix, s, k))(state, key)
  par = trainer.parallelize(lambda s, k, d: grads(trainer.gan, s, k, d))(trainer.put(state), key)
  assert_trees_close(par, one, rtol=1e-4, atol=1e-6)
  s_one, m_one = mix.train_step(2, 1)(state, key)
  s_par, m_par = trainer.train_step(2, 1)(trainer.put(state), key)
  s_par = trainer.get(s_par)
  assert (int(s_par.step), int(s_par.critic_steps)) == (int(s_one.step), int(s_one.critic_steps))
  # each player's update (components and logits) against one device's, relative to its size:
  # an absolute tolerance of lr·n_critic let the un-updated state pass (see update_check.py)
  for who, g in (("critic", one[0]), ("generator", one[1])):
    before, ref, other = (getattr(s, who) for s in (state, s_one, s_par))
    assert_same_update(before.params, ref.params, other.params, g, name=who)
    assert_same_update(before.params["logits"], ref.params["logits"], other.params["logits"],
                       name=f"{who} logits")
    assert_trees_close(other.opt_state, ref.opt_state, rtol=1e-4, atol=1e-6)
  for k in ("d_loss", "g_loss", "w_d_0", "w_g_2"):
    np.testing.assert_allclose(m_par[k], m_one[k], rtol=1e-3, atol=1e-6)
