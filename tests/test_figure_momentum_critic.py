"""momentum_critic (WGAN §4.2): the step cosine, the 'samples got worse' statistic and the
checks, against hand-computed values."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj
from experiments.figures import momentum_critic as mc
from experiments.figures import runner
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


PAPER_STATS = {"RMSProp 5e-5 (paper)": _stats(0.0, np.nan, 0.0, 0.05),
               "Adam 5e-5, β1 0.5": _stats(0.0, np.nan, 0.0, 0.06),
               "Adam 1e-3, β1 0.5": _stats(0.1, 0.2, -0.01, 0.2)}


def test_judge_passes_only_on_the_papers_picture():
  paper = PAPER_STATS
  assert all(mc.judge_stats(paper).values())
  calm = dict(paper, **{"Adam 1e-3, β1 0.5": _stats(0.0, np.nan, 0.0, 0.2)})
  assert list(mc.judge_stats(calm).values())[:2] == [False, False]
  harmless = dict(paper, **{"Adam 1e-3, β1 0.5": _stats(0.1, -0.1, 0.0, 0.2)})
  assert list(mc.judge_stats(harmless).values())[1] is False
  rough_rms = dict(paper, **{"RMSProp 5e-5 (paper)": _stats(0.0, np.nan, 0.0, 0.1)})
  assert list(mc.judge_stats(rough_rms).values())[2] is False


ABSENT = {  # a change that removes one phenomenon: the checks that must then fail
    "Adam's cosine never negative": (("Adam 1e-3, β1 0.5", _stats(0.01, 0.2, -0.01, 0.2)),
                                     [False, False, True]),
    "samples improve after a negative cosine": (("Adam 1e-3, β1 0.5",
                                                 _stats(0.1, -0.05, -0.01, 0.2)),
                                                [True, False, True]),
    "worse, but no more than after a positive one": (("Adam 1e-3, β1 0.5",
                                                      _stats(0.1, 0.2, 0.3, 0.2)),
                                                     [True, False, True]),
    "the only negative cosine is the last evaluation (nothing ahead: None)": (
        ("Adam 1e-3, β1 0.5", _stats(0.1, np.nan, -0.01, 0.2)), [True, False, True]),
    "RMSProp as erratic as an Adam run": (("RMSProp 5e-5 (paper)", _stats(0.0, np.nan, 0.0,
                                                                          0.06)),
                                          [True, True, False]),
}


@pytest.mark.parametrize("change,expected", ABSENT.values(), ids=list(ABSENT))
def test_judge_reads_the_stored_numbers_and_each_check_fails_without_its_phenomenon(change,
                                                                                    expected):
  """judge(numbers) on the stats as JSON stores them (NaN as None): the paper's picture passes
  every check, and each change that removes one phenomenon fails the checks it grounds (the
  'worse after a negative cosine' check needs a negative cosine, so it fails with the first)."""
  assert list(mc.judge(runner.as_stored(dict(stats=PAPER_STATS))).values()) == [True] * 3
  label, stats = change
  numbers = runner.as_stored(dict(stats=dict(PAPER_STATS, **{label: stats})))
  assert list(mc.judge(numbers).values()) == expected


def test_summary_reads_the_stored_stats():
  stats = {k: dict(v, min_cosine=-0.1, final_w1=0.5) for k, v in PAPER_STATS.items()}
  s = mc.summary(runner.as_stored(dict(stats=stats)))
  assert "Adam 1e-3, β1 0.5: cos < 0 at 10% of evaluations (min -0.10), W1 0.500" in s


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(mc.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "momentum_critic.png").read_bytes()[:4] == b"\x89PNG"
  n = r["numbers"]
  s = mc.FIGURE.config("tiny")
  for label in mc.RUNS:
    c = n["curves"][label]
    assert c["iteration"] == list(range(s["eval_every"], s["iters"] + 1, s["eval_every"]))
    assert np.asarray(c["cosine"]).shape == (len(c["iteration"]), s["cos_batches"])
    # RMSProp's step is the gradient rescaled by positive factors, then clipped: cos ≥ 0
    if label.startswith("RMSProp"):
      assert min(map(min, c["cosine"])) >= 0
  im = n["images"]
  for label in mc.RUNS:
    c = im["curves"][label]
    assert c["iteration"] == list(range(s["image"]["eval_every"], s["image"]["iters"] + 1,
                                        s["image"]["eval_every"]))
    assert np.asarray(c["cosine"]).shape == (len(c["iteration"]), s["image"]["cos_batches"])
    assert all(f > 0 for f in c["fd"])
    if label.startswith("RMSProp"):
      assert min(map(min, c["cosine"])) >= 0
  assert r["checks"] == mc.judge(n) and len(r["checks"]) == 6


def test_the_image_part_is_judged_on_its_own_numbers():
  """A run with the image part: three more checks, named "(images ...)", read from
  numbers["images"] alone; the ring's picture does not make them pass."""
  calm = dict(PAPER_STATS, **{"Adam 1e-3, β1 0.5": _stats(0.0, np.nan, 0.0, 0.2)})
  numbers = runner.as_stored(dict(stats=PAPER_STATS, images=dict(stats=calm)))
  checks = mc.judge(numbers)
  assert len(checks) == 6
  image_checks = [v for k, v in checks.items() if "(images" in k]
  assert image_checks == [False, False, True]
  assert all("FD" in k for k in list(checks)[4:])
  numbers = runner.as_stored(dict(stats=calm, images=dict(stats=PAPER_STATS)))
  assert list(mc.judge(numbers).values()) == [False, False, True, True, True, True]
  stats = {k: dict(v, min_cosine=-0.1, final_w1=50.0) for k, v in PAPER_STATS.items()}
  s = mc.summary(runner.as_stored(dict(stats=stats, images=dict(stats=stats))))
  assert s.startswith("ring: ") and "Images: " in s and "FD 50.000 at the end" in s
