"""The official WGAN-GP MNIST models (`wgan_jax.models.mnist`): the architecture of gan_mnist.py
(shapes, parameter counts by hand, initialisation), the [-1, 1] output range, the refused
shapes, and one WGAN-GP step through `wgan_jax.GAN`."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj
from experiments.builders import make_models
from experiments.cli import OptionError
from wgan_jax.data.images import array_sampler
from wgan_jax.models import MNISTCritic, MNISTGenerator
from wgan_jax.models.mnist import official_conv_init

DIM = 64

# gan_mnist.py at DIM = 64, counted by hand (kernel + bias of each layer):
#   G: Linear 128 → 4·4·4·64 = 4096:   128·4096 + 4096     =   528,384
#      Deconv 5×5 256 → 128:           25·256·128 + 128    =   819,328
#      Deconv 5×5 128 → 64:            25·128·64 + 64      =   204,864
#      Deconv 5×5 64 → 1:              25·64·1 + 1         =     1,601   → 1,554,177
#      WGAN mode's BatchNorm (offset and scale): 2·4096 (per unit of the Linear, axes [0]),
#      2·128, 2·64                                         =     8,576   → 1,562,753
#   D: Conv 5×5 1 → 64:                25·1·64 + 64        =     1,664
#      Conv 5×5 64 → 128:              25·64·128 + 128     =   204,928
#      Conv 5×5 128 → 256:             25·128·256 + 256    =   819,456
#      Linear 4·4·256 = 4096 → 1:      4096 + 1            =     4,097   → 1,030,145
#      WGAN mode's BatchNorm after conv 2 and 3: 2·128 + 2·256 = 768      → 1,030,913
G_PARAMS = {"none": 528_384 + 819_328 + 204_864 + 1_601,
            "batch": 528_384 + 819_328 + 204_864 + 1_601 + 2 * 4096 + 2 * 128 + 2 * 64}
D_PARAMS = {"none": 1_664 + 204_928 + 819_456 + 4_097,
            "batch": 1_664 + 204_928 + 819_456 + 4_097 + 2 * 128 + 2 * 256}


def count(variables) -> int:
  return sum(math.prod(a.shape) for a in jax.tree.leaves(variables["params"]))


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_parameter_counts_and_layers_match_the_official_code(norm):
  assert G_PARAMS == {"none": 1_554_177, "batch": 1_562_753}
  assert D_PARAMS == {"none": 1_030_145, "batch": 1_030_913}
  z, x = jnp.zeros((2, 128)), jnp.zeros((2, 28, 28, 1))
  g = jax.eval_shape(MNISTGenerator(dim=DIM, norm=norm).init, jax.random.key(0), z)
  d = jax.eval_shape(MNISTCritic(dim=DIM, norm=norm).init, jax.random.key(0), x)
  assert count(g) == G_PARAMS[norm] and count(d) == D_PARAMS[norm]
  gp, dp = g["params"], d["params"]
  assert gp["Dense_0"]["kernel"].shape == (128, 4096)
  assert [gp[f"ConvTranspose_{i}"]["kernel"].shape for i in range(3)] == [
      (5, 5, 256, 128), (5, 5, 128, 64), (5, 5, 64, 1)]
  assert [dp[f"Conv_{i}"]["kernel"].shape for i in range(3)] == [
      (5, 5, 1, 64), (5, 5, 64, 128), (5, 5, 128, 256)]
  assert dp["Dense_0"]["kernel"].shape == (4096, 1)   # 4×4×256 after three stride-2 convs
  if norm == "batch":
    assert gp["BatchNorm_0"]["scale"].shape == (4096,)   # per unit of the Linear, as tflib
    assert sorted(d["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1"]


@pytest.mark.slow  # the slow tier (CI runs it): keeps the default tier within 4 minutes
def test_output_shapes_and_the_minus_one_to_one_range():
  g, d = MNISTGenerator(dim=4), MNISTCritic(dim=4)
  z = jax.random.normal(jax.random.key(0), (5, 16))
  gv = jax.jit(g.init)(jax.random.key(1), z)
  generate = jax.jit(g.apply)
  x = generate(gv, z)
  assert x.shape == (5, 28, 28, 1) and float(jnp.abs(x).max()) < 1.0   # the 7×7 crop: 28, not 32
  assert jax.jit(d.apply)(jax.jit(d.init)(jax.random.key(2), x), x).shape == (5,)
  # 2·σ(a) − 1: the last bias alone drives the output to either end of [-1, 1] (not [0, 1]),
  # and σ(0) = ½ gives 0
  last = gv["params"]["ConvTranspose_2"]
  for kernel, bias, expected in ((last["kernel"], 60.0, 1.0), (last["kernel"], -60.0, -1.0),
                                 (jnp.zeros_like(last["kernel"]), 0.0, 0.0)):
    params = {**gv["params"], "ConvTranspose_2": dict(kernel=kernel, bias=jnp.full((1,), bias))}
    np.testing.assert_allclose(generate({"params": params}, z), expected, atol=1e-6)


def test_batchnorm_generator_trains_and_samples():
  g = MNISTGenerator(dim=4, norm="batch")
  z = jax.random.normal(jax.random.key(0), (6, 16))
  v = jax.jit(g.init)(jax.random.key(1), z)
  x, updates = jax.jit(lambda v, z: g.apply(v, z, mutable=["batch_stats"]))(v, z)
  assert x.shape == (6, 28, 28, 1) and sorted(updates["batch_stats"]) == [
      "BatchNorm_0", "BatchNorm_1", "BatchNorm_2"]
  y = jax.jit(lambda v, z: g.apply(v, z, train=False))({**v, **updates}, z)
  assert y.shape == x.shape and float(jnp.abs(y).max()) <= 1.0
  # It trains (was: one forward pass only): 30 Adam steps in train mode towards a fixed noise
  # target cut the squared error by more than a third (measured 0.532 -> 0.290), and the
  # running statistics move.
  target = jnp.tanh(jax.random.normal(jax.random.key(2), x.shape))
  opt = optax.adam(1e-2)

  def loss(params, stats):
    out, new = g.apply({"params": params, "batch_stats": stats}, z, mutable=["batch_stats"])
    return jnp.mean((out - target) ** 2), new["batch_stats"]

  @jax.jit
  def step(params, stats, opt_state):
    (value, stats), grads = jax.value_and_grad(loss, has_aux=True)(params, stats)
    updates_, opt_state = opt.update(grads, opt_state)
    return optax.apply_updates(params, updates_), stats, opt_state, value

  params, stats, opt_state = v["params"], v["batch_stats"], opt.init(v["params"])
  values = []
  for _ in range(30):
    params, stats, opt_state, value = step(params, stats, opt_state)
    values.append(float(value))
  assert values[-1] < 0.67 * values[0], values
  moved = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), stats, v["batch_stats"])
  assert all(m > 0 for m in jax.tree.leaves(moved))


@pytest.mark.parametrize("stride_side,shape,fans", [
    ("conv", (5, 5, 64, 128), (64 * 25, 128 * 25 / 4)),        # fan_out / stride²
    ("transposed", (5, 5, 256, 128), (256 * 25 / 4, 128 * 25)),  # fan_in / stride²
])
def test_official_initialisation(stride_side, shape, fans):
  w = official_conv_init(2, transposed=stride_side == "transposed")(jax.random.key(0), shape)
  std = math.sqrt(4.0 / sum(fans))
  bound = math.sqrt(3.0) * std
  assert w.shape == shape and float(jnp.abs(w).max()) <= bound
  assert float(jnp.abs(w).max()) > 0.99 * bound
  assert abs(float(jnp.std(w)) / std - 1) < 0.02


@pytest.mark.parametrize("cls", [MNISTGenerator, MNISTCritic])
def test_other_shapes_and_bad_options_are_refused(cls):
  with pytest.raises(ValueError, match=r"^image_shape: .*28×28×1.*got \(32, 32, 3\)"):
    cls(image_shape=(32, 32, 3))
  with pytest.raises(ValueError, match=r"^norm: must be one of"):
    cls(norm="group")
  with pytest.raises(ValueError, match=r"^dim: must be a positive integer"):
    cls(dim=0)


def test_critic_refuses_other_inputs():
  x = jnp.zeros((2, 32, 32, 1))
  with pytest.raises(ValueError, match=r"^x: .*image_shape \(28, 28, 1\).*got shape \(2, 32, 32"):
    MNISTCritic(dim=4).init(jax.random.key(0), x)


def test_make_models_selects_them_for_28x28x1_only():
  g, d = make_models("mnist", (28, 28, 1), dim=8, gen_norm="none", critic_norm="layer")
  assert isinstance(g, MNISTGenerator) and isinstance(d, MNISTCritic)
  assert (g.dim, g.norm, d.dim, d.norm) == (8, "none", 8, "layer")
  with pytest.raises(OptionError, match=r"^arch: mnist: .*got 32×32×3"):
    make_models("mnist", (32, 32, 3), dim=8, gen_norm="none", critic_norm="none")


@pytest.mark.slow  # a training run: the slow tier (CI runs it)
def test_one_wgan_gp_step_is_finite():
  data = jax.random.uniform(jax.random.key(0), (16, 28, 28, 1), minval=-1.0, maxval=1.0)
  cfg = wj.make_config("wgan-gp", batch_size=8, latent_dim=16, n_critic=1)
  gan = wj.GAN(MNISTGenerator(dim=4), MNISTCritic(dim=4), cfg, array_sampler)
  state = gan.init(jax.random.key(1), data)
  state, m = gan.train_step(iterations=1)(state, jax.random.key(2), data)
  assert all(np.isfinite(np.asarray(v)).all() for v in m.values()) and m["gp"][-1] > 0
  x = gan.sample(state, jax.random.key(3), 4)
  assert x.shape == (4, 28, 28, 1) and np.isfinite(x).all()


@pytest.mark.slow
def test_cpu_convolutions_match_xla_to_second_order():
  """The WGAN-GP critic loss and its gradients (the penalty's double backward through the 7×7
  and 4×4 layers) agree between the project's CPU convolutions and XLA's own."""
  z = jax.random.normal(jax.random.key(0), (3, 16))
  real = jax.random.uniform(jax.random.key(1), (3, 28, 28, 1), minval=-1, maxval=1)
  gv = MNISTGenerator(dim=4).init(jax.random.key(2), z)
  dv = MNISTCritic(dim=4).init(jax.random.key(3), real)

  def loss(impl, gv, dv):
    g, d = MNISTGenerator(dim=4, conv_impl=impl), MNISTCritic(dim=4, conv_impl=impl)
    fake = g.apply(gv, z)
    x_hat = 0.3 * fake + 0.7 * real
    grads = jax.vmap(jax.grad(lambda x: d.apply(dv, x[None])[0]))(x_hat)
    gp = jnp.mean((jnp.sqrt(jnp.sum(grads ** 2, axis=(1, 2, 3)) + 1e-12) - 1) ** 2)
    return jnp.mean(d.apply(dv, fake)) - jnp.mean(d.apply(dv, real)) + 10 * gp

  with jax.default_matmul_precision("highest"):
    ref = jax.jit(jax.value_and_grad(lambda a, b: loss("xla", a, b), argnums=(0, 1)))(gv, dv)
    for impl in ("hybrid", "patches"):
      out = jax.jit(jax.value_and_grad(lambda a, b: loss(impl, a, b), argnums=(0, 1)))(gv, dv)
      for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
