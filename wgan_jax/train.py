"""The two-player state and its pure, jit-compiled training steps.

One `GANState` pytree holds both players (params, optimiser state, BatchNorm statistics) and
two counters: generator iterations (`step`) and critic steps (`critic_steps`). Every random draw
is a function of the run's key, a counter and the example's global index:

  critic step s, example j:    fold_in(fold_in(fold_in(key, 0), s), j)
  generator step g, example j: fold_in(fold_in(fold_in(key, 1), g), j)

so K iterations in one call equal K single calls, a resumed run equals an uninterrupted one, and
a batch split over devices draws exactly the examples the whole batch draws on one device (each
shard passes its offset into the global batch; `axis_name` then `pmean`s gradients and metrics).

The steps are written once, in `GAN`. What a "player" is (one network, or a weighted mixture of
networks) and how the per-example loss terms of the objective become each player's loss is a
value, the GAN's `players` (a `Players`): `SinglePlayers` for the plain game (batch means),
`wgan_jax.mixture.MixturePlayers` for MIX+GAN (weighted means over pairs of components).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Dict, Optional, Protocol, Tuple

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax

from wgan_jax import _checks, penalties, spectral
from wgan_jax.augment import diff_augment_batch
from wgan_jax.config import ConfigError, GANConfig, check_critic_norm
from wgan_jax.transforms import clip_params

Metrics = Dict[str, jax.Array]
# sample_real(data, key) -> one real example; `data` is any pytree (or None) passed to the steps.
SampleFn = Callable[[Any, jax.Array], jax.Array]
# values [B_local] -> their mean(s): jnp.mean for the plain game, means per stratum for MIX+GAN.
ReduceFn = Callable[[jax.Array], jax.Array]


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
  ema: Any = None          # the generator's averaged params (`ema_decay` > 0), else None


class CriticDraws(flax.struct.PyTreeNode):
  """What a critic step's regularisers need besides the real and fake batches.

  Attributes:
    eps: the penalty's interpolation coefficients ε [B].
    partner: the points the penalty interpolates the real batch with [B, ...]: the fake batch
      (WGAN-GP), or DRAGAN's perturbed real points.
    lazy_on: whether this critic step adds the lazy R1/R2 penalties (a bool scalar).
    real_labels, fake_labels: the classes of the real examples (from the data) and of the
      generated ones (drawn uniformly), for a class-conditional game.
  """
  eps: jax.Array
  partner: jax.Array
  lazy_on: jax.Array
  real_labels: Any = None   # class labels [B] of the real and generated examples when the
  fake_labels: Any = None   # game is class-conditional (`num_classes` > 0), else None


def example_keys(key: jax.Array, n: int, offset: jax.Array | int = 0) -> jax.Array:
  """One key per example: fold_in(key, offset + j) for j < n (global example indices).

  Raises:
    ConfigError: naming `n`, unless it is an integer ≥ 0 (checked when traced).
  """
  _checks.check_count("n", n, minimum=0)
  return jax.vmap(lambda j: jax.random.fold_in(key, j))(offset + jnp.arange(n))


def make_optimizer(config: GANConfig, lr: float, *, critic: bool,
                   clip_mask: Any = None) -> optax.GradientTransformation:
  """The optimiser of one player; the critic's ends with weight clipping when configured.

  With `lr_decay_steps` the learning rate decays linearly to 0 over that many generator
  iterations. Each player's schedule counts the steps it actually runs: the generator's spans
  `lr_decay_steps` steps, the critic's `config.critic_steps_before(lr_decay_steps)` steps
  (n_critic per iteration, plus the WGAN warm-up's extra critic steps), so both reach 0 at the
  last decayed generator iteration and neither stops learning early.

  RMSProp is `optax.rmsprop` with the config's decay, ε, ε's place and initial second moment
  (`wgan_jax.RMSPROP_FORMS` names PyTorch's, TF1's and optax's); no momentum, not centred.

  Args:
    config: the configuration (optimizer, learning-rate schedule, clip value, guard).
    lr: the player's learning rate.
    critic: whether the player is the critic (only the critic's weights are clipped).
    clip_mask: optional `optax.masked` mask (or a function params -> mask) of the parameters
      to clip; None clips them all.
  """
  if config.lr_decay_steps:
    span = (config.critic_steps_before(config.lr_decay_steps) if critic
            else config.lr_decay_steps)
    lr = optax.linear_schedule(lr, 0.0, span)
  if config.optimizer == "adam":
    opt = optax.adam(lr, b1=config.beta1, b2=config.beta2)
  else:
    opt = optax.rmsprop(lr, decay=config.rmsprop_decay, eps=config.rmsprop_eps,
                        eps_in_sqrt=config.rmsprop_eps_in_sqrt,
                        initial_scale=config.rmsprop_initial_scale)
  if critic and config.clip_value is not None:
    clip = clip_params(config.clip_value)
    opt = optax.chain(opt, clip if clip_mask is None else optax.masked(clip, clip_mask))
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
    if count[0] >= 1:
      raise RetraceError(
          f"{name} is being compiled a second time: its arguments changed shape, dtype or "
          "pytree structure between calls (keep the state, key and data of one run alike)")
    out = fn(*args, **kwargs)  # a trace refused with an error compiled nothing: not counted
    count[0] += 1
    return out

  return wrapped


class Players(Protocol):
  """What a player is, and how the objective's per-example terms become each player's loss.

  `GAN`'s steps draw the examples, differentiate and update; everything that depends on the
  players being one network each or a mixture of networks goes through these methods, which
  receive the GAN (its modules, config and helpers such as `GAN.critic_losses`).
  """

  def init(self, gan: "GAN", key: jax.Array, z: jax.Array,
           x: jax.Array) -> Tuple[Any, Any, Any, Any]:
    """(generator params, generator model_state, critic params, critic model_state)."""

  def optimizer(self, config: GANConfig, lr: float, *,
                critic: bool) -> optax.GradientTransformation:
    """The optimiser of one player's params."""

  def objective_name(self, objective: str) -> str:
    """The name of the game played with `objective` ("mix+nsgan" for a mixture)."""

  def generate(self, gan: "GAN", g: PlayerState, params: Any, z: jax.Array, *,
               train: bool, labels: Any = None) -> Tuple[jax.Array, Any]:
    """The fake batch the game plays with, from latents z [B, latent]: (x [B, ...],
    new generator model_state)."""

  def critic_payoff(self, gan: "GAN", d_params: Any, state: GANState, real: jax.Array,
                    fake: jax.Array, draws: CriticDraws) -> Tuple[jax.Array, Metrics, Any]:
    """The critic's loss at params `d_params` on the (noisy, augmented) real and fake batches
    and the regularisers' draws: (total, aux, new critic model_state)."""

  def generator_payoff(self, gan: "GAN", g_params: Any, state: GANState,
                       fake: jax.Array, labels: Any = None) -> Tuple[jax.Array, Metrics]:
    """The generator's loss at params `g_params`, given its (noisy) fake batch: (total, aux)."""

  def critic_metrics(self, aux: Metrics, params: Any) -> Metrics:
    """The critic step's metrics from the payoff's aux (at the step's starting params)."""

  def generator_metrics(self, aux: Metrics, params: Any) -> Metrics:
    """The generator step's metrics besides g_loss and g_grad_norm."""

  def sample(self, gan: "GAN", state: GANState, key: jax.Array, n: int,
             labels: Any = None) -> jax.Array:
    """n samples in inference mode (of the given classes, for a conditional game)."""

  def critic_values(self, gan: "GAN", state: GANState, x: jax.Array,
                    labels: Any = None) -> jax.Array:
    """The (mixture) critic's values at x, in inference mode."""


@dataclasses.dataclass(frozen=True)
class SinglePlayers:
  """The plain game: one generator against one critic, each loss the batch mean of its terms.

  L_D = mean_b ℓ_real(x_b) + mean_b ℓ_fake(G(z_b)) [+ λ·GP] [+ μ·Σ‖w‖²],  L_G = mean_b ℓ_G(z_b),

  with the terms ℓ of `config.game` (`wgan_jax.objectives`).
  """

  def init(self, gan, key, z, x):
    k_g, k_d, _ = jax.random.split(key, 3)
    g_vars = gan.init_generator(k_g, z)
    d_vars = gan.init_critic(k_d, x)
    return (g_vars["params"], {k: v for k, v in g_vars.items() if k != "params"},
            d_vars["params"], {k: v for k, v in d_vars.items() if k != "params"})

  def optimizer(self, config, lr, *, critic):
    return make_optimizer(config, lr, critic=critic)

  def objective_name(self, objective):
    return objective

  def generate(self, gan, g, params, z, *, train, labels=None):
    return gan.apply_generator(params, g.model_state, z, train=train, labels=labels)

  def critic_payoff(self, gan, d_params, state, real, fake, draws):
    c = gan.config
    per, ms = gan.critic_losses(d_params, state.critic.model_state, real, fake, draws,
                                reduce=jnp.mean)
    total = per["adv"]
    if c.uses_gradient_penalty:
      total = total + c.gp_weight * per["gp"]
    if c.weight_penalty > 0:
      total = total + c.weight_penalty * per["wp"]
    if c.uses_zero_centred_penalty:
      total = total + per["r1"] + per["r2"]
    if c.ac_weight > 0:
      total = total + c.ac_weight * per["ac"]
    aux = dict(d_adv_loss=per["adv"], gp=per["gp"], d_weight_penalty=per["wp"],
               d_real=per["d_real"], d_fake=per["d_fake"])
    if c.uses_zero_centred_penalty:
      aux.update(r1=per["r1"], r2=per["r2"])
    if c.ac_weight > 0:
      aux.update(d_ac_loss=per["ac"])
    if not c.is_wasserstein:  # a discriminator classifies by the sign of its logit
      aux["d_accuracy"] = per["accuracy"]
    return total, aux, ms

  def generator_payoff(self, gan, g_params, state, fake, labels=None):
    d = state.critic
    return gan.generator_losses(d.params, d.model_state, fake, reduce=jnp.mean,
                                labels=labels), {}

  def critic_metrics(self, aux, params):
    return aux

  def generator_metrics(self, aux, params):
    return {}

  def sample(self, gan, state, key, n, labels=None):
    z = jax.random.normal(key, (n, gan.config.latent_dim))
    g = state.generator
    return gan.apply_generator(g.params, g.model_state, z, train=False, labels=labels)[0]

  def critic_values(self, gan, state, x, labels=None):
    d = state.critic
    return gan.apply_critic(d.params, d.model_state, x, train=False, labels=labels)[0]


SINGLE = SinglePlayers()


@dataclasses.dataclass(frozen=True, eq=False)
class GAN:
  """A generator, a critic, a configuration and a real-data sampler: the static half of a run.

  The compiled steps (`train_step`, `critic_step`, `generator_step`) are built on first use,
  once per GAN (and per (n_critic, iterations) for `train_step`), and kept on the instance: they
  go away with it.

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
    players: how each side is made of networks and how the loss terms are reduced: a value,
      `SinglePlayers()` (the default: one network each, batch means) or
      `wgan_jax.MixturePlayers(T, β)` (MIX+GAN; `wgan_jax.mix_gan(gan, T)` sets it).
  """
  generator: nn.Module
  critic: nn.Module
  config: GANConfig
  sample_real: SampleFn
  axis_name: Optional[str] = None
  num_shards: int = 1
  unroll_critic: bool = False  # unroll the n_critic loop (XLA may pick other layouts in loops)
  players: Players = SINGLE

  def __post_init__(self):
    if self.config.batch_size % self.num_shards:
      raise ConfigError(
          "batch_size", f"the global batch {self.config.batch_size} does not divide by the "
          f"{self.num_shards} devices; use a multiple of {self.num_shards}")
    # Compiled steps of this GAN, built on first use (see `compiled`).
    object.__setattr__(self, "_compiled", {})

  def compiled(self, name: Any, build: Callable[[], Callable]) -> Callable:
    """The per-instance memo of compiled functions: `build()` the first time `name` is asked
    for, the same object afterwards. It lives on the GAN, so it is dropped with it."""
    fns = self._compiled
    if name not in fns:
      fns[name] = build()
    return fns[name]

  # ---------------------------------------------------------------- set-up
  @property
  def local_batch(self) -> int:
    return self.config.batch_size // self.num_shards

  @property
  def objective_name(self) -> str:
    """The game's name: the objective, "mix+<objective>" for a mixture."""
    return self.players.objective_name(self.config.objective_name)

  @property
  def d_optimizer(self) -> optax.GradientTransformation:
    return self.players.optimizer(self.config, self.config.lr_d, critic=True)

  @property
  def g_optimizer(self) -> optax.GradientTransformation:
    return self.players.optimizer(self.config, self.config.lr_g, critic=False)

  def noise_std(self, step: jax.Array) -> jax.Array:
    """Instance-noise std at generator iteration `step` (linear annealing to 0, optax)."""
    c = self.config
    if c.instance_noise_anneal > 0:
      return optax.linear_schedule(c.instance_noise, 0.0, c.instance_noise_anneal)(step)
    return jnp.asarray(c.instance_noise, jnp.float32)

  def init(self, key: jax.Array, data: Any = None) -> GANState:
    """Fresh parameters and optimiser states.

    Raises:
      ConfigError: naming "critic", for BatchNorm in a gradient-penalty critic;
        "diffaugment", for augmentations of examples that are not images.
    """
    _checks.check_key("key", key)
    x_one = jax.eval_shape(self.sample_real, data, key)  # only its shape and dtype are used
    x_one = self._check_labelled(x_one)
    if self.config.diffaugment and len(x_one.shape) != 3:
      raise ConfigError("diffaugment", f"transforms images [H, W, C]; this GAN's examples have "
                        f"shape {tuple(x_one.shape)} (leave diffaugment empty for them)")
    z = jnp.zeros((2, self.config.latent_dim), jnp.float32)
    x = jnp.zeros((2,) + x_one.shape, x_one.dtype)
    g_params, g_ms, d_params, d_ms = self.players.init(self, key, z, x)
    check_critic_norm(self.config, batch_norm="batch_stats" in d_ms)
    state = GANState(
        step=jnp.zeros((), jnp.int32),
        critic_steps=jnp.zeros((), jnp.int32),
        generator=PlayerState(g_params, self.g_optimizer.init(g_params), g_ms),
        critic=PlayerState(d_params, self.d_optimizer.init(d_params), d_ms),
        ema=jax.tree_util.tree_map(jnp.copy, g_params) if self.config.ema_decay > 0 else None)
    fake = jax.eval_shape(lambda st: self.sample(st, key, 2), state)
    if tuple(fake.shape[1:]) != tuple(x_one.shape):
      raise ConfigError("generator", f"makes examples of shape {tuple(fake.shape[1:])} and "
                        f"sample_real gives {tuple(x_one.shape)}: they must agree (the critic "
                        "scores both)")
    return state

  def _check_state(self, state: GANState, data: Any) -> None:
    """At trace time: `state` is one of this GAN's (its parameters' tree and shapes)."""
    if not isinstance(state, GANState):
      raise ConfigError("state", f"must be this GAN's GANState (from gan.init), got "
                        f"{type(state).__name__}")
    ours = jax.eval_shape(lambda: self.init(jax.random.key(0), data))
    for player in ("generator", "critic"):
      a = jax.tree_util.tree_flatten_with_path(getattr(state, player).params)
      b = jax.tree_util.tree_flatten_with_path(getattr(ours, player).params)
      same_tree = a[1] == b[1]
      for (path, x), (_, y) in zip(a[0], b[0]) if same_tree else ():
        if tuple(x.shape) != tuple(y.shape):
          raise ConfigError("state", f"belongs to another GAN: its {player} parameter "
                            f"{jax.tree_util.keystr(path)} has shape {tuple(x.shape)}, this "
                            f"GAN's {tuple(y.shape)}")
      if not same_tree:
        raise ConfigError("state", f"belongs to another GAN: its {player} has other layers "
                          "than this GAN's")

  def _label_kwargs(self, labels) -> Dict[str, Any]:
    return {} if labels is None else {"labels": labels}

  def _init_labels(self, batch: jax.Array):
    if not self.config.num_classes:
      return None
    return jnp.zeros((batch.shape[0],), jnp.int32)

  def _check_labelled(self, example):
    """The shape of one real example; for a conditional game `sample_real` must return
    (x, label)."""
    if not self.config.num_classes:
      return example
    if not (isinstance(example, tuple) and len(example) == 2 and example[1].shape == ()
            and jnp.issubdtype(example[1].dtype, jnp.integer)):
      raise ConfigError("sample_real", f"a class-conditional game (num_classes = "
                        f"{self.config.num_classes}) needs sample_real(data, key) to return "
                        f"(x, label) with an integer label; got {example!r}")
    return example[0]

  def init_generator(self, key: jax.Array, z: jax.Array) -> Dict[str, Any]:
    """One generator network's variables (given labels when the game is conditional)."""
    return self.generator.init(key, z, train=False, **self._label_kwargs(self._init_labels(z)))

  def init_critic(self, key: jax.Array, x: jax.Array) -> Dict[str, Any]:
    """One critic network's variables; with `spectral_norm`, its power-iteration vectors
    under "spectral" (drawn from fold_in(key, 1))."""
    variables = dict(self.critic.init(key, x, train=False,
                                      **self._label_kwargs(self._init_labels(x))))
    if self.config.spectral_norm:
      variables[spectral.COLLECTION] = spectral.init_vectors(
          variables["params"], jax.random.fold_in(key, 1))
    return variables

  # ---------------------------------------------------------------- helpers
  def example_indices(self) -> jax.Array:
    """The global batch indices of this shard's examples [local_batch]."""
    return self._offset() + jnp.arange(self.local_batch)

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
    real_labels = None
    if self.config.num_classes:
      real, real_labels = real
    z = jax.vmap(lambda k: jax.random.normal(k, (self.config.latent_dim,)))(sub[:, 1])
    eps = jax.vmap(lambda k: jax.random.uniform(k, ()))(sub[:, 2])
    return (real, z, eps, sub[:, 3], sub[:, 4], sub[:, 2], real_labels,
            self._fake_labels(sub[:, 1]))

  def _fake_labels(self, z_keys):
    """The classes of generated examples, uniform, from fold 1 of each example's z key (None
    for an unconditional game)."""
    c = self.config.num_classes
    if not c:
      return None
    return jax.vmap(lambda k: jax.random.randint(jax.random.fold_in(k, 1), (), 0, c))(z_keys)

  def _noisy(self, x, keys, std):
    if self.config.instance_noise == 0:
      return x
    return jax.vmap(lambda xi, k: penalties.instance_noise(xi, k, std))(x, keys)

  def _compute(self, variables, x):
    """(variables, x) in the config's compute dtype: with `compute_dtype="bfloat16"` every
    floating leaf is cast to bfloat16, so the network's matmuls and convolutions run in it
    (mixed precision); the float32 originals stay in the state, and gradients flow back
    through the casts to them in float32."""
    if self.config.compute_dtype == "float32":
      return variables, x
    dt = jnp.dtype(self.config.compute_dtype)
    cast = lambda a: a.astype(dt) if jnp.issubdtype(jnp.result_type(a), jnp.floating) else a
    return jax.tree_util.tree_map(cast, variables), jax.tree_util.tree_map(cast, x)

  def _stored(self, out, new_ms, model_state):
    """A network's outputs in float32 and its updated statistics in the state's own dtypes
    (float32: the loop's carry keeps its types) after a mixed-precision call."""
    if self.config.compute_dtype == "float32":
      return out, new_ms
    up = lambda a: a.astype(jnp.float32) if jnp.issubdtype(a.dtype, jnp.floating) else a
    new_ms = jax.tree_util.tree_map(lambda n, o: n.astype(o.dtype), new_ms, model_state)
    return jax.tree_util.tree_map(up, out), new_ms

  def apply_generator(self, params, model_state, z, *, train: bool, labels=None):
    """One generator network on z (and the classes `labels` [B] of a conditional game):
    (x, new model_state); BatchNorm statistics update when training."""
    variables, z = self._compute({"params": params, **model_state}, z)
    kw = self._label_kwargs(labels)
    if train and model_state:
      x, new_ms = self.generator.apply(variables, z, train=True, mutable=list(model_state),
                                       **kw)
      return self._stored(x, dict(new_ms), model_state)
    return self._stored(self.generator.apply(variables, z, train=train, **kw), model_state,
                        model_state)

  def apply_critic(self, params, model_state, x, *, train: bool, labels=None):
    """One critic network on x (and the classes `labels` of a conditional game):
    (scores [B], new model_state).

    With `spectral_norm` the weights are divided by their σ estimated from the stored
    vectors (one power iteration, not stored: `critic_losses` advances them once per step).
    """
    scores, _, ms = self.apply_critic_with_classes(params, model_state, x, train=train,
                                                   labels=labels)
    return scores, ms

  def apply_critic_with_classes(self, params, model_state, x, *, train: bool, labels=None):
    """(scores [B], class logits [B, C] or None, new model_state): with `ac_weight` > 0 the
    critic returns (scores, class logits), the AC-GAN auxiliary classifier."""
    if spectral.COLLECTION in model_state:
      model_state = dict(model_state)
      vectors = model_state.pop(spectral.COLLECTION)
      params = spectral.normalise(params, vectors)[0]
      scores, logits, new_ms = self.apply_critic_with_classes(params, model_state, x,
                                                              train=train, labels=labels)
      return scores, logits, {**new_ms, spectral.COLLECTION: vectors}
    variables, x = self._compute({"params": params, **model_state}, x)
    kw = self._label_kwargs(labels)
    if train and model_state:
      out, new_ms = self.critic.apply(variables, x, train=True, mutable=list(model_state), **kw)
      out, new_ms = self._stored(out, dict(new_ms), model_state)
    else:
      out, new_ms = self._stored(self.critic.apply(variables, x, train=train, **kw),
                                 model_state, model_state)
    if self.config.ac_weight > 0:
      if not (isinstance(out, tuple) and len(out) == 2):
        raise ConfigError("critic", "ac_weight > 0 (AC-GAN) needs a critic that returns "
                          "(scores [B], class logits [B, num_classes]), e.g. head='ac'")
      return out[0], out[1], new_ms
    return out, None, new_ms

  @staticmethod
  def advance_spectral(params, model_state):
    """The critic step's power iteration: the model state with each u advanced once from the
    (constant) weights; unchanged without spectral normalisation."""
    if spectral.COLLECTION not in model_state:
      return model_state
    _, vectors = spectral.normalise(jax.lax.stop_gradient(params),
                                    model_state[spectral.COLLECTION])
    return {**model_state, spectral.COLLECTION: vectors}

  def critic_losses(self, params, model_state, real, fake, draws: CriticDraws, *,
                    reduce: ReduceFn) -> Tuple[Dict[str, jax.Array], Any]:
    """The losses of one critic network on one batch, the fake side reduced by `reduce`.

    adv = mean_b ℓ_real(x_b) + reduce(ℓ_fake(x̃_b)) with the terms of `config.game`, and,
    when the penalty is on, gp = reduce((‖∇f(x̂_b)‖ - target)²) at x̂_b = ε_b·x_b + (1-ε_b)·x̃_b
    (one-sided: max(0, ·)²), the WGAN-GP penalty (Gulrajani et al. 2017, arXiv:1704.00028,
    eq. (3)). With `reduce = jnp.mean` these are the plain batch losses; MIX+GAN reduces per
    generator.

    The penalty's points are the interpolates between the real batch and `draws.partner` (the
    fake batch, or DRAGAN's perturbed real points). With `r1_weight` / `r2_weight` the result
    also holds r1 = k·γ₁/2·mean ‖∇f(x_b)‖² and r2 = k·γ₂/2·reduce(‖∇f(x̃_b)‖²) on the steps
    where `draws.lazy_on` (k = `lazy_every`), else 0 (Mescheder et al. 2018; Karras et al.
    2020). With `spectral_norm` the power iteration advances once here, before the scores.

    Returns:
      ({adv, gp, wp, d_real, d_fake, accuracy[, r1, r2]}, new model_state); wp is Σ‖w‖² of
      the critic's weights when `weight_penalty` > 0, else 0.
    """
    c = self.config
    ms = self.advance_spectral(params, model_state)
    y_real, y_fake = draws.real_labels, draws.fake_labels
    s_real, l_real, ms = self.apply_critic_with_classes(params, ms, real, train=True,
                                                        labels=y_real)
    s_fake, l_fake, ms = self.apply_critic_with_classes(params, ms, fake, train=True,
                                                        labels=y_fake)
    real_terms, fake_terms = c.game.critic_terms(s_real, s_fake)
    adv = jnp.mean(real_terms) + reduce(fake_terms)
    # The penalties' critic at fixed classes: the real ones (interpolates, DRAGAN, R1) or the
    # generated ones (R2).
    critic_at = lambda y: (lambda x: self.apply_critic(params, ms, x, train=False,
                                                       labels=y)[0])
    critic_fn = critic_at(y_real)
    gp = jnp.zeros(jnp.shape(adv))
    if c.uses_gradient_penalty:
      x_hat = penalties.interpolate(real, draws.partner, draws.eps)
      norms = penalties.critic_input_gradient_norms(critic_fn, x_hat)
      gp = reduce(penalties.norm_penalty_terms(norms, target=c.gp_target, one_sided=c.one_sided))
    wp = penalties.weight_penalty(params) if c.weight_penalty > 0 else jnp.zeros(())
    threshold = c.game.threshold
    accuracy = 0.5 * (jnp.mean(s_real > threshold)
                      + reduce((s_fake < threshold).astype(jnp.float32)))
    out = dict(adv=adv, gp=gp, wp=wp, d_real=jnp.mean(s_real), d_fake=reduce(s_fake),
               accuracy=accuracy)
    if c.uses_zero_centred_penalty:
      k = float(c.lazy_every)

      def zero_centred(_):
        r1 = r2 = jnp.zeros(jnp.shape(adv))
        if c.r1_weight > 0:
          r1 = 0.5 * c.r1_weight * k * jnp.mean(
              penalties.critic_input_gradient_sqnorms(critic_fn, real))
        if c.r2_weight > 0:
          r2 = 0.5 * c.r2_weight * k * reduce(
              penalties.critic_input_gradient_sqnorms(critic_at(y_fake), fake))
        return r1, r2

      if c.lazy_every > 1:
        out["r1"], out["r2"] = jax.lax.cond(
            draws.lazy_on, zero_centred,
            lambda _: jax.tree_util.tree_map(jnp.zeros_like, jax.eval_shape(zero_centred, 0)),
            0)
      else:
        out["r1"], out["r2"] = zero_centred(0)
    if c.ac_weight > 0:  # AC-GAN: D classifies real and generated examples by their class
      out["ac"] = (jnp.mean(_cross_entropy(l_real, y_real))
                   + reduce(_cross_entropy(l_fake, y_fake)))
    return out, ms

  def generator_losses(self, d_params, d_model_state, fake, *, reduce: ReduceFn,
                       labels=None) -> jax.Array:
    """reduce(ℓ_G(x̃_b)): one critic network's generator loss on a fake batch, with the
    generator terms of `config.game` (BatchNorm in training mode, its update discarded); with
    `ac_weight` > 0, plus ac_weight·reduce(CE(class logits, labels)) (AC-GAN)."""
    s_fake, logits, _ = self.apply_critic_with_classes(d_params, d_model_state, fake,
                                                       train=True, labels=labels)
    loss = reduce(self.config.game.generator_terms(s_fake))
    if self.config.ac_weight > 0:
      loss = loss + self.config.ac_weight * reduce(_cross_entropy(logits, labels))
    return loss

  # ---------------------------------------------------------------- critic
  def _critic_inputs(self, state: GANState, key: jax.Array, data: Any):
    """The critic step's batch: (real, fake, draws, noise std); noise added, then DiffAugment,
    the fake batch constant.

    Draws that the default game does not use come from folds of its per-example keys (the ε
    key's fold 1 for DRAGAN's noise, the noise keys' fold 1 for DiffAugment), so turning a
    feature on leaves every other draw of the run as it was.
    """
    c = self.config
    step_key = jax.random.fold_in(jax.random.fold_in(key, 0), state.critic_steps)
    real, z, eps, k_nr, k_nf, k_eps, y_real, y_fake = self._draws(step_key, data)
    g = state.generator
    fake, _ = self.players.generate(self, g, g.params, z, train=True, labels=y_fake)
    fake = jax.lax.stop_gradient(fake)
    std = self.noise_std(state.step)
    real, fake = self._noisy(real, k_nr, std), self._noisy(fake, k_nf, std)
    real = self._augment(real, k_nr)
    fake = self._augment(fake, k_nf)
    partner = fake
    if c.uses_gradient_penalty and c.game.penalty_points == "perturbed-real":
      noise = jax.vmap(lambda k, x: jax.random.uniform(
          jax.random.fold_in(k, 1), x.shape, x.dtype))(k_eps, real)
      partner = penalties.perturb_real(real, noise, self._batch_std(real))
    lazy_on = (state.critic_steps % c.lazy_every) == 0
    return real, fake, CriticDraws(eps, partner, lazy_on, y_real, y_fake), std

  def _augment(self, x, keys):
    if not self.config.diffaugment:
      return x
    return diff_augment_batch(x, jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys),
                              self.config.diffaugment)

  def _batch_std(self, x):
    """The standard deviation of every element of the global batch (moments `pmean`'d)."""
    mean = self._pmean(jnp.mean(x))
    return jnp.sqrt(self._pmean(jnp.mean(jnp.square(x - mean))))

  def critic_payoff(self, d_params, state: GANState, key: jax.Array, data: Any = None):
    """The critic's loss at params `d_params` with the draws of the step at `state`:
    (total, aux, new_model_state). For a mixture, aux["payoff"] is the matrix of pair losses."""
    real, fake, draws, _ = self._critic_inputs(state, key, data)
    return self.players.critic_payoff(self, d_params, state, real, fake, draws)

  def critic_grads(self, state: GANState, key: jax.Array, data: Any = None):
    """(loss, grads, aux, new_model_state) of the critic at `state`; grads are `pmean`'d."""
    real, fake, draws, std = self._critic_inputs(state, key, data)
    d = state.critic

    def loss_fn(params):
      total, aux, ms = self.players.critic_payoff(self, params, state, real, fake, draws)
      return total, (aux, ms)

    (total, (aux, ms)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
    aux = dict(self.players.critic_metrics(aux, d.params), noise_std=std)
    return total, self._pmean(grads), aux, self._pmean(ms)

  def _critic_step(self, state: GANState, key: jax.Array, data: Any) -> Tuple[GANState, Metrics]:
    d = state.critic
    total, grads, aux, ms = self.critic_grads(state, key, data)
    updates, opt_state = self.d_optimizer.update(grads, d.opt_state, d.params)
    params = optax.apply_updates(d.params, updates)
    metrics = dict(aux, d_loss=total, d_grad_norm=global_norm(grads))
    if self.config.is_wasserstein:
      metrics["w_estimate"] = -aux["d_adv_loss"]
    metrics = self._pmean(metrics)
    new_state = state.replace(critic=PlayerState(params, opt_state, ms),
                              critic_steps=state.critic_steps + 1)
    return new_state, metrics

  # ---------------------------------------------------------------- generator
  def _generator_inputs(self, state: GANState, key: jax.Array):
    """The generator step's draws: (z, noise keys, noise std)."""
    step_key = jax.random.fold_in(jax.random.fold_in(key, 1), state.step)
    keys = example_keys(step_key, self.local_batch, self._offset())
    sub = jax.vmap(lambda k: jax.random.split(k, 2))(keys)
    z = jax.vmap(lambda k: jax.random.normal(k, (self.config.latent_dim,)))(sub[:, 0])
    return z, sub[:, 1], self.noise_std(state.step), self._fake_labels(sub[:, 0])

  def _generator_payoff(self, g_params, state: GANState, z, noise_keys, std, labels=None):
    fake, ms = self.players.generate(self, state.generator, g_params, z, train=True,
                                     labels=labels)
    fake = self._augment(self._noisy(fake, noise_keys, std), noise_keys)
    total, aux = self.players.generator_payoff(self, g_params, state, fake, labels=labels)
    return total, aux, ms

  def generator_payoff(self, g_params, state: GANState, key: jax.Array):
    """The generator's loss at params `g_params` with the draws of the step at `state`:
    (total, aux, new_model_state). For a mixture, aux["payoff"] is the matrix of pair losses."""
    return self._generator_payoff(g_params, state, *self._generator_inputs(state, key))

  def _generator_value_and_grad(self, state: GANState, key: jax.Array):
    inputs = self._generator_inputs(state, key)

    def loss_fn(params):
      total, aux, ms = self._generator_payoff(params, state, *inputs)
      return total, (aux, ms)

    (loss, (aux, ms)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.generator.params)
    return loss, self._pmean(grads), aux, self._pmean(ms)

  def generator_grads(self, state: GANState, key: jax.Array):
    """(loss, grads, new_model_state) of the generator at `state`; grads are `pmean`'d."""
    loss, grads, _, ms = self._generator_value_and_grad(state, key)
    return loss, grads, ms

  def _generator_step(self, state: GANState, key: jax.Array) -> Tuple[GANState, Metrics]:
    g = state.generator
    loss, grads, aux, ms = self._generator_value_and_grad(state, key)
    updates, opt_state = self.g_optimizer.update(grads, g.opt_state, g.params)
    params = optax.apply_updates(g.params, updates)
    metrics = self._pmean(dict(g_loss=loss, g_grad_norm=global_norm(grads),
                               **self.players.generator_metrics(aux, g.params)))
    new_state = state.replace(generator=PlayerState(params, opt_state, ms), step=state.step + 1)
    if self.config.ema_decay > 0:
      new_state = new_state.replace(ema=ema_update(state.ema, params, state.step, self.config))
    return new_state, metrics

  def _train_iterations(self, state, key, data=None, *, n_critic: int, iterations: int):
    _checks.check_key("key", key)
    self._check_state(state, data)
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
    `lax.scan`, then one generator step; `iterations` such iterations in one program.

    Raises:
      ConfigError: naming `n_critic` or `iterations`, unless each is an integer ≥ 1 (0 would
        compile a step that does nothing, a negative count one that fails inside XLA).
    """
    _checks.check_count("n_critic", n_critic)
    _checks.check_count("iterations", iterations)
    return functools.partial(self._train_iterations, n_critic=n_critic, iterations=iterations)

  @property
  def critic_step(self):
    """Jitted (state, key, data) -> (state, metrics): one critic step."""
    return self.compiled("critic_step", lambda: jax.jit(
        trace_once(self.critic_step_fn, "critic_step")))

  @property
  def generator_step(self):
    """Jitted (state, key) -> (state, metrics): one generator step."""
    return self.compiled("generator_step", lambda: jax.jit(
        trace_once(self.generator_step_fn, "generator_step")))

  def train_step(self, n_critic: Optional[int] = None, iterations: int = 1):
    """The jitted fused step for (n_critic, iterations); compiled once per pair (the same
    function is returned on every call), and guarded against recompiling by `trace_once`
    (tests check the same with `chex.assert_max_traces`).

    Raises:
      ConfigError: naming `n_critic` or `iterations`, unless each is an integer ≥ 1.
    """
    n_critic = self.config.n_critic if n_critic is None else n_critic
    _checks.check_count("n_critic", n_critic)
    _checks.check_count("iterations", iterations)
    name = f"train_step(n_critic={n_critic}, iterations={iterations})"
    return self.compiled(("train_step", n_critic, iterations), lambda: jax.jit(
        trace_once(self.train_step_fn(n_critic, iterations), name)))

  # ---------------------------------------------------------------- evaluation
  def sample(self, state: GANState, key: jax.Array, n: int, labels: Any = None) -> jax.Array:
    """n samples from the generator in inference mode (BatchNorm running averages).

    For a class-conditional game, `labels` [n] are the samples' classes; by default they are
    drawn uniformly (from fold_in(key, 2)).

    Raises:
      ConfigError: naming `n`, unless it is an integer ≥ 1; `labels`, given to an
        unconditional game or not n integer classes.
    """
    _checks.check_count("n", n)
    _checks.check_key("key", key)
    return self.players.sample(self, self.averaged(state), key, n,
                               labels=self.sample_labels(key, n, labels))

  def sample_labels(self, key: jax.Array, n: int, labels: Any = None):
    """The classes of n samples: `labels` checked, or uniform draws (None if unconditional)."""
    c = self.config.num_classes
    if labels is None:
      return jax.random.randint(jax.random.fold_in(key, 2), (n,), 0, c) if c else None
    if not c:
      _checks.fail("labels", "the game is not class-conditional (num_classes = 0)")
    if tuple(jnp.shape(labels)) != (n,) or not jnp.issubdtype(jnp.result_type(labels),
                                                               jnp.integer):
      _checks.fail("labels", f"must be {n} integer classes, shape [{n}], got "
                   f"{getattr(labels, 'shape', labels)}")
    return jnp.asarray(labels)

  def averaged(self, state: GANState) -> GANState:
    """The state whose generator plays with the averaged parameters when `ema_decay` > 0 (its
    BatchNorm statistics are the trained generator's running averages), else `state`."""
    if self.config.ema_decay == 0:
      return state
    return state.replace(generator=state.generator.replace(params=state.ema))

  def critic_values(self, state: GANState, x: jax.Array, labels: Any = None) -> jax.Array:
    """The critic's (or discriminator's logit) values at x (of classes `labels`, for a
    conditional game), in inference mode."""
    return self.players.critic_values(self, state, x, labels=labels)


def _cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """−log softmax(logits)[label], per example."""
  return -jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=-1)[:, 0]


def ema_update(ema: Any, params: Any, step: jax.Array, config: GANConfig) -> Any:
  """θ̄ ← β·θ̄ + (1 − β)·θ after generator iteration `step` (0-based), with β = `ema_decay`;
  before `ema_start` iterations are done the average is a copy of θ (β = 0).

  References:
    Yazıcı et al., "The Unusual Effectiveness of Averaging in GAN Training", ICLR 2019,
    arXiv:1806.04498 (the exponential moving average of the generator); Karras et al. 2018,
    arXiv:1710.10196, §A.1 (β = 0.999).
  """
  beta = jnp.where(step + 1 > config.ema_start, config.ema_decay, 0.0)
  return jax.tree_util.tree_map(
      lambda a, p: (beta * a + (1.0 - beta) * p).astype(p.dtype), ema, params)


def plan_blocks(config: GANConfig, start: int, stop: int, block: int):
  """Split generator iterations [start, stop) into (n_critic, iterations) calls.

  Iterations with the same critic count are grouped into calls of `block` iterations; a WGAN
  warm-up iteration (100 critic steps) is its own call. Leftovers run one at a time, so at most
  three programs are compiled: (n_critic, block), (n_critic, 1) and (warm-up, 1).

  Raises:
    ConfigError: (when called, not when first iterated) naming `start`, `stop` or `block`,
      unless 0 ≤ start ≤ stop and block ≥ 1 are integers.
  """
  _checks.check_count("start", start, minimum=0)
  _checks.check_count("stop", stop, minimum=0)
  if stop < start:
    _checks.fail("stop", f"must be ≥ start = {start}, got {stop}")
  _checks.check_count("block", block)
  return _plan_blocks(config, start, stop, block)


def _plan_blocks(config: GANConfig, start: int, stop: int, block: int):
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
    self._compiled: Dict[Tuple[Any, int], Callable] = {}

  def init(self, keys: jax.Array, data: Any = None) -> GANState:
    """K fresh states, one per key of `keys` [K].

    Raises:
      ConfigError: naming `keys`, unless it is a non-empty batch of keys [K].
    """
    _check_run_keys(keys)
    return jax.vmap(lambda k: self.gan.init(k, data))(keys)

  def train_step(self, n_critic: Optional[int] = None, iterations: int = 1):
    """Jitted (states, keys [K], data) -> (states, metrics [K, iterations]); built once per
    (n_critic, iterations).

    Raises:
      ConfigError: naming `n_critic` or `iterations`, unless each is an integer ≥ 1; when
        called, naming `keys` unless it holds one key per run of `states`.
    """
    n_critic = self.gan.config.n_critic if n_critic is None else n_critic
    _checks.check_count("n_critic", n_critic)
    _checks.check_count("iterations", iterations)
    if (n_critic, iterations) not in self._compiled:
      fn = self.gan.train_step_fn(n_critic, iterations)
      mapped = jax.jit(trace_once(
          jax.vmap(fn, in_axes=(0, 0, None)),
          f"vmapped train_step(n_critic={n_critic}, iterations={iterations})"))

      def call(states, keys, data=None):
        _check_run_keys(keys, runs=_runs(states))
        return mapped(states, keys, data)
      self._compiled[(n_critic, iterations)] = call
    return self._compiled[(n_critic, iterations)]

  def sample(self, states: GANState, key: jax.Array, n: int) -> jax.Array:
    """n samples of each run, [K, n, ...].

    Raises:
      ConfigError: naming `n`, unless it is an integer ≥ 1.
    """
    _checks.check_count("n", n)
    if ("sample", n) not in self._compiled:  # compiled once per n, not at every call
      self._compiled[("sample", n)] = jax.jit(
          jax.vmap(lambda s, k: self.gan.sample(s, k, n), in_axes=(0, None)))
    return self._compiled[("sample", n)](states, key)


def _runs(states: GANState) -> int:
  """K, the number of runs stacked in `states` (refused if they are one run's state)."""
  shape = tuple(getattr(getattr(states, "step", None), "shape", (None,)))
  if len(shape) != 1:
    _checks.fail("states", "must be the states of K runs (from `IndependentRuns.init`), with "
                 f"a leading axis [K]; got a state whose step counter has shape {shape}")
  return shape[0]


def _check_run_keys(keys: jax.Array, runs: Optional[int] = None) -> None:
  """`keys` is a non-empty batch of PRNG keys [K] (typed, or raw uint32 [K, 2]); K = `runs`."""
  shape, dtype = getattr(keys, "shape", None), getattr(keys, "dtype", None)
  if shape is None or dtype is None:
    _checks.fail("keys", f"must be one PRNG key per run, shape [K], got {keys!r}")
  typed = jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
  batch_shape = tuple(shape) if typed else tuple(shape)[:-1]
  if len(batch_shape) != 1 or batch_shape[0] == 0 or not (
      typed or jnp.issubdtype(dtype, jnp.unsignedinteger)):
    _checks.fail("keys", "must be one PRNG key per run, shape [K] (e.g. "
                 f"jax.random.split(key, K)), got keys of shape {tuple(shape)} and dtype {dtype}")
  if runs is not None and batch_shape[0] != runs:
    _checks.fail("keys", f"must hold one key per run: the states hold {runs} runs, got "
                 f"{batch_shape[0]} keys")
