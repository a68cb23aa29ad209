"""Typed run configurations and the command line made from them.

A run is configured by a tree of frozen dataclasses (game, model, data, loop). Each leaf field is
declared once, with `opt(default, help)`; `build_parser` turns every field into a flag
(`lr_d` -> `--lr-d`, grouped by sub-config, the help text from the field), and `resolve` sets
the explicit flags on a named config (a preset: itself a config tree, a value). Validation lives in each
dataclass's `__post_init__` and raises `OptionError(field, message)`, which the command line
prints as one line naming the flag, and Python callers see as a ValueError naming the field.

Why frozen dataclasses and not `ml_collections`: the fields are typed and checked where they
are declared, the tree is hashable and comparable (resume compares it), and it costs no extra
dependency; a named config ("default", "official", "paper") is a tree like any other, written in
Python (`with_leaves(default, width=512, ...)`) and importable.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from typing import Any, Dict, List, Mapping, Optional, Sequence

from wgan_jax.errors import ConfigError


class OptionError(ConfigError):
  """A bad value for the config field `field` of a job's config (the message names it); the
  library's `ConfigError`, so one `except ConfigError` and one `.field` serve both."""


def opt(default: Any = None, help: str = "", *, choices: Optional[Sequence[Any]] = None,
        metavar: Optional[str] = None, flag: Optional[str] = None, cli: bool = True):
  """A config field with its command-line help (`flag` overrides the derived --name)."""
  return dataclasses.field(default=default, metadata=dict(
      help=help, choices=choices, metavar=metavar, flag=flag, cli=cli))


# Fields whose flag is not the derived --name (opt(flag=...)), filled as parsers are built.
_FLAGS: Dict[str, str] = {}


def flag_of(field: str) -> str:
  return _FLAGS.get(field) or "--" + field.replace("_", "-")


def flag_message(e: BaseException) -> str:
  """An error naming a config field as a one-line message naming its flag."""
  field = getattr(e, "field", None)
  text = str(e)
  if field and text.startswith(f"{field}:"):
    return flag_of(field) + text[len(field):]
  return text


def renamed(e: BaseException, default: str, **fields: str) -> OptionError:
  """A library error as an `OptionError` on the config field that fed the argument it names
  (`fields`: argument -> config field), or on `default`. A `ConfigError` is read by its
  `.field`; any other error by its message's "argument: " head."""
  if isinstance(e, ConfigError):
    head, rest = e.field, e.message
  else:
    head, sep, rest = str(e).partition(": ")
    if not sep:
      head = None
  if head in fields:
    return OptionError(fields[head], rest)
  return OptionError(default, str(e))


def fail(message: str, code: int = 2) -> "typing.NoReturn":
  """One-line error to stderr and exit: how the command line reports bad input."""
  print(f"error: {message}", file=sys.stderr)
  raise SystemExit(code)


class OneLineParser(argparse.ArgumentParser):
  """argparse whose errors are one line naming the flag ("error: --flag: message", exit 2), as
  the config's errors are, instead of the whole usage block before the message."""

  def error(self, message: str) -> "typing.NoReturn":
    if message.startswith("argument "):
      message = message[len("argument "):]
      flag = message.split(":", 1)[0].split("/")[-1]
      if message.endswith("expected one argument"):
        # argparse reads "-1e-4" as a flag: only "--flag=-1e-4" passes a negative number
        message += f" (a negative value: write it as {flag}=VALUE)"
    fail(f"{message} (see {self.prog} --help)")


def check_positive(obj, *names: str, minimum: int = 1) -> None:
  """Each named int field must be ≥ `minimum` (None allowed for Optional fields)."""
  for name in names:
    v = getattr(obj, name)
    if v is None and _is_optional(obj, name):
      continue
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
      raise OptionError(name, f"must be {'a positive integer' if minimum == 1 else f'an integer ≥ {minimum}'}, got {v!r}")


def check_choice(obj, name: str, choices: Sequence[Any]) -> None:
  v = getattr(obj, name)
  if v not in choices:
    raise OptionError(name, f"unknown value {v!r}; choose one of {list(choices)}")


def _is_optional(obj, name: str) -> bool:
  hints = typing.get_type_hints(type(obj))
  return type(None) in typing.get_args(hints.get(name))


def _leaf_fields(cls) -> List[dataclasses.Field]:
  out = []
  hints = typing.get_type_hints(cls)
  for f in dataclasses.fields(cls):
    if dataclasses.is_dataclass(hints[f.name]):
      out.extend(_leaf_fields(hints[f.name]))
    else:
      out.append(f)
  return out


def _scalar_type(annotation):
  args = [a for a in typing.get_args(annotation) if a is not type(None)]
  return args[0] if args else annotation


def build_parser(cls, *, prog: str, description: str, defaults: Mapping[str, Any],
                 choices: Optional[Mapping[str, Sequence[str]]] = None
                 ) -> argparse.ArgumentParser:
  """A parser with one flag per leaf field of the dataclass tree `cls`, its help showing
  `defaults` (the default preset's leaves); argparse defaults are None (unset), so `resolve`
  sets only the explicit flags on the preset."""
  p = OneLineParser(prog=prog, description=description,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
  hints = typing.get_type_hints(cls)
  for f in dataclasses.fields(cls):
    sub = hints[f.name]
    if not dataclasses.is_dataclass(sub):
      _add_flag(p, f, hints[f.name], defaults, choices or {})
      continue
    group = p.add_argument_group((sub.__doc__ or f.name).strip().splitlines()[0])
    sub_hints = typing.get_type_hints(sub)
    for leaf in dataclasses.fields(sub):
      _add_flag(group, leaf, sub_hints[leaf.name], defaults, choices or {})
  return p


def preset_parser(presets: Mapping[str, Any], *, prog: str, description: str,
                  choices: Optional[Mapping[str, Sequence[str]]] = None
                  ) -> argparse.ArgumentParser:
  """`build_parser` for a job's presets: one flag per leaf of the default preset's tree, its
  help showing the default preset's values."""
  default = presets["default"]
  return build_parser(type(default), prog=prog, description=description,
                      defaults=flat(default), choices=choices)


def _add_flag(group, f: dataclasses.Field, annotation, defaults: Mapping[str, Any],
              choices: Mapping[str, Sequence[str]]) -> None:
  meta = f.metadata
  if not meta.get("cli", True):
    return
  flag = meta.get("flag") or flag_of(f.name)
  if meta.get("flag"):
    _FLAGS[f.name] = meta["flag"]
  default = defaults.get(f.name, f.default)
  help_text = meta.get("help", "")
  t = _scalar_type(annotation)
  if t is bool:
    if flag.startswith("--no-"):  # a field that is True by default, switched off by the flag
      group.add_argument(flag, dest=f.name, action="store_const", const=False, default=None,
                         help=help_text)
    else:
      group.add_argument(flag, dest=f.name, action="store_const", const=True, default=None,
                         help=help_text)
    return
  if default is not None and "(default" not in help_text:
    help_text = f"{help_text} (default {default})" if help_text else f"default {default}"
  group.add_argument(flag, dest=f.name, type=t, default=None,
                     choices=choices.get(f.name, meta.get("choices")),
                     metavar=meta.get("metavar"), help=help_text)


def build(cls, values: Mapping[str, Any]):
  """The dataclass tree `cls` with its leaves from `values` (missing leaves: field defaults)."""
  hints = typing.get_type_hints(cls)
  kwargs = {}
  for f in dataclasses.fields(cls):
    if dataclasses.is_dataclass(hints[f.name]):
      kwargs[f.name] = build(hints[f.name], values)
    elif f.name in values:
      kwargs[f.name] = values[f.name]
  return cls(**kwargs)


def leaf_names(cls) -> set:
  """The leaf field names of the dataclass tree `cls` (its flags, without the dashes)."""
  hints = typing.get_type_hints(cls)
  out = set()
  for f in dataclasses.fields(cls):
    out |= leaf_names(hints[f.name]) if dataclasses.is_dataclass(hints[f.name]) else {f.name}
  return out


def with_leaves(config, **values):
  """The config tree `config` with the named leaves set (names as the flags without dashes:
  `with_leaves(c, iters=100, width=64)`), validated as a whole new tree, so a value that only
  makes sense beside another may be set with it in one call.

  Raises:
    OptionError: an unknown leaf name, or a bad value (`.field` names it).
  """
  unknown = sorted(set(values) - leaf_names(type(config)))
  if unknown:
    raise OptionError(unknown[0], f"not a field of {type(config).__name__} (its fields: "
                      f"{', '.join(sorted(leaf_names(type(config))))})")
  return build(type(config), {**flat(config), **values})


def preset_changes(presets: Mapping[str, Any], name: str) -> Dict[str, Any]:
  """The leaves in which the preset `name` differs from the "default" preset."""
  base, own = flat(presets["default"]), flat(presets[name])
  return {k: v for k, v in own.items() if k != "preset" and base.get(k) != v}


def dataset_presets(presets: Mapping[str, Any]) -> List[str]:
  """The presets that are a data set's own: named after the data set they set."""
  return [k for k, p in presets.items() if flat(p).get("dataset") == k]


def preset_for(presets: Mapping[str, Any], preset: Optional[str],
               fields: Mapping[str, Any]) -> str:
  """The preset a run uses: `preset` when one is named; else the data set's own preset
  (`dataset_presets`) for the data set that `fields` ask for (`--dataset fashion-mnist` runs
  the "fashion-mnist" preset, sized for that data); else "default"."""
  if preset is not None:
    return preset
  dataset = fields.get("dataset")
  return dataset if dataset in dataset_presets(presets) else "default"


def configure(presets: Mapping[str, Any], preset: Optional[str] = None, **fields):
  """The preset (named, or the data set's own: `preset_for`) with `fields` set on it: what a
  job runs. A tree with a `preset` leaf records the preset's name there.

  Raises:
    OptionError: an unknown preset or field, or a bad value (`.field` names it).
  """
  preset = preset_for(presets, preset, fields)
  if preset not in presets:
    raise OptionError("preset", f"must be one of {sorted(presets)}, got {preset!r}")
  base = presets[preset]
  if "preset" in leaf_names(type(base)):
    fields = {**fields, "preset": preset}
  return with_leaves(base, **fields)


def resolve(args: argparse.Namespace, *, presets: Mapping[str, Any],
            preset: Optional[str] = None):
  """The preset (named, or the data set's own: `preset_for`) with the explicit flags set on
  it (one-line error naming the flag on a bad value)."""
  explicit = {k: v for k, v in vars(args).items() if v is not None and k != "preset"}
  try:
    return configure(presets, preset, **explicit)
  except ValueError as e:
    fail(flag_message(e))


def flat(config) -> Dict[str, Any]:
  """The leaves of a config tree as one flat dict (for metrics.json's `args`)."""
  out = {}
  for f in dataclasses.fields(config):
    v = getattr(config, f.name)
    if dataclasses.is_dataclass(v):
      out.update(flat(v))
    else:
      out[f.name] = v
  return out
