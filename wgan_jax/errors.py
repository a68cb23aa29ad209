"""The library's error types: `ConfigError`, a bad value for a named config field or argument
(its `.field` names it), and `CheckpointError`, a checkpoint that cannot be used.

They live in their own light module, imported by every other one, so that no import circle is
needed to raise them (`wgan_jax.config` re-exports `ConfigError`, `wgan_jax.checkpoint`
`CheckpointError`).
"""

from __future__ import annotations


class ConfigError(ValueError):
  """A bad value for the config field (or argument) `field`; the message starts with it.

  Attributes:
    field: the Python name at fault, e.g. "lr_d", "objective", "components".
    message: the explanation, without the field name.
  """

  def __init__(self, field: str, message: str):
    super().__init__(f"{field}: {message}")
    self.field = field
    self.message = message

  def __reduce__(self):  # pickles (e.g. across processes) with both arguments
    return type(self), (self.field, self.message)


class CheckpointError(RuntimeError):
  """A checkpoint that cannot be used: another configuration, or damaged."""
