"""Every critic scores each example on its own: the per-example gradient penalty assumes it.

The penalty takes ∇ₓ Σ_i f(x_i) and reads its row i as ∇f(x_i), which holds only when
∂f(x_i)/∂x_j = 0 for i ≠ j: the Jacobian of the scores [B] with respect to the batch [B, ...] is
block-diagonal over the batch. Checked for each critic of `wgan_jax.models` and each
normalisation it allows with a penalty ("none", "layer"), in the penalty's mode (train=False;
with these normalisations train=True computes the same function), together with the penalty's
per-example norms, which must be those of the diagonal blocks. The negative control: a
BatchNorm critic in training mode couples the examples, and the same check catches it.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wgan_jax.models import DCGANCritic, MLPCritic, ResNetCritic, TextCritic
from wgan_jax.penalties import critic_input_gradient_norms

B = 4
IMAGE = (B, 4, 4, 1)  # two stride-2 stages of the DCGAN critic
RESNET_IMAGE = (B, 8, 8, 1)  # one "down" stage + two plain blocks (4×4 would need two)
CRITICS = {  # name -> (module factory of the norm, input shape [B, ...])
    "mlp": (lambda norm: MLPCritic(width=8, depth=2, norm=norm), (B, 3)),
    "dcgan": (lambda norm: DCGANCritic(dim=4, norm=norm), IMAGE),
    "resnet": (lambda norm: ResNetCritic(dim=4, norm=norm), RESNET_IMAGE),
    "text": (lambda norm: TextCritic(width=8, num_blocks=1), (B, 6, 5)),  # no norm option
}
CASES = [("mlp", "none"), ("mlp", "layer"), ("dcgan", "none"), ("dcgan", "layer"),
         ("resnet", "none"), ("resnet", "layer"), ("text", "none")]


def _random_variables(module, x, seed):
  """The module's variables with random values from NumPy (scaled by 1/√fan-in): any
  parameters will do for the invariant, and NumPy saves compiling JAX's initialisers."""
  shapes = jax.eval_shape(lambda x: module.init(jax.random.key(0), x, train=False), x)
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    name = jax.tree_util.keystr(path)
    if "batch_stats" in name:  # running mean 0, variance 1, as after init
      return jnp.full(leaf.shape, 1.0 if "var" in name else 0.0, leaf.dtype)
    fan_in = int(np.prod(leaf.shape[:-1])) if len(leaf.shape) > 1 else leaf.shape[0]
    scale = 1.0 / np.sqrt(fan_in) if len(leaf.shape) > 1 else 0.3
    base = 1.0 if name.endswith("['scale']") else 0.0
    return jnp.asarray(base + scale * rng.normal(size=leaf.shape), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, shapes)


def _critic_fn(name, norm, train, seed=0):
  """(f: batch -> scores [B], a batch x) for one critic with random parameters."""
  make, shape = CRITICS[name]
  module = make(norm)
  x = np.random.default_rng(seed + 100).normal(size=shape).astype(np.float32)
  if name == "text":  # softmax rows, as the generator emits
    x = np.exp(2.0 * x) / np.exp(2.0 * x).sum(-1, keepdims=True)
  x = jnp.asarray(x)
  variables = _random_variables(module, x, seed)
  if train and "batch_stats" in variables:
    f = lambda xs: module.apply(variables, xs, train=True, mutable=["batch_stats"])[0]
  else:
    f = lambda xs: module.apply(variables, xs, train=train)
  return f, x


def _jacobian_blocks(f, x):
  """The Jacobian of the scores [B] with respect to the batch, as blocks J[i, j] =
  ∂f(x_i)/∂x_j flattened: [B, B, D]."""
  jac = jax.jacrev(f)(x)  # [B, B, ...]
  assert jac.shape == (x.shape[0],) + x.shape
  return jac.reshape(x.shape[0], x.shape[0], -1)


def _off_diagonal_ratio(jac):
  """max_{i≠j} |J[i, j]| / max_i |J[i, i]|."""
  m = np.asarray(jnp.max(jnp.abs(jac), axis=-1))  # [B, B]
  return m[~np.eye(len(m), dtype=bool)].max() / np.diag(m).max()


@pytest.mark.parametrize("name,norm", CASES)
def test_critic_jacobian_is_block_diagonal_over_the_batch(name, norm):
  """In the penalty's mode (train=False); for these norms train=True is the same function."""
  f, x = _critic_fn(name, norm, train=False)

  # the Jacobian, and what the penalty computes: the row norms of ∇ₓ Σ_i f(x_i)
  jac, norms = jax.jit(lambda x: (_jacobian_blocks(f, x), critic_input_gradient_norms(f, x)))(x)
  diag = jnp.stack([jac[i, i] for i in range(B)])  # ∂f(x_i)/∂x_i [B, D]
  # each example's own block is non-zero (else the off-diagonal check would be empty) ...
  assert float(jnp.min(jnp.max(jnp.abs(diag), axis=1))) > 0
  # ... no example's score depends on another example ...
  assert _off_diagonal_ratio(jac) <= 1e-7
  # ... so the penalty's per-example norms are those of the examples' own gradients
  np.testing.assert_allclose(norms, jnp.linalg.norm(diag, axis=1), rtol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_batchnorm_critic_in_training_mode_fails_the_check(name):
  """The negative control: BatchNorm's batch statistics make every score depend on every
  example, and the check above sees it. In the penalty's inference mode (train=False)
  BatchNorm normalises by its running averages and is per-example again; the library refuses
  it with a penalty all the same (`check_critic_norm`), because the loss's training-mode pass
  mixes the batch."""
  f_train, x = _critic_fn(name, "batch", train=True)
  f_infer, _ = _critic_fn(name, "batch", train=False)
  jac_train, jac_infer = jax.jit(lambda x: (_jacobian_blocks(f_train, x),
                                            _jacobian_blocks(f_infer, x)))(x)
  assert _off_diagonal_ratio(jac_train) > 0.1
  assert _off_diagonal_ratio(jac_infer) <= 1e-7


def test_resnet_critic_refuses_batchnorm():
  with pytest.raises(ValueError, match="norm 'none' or 'layer'"):
    jax.eval_shape(lambda x: ResNetCritic(dim=4, norm="batch").init(jax.random.key(0), x,
                                                                   train=False),
                   jnp.zeros(RESNET_IMAGE))
