"""2-D convolutions as shifted slices + one matmul ("patches"), or as XLA convolutions.

On XLA:CPU the convolutions of a small DCGAN are slow where their gradients need an input
dilation (the backward pass of a stride-2 convolution, every transposed convolution, the
gradient penalty's double backward): about 14× slower than the same arithmetic written as a
matmul over k × k shifted strided slices of the padded input (README: "Convolutions as patches";
`python -m benchmarks.dcgan` measures both forms). Slices, pads and matmuls differentiate into
slices, pads and matmuls, so the patches form stays fast to any order of differentiation. On GPU/TPU the vendor convolutions win;
`impl="auto"` picks patches on the CPU only. Both forms compute the same function as
`flax.linen.Conv` / `flax.linen.ConvTranspose` with "SAME" padding and the same parameter layout
(kernel [k, k, C_in, C_out], bias [C_out]); tests check them against flax to float tolerance.
"""

from __future__ import annotations

from typing import Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

IMPLS = ("auto", "patches", "xla")


def _resolve(impl: str) -> str:
  if impl not in IMPLS:
    raise ValueError(f"conv impl must be one of {IMPLS}, got {impl!r}")
  if impl == "auto":
    return "patches" if jax.default_backend() == "cpu" else "xla"
  return impl


def _same_pads(size: int, k: int, s: int) -> Tuple[int, int]:
  out = -(-size // s)
  total = max((out - 1) * s + k - size, 0)
  return total // 2, total - total // 2


def _patch_matmul(xp: jax.Array, kernel: jax.Array, stride: int, out_hw) -> jax.Array:
  """Σ over kernel taps of strided slices of the padded input, as one matmul."""
  k1, k2, c, _ = kernel.shape
  b = xp.shape[0]
  ho, wo = out_hw
  cols = [lax.slice(xp, (0, i, j, 0), (b, i + (ho - 1) * stride + 1, j + (wo - 1) * stride + 1, c),
                    (1, stride, stride, 1))
          for i in range(k1) for j in range(k2)]
  patches = jnp.concatenate(cols, axis=-1) if len(cols) > 1 else cols[0]
  return patches @ kernel.reshape(k1 * k2 * c, -1)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1, impl: str = "auto") -> jax.Array:
  """x [B, H, W, C_in] ⋆ kernel [k, k, C_in, C_out], "SAME" padding, `stride` in both axes."""
  if _resolve(impl) == "xla":
    return lax.conv_general_dilated(x, kernel, (stride, stride), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
  (t, b_), (l, r) = (_same_pads(x.shape[1], kernel.shape[0], stride),
                     _same_pads(x.shape[2], kernel.shape[1], stride))
  xp = jnp.pad(x, ((0, 0), (t, b_), (l, r), (0, 0)))
  return _patch_matmul(xp, kernel, stride, (-(-x.shape[1] // stride), -(-x.shape[2] // stride)))


def _transpose_pads(k: int, s: int) -> Tuple[int, int]:
  # lax.conv_transpose's "SAME" padding (jax._src.lax.convolution._conv_transpose_padding)
  pad_len = k + s - 2
  pad_a = k - 1 if s > k - 1 else -(-pad_len // 2)
  return pad_a, pad_len - pad_a


def conv2d_transpose(x: jax.Array, kernel: jax.Array, stride: int = 2,
                     impl: str = "auto") -> jax.Array:
  """`lax.conv_transpose(x, kernel, (s, s), "SAME")` (flax ConvTranspose): output H·s × W·s."""
  if _resolve(impl) == "xla":
    return lax.conv_transpose(x, kernel, (stride, stride), "SAME",
                              dimension_numbers=("NHWC", "HWIO", "NHWC"))
  a1, b1 = _transpose_pads(kernel.shape[0], stride)
  a2, b2 = _transpose_pads(kernel.shape[1], stride)
  # zero insertion (interior padding) is a pad, whose gradient is a strided slice
  xp = lax.pad(x, jnp.zeros((), x.dtype),
               ((0, 0, 0), (a1, b1, stride - 1), (a2, b2, stride - 1), (0, 0, 0)))
  return _patch_matmul(xp, kernel, 1, (x.shape[1] * stride, x.shape[2] * stride))


class Conv(nn.Module):
  """`flax.linen.Conv(features, (k, k), (s, s), padding="SAME")` with a choice of kernel."""
  features: int
  kernel_size: Tuple[int, int] = (5, 5)
  strides: Tuple[int, int] = (1, 1)
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  impl: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return conv2d(x, kernel, self.strides[0], self.impl) + bias


class ConvTranspose(nn.Module):
  """`flax.linen.ConvTranspose(features, (k, k), (s, s), padding="SAME")`, same choice."""
  features: int
  kernel_size: Tuple[int, int] = (5, 5)
  strides: Tuple[int, int] = (2, 2)
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  impl: str = "auto"

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return conv2d_transpose(x, kernel, self.strides[0], self.impl) + bias
