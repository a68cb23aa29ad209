"""Objectives (which game is played) and the validated training configuration."""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

OBJECTIVES = ("gan", "nsgan", "wgan", "wgan-gp", "wgan-gp-onesided")
OPTIMIZERS = ("adam", "rmsprop")

# Defaults per objective. gan/nsgan: the DCGAN recipe (Adam 2e-4, β1 .5, one D step).
# wgan: Algorithm 1 of WGAN (RMSProp 5e-5, c = .01, n_critic 5) plus the official warm-up.
# wgan-gp: Algorithm 1 of WGAN-GP with the β1 = .5 of every released script (the paper's text
# says β1 = 0; PAPERS.md §5.1) and λ = 10.
_DEFAULTS = {
    "gan": dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999, n_critic=1),
    "nsgan": dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999, n_critic=1),
    "wgan": dict(optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, n_critic=5, clip_value=0.01,
                 warmup=True),
    "wgan-gp": dict(optimizer="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9, n_critic=5,
                    gp_weight=10.0),
    "wgan-gp-onesided": dict(optimizer="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9,
                             n_critic=5, gp_weight=10.0),
}


class ConfigError(ValueError):
  """A bad option value; the message names the option."""


@dataclasses.dataclass(frozen=True)
class GANConfig:
  """Everything that defines the game and its optimisation (hashable: used as a static arg).

  Build it with `make_config(objective, **overrides)` so that per-objective defaults apply.
  """
  objective: str = "wgan-gp"
  batch_size: int = 256
  latent_dim: int = 2
  n_critic: int = 5
  optimizer: str = "adam"
  lr_d: float = 1e-4
  lr_g: float = 1e-4
  beta1: float = 0.5
  beta2: float = 0.9
  rmsprop_decay: float = 0.9
  clip_value: Optional[float] = None      # WGAN weight clipping c
  gp_weight: float = 0.0                  # WGAN-GP λ
  gp_target: float = 1.0
  warmup: bool = False                    # WGAN: 100 critic iters for G iters < 25 and every 500th
  warmup_critic_iters: int = 100
  warmup_generator_iters: int = 25
  warmup_every: int = 500
  instance_noise: float = 0.0             # initial std of noise on D's inputs
  instance_noise_anneal: int = 0          # G iterations to anneal it linearly to 0 (0: constant)
  weight_penalty: float = 0.0             # coefficient of Σ‖w‖² on D's weights
  skip_nonfinite: bool = False            # optax.apply_if_finite: skip non-finite updates
  lr_decay_steps: int = 0                 # >0: both learning rates decay linearly to 0 over this
                                          # many generator iterations (WGAN-GP ResNet recipe)

  def __post_init__(self):
    def bad(option, msg):
      raise ConfigError(f"--{option.replace('_', '-')}: {msg}")

    if self.objective not in OBJECTIVES:
      bad("objective", f"unknown objective {self.objective!r}; choose one of {list(OBJECTIVES)}")
    if self.optimizer not in OPTIMIZERS:
      bad("optimizer", f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
    for name in ("batch_size", "latent_dim", "n_critic", "warmup_critic_iters",
                 "warmup_generator_iters", "warmup_every"):
      v = getattr(self, name)
      if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        bad(name, f"must be a positive integer, got {v!r}")
    for name in ("lr_d", "lr_g"):
      v = getattr(self, name)
      if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
        bad(name, f"must be a positive number, got {v!r}")
    for name in ("beta1", "beta2", "rmsprop_decay"):
      v = getattr(self, name)
      if not (isinstance(v, (int, float)) and 0 <= v < 1):
        bad(name, f"must lie in [0, 1), got {v!r}")
    if self.clip_value is not None and not (math.isfinite(self.clip_value)
                                            and self.clip_value > 0):
      bad("clip_value", f"must be positive, got {self.clip_value!r}")
    if self.objective == "wgan" and self.clip_value is None:
      bad("clip_value", "wgan needs a clip value")
    if self.objective.startswith("wgan-gp") and not (math.isfinite(self.gp_weight)
                                                     and self.gp_weight > 0):
      bad("gp_weight", f"the gradient penalty weight λ must be positive, got {self.gp_weight!r}")
    if not (math.isfinite(self.gp_weight) and self.gp_weight >= 0):
      bad("gp_weight", f"must be a finite number ≥ 0, got {self.gp_weight!r}")
    if not (math.isfinite(self.gp_target) and self.gp_target >= 0):
      bad("gp_target", f"must be a finite number ≥ 0, got {self.gp_target!r}")
    if not (math.isfinite(self.instance_noise) and self.instance_noise >= 0):
      bad("instance_noise", f"must be a finite number ≥ 0, got {self.instance_noise!r}")
    if not (isinstance(self.instance_noise_anneal, int) and self.instance_noise_anneal >= 0):
      bad("instance_noise_anneal", f"must be an integer ≥ 0, got {self.instance_noise_anneal!r}")
    if isinstance(self.lr_decay_steps, bool) or not isinstance(self.lr_decay_steps, int) \
        or self.lr_decay_steps < 0:
      bad("lr_decay_steps", f"must be an integer ≥ 0, got {self.lr_decay_steps!r}")
    if not (math.isfinite(self.weight_penalty) and self.weight_penalty >= 0):
      bad("weight_penalty", f"must be a finite number ≥ 0, got {self.weight_penalty!r}")

  @property
  def is_wasserstein(self) -> bool:
    return self.objective.startswith("wgan")

  @property
  def uses_gradient_penalty(self) -> bool:
    return self.gp_weight > 0

  @property
  def one_sided(self) -> bool:
    return self.objective == "wgan-gp-onesided"

  def critic_iters(self, generator_iteration: int) -> int:
    """Critic steps before generator iteration g (the official WGAN warm-up when enabled)."""
    if self.warmup and (generator_iteration < self.warmup_generator_iters
                        or generator_iteration % self.warmup_every == 0):
      return self.warmup_critic_iters
    return self.n_critic


def make_config(objective: str = "wgan-gp", **overrides) -> GANConfig:
  """A `GANConfig` with the defaults of `objective`, then `overrides` (None means default).

  Raises:
    ConfigError: naming the option, for an unknown objective or a bad value.
  """
  if objective not in _DEFAULTS:
    raise ConfigError(
        f"--objective: unknown objective {objective!r}; choose one of {list(OBJECTIVES)}")
  fields = {f.name for f in dataclasses.fields(GANConfig)}
  unknown = set(overrides) - fields
  if unknown:
    raise ConfigError(f"unknown option(s) {sorted(unknown)}")
  values = dict(_DEFAULTS[objective])
  values.update({k: v for k, v in overrides.items() if v is not None})
  return GANConfig(objective=objective, **values)
