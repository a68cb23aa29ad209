"""Data-parallel training over devices: the only module that calls `jax.pmap`.

The steps of `wgan_jax.train.GAN` are written against an axis name: each shard draws its slice
of the global batch (per-example keys at global indices) and `pmean`s gradients, BatchNorm
statistics and metrics. This module binds that axis with one of two backends:

- `pmap`: the state is replicated with a leading device axis; `jax.pmap` is in maintenance mode
  (since JAX 0.8 it is built on jit + shard_map) but still the most common form.
- `shard_map`: `jax.jit(jax.shard_map(...))` over a 1-D mesh of the devices; the state is an
  ordinary (replicated) array tree, so the rest of the program does not change. It runs with
  `check_vma=False`: with the check on, the gradient of a replicated parameter is psum'd
  automatically, which would double-count with the step's explicit `pmean`.

Both give the same numbers as one device on the same global batch (tests check it to float
tolerance), because every random draw depends on the example's global index only.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional, Sequence, Tuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from wgan_jax.config import ConfigError
from wgan_jax.train import GAN, trace_once

AXIS = "devices"
BACKENDS = ("none", "pmap", "shard_map")


def shard_gan(gan: GAN, num_devices: int, axis_name: str = AXIS) -> GAN:
  """The same GAN with its steps bound to `axis_name` over `num_devices` shards.

  BatchNorm layers of models that have an `axis_name` field synchronise their statistics over
  the same axis.

  Raises:
    ConfigError: naming "batch_size", when the global batch does not divide by the device
      count.
  """
  def bind(module):
    if "axis_name" in getattr(module, "__dataclass_fields__", {}):
      return module.clone(axis_name=axis_name)
    return module

  return dataclasses.replace(gan, generator=bind(gan.generator), critic=bind(gan.critic),
                             axis_name=axis_name, num_shards=num_devices)


class ParallelTrainer:
  """Builds the multi-device versions of `GAN.train_step` for one backend.

  Usage:
    trainer = ParallelTrainer(gan, backend="shard_map")
    pstate = trainer.put(state)                       # replicate over the devices
    pstate, metrics = trainer.train_step(5, 50)(pstate, key)
    state = trainer.get(pstate)                       # back to one copy

  Metrics come back as one copy (they are `pmean`'d over the devices). The compiled steps are
  built once per (n_critic, iterations) and kept on the trainer (dropped with it).

  Raises:
    ConfigError: naming "backend" for an unknown backend, "batch_size" when the global batch
      does not divide by the device count.
  """

  def __init__(self, gan: GAN, backend: str = "pmap",
               devices: Optional[Sequence[jax.Device]] = None):
    if backend not in ("pmap", "shard_map"):
      raise ConfigError("backend", f"unknown backend {backend!r}; choose one of "
                        f"{list(BACKENDS[1:])}")
    if devices is not None and len(list(devices)) == 0:
      raise ConfigError("devices", "must name at least one device, got an empty list")
    self.backend = backend
    self._compiled: Dict[Tuple[int, int], Callable] = {}
    if backend == "pmap":
      self.devices = list(devices) if devices is not None else jax.local_devices()
      num = len(self.devices) * jax.process_count() if devices is None else len(self.devices)
    else:
      self.devices = list(devices) if devices is not None else jax.devices()
      num = len(self.devices)
    self.num_devices = num
    self.gan = shard_gan(gan, num)
    if backend == "shard_map":
      self.mesh = Mesh(np.array(self.devices), (AXIS,))

  # ------------------------------------------------------------------ state placement
  def put(self, state):
    """One copy of the state -> the backend's replicated form."""
    if self.backend == "pmap":
      n = len(self.devices)
      stacked = jax.tree_util.tree_map(lambda x: np.broadcast_to(x, (n,) + np.shape(x)),
                                       jax.device_get(state))
      # The sharding a pmap over this axis returns, so the first call and the next ones see
      # the same input layout (and the step compiles once).
      return jax.device_put(stacked, NamedSharding(Mesh(np.array(self.devices), (AXIS,)),
                                                   P(AXIS)))
    return jax.device_put(state, NamedSharding(self.mesh, P()))

  def get(self, pstate):
    """The backend's replicated form -> one host-side copy."""
    if self.backend == "pmap":
      return jax.tree_util.tree_map(lambda x: x[0], pstate)
    return pstate

  # ------------------------------------------------------------------ steps
  def train_step(self, n_critic: Optional[int] = None, iterations: int = 1):
    """The compiled data-parallel fused step (state, key, data) -> (state, metrics)."""
    n_critic = self.gan.config.n_critic if n_critic is None else n_critic
    if (n_critic, iterations) not in self._compiled:
      fn = self.gan.train_step_fn(n_critic, iterations)
      name = f"{self.backend} train_step(n_critic={n_critic}, iterations={iterations})"
      self._compiled[(n_critic, iterations)] = self.parallelize(fn, name)
    return self._compiled[(n_critic, iterations)]

  def parallelize(self, fn, name: str = "step"):
    """Compile fn(state, key, data) -> (out1, out2) written against the sharded GAN's axis
    (for instance `trainer.gan.critic_grads`) for this backend. Both outputs must be
    replicated (`pmean`'d); the first keeps the backend's form, the second comes back as one
    copy."""
    if self.backend == "pmap":
      def step(state, key, data=None):
        return fn(state, key, data)
      pmapped = jax.pmap(trace_once(step, name), axis_name=AXIS, in_axes=(0, None, None),
                         devices=self.devices)

      def call(pstate, key, data=None):
        pstate, metrics = pmapped(pstate, key, data)
        return pstate, jax.tree_util.tree_map(lambda m: m[0], metrics)
      return call

    def step(state, key, data=None):
      return fn(state, key, data)
    mapped = jax.jit(trace_once(
        jax.shard_map(step, mesh=self.mesh, in_specs=(P(), P(), P()), out_specs=(P(), P()),
                      check_vma=False),
        name))

    def call(state, key, data=None):
      return mapped(state, key, data)
    return call
