"""experiments/figures/critic_overfitting.py (WGAN-GP Fig 5b on Fashion-MNIST): the trend test
against hand-computed values and on curves that only wander, the checks on constructed curves
(each fails, or is underpowered, when its phenomenon is absent), the cost program against the
library's loss and penalty, and the figure end to end at the tiny size."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from experiments import common
from experiments.figures import critic_overfitting as co
from experiments.figures import runner


def test_subset_indices_are_distinct_sorted_and_fixed_by_the_key():
  k = jax.random.key(3)
  a = co.subset_indices(k, 100, 30)
  assert len(a) == 30 and len(set(a.tolist())) == 30
  assert np.all(np.diff(a) > 0) and a.min() >= 0 and a.max() < 100
  np.testing.assert_array_equal(a, co.subset_indices(k, 100, 30))
  assert not np.array_equal(a, co.subset_indices(jax.random.key(4), 100, 30))
  with pytest.raises(ValueError, match="n"):
    co.subset_indices(k, 10, 11)


def test_batched_drops_the_remainder():
  x = np.arange(7 * 2).reshape(7, 2)
  b = co.batched(x, 3)
  assert b.shape == (2, 3, 2)
  np.testing.assert_array_equal(b[1, 2], x[5])
  with pytest.raises(ValueError, match="images"):
    co.batched(x, 8)


def test_negative_costs_by_hand():
  n = co.negative_costs(dict(total=np.array([[1.0, 3.0], [-2.0, 0.0]]),
                             adv=np.array([[0.0, 2.0], [-3.0, -1.0]]),
                             gp=np.array([[0.1, 0.1], [0.1, 0.1]])))
  np.testing.assert_allclose(n["value"], [-2.0, 1.0])
  np.testing.assert_allclose(n["without_penalty"], [-1.0, 2.0])
  np.testing.assert_allclose(n["penalty"], [0.1, 0.1])


def test_trend_by_hand():
  """Residuals that alternate in sign (r1 < 0 even after the bias correction): n_eff is n, so
  slope, s.e. and p are ordinary least squares' (scipy's linregress); a perfect line has s.e.
  0 and t inf; a residual autocorrelation r1 inflates the s.e. by √((n − 2)/(n_eff − 2))."""
  import scipy.stats
  x = np.arange(1, 21) * 50.0
  y = 2 + 0.001 * x + 0.05 * (-1.0) ** np.arange(20)
  tr, ls = co.trend(x, y), scipy.stats.linregress(x, y)
  assert tr["n"] == 20 and tr["n_eff"] == 20 and tr["r1"] < 0
  assert tr["slope"] == pytest.approx(ls.slope) and tr["se"] == pytest.approx(ls.stderr)
  assert tr["p"] == pytest.approx(ls.pvalue) and tr["change"] == pytest.approx(ls.slope * 950)
  assert tr["end"] == pytest.approx(ls.intercept + ls.slope * 1000)
  line = co.trend(x, 3 - 0.01 * x)
  assert line["se"] == 0 and line["t"] == -math.inf and line["p"] == 0
  assert co.holds(line, -1) is True and co.holds(line, +1) is False
  # a wave around a line: r1 by hand, + (1 + 3 r1)/n, n_eff = n (1 − r1)/(1 + r1)
  y = 0.001 * x + 0.2 * np.sin(np.arange(20.0))   # r1 0.63 after the correction: n_eff 4.6
  tr = co.trend(x, y)
  b, a = np.polyfit(x, y, 1)
  r = y - a - b * x
  r1 = np.sum(r[1:] * r[:-1]) / np.sum(r * r)
  r1 += (1 + 3 * r1) / 20
  n_eff = 20 * (1 - r1) / (1 + r1)
  assert tr["r1"] == pytest.approx(r1) and tr["n_eff"] == pytest.approx(n_eff)
  assert tr["se"] == pytest.approx(math.sqrt(np.sum(r * r) / (n_eff - 2) /
                                             np.sum((x - x.mean()) ** 2)))
  assert n_eff < co.N_EFF_MIN and co.holds(tr, +1) == runner.UNDERPOWERED


def test_holds_on_short_and_diverged_curves():
  assert co.holds(co.trend([1.0, 2.0], [0.0, 1.0]), +1) == runner.UNDERPOWERED
  assert co.holds(co.trend(np.arange(1.0, 7.0), np.arange(6.0)), +1) == runner.UNDERPOWERED
  bad = co.trend(np.arange(1.0, 31.0), [math.nan] + list(range(29)))
  assert math.isnan(bad["n_eff"]) and co.holds(bad, +1) is False
  assert co.all_of(True, runner.UNDERPOWERED) == runner.UNDERPOWERED
  assert co.all_of(False, runner.UNDERPOWERED) is False and co.all_of(True, True) is True


def test_a_curve_that_only_wanders_does_not_pass():
  """Driftless random walks (no systematic trend, but they drift): the old statistic, z
  between the thirds' means as if the points were independent, passed a rise on most of them;
  the trend test passes about its nominal 2.5% one-sided, and calls most underpowered."""
  rng = np.random.default_rng(0)
  x = np.arange(1, 51) * 50.0
  walks = np.cumsum(rng.standard_normal((300, 50)), axis=1)
  got = [co.holds(co.trend(x, w), +1) for w in walks]
  assert np.mean([g is True for g in got]) <= 0.05
  assert np.mean([g == runner.UNDERPOWERED for g in got]) >= 0.8

  def old_z(w):   # the replaced check: late third against early third, independent s.e.
    a, b = w[2:18], w[34:]
    return (b.mean() - a.mean()) / math.sqrt(a.var(ddof=1) / 16 + b.var(ddof=1) / 16)
  assert np.mean([old_z(w) >= 2 for w in walks]) > 0.3


N = 60  # evaluations after iteration 0 of a constructed curve


def _evals(train=(2.0, 1.0, 2.0), validation=(2.0, 0.0, -1.0), noise=0.05, seed=0, n=N):
  """A panel's stored evaluations: piecewise-linear curves through the given values at the
  start, a third of the way and the end, plus Gaussian noise; iteration 0 first. The defaults
  are the paper's GP panel: the gap grows steadily (0 → 1 → 3), and over the last two thirds
  the training value rises (1 → 2) while the validation value falls (0 → −1)."""
  rng = np.random.default_rng(seed)
  x = np.linspace(0, 1, n)
  t = np.interp(x, [0, 1 / 3, 1], train) + noise * rng.standard_normal(n)
  v = np.interp(x, [0, 1 / 3, 1], validation) + noise * rng.standard_normal(n)
  return [dict(iteration=0, train=0.0, validation=0.0)] + [
      dict(iteration=50 * (i + 1), train=float(t[i]), validation=float(v[i])) for i in range(n)]


CLIP = dict(train=(0.1, 0.2, 0.3), validation=(0.1, 0.15, 0.2), noise=0.01)   # gap 0 → 0.1


def _judge(gp=None, clip=None):
  """The checks on the stored numbers of constructed curves."""
  curves = {"gradient penalty": _evals(**(gp or {})), "weight clipping": _evals(**(clip or CLIP))}
  return list(co.judge(runner.as_stored(dict(curves=curves))).values())


U = runner.UNDERPOWERED


def test_checks_pass_on_the_papers_curves():
  assert _judge() == [True, True, True]


@pytest.mark.parametrize("gp, clip, expected", [
    # the two curves move together: no divergence, and validation does not fall alone
    (dict(train=(2.0, 1.0, 3.0), validation=(2.0, 1.0, 3.0)), None, [False, False, True]),
    # the gap grows but both values fall: no rise of the training value
    (dict(train=(2.0, 1.5, 1.0), validation=(2.0, 0.5, -2.0)), None, [True, False, True]),
    # the training value flat while validation falls: the gap grows but nothing rises
    (dict(train=(2.0, 1.0, 1.0), validation=(2.0, 0.0, -2.0)), None, [True, False, True]),
    # both rise: the training value rises but validation does not drop
    (dict(train=(2.0, 1.0, 4.0), validation=(2.0, 0.0, 1.0)), None, [True, False, True]),
    # the gap shrinks, validation above training at the end
    (dict(train=(2.0, 1.0, 2.0), validation=(2.0, 2.0, 5.0)), None, [False, False, True]),
    # clipping curves together
    (None, dict(CLIP, validation=CLIP["train"]), [True, True, False]),
    # only noise: nothing is significant
    (dict(train=(1.0, 1.0, 1.0), validation=(1.0, 1.0, 1.0)), None, [False, False, True]),
    # a diverged GP run (a non-finite value, stored as None) passes none of its checks
    (dict(train=(2.0, 1.0, math.inf)), None, [False, False, True]),
    # a run of 6 evaluations (the tiny size) cannot tell a trend from wander: underpowered
    (dict(n=6), dict(CLIP, n=6), [U, U, U]),
])
def test_each_check_fails_when_its_phenomenon_is_absent(gp, clip, expected):
  assert _judge(gp, clip) == expected


def test_a_gap_that_only_wanders_is_no_divergence():
  """Identical curves plus a driftless random walk in the training value (the critic's train
  − validation difference wanders; nothing grows systematically): the old z-test between
  thirds passed; the trend test is underpowered (the walk's residuals have r1 ≈ 1)."""
  rng = np.random.default_rng(3)
  evals = _evals(train=(1.0, 1.0, 1.0), validation=(1.0, 1.0, 1.0), noise=0.0)
  walk = np.cumsum(0.05 * rng.standard_normal(N))
  for e, w in zip(evals[1:], walk):
    e["train"] += float(w)
  s = co.panel_stats(evals)
  assert s["gap"]["n_eff"] < co.N_EFF_MIN and co.diverges(s) in (False, U)


def test_summary_reads_the_stored_numbers():
  curves = {"gradient penalty": _evals(), "weight clipping": _evals(**CLIP)}
  n = runner.as_stored(dict(curves=curves, sizes=co.FIGURE.config("default")))
  s = co.summary(n)
  assert s.startswith("DIM 16, 2500 it., 1000 train / 1000 validation images. Trends of the "
                      "negative critic loss. GP: train − validation gap over training +")
  assert "n_eff" in s and "of 60" in s and "of 40" in s
  del n["sizes"]   # a run stored before the numbers held the sizes
  assert co.summary(n).startswith("Trends of the negative critic loss. GP: ")


def test_plot_reads_the_stored_numbers_with_or_without_sizes():
  curves = {"gradient penalty": _evals(), "weight clipping": _evals(n=6)}
  n = runner.as_stored(dict(
      curves=curves, sizes=co.FIGURE.config("default"),
      setup=dict(models="official WGAN-GP MNIST G and D, DIM 16", generator_iterations=300),
      minibatch_cost={k: dict(iteration=[1, 2], negative_cost=[1.0, None]) for k in curves}))
  for numbers in (n, {k: v for k, v in n.items() if k != "sizes"}):
    fig = co.plot(numbers)
    assert "n_eff" in fig.axes[0].get_title() and "underpowered" in fig.axes[1].get_title()
    common.matplotlib_pyplot().close(fig)


@pytest.mark.slow  # compiling the penalty's double gradient through the convolutions: ~20 s
@pytest.mark.parametrize("objective", ["wgan-gp", "wgan"])
def test_cost_program_is_the_training_cost(objective):
  """The program's total on each set equals mean D(G(z)) − mean D(x) (+ λ·GP on the same ε),
  computed here from the networks, `wj.interpolate` and the input gradient, with batch b's
  fakes and ε drawn from fold_in(key, b) for every set."""
  gan = co.build(objective, dim=2, batch=4)
  x = jax.random.uniform(jax.random.key(0), (8, 28, 28, 1), minval=-1.0, maxval=1.0)
  state = gan.init(jax.random.key(1), x)
  sets = jnp.stack([co.batched(x, 4), co.batched(x[::-1], 4)])
  key = jax.random.key(2)
  out = jax.device_get(co.cost_program(gan, 2)(state, sets, key))
  g, d = state.generator, state.critic

  def critic(v, train):
    return gan.apply_critic(d.params, d.model_state, v, train=train)[0]

  @jax.jit
  def reference(real, b):  # (adv, total) of set batch `real` against batch b's fakes
    k_z, k_e = jax.random.split(jax.random.fold_in(key, b))
    z = jax.random.normal(k_z, (4, co.LATENT))
    eps = jax.random.uniform(k_e, (4,))
    fake, _ = gan.apply_generator(g.params, g.model_state, z, train=True)
    adv = jnp.mean(critic(fake, True)) - jnp.mean(critic(real, True))
    if objective != "wgan-gp":
      return adv, adv
    x_hat = wj.interpolate(real, fake, eps)
    # no BatchNorm in this critic: the gradient of the sum is each example's own gradient
    grads = jax.grad(lambda u: jnp.sum(critic(u, False)))(x_hat)
    norms = jnp.sqrt(jnp.sum(grads ** 2, axis=(1, 2, 3)))
    return adv, adv + co.LAMBDA * jnp.mean((norms - 1.0) ** 2)

  for b in range(2):
    for s in range(2):
      adv, want = reference(sets[s, b], b)
      assert out["adv"][s, b] == pytest.approx(float(adv), rel=1e-4, abs=1e-6)
      assert out["total"][s, b] == pytest.approx(float(want), rel=1e-4, abs=1e-6)
  if objective == "wgan":
    np.testing.assert_array_equal(out["gp"], 0.0)


def test_build_is_gan_mnist_recipe():
  gp, clip = co.build("wgan-gp", 8, 50), co.build("wgan", 8, 50)
  assert (gp.config.optimizer, gp.config.lr_d, gp.config.beta1, gp.config.beta2,
          gp.config.gp_weight, gp.config.n_critic) == ("adam", 1e-4, 0.5, 0.9, 10.0, 5)
  assert (clip.config.optimizer, clip.config.lr_d, clip.config.clip_value, clip.config.warmup,
          clip.config.n_critic) == ("rmsprop", 5e-5, 0.01, False, 5)
  assert gp.generator.norm == gp.critic.norm == "none"
  assert clip.generator.norm == clip.critic.norm == "batch"
  assert co.FIGURE.config("full")["iters"] == 20000 and co.FIGURE.config("full")["dim"] == 64
  # issue 27 item 3: the paper's length at the CPU width, a named config of its own
  long, default = co.FIGURE.config("long"), co.FIGURE.config("default")
  assert (long["iters"], long["dim"]) == (20000, 16)
  assert {k: v for k, v in long.items() if k not in ("iters", "eval_every")} == {
      k: v for k, v in default.items() if k not in ("iters", "eval_every")}
  with pytest.raises(ValueError, match="scale"):
    co.FIGURE.config("huge")


@pytest.mark.slow
def test_run_tiny_end_to_end(tmp_path):
  r = runner.run(co.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "critic_overfitting.png").stat().st_size > 0
  saved = json.loads((tmp_path / "critic_overfitting.json").read_text())
  assert len(saved["checks"]) == 3
  # 6 evaluations cannot tell a trend from wander: no check passes
  assert all(v is False or v == runner.UNDERPOWERED for v in saved["checks"].values())
  sz = co.FIGURE.config("tiny")
  for label, _ in co.PANELS:
    evals = saved["numbers"]["curves"][label]
    assert [e["iteration"] for e in evals] == list(range(0, sz["iters"] + 1, sz["eval_every"]))
    for e in evals:
      for k in ("train", "validation", "train_without_penalty", "validation_penalty"):
        assert math.isfinite(e[k])
    assert np.isfinite(saved["numbers"]["minibatch_cost"][label]["negative_cost"]).all()
  curves = saved["numbers"]["curves"]
  assert curves["weight clipping"][1]["train"] != curves["gradient penalty"][1]["train"]
  assert saved["numbers"]["sizes"] == sz
  assert r["summary"].startswith(f"DIM {sz['dim']}, {sz['iters']} it., {sz['images']} train")
