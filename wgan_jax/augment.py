"""DiffAugment: differentiable augmentations of the critic's inputs, real and generated alike.

Zhao et al. (2020) augment every image the discriminator sees, real and generated, with the
same family of random, differentiable transformations, so that the discriminator cannot
memorise the training set and the generator still receives gradients through the transform.
The three policies of their code, per example (an image [H, W, C], values in [-1, 1]):

  color        brightness x + (r − ½), saturation (x − x̄_c)·2r + x̄_c, contrast
               (x − x̄)·(r + ½) + x̄, each with its own r ~ U[0, 1);
  translation  a shift by integers in [−H/8, H/8] × [−W/8, W/8], zero-filled;
  cutout       a zeroed square of half the image's side, centred uniformly.

Each example draws from its own key, so the augmentation of an example does not depend on the
batch (sharded steps draw what one device draws). The gradient penalty's interpolates are
taken between the augmented real and augmented generated examples, so the penalised critic is
the one that plays.

References:
  Zhao, Liu, Lin, Zhu & Han, "Differentiable Augmentation for Data-Efficient GAN Training",
  NeurIPS 2020, arXiv:2006.10738, §3 and its released DiffAugment code.
"""

from __future__ import annotations

from typing import Tuple

import jax
import jax.numpy as jnp

from wgan_jax.errors import ConfigError

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str, *, field: str = "policy") -> Tuple[str, ...]:
  """"color,translation" -> ("color", "translation"); "" -> ().

  Raises:
    ConfigError: naming `field`, for an unknown or repeated name.
  """
  if not isinstance(policy, str):
    raise ConfigError(field, f"must be a comma-separated string of {list(POLICIES)}, got "
                      f"{policy!r}")
  names = tuple(p.strip() for p in policy.split(",") if p.strip())
  for n in names:
    if n not in POLICIES:
      raise ConfigError(field, f"unknown augmentation {n!r}; choose from {list(POLICIES)}")
  if len(set(names)) != len(names):
    raise ConfigError(field, f"names an augmentation twice: {policy!r}")
  return names


def _color(x, key):
  kb, ks, kc = jax.random.split(key, 3)
  x = x + (jax.random.uniform(kb, ()) - 0.5)
  mean_c = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean_c) * (jax.random.uniform(ks, ()) * 2.0) + mean_c
  mean = jnp.mean(x)
  return (x - mean) * (jax.random.uniform(kc, ()) + 0.5) + mean


def _shift(x, axis, offset):
  n = x.shape[axis]
  idx = jnp.arange(n) + offset
  valid = (idx >= 0) & (idx < n)
  moved = jnp.take(x, jnp.clip(idx, 0, n - 1), axis=axis)
  shape = [1] * x.ndim
  shape[axis] = n
  return moved * valid.reshape(shape).astype(x.dtype)


def _translation(x, key, ratio=0.125):
  h, w = x.shape[0], x.shape[1]
  sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  kh, kw = jax.random.split(key)
  x = _shift(x, 0, jax.random.randint(kh, (), -sh, sh + 1))
  return _shift(x, 1, jax.random.randint(kw, (), -sw, sw + 1))


def _cutout(x, key, ratio=0.5):
  h, w = x.shape[0], x.shape[1]
  ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  kh, kw = jax.random.split(key)
  oh = jax.random.randint(kh, (), 0, h + (1 - ch % 2)) - ch // 2
  ow = jax.random.randint(kw, (), 0, w + (1 - cw % 2)) - cw // 2
  rows = (jnp.arange(h) >= oh) & (jnp.arange(h) < oh + ch)
  cols = (jnp.arange(w) >= ow) & (jnp.arange(w) < ow + cw)
  keep = ~(rows[:, None] & cols[None, :])
  return x * keep[:, :, None].astype(x.dtype)


_FNS = dict(color=_color, translation=_translation, cutout=_cutout)


def diff_augment(x: jax.Array, key: jax.Array, policy: str) -> jax.Array:
  """One example x [H, W, C] augmented by `policy` (e.g. "color,translation,cutout").

  Differentiable in x; each named transformation draws from its own fold of `key`.

  Raises:
    ConfigError: naming `policy` for an unknown name, `x` unless it is an image [H, W, C].
  """
  names = parse_policy(policy)
  if names and jnp.ndim(x) != 3:
    raise ConfigError("x", "DiffAugment transforms images [H, W, C]; got an example of shape "
                      f"{tuple(jnp.shape(x))} (use it on image data only)")
  for i, name in enumerate(names):
    x = _FNS[name](x, jax.random.fold_in(key, i))
  return x


def diff_augment_batch(xs: jax.Array, keys: jax.Array, policy: str) -> jax.Array:
  """`diff_augment` over a batch [B, H, W, C], one key per example [B]."""
  if not parse_policy(policy):
    return xs
  return jax.vmap(lambda x, k: diff_augment(x, k, policy))(xs, keys)
