"""The official WGAN-GP MNIST generator and critic (`gan_mnist.py`, DIM = 64), for 28×28×1 images.

Generator: z [B, 128] → Dense 4·4·4·dim [+ BatchNorm over its units] → ReLU → reshape [4, 4, 4·dim]
→ 5×5 stride-2 transposed convolution to 2·dim at 8×8 [+ BatchNorm] → ReLU → crop to the top-left
7×7 → transposed convolution to dim at 14×14 [+ BatchNorm] → ReLU → transposed convolution to 1
channel at 28×28 → 2·σ − 1. Critic: 5×5 stride-2 convolutions to dim (14×14), 2·dim (7×7) and
4·dim (4×4) [+ a normalisation after the second and third], each followed by LeakyReLU(0.2) →
flatten 4·4·4·dim → Dense 1.

Output range: the official code ends in a sigmoid and feeds MNIST in [0, 1]; this project scales
every image data set to [-1, 1] (`wgan_jax.data`), so the generator ends in 2·σ(a) − 1
(= tanh(a/2)), the official network followed by the affine map y ↦ 2y − 1 that takes its data to
ours. Distances between images are then twice the official ones, so a critic held at ‖∇f‖ ≈ 1
by the penalty estimates twice the W1 of the same images on [0, 1]: critic losses compare with
the official curves up to that factor of 2.

Normalisation: the official code uses BatchNorm only in its WGAN (weight-clipping) mode, in the
generator after the Dense and the first two transposed convolutions (the Dense one per unit, as
its `Batchnorm(axes=[0])`) and in the critic after its second and third convolutions; WGAN-GP and
DCGAN modes use none. `norm="batch"` is that WGAN mode, `norm="none"` the WGAN-GP one; the
critic also takes "layer" (a gradient penalty refuses BatchNorm in the critic).

Initialisation as the official `tflib`: convolution kernels uniform with std √(4 / (fan_in +
fan_out)), where the strided side's fan is divided by stride² (fan_out of a convolution, fan_in
of a transposed one); Dense layers Glorot uniform; biases 0. The convolutions are the project's
(`wgan_jax.models.conv`, fast on the CPU), "SAME" padded as the official ones.

References: Gulrajani et al., "Improved Training of Wasserstein GANs", arXiv:1704.00028, 2017;
github.com/igul222/improved_wgan_training, gan_mnist.py.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from wgan_jax.models.conv import Conv, ConvTranspose
from wgan_jax.models.dcgan import _norm
from wgan_jax.errors import ConfigError

IMAGE_SHAPE = (28, 28, 1)
NORMS = ("none", "batch", "layer")

_dense_init = nn.initializers.glorot_uniform()


def official_conv_init(stride: int = 2, *, transposed: bool = False):
  """tflib's "he" initialiser of a k×k kernel [k, k, C_in, C_out]: uniform, std
  √(4 / (fan_in + fan_out)) with fan_in = C_in·k², fan_out = C_out·k², the strided side's fan
  divided by stride² (fan_out of a convolution, fan_in of a transposed convolution)."""
  def init(key, shape, dtype=jnp.float32):
    kh, kw, c_in, c_out = shape
    fan_in, fan_out = c_in * kh * kw, c_out * kh * kw
    if transposed:
      fan_in /= stride ** 2
    else:
      fan_out /= stride ** 2
    bound = math.sqrt(3.0) * math.sqrt(4.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, dtype, -bound, bound)
  return init


def _check(module, *, norms=NORMS) -> None:
  name = type(module).__name__
  if tuple(module.image_shape) != IMAGE_SHAPE:
    raise ConfigError("image_shape", f"{name} is the official WGAN-GP MNIST model, for 28×28×1 "
                     f"images only (image_shape (28, 28, 1)), got {tuple(module.image_shape)}")
  if module.norm not in norms:
    raise ConfigError("norm", f"must be one of {list(norms)}, got {module.norm!r}")
  if isinstance(module.dim, bool) or not isinstance(module.dim, int) or module.dim < 1:
    raise ConfigError("dim", f"must be a positive integer, got {module.dim!r}")


class MNISTGenerator(nn.Module):
  """z [B, latent] → images [B, 28, 28, 1] in [-1, 1] (2·σ − 1, see the module docstring).

  Attributes:
    image_shape: must be (28, 28, 1): the architecture's crop to 7×7 fixes it.
    dim: DIM (64 in the official code): channels 4·dim, 2·dim, dim from coarse to fine.
    norm: "none" (WGAN-GP / DCGAN modes) or "batch" (WGAN mode); "layer" is also accepted.
    axis_name: the device axis over which BatchNorm averages its statistics under pmap.
    conv_impl: see `wgan_jax.models.conv` ("auto": "hybrid" on the CPU, "xla" elsewhere).
  """
  image_shape: Tuple[int, int, int] = IMAGE_SHAPE
  dim: int = 64
  norm: str = "none"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  def __post_init__(self):
    _check(self)
    super().__post_init__()

  @nn.compact
  def __call__(self, z, train: bool = True):
    norm = lambda x: _norm(self.norm, train, self.axis_name)(x)
    deconv = lambda f, x: ConvTranspose(f, (5, 5), (2, 2), impl=self.conv_impl,
                                        kernel_init=official_conv_init(2, transposed=True))(x)
    x = nn.Dense(4 * 4 * 4 * self.dim, kernel_init=_dense_init)(z)
    x = nn.relu(norm(x)).reshape(z.shape[0], 4, 4, 4 * self.dim)
    x = nn.relu(norm(deconv(2 * self.dim, x)))          # 8×8
    x = x[:, :7, :7]                                     # the official crop
    x = nn.relu(norm(deconv(self.dim, x)))              # 14×14
    x = deconv(1, x)                                     # 28×28
    return 2.0 * nn.sigmoid(x) - 1.0


class MNISTCritic(nn.Module):
  """x [B, 28, 28, 1] → scores [B].

  Attributes:
    image_shape: must be (28, 28, 1); inputs of another shape are refused at trace time.
    dim: DIM (64 in the official code): channels dim, 2·dim, 4·dim.
    norm: after the second and third convolutions: "none" (WGAN-GP), "batch" (the official
      WGAN mode; breaks the per-example gradient penalty) or "layer".
    axis_name, conv_impl: as `MNISTGenerator`.
  """
  image_shape: Tuple[int, int, int] = IMAGE_SHAPE
  dim: int = 64
  norm: str = "none"
  axis_name: Optional[str] = None
  conv_impl: str = "auto"

  def __post_init__(self):
    _check(self)
    super().__post_init__()

  @nn.compact
  def __call__(self, x, train: bool = True):
    if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
      raise ConfigError("x", f"MNISTCritic takes images [B, 28, 28, 1] (image_shape (28, 28, 1)), "
                       f"got shape {tuple(x.shape)}")
    for i in range(3):
      x = Conv(self.dim * 2 ** i, (5, 5), (2, 2), impl=self.conv_impl,
               kernel_init=official_conv_init(2))(x)      # 14×14, 7×7, 4×4
      if i > 0:
        x = _norm(self.norm, train, self.axis_name)(x)
      x = nn.leaky_relu(x, 0.2)
    return nn.Dense(1, kernel_init=_dense_init)(x.reshape(x.shape[0], -1))[:, 0]
