"""The WGAN-GP CIFAR-10 ResNet generator and critic (Gulrajani et al. 2017, appendix F).

From the official `gan_cifar_resnet.py`, sized by the image shape:

- Generator: z → Dense to (h/2^k, w/2^k, dim) → k residual "up" blocks (BatchNorm, ReLU,
  nearest-neighbour upsample + 3×3 conv, BatchNorm, ReLU, 3×3 conv; shortcut: upsample + 1×1
  conv) → BatchNorm, ReLU, 3×3 conv to C maps → tanh.
- Critic: an optimised first block (3×3 conv, ReLU, 3×3 conv, 2×2 mean-pool; shortcut: mean-pool
  + 1×1 conv), k − 1 residual "down" blocks, two plain residual blocks, ReLU, global mean-pool,
  Dense 1. No normalisation by default (a gradient penalty needs per-example gradients);
  `norm="layer"` adds LayerNorm before each ReLU.

k is the number of resolution stages (`resnet_stages`: 3 for 32×32 as in the paper, 1 for 8×8).
"""

from __future__ import annotations

from typing import Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from wgan_jax.models.conv import Conv
from wgan_jax.models.dcgan import stages_for
from wgan_jax.models.mlp import MLPGenerator

_he = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")  # the official He init
_glorot = nn.initializers.xavier_uniform()


def resnet_stages(shape) -> int:
  """Resolution stages: the largest k ≤ 3 with both sides divisible by 2^k and at least 4 at
  the coarsest scale (32×32 → 3 from 4×4 as the paper; 28×28 → 2 from 7×7; 8×8 → 1)."""
  h, w = shape
  for k in (3, 2, 1):
    if h % 2 ** k == 0 and w % 2 ** k == 0 and min(h, w) // 2 ** k >= 4:
      return k
  return stages_for(shape)


def _upsample(x):
  return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def _meanpool(x):
  return nn.avg_pool(x, (2, 2), (2, 2))


def _norm(kind: str, train: bool, axis_name: Optional[str]):
  if kind == "batch":
    return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                        axis_name=axis_name if train else None)
  if kind == "layer":
    return nn.LayerNorm()
  return lambda x: x


class _GenBlock(nn.Module):
  dim: int
  norm: str
  axis_name: Optional[str]
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x, train: bool):
    shortcut = Conv(self.dim, (1, 1), kernel_init=_glorot, impl=self.conv_impl)(_upsample(x))
    h = nn.relu(_norm(self.norm, train, self.axis_name)(x))
    h = Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(_upsample(h))
    h = nn.relu(_norm(self.norm, train, self.axis_name)(h))
    h = Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(h)
    return shortcut + h


class _CriticBlock(nn.Module):
  dim: int
  norm: str
  resample: Optional[str]  # "down" or None
  first: bool = False
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x, train: bool):
    pool = _meanpool if self.resample == "down" else (lambda t: t)
    if self.first:  # the "optimized" first block: no activation before the first conv
      shortcut = Conv(self.dim, (1, 1), kernel_init=_glorot, impl=self.conv_impl)(pool(x))
      h = Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(x)
      h = nn.relu(_norm(self.norm, train, None)(h))
      h = pool(Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(h))
      return shortcut + h
    shortcut = x if self.resample is None and x.shape[-1] == self.dim else \
        pool(Conv(self.dim, (1, 1), kernel_init=_glorot, impl=self.conv_impl)(x))
    h = nn.relu(_norm(self.norm, train, None)(x))
    h = Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(h)
    h = nn.relu(_norm(self.norm, train, None)(h))
    h = pool(Conv(self.dim, (3, 3), kernel_init=_he, impl=self.conv_impl)(h))
    return shortcut + h


class ResNetGenerator(nn.Module):
  """z [B, latent] → images [B, H, W, C] in [-1, 1]."""
  image_shape: Tuple[int, int, int] = (32, 32, 3)
  dim: int = 128
  norm: str = "batch"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"  # see wgan_jax.models.conv

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    k = resnet_stages((h, w))
    x = nn.Dense((h // 2 ** k) * (w // 2 ** k) * self.dim, kernel_init=_glorot)(z)
    x = x.reshape(z.shape[0], h // 2 ** k, w // 2 ** k, self.dim)
    for _ in range(k):
      x = _GenBlock(self.dim, self.norm, self.axis_name, self.conv_impl)(x, train)
    x = nn.relu(_norm(self.norm, train, self.axis_name)(x))
    return jnp.tanh(Conv(c, (3, 3), kernel_init=_he, impl=self.conv_impl)(x))


class ResNetCritic(nn.Module):
  """images [B, H, W, C] → scores [B]."""
  dim: int = 128
  norm: str = "none"
  axis_name: Optional[str] = None  # unused (no BatchNorm); kept so `shard_gan` can bind it
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.norm == "batch":
      raise ValueError("ResNetCritic supports norm 'none' or 'layer' (it is trained with a "
                       "gradient penalty, which BatchNorm breaks)")
    k = resnet_stages(x.shape[1:3])
    x = _CriticBlock(self.dim, self.norm, "down", True, self.conv_impl)(x, train)
    for _ in range(k - 1):
      x = _CriticBlock(self.dim, self.norm, "down", False, self.conv_impl)(x, train)
    for _ in range(2):
      x = _CriticBlock(self.dim, self.norm, None, False, self.conv_impl)(x, train)
    x = jnp.mean(nn.relu(x), axis=(1, 2))
    return nn.Dense(1, kernel_init=_glorot)(x)[:, 0]


class ImageMLPGenerator(nn.Module):
  """The WGAN paper's MLP generator on images: z → `depth` × (Dense `width` + ReLU) → Dense
  H·W·C, reshaped, with no output nonlinearity (as the official `MLP_G`; see docs/experiments.md)."""
  image_shape: Tuple[int, int, int] = (64, 64, 3)
  width: int = 512
  depth: int = 3
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    x = MLPGenerator(out_dim=h * w * c, width=self.width, depth=self.depth)(z, train)
    return x.reshape(z.shape[0], h, w, c)


def count_params(params) -> int:
  return sum(int(p.size) for p in jax.tree_util.tree_leaves(params))
