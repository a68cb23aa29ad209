"""Reproduce the papers' figures and tables, and write RESULTS.md beside them.

  python -m experiments.reproduce                       # all, CPU sizes (about 2–2.5 hours)
  python -m experiments.reproduce --only parallel_lines --only mode_collapse
  python -m experiments.reproduce --full --out runs/full   # the papers' sizes, for an accelerator

Each figure writes NAME.png and NAME.json (every number plotted) into --out; RESULTS.md lists,
for each, what the paper shows, what we measured, each checked claim, and whether the shape
matches (yes: every claim holds; partly; no).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from typing import Dict, List, Optional

from experiments import common
from experiments.figures import FIGURES


def verdict(checks: Dict[str, bool]) -> str:
  ok = sum(checks.values())
  return "yes" if ok == len(checks) else "no" if ok == 0 else "partly"


def results_markdown(results: List[Dict], *, full: bool, seconds: Dict[str, float]) -> str:
  lines = ["# Results", "",
           f"Written by `python -m experiments.reproduce{' --full' if full else ''}`; every "
           "number below is in the JSON beside each figure. \"Shape matches\" is *yes* when "
           "every checked claim holds, *partly* when some do, *no* when none do; the checks "
           "are the papers' qualitative claims, measured on our CPU-sized runs.", "",
           "Seconds are wall-clock on the machine of the run, which others may have shared; CPU "
           "seconds are the run's own (÷ 2 estimates the wall-clock on 2 idle cores).", "",
           "| figure | shape matches | published (the paper's own number) | seconds | CPU s |",
           "|---|---|---|---|---|"]
  for r in results:
    cpu = r.get("cpu_seconds")
    lines.append(f"| [{r['name']}](#{r['name']}) | {verdict(r['checks'])} | "
                 f"{r.get('published') or '–'} | {seconds[r['name']]:.0f} | "
                 f"{'–' if cpu is None else f'{cpu:.0f}'} |")
  for r in results:
    lines += ["", f"## {r['name']}", "", f"![{r['name']}]({r['name']}.png)", "",
              f"**Paper.** {r['paper']}", ""]
    if r.get("published"):
      lines += [f"**Published.** {r['published']}", ""]
    lines += [f"**Measured.** {r['summary']}", ""]
    lines += [f"- [{'x' if ok else ' '}] {claim}" for claim, ok in r["checks"].items()]
    if r.get("markdown"):
      lines += ["", r["markdown"]]
    if r.get("note"):
      lines += ["", f"**Note.** {r['note']}"]
  return "\n".join(lines) + "\n"




def _read_saved(path: str) -> dict:
  """A figure's saved NAME.json, or a one-line error naming the file (exit 2) when it is
  truncated, empty or not a figure's result."""
  from experiments import cli
  try:
    with open(path, encoding="utf-8") as f:
      saved = json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    cli.fail(f"{path}: not a figure's JSON ({type(e).__name__}: {e}); run the figure again "
             "(--only NAME) or delete the file")
  if not isinstance(saved, dict) or "checks" not in saved:
    cli.fail(f"{path}: not a figure's JSON (no checks); run the figure again (--only NAME) or "
             "delete the file")
  return saved


def main(argv: Optional[List[str]] = None) -> int:
  from experiments.cli import OneLineParser  # errors as one line naming the flag
  p = OneLineParser(prog="python -m experiments.reproduce", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
  p.add_argument("--only", action="append", choices=FIGURES, default=None, metavar="NAME",
                 help=f"run only this figure (repeatable); one of {', '.join(FIGURES)}")
  p.add_argument("--full", action="store_true", help="the papers' sizes (for an accelerator)")
  p.add_argument("--scale", choices=("tiny", "default", "full"), default=None,
                 help="tiny: seconds-long smoke runs (tests); default: CPU sizes; full: as --full")
  p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  p.add_argument("--rebuild", action="store_true",
                 help="run nothing: rewrite OUT/RESULTS.md from the figures' JSON already in OUT "
                      "(their paper quotes, notes and published numbers read afresh from the "
                      "code)")
  args = p.parse_args(argv)
  from experiments import cli, loop
  if not 0 <= args.seed < 2**63:   # as the jobs' --seed: what jax.random.key takes
    cli.fail(f"--seed: must be an integer in [0, 2^63), got {args.seed}")
  if args.full and args.scale not in (None, "full"):
    cli.fail(f"--full: is --scale full, which contradicts --scale {args.scale}")
  try:
    loop.hold_workdir(args.out)  # a bad or busy folder fails before any figure is computed
  except ValueError as e:
    cli.fail(cli.flag_message(e))
  scale = args.scale or ("full" if args.full else "default")
  names = list(dict.fromkeys(args.only or FIGURES))  # a figure named twice runs once
  if args.rebuild:
    if args.only:
      cli.fail("--rebuild: runs no figure, so it takes no --only")
    names = []
  results, seconds, cpu = [], {}, {}
  interrupted = None
  for name in names:
    module = importlib.import_module(f"experiments.figures.{name}")
    t0, c0 = time.time(), common.cpu_seconds(children=True)
    print(f"[{name}] running ({scale})...", file=sys.stderr, flush=True)
    try:
      r = module.run(args.out, seed=args.seed, scale=scale)
    except KeyboardInterrupt as e:  # SIGTERM / SIGINT: keep what finished, run nothing more
      interrupted = f"[{name}] stopped ({e or 'interrupted'}); nothing after it was run"
      print(interrupted, file=sys.stderr, flush=True)
      break
    seconds[name], cpu[name] = time.time() - t0, common.cpu_seconds(children=True) - c0
    r["cpu_seconds"] = cpu[name]
    r["note"] = getattr(module, "NOTE", None)
    r["published"] = getattr(module, "PUBLISHED", None)
    results.append(r)
    print(f"[{name}] {verdict(r['checks'])}: {r['summary']} ({seconds[name]:.0f} s, "
          f"{cpu[name]:.0f} CPU s)",
          file=sys.stderr, flush=True)
  # Figures run earlier into the same folder (their NAME.json) stay in RESULTS.md, so
  # `--only NAME` refreshes one figure without dropping the others.
  ran = {r["name"] for r in results}
  for r in results:
    path = os.path.join(args.out, f"{r['name']}.json")
    saved = _read_saved(path) if os.path.exists(path) else dict(r)
    saved.update(seconds=seconds[r["name"]], cpu_seconds=cpu[r["name"]], scale=scale,
                 **{k: r[k] for k in ("markdown", "note", "published") if r.get(k)})
    common.write_json(path, saved)
  for name in FIGURES:
    path = os.path.join(args.out, f"{name}.json")
    if name not in ran and os.path.exists(path):
      saved = _read_saved(path)
      if saved.get("scale", scale) == scale and "seconds" in saved:
        # the quote, note and published numbers are the code's, not the run's: read afresh
        module = importlib.import_module(f"experiments.figures.{name}")
        saved["paper"] = getattr(module, "PAPER", saved.get("paper"))
        for k in ("note", "published"):
          saved[k] = getattr(module, k.upper(), saved.get(k))
        results.append(saved)
        seconds[name] = saved["seconds"]
  results.sort(key=lambda r: FIGURES.index(r["name"]))
  md = results_markdown(results, full=scale == "full", seconds=seconds)
  common.atomic_write_bytes(os.path.join(args.out, "RESULTS.md"), md.encode())
  print(f"wrote {os.path.join(args.out, 'RESULTS.md')} and {len(results)} figures")
  return 130 if interrupted else 0


if __name__ == "__main__":
  raise SystemExit(main())
