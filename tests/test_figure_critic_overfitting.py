"""experiments/figures/critic_overfitting.py (WGAN-GP Fig 5b on Fashion-MNIST): the statistics
against hand-computed values, the checks on constructed curves (each fails when its phenomenon is
absent), the cost program against the library's loss and penalty, and the figure end to end at
the tiny size."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from experiments.figures import critic_overfitting as co
from experiments.figures import runner


def test_thirds_drops_the_first_remainder():
  early, middle, late = co.thirds(np.arange(8.0))
  np.testing.assert_array_equal(early, [2, 3])
  np.testing.assert_array_equal(middle, [4, 5])
  np.testing.assert_array_equal(late, [6, 7])
  with pytest.raises(ValueError, match="values"):
    co.thirds(np.arange(5.0))


def test_change_by_hand():
  c = co.change([1.0, 3.0], [4.0, 6.0])       # variances 2 and 2, n = 2 each
  assert c["change"] == pytest.approx(3.0)
  assert c["se"] == pytest.approx(math.sqrt(2.0))
  assert c["z"] == pytest.approx(3.0 / math.sqrt(2.0))
  assert co.change([1.0, 1.0], [2.0, 2.0])["z"] == math.inf
  assert co.change([2.0, 2.0], [1.0, 1.0])["z"] == -math.inf
  assert co.change([1.0, 1.0], [1.0, 1.0])["z"] == 0.0


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


def test_summarise_on_straight_lines():
  """train = i, validation = −i over 9 points: thirds of 3; rises of 3 per third."""
  i = np.arange(9.0)
  s = co.summarise(i, -i)
  assert s["train_thirds"] == [1.0, 4.0, 7.0]
  assert s["validation_thirds"] == [-1.0, -4.0, -7.0]
  assert s["gap_thirds"] == [2.0, 8.0, 14.0]
  assert s["gap_growth"]["change"] == pytest.approx(12.0)
  assert s["train_rise"]["change"] == pytest.approx(3.0)
  assert s["validation_rise"]["change"] == pytest.approx(-3.0)
  assert s["train_rise"]["se"] == pytest.approx(math.sqrt(2 * 1.0 / 3))  # s² = 1 per third
  assert s["late_gap"] == pytest.approx(14.0)


N = 60  # evaluations of a constructed curve


def _curves(train=(2.0, 1.0, 3.0), validation=(2.0, 1.0, 0.0), noise=0.05, seed=0):
  """Piecewise-linear curves through the given values at the start, the middle and the end,
  plus a little Gaussian noise."""
  rng = np.random.default_rng(seed)
  x = np.linspace(0, 1, N)
  t = np.interp(x, [0, 0.5, 1], train) + noise * rng.standard_normal(N)
  v = np.interp(x, [0, 0.5, 1], validation) + noise * rng.standard_normal(N)
  return co.summarise(t, v)


def _judge(gp=None, clip=None):
  """The checks on the stored numbers of constructed curves (and the same on their statistics
  before storing)."""
  stats = {"gradient penalty": _curves(**(gp or {})),
           "weight clipping": _curves(**(clip or dict(train=(0.1, 0.2, 0.3),
                                                       validation=(0.1, 0.1, 0.1))))}
  checks = co.judge(runner.as_stored(dict(stats=stats)))
  assert checks == co.judge_stats(stats)
  return list(checks.values())


def test_checks_pass_on_the_papers_curves():
  assert _judge() == [True, True, True]


@pytest.mark.parametrize("gp, clip, expected", [
    # the two curves move together: no divergence, and validation does not fall alone
    (dict(train=(2.0, 1.0, 3.0), validation=(2.0, 1.0, 3.0)), None, [False, False, True]),
    # both fall (the critic generalises while G improves): no rise of the training value
    (dict(train=(2.0, 1.5, 1.0), validation=(2.0, 1.0, 0.0)), None, [True, False, True]),
    # the training value flat while validation falls: the gap grows but nothing rises
    (dict(train=(2.0, 1.0, 1.0), validation=(2.0, 0.5, 0.0)), None, [True, False, True]),
    # both rise: the training value rises but validation does not drop
    (dict(train=(2.0, 1.0, 3.0), validation=(2.0, 1.0, 2.0)), None, [True, False, True]),
    # validation above training at the end: the critic scores held-out data higher
    (dict(train=(2.0, 1.0, 1.5), validation=(4.0, 3.0, 2.0)), None, [False, True, True]),
    # clipping curves together
    (None, dict(train=(0.1, 0.2, 0.3), validation=(0.1, 0.2, 0.3)), [True, True, False]),
    # only noise: nothing is significant
    (dict(train=(1.0, 1.0, 1.0), validation=(1.0, 1.0, 1.0)), None, [False, False, True]),
])
def test_each_check_fails_when_its_phenomenon_is_absent(gp, clip, expected):
  assert _judge(gp, clip) == expected


def test_infinite_z_survives_storage():
  """Constant thirds: a change with s.e. 0 has z ±inf, which JSON stores as None; the stored
  numbers are judged as the statistics were (every check passes), and a non-finite curve (z
  NaN, also None) passes none."""
  t, v = np.repeat([0.0, 1.0, 2.0], 2), np.repeat([0.0, 0.0, -1.0], 2)
  stats = {"gradient penalty": co.summarise(t, v), "weight clipping": co.summarise(t, v)}
  gp = stats["gradient penalty"]
  assert (gp["gap_growth"]["z"], gp["train_rise"]["z"], gp["validation_rise"]["z"]) == (
      math.inf, math.inf, -math.inf)
  stored = runner.as_stored(dict(stats=stats))
  assert stored["stats"]["gradient penalty"]["train_rise"]["z"] is None
  assert list(co.judge(stored).values()) == list(co.judge_stats(stats).values()) == [True] * 3
  nan = {k: co.summarise(np.full(6, math.nan), v) for k in stats}
  assert list(co.judge(runner.as_stored(dict(stats=nan))).values()) == [False] * 3


def test_summary_reads_the_stored_numbers():
  stats = {"gradient penalty": _curves(), "weight clipping": _curves()}
  n = runner.as_stored(dict(stats=stats, sizes=co.FIGURE.config("default")))
  assert co.summary(n).startswith("DIM 16, 2500 it., 1000 train / 1000 validation images. GP: ")
  del n["sizes"]   # a run stored before the numbers held the sizes
  assert co.summary(n).startswith("GP: train − validation gap early → late third ")


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
  with pytest.raises(ValueError, match="scale"):
    co.FIGURE.config("huge")


@pytest.mark.slow
def test_run_tiny_end_to_end(tmp_path):
  r = runner.run(co.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "critic_overfitting.png").stat().st_size > 0
  saved = json.loads((tmp_path / "critic_overfitting.json").read_text())
  assert len(saved["checks"]) == 3 and all(isinstance(v, bool) for v in saved["checks"].values())
  sz = co.FIGURE.config("tiny")
  for label, _ in co.PANELS:
    evals = saved["numbers"]["curves"][label]
    assert [e["iteration"] for e in evals] == list(range(0, sz["iters"] + 1, sz["eval_every"]))
    for e in evals:
      for k in ("train", "validation", "train_without_penalty", "validation_penalty"):
        assert math.isfinite(e[k])
    st = saved["numbers"]["stats"][label]
    assert all(math.isfinite(v) for v in st["gap_thirds"] + st["train_thirds"])
    assert np.isfinite(saved["numbers"]["minibatch_cost"][label]["negative_cost"]).all()
  assert saved["numbers"]["stats"]["weight clipping"]["train_thirds"][0] != \
      saved["numbers"]["stats"]["gradient penalty"]["train_thirds"][0]
  assert saved["numbers"]["sizes"] == sz
  assert r["summary"].startswith(f"DIM {sz['dim']}, {sz['iters']} it., {sz['images']} train")
