"""RMSProp's three forms (issue 27 item 2): the library's update against PyTorch's and TF1's
formulas on hand values, the `wgan` recipe's form (the official WGAN code's, PyTorch's), the
fields' validation and the jobs' `--rmsprop` option. Two slow tests need torch
(requirements-parity.txt, installed by .ci/run before the slow tier): the update against
torch.optim.RMSprop itself, and the wgan GAN's steps against the plain-PyTorch port of
benchmarks/wgan_toy_reference.py from the same weights on the same batches."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wgan_jax as wj
from experiments import configs, toy
from experiments.configs import get_config
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator
from wgan_jax.train import make_optimizer

LR = 5e-5
P0 = np.array([0.5, -0.007, 2e-3, 0.0], np.float32)
# Three steps of hand gradients: a clipped critic's size (1e-6 to 1e-4, below √1e-8 = 1e-4),
# one large, one exactly 0, and a sign change.
GRADS = np.array([[3e-6, -2e-5, 6e-5, 0.0],
                  [-4e-6, -1e-5, 8e-5, 0.5],
                  [5e-6, 3e-5, -1e-4, -0.25]], np.float64)


def pytorch_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8):
  """torch.optim.RMSprop (no momentum, not centred): v ← αv + (1−α)g², p ← p − lr·g/(√v + ε),
  v starting at 0."""
  p, v = p.astype(np.float64), np.zeros_like(p, np.float64)
  for g in grads:
    v = alpha * v + (1 - alpha) * g ** 2
    p = p - lr * g / (np.sqrt(v) + eps)
  return p


def tf1_rmsprop(p, grads, lr, decay=0.9, eps=1e-10):
  """tf.train.RMSPropOptimizer (momentum 0, not centred; its ApplyRMSProp kernel):
  ms starts at 1, ms ← ρ·ms + (1−ρ)g², p ← p − lr·g/√(ms + ε)."""
  p, ms = p.astype(np.float64), np.ones_like(p, np.float64)
  for g in grads:
    ms = decay * ms + (1 - decay) * g ** 2
    p = p - lr * g / np.sqrt(ms + eps)
  return p


def optax_rmsprop(p, grads, lr, decay=0.9, eps=1e-8):
  """optax.rmsprop's defaults: v from 0, p ← p − lr·g/√(v + ε)."""
  p, v = p.astype(np.float64), np.zeros_like(p, np.float64)
  for g in grads:
    v = decay * v + (1 - decay) * g ** 2
    p = p - lr * g / np.sqrt(v + eps)
  return p


def library_steps(config, p0=P0, grads=GRADS, lr=LR, critic=False):
  """The parameters after the library's steps, or (not `critic`) the sum of its updates in
  float64: steps of 1e-9 vanish in float32 beside a weight of 0.5."""
  opt = make_optimizer(config, lr, critic=critic)
  p = jnp.asarray(p0)
  state = opt.init(p)
  moved = np.zeros(p.shape, np.float64)
  for g in grads:
    updates, state = opt.update(jnp.asarray(g, jnp.float32), state, p)
    p = p + updates
    moved += np.asarray(updates, np.float64)
  return np.asarray(p, np.float64) if critic else moved


def step_of(p):
  return p - P0.astype(np.float64)   # what a reference's three steps moved


@pytest.mark.parametrize("form, reference", [("pytorch", pytorch_rmsprop),
                                             ("tf1", tf1_rmsprop), ("optax", optax_rmsprop)])
def test_each_form_is_its_formula_on_hand_values(form, reference):
  config = wj.make_config("wgan", **wj.RMSPROP_FORMS[form])
  got, want = library_steps(config), step_of(reference(P0, GRADS, LR))
  np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-12)
  assert np.all(want[:3] != 0)       # every coordinate with a gradient moved


def test_the_wgan_recipe_is_the_official_codes_pytorch_form():
  config = wj.make_config("wgan")
  form = {k: getattr(config, k) for k in wj.RMSPROP_FORMS["pytorch"]}
  assert form == dict(rmsprop_decay=0.99, rmsprop_eps=1e-8, rmsprop_eps_in_sqrt=False,
                      rmsprop_initial_scale=0.0)
  assert (config.optimizer, config.lr_d, config.lr_g) == ("rmsprop", 5e-5, 5e-5)
  np.testing.assert_allclose(library_steps(config),
                             step_of(pytorch_rmsprop(P0, GRADS, LR)), rtol=2e-5, atol=1e-12)
  # the other objectives keep optax's form when RMSProp is chosen for them
  other = wj.make_config("wgan-gp", optimizer="rmsprop")
  assert {k: getattr(other, k) for k in wj.RMSPROP_FORMS["optax"]} == dict(
      wj.RMSPROP_FORMS["optax"])


def test_the_forms_differ_where_a_clipped_critic_lives():
  """At gradients below √ε the place of ε sets the step: the first PyTorch step is ≈ 10·lr per
  weight (g/(√(0.01 g²) + ε)), optax's ≈ lr·|g|/1e-4, TF1's ≈ lr·|g| (its moment starts at 1)."""
  g = np.array([[1e-5]])
  p0 = np.zeros(1, np.float32)
  steps = {f: abs(library_steps(wj.make_config("wgan", **wj.RMSPROP_FORMS[f]), p0, g)[0])
           for f in wj.RMSPROP_FORMS}
  assert steps["pytorch"] == pytest.approx(LR * 1e-5 / (math.sqrt(0.01 * 1e-10) + 1e-8),
                                           rel=1e-3)
  assert steps["optax"] == pytest.approx(LR * 1e-5 / math.sqrt(0.1 * 1e-10 + 1e-8), rel=1e-3)
  assert steps["tf1"] == pytest.approx(LR * 1e-5 / math.sqrt(0.9 + 1e-11 + 1e-10), rel=1e-3)
  assert steps["pytorch"] > 50 * steps["optax"] > 50 * steps["tf1"]


@pytest.mark.slow   # the slow tier is the one that CI runs with torch (requirements-parity.txt)
def test_the_pytorch_form_is_torch_optim_rmsprop():
  torch = pytest.importorskip("torch")
  p = torch.nn.Parameter(torch.tensor(P0.astype(np.float64)))
  opt = torch.optim.RMSprop([p], lr=LR)    # PyTorch's defaults: alpha 0.99, eps 1e-8
  for g in GRADS:
    p.grad = torch.tensor(g)
    opt.step()
  want = p.detach().numpy() - P0.astype(np.float64)
  np.testing.assert_allclose(want, step_of(pytorch_rmsprop(P0, GRADS, LR)), rtol=1e-12)
  got = library_steps(wj.make_config("wgan"))
  np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-12)


def test_the_clipped_critic_chains_the_form_then_the_clip():
  """The critic's optimiser is the form's step, then every weight clipped to [−c, c]."""
  config = wj.make_config("wgan", clip_value=0.01)
  got = library_steps(config, critic=True)
  p, v = P0.astype(np.float64), np.zeros(4)
  for g in GRADS:
    v = 0.99 * v + 0.01 * g ** 2
    p = np.clip(p - LR * g / (np.sqrt(v) + 1e-8), -0.01, 0.01)
  np.testing.assert_allclose(got, p, rtol=2e-5, atol=1e-9)
  assert np.all(np.abs(got) <= 0.01)


def test_the_gan_builds_its_optimisers_from_the_form():
  """A GAN's initial optimiser state carries the form's v₀ (TF1's 1, PyTorch's 0)."""
  ds = make_toy_dataset("8gaussians")
  for form, v0 in (("tf1", 1.0), ("pytorch", 0.0)):
    config = wj.make_config("wgan", batch_size=8, **wj.RMSPROP_FORMS[form])
    gan = wj.GAN(MLPGenerator(width=8, depth=1), MLPCritic(width=8, depth=1), config,
                 lambda data, key: ds.sample_one(key))
    state = gan.init(jax.random.key(0))
    for player in (state.generator, state.critic):
      nus = [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(player.opt_state)
             if "nu" in jax.tree_util.keystr(path)]
      assert nus and all(np.all(np.asarray(n) == v0) for n in nus)


@pytest.mark.parametrize("fields, field", [
    (dict(rmsprop_eps=0.0), "rmsprop_eps"),
    (dict(rmsprop_eps=-1e-8), "rmsprop_eps"),
    (dict(rmsprop_eps=math.nan), "rmsprop_eps"),
    (dict(rmsprop_eps="1e-8"), "rmsprop_eps"),
    (dict(rmsprop_eps_in_sqrt="no"), "rmsprop_eps_in_sqrt"),
    (dict(rmsprop_eps_in_sqrt=0), "rmsprop_eps_in_sqrt"),
    (dict(rmsprop_initial_scale=-1.0), "rmsprop_initial_scale"),
    (dict(rmsprop_initial_scale=math.inf), "rmsprop_initial_scale"),
    (dict(rmsprop_initial_scale=True), "rmsprop_initial_scale"),
    (dict(rmsprop_decay=1.0), "rmsprop_decay"),
])
def test_bad_rmsprop_values_name_the_field(fields, field):
  with pytest.raises(wj.ConfigError, match=f"^{field}: ") as info:
    wj.make_config("wgan", **fields)
  assert info.value.field == field


def test_the_forms_table():
  assert tuple(wj.RMSPROP_FORMS) == configs.RMSPROP_FORMS == ("pytorch", "tf1", "optax")
  for form in wj.RMSPROP_FORMS.values():
    wj.make_config("wgan", **form)                     # each a valid set of GANConfig fields
  with pytest.raises(TypeError):
    wj.RMSPROP_FORMS["pytorch"]["rmsprop_eps"] = 1.0   # read-only: the recipes share it


@pytest.mark.parametrize("form", ["pytorch", "tf1", "optax"])
def test_the_option_maps_to_the_form(form):
  for job, objective in (("toy", "wgan"), ("images", "wgan")):
    c = get_config(job, objective=objective, rmsprop=form).gan_config()
    assert {k: getattr(c, k) for k in wj.RMSPROP_FORMS[form]} == dict(wj.RMSPROP_FORMS[form])
  c = get_config("toy", objective="wgan-gp", optimizer="rmsprop", rmsprop=form).gan_config()
  assert (c.optimizer, c.rmsprop_eps) == ("rmsprop", wj.RMSPROP_FORMS[form]["rmsprop_eps"])
  assert c.gp_weight == 0.1   # the job's own defaults stay


def test_the_option_is_refused_without_rmsprop():
  for fields in (dict(objective="wgan", optimizer="adam", rmsprop="tf1"),
                 dict(objective="wgan-gp", rmsprop="pytorch")):
    with pytest.raises(wj.ConfigError) as e:
      get_config("toy", **fields)
    assert e.value.field == "rmsprop" and "adam" in str(e.value)
  with pytest.raises(wj.ConfigError) as e:
    get_config("toy", objective="wgan", rmsprop="keras")
  assert e.value.field == "rmsprop"


@pytest.mark.parametrize("argv", [["--objective", "wgan", "--optimizer", "adam", "--rmsprop",
                                   "tf1"], ["--rmsprop", "pytorch"]])
def test_the_command_line_refuses_it_in_one_line(argv, capsys, tmp_path):
  out = tmp_path / "o"
  with pytest.raises(SystemExit) as e:
    toy.main(argv + ["--out", str(out), "--no-progress"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and err.startswith("error: --rmsprop"), err
  assert not out.exists()


@pytest.mark.slow   # needs torch, as above
def test_the_wgan_gan_steps_as_the_independent_pytorch_port():
  """The library's `wgan` GAN (the toy MLPs, its recipe: PyTorch's RMSProp 5e-5, every critic
  parameter clipped to ±0.01 after each critic step, 5 critic steps) and the plain-PyTorch port
  of benchmarks/wgan_toy_reference.py, from the same weights on the same batches, stay within
  float32 rounding of each other for 4 iterations (24 steps). The runs are chaotic: the
  clipped weights' tiny gradients flip sign on rounding, so after ~50 iterations they part
  (statistically alike, docs/papers.md §8)."""
  torch = pytest.importorskip("torch")
  from benchmarks import wgan_toy_reference as ref
  width, batch = 32, 64
  torch.manual_seed(0)
  torch.set_num_threads(1)
  gen, critic = ref.mlp(torch, 2, width, 2), ref.mlp(torch, 2, width, 1)

  def params_of(seq):
    lin = [m for m in seq if isinstance(m, torch.nn.Linear)]
    dense = [dict(kernel=jnp.asarray(m.weight.detach().numpy().T),
                  bias=jnp.asarray(m.bias.detach().numpy())) for m in lin]
    return {"_MLPBody_0": {f"Dense_{i}": dense[i] for i in range(3)}, "Dense_0": dense[3]}

  ds = make_toy_dataset("8gaussians")
  config = wj.make_config("wgan", batch_size=batch, warmup=False)
  gan = wj.GAN(MLPGenerator(width=width, depth=3), MLPCritic(width=width, depth=3), config,
               lambda data, key: ds.sample_one(key))
  key = jax.random.key(0)
  state = gan.init(key)
  g0, d0 = params_of(gen), params_of(critic)
  assert jax.tree.map(jnp.shape, state.generator.params) == jax.tree.map(jnp.shape, g0)
  state = state.replace(
      generator=state.generator.replace(params=g0, opt_state=gan.g_optimizer.init(g0)),
      critic=state.critic.replace(params=d0, opt_state=gan.d_optimizer.init(d0)))
  critic_batch = jax.jit(lambda s: gan._draws(   # the real batch and z of critic step s
      jax.random.fold_in(jax.random.fold_in(key, 0), s), None)[:2])
  generator_z = jax.jit(lambda s: gan._generator_inputs(s, key)[0])
  opt_g = ref.make_optimizer(torch, gen.parameters(), "pytorch")
  opt_d = ref.make_optimizer(torch, critic.parameters(), "pytorch")

  def gap(params, seq):
    a, b = jax.tree.leaves(params), jax.tree.leaves(params_of(seq))
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))

  for _ in range(4):
    for _ in range(config.n_critic):
      real, z = (torch.from_numpy(np.array(v)) for v in critic_batch(state.critic_steps))
      state, _ = gan.critic_step(state, key, None)
      with torch.no_grad():
        fake = gen(z)
      loss = critic(fake).mean() - critic(real).mean()
      opt_d.zero_grad()
      loss.backward()
      opt_d.step()
      with torch.no_grad():
        for p in critic.parameters():
          p.clamp_(-ref.CLIP, ref.CLIP)
      assert gap(state.critic.params, critic) < 1e-6
    z = torch.from_numpy(np.array(generator_z(state)))
    state, _ = gan.generator_step(state, key)
    critic.requires_grad_(False)
    loss = -critic(gen(z)).mean()
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    critic.requires_grad_(True)
    assert gap(state.generator.params, gen) < 1e-6
  # the steps moved the weights (by about 10·lr per step at first), far past the rounding
  start = max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
              for x, y in zip(jax.tree.leaves(state.generator.params), jax.tree.leaves(g0)))
  assert start > 1e-4
