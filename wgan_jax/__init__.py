"""wgan-jax: GANs and Wasserstein GANs as pure JAX functions.

The public surface: the loss pairs of the papers, the gradient penalty, WGAN weight clipping as
an optax transform, instance noise, and the training state and steps built on them.
"""

from wgan_jax.config import OBJECTIVES, ConfigError, GANConfig, make_config
from wgan_jax.losses import (minimax_discriminator_loss, minimax_generator_loss,
                             nonsaturating_generator_loss, wasserstein_critic_loss,
                             wasserstein_generator_loss)
from wgan_jax.metrics import mode_coverage, wasserstein1_exact
from wgan_jax.mixture import MIX_OBJECTIVES, MixtureGAN, entropy_regulariser, parse_objective
from wgan_jax.penalties import (gradient_penalty, instance_noise, interpolate,
                                weight_penalty)
from wgan_jax.text_metrics import (NgramModel, bleu, in_vocabulary_share, ngram_jsd, ngram_jsds,
                                   oracle_nll)
from wgan_jax.train import (GAN, GANState, IndependentRuns, PlayerState, example_keys,
                            plan_blocks)
from wgan_jax.transforms import clip_params

__version__ = "0.1.0"

__all__ = sorted([
    "ConfigError",
    "GAN",
    "GANConfig",
    "GANState",
    "IndependentRuns",
    "OBJECTIVES",
    "PlayerState",
    "clip_params",
    "example_keys",
    "gradient_penalty",
    "instance_noise",
    "interpolate",
    "make_config",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "mode_coverage",
    "MIX_OBJECTIVES",
    "MixtureGAN",
    "entropy_regulariser",
    "parse_objective",
    "NgramModel",
    "bleu",
    "in_vocabulary_share",
    "ngram_jsd",
    "ngram_jsds",
    "oracle_nll",
    "nonsaturating_generator_loss",
    "plan_blocks",
    "wasserstein1_exact",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "weight_penalty",
])
