"""random_archs (WGAN-GP §5.1 Table 2, App. C) and its design space."""

import json
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.figures import random_archs as ra
from experiments.figures import runner
from wgan_jax.models.design_space import (NONLINEARITIES, DesignSpaceCritic,
                                          DesignSpaceGenerator)


def _count(variables) -> int:
  return sum(p.size for p in jax.tree_util.tree_leaves(variables["params"]))


def _params(module, x):
  v = jax.jit(module.init)(jax.random.key(0), x)   # op by op: several times slower
  return v, _count(v)


@pytest.mark.parametrize("depth", [3, 5])
def test_design_space_shapes_and_depth(depth):
  """Each layer beyond 3 is one 3×3 convolution f → f (9f² + f parameters) in each network."""
  z, x = jnp.ones((2, 128)), jnp.zeros((2, 28, 28, 1))
  g = DesignSpaceGenerator(depth=depth, filters=4, norm="none", nonlinearity="tanh")
  d = DesignSpaceCritic(depth=depth, filters=4, nonlinearity="softplus")
  (gv, gn), (dv, dn) = _params(g, z), _params(d, x)
  out = jax.jit(partial(g.apply, train=False))(gv, z)
  assert out.shape == (2, 28, 28, 1) and float(jnp.max(jnp.abs(out))) <= 1
  assert jax.eval_shape(d.apply, dv, x).shape == (2,)
  g3 = _count(jax.eval_shape(DesignSpaceGenerator(depth=3, filters=4, norm="none").init,
                             jax.random.key(0), z))
  d3 = _count(jax.eval_shape(DesignSpaceCritic(depth=3, filters=4).init, jax.random.key(0), x))
  assert gn - g3 == dn - d3 == (depth - 3) * (9 * 16 + 4)


def test_design_space_refuses_what_table_1_does_not_hold():
  with pytest.raises(ValueError, match="nonlinearity"):
    DesignSpaceGenerator(nonlinearity="elu").init(jax.random.key(0), jnp.ones((1, 8)))
  with pytest.raises(ValueError, match="depth"):
    DesignSpaceCritic(depth=2).init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)))
  # App. D's smooth ELU: softplus(2x + 2)/2 − 1 → −1 far left, ≈ x far right
  f = NONLINEARITIES["softplus"]
  np.testing.assert_allclose([f(-20.0), f(20.0)], [-1.0, 20.0], atol=1e-6)


def test_architectures_are_drawn_from_the_key_and_cover_the_space():
  archs = [ra.sample_architecture(jax.random.fold_in(jax.random.key(0), i)) for i in range(60)]
  assert archs[3] == ra.sample_architecture(jax.random.fold_in(jax.random.key(0), 3))
  for player in ("g", "d"):
    for field, options in ra.CHOICES.items():
      assert {a[f"{player}_{field}"] for a in archs} == set(options)


def test_counts_and_sign_test():
  scores = {"gan": [1.0, 3.0, 3.0, float("nan")], "wgan-gp": [3.0, 1.0, 3.0, 3.0]}
  assert ra.counts(scores, 2.0) == {"only gan": 1, "only wgan-gp": 2, "both": 1, "neither": 0}
  t = ra.sign_test([3, 3, 3, 1, 2], [1, 1, 1, 3, 2])  # 3 wins, 1 loss, 1 tie
  assert (t["x_better"], t["y_better"]) == (3, 1) and t["p_value"] == pytest.approx(0.625)


NAN = float("nan")
U = runner.UNDERPOWERED


def one_sided(wins, n):
  return runner.sign_test(wins, n, alternative="greater")


def test_levels_and_the_one_sided_sign_test():
  # thresholds reached (1.25, 1.5, 2.0, 2.5, 3.0); a non-finite score reaches none
  assert ra.levels([1.0, 1.25, 2.2, 3.5, NAN]).tolist() == [0, 1, 3, 5, 0]
  assert ra.wins_losses([2, 1, NAN, 3], [1, 1, 0, NAN]) == (2, 1)
  # exact one-sided p: 5 of 5 is 1/32; 6 of 7 is 8/128; 7 of 8 is 9/256
  assert one_sided(5, 5) is True and one_sided(4, 5) is False
  assert one_sided(6, 7) is False and one_sided(7, 8) is True
  for wins, n in ((2, 3), (4, 4), (0, 0)):   # n of n cannot reach 0.05 below 5 pairs
    assert one_sided(wins, n) == U


# Eight architectures' scores as the paper describes them: WGAN-GP reaches more of the
# thresholds than the GAN on 7 (one ties); the two penalties split 4 to 4 (App. C: no
# significant difference).
SCORES = {"gan": [1.1, 1.2, 2.1, 1.0, 2.6, 1.3, 1.6, 1.1],
          "wgan-gp": [2.2, 2.6, 2.6, 1.6, 2.7, 2.1, 2.1, 1.7],
          "wgan-gp-onesided": [2.0, 2.8, 2.5, 1.8, 2.5, 2.2, 2.0, 1.9]}


@pytest.mark.parametrize("changes, expected", [
    ({}, [True, True]),
    (dict(gan=SCORES["wgan-gp"]), [U, True]),     # the GAN trains as many: every pair ties
    (dict(gan=[3.0] * 8), [False, True]),         # the GAN trains more
    # the referee's case: 2 architectures only WGAN-GP trains against 1 only the GAN does
    # (the old check passed on it); 3 untied architectures can never be significant
    (dict(gan=[1.0, 1.0, 2.1, 1.0, 2.6, 1.3, 1.6, 1.1],
          **{"wgan-gp": [2.2, 2.6, 1.0, 1.0, 2.6, 1.3, 1.6, 1.1]}), [U, True]),
    # WGAN-GP reaches more thresholds on 4 of 7 untied architectures: no finding
    (dict(gan=[1.1, 1.2, 2.6, 1.0, 2.6, 2.6, 2.6, 1.1]), [False, True]),
    # WGAN-GP diverged: it fails every threshold (the GAN ahead on the 4 architectures where
    # it reaches one, 4 untied: no decision) and loses every pair, so the one-sided penalty is
    # significantly better
    (dict(**{"wgan-gp": [NAN] * 8}), [U, False]),
    (dict(gan=[1.3] * 8, **{"wgan-gp": [NAN] * 8}), [False, False]),   # the GAN ahead on 8
    (dict(**{"wgan-gp-onesided": [s - 0.1 for s in SCORES["wgan-gp"]]}), [True, False]),
])
def test_judge_on_the_stored_scores(changes, expected):
  numbers = runner.as_stored(dict(scores=dict(SCORES, **changes)))
  assert list(ra.judge(numbers).values()) == expected


# The committed default run (5 architectures): the old checks passed both claims on it.
COMMITTED = {"gan": [2.27, 1.89, 1.17, 1.55, 1.09], "wgan-gp": [2.76, 1.06, 1.74, 1.91, 2.57],
             "wgan-gp-onesided": [3.08, 1.98, 1.60, 1.84, 2.65]}


@pytest.mark.parametrize("changes", [
    {},                                                         # 3 against 1, a tie; 2 to 3
    dict(gan=[1.0] * 5, **{"wgan-gp": [2.6] * 5}),             # WGAN-GP ahead on 5 of 5
    {"wgan-gp-onesided": [s + 0.1 for s in COMMITTED["wgan-gp"]]},   # one-sided 5 of 5
])
def test_five_architectures_cannot_decide_app_c(changes):
  """At 5 pairs the smallest two-sided p is 0.0625: 'not significant' is certain whatever the
  scores, so App. C's check is underpowered, never a pass (the old check passed)."""
  checks = list(ra.judge(runner.as_stored(dict(scores=dict(COMMITTED, **changes)))).values())
  assert checks[1] == U
  # Table 2 at 5 architectures: only 5 of 5 untied can reach p < 0.05 (1/32)
  assert checks[0] == (True if changes.get("gan") else U)


def test_summary_markdown_and_plot_read_the_stored_numbers():
  arch = dict(g_nonlinearity="relu", g_depth=3, g_batch_norm=True, g_filters=8,
              d_nonlinearity="tanh", d_depth=4, d_batch_norm=False, d_filters=16)
  scores = {l: v[:2] for l, v in SCORES.items()}
  scores["gan"][1] = NAN
  n = runner.as_stored(dict(
      setup=dict(architectures=2, generator_iterations=3), architectures=[arch, arch],
      scores=scores, table={str(t): ra.counts(scores, t) for t in ra.THRESHOLDS},
      app_c=ra.sign_test(scores["wgan-gp"], scores["wgan-gp-onesided"]),
      real_test_images_score=8.0))
  s = ra.summary(n)
  assert s.startswith("2 architectures × 3 generator iterations. Only GAN / only WGAN-GP / "
                      "both / neither at score 1.25: 0/2/0/0; 1.5: 0/2/0/0; ")
  assert "two-sided better on 1, one-sided on 1 (p 1.00); real test images 8.00" in s
  md = ra.markdown(n)
  assert "| 1 | relu, 3, yes, 8 | tanh, 4, no, 16 | nan | 2.60 | 2.80 |" in md
  fig = ra.plot(n)
  assert len(fig.axes) == 2
  import matplotlib.pyplot as plt
  plt.close(fig)


def test_the_losses_follow_appendix_b():
  arch = dict(g_nonlinearity="relu", g_depth=3, g_batch_norm=True, g_filters=8,
              d_nonlinearity="relu", d_depth=3, d_batch_norm=True, d_filters=8)
  s = ra.FIGURE.config("tiny")
  gan, gp, one = (ra.build(arch, l, s) for l in ra.LOSSES)
  assert (gan.config.lr_d, gan.config.beta1, gan.config.beta2) == (2e-4, 0.5, 0.999)
  for g in (gp, one):
    assert (g.config.lr_d, g.config.beta1, g.config.beta2, g.config.gp_weight) == (
        1e-4, 0.0, 0.9, 10.0)
    assert g.critic.norm == "layer"
  assert one.config.one_sided and not gp.config.one_sided and gan.critic.norm == "batch"
  assert gan.config.weight_penalty == gp.config.weight_penalty == 1e-3
  plain = ra.build(dict(arch, d_batch_norm=False), "gan", s)
  assert plain.critic.norm == "none" and plain.config.weight_penalty == 0


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(ra.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "random_archs.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "random_archs.json").read_text())["numbers"]
  archs = ra.FIGURE.config("tiny")["archs"]
  assert len(n["architectures"]) == archs and len(r["checks"]) == 2
  for t, c in n["table"].items():
    assert sum(c.values()) == archs
  # re-judged from the JSON alone: the same checks
  assert runner.rebuild(ra.FIGURE, str(tmp_path))["checks"] == r["checks"]
