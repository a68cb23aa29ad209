"""Flax linen models: toy MLPs, DCGAN, the official WGAN-GP MNIST models, the WGAN-GP ResNet
and language model, the WGAN paper's image MLP, WGAN-GP Table 1's design space, the InfoGAN pair of Lucic et al."""

from wgan_jax.models.dcgan import DCGANCritic, DCGANGenerator
from wgan_jax.models.design_space import DesignSpaceCritic, DesignSpaceGenerator
from wgan_jax.models.infogan import InfoGANCritic, InfoGANGenerator
from wgan_jax.models.mlp import MLPCritic, MLPGenerator
from wgan_jax.models.mnist import MNISTCritic, MNISTGenerator
from wgan_jax.models.resnet import ImageMLPGenerator, ResNetCritic, ResNetGenerator
from wgan_jax.models.text import TextCritic, TextGenerator, decode_tokens

__all__ = ["DCGANCritic", "DCGANGenerator", "DesignSpaceCritic", "DesignSpaceGenerator",
           "ImageMLPGenerator", "InfoGANCritic", "InfoGANGenerator", "MLPCritic", "MLPGenerator",
           "MNISTCritic", "MNISTGenerator", "ResNetCritic", "ResNetGenerator", "TextCritic",
           "TextGenerator", "decode_tokens"]
