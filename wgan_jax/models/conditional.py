"""The pieces of class-conditional models: the generator's class input and conditional
BatchNorm, the projection critic's and AC-GAN's heads.

- Generator: the class enters as a one-hot vector concatenated to z (Mirza & Osindero 2014;
  AC-GAN's generator, Odena et al. 2017), and, where the generator has BatchNorm, through
  conditional BatchNorm: BN without its own scale and shift, then a per-class γ_y (initialised
  to 1) and β_y (initialised to 0) (de Vries et al. 2017; Miyato & Koyama 2018, §4).
- Critic, `head="projection"`: f(x, y) = ψ(φ(x)) + e_yᵀ φ(x), with φ(x) the critic's last
  hidden features and e_y a learned class embedding (Miyato & Koyama 2018, eq. 3).
- Critic, `head="ac"`: (ψ(φ(x)), W φ(x)): the unconditional score and the logits of an
  auxiliary classifier over the classes (AC-GAN, Odena et al. 2017, §3), used with
  `GANConfig.ac_weight`.

These functions are called from inside a module's `nn.compact` method, so the layers they make
belong to that module.

References:
  Odena, Olah & Shlens, "Conditional Image Synthesis with Auxiliary Classifier GANs", ICML
  2017, arXiv:1610.09585; Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018,
  arXiv:1802.05637; de Vries et al., "Modulating early visual processing by language", NeurIPS
  2017, arXiv:1707.00683.
"""

from __future__ import annotations

from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from wgan_jax.errors import ConfigError

HEADS = ("projection", "ac")


def check_labels(num_classes: int, labels, field: str = "labels") -> None:
  if num_classes and labels is None:
    raise ConfigError(field, f"this model is class-conditional (num_classes = {num_classes}): "
                      "call it with labels [B]")
  if not num_classes and labels is not None:
    raise ConfigError(field, "this model is not class-conditional (num_classes = 0)")


def with_class(z: jax.Array, labels, num_classes: int) -> jax.Array:
  """z, with one_hot(labels) concatenated when the model is conditional."""
  check_labels(num_classes, labels)
  if not num_classes:
    return z
  return jnp.concatenate([z, jax.nn.one_hot(labels, num_classes, dtype=z.dtype)], axis=-1)


class ConditionalBatchNorm(nn.Module):
  """BN(x) · γ_y + β_y, with γ_y, β_y learned per class (channels-last x)."""
  num_classes: int
  momentum: float = 0.9
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, x, labels, train: bool):
    x = nn.BatchNorm(use_running_average=not train, momentum=self.momentum, use_scale=False,
                     use_bias=False, axis_name=self.axis_name if train else None)(x)
    ch = x.shape[-1]
    gamma = nn.Embed(self.num_classes, ch, embedding_init=nn.initializers.ones, name="gamma")(
        labels)
    beta = nn.Embed(self.num_classes, ch, embedding_init=nn.initializers.zeros, name="beta")(
        labels)
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (ch,)
    return x * gamma.reshape(shape) + beta.reshape(shape)


def critic_head(h: jax.Array, labels, num_classes: int, head: str, score_init=None):
  """The critic's output from its features h [B, F]: scores [B] (projection or unconditional),
  or (scores, class logits [B, C]) for the AC head."""
  check_labels(num_classes, labels)
  kw = {} if score_init is None else dict(kernel_init=score_init)
  score = nn.Dense(1, **kw)(h)[:, 0]
  if not num_classes:
    return score
  if head == "projection":
    embed = nn.Embed(num_classes, h.shape[-1], name="class_embedding")(labels)
    return score + jnp.sum(embed * h, axis=-1)
  if head == "ac":
    return score, nn.Dense(num_classes, name="classifier")(h)
  raise ConfigError("head", f"unknown critic head {head!r}; choose one of {list(HEADS)}")
