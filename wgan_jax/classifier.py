"""A small digit classifier trained by the project, for offline sample-quality metrics.

`train_digit_classifier` fits a small convolutional network on the embedded 8×8 digits' training
split; `classify(params, x)` returns (logits, penultimate features) for the metrics of
`wgan_jax.image_metrics`. `load_or_train_digit_classifier` caches the parameters (flax msgpack)
so later runs skip training. Scores computed with it are only comparable with each other.
"""

from __future__ import annotations

import os
from typing import Tuple

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax


class DigitClassifier(nn.Module):
  @nn.compact
  def __call__(self, x, return_features: bool = False):
    h = nn.relu(nn.Conv(32, (3, 3))(x))
    h = nn.relu(nn.Conv(64, (3, 3), (2, 2))(h))
    h = h.reshape(h.shape[0], -1)
    feats = nn.relu(nn.Dense(128)(h))
    logits = nn.Dense(10)(feats)
    return (logits, feats) if return_features else logits


def train_digit_classifier(images: np.ndarray, labels: np.ndarray, *, steps: int = 600,
                           seed: int = 0):
  """Adam 1e-3, batch 128, random ±1-pixel shifts as augmentation; returns params."""
  model = DigitClassifier()
  key = jax.random.key(seed)
  params = model.init(key, jnp.zeros((1,) + images.shape[1:]))
  opt = optax.adam(1e-3)
  x_all, y_all = jnp.asarray(images), jnp.asarray(labels)

  def step(carry, i):
    params, state = carry
    k = jax.random.fold_in(key, i)
    idx = jax.random.randint(k, (128,), 0, x_all.shape[0])
    shift = jax.random.randint(jax.random.fold_in(k, 1), (2,), -1, 2)
    x = jnp.roll(x_all[idx], shift, axis=(1, 2))
    loss_fn = lambda p: optax.softmax_cross_entropy_with_integer_labels(
        model.apply(p, x), y_all[idx]).mean()
    grads = jax.grad(loss_fn)(params)
    updates, state = opt.update(grads, state)
    return (optax.apply_updates(params, updates), state), None

  (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, jnp.arange(steps)))(
      (params, opt.init(params)))
  return params


@jax.jit
def classify(params, x) -> Tuple[jax.Array, jax.Array]:
  """(logits [N, 10], penultimate features [N, 128]) of images [N, 8, 8, 1] in [-1, 1]."""
  return DigitClassifier().apply(params, x, return_features=True)


def accuracy(params, images, labels) -> float:
  logits, _ = classify(params, jnp.asarray(images))
  return float(np.mean(np.argmax(np.asarray(logits), 1) == np.asarray(labels)))


def load_or_train_digit_classifier(cache_dir: str | None = None):
  """The cached classifier (trained on the first call): (params, held-out accuracy)."""
  from wgan_jax.data.images import load_digits
  cache_dir = cache_dir or os.environ.get(
      "WGAN_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "wgan_jax"))
  path = os.path.join(cache_dir, "digit_classifier.msgpack")
  xt, yt, xv, yv = load_digits()
  template = DigitClassifier().init(jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
  if os.path.exists(path):
    with open(path, "rb") as f:
      params = flax.serialization.from_bytes(template, f.read())
  else:
    params = train_digit_classifier(xt, yt)
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
      f.write(flax.serialization.to_bytes(params))
    os.replace(tmp, path)
  return params, accuracy(params, xv, yv)
