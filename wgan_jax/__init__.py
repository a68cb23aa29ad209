"""wgan-jax: GANs and Wasserstein GANs as pure JAX functions.

The public surface: the loss pairs of the papers (minimax, −log D, Wasserstein, least squares,
hinge), the gradient penalties (WGAN-GP, DRAGAN, R1/R2), WGAN weight clipping as an optax
transform, instance noise, DiffAugment, and the training state and steps built on them.
"""

from wgan_jax.config import (OBJECTIVES, ConfigError, GANConfig, check_critic_norm,
                             get_objective, make_config)
from wgan_jax.augment import diff_augment
from wgan_jax.losses import (hinge_discriminator_loss, hinge_discriminator_terms,
                             hinge_generator_loss, hinge_generator_terms,
                             least_squares_discriminator_loss, least_squares_discriminator_terms,
                             least_squares_generator_loss, least_squares_generator_terms,
                             minimax_discriminator_loss, minimax_discriminator_terms,
                             minimax_generator_loss, minimax_generator_terms,
                             nonsaturating_generator_loss, nonsaturating_generator_terms,
                             wasserstein_critic_loss, wasserstein_critic_terms,
                             wasserstein_generator_loss, wasserstein_generator_terms)
from wgan_jax.metrics import mode_coverage, wasserstein1_exact
from wgan_jax.mixture import (MIX_OBJECTIVES, MixturePlayers, entropy_regulariser, mix_gan,
                              parse_objective)
from wgan_jax.penalties import (dragan_penalty, gradient_penalty, instance_noise, interpolate,
                                r1_penalty, r2_penalty, weight_penalty)
from wgan_jax.text_metrics import (NgramModel, bleu, in_vocabulary_share, ngram_jsd, ngram_jsds,
                                   oracle_nll)
from wgan_jax.objectives import RMSPROP_FORMS, Objective
from wgan_jax.train import (GAN, GANState, IndependentRuns, PlayerState, SinglePlayers,
                            example_keys, plan_blocks)
from wgan_jax.rng import use_unrolled_threefry
from wgan_jax.transforms import clip_params

# The CPU's threefry compiled as straight-line code: the same bits, faster (wgan_jax/rng.py).
use_unrolled_threefry()

__version__ = "0.1.0"

# Sorted (uppercase before lowercase, as `sorted` orders them); tests/test_public_api.py pins it.
__all__ = [
    "ConfigError",
    "GAN",
    "GANConfig",
    "GANState",
    "IndependentRuns",
    "MIX_OBJECTIVES",
    "MixturePlayers",
    "NgramModel",
    "OBJECTIVES",
    "Objective",
    "PlayerState",
    "RMSPROP_FORMS",
    "SinglePlayers",
    "bleu",
    "check_critic_norm",
    "clip_params",
    "diff_augment",
    "dragan_penalty",
    "entropy_regulariser",
    "example_keys",
    "get_objective",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_discriminator_terms",
    "hinge_generator_loss",
    "hinge_generator_terms",
    "in_vocabulary_share",
    "instance_noise",
    "interpolate",
    "least_squares_discriminator_loss",
    "least_squares_discriminator_terms",
    "least_squares_generator_loss",
    "least_squares_generator_terms",
    "make_config",
    "minimax_discriminator_loss",
    "minimax_discriminator_terms",
    "minimax_generator_loss",
    "minimax_generator_terms",
    "mix_gan",
    "mode_coverage",
    "ngram_jsd",
    "ngram_jsds",
    "nonsaturating_generator_loss",
    "nonsaturating_generator_terms",
    "oracle_nll",
    "parse_objective",
    "plan_blocks",
    "r1_penalty",
    "r2_penalty",
    "use_unrolled_threefry",
    "wasserstein1_exact",
    "wasserstein_critic_loss",
    "wasserstein_critic_terms",
    "wasserstein_generator_loss",
    "wasserstein_generator_terms",
    "weight_penalty",
]
