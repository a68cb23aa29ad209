"""Flax linen models."""

from wgan_jax.models.mlp import MLPCritic, MLPGenerator

__all__ = ["MLPCritic", "MLPGenerator"]
