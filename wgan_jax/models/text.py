"""The character-level language GAN of WGAN-GP (official `gan_language.py`), and decoding.

Generator: z ∈ R¹²⁸ → Dense to [L, width] → `num_blocks` residual blocks → 1 × 1 convolution to
the vocabulary → softmax, so it emits a probability vector per position [B, L, V] (no sampling:
the critic reads the softmax itself, which is what keeps the gradient path differentiable).
Critic: a one-hot (real) or softmax (fake) sequence [B, L, V] → 1 × 1 convolution to `width`
channels → `num_blocks` residual blocks → flatten → Dense to one score [B].

Residual block (both players): x + 0.3 · Conv1D₅(ReLU(Conv1D₅(ReLU(x)))), SAME padding, no
normalisation (a gradient-penalty critic must not couple the examples of a batch).

Reference: Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017,
arXiv:1704.00028, §5.5 and Appendix; docs/papers.md §2 (gan_language.py).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wgan_jax.errors import ConfigError

RESIDUAL_SCALE = 0.3


class Conv1D(nn.Module):
  """A SAME-padded 1-D convolution [B, L, C] → [B, L, features] written as one matrix product.

  The k shifted copies of the zero-padded input are concatenated on the channel axis and
  multiplied by the kernel reshaped to [k·C, features]: the same function as `nn.Conv` (same
  parameter shapes: kernel [k, C, features], bias [features]), but XLA:CPU compiles the
  convolutions' second derivatives (the gradient penalty) inside a fused training step into
  slow generic loops, while the matrix product stays fast (measured: about 20× per step).
  """
  features: int
  kernel_size: int = 5

  @nn.compact
  def __call__(self, x):
    k, c = self.kernel_size, x.shape[-1]
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, c, self.features))
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
    if k == 1:
      return x @ kernel[0] + bias
    left = (k - 1) // 2
    xp = jnp.pad(x, ((0, 0), (left, k - 1 - left), (0, 0)))
    length = x.shape[1]
    cols = jnp.concatenate([xp[:, i:i + length] for i in range(k)], axis=-1)
    return cols @ kernel.reshape(k * c, self.features) + bias


class ResBlock(nn.Module):
  """x + 0.3 · Conv1D₅(ReLU(Conv1D₅(ReLU(x)))) on [B, L, width]."""
  width: int
  kernel_size: int = 5
  scale: float = RESIDUAL_SCALE

  @nn.compact
  def __call__(self, x):
    h = Conv1D(self.width, self.kernel_size)(nn.relu(x))
    h = Conv1D(self.width, self.kernel_size)(nn.relu(h))
    return x + self.scale * h


class TextGenerator(nn.Module):
  """z [B, latent] → per-position character probabilities [B, seq_len, vocab_size].

  Attributes:
    seq_len: characters per sequence (32 in the paper).
    vocab_size: size of the vocabulary V (including pad and unk).
    width: channels of the residual blocks (512 in the paper).
    num_blocks: residual blocks (5 in the paper).
  """
  seq_len: int = 32
  vocab_size: int = 64
  width: int = 512
  num_blocks: int = 5

  def logits(self, z):
    x = nn.Dense(self.seq_len * self.width)(z)
    x = x.reshape(z.shape[0], self.seq_len, self.width)
    for _ in range(self.num_blocks):
      x = ResBlock(self.width)(x)
    return Conv1D(self.vocab_size, 1)(x)

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # no dropout or normalisation
    return jax.nn.softmax(self.logits(z), axis=-1)


class TextCritic(nn.Module):
  """One-hot or softmax sequences [B, L, V] → scores [B] (the discriminator's logit for GANs).

  Attributes:
    width: channels of the residual blocks (512 in the paper).
    num_blocks: residual blocks (5 in the paper).
  """
  width: int = 512
  num_blocks: int = 5

  @nn.compact
  def __call__(self, x, train: bool = True):
    del train
    h = Conv1D(self.width, 1)(x)
    for _ in range(self.num_blocks):
      h = ResBlock(self.width)(h)
    h = h.reshape(h.shape[0], -1)
    return nn.Dense(1)(h)[:, 0]


DECODINGS = ("argmax", "sample")


def decode_tokens(probs: jax.Array, method: str = "argmax", key: jax.Array | None = None):
  """Token ids [B, L] from per-position probabilities [B, L, V].

  Args:
    probs: the generator's softmax output.
    method: "argmax" (the paper's decoding) or "sample" (one draw per position from the
      categorical distribution, with `key`).
    key: PRNG key, required for "sample".

  Returns:
    int32 token ids [B, L].

  Raises:
    ValueError: naming the argument: an unknown `method`, or "sample" without a `key`.
  """
  if method == "argmax":
    return jnp.argmax(probs, axis=-1).astype(jnp.int32)
  if method == "sample":
    if key is None:
      raise ConfigError("key", "decoding by sampling needs a PRNG key")
    logp = jnp.log(jnp.clip(probs, 1e-30, 1.0))
    return jax.random.categorical(key, logp, axis=-1).astype(jnp.int32)
  raise ConfigError("method", f"unknown decoding {method!r}; choose one of {list(DECODINGS)}")
