"""The random-architecture design space of WGAN-GP's Table 1 (Gulrajani et al. 2017,
arXiv:1704.00028, §5.2 and Appendix B), for 28×28×1 images.

Table 1 varies, independently for G and D: the nonlinearity (ReLU, LeakyReLU, softplus(2x+2)/2 −
1, tanh), the depth, batch normalisation (layer normalisation in a penalised critic) and the
base filter count. Here both networks are DCGAN-shaped with two stride-2 stages (7 → 14 → 28):

  generator: z → Dense 7·7·2f [+ norm] + act → 5×5 stride-2 transposed conv to f at 14×14
             [+ norm] + act → (depth − 3) × (3×3 conv f → f at 14×14 [+ norm] + act)
             → 5×5 stride-2 transposed conv to 1 channel at 28×28 → tanh (data in [−1, 1])
  critic:    5×5 stride-2 conv to f at 14×14 + act → (depth − 3) × (3×3 conv [+ norm] + act)
             → 5×5 stride-2 conv to 2f at 7×7 [+ norm] + act → Dense 1

so `depth` counts the layers with weights (≥ 3). The paper's depths (4 to 20) and filter counts
(32 to 128) are CPU-scaled by the figure that samples them (`experiments.figures.random_archs`).
"""

from __future__ import annotations

from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from wgan_jax.models.conv import Conv, ConvTranspose
from wgan_jax.models.dcgan import _conv_init, _norm
from wgan_jax.errors import ConfigError

NONLINEARITIES = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, 0.2),
    "softplus": lambda x: nn.softplus(2 * x + 2) / 2 - 1,   # WGAN-GP App. D's smooth ELU
    "tanh": jnp.tanh,
}


def _check(depth: int, nonlinearity: str):
  if nonlinearity not in NONLINEARITIES:
    raise ConfigError("nonlinearity", f"must be one of {list(NONLINEARITIES)}, got "
                     f"{nonlinearity!r}")
  if isinstance(depth, bool) or not isinstance(depth, int) or depth < 3:
    raise ConfigError("depth", f"must be an integer ≥ 3 (the layers with weights), got {depth!r}")


class DesignSpaceGenerator(nn.Module):
  """z [B, Z] → images [B, 28, 28, 1] in [−1, 1]."""
  depth: int = 3
  nonlinearity: str = "relu"
  norm: str = "batch"          # "batch" or "none"
  filters: int = 16
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, z, train: bool = True):
    _check(self.depth, self.nonlinearity)
    act = NONLINEARITIES[self.nonlinearity]
    norm = lambda x: _norm(self.norm, train, self.axis_name)(x)
    f = self.filters
    x = nn.Dense(7 * 7 * 2 * f, kernel_init=_conv_init)(z).reshape(z.shape[0], 7, 7, 2 * f)
    x = act(norm(x))
    x = act(norm(ConvTranspose(f, (5, 5), (2, 2), kernel_init=_conv_init,
                               impl=self.conv_impl)(x)))
    for _ in range(self.depth - 3):
      x = act(norm(Conv(f, (3, 3), (1, 1), kernel_init=_conv_init, impl=self.conv_impl)(x)))
    x = ConvTranspose(1, (5, 5), (2, 2), kernel_init=_conv_init, impl=self.conv_impl)(x)
    return jnp.tanh(x)


class DesignSpaceCritic(nn.Module):
  """x [B, 28, 28, 1] → scores [B]."""
  depth: int = 3
  nonlinearity: str = "leaky_relu"
  norm: str = "none"           # "batch" (GAN), "layer" (with a gradient penalty) or "none"
  filters: int = 16
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x, train: bool = True):
    _check(self.depth, self.nonlinearity)
    act = NONLINEARITIES[self.nonlinearity]
    norm = lambda v: _norm(self.norm, train, self.axis_name)(v)
    f = self.filters
    x = act(Conv(f, (5, 5), (2, 2), kernel_init=_conv_init, impl=self.conv_impl)(x))
    for _ in range(self.depth - 3):
      x = act(norm(Conv(f, (3, 3), (1, 1), kernel_init=_conv_init, impl=self.conv_impl)(x)))
    x = act(norm(Conv(2 * f, (5, 5), (2, 2), kernel_init=_conv_init, impl=self.conv_impl)(x)))
    return nn.Dense(1, kernel_init=_conv_init)(x.reshape(x.shape[0], -1))[:, 0]
