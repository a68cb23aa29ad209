"""momentum_critic (WGAN §4.2): the step cosine, the 'samples got worse' statistic and the
checks, against hand-computed values."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj
from experiments.figures import momentum_critic as mc
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator


def test_cosine_of_pytrees():
  u = {"a": jnp.array([1.0, 0.0]), "b": jnp.array([0.0])}
  v = {"a": jnp.array([1.0, 1.0]), "b": jnp.array([0.0])}
  assert float(mc.cosine(u, v)) == pytest.approx(1 / np.sqrt(2), rel=1e-6)
  assert float(mc.cosine(u, jax.tree.map(jnp.negative, u))) == pytest.approx(-1.0)
  assert float(mc.cosine(u, jax.tree.map(jnp.zeros_like, u))) == 0.0


def test_worse_ahead_is_the_log_ratio_to_the_next_evaluation():
  out = mc.worse_ahead(np.array([1.0, 2.0, 1.0]))
  np.testing.assert_allclose(out[:2], [np.log(2), -np.log(2)])
  assert np.isnan(out[2])


def _gan(optimizer, **kw):  # unclipped (wgan-gp), so the update is the optimiser's alone
  ds = make_toy_dataset("8gaussians")
  cfg = wj.make_config("wgan-gp", batch_size=32, optimizer=optimizer, lr_d=1e-3, lr_g=1e-3,
                       **kw)
  return wj.GAN(MLPGenerator(width=8), MLPCritic(width=8), cfg, lambda d, k: ds.sample_one(k))


def test_rmsprop_steps_descend_and_adam_momentum_can_point_uphill():
  key, batch = jax.random.key(0), jax.random.key(1)
  rms = _gan("rmsprop")
  assert float(mc.step_cosine(rms, rms.init(key), batch)) > 0  # ≥ 0 by construction
  adam = _gan("adam", beta1=0.9)
  state = adam.init(key)
  assert float(mc.step_cosine(adam, state, batch)) > 0   # no momentum yet: as RMSProp
  # momentum from a loss that has moved: the first moment holds minus 100× the gradient
  _, g, _, _ = adam.critic_grads(state, batch)
  def uphill(node):  # the Adam moments, wherever the chain keeps them
    if isinstance(node, optax.ScaleByAdamState):
      return node._replace(mu=jax.tree.map(lambda x: -100.0 * x, g),
                           nu=jax.tree.map(jnp.square, g), count=jnp.ones((), jnp.int32))
    if isinstance(node, tuple) and not hasattr(node, "_fields"):
      return tuple(uphill(n) for n in node)
    return node

  opt_state = uphill(state.critic.opt_state)
  assert opt_state != state.critic.opt_state
  state = state.replace(critic=state.critic.replace(opt_state=opt_state))
  assert float(mc.step_cosine(adam, state, batch)) < -0.3  # uphill (|cos| as sign(g) vs g)


def _stats(neg_share, after_neg, after_pos, rough):
  return dict(negative_share=neg_share, w1_change_after_negative=after_neg,
              w1_change_after_positive=after_pos, w1_roughness=rough)


def test_judge_passes_only_on_the_papers_picture():
  paper = {"RMSProp 5e-5 (paper)": _stats(0.0, np.nan, 0.0, 0.05),
           "Adam 5e-5, β1 0.5": _stats(0.0, np.nan, 0.0, 0.06),
           "Adam 1e-3, β1 0.5": _stats(0.1, 0.2, -0.01, 0.2)}
  assert all(mc.judge(paper).values())
  calm = dict(paper, **{"Adam 1e-3, β1 0.5": _stats(0.0, np.nan, 0.0, 0.2)})
  assert list(mc.judge(calm).values())[:2] == [False, False]
  harmless = dict(paper, **{"Adam 1e-3, β1 0.5": _stats(0.1, -0.1, 0.0, 0.2)})
  assert list(mc.judge(harmless).values())[1] is False
  rough_rms = dict(paper, **{"RMSProp 5e-5 (paper)": _stats(0.0, np.nan, 0.0, 0.1)})
  assert list(mc.judge(rough_rms).values())[2] is False
