"""2-D convolutions for the CPU: XLA's own, as patches + matmul, or a per-derivative hybrid.

The WGAN-GP critic step differentiates a convolution twice (the penalty's double backward), so
each convolution y = B(x, k) is run in three forms: B itself, its input gradient
B_x(ȳ, k) = (∂y/∂x)ᵀ ȳ and its kernel gradient B_k(x, ȳ) = (∂y/∂k)ᵀ ȳ; all three are bilinear and
each one's derivatives are the other two. On XLA:CPU they differ wildly in speed:

- "xla": `lax.conv_general_dilated` for all. The forward pass is fast; the input gradient of a
  strided convolution (an input-dilated convolution, also every transposed convolution) falls
  on a slow path, up to ~40× slower; and inside a `lax.scan` body XLA leaves its kernel-gradient
  convolution in a layout that ran ~150× slower than outside one.
- "patches": the convolution as a matmul over the k × k shifted strided slices of the padded
  input. Slices, pads and matmuls differentiate into the same, so nothing is slow, but building
  the patches costs 2-3× the matmul, and a transposed convolution multiplies inserted zeros.
- "hybrid" (the CPU default): `jax.custom_vjp` ties B, B_x and B_k together (`_bilinear`) and
  runs each in the form measured fastest (`hybrid_plan`): the forward pass and the kernel
  gradient as XLA convolutions (the latter written in the layout XLA runs fast everywhere and
  summed over batch chunks), the input gradient of a strided convolution as one stride-1
  "sub-pixel" convolution + depth-to-space (patches below 6×6). A transposed convolution is the
  input gradient of a strided one, so it runs as that family's B_x and costs no inserted zeros.

On GPU/TPU the vendor convolutions win: `impl="auto"` is "hybrid" on the CPU and "xla"
elsewhere. All forms compute the same function as `flax.linen.Conv` / `flax.linen.ConvTranspose`
with "SAME" padding and the same parameter layout (kernel [k, k, C_in, C_out], bias [C_out]);
tests check them against flax, to second order, inside `lax.scan` and under `vmap`.
`python -m benchmarks.dcgan --roles` times each form of each role at the DCGAN's shapes.
"""

from __future__ import annotations

from typing import Callable, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

IMPLS = ("auto", "hybrid", "patches", "xla")


def _resolve(impl: str) -> str:
  if impl not in IMPLS:
    raise ValueError(f"conv impl must be one of {IMPLS}, got {impl!r}")
  if impl == "auto":
    return "hybrid" if jax.default_backend() == "cpu" else "xla"
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


def _conv_xla(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  return lax.conv_general_dilated(x, kernel, (stride, stride), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _conv_patches(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  (t, b_), (l, r) = (_same_pads(x.shape[1], kernel.shape[0], stride),
                     _same_pads(x.shape[2], kernel.shape[1], stride))
  xp = jnp.pad(x, ((0, 0), (t, b_), (l, r), (0, 0)))
  return _patch_matmul(xp, kernel, stride, (-(-x.shape[1] // stride), -(-x.shape[2] // stride)))


_CONV = {"xla": _conv_xla, "patches": _conv_patches}


def hybrid_plan(stride: int, kernel_size: int, out_side: int) -> Tuple[str, str, str]:
  """The form used for y = x ⋆ k, for x̄ = ∂y/∂xᵀ ȳ and for k̄ = ∂y/∂kᵀ ȳ: "xla" (XLA's own
  convolution), "patches" (slices + one matmul) or "subpixel" (x̄ only: one stride-1 convolution
  of ȳ and a depth-to-space, `_conv_grad_x_subpixel`).

  `out_side` is the smaller side of y. From per-role timings on XLA:CPU inside `lax.scan`
  (`python -m benchmarks.dcgan --roles`, batch 64): XLA's own convolution is fast for the forward
  pass and the kernel gradient while y is at least 4×4 (7.5 ms against 22 ms for patches at
  16×16×64→128) and slow below (13.1 ms against 0.8 ms at 4×4×64→128). The input gradient of a
  strided convolution needs input dilation, slow in XLA at every size measured (40.7 ms against
  11.5 ms for patches); as a sub-pixel convolution it ran 9.8 ms against 12.0 for patches at
  16×16×64→128 and 3.1 against 3.6 at 32×32×3→64, but 10.6 against 8.9 where ȳ is 4×4
  (8×8×128→256), so there it stays patches. At the 7×7 outputs of the 28×28 models (the second
  critic layer and the first generator layer) the sub-pixel form made the whole DCGAN WGAN-GP
  step 1.19–1.30× faster at dim 16 and 0.99–1.09× at dim 64 (`python -m benchmarks.conv_plan`,
  variant "patches7" the former choice), so it is used from 6×6 up. A 1×1 convolution is a
  plain matmul.
  """
  if kernel_size == 1 or out_side < 4:
    return "patches", "patches", "patches"
  if stride == 1:
    return "xla", "xla", "xla"
  return "xla", ("subpixel" if out_side >= 6 else "patches"), "xla"


def _bilinear(fwd: Callable, grad_x: Callable, grad_k: Callable):
  """y = B(x, k), bilinear, with every derivative of any order written with three functions.

  fwd(x, k) = B(x, k); grad_x(ȳ, k) = (∂B/∂x)ᵀ ȳ; grad_k(x, ȳ) = (∂B/∂k)ᵀ ȳ. Each of the three
  is bilinear too and their transposes are the other two, so the family is closed under
  differentiation (the gradient penalty differentiates the input gradient once more), and each
  member can use whichever implementation computes it fastest.
  """
  @jax.custom_vjp
  def b(x, k):
    return fwd(x, k)

  @jax.custom_vjp
  def b_x(dy, k):
    return grad_x(dy, k)

  @jax.custom_vjp
  def b_k(x, dy):
    return grad_k(x, dy)

  # ⟨c, B(x, k)⟩ = ⟨B_x(c, k), x⟩ = ⟨B_k(x, c), k⟩, hence the six rules below.
  b.defvjp(lambda x, k: (b(x, k), (x, k)), lambda r, c: (b_x(c, r[1]), b_k(r[0], c)))
  b_x.defvjp(lambda dy, k: (b_x(dy, k), (dy, k)), lambda r, c: (b(c, r[1]), b_k(c, r[0])))
  b_k.defvjp(lambda x, dy: (b_k(x, dy), (x, dy)), lambda r, c: (b_x(r[1], c), b(r[0], c)))
  return b, b_x, b_k


def _flip(kernel: jax.Array) -> jax.Array:
  """The kernel of the transposed operation: spatially reversed, channel axes swapped."""
  return jnp.swapaxes(kernel[::-1, ::-1], 2, 3)


def _conv_grad_x_xla(dy: jax.Array, kernel: jax.Array, stride: int, x_shape) -> jax.Array:
  """(∂y/∂x)ᵀ ȳ of a stride-1 "SAME" convolution: the flipped kernel, stride 1, pads swapped."""
  assert stride == 1
  (pt, pb), (pl, pr) = (_same_pads(x_shape[1], kernel.shape[0], 1),
                        _same_pads(x_shape[2], kernel.shape[1], 1))
  return lax.conv_general_dilated(dy, _flip(kernel), (1, 1), ((pb, pt), (pr, pl)),
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _phase_taps(k: int, s: int, pad: int, phase: int):
  """(kernel tap, ȳ offset) pairs that reach input positions ≡ `phase` (mod s): x̄[s·a + phase]
  = Σ ȳ[a + offset] · kernel[tap] for a stride-s convolution padded by `pad` before."""
  return [(i, (phase + pad - i) // s) for i in range(k) if (phase + pad - i) % s == 0]


def _conv_grad_x_subpixel(dy: jax.Array, kernel: jax.Array, stride: int, x_shape) -> jax.Array:
  """(∂y/∂x)ᵀ ȳ of a strided "SAME" convolution as one stride-1 convolution and a depth-to-space.

  Input positions split into stride² phases; each phase is a stride-1 correlation of ȳ with the
  kernel taps that reach it (a 5×5 stride-2 kernel splits into 3×3, 3×2, 2×3 and 2×2 taps).
  Placing every phase's taps in one T×T kernel (zeros elsewhere) with stride²·C_in outputs runs
  all phases as one convolution ("sub-pixel convolution", Shi et al. 2016), no zeros inserted
  between ȳ's pixels, at 1.44× the direct FLOPs for 5×5 stride 2, which XLA:CPU's 3×3 kernels
  run fast enough to beat patches + col2im.
  """
  kh, kw, c_in, c_out = kernel.shape
  s = stride
  pads = (_same_pads(x_shape[1], kh, s)[0], _same_pads(x_shape[2], kw, s)[0])
  taps = [[_phase_taps(k, s, pad, p) for p in range(s)] for k, pad in zip((kh, kw), pads)]
  lo = [min(d for ph in t for _, d in ph) for t in taps]
  hi = [max(d for ph in t for _, d in ph) for t in taps]
  th, tw = hi[0] - lo[0] + 1, hi[1] - lo[1] + 1
  # tap[u, v, p, q]: the kernel tap through which phase (p, q) reads ȳ[a + lo + u, b + lo + v],
  # or the appended zero tap (index kh·kw) where it reads nothing; one gather builds the kernel
  tap = np.full((th, tw, s, s), kh * kw)
  for p in range(s):
    for i, di in taps[0][p]:
      for q in range(s):
        for j, dj in taps[1][q]:
          tap[di - lo[0], dj - lo[1], p, q] = i * kw + j
  flat = jnp.concatenate([kernel.reshape(kh * kw, c_in, c_out),
                          jnp.zeros((1, c_in, c_out), kernel.dtype)])
  w = jnp.transpose(flat[tap], (0, 1, 5, 2, 3, 4)).reshape(th, tw, c_out, s * s * c_in)
  hp, wp = -(-x_shape[1] // s), -(-x_shape[2] // s)
  dyp = lax.pad(dy, jnp.zeros((), dy.dtype),
                ((0, 0, 0), (-lo[0], hp - 1 + hi[0] - (dy.shape[1] - 1), 0),
                 (-lo[1], wp - 1 + hi[1] - (dy.shape[2] - 1), 0), (0, 0, 0)))
  z = lax.conv_general_dilated(dyp, w, (1, 1), "VALID",
                               dimension_numbers=("NHWC", "HWIO", "NHWC"))
  z = jnp.transpose(z.reshape(dy.shape[0], hp, wp, s, s, c_in), (0, 1, 3, 2, 4, 5))
  return z.reshape(dy.shape[0], hp * s, wp * s, c_in)[:, :x_shape[1], :x_shape[2]]


def _conv_grad_k_xla(x: jax.Array, dy: jax.Array, stride: int, kernel_shape) -> jax.Array:
  """(∂y/∂k)ᵀ ȳ as XLA convolutions (one per batch chunk) in the layout XLA:CPU runs fast.

  The channels of x play the batch, the batch plays the features and ȳ is the window (dilated
  by the stride): XLA rewrites its own kernel-gradient convolution into this form outside
  loops but not inside a `lax.scan` body, where the unrewritten form ran ~150× slower.
  """
  kh, kw = kernel_shape[:2]
  pt, pl = _same_pads(x.shape[1], kh, stride)[0], _same_pads(x.shape[2], kw, stride)[0]
  pb = kh + stride * (dy.shape[1] - 1) - x.shape[1] - pt
  pr = kw + stride * (dy.shape[2] - 1) - x.shape[2] - pl
  xp = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (pt, pb, 0), (pl, pr, 0), (0, 0, 0)))
  out = None
  for lo, hi in _batch_chunks(x.shape[0], dy.shape[1] * dy.shape[2]):
    xt, dyt = _batch_last(xp[lo:hi]), jnp.transpose(dy[lo:hi], (1, 2, 0, 3))
    part = lax.conv_general_dilated(xt, dyt, (1, 1), "VALID",
                                    rhs_dilation=(stride, stride),
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    out = part if out is None else out + part
  return jnp.transpose(out, (1, 2, 0, 3))


def _batch_last(x: jax.Array) -> jax.Array:
  """x [N, H, W, C] → [C, H, W, N], the batch moved through a matmul by the identity.

  XLA:CPU's own transpose for this permutation ran ~10× slower than a copy (4.7 ms against 0.4 ms
  for [32, 19, 19, 64], inside `lax.scan`); the matmul [N, H·W, C] × I_N → [H·W, C, N] followed by
  a transpose that moves whole rows ran 1.1 ms. Exact for finite values (HIGHEST precision, for
  TPU/GPU); a non-finite entry spreads NaN over its example's row, which the kernel gradient's
  sum over the batch would carry anyway.
  """
  n, h, w, c = x.shape
  y = lax.dot_general(x.reshape(n, h * w, c), jnp.eye(n, dtype=x.dtype), (((0,), (0,)), ((), ())),
                      precision=lax.Precision.HIGHEST)
  return jnp.transpose(y, (1, 0, 2)).reshape(c, h, w, n)


_GK_CONTRACTION = 2048
_GK_CHUNKS = 8  # measured up to 32×32 images; more chunks only grow the program


def _batch_chunks(batch: int, pixels: int):
  """Near-equal batch ranges whose kernel-gradient contraction (examples × output pixels) is
  about _GK_CONTRACTION (at most _GK_CHUNKS of them). XLA:CPU's convolution ran the whole-batch
  contraction slower than the sum of such chunks, inside `lax.scan`, batch 64: 12.1 → 10.2 ms at
  16×16×64→128 (chunks of 32), 4.5 → 2.4 ms at 32×32×3→64 (chunks of 8), 8.9 → 8.2 ms at
  8×8×128→256 (one chunk of 64 against two of 32); the CIFAR-size WGAN-GP step went from 0.67 to
  0.73 it/s."""
  n = min(batch, _GK_CHUNKS, max(1, -(-batch * pixels // _GK_CONTRACTION)))
  edges = [batch * i // n for i in range(n + 1)]
  return list(zip(edges[:-1], edges[1:]))


def _materialise(y: jax.Array) -> jax.Array:
  """y, through a matmul by the identity, which XLA cannot fuse into y's consumers.

  The patches input gradient ends in a sum of k·k padded slices. XLA:CPU copied that sum into
  each elementwise consumer that also fed a reduction (a BatchNorm in training mode: mean,
  variance, normalisation), where it ran ~5× slower than alone: 70 ms against 14 ms for one
  generator layer, 76 against 24 ms for the whole DCGAN generator. `lax.optimization_barrier`
  is dropped before fusion on the CPU; a [C, C] matmul is not, and costs ~1% of the layer.
  """
  return jnp.matmul(y, jnp.eye(y.shape[-1], dtype=y.dtype), precision=lax.Precision.HIGHEST)


def _hybrid_conv(x_shape, kernel: jax.Array, stride: int):
  """(B, B_x, B_k) of the "SAME" convolution of an input of shape x_shape by `kernel`."""
  out_side = min(-(-x_shape[1] // stride), -(-x_shape[2] // stride))
  fwd_impl, gx_impl, gk_impl = hybrid_plan(stride, kernel.shape[0], out_side)
  x_aval = jax.ShapeDtypeStruct(tuple(x_shape), kernel.dtype)
  k_aval = jax.ShapeDtypeStruct(kernel.shape, kernel.dtype)
  fwd = lambda x, k: _CONV[fwd_impl](x, k, stride)
  if gx_impl == "xla":
    grad_x = lambda dy, k: _conv_grad_x_xla(dy, k, stride, x_shape)
  elif gx_impl == "subpixel":
    grad_x = lambda dy, k: _conv_grad_x_subpixel(dy, k, stride, x_shape)
  else:
    grad_x = lambda dy, k: _materialise(jax.linear_transpose(
        lambda x: _CONV[gx_impl](x, k, stride), x_aval)(dy)[0])
  if gk_impl == "xla":
    grad_k = lambda x, dy: _conv_grad_k_xla(x, dy, stride, kernel.shape)
  else:
    grad_k = lambda x, dy: jax.linear_transpose(lambda k: _CONV[gk_impl](x, k, stride),
                                                k_aval)(dy)[0]
  return _bilinear(fwd, grad_x, grad_k)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1, impl: str = "auto") -> jax.Array:
  """x [B, H, W, C_in] ⋆ kernel [k, k, C_in, C_out], "SAME" padding, `stride` in both axes."""
  impl = _resolve(impl)
  if impl == "hybrid":
    return _hybrid_conv(x.shape, kernel, stride)[0](x, kernel)
  return _CONV[impl](x, kernel, stride)


def _transpose_pads(k: int, s: int) -> Tuple[int, int]:
  # lax.conv_transpose's "SAME" padding (jax._src.lax.convolution._conv_transpose_padding)
  pad_len = k + s - 2
  pad_a = k - 1 if s > k - 1 else -(-pad_len // 2)
  return pad_a, pad_len - pad_a


def conv2d_transpose(x: jax.Array, kernel: jax.Array, stride: int = 2,
                     impl: str = "auto") -> jax.Array:
  """`lax.conv_transpose(x, kernel, (s, s), "SAME")` (flax ConvTranspose): output H·s × W·s.

  "hybrid": this is the input gradient of the "SAME" stride-s convolution of an H·s × W·s
  image by the flipped kernel with its channel axes swapped, so it runs as `B_x` of that
  convolution's family (and its own gradients as that family's B and B_k).
  """
  impl = _resolve(impl)
  if impl == "xla":
    return lax.conv_transpose(x, kernel, (stride, stride), "SAME",
                              dimension_numbers=("NHWC", "HWIO", "NHWC"))
  if impl == "hybrid":
    w = _flip(kernel)
    y_shape = (x.shape[0], x.shape[1] * stride, x.shape[2] * stride, kernel.shape[3])
    return _hybrid_conv(y_shape, w, stride)[1](x, w)
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

  def _op(self, x, kernel):
    return conv2d(x, kernel, self.strides[0], self.impl)

  @nn.compact
  def __call__(self, x):
    if self.strides[0] != self.strides[1]:
      raise ValueError(f"equal strides in both axes only, got {self.strides}")
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return self._op(x, kernel) + bias


class ConvTranspose(Conv):
  """`flax.linen.ConvTranspose(features, (k, k), (s, s), padding="SAME")`, same choice."""
  strides: Tuple[int, int] = (2, 2)

  def _op(self, x, kernel):
    return conv2d_transpose(x, kernel, self.strides[0], self.impl)
