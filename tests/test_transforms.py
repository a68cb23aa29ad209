"""WGAN weight clipping as an optax transform."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj


def random_tree(key, scale):
  k1, k2, k3 = jax.random.split(key, 3)
  return {"dense": {"kernel": scale * jax.random.normal(k1, (17, 9)),
                    "bias": scale * jax.random.normal(k2, (9,))},
          "out": scale * jax.random.normal(k3, (9,))}


@pytest.mark.parametrize("c", [0.01, 0.1, 1.0, 0.3])
def test_every_leaf_in_box_after_update(c):
  opt = optax.chain(optax.rmsprop(0.5), wj.clip_params(c))
  key = jax.random.key(0)
  params = random_tree(key, 3.0 * c)  # starts partly outside the box
  state = opt.init(params)
  for i in range(50):
    grads = random_tree(jax.random.fold_in(key, i), 10.0)
    updates, state = opt.update(grads, state, params)
    params = optax.apply_updates(params, updates)
    for leaf in jax.tree_util.tree_leaves(params):  # the box, with c as a float32
      assert jnp.max(leaf) <= np.float32(c) and jnp.min(leaf) >= -np.float32(c)


def test_box_holds_exactly_under_rounding():
  # Values far outside the box and tiny values: p + (clip(p+u) - p) must not round past c.
  c = 0.01
  p = jnp.array([1e4, -3.7e5, 0.3, -0.0100001, 1e-30, 0.00999999], jnp.float32)
  for u in (jnp.full_like(p, 1e-3), jnp.full_like(p, -7.3e2), -p * 1.00001):
    upd, _ = wj.clip_params(c).update(u, optax.EmptyState(), p)
    new = optax.apply_updates(p, upd)
    assert jnp.max(new) <= np.float32(c) and jnp.min(new) >= -np.float32(c)


def test_update_inside_box_passes_unchanged():
  params = {"w": jnp.array([0.001, -0.002, 0.0])}
  updates = {"w": jnp.array([0.002, 0.001, -0.005])}
  out, _ = wj.clip_params(0.01).update(updates, optax.EmptyState(), params)
  np.testing.assert_array_equal(out["w"], updates["w"])


def test_without_params_raises():
  t = wj.clip_params(0.01)
  with pytest.raises(ValueError, match="params"):
    t.update({"w": jnp.ones(2)}, t.init({"w": jnp.ones(2)}))


@pytest.mark.parametrize("c", [0.0, -0.01, float("nan")])
def test_bad_clip_value(c):
  with pytest.raises(ValueError, match="clip_value"):
    wj.clip_params(c)


def test_works_under_jit():
  opt = optax.chain(optax.sgd(1.0), wj.clip_params(0.05))
  params = {"w": jnp.array([0.0, 0.04])}
  state = opt.init(params)
  step = jax.jit(lambda g, s, p: opt.update(g, s, p))
  upd, _ = step({"w": jnp.array([-1.0, 1.0])}, state, params)
  np.testing.assert_allclose(optax.apply_updates(params, upd)["w"], [0.05, -0.05])
