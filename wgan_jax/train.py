"""The two-player state and its pure, jit-compiled training steps.

One `GANState` pytree holds both players (params, optimiser state, BatchNorm statistics) and
two counters: generator iterations (`step`) and critic steps (`critic_steps`). Every random draw
is a function of the run's key, a counter and the example's global index:

  critic step s, example j:    fold_in(fold_in(fold_in(key, 0), s), j)
  generator step g, example j: fold_in(fold_in(fold_in(key, 1), g), j)

so K iterations in one call equal K single calls, a resumed run equals an uninterrupted one, and
a batch split over devices draws exactly the examples the whole batch draws on one device (each
shard passes its offset into the global batch; `axis_name` then `pmean`s gradients and metrics).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Dict, Optional, Tuple

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax

from wgan_jax import losses, penalties
from wgan_jax.config import GANConfig
from wgan_jax.transforms import clip_params

Metrics = Dict[str, jax.Array]
# sample_real(data, key) -> one real example; `data` is any pytree (or None) passed to the steps.
SampleFn = Callable[[Any, jax.Array], jax.Array]


class PlayerState(flax.struct.PyTreeNode):
  """One player's trainable state."""
  params: Any
  opt_state: Any
  model_state: Any  # non-trainable collections, e.g. {"batch_stats": ...}; {} when none


class GANState(flax.struct.PyTreeNode):
  """Both players and the counters; a plain pytree (checkpointable, pmap-able)."""
  step: jax.Array          # generator iterations done
  critic_steps: jax.Array  # critic steps done
  generator: PlayerState
  critic: PlayerState


def example_keys(key: jax.Array, n: int, offset: jax.Array | int = 0) -> jax.Array:
  """One key per example: fold_in(key, offset + j) for j < n (global example indices)."""
  return jax.vmap(lambda j: jax.random.fold_in(key, j))(offset + jnp.arange(n))


def make_optimizer(config: GANConfig, lr: float, *, critic: bool) -> optax.GradientTransformation:
  """The optimiser of one player; the critic's ends with weight clipping when configured.

  With `lr_decay_steps` the learning rate decays linearly to 0 over that many generator
  iterations (the critic's schedule counts its own steps, so it spans n_critic times more).
  """
  if config.lr_decay_steps:
    span = config.lr_decay_steps * (config.n_critic if critic else 1)
    lr = optax.linear_schedule(lr, 0.0, span)
  if config.optimizer == "adam":
    opt = optax.adam(lr, b1=config.beta1, b2=config.beta2)
  else:
    opt = optax.rmsprop(lr, decay=config.rmsprop_decay)
  if critic and config.clip_value is not None:
    opt = optax.chain(opt, clip_params(config.clip_value))
  if config.skip_nonfinite:
    opt = optax.apply_if_finite(opt, max_consecutive_errors=1_000_000)
  return opt


def global_norm(tree) -> jax.Array:
  return optax.tree.norm(tree)


class RetraceError(RuntimeError):
  """A compiled step was traced again: its inputs changed shape, dtype or structure."""


def trace_once(fn: Callable, name: str) -> Callable:
  """Wrap `fn` (before `jax.jit`) so that a second trace raises `RetraceError`.

  `chex.assert_max_traces` keys its counter on the source location, so it is shared by every
  GAN built in one process (every test, every seed of a sweep); this counter belongs to one
  wrapped function. Same purpose: a step must compile once and then only run.
  """
  count = [0]

  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    count[0] += 1
    if count[0] > 1:
      raise RetraceError(
          f"{name} is being compiled a second time: its arguments changed shape, dtype or "
          "pytree structure between calls (keep the state, key and data of one run alike)")
    return fn(*args, **kwargs)

  return wrapped


@dataclasses.dataclass(frozen=True, eq=False)
class GAN:
  """A generator, a critic, a configuration and a real-data sampler: the static half of a run.

  Attributes:
    generator: flax module z [B, latent] -> x [B, ...]; called as `apply(v, z, train=...)`.
    critic: flax module x [B, ...] -> scores [B].
    config: the game and its hyper-parameters.
    sample_real: pure function (data, key) -> one real example.
    axis_name: set when the steps run inside pmap/shard_map: gradients and metrics are
      `pmean`'d over it and each shard draws its slice of the global batch.
    num_shards: how many shards the global batch is split into (1 on one device).
    unroll_critic: unroll the n_critic `lax.scan` (same numbers; a speed choice, see
      `python -m benchmarks.throughput`).
  """
  generator: nn.Module
  critic: nn.Module
  config: GANConfig
  sample_real: SampleFn
  axis_name: Optional[str] = None
  num_shards: int = 1
  unroll_critic: bool = False  # unroll the n_critic loop (XLA may pick other layouts in loops)

  def __post_init__(self):
    if self.config.batch_size % self.num_shards:
      raise ValueError(
          f"--batch-size: the global batch {self.config.batch_size} does not divide by the "
          f"{self.num_shards} devices; use a multiple of {self.num_shards}")

  # ---------------------------------------------------------------- set-up
  @property
  def local_batch(self) -> int:
    return self.config.batch_size // self.num_shards

  @functools.cached_property
  def d_optimizer(self) -> optax.GradientTransformation:
    return make_optimizer(self.config, self.config.lr_d, critic=True)

  @functools.cached_property
  def g_optimizer(self) -> optax.GradientTransformation:
    return make_optimizer(self.config, self.config.lr_g, critic=False)

  def noise_std(self, step: jax.Array) -> jax.Array:
    """Instance-noise std at generator iteration `step` (linear annealing to 0, optax)."""
    c = self.config
    if c.instance_noise_anneal > 0:
      return optax.linear_schedule(c.instance_noise, 0.0, c.instance_noise_anneal)(step)
    return jnp.asarray(c.instance_noise, jnp.float32)

  def init(self, key: jax.Array, data: Any = None) -> GANState:
    """Fresh parameters and optimiser states. Refuses BatchNorm in a gradient-penalty critic."""
    k_g, k_d, k_x = jax.random.split(key, 3)
    z = jnp.zeros((2, self.config.latent_dim), jnp.float32)
    g_vars = self.generator.init(k_g, z, train=False)
    x_one = jax.eval_shape(self.sample_real, data, k_x)
    x = jnp.zeros((2,) + x_one.shape, x_one.dtype)
    d_vars = self.critic.init(k_d, x, train=False)
    if self.config.uses_gradient_penalty and "batch_stats" in d_vars:
      raise ValueError(
          "a critic trained with a gradient penalty must not use BatchNorm (it couples the "
          "examples of a batch, so the per-example gradient norm is wrong): use --norm layer "
          "or none")
    g_params, g_ms = g_vars["params"], {k: v for k, v in g_vars.items() if k != "params"}
    d_params, d_ms = d_vars["params"], {k: v for k, v in d_vars.items() if k != "params"}
    return GANState(
        step=jnp.zeros((), jnp.int32),
        critic_steps=jnp.zeros((), jnp.int32),
        generator=PlayerState(g_params, self.g_optimizer.init(g_params), g_ms),
        critic=PlayerState(d_params, self.d_optimizer.init(d_params), d_ms))

  # ---------------------------------------------------------------- helpers
  def _offset(self):
    if self.axis_name is None:
      return 0
    return jax.lax.axis_index(self.axis_name) * self.local_batch

  def _pmean(self, tree):
    if self.axis_name is None:
      return tree
    return jax.lax.pmean(tree, self.axis_name)

  def _draws(self, key: jax.Array, data: Any):
    """Per-example draws of one step: real x, latent z, ε, and two noise keys."""
    keys = example_keys(key, self.local_batch, self._offset())
    sub = jax.vmap(lambda k: jax.random.split(k, 5))(keys)  # [B, 5]
    real = jax.vmap(lambda k: self.sample_real(data, k))(sub[:, 0])
    z = jax.vmap(lambda k: jax.random.normal(k, (self.config.latent_dim,)))(sub[:, 1])
    eps = jax.vmap(lambda k: jax.random.uniform(k, ()))(sub[:, 2])
    return real, z, eps, sub[:, 3], sub[:, 4]

  def _noisy(self, x, keys, std):
    if self.config.instance_noise == 0:
      return x
    return jax.vmap(lambda xi, k: penalties.instance_noise(xi, k, std))(x, keys)

  def _generate(self, g: PlayerState, z, *, train: bool):
    variables = {"params": g.params, **g.model_state}
    if train and g.model_state:
      x, new_ms = self.generator.apply(variables, z, train=True, mutable=list(g.model_state))
      return x, dict(new_ms)
    return self.generator.apply(variables, z, train=train), g.model_state

  def _score(self, params, model_state, x, *, train: bool):
    variables = {"params": params, **model_state}
    if train and model_state:
      s, new_ms = self.critic.apply(variables, x, train=True, mutable=list(model_state))
      return s, dict(new_ms)
    return self.critic.apply(variables, x, train=train), model_state

  # ---------------------------------------------------------------- critic
  def critic_grads(self, state: GANState, key: jax.Array, data: Any = None):
    """(loss, grads, aux, new_model_state) of the critic at `state`; grads are `pmean`'d."""
    c = self.config
    step_key = jax.random.fold_in(jax.random.fold_in(key, 0), state.critic_steps)
    real, z, eps, k_nr, k_nf = self._draws(step_key, data)
    fake, _ = self._generate(state.generator, z, train=True)
    fake = jax.lax.stop_gradient(fake)
    std = self.noise_std(state.step)
    real_in, fake_in = self._noisy(real, k_nr, std), self._noisy(fake, k_nf, std)
    d = state.critic

    def loss_fn(params):
      s_real, ms = self._score(params, d.model_state, real_in, train=True)
      s_fake, ms = self._score(params, ms, fake_in, train=True)
      if c.is_wasserstein:
        adv = losses.wasserstein_critic_loss(s_real, s_fake)
      else:
        adv = losses.minimax_discriminator_loss(s_real, s_fake)
      total = adv
      gp = jnp.zeros(())
      if c.uses_gradient_penalty:
        critic_fn = lambda x: self._score(params, ms, x, train=False)[0]
        x_hat = penalties.interpolate(real_in, fake_in, eps)
        gp = penalties.gradient_norm_penalty(
            critic_fn, x_hat, target=c.gp_target, one_sided=c.one_sided)
        total = total + c.gp_weight * gp
      wp = jnp.zeros(())
      if c.weight_penalty > 0:
        wp = penalties.weight_penalty(params)
        total = total + c.weight_penalty * wp
      aux = dict(d_adv_loss=adv, gp=gp, d_weight_penalty=wp,
                 d_real=jnp.mean(s_real), d_fake=jnp.mean(s_fake))
      if not c.is_wasserstein:  # a discriminator classifies by the sign of its logit
        aux["d_accuracy"] = 0.5 * (jnp.mean(s_real > 0) + jnp.mean(s_fake < 0))
      return total, (aux, ms)

    (total, (aux, ms)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
    aux = dict(aux, noise_std=std)
    return total, self._pmean(grads), aux, self._pmean(ms)

  def _critic_step(self, state: GANState, key: jax.Array, data: Any) -> Tuple[GANState, Metrics]:
    c = self.config
    d = state.critic
    total, grads, aux, ms = self.critic_grads(state, key, data)
    updates, opt_state = self.d_optimizer.update(grads, d.opt_state, d.params)
    params = optax.apply_updates(d.params, updates)
    metrics = dict(aux, d_loss=total, d_grad_norm=global_norm(grads))
    if c.is_wasserstein:
      metrics["w_estimate"] = -aux["d_adv_loss"]
    metrics = self._pmean(metrics)
    new_state = state.replace(critic=PlayerState(params, opt_state, ms),
                              critic_steps=state.critic_steps + 1)
    return new_state, metrics

  # ---------------------------------------------------------------- generator
  def generator_grads(self, state: GANState, key: jax.Array):
    """(loss, grads, new_model_state) of the generator at `state`; grads are `pmean`'d."""
    c = self.config
    step_key = jax.random.fold_in(jax.random.fold_in(key, 1), state.step)
    keys = example_keys(step_key, self.local_batch, self._offset())
    sub = jax.vmap(lambda k: jax.random.split(k, 2))(keys)
    z = jax.vmap(lambda k: jax.random.normal(k, (c.latent_dim,)))(sub[:, 0])
    std = self.noise_std(state.step)
    g, d = state.generator, state.critic

    def loss_fn(params):
      fake, ms = self._generate(g.replace(params=params), z, train=True)
      s_fake, _ = self._score(d.params, d.model_state, self._noisy(fake, sub[:, 1], std),
                              train=True)
      if c.is_wasserstein:
        loss = losses.wasserstein_generator_loss(s_fake)
      elif c.objective == "gan":
        loss = losses.minimax_generator_loss(s_fake)
      else:
        loss = losses.nonsaturating_generator_loss(s_fake)
      return loss, ms

    (loss, ms), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
    return loss, self._pmean(grads), self._pmean(ms)

  def _generator_step(self, state: GANState, key: jax.Array) -> Tuple[GANState, Metrics]:
    g = state.generator
    loss, grads, ms = self.generator_grads(state, key)
    updates, opt_state = self.g_optimizer.update(grads, g.opt_state, g.params)
    params = optax.apply_updates(g.params, updates)
    metrics = self._pmean(dict(g_loss=loss, g_grad_norm=global_norm(grads)))
    return state.replace(generator=PlayerState(params, opt_state, ms), step=state.step + 1), \
        metrics

  def _train_iterations(self, state, key, data=None, *, n_critic: int, iterations: int):
    # Only the last critic step's metrics are reported, so the first n_critic - 1 steps run
    # without them (XLA cannot drop unused metrics from inside a scan). Measured with
    # benchmarks/: toy MLP width 64 0.88-0.90 -> 0.93-0.97x the plain JAX loop; width 512
    # within noise; DCGAN 1.01 -> 1.05x PyTorch (within drift); compiling ~1 s longer (the
    # critic step appears twice in the program).
    def critic_only(s, _):
      return self._critic_step(s, key, data)[0], None

    def one(state, _):
      if n_critic > 1:
        state, _ = jax.lax.scan(critic_only, state, None, length=n_critic - 1,
                                unroll=n_critic - 1 if self.unroll_critic else 1)
      state, cm = self._critic_step(state, key, data)
      state, gm = self._generator_step(state, key)
      return state, {**cm, **gm}

    return jax.lax.scan(one, state, None, length=iterations)

  # ---------------------------------------------------------------- public, compiled
  # The unjitted forms (`*_fn`) are what parallel.py wraps in pmap / shard_map.
  def critic_step_fn(self, state, key, data=None):
    return self._critic_step(state, key, data)

  def generator_step_fn(self, state, key):
    return self._generator_step(state, key)

  def train_step_fn(self, n_critic: int, iterations: int = 1):
    """(state, key, data) -> (state, metrics [iterations]): n_critic critic steps by
    `lax.scan`, then one generator step; `iterations` such iterations in one program."""
    return functools.partial(self._train_iterations, n_critic=n_critic, iterations=iterations)

  @functools.cached_property
  def critic_step(self):
    """Jitted (state, key, data) -> (state, metrics): one critic step."""
    return jax.jit(trace_once(self.critic_step_fn, "critic_step"))

  @functools.cached_property
  def generator_step(self):
    """Jitted (state, key) -> (state, metrics): one generator step."""
    return jax.jit(trace_once(self.generator_step_fn, "generator_step"))

  def train_step(self, n_critic: Optional[int] = None, iterations: int = 1):
    """The jitted fused step for (n_critic, iterations); compiled once per pair, and guarded
    against recompiling by `trace_once` (tests check the same with `chex.assert_max_traces`)."""
    n_critic = self.config.n_critic if n_critic is None else n_critic
    return self._compiled(n_critic, iterations)

  @functools.lru_cache(maxsize=None)
  def _compiled(self, n_critic: int, iterations: int):
    fn = trace_once(self.train_step_fn(n_critic, iterations),
                    f"train_step(n_critic={n_critic}, iterations={iterations})")
    return jax.jit(fn)

  # ---------------------------------------------------------------- evaluation
  def sample(self, state: GANState, key: jax.Array, n: int) -> jax.Array:
    """n samples from the generator in inference mode (BatchNorm running averages)."""
    z = jax.random.normal(key, (n, self.config.latent_dim))
    return self._generate(state.generator, z, train=False)[0]

  def critic_values(self, state: GANState, x: jax.Array) -> jax.Array:
    """The critic's (or discriminator's logit) values at x, in inference mode."""
    return self._score(state.critic.params, state.critic.model_state, x, train=False)[0]


def plan_blocks(config: GANConfig, start: int, stop: int, block: int):
  """Split generator iterations [start, stop) into (n_critic, iterations) calls.

  Iterations with the same critic count are grouped into calls of `block` iterations; a WGAN
  warm-up iteration (100 critic steps) is its own call. Leftovers run one at a time, so at most
  three programs are compiled: (n_critic, block), (n_critic, 1) and (warm-up, 1).
  """
  g = start
  while g < stop:
    n = config.critic_iters(g)
    run = 1
    while (run < block and g + run < stop and config.critic_iters(g + run) == n
           and n == config.n_critic):
      run += 1
    if run == block:
      yield n, block
    else:
      for _ in range(run):
        yield n, 1
    g += run


class IndependentRuns:
  """K independent runs of one GAN (different seeds) trained at once in one compiled program.

  Every table of the papers needs several seeds; here they are a leading axis of the state,
  produced and advanced by `jax.vmap`, so K small runs cost about one call each step:

    runs = IndependentRuns(gan)
    states = runs.init(jax.random.split(jax.random.key(0), 5))   # 5 seeds
    states, metrics = runs.train_step(iterations=100)(states, jax.random.split(key, 5))
    samples = runs.sample(states, key, 2500)                      # [5, 2500, ...]

  Run i equals the single run with key i (to float tolerance; tests check it).
  """

  def __init__(self, gan: GAN):
    self.gan = gan

  def init(self, keys: jax.Array, data: Any = None) -> GANState:
    return jax.vmap(lambda k: self.gan.init(k, data))(keys)

  @functools.lru_cache(maxsize=None)
  def train_step(self, n_critic: Optional[int] = None, iterations: int = 1):
    """Jitted (states, keys [K], data) -> (states, metrics [K, iterations])."""
    n_critic = self.gan.config.n_critic if n_critic is None else n_critic
    fn = self.gan.train_step_fn(n_critic, iterations)
    mapped = jax.jit(trace_once(
        jax.vmap(fn, in_axes=(0, 0, None)),
        f"vmapped train_step(n_critic={n_critic}, iterations={iterations})"))

    def call(states, keys, data=None):
      return mapped(states, keys, data)
    return call

  def sample(self, states: GANState, key: jax.Array, n: int) -> jax.Array:
    return jax.jit(jax.vmap(lambda s: self.gan.sample(s, key, n)))(states)
