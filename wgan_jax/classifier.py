"""Small classifiers trained by the project, for offline sample-quality metrics.

One convolutional network, `ConvClassifier`, described with its training by a `ClassifierRecipe`:
`DIGITS` (the embedded 8×8 digits) and `FASHION_MNIST` (28×28 Fashion-MNIST from Debian's
package, `wgan_jax.data.idx`). `train_classifier(recipe, images, labels, key)` fits one;
`classify(params, x, recipe)` returns (logits, penultimate features) for the metrics of
`wgan_jax.image_metrics`; `load_or_train_classifier` trains on the first call and caches the
parameters (flax msgpack) so later runs skip training. Scores computed with these classifiers are
only comparable with each other, not with Inception-based ones.

The digit functions (`train_digit_classifier`, `load_or_train_digit_classifier`, `classify` with
its default recipe) keep their original behaviour and cache file.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
import warnings
from typing import Callable, Dict, Optional, Tuple

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wgan_jax.data.idx import load_fashion_mnist
from wgan_jax.data.images import load_digits
from wgan_jax.models.conv import Conv
from wgan_jax.errors import ConfigError


class ConvClassifier(nn.Module):
  """Convolutions (features, kernel, stride), "SAME" padding, with ReLU, then Dense(hidden) +
  ReLU (the features), then Dense(classes) (the logits). Defaults: the digit classifier.

  `conv_impl`: "flax" (`flax.linen.Conv`) or one of `wgan_jax.models.conv.IMPLS` (the same
  function and parameters; "auto" avoids XLA:CPU's slow convolution gradients inside
  `lax.scan`, which made training ~10× slower here)."""
  convs: Tuple[Tuple[int, int, int], ...] = ((32, 3, 1), (64, 3, 2))
  hidden: int = 128
  classes: int = 10
  conv_impl: str = "flax"

  @nn.compact
  def __call__(self, x, return_features: bool = False):
    h = x
    for features, kernel, stride in self.convs:
      conv = (nn.Conv(features, (kernel, kernel), (stride, stride)) if self.conv_impl == "flax"
              else Conv(features, (kernel, kernel), (stride, stride), impl=self.conv_impl))
      h = nn.relu(conv(h))
    h = h.reshape(h.shape[0], -1)
    feats = nn.relu(nn.Dense(self.hidden)(h))
    logits = nn.Dense(self.classes)(feats)
    return (logits, feats) if return_features else logits


DigitClassifier = ConvClassifier  # the digit classifier is the default configuration


@dataclasses.dataclass(frozen=True)
class ClassifierRecipe:
  """A classifier and its training: all of it (except `name`) enters the cache key.

  Training: Adam(`lr`), `steps` steps of `batch` examples drawn with replacement, each batch
  rolled by a random shift in [−max_shift, max_shift]² pixels (and, with `flip`, mirrored left
  to right with probability ½), all from the key given to `train_classifier`.
  """
  name: str
  image_shape: Tuple[int, int, int]
  convs: Tuple[Tuple[int, int, int], ...]
  hidden: int = 128
  classes: int = 10
  steps: int = 600
  batch: int = 128
  lr: float = 1e-3
  max_shift: int = 1
  flip: bool = False
  seed: int = 0
  conv_impl: str = "flax"

  def model(self) -> ConvClassifier:
    return ConvClassifier(self.convs, self.hidden, self.classes, self.conv_impl)

  def key_dict(self) -> Dict:
    d = dataclasses.asdict(self)
    d.pop("name")
    return json.loads(json.dumps(d))  # tuples -> lists, as stored


DIGITS = ClassifierRecipe("digit", (8, 8, 1), ((32, 3, 1), (64, 3, 2)), steps=600)
# Fashion-MNIST: two 5×5 stride-2 convolutions (28 → 14 → 7), 6.4 epochs of the 60,000 images.
FASHION_MNIST = ClassifierRecipe("fashion_mnist", (28, 28, 1), ((32, 5, 2), (64, 5, 2)),
                                 steps=3000, batch=128, lr=2e-3, max_shift=1, flip=True,
                                 conv_impl="auto")


def train_classifier(recipe: ClassifierRecipe, images: np.ndarray, labels: np.ndarray,
                     key: jax.Array):
  """Parameters of `recipe.model()` trained on images [N, H, W, C] in [−1, 1] and integer
  labels [N] with the recipe's optimiser and augmentation; every draw comes from `key`
  (initialisation from `key` itself, step i's batch from fold_in(key, i))."""
  if images.ndim != 4 or tuple(images.shape[1:]) != tuple(recipe.image_shape):
    raise ConfigError("images", f"expected [N, {', '.join(map(str, recipe.image_shape))}] for the "
                     f"{recipe.name} classifier, got {list(images.shape)}")
  if labels.shape != (images.shape[0],):
    raise ConfigError("labels", f"expected [{images.shape[0]}] (one per image), got "
                     f"{list(labels.shape)}")
  params = _init(recipe, key)
  return _fit(recipe, params, jnp.asarray(images), jnp.asarray(labels), key)


@functools.partial(jax.jit, static_argnums=0)
def _init(recipe: ClassifierRecipe, key):
  return recipe.model().init(key, jnp.zeros((1,) + tuple(recipe.image_shape)))


@functools.partial(jax.jit, static_argnums=0)
def _fit(recipe: ClassifierRecipe, params, x_all, y_all, key):
  model, opt, s = recipe.model(), optax.adam(recipe.lr), recipe.max_shift

  def step(carry, i):
    params, state = carry
    k = jax.random.fold_in(key, i)
    idx = jax.random.randint(k, (recipe.batch,), 0, x_all.shape[0])
    shift = jax.random.randint(jax.random.fold_in(k, 1), (2,), -s, s + 1)
    x = jnp.roll(x_all[idx], shift, axis=(1, 2))
    if recipe.flip:
      mirror = jax.random.bernoulli(jax.random.fold_in(k, 2), 0.5, (recipe.batch, 1, 1, 1))
      x = jnp.where(mirror, x[:, :, ::-1], x)
    loss_fn = lambda p: optax.softmax_cross_entropy_with_integer_labels(
        model.apply(p, x), y_all[idx]).mean()
    grads = jax.grad(loss_fn)(params)
    updates, state = opt.update(grads, state)
    return (optax.apply_updates(params, updates), state), None

  (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), jnp.arange(recipe.steps))
  return params


def train_digit_classifier(images: np.ndarray, labels: np.ndarray, *, steps: int = 600,
                           seed: int = 0):
  """Adam 1e-3, batch 128, random ±1-pixel shifts as augmentation; returns params."""
  recipe = dataclasses.replace(DIGITS, steps=steps, seed=seed)
  return train_classifier(recipe, images, labels, jax.random.key(seed))


@functools.partial(jax.jit, static_argnums=0)
def _classify(recipe: ClassifierRecipe, params, x):
  return recipe.model().apply(params, x, return_features=True)


def classify(params, x, recipe: ClassifierRecipe = DIGITS) -> Tuple[jax.Array, jax.Array]:
  """(logits [N, classes], penultimate features [N, hidden]) of images [N, *image_shape] in
  [−1, 1] (the digits' [N, 8, 8, 1] by default)."""
  return _classify(recipe, params, x)


def classify_in_chunks(params, x, recipe: ClassifierRecipe = DIGITS,
                       chunk: int = 2000) -> Tuple[np.ndarray, np.ndarray]:
  """`classify` over `chunk` images at a time, as NumPy arrays (bounded memory). Each call is
  padded to a power of two (512 to `chunk` rows), so that varying sample counts reuse a few
  compiled shapes."""
  logits, feats = [], []
  for i in range(0, len(x), chunk):
    part = np.asarray(x[i:i + chunk], np.float32)
    size = min(chunk, max(512, 1 << (len(part) - 1).bit_length()))
    padded = np.zeros((max(size, len(part)),) + part.shape[1:], np.float32)
    padded[:len(part)] = part
    lo, fe = classify(params, jnp.asarray(padded), recipe)
    logits.append(np.asarray(lo)[:len(part)])
    feats.append(np.asarray(fe)[:len(part)])
  return np.concatenate(logits), np.concatenate(feats)


def accuracy(params, images, labels, recipe: ClassifierRecipe = DIGITS) -> float:
  logits, _ = classify_in_chunks(params, images, recipe)
  return float(np.mean(np.argmax(logits, 1) == np.asarray(labels)))


def default_cache_dir() -> str:
  """$WGAN_JAX_CACHE, else ~/.cache/wgan_jax."""
  return os.environ.get("WGAN_JAX_CACHE",
                        os.path.join(os.path.expanduser("~"), ".cache", "wgan_jax"))


def cache_key(recipe: ClassifierRecipe, images: np.ndarray, labels: np.ndarray) -> str:
  """16 hex digits of a hash of the recipe (everything but its name) and the training data, so
  that a changed recipe or other training files train a new classifier."""
  h = hashlib.blake2b(digest_size=8)
  h.update(json.dumps(recipe.key_dict(), sort_keys=True).encode())
  for a in (images, labels):
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
  return h.hexdigest()


def _write_atomic(path: str, data: bytes) -> None:
  tmp = f"{path}.{os.getpid()}.tmp"
  with open(tmp, "wb") as f:
    f.write(data)
  os.replace(tmp, path)


def load_or_train_classifier(recipe: ClassifierRecipe, train: Tuple[np.ndarray, np.ndarray],
                             test: Tuple[np.ndarray, np.ndarray], cache_dir: Optional[str] = None,
                             *, path: Optional[str] = None,
                             announce: Optional[Callable[[str], None]] = None
                             ) -> Tuple[object, Dict]:
  """The classifier cached in `cache_dir` (trained on the first call), and its record.

  Args:
    recipe: the network and its training.
    train: (images, labels) it is trained on; test: (images, labels) its accuracy is measured
      on.
    cache_dir: default `default_cache_dir()`.
    path: the cache file; default `{cache_dir}/{name}_classifier-{cache_key}.msgpack`, so a
      changed recipe or training set retrains.
    announce: called with one line (what is trained, where it is cached) before a training,
      for a caller that shows progress; nothing is said when the cache is read.

  Returns:
    (params, info): info holds `test_accuracy`, `train_seconds` (of the run that trained it,
    from the `.json` beside the cache file), `cached` (whether it was read from the cache),
    `path` and the recipe.
  """
  cache_dir = cache_dir or default_cache_dir()
  if path is None:
    path = os.path.join(cache_dir,
                        f"{recipe.name}_classifier-{cache_key(recipe, *train)}.msgpack")
  meta_path = os.path.splitext(path)[0] + ".json"
  template = jax.eval_shape(recipe.model().init, jax.random.key(0),
                            jnp.zeros((1,) + tuple(recipe.image_shape)))
  cached = os.path.exists(path)
  train_seconds = None
  if cached:
    params = _read_cache(path, template)
    cached = params is not None
  if cached:
    try:
      with open(meta_path) as f:
        train_seconds = json.load(f).get("train_seconds")
    except (OSError, ValueError, AttributeError):
      pass   # the record beside it is optional; a damaged one is rewritten only on training
  else:
    if announce is not None:
      announce(f"training the {recipe.name} classifier once ({recipe.steps} steps of "
               f"{recipe.batch} images; minutes on a CPU), cached as {path}")
    start = time.perf_counter()
    params = jax.block_until_ready(
        train_classifier(recipe, *train, jax.random.key(recipe.seed)))
    train_seconds = time.perf_counter() - start
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    _write_atomic(path, flax.serialization.to_bytes(params))
  info = dict(test_accuracy=accuracy(params, *test, recipe), train_seconds=train_seconds,
              cached=cached, path=path, recipe=recipe.key_dict())
  if not cached:
    _write_atomic(meta_path, json.dumps(
        {k: v for k, v in info.items() if k not in ("cached", "path")}, indent=1).encode())
  return params, info


def _read_cache(path: str, template):
  """The cached parameters, or None (with a warning naming the file) when the file is damaged:
  a cache is derived data, so the caller trains the classifier again and overwrites it."""
  try:
    with open(path, "rb") as f:
      params = flax.serialization.from_bytes(template, f.read())
    same = jax.tree_util.tree_map(lambda a, b: tuple(a.shape) == tuple(b.shape), template,
                                  params)
    if not all(jax.tree_util.tree_leaves(same)):
      raise ValueError("its arrays have other shapes than this classifier's")
    return params
  except Exception as e:   # msgpack's, flax's and OS errors alike: the file is unusable
    warnings.warn(f"{path}: the cached classifier is damaged ({type(e).__name__}: {e}); "
                  "training it again", RuntimeWarning, stacklevel=3)
    return None


def load_or_train_digit_classifier(cache_dir: str | None = None):
  """The cached classifier (trained on the first call): (params, held-out accuracy)."""
  cache_dir = cache_dir or default_cache_dir()
  xt, yt, xv, yv = load_digits()
  params, info = load_or_train_classifier(
      DIGITS, (xt, yt), (xv, yv), cache_dir,
      path=os.path.join(cache_dir, "digit_classifier.msgpack"))  # the original file name
  return params, info["test_accuracy"]


def load_or_train_fashion_classifier(cache_dir: Optional[str] = None,
                                     directory: Optional[str] = None,
                                     recipe: ClassifierRecipe = FASHION_MNIST,
                                     announce: Optional[Callable[[str], None]] = None):
  """The Fashion-MNIST classifier, trained on the first call on the training split of
  `directory` (default: Debian's package, see `wgan_jax.data.idx.load_fashion_mnist`) and
  cached: (params, info) as `load_or_train_classifier`, accuracy on the test split."""
  train = load_fashion_mnist(directory, "train")
  test = load_fashion_mnist(directory, "test")
  return load_or_train_classifier(recipe, train, test, cache_dir, announce=announce)
