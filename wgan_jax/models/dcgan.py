"""DCGAN generator and critic, sized by the image shape (official WGAN-GP MNIST/CIFAR code).

Generator: z → Dense to (h/2^k, w/2^k, 4·dim) [+ BatchNorm] + ReLU → k transposed 5×5 stride-2
convolutions halving the channels ([+ BatchNorm] + ReLU between) → `channels` maps → tanh (data
in [-1, 1]). Critic: k 5×5 stride-2 convolutions (dim, 2·dim, 4·dim) with LeakyReLU(0.2) and an
optional normalisation → Dense 1. `norm="batch"` in the critic is what DCGAN/WGAN use; a critic
trained with a gradient penalty must use "layer" (the WGAN-GP paper's suggestion) or "none".
The number of stride-2 stages k is the largest ≤ 3 that divides both image sides. Convolutions
run as patches + matmul on the CPU (`conv_impl`, see `wgan_jax.models.conv`).
"""

from __future__ import annotations

from typing import Optional, Tuple

import flax.linen as nn
import jax.numpy as jnp

from wgan_jax.models.conditional import ConditionalBatchNorm, critic_head, with_class
from wgan_jax.errors import ConfigError
from wgan_jax.models.conv import Conv, ConvTranspose

_conv_init = nn.initializers.normal(0.02)


def stages_for(shape: Tuple[int, int], stages: Optional[int] = None) -> int:
  """The number of stride-2 stages between an H × W image and the coarsest scale: `stages`
  when given (H and W must divide by 2^stages), else the most of 3, 2, 1 that divide both
  sides (the official WGAN-GP DCGAN's 3 at 32×32; 2 at 28×28)."""
  h, w = shape
  if stages is not None:
    if stages < 1 or h % 2 ** stages or w % 2 ** stages:
      raise ConfigError("stages", f"{stages} stride-2 stages need image sides divisible by "
                        f"{2 ** max(stages, 0)}, got {h}×{w}")
    return stages
  for k in (3, 2, 1):
    if h % 2 ** k == 0 and w % 2 ** k == 0 and h // 2 ** k >= 1 and w // 2 ** k >= 1:
      return k
  raise ValueError(f"image sides must be even, got {h}×{w}")


def _norm(kind: str, train: bool, axis_name: Optional[str]):
  if kind == "batch":
    return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                        axis_name=axis_name if train else None)
  if kind == "layer":
    return nn.LayerNorm()
  return lambda x: x


class DCGANGenerator(nn.Module):
  image_shape: Tuple[int, int, int] = (32, 32, 3)   # H, W, C
  dim: int = 64
  norm: str = "batch"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"  # "patches" (fast on CPU), "xla", or auto: see wgan_jax.models.conv
  # True: `dim` channels at every scale instead of doubling them towards the coarse end (the
  # WGAN paper's Fig 6 generator: "constant number of filters at every layer").
  constant_filters: bool = False
  # > 0: (z, labels) → x, the class one-hot concatenated to z and, with norm="batch",
  # conditional BatchNorm (wgan_jax.models.conditional).
  num_classes: int = 0
  # The number of upsampling stages (None: `stages_for`'s default, at most 3); 4 at 64×64 is
  # the official WGAN code's DCGAN_G (4×4 → 64×64, 8·dim channels at the coarsest scale).
  stages: Optional[int] = None

  def _normalise(self, x, labels, train):
    if self.num_classes and self.norm == "batch":
      return ConditionalBatchNorm(self.num_classes, axis_name=self.axis_name)(x, labels, train)
    return _norm(self.norm, train, self.axis_name)(x)

  @nn.compact
  def __call__(self, z, train: bool = True, labels=None):
    h, w, c = self.image_shape
    k = stages_for((h, w), self.stages)
    width = lambda i: self.dim if self.constant_filters else self.dim * 2 ** i
    z = with_class(z, labels, self.num_classes)
    # 4·dim channels at the coarsest scale for k = 3 (then 2·dim, dim, C), as the official code.
    x = nn.Dense((h // 2 ** k) * (w // 2 ** k) * width(k - 1), kernel_init=_conv_init)(z)
    x = x.reshape(z.shape[0], h // 2 ** k, w // 2 ** k, -1)
    x = nn.relu(self._normalise(x, labels, train))
    for i in range(k - 1, 0, -1):
      x = ConvTranspose(width(i - 1), (5, 5), (2, 2), kernel_init=_conv_init,
                        impl=self.conv_impl)(x)
      x = nn.relu(self._normalise(x, labels, train))
    x = ConvTranspose(c, (5, 5), (2, 2), kernel_init=_conv_init, impl=self.conv_impl)(x)
    return jnp.tanh(x)


class DCGANCritic(nn.Module):
  """x [B, H, W, C] → scores [B]; with `num_classes` > 0, (x, labels) → scores through a
  projection head, or (scores, class logits) with `head="ac"`."""
  dim: int = 64
  norm: str = "none"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"
  num_classes: int = 0
  head: str = "projection"
  # The number of stride-2 convolutions (None: `stages_for`'s default, at most 3); 4 at 64×64
  # is the official WGAN code's DCGAN_D (64×64 → 4×4, 8·dim channels).
  stages: Optional[int] = None

  @nn.compact
  def __call__(self, x, train: bool = True, labels=None):
    k = stages_for(x.shape[1:3], self.stages)
    for i in range(k):
      x = Conv(self.dim * 2 ** i, (5, 5), (2, 2), kernel_init=_conv_init,
               impl=self.conv_impl)(x)
      if i > 0:
        x = _norm(self.norm, train, self.axis_name)(x)
      x = nn.leaky_relu(x, 0.2)
    return critic_head(x.reshape(x.shape[0], -1), labels, self.num_classes, self.head,
                       score_init=_conv_init)
