"""The validated training configuration, and the names of the objectives.

Each objective (its losses, its constraint on the critic, its default hyper-parameters) is
defined once, in `wgan_jax.objectives`; `OBJECTIVES` is the tuple of their names. Every error
is a `ConfigError` that names the config field (or argument) at fault, so a command line can
map it to its own flag.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional, Union

import numpy as np

from wgan_jax.augment import parse_policy
from wgan_jax.errors import ConfigError
from wgan_jax.objectives import REGISTRY, Objective

OBJECTIVES = tuple(REGISTRY)
OPTIMIZERS = ("adam", "rmsprop")
# The dtype of the networks' matmuls and convolutions (mixed precision): the parameters, the
# optimiser, the losses and the penalty's gradient norm stay float32 in every case.
COMPUTE_DTYPES = ("float32", "bfloat16")


def get_objective(name) -> Objective:
  """The `Objective` called `name` (an `Objective` value is returned as it is).

  Raises:
    ConfigError: naming "objective", for an unknown name.
  """
  if isinstance(name, Objective):
    return name
  try:
    return REGISTRY[name]
  except (KeyError, TypeError):
    raise ConfigError(
        "objective", f"unknown objective {name!r}; choose one of {list(OBJECTIVES)}") from None


def _field(default, doc: str, **cli):
  """A `GANConfig` field that a run chooses, with its one-line `doc` (and a command line's
  `choices` or `symbol`). The jobs' game config (experiments/configs.py) has one optional field
  per such field, generated from these: a new one is declared here once. The fields without a
  doc are set by the job from its own (the objective, sizes, RMSProp's form, the schedule)."""
  return dataclasses.field(default=default, metadata=dict(doc=doc, **cli))


@dataclasses.dataclass(frozen=True)
class GANConfig:
  """Everything that defines the game and its optimisation (hashable: used as a static arg).

  Build it with `make_config(objective, **overrides)` so that per-objective defaults apply.
  `objective` is a registered name (`OBJECTIVES`) or an `Objective` value defined by the user.
  """
  objective: Union[str, Objective] = "wgan-gp"
  batch_size: int = 256
  latent_dim: int = 2
  n_critic: int = _field(5, "critic steps per generator step (gan/nsgan 1, wgan/wgan-gp 5)")
  optimizer: str = _field("adam", "gan/nsgan/wgan-gp: adam; wgan: rmsprop", choices=OPTIMIZERS)
  lr_d: float = _field(1e-4, "critic learning rate (gan 2e-4, wgan 5e-5, wgan-gp 1e-4)")
  lr_g: float = _field(1e-4, "generator learning rate (gan 2e-4, wgan 5e-5, wgan-gp 1e-4)")
  beta1: float = _field(0.5, "Adam β1 (0.5)")
  beta2: float = _field(0.9, "Adam β2 (wgan-gp 0.9, gan 0.999)")
  rmsprop_decay: float = 0.9              # RMSProp's ρ (PyTorch's alpha); see RMSPROP_FORMS
  rmsprop_eps: float = 1e-8               # RMSProp's ε
  rmsprop_eps_in_sqrt: bool = True        # ε inside the root, √(v + ε) (optax, TF1), or after
                                          # it, √v + ε (PyTorch)
  rmsprop_initial_scale: float = 0.0      # RMSProp's v₀ (TF1 1.0, PyTorch and optax 0)
  clip_value: Optional[float] = _field(None, "WGAN weight clipping c: every critic weight in "
                                       "[-c, c] (wgan: 0.01)")
  gp_weight: float = _field(0.0, "gradient penalty λ (10; gan_toy.py's 2-D toys 0.1); with "
                            "another objective it adds the penalty")
  gp_target: float = _field(1.0, "the gradient norm the penalty pulls towards (1)")
  warmup: bool = False                    # WGAN: 100 critic iters for G iters < 25 and every 500th
  warmup_critic_iters: int = 100
  warmup_generator_iters: int = 25
  warmup_every: int = 500
  instance_noise: float = _field(0.0, "std of Gaussian noise added to D's real and fake inputs "
                                 "(0: off)")
  instance_noise_anneal: int = _field(0, "generator iterations over which the noise std falls "
                                      "linearly to 0 (0: constant)")
  weight_penalty: float = _field(0.0, "coefficient of the L2 penalty Σ‖w‖² on D's weights "
                                 "(0: off)")
  skip_nonfinite: bool = _field(False, "skip updates whose gradients are not finite "
                                "(optax.apply_if_finite) instead of stopping the run")
  lr_decay_steps: int = 0                 # >0: both learning rates decay linearly to 0 over this
                                          # many generator iterations (WGAN-GP ResNet recipe)
  r1_weight: float = _field(0.0, "γ of the R1 penalty γ/2·E‖∇D(x)‖² on real data (Mescheder "
                            "et al. 2018; 0: off)", symbol="GAMMA")
  r2_weight: float = _field(0.0, "γ of the R2 penalty γ/2·E‖∇D(G(z))‖² on generated data "
                            "(0: off)", symbol="GAMMA")
  lazy_every: int = _field(1, "lazy regularisation: R1/R2 every K critic steps, weighted by K "
                           "(Karras et al. 2020; 1: every step)", symbol="K")
  spectral_norm: bool = _field(False, "divide every critic weight matrix by its spectral norm, "
                               "one power iteration per critic step (Miyato et al. 2018)")
  ema_decay: float = _field(0.0, "sample and evaluate an exponential moving average of the "
                            "generator's weights with this decay, e.g. 0.999 (0: off); "
                            "BatchNorm statistics are the trained generator's", symbol="BETA")
  ema_start: int = _field(0, "generator iterations before the average starts (until then it "
                          "copies the weights)", symbol="N")
  diffaugment: str = _field("", "DiffAugment policy for every critic input, real and generated "
                            "(Zhao et al. 2020): a comma-separated subset of color, "
                            "translation, cutout; images only", symbol="POLICY")
  num_classes: int = 0                    # >0: a class-conditional game over this many classes
  ac_weight: float = _field(0.0, "weight of the auxiliary classifier's cross-entropy in both "
                            "players' losses (AC-GAN, Odena et al. 2017; 1 where the critic "
                            "has the classifier)")
  compute_dtype: str = _field("float32", "dtype of the networks' matmuls and convolutions: "
                              "bfloat16 is mixed precision for accelerators (parameters, "
                              "optimiser, losses and the penalty's gradient norm stay float32; "
                              "slow on a CPU; default float32)", choices=COMPUTE_DTYPES)

  def __post_init__(self):
    def bad(field, msg):
      raise ConfigError(field, msg)

    def number(v):  # a finite real number, not a boolean (True is an int to Python)
      return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)

    game = get_objective(self.objective)
    if self.optimizer not in OPTIMIZERS:
      bad("optimizer", f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
    if self.compute_dtype not in COMPUTE_DTYPES:
      bad("compute_dtype", f"must be one of {list(COMPUTE_DTYPES)}, got {self.compute_dtype!r}")
    for name in ("batch_size", "latent_dim", "n_critic", "warmup_critic_iters",
                 "warmup_generator_iters", "warmup_every"):
      v = getattr(self, name)
      if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
        v = int(v)                        # a NumPy integer (np.int64 from a computation)
        object.__setattr__(self, name, v)
      if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        bad(name, f"must be a positive integer, got {v!r}")
    for name in ("lr_d", "lr_g"):
      v = getattr(self, name)
      if not (number(v) and v > 0):
        bad(name, f"must be a positive number, got {v!r}")
    for name in ("beta1", "beta2", "rmsprop_decay"):
      v = getattr(self, name)
      if not (number(v) and 0 <= v < 1):
        bad(name, f"must lie in [0, 1), got {v!r}")
    if not (number(self.rmsprop_eps) and self.rmsprop_eps > 0):
      bad("rmsprop_eps", f"must be a positive number, got {self.rmsprop_eps!r}")
    if not (number(self.rmsprop_initial_scale) and self.rmsprop_initial_scale >= 0):
      bad("rmsprop_initial_scale", f"must be a finite number ≥ 0, got "
          f"{self.rmsprop_initial_scale!r}")
    if self.clip_value is not None and not (number(self.clip_value)
                                            and self.clip_value > 0):
      bad("clip_value", f"must be a positive number, got {self.clip_value!r}")
    if game.clips_weights and self.clip_value is None:
      bad("clip_value", f"{game.name} needs a clip value")
    for name in ("gp_weight", "gp_target", "instance_noise", "weight_penalty"):
      v = getattr(self, name)
      if not (number(v) and v >= 0):
        bad(name, f"must be a finite number ≥ 0, got {v!r}")
    if game.gradient_penalty and not self.gp_weight > 0:
      bad("gp_weight", f"the gradient penalty weight λ must be positive, got {self.gp_weight!r}")
    for name in ("instance_noise_anneal", "lr_decay_steps"):
      v = getattr(self, name)
      if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        bad(name, f"must be an integer ≥ 0, got {v!r}")
    if self.instance_noise_anneal > 0 and self.instance_noise == 0:
      bad("instance_noise_anneal", "anneals the instance noise, which is 0; set "
          "instance_noise > 0 too, or leave the annealing at 0")
    for name in ("warmup", "skip_nonfinite", "spectral_norm", "rmsprop_eps_in_sqrt"):
      v = getattr(self, name)
      if not isinstance(v, (bool, np.bool_)):
        bad(name, f"must be True or False, got {v!r}")
    for name in ("r1_weight", "r2_weight"):
      v = getattr(self, name)
      if not (number(v) and v >= 0):
        bad(name, f"must be a finite number ≥ 0, got {v!r}")
    v = self.lazy_every
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
      bad("lazy_every", f"must be a positive integer, got {v!r}")
    if v > 1 and not (self.r1_weight > 0 or self.r2_weight > 0):
      bad("lazy_every", "spaces out the R1/R2 penalties, which are off; set r1_weight or "
          "r2_weight > 0 too, or leave lazy_every at 1")
    if not (number(self.ema_decay) and 0 <= self.ema_decay < 1):
      bad("ema_decay", f"must lie in [0, 1) (0: no average), got {self.ema_decay!r}")
    v = self.ema_start
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
      bad("ema_start", f"must be an integer ≥ 0, got {v!r}")
    if v > 0 and self.ema_decay == 0:
      bad("ema_start", "delays the generator's average, which is off; set ema_decay > 0 too")
    v = self.num_classes
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
      bad("num_classes", f"must be an integer ≥ 0 (0: unconditional), got {v!r}")
    if v == 1:
      bad("num_classes", "a conditional game needs at least 2 classes (0: unconditional)")
    if not (number(self.ac_weight) and self.ac_weight >= 0):
      bad("ac_weight", f"must be a finite number ≥ 0, got {self.ac_weight!r}")
    if self.ac_weight > 0 and not self.num_classes:
      bad("ac_weight", "the auxiliary classifier (AC-GAN) needs labelled data: set "
          "num_classes too")
    if not isinstance(self.diffaugment, str):
      bad("diffaugment", f"must be a comma-separated policy string, got {self.diffaugment!r}")
    parse_policy(self.diffaugment, field="diffaugment")

  @property
  def game(self) -> Objective:
    """The `Objective` named by `objective` (or `objective` itself): its losses, constraints
    and defaults."""
    return get_objective(self.objective)

  @property
  def objective_name(self) -> str:
    """The game's name: `objective`, or the user-defined objective's `name`."""
    return self.game.name

  @property
  def is_wasserstein(self) -> bool:
    return self.game.is_wasserstein

  @property
  def uses_gradient_penalty(self) -> bool:
    return self.gp_weight > 0

  @property
  def uses_zero_centred_penalty(self) -> bool:
    """R1 or R2 is on (`r1_weight` or `r2_weight` > 0)."""
    return self.r1_weight > 0 or self.r2_weight > 0

  @property
  def one_sided(self) -> bool:
    return self.game.one_sided

  def critic_iters(self, generator_iteration: int) -> int:
    """Critic steps before generator iteration g (the official WGAN warm-up when enabled)."""
    if self.warmup and (generator_iteration < self.warmup_generator_iters
                        or generator_iteration % self.warmup_every == 0):
      return self.warmup_critic_iters
    return self.n_critic

  def critic_steps_before(self, generator_iteration: int) -> int:
    """Critic steps run before generator iteration g: Σ_{g' < g} critic_iters(g').

    With the WGAN warm-up this is more than g·n_critic (100 critic steps at each of the first
    25 generator iterations and every 500th); the critic's learning-rate schedule spans it.
    """
    g = int(generator_iteration)
    if not self.warmup or g <= 0:
      return max(g, 0) * self.n_critic
    # warm iterations: every g' < warmup_generator_iters, then the multiples of warmup_every
    first, every = self.warmup_generator_iters, self.warmup_every
    warm = min(g, first) + max(0, -(-g // every) - -(-first // every))
    return warm * self.warmup_critic_iters + (g - warm) * self.n_critic


def make_config(objective: Union[str, Objective] = "wgan-gp", **overrides) -> GANConfig:
  """A `GANConfig` with the defaults of `objective`, then `overrides` (None means default).

  `objective` is a registered name or an `Objective` value: a game defined outside the library
  (its per-example critic and generator terms, constraint flags and defaults) trains through
  the same steps as the registered ones.

  Raises:
    ConfigError: naming the field, for an unknown objective, an unknown field or a bad value.
  """
  game = get_objective(objective)
  fields = {f.name for f in dataclasses.fields(GANConfig)}
  unknown = sorted(set(overrides) - fields)
  if unknown:
    raise ConfigError(unknown[0], f"not a field of GANConfig (unknown: {unknown})")
  values = dict(game.defaults)
  values.update({k: v for k, v in overrides.items() if v is not None})
  return GANConfig(objective=objective, **values)


def check_critic_norm(config: GANConfig, *, batch_norm: bool, field: str = "critic") -> None:
  """Refuse BatchNorm in a critic trained with a gradient penalty.

  BatchNorm couples the examples of a batch, so the gradient of the critic at one interpolate
  depends on the others and the per-example gradient norm that the penalty constrains is wrong;
  the WGAN-GP paper uses layer normalisation instead (Gulrajani et al. 2017, arXiv:1704.00028,
  §4). `GAN.init` calls this with the critic's variables; a caller that chooses the critic's
  normalisation by name can call it first, passing its own `field`.

  Args:
    config: the configuration (the penalty is on when `config.gp_weight` > 0).
    batch_norm: whether the critic uses BatchNorm.
    field: the field or argument to name in the error.

  Raises:
    ConfigError: naming `field`, for BatchNorm in a penalised critic.
  """
  if batch_norm and config.uses_gradient_penalty:
    raise ConfigError(
        field, "a critic trained with a gradient penalty must not use BatchNorm (it couples the "
        "examples of a batch, so the per-example gradient norm is wrong); use layer "
        "normalisation or none")
