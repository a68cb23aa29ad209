"""Flax linen models."""

from wgan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from wgan_jax.models.mlp import MLPCritic, MLPGenerator

__all__ = ["DCGANCritic", "DCGANGenerator", "MLPCritic", "MLPGenerator"]
