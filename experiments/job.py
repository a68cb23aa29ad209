"""The command-line tail of the jobs (`python -m experiments.toy|images|text`): parse the typed
config, hold the output folder, run, report; bad input exits 2 with one line naming the flag.

It sits above both `experiments.cli` (flags and configs) and `experiments.loop` (training), so
neither imports the other's caller.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, Mapping, Optional, Sequence

from experiments import cli
from experiments import loop as loop_lib
from wgan_jax.errors import CheckpointError


def _leaves_no_trace(out: str) -> bool:
  """Remove `out`, made by a run refused or interrupted before it wrote anything (only the lock
  and empty folders such as checkpoints/ in it); True if it was removed."""
  for root, dirs, files in os.walk(out):
    if [f for f in files if not (root == out and f == ".lock")]:
      return False
  shutil.rmtree(out, ignore_errors=True)
  return True


def run_job(argv, *, prog: str, description: str, presets: Mapping[str, Any], run, report,
            choices: Optional[Mapping[str, Sequence[str]]] = None) -> int:
  """The command-line tail shared by the jobs: parse, resolve, check, `run(config)`, report.

  `run(config)` returns (summary dict, `RunResult`); `report(config, summary)` prints the
  summary lines. The exit code is the run's `StopReason.exit_code`; bad input exits 2 with one
  line naming the flag.
  """
  parser = cli.preset_parser(presets, prog=prog, description=description, choices=choices)
  if len(presets) > 1:
    own = cli.dataset_presets(presets)
    parser.add_argument("--preset", choices=sorted(presets), default=None,
                        help="named configs: " + "; ".join(
                            f"{k}: " + (", ".join(f"{f}={v}" for f, v in
                                                  cli.preset_changes(presets, k).items()) or
                                        "the CPU-sized defaults") for k in presets)
                        + ". Explicit flags override the preset." + (
                            " Without --preset, a --dataset that has a preset of its own "
                            f"name runs that preset ({', '.join(own)}), else default"
                            if own else ""))
  args = parser.parse_args(argv)
  config = cli.resolve(args, presets=presets, preset=getattr(args, "preset", None))
  out = config.loop.out
  created = not os.path.exists(out)
  try:
    # before any work: a bad or busy folder fails first (one lock, held by process 0)
    loop_lib.hold_workdir(out, lock=loop_lib.process_id(config.loop) == 0)
    loop_lib.init_distributed(config.loop)  # before anything touches the XLA backend
    summary, result = run(config)
  except (ValueError, CheckpointError, ImportError) as e:
    loop_lib.release_workdir(out)
    if created and os.path.isdir(out):
      _leaves_no_trace(out)  # nothing was written: leave no trace of a refused run
    cli.fail(cli.flag_message(e))
  except KeyboardInterrupt:  # Ctrl-C outside the loop's own handler (set-up, final outputs)
    loop_lib.release_workdir(out)
    if created and os.path.isdir(out) and _leaves_no_trace(out):
      cli.fail("interrupted before training started: nothing was computed or saved", code=130)
    cli.fail(f"interrupted; what {out} holds is kept (--resume continues from its last "
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
