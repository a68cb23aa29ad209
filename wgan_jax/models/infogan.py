"""The InfoGAN generator and discriminator for 28×28 images, the one architecture of Lucic et
al.'s "Are GANs Created Equal?" study on MNIST and Fashion-MNIST.

Generator: z → Dense `hidden` [+ BN] → ReLU → Dense 7·7·2·dim [+ BN] → ReLU → reshape
[7, 7, 2·dim] → 4×4 stride-2 transposed convolution to dim at 14×14 [+ BN] → ReLU → 4×4
stride-2 transposed convolution to C channels at 28×28 → tanh.
Critic: 4×4 stride-2 convolution to dim (14×14) → LeakyReLU(0.2) → 4×4 stride-2 convolution
to 2·dim (7×7) [+ norm] → LeakyReLU → Dense `hidden` [+ norm] → LeakyReLU → Dense 1.

At dim = 64, hidden = 1024 this is the network of Chen et al. (2016, InfoGAN, App. C.1) that
Lucic et al. (2018, Table 4 of the appendix) use for every model. Their generator ends in a
sigmoid on data in [0, 1]; this project scales images to [-1, 1], so it ends in tanh. The
critic's normalisation is "batch" for the unpenalised games and must be "none" or "layer"
under a gradient penalty (the per-example penalty is not defined through batch statistics),
as `DCGANCritic`.

References: Chen et al., "InfoGAN", NeurIPS 2016; Lucic et al., "Are GANs Created Equal? A
Large-Scale Study", NeurIPS 2018.
"""

from __future__ import annotations

from typing import Optional, Tuple

import flax.linen as nn
import jax.numpy as jnp

from wgan_jax.models.conv import Conv, ConvTranspose
from wgan_jax.models.dcgan import _norm
from wgan_jax.errors import ConfigError

NORMS = ("none", "batch", "layer")


def _check(module) -> None:
  name = type(module).__name__
  if module.norm not in NORMS:
    raise ConfigError("norm", f"must be one of {list(NORMS)}, got {module.norm!r}")
  for field in ("dim", "hidden"):
    v = getattr(module, field)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
      raise ValueError(f"{field}: {name} needs a positive integer, got {v!r}")


class InfoGANGenerator(nn.Module):
  """z [B, latent] → images [B, 28, 28, C] in [-1, 1].

  Attributes:
    image_shape: (28, 28, C): two stride-2 stages from 7×7.
    dim: channels at 14×14 (64 in InfoGAN); 2·dim at 7×7.
    hidden: the first Dense layer's width (1024 in InfoGAN).
    norm: "batch" (InfoGAN) or "none" / "layer".
    axis_name: the device axis of BatchNorm's statistics under pmap.
    conv_impl: see `wgan_jax.models.conv`.
  """
  image_shape: Tuple[int, int, int] = (28, 28, 1)
  dim: int = 64
  hidden: int = 1024
  norm: str = "batch"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  def __post_init__(self):
    _check(self)
    if tuple(self.image_shape[:2]) != (28, 28):
      raise ConfigError("image_shape", "InfoGANGenerator makes 28×28 images, got "
                       f"{tuple(self.image_shape)}")
    super().__post_init__()

  @nn.compact
  def __call__(self, z, train: bool = True):
    norm = lambda x: _norm(self.norm, train, self.axis_name)(x)
    x = nn.relu(norm(nn.Dense(self.hidden)(z)))
    x = nn.relu(norm(nn.Dense(7 * 7 * 2 * self.dim)(x)))
    x = x.reshape(z.shape[0], 7, 7, 2 * self.dim)
    x = nn.relu(norm(ConvTranspose(self.dim, (4, 4), (2, 2), impl=self.conv_impl)(x)))
    x = ConvTranspose(self.image_shape[2], (4, 4), (2, 2), impl=self.conv_impl)(x)
    return jnp.tanh(x)


class InfoGANCritic(nn.Module):
  """x [B, 28, 28, C] → scores [B].

  Attributes:
    dim, hidden: as `InfoGANGenerator` (channels dim, 2·dim; a Dense of `hidden`).
    norm: after the second convolution and the hidden Dense: "batch" (InfoGAN), "none" or
      "layer" (under a gradient penalty).
    axis_name, conv_impl: as `InfoGANGenerator`.
  """
  dim: int = 64
  hidden: int = 1024
  norm: str = "batch"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  def __post_init__(self):
    _check(self)
    super().__post_init__()

  @nn.compact
  def __call__(self, x, train: bool = True):
    if x.ndim != 4 or tuple(x.shape[1:3]) != (28, 28):
      raise ConfigError("x", f"InfoGANCritic takes images [B, 28, 28, C], got shape "
                       f"{tuple(x.shape)}")
    norm = lambda h: _norm(self.norm, train, self.axis_name)(h)
    x = nn.leaky_relu(Conv(self.dim, (4, 4), (2, 2), impl=self.conv_impl)(x), 0.2)
    x = nn.leaky_relu(norm(Conv(2 * self.dim, (4, 4), (2, 2), impl=self.conv_impl)(x)), 0.2)
    x = nn.leaky_relu(norm(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1))), 0.2)
    return nn.Dense(1)(x)[:, 0]
