"""The MLPs of the official WGAN-GP toy code (gan_toy.py).

G: z ∈ R^{latent} → depth × (Dense width + ReLU) → Dense out_dim.
Critic: x → depth × (Dense width + ReLU) → Dense 1 (one score per example).
Hidden layers use He-uniform init and the output layer Glorot-uniform, biases 0, as in the
official code. `axis_name` makes BatchNorm average its statistics over a device axis (set by
`wgan_jax.parallel`). `norm` inserts a normalisation after each hidden Dense: "none" (the default),
"layer" (LayerNorm, safe with a gradient penalty) or "batch" (BatchNorm, which mixes the
examples of a batch and therefore is refused for critics trained with a gradient penalty).
"""

from __future__ import annotations

from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from wgan_jax.models.conditional import critic_head, with_class

NORMS = ("none", "layer", "batch")

_he_uniform = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")
_glorot_uniform = nn.initializers.xavier_uniform()


class _MLPBody(nn.Module):
  width: int
  depth: int
  norm: str
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, x, train: bool):
    for _ in range(self.depth):
      x = nn.Dense(self.width, kernel_init=_he_uniform)(x)
      if self.norm == "layer":
        x = nn.LayerNorm()(x)
      elif self.norm == "batch":
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                         axis_name=self.axis_name if train else None)(x)
      x = nn.relu(x)
    return x


class MLPGenerator(nn.Module):
  """z → x. `latent_dim` is read from the input's last axis; `out_dim` sets x's size.

  With `num_classes` > 0, (z, labels) → x: one_hot(labels) is concatenated to z.
  """
  out_dim: int = 2
  width: int = 512
  depth: int = 3
  norm: str = "none"
  axis_name: Optional[str] = None  # BatchNorm statistics synchronised over this device axis
  num_classes: int = 0

  @nn.compact
  def __call__(self, z, train: bool = True, labels=None):
    z = with_class(z, labels, self.num_classes)
    h = _MLPBody(self.width, self.depth, self.norm, self.axis_name)(z, train)
    return nn.Dense(self.out_dim, kernel_init=_glorot_uniform)(h)


class MLPCritic(nn.Module):
  """x [B, ...] → scores [B] (a discriminator's logits or a critic's values).

  With `num_classes` > 0, (x, labels) → scores through a projection head, or (scores, class
  logits) with `head="ac"` (`wgan_jax.models.conditional`).
  """
  width: int = 512
  depth: int = 3
  norm: str = "none"
  axis_name: Optional[str] = None
  num_classes: int = 0
  head: str = "projection"

  @nn.compact
  def __call__(self, x, train: bool = True, labels=None):
    x = jnp.reshape(x, (x.shape[0], -1))
    h = _MLPBody(self.width, self.depth, self.norm, self.axis_name)(x, train)
    return critic_head(h, labels, self.num_classes, self.head, score_init=_glorot_uniform)
