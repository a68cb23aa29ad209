"""The optimal discriminator D* = p_r/(p_r + p_g) and C(G) = -log 4 + 2·JSD (Goodfellow 2014)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.integrate
import scipy.stats

import wgan_jax as wj

P_R = scipy.stats.norm(0.0, 1.0)
P_G = scipy.stats.norm(1.5, 0.7)


def jsd_by_integration():
  def integrand(x):
    pr, pg = P_R.pdf(x), P_G.pdf(x)
    m = 0.5 * (pr + pg)
    out = 0.0
    if pr > 0:
      out += 0.5 * pr * np.log(pr / m)
    if pg > 0:
      out += 0.5 * pg * np.log(pg / m)
    return out
  return scipy.integrate.quad(integrand, -12, 12, limit=200)[0]


def optimal_logit(x):
  return P_R.logpdf(x) - P_G.logpdf(x)  # logit of D* = p_r / (p_r + p_g)


def test_loss_at_optimal_discriminator_is_log4_minus_2jsd():
  jsd = jsd_by_integration()
  assert 0 < jsd < np.log(2)
  rng = np.random.default_rng(0)
  xr = P_R.rvs(2_000_000, random_state=rng)
  xg = P_G.rvs(2_000_000, random_state=rng)
  loss = wj.minimax_discriminator_loss(jnp.asarray(optimal_logit(xr), jnp.float32),
                                       jnp.asarray(optimal_logit(xg), jnp.float32))
  # Our loss is the negated value function: -V(D*, G) = -C(G) = log 4 - 2·JSD.
  np.testing.assert_allclose(float(loss), np.log(4) - 2 * jsd, atol=3e-3)


class D(nn.Module):
  @nn.compact
  def __call__(self, x):
    h = nn.tanh(nn.Dense(64)(x[:, None]))
    h = nn.tanh(nn.Dense(64)(h))
    return nn.Dense(1)(h)[:, 0]


def test_trained_discriminator_approaches_optimum():
  model = D()
  params = model.init(jax.random.key(0), jnp.zeros((1,)))
  opt = optax.adam(3e-3)
  opt_state = opt.init(params)

  @jax.jit
  def step(params, opt_state, key):
    kr, kg = jax.random.split(key)
    xr = jax.random.normal(kr, (1024,))
    xg = 1.5 + 0.7 * jax.random.normal(kg, (1024,))
    loss, g = jax.value_and_grad(
        lambda p: wj.minimax_discriminator_loss(model.apply(p, xr), model.apply(p, xg)))(params)
    u, opt_state = opt.update(g, opt_state)
    return optax.apply_updates(params, u), opt_state, loss

  key = jax.random.key(1)

  @jax.jit  # 100 steps a call (one call a step spent most of the test dispatching)
  def hundred(params, opt_state, start):
    def body(carry, i):
      return step(*carry, jax.random.fold_in(key, i))[:2], None
    return jax.lax.scan(body, (params, opt_state), start + jnp.arange(100))[0]
  for start in range(0, 3000, 100):
    params, opt_state = hundred(params, opt_state, start)
  grid = np.linspace(-1.5, 2.5, 81)  # where both densities carry mass
  d_star = P_R.pdf(grid) / (P_R.pdf(grid) + P_G.pdf(grid))
  d = np.asarray(jax.nn.sigmoid(model.apply(params, jnp.asarray(grid, jnp.float32))))
  assert np.max(np.abs(d - d_star)) < 0.05, np.max(np.abs(d - d_star))
  # Its loss on fresh samples is within Monte-Carlo error of log 4 - 2·JSD, never far below.
  rng = np.random.default_rng(2)
  xr = jnp.asarray(P_R.rvs(200_000, random_state=rng), jnp.float32)
  xg = jnp.asarray(P_G.rvs(200_000, random_state=rng), jnp.float32)
  trained = float(wj.minimax_discriminator_loss(model.apply(params, xr), model.apply(params, xg)))
  optimum = np.log(4) - 2 * jsd_by_integration()
  assert optimum - 0.01 < trained < optimum + 0.02, (trained, optimum)
