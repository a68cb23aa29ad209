"""The objectives (which game is played), each defined once, as a value.

An `Objective` bundles what a game is: the per-example loss terms of its critic (discriminator)
and of its generator (from `wgan_jax.losses`), whether it is a Wasserstein game, how the critic
is kept Lipschitz (weight clipping, a gradient penalty, one-sided or not), and the default
optimiser hyper-parameters of the paper that introduced it. `REGISTRY` maps each name to its
objective; `wgan_jax.config.OBJECTIVES` is the tuple of its names.

The steps never dispatch on a name: they call `objective.critic_terms` and
`objective.generator_terms` and reduce the terms themselves (the plain GAN by the batch mean,
MIX+GAN by the mean over each generator's examples), as TF-GAN's `gan_loss` takes its loss
functions as values. Adding an objective to the library means adding one entry to `_ENTRIES`
(and, for a new family of losses, its `*_terms` functions to `losses.py`); a game defined outside
the library is an `Objective` value passed to `wgan_jax.make_config` in place of a name:

  hinge = Objective("my-hinge", critic_terms=lambda r, f: (jax.nn.relu(1 - r), jax.nn.relu(1 + f)),
                    generator_terms=lambda f: -f, defaults=dict(n_critic=1))
  config = wgan_jax.make_config(hinge, batch_size=64)
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Callable, Mapping, Tuple

import chex
import jax.numpy as jnp

from wgan_jax import losses
from wgan_jax.errors import ConfigError

PENALTY_POINTS = ("interpolates", "perturbed-real")
CriticTermsFn = Callable[[chex.Array, chex.Array], Tuple[chex.Array, chex.Array]]
GeneratorTermsFn = Callable[[chex.Array], chex.Array]


@dataclasses.dataclass(frozen=True)
class Objective:
  """One game: its loss terms, how its critic is constrained and its default hyper-parameters.

  Attributes:
    name: the name used in configs ("wgan-gp", ...).
    critic_terms: (real_scores [B], fake_scores [B']) -> (real_term [B], fake_term [B']); the
      critic's loss is mean(real_term) + mean(fake_term).
    generator_terms: fake_scores [B] -> term [B]; the generator's loss is its mean.
    is_wasserstein: the critic estimates a Wasserstein distance (scores, not logits): the
      steps report `w_estimate` instead of `d_accuracy`.
    gradient_penalty: the objective needs a gradient penalty (`gp_weight` > 0).
    one_sided: the penalty is one-sided, max(0, ‖∇f‖ - 1)².
    penalty_points: where the gradient penalty is taken: "interpolates" (WGAN-GP: random
      points between real and generated examples) or "perturbed-real" (DRAGAN: random points
      between real examples and noisy copies of them, Kodali et al. 2017).
    threshold: the score above which the critic calls an example real, for the reported
      `d_accuracy` (0 for logits and the hinge game; ½ for LSGAN's 0-1 coding).
    clips_weights: the objective needs weight clipping (`clip_value`).
    defaults: `GANConfig` field values of the objective's recipe (optimiser, learning rates,
      n_critic, clip value, penalty weight, ...); `make_config` starts from them.
  """
  name: str
  critic_terms: CriticTermsFn
  generator_terms: GeneratorTermsFn
  is_wasserstein: bool = False
  gradient_penalty: bool = False
  one_sided: bool = False
  clips_weights: bool = False
  defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)
  penalty_points: str = "interpolates"
  threshold: float = 0.0

  def __post_init__(self):
    if not isinstance(self.name, str) or not self.name:
      raise ConfigError("name", f"an objective's name must be a non-empty string, got "
                        f"{self.name!r}")
    for field in ("critic_terms", "generator_terms"):
      if not callable(getattr(self, field)):
        raise ConfigError(field, f"must be a function of the scores, got "
                          f"{getattr(self, field)!r}")
    for field in ("is_wasserstein", "gradient_penalty", "one_sided", "clips_weights"):
      if not isinstance(getattr(self, field), bool):
        raise ConfigError(field, f"must be True or False, got {getattr(self, field)!r}")
    if self.penalty_points not in PENALTY_POINTS:
      raise ConfigError("penalty_points", f"must be one of {list(PENALTY_POINTS)}, got "
                        f"{self.penalty_points!r}")
    if not isinstance(self.defaults, Mapping):
      raise ConfigError("defaults", f"must be a mapping of GANConfig fields, got "
                        f"{self.defaults!r}")
    object.__setattr__(self, "defaults", types.MappingProxyType(dict(self.defaults)))

  def critic_loss(self, real_scores: chex.Array, fake_scores: chex.Array) -> chex.Array:
    """The critic's batch loss, mean(real_term) + mean(fake_term)."""
    real_terms, fake_terms = self.critic_terms(real_scores, fake_scores)
    return jnp.mean(real_terms) + jnp.mean(fake_terms)

  def generator_loss(self, fake_scores: chex.Array) -> chex.Array:
    """The generator's batch loss, mean(generator_terms)."""
    return jnp.mean(self.generator_terms(fake_scores))


# The three RMSProp updates in use, as `GANConfig` fields. Each keeps a moving average v of the
# squared gradient, v ← ρ·v + (1 − ρ)·g², starting at v₀, and steps −lr·g / denominator:
#
#   pytorch  torch.optim.RMSprop's defaults (alpha 0.99, eps 1e-8, v₀ = 0; denominator √v + ε),
#            which the official WGAN code (github.com/martinarjovsky/WassersteinGAN, main.py)
#            uses for both players: the `wgan` objective's default.
#   tf1      TF1's tf.train.RMSPropOptimizer defaults (decay 0.9, epsilon 1e-10, v₀ = 1;
#            denominator √(v + ε)), which the official WGAN-GP scripts use (gan_toy.py's wgan
#            mode, and their RMSProp baselines).
#   optax    optax.rmsprop's defaults (decay 0.9, eps 1e-8, v₀ = 0; denominator √(v + ε)): the
#            library's form before issue 27, and GANConfig's default for RMSProp elsewhere.
#
# A clipped critic's gradients (~1e-6 to 1e-4 per weight) lie below √1e-8 = 1e-4, so where ε
# sits decides the step size: optax's form takes steps a few percent of the learning rate
# where PyTorch's takes about the learning rate.
RMSPROP_FORMS = types.MappingProxyType({
    "pytorch": types.MappingProxyType(dict(rmsprop_decay=0.99, rmsprop_eps=1e-8,
                                           rmsprop_eps_in_sqrt=False, rmsprop_initial_scale=0.0)),
    "tf1": types.MappingProxyType(dict(rmsprop_decay=0.9, rmsprop_eps=1e-10,
                                       rmsprop_eps_in_sqrt=True, rmsprop_initial_scale=1.0)),
    "optax": types.MappingProxyType(dict(rmsprop_decay=0.9, rmsprop_eps=1e-8,
                                         rmsprop_eps_in_sqrt=True, rmsprop_initial_scale=0.0)),
})

# gan/nsgan: the DCGAN recipe (Adam 2e-4, β1 .5, one D step; Radford et al. 2016,
# arXiv:1511.06434, §4). wgan: Algorithm 1 of WGAN (RMSProp 5e-5, c = .01, n_critic 5;
# arXiv:1701.07875) plus the official warm-up, with the official code's RMSProp (PyTorch's
# form). wgan-gp: Algorithm 1 of WGAN-GP (arXiv:1704.00028) with the β1 = .5 of every
# released script (the paper's text says β1 = 0) and λ = 10; the one-sided form is its
# Appendix C.
_ADAM_DCGAN = dict(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999, n_critic=1)
_ADAM_WGAN_GP = dict(optimizer="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9, n_critic=5,
                     gp_weight=10.0)

# lsgan: Mao et al. 2017 (arXiv:1611.04076) train with Adam 2e-4, β1 .5 (the DCGAN recipe).
# hinge: SN-GAN's Table 1 setting A (Miyato et al. 2018, arXiv:1802.05957), the WGAN-GP recipe
# without the penalty. dragan: Kodali et al. 2017 (arXiv:1705.07215) on the DCGAN recipe with
# λ = 10, as Lucic et al. 2018 (arXiv:1711.10337) run it.
_ADAM_SNGAN_A = dict(optimizer="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9, n_critic=5)

_ENTRIES = (
    Objective("gan", losses.minimax_discriminator_terms, losses.minimax_generator_terms,
              defaults=_ADAM_DCGAN),
    Objective("nsgan", losses.minimax_discriminator_terms, losses.nonsaturating_generator_terms,
              defaults=_ADAM_DCGAN),
    Objective("wgan", losses.wasserstein_critic_terms, losses.wasserstein_generator_terms,
              is_wasserstein=True, clips_weights=True,
              defaults=dict(optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, n_critic=5,
                            clip_value=0.01, warmup=True, **RMSPROP_FORMS["pytorch"])),
    Objective("wgan-gp", losses.wasserstein_critic_terms, losses.wasserstein_generator_terms,
              is_wasserstein=True, gradient_penalty=True, defaults=_ADAM_WGAN_GP),
    Objective("wgan-gp-onesided", losses.wasserstein_critic_terms,
              losses.wasserstein_generator_terms, is_wasserstein=True, gradient_penalty=True,
              one_sided=True, defaults=_ADAM_WGAN_GP),
    Objective("lsgan", losses.least_squares_discriminator_terms,
              losses.least_squares_generator_terms, threshold=0.5, defaults=_ADAM_DCGAN),
    Objective("hinge", losses.hinge_discriminator_terms, losses.hinge_generator_terms,
              defaults=_ADAM_SNGAN_A),
    Objective("dragan", losses.minimax_discriminator_terms, losses.nonsaturating_generator_terms,
              gradient_penalty=True, penalty_points="perturbed-real",
              defaults=dict(_ADAM_DCGAN, gp_weight=10.0)),
)

REGISTRY: Mapping[str, Objective] = types.MappingProxyType({o.name: o for o in _ENTRIES})
