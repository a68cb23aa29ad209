"""Typed run configurations and the command line made from them.

A run is configured by a tree of frozen dataclasses (game, model, data, loop). Each leaf field is
declared once, with `opt(default, help)`; `build_parser` turns every field into a flag
(`lr_d` -> `--lr-d`, grouped by sub-config, the help text from the field), and `resolve` builds
the tree from defaults < named config (a preset) < explicit flags. Validation lives in each
dataclass's `__post_init__` and raises `OptionError(field, message)`, which the command line
prints as one line naming the flag, and Python callers see as a ValueError naming the field.

Why frozen dataclasses and not `ml_collections`: the fields are typed and checked where they
are declared, the tree is hashable and comparable (resume compares it), and it costs no extra
dependency; a named config ("default", "official", "paper") is a dict of field overrides.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import typing
from typing import Any, Dict, List, Mapping, Optional, Sequence


class OptionError(ValueError):
  """A bad value for the config field `field` (the message names it)."""

  def __init__(self, field: str, message: str):
    super().__init__(f"{field}: {message}")
    self.field = field
    self.message = message


def opt(default: Any = None, help: str = "", *, choices: Optional[Sequence[Any]] = None,
        metavar: Optional[str] = None, flag: Optional[str] = None, cli: bool = True):
  """A config field with its command-line help (`flag` overrides the derived --name)."""
  return dataclasses.field(default=default, metadata=dict(
      help=help, choices=choices, metavar=metavar, flag=flag, cli=cli))


def flag_of(field: str) -> str:
  return "--" + field.replace("_", "-")


def flag_message(e: BaseException) -> str:
  """An error naming a config field as a one-line message naming its flag."""
  field = getattr(e, "field", None)
  text = str(e)
  if field and text.startswith(f"{field}:"):
    return flag_of(field) + text[len(field):]
  return text


def renamed(e: BaseException, default: str, **fields: str) -> OptionError:
  """A library error ("argument: message") as an `OptionError` on the config field that fed
  that argument (`fields`: argument -> config field), or on `default`."""
  text = str(e)
  head, sep, rest = text.partition(": ")
  if sep and head in fields:
    return OptionError(fields[head], rest)
  return OptionError(default, text)


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


def _leaves_no_trace(out: str) -> bool:
  """Remove `out`, made by a run refused or interrupted before it wrote anything (only the lock
  and empty folders such as checkpoints/ in it); True if it was removed."""
  for root, dirs, files in os.walk(out):
    if [f for f in files if not (root == out and f == ".lock")]:
      return False
  shutil.rmtree(out, ignore_errors=True)
  return True


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
  """A parser with one flag per leaf field of the dataclass tree `cls`; argparse defaults are
  None (unset), so `resolve` can layer defaults < preset < explicit flags."""
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


def _add_flag(group, f: dataclasses.Field, annotation, defaults: Mapping[str, Any],
              choices: Mapping[str, Sequence[str]]) -> None:
  meta = f.metadata
  if not meta.get("cli", True):
    return
  flag = meta.get("flag") or flag_of(f.name)
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


def resolve(cls, args: argparse.Namespace, *, defaults: Mapping[str, Any],
            presets: Mapping[str, Mapping[str, Any]], preset: str = "default"):
  """Defaults < the named preset < explicit flags, built into the typed tree (one-line error
  naming the flag on a bad value)."""
  values: Dict[str, Any] = dict(defaults)
  values.update(presets.get(preset, {}))
  values.update({k: v for k, v in vars(args).items() if v is not None and k != "preset"})
  values["preset"] = preset
  try:
    return build(cls, values)
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


def run_job(argv, *, cls, prog: str, description: str, defaults: Mapping[str, Any],
            presets: Mapping[str, Mapping[str, Any]], run, report,
            choices: Optional[Mapping[str, Sequence[str]]] = None) -> int:
  """The command-line tail shared by the jobs: parse, resolve, check, `run(config)`, report.

  `run(config)` returns (summary dict, `RunResult`); `report(config, summary)` prints the
  summary lines. The exit code is the run's `StopReason.exit_code`; bad input exits 2 with one
  line naming the flag.
  """
  from experiments.loop import init_distributed
  from wgan_jax.checkpoint import CheckpointError
  parser = build_parser(cls, prog=prog, description=description,
                        defaults={**defaults, **presets.get("default", {})}, choices=choices)
  if len(presets) > 1:
    parser.add_argument("--preset", choices=sorted(presets), default="default",
                        help="named configs: " + "; ".join(
                            f"{k}: " + (", ".join(f"{f}={v}" for f, v in p.items()) or
                                        "the CPU-sized defaults") for k, p in presets.items())
                        + ". Explicit flags override the preset")
  args = parser.parse_args(argv)
  config = resolve(cls, args, defaults=defaults, presets=presets,
                   preset=getattr(args, "preset", "default"))
  from experiments import loop as loop_lib
  out = config.loop.out
  created = not os.path.exists(out)
  try:
    # before any work: a bad or busy folder fails first (one lock, held by process 0)
    loop_lib.hold_workdir(out, lock=loop_lib.process_id(config.loop) == 0)
    init_distributed(config.loop)  # before anything touches the XLA backend
    summary, result = run(config)
  except (ValueError, CheckpointError, ImportError) as e:
    loop_lib.release_workdir(out)
    if created and os.path.isdir(out):
      _leaves_no_trace(out)  # nothing was written: leave no trace of a refused run
    fail(flag_message(e))
  except KeyboardInterrupt:  # Ctrl-C outside the loop's own handler (set-up, final outputs)
    loop_lib.release_workdir(out)
    if created and os.path.isdir(out) and _leaves_no_trace(out):
      fail("interrupted before training started: nothing was computed or saved", code=130)
    fail(f"interrupted; what {out} holds is kept (--resume continues from its last "
         "checkpoint)", code=130)
  loop_lib.release_workdir(out)
  for line in result.resume_changes or []:
    print(f"resumed with a changed option: {line}", file=sys.stderr)
  if result.skipped_updates:
    print(f"skipped non-finite updates: {result.skipped_updates['critic']} critic, "
          f"{result.skipped_updates['generator']} generator", file=sys.stderr)
  if result.main_process and summary:
    report(config, summary)
  if result.stopped:
    print(f"stopped: {result.stopped}", file=sys.stderr)
  return result.stop_reason.exit_code
