"""Reproduce the papers' figures and tables, and write RESULTS.md beside them.

  python -m experiments.reproduce                       # all, CPU sizes (about 2–2.5 hours)
  python -m experiments.reproduce --only parallel_lines --only mode_collapse
  python -m experiments.reproduce --full --out runs/full   # the papers' sizes, for an accelerator
  python -m experiments.reproduce --plan --scale full --jobs  # what --full costs, before booking

Each figure writes NAME.png and NAME.json (every number plotted) into --out; RESULTS.md lists,
for each, what the paper shows, what we measured, each checked claim, and whether the shape
matches (yes: every claim holds; partly; no).

--plan runs nothing: for each figure (and with --jobs the jobs' presets) it compiles the fused
training step of every GAN the figure trains at the scale (n_critic critic steps and one
generator step, at the real batch, model and data shapes; each distinct program once) and
prints XLA's FLOPs per generator iteration, the step's peak memory, runs × iterations and the
projected hours at --rate; plan.json in --out holds every number.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import time
from typing import Dict, List, Optional

import jax

from experiments import cli, common, loop
from experiments.figures import FIGURES, _common, runner
from wgan_jax.errors import ConfigError


verdict = runner.verdict


def results_markdown(results: List[Dict], *, full: bool, seconds: Dict[str, float]) -> str:
  lines = ["# Results", "",
           f"Written by `python -m experiments.reproduce{' --full' if full else ''}`; every "
           "number below is in the JSON beside each figure. \"Shape matches\" counts only the "
           "informative checks: *yes* when every one holds, *partly* when some do, *no* when "
           "none do; a check marked [~] is *underpowered* (its test cannot reject at the run's "
           "sample size) and is never counted as a pass. The checks are the papers' claims, "
           "measured on our CPU-sized runs; `--rebuild` re-judges the stored numbers with the "
           "code as it is. One margin rule for \"A beats B\" over seeds: the difference of the "
           f"means exceeds {runner.MARGIN_SE:g} standard errors of the difference, "
           "√(s.e.² + s.e.²).", "",
           "Seconds are wall-clock on the machine of the run, which others may have shared; CPU "
           "seconds are the run's own (÷ 2 estimates the wall-clock on 2 idle cores).", "",
           "| figure | shape matches | published (the paper's own number) | seconds | CPU s |",
           "|---|---|---|---|---|"]
  for r in results:
    cpu, wall = r.get("cpu_seconds"), seconds.get(r["name"])
    lines.append(f"| [{r['name']}](#{r['name']}) | {verdict(r['checks'])} | "
                 f"{r.get('published') or '–'} | {'–' if wall is None else f'{wall:.0f}'} | "
                 f"{'–' if cpu is None else f'{cpu:.0f}'} |")
  for r in results:
    lines += ["", f"## {r['name']}", "", f"![{r['name']}]({r['name']}.png)", "",
              f"**Paper.** {r['paper']}", ""]
    if r.get("published"):
      lines += [f"**Published.** {r['published']}", ""]
    lines += [f"**Measured.** {r['summary']}", ""]
    lines += [f"- [{runner.mark(ok)}] {claim}" + (" *(underpowered: cannot reject at this "
              "sample size; not counted)*" if ok == runner.UNDERPOWERED else "")
              for claim, ok in r["checks"].items()]
    if r.get("markdown"):
      lines += ["", r["markdown"]]
    if r.get("note"):
      lines += ["", f"**Note.** {r['note']}"]
  return "\n".join(lines) + "\n"




def _read_saved(path: str) -> dict:
  """A figure's saved NAME.json, or a one-line error naming the file (exit 2) when it is
  truncated, empty or not a figure's result."""
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


# ------------------------------------------------------------------ --plan
DEFAULT_RATE = 100.0   # TFLOP/s: about a third of an H100's dense bf16/tf32 peak (~990 / 495)
DEFAULT_MAX_PROGRAMS = 16


def _bytes(n: float) -> str:
  for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
    if n >= size:
      return f"{n / size:.1f} {unit}"
  return f"{n:.0f} B"


def _num(x: float) -> str:
  """A positive number at a readable precision: 1,234 / 12.3 / 0.0123."""
  if x >= 100:
    return f"{x:,.0f}"
  if x >= 1:
    return f"{x:.1f}"
  return f"{x:.2g}"


def _labels(games) -> str:
  labels = [g.label for g in games]
  return ", ".join(labels) if len(labels) <= 3 else f"{labels[0]}, … ({len(labels)} games)"


def _runs_iterations(games) -> str:
  its = {g.iterations for g in games}
  if len(its) == 1:
    return f"{sum(g.runs for g in games)} × {its.pop():,}"
  return " + ".join(f"{g.runs} × {g.iterations:,}" for g in games)


def plan_costs(sources, *, rate: float, max_programs: int, log=None) -> List[Dict]:
  """Compile and cost every figure's games: [(figure, games)] -> one row per distinct program
  of each figure (its games merged), and per figure a total row.

  A figure with more distinct programs than `max_programs` compiles that many of them, evenly
  spaced, and extrapolates: one row whose FLOPs are the sampled programs' mean per generator
  iteration (weighted by their iterations × runs) and whose memory is the sampled maximum."""
  log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
  costs: Dict[tuple, Dict] = {}   # Game.key() -> cost (across figures: each program once)

  def cost_of(game):
    key = game.key()
    if key not in costs:
      t0 = time.time()
      step = _common.compile_step(game)
      critic = None
      if game.n_critic >= 3 or game.gan.config.warmup:
        critic = _common.compile_critic_step(game)
      c = _common.step_cost(step, n_critic=game.n_critic, critic=critic)
      c["compile_seconds"] = time.time() - t0
      costs[key] = c
    return costs[key]

  rows = []
  for figure, games in sources:
    groups = _common.distinct(games)
    if not groups:
      rows.append(dict(figure=figure, game="(trains no GAN)", total=True, hours=0.0,
                       flops=0.0, peak_bytes=0, device_bytes=0))
      continue
    sampled = groups
    if len(groups) > max_programs:
      step = len(groups) / max_programs
      sampled = [groups[int(i * step)] for i in range(max_programs)]
    t0 = time.time()
    log(f"[{figure}] compiling {len(sampled)} of {len(groups)} programs ({len(games)} games)")
    fig_rows = []
    for rep, members in sampled:
      c = cost_of(rep)
      flops = sum(_common.game_flops(g, c) for g in members)
      fig_rows.append(dict(
          figure=figure, game=_labels(members), runs_iterations=_runs_iterations(members),
          runs=sum(g.runs for g in members), iterations=[g.iterations for g in members],
          flops_per_iteration=c["flops"], xla_flops=c["xla_flops"],
          critic_flops=c["critic_flops"], n_critic=rep.n_critic,
          batch=rep.gan.config.batch_size, peak_bytes=c["peak_bytes"],
          at_once=max(g.at_once for g in members),
          device_bytes=c["peak_bytes"] * max(g.at_once for g in members),
          flops=flops, hours=flops / (rate * 1e12) / 3600,
          compile_seconds=c["compile_seconds"]))
    if len(sampled) < len(groups):
      work = lambda gs: sum(g.runs * g.iterations for g in gs)
      done = sum(work(m) for _, m in sampled)
      everything = sum(work(m) for _, m in groups)
      flops = sum(r["flops"] for r in fig_rows) * everything / done
      peak = max(r["peak_bytes"] for r in fig_rows)
      at_once = max(g.at_once for g in games)
      fig_rows = [dict(
          figure=figure, game=f"{len(games)} games, {len(groups)} programs: {len(sampled)} "
          f"compiled, the rest extrapolated", runs_iterations=_runs_iterations(games),
          runs=sum(g.runs for g in games), flops_per_iteration=flops / everything,
          peak_bytes=peak, at_once=at_once, device_bytes=peak * at_once, flops=flops,
          hours=flops / (rate * 1e12) / 3600, sampled=[r["game"] for r in fig_rows],
          compile_seconds=sum(r["compile_seconds"] for r in fig_rows))]
    rows += fig_rows
    log(f"[{figure}] {time.time() - t0:.0f} s")
    rows.append(dict(figure=figure, game="total", total=True,
                     flops=sum(r["flops"] for r in fig_rows),
                     hours=sum(r["hours"] for r in fig_rows),
                     peak_bytes=max(r["peak_bytes"] for r in fig_rows),
                     device_bytes=max(r["device_bytes"] for r in fig_rows),
                     seconds=time.time() - t0))
  return rows


def plan_table(rows, rate: float) -> str:
  """The rows as a markdown table."""
  lines = [f"| figure | game | runs × iterations | GFLOP / iteration | peak memory / run | "
           f"runs at once | hours at {rate:g} TFLOP/s |", "|---|---|---|---|---|---|---|"]
  for r in rows:
    if r.get("total"):
      if r["game"] == "total":
        lines.append(f"| **{r['figure']}** | **total** | | | | "
                     f"{'' if not r['device_bytes'] else _bytes(r['device_bytes']) + ' at once'}"
                     f" | **{_num(r['hours'])}** |")
      else:
        lines.append(f"| {r['figure']} | {r['game']} | | | | | 0 |")
      continue
    lines.append(f"| {r['figure']} | {r['game']} | {r['runs_iterations']} | "
                 f"{_num(r['flops_per_iteration'] / 1e9)} | {_bytes(r['peak_bytes'])} | "
                 f"{r['at_once']} | {_num(r['hours'])} |")
  return "\n".join(lines)


def plan_main(args, names: List[str], scale: str) -> int:
  t0 = time.time()
  sources = []
  for name in names:
    module = importlib.import_module(f"experiments.figures.{name}")
    # --seed draws random_archs' architectures (and the text figures' corpora)
    takes_seed = "seed" in inspect.signature(module.games).parameters
    sources.append((name, module.games(scale, seed=args.seed) if takes_seed else
                    module.games(scale)))
  if args.jobs:
    for g in _common.job_games(scale):
      sources.append((f"job: {g.label}", [g]))
  rows = plan_costs(sources, rate=args.rate, max_programs=args.max_programs)
  hours = sum(r["hours"] for r in rows if r.get("total"))
  backend = jax.default_backend()
  print(f"Plan of `reproduce --scale {scale}`: XLA's cost of each GAN's fused training step "
        f"(n_critic critic steps + 1 generator step), compiled for this machine's {backend} "
        "backend at the real batch, model and data shapes (nothing run).")
  print(f"Hours are FLOPs / {args.rate:g} TFLOP/s (--rate; the default 100 is about a third "
        "of an H100's dense bf16/tf32 peak): a lower bound, as small models (toy MLPs, "
        "batch-64 convolutions) run far below an accelerator's peak rate. Peak memory is "
        "XLA's for one run's step with the figure's data on the device; runs trained at once "
        "(seeds vmapped) need that many times it; another backend's compiler lays memory out "
        "differently.")
  print()
  print(plan_table(rows, args.rate))
  print()
  seconds = time.time() - t0
  print(f"total: {_num(hours)} hours at {args.rate:g} TFLOP/s (compiled on {backend} in "
        f"{seconds:.0f} s)")
  common.write_json(os.path.join(args.out, "plan.json"), dict(
      scale=scale, rate_tflops=args.rate, backend=backend, seconds=seconds, hours=hours,
      max_programs=args.max_programs,
      xla_counts_loop_body_once=_common.xla_counts_loop_body_once(), rows=rows))
  print(f"wrote {os.path.join(args.out, 'plan.json')}")
  return 0


def main(argv: Optional[List[str]] = None) -> int:
  p = cli.OneLineParser(prog="python -m experiments.reproduce", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
  p.add_argument("--only", action="append", choices=FIGURES, default=None, metavar="NAME",
                 help=f"run only this figure (repeatable); one of {', '.join(FIGURES)}")
  p.add_argument("--full", action="store_true", help="the papers' sizes (for an accelerator)")
  p.add_argument("--scale", choices=("tiny", "default", "full"), default=None,
                 help="tiny: seconds-long smoke runs (tests); default: CPU sizes; full: as --full")
  p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  p.add_argument("--inception-weights", metavar="PATH",
                 help="your FID Inception weights file (torch-fidelity's or pytorch-fid's .pth): "
                 "the Fashion-MNIST figures then also record the Inception FID / IS / KID of "
                 "their samples (slow on a CPU; nothing is downloaded)")
  p.add_argument("--plan", action="store_true",
                 help="run nothing: compile each figure's GAN training steps at --scale (the "
                      "real batch, model and data shapes) and print, per figure, XLA's FLOPs "
                      "per generator iteration, the step's peak memory, runs × iterations and "
                      "the projected hours at --rate; writes OUT/plan.json")
  p.add_argument("--rate", type=float, default=DEFAULT_RATE, metavar="TFLOPS",
                 help=f"--plan: the accelerator's sustained rate in TFLOP/s that the hours "
                      f"assume (default {DEFAULT_RATE:g}: about a third of an H100's dense "
                      "bf16/tf32 peak)")
  p.add_argument("--jobs", action="store_true",
                 help="--plan: also the jobs' presets (at --scale full: toy official, images "
                      "paper, text paper; else their default presets)")
  p.add_argument("--max-programs", type=int, default=DEFAULT_MAX_PROGRAMS, metavar="N",
                 help="--plan: a figure with more distinct programs compiles N of them, "
                      "evenly spaced, and extrapolates its total (random_archs at full scale: "
                      f"600 games; default {DEFAULT_MAX_PROGRAMS})")
  p.add_argument("--rebuild", action="store_true",
                 help="run nothing: rewrite OUT/RESULTS.md from the figures' JSON already in OUT "
                      "(their paper quotes, notes and published numbers read afresh from the "
                      "code)")
  args = p.parse_args(argv)
  if not 0 <= args.seed < 2**63:   # as the jobs' --seed: what jax.random.key takes
    cli.fail(f"--seed: must be an integer in [0, 2^63), got {args.seed}")
  if args.full and args.scale not in (None, "full"):
    cli.fail(f"--full: is --scale full, which contradicts --scale {args.scale}")
  try:
    loop.hold_workdir(args.out)  # a bad or busy folder fails before any figure is computed
    if args.inception_weights:
          _common.set_inception_weights(args.inception_weights)
  except ValueError as e:
    cli.fail(cli.flag_message(e))
  scale = args.scale or ("full" if args.full else "default")
  names = list(dict.fromkeys(args.only or FIGURES))  # a figure named twice runs once
  if args.plan:
    if args.rebuild:
      cli.fail("--plan: runs nothing and writes plan.json; it takes no --rebuild")
    if not (args.rate > 0 and args.rate < float("inf")):
      cli.fail(f"--rate: must be a positive number of TFLOP/s, got {args.rate:g}")
    if args.max_programs < 1:
      cli.fail(f"--max-programs: must be at least 1, got {args.max_programs}")
    return plan_main(args, names, scale)
  for flag in ("jobs",):
    if getattr(args, flag):
      cli.fail(f"--{flag}: is an option of --plan")
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
      r = runner.run(module.FIGURE, args.out, scale=scale, seed=args.seed)
    except KeyboardInterrupt as e:  # SIGTERM / SIGINT: keep what finished, run nothing more
      interrupted = f"[{name}] stopped ({e or 'interrupted'}); nothing after it was run"
      print(interrupted, file=sys.stderr, flush=True)
      break
    seconds[name], cpu[name] = time.time() - t0, common.cpu_seconds(children=True) - c0
    r["cpu_seconds"] = cpu[name]
    r["note"], r["published"] = module.FIGURE.note, module.FIGURE.published
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
                 seed=args.seed,
                 **{k: r[k] for k in ("markdown", "note", "published") if r.get(k)})
    common.write_json(path, saved)
  left_out = []
  for name in FIGURES:
    path = os.path.join(args.out, f"{name}.json")
    if name in ran:
      continue
    if not os.path.exists(path):
      left_out.append(f"{name}: no {name}.json in {args.out}")
      continue
    saved = _read_saved(path)
    if saved.get("scale", scale) != scale:
      left_out.append(f"{name}: its {name}.json is of --scale {saved['scale']}, this "
                      f"RESULTS.md of {scale} (pass --scale {saved['scale']})")
      continue
    module = importlib.import_module(f"experiments.figures.{name}")
    if args.rebuild:
      # re-judged and re-plotted from its stored numbers by the code as it is now
      try:
        saved = runner.rebuild(module.FIGURE, args.out)
      except ConfigError as e:
        cli.fail(str(e))
      results.append(saved)
      seconds[name] = saved.get("seconds")
      continue
    # the quote, note and published numbers are the code's, not the run's: read afresh
    figure = module.FIGURE
    saved.update(paper=figure.paper, note=figure.note, published=figure.published)
    results.append(saved)
    # a figure run by its own module records no wall-clock: shown as "–"
    seconds[name] = saved.get("seconds")
  if args.rebuild and not results:
    cli.fail(f"--rebuild: no figure's JSON in {args.out} to rebuild RESULTS.md from"
             + (f" ({left_out[0]}{', ...' if len(left_out) > 1 else ''})" if left_out else ""))
  for line in left_out:
    print(f"left out of RESULTS.md: {line}", file=sys.stderr)
  results.sort(key=lambda r: FIGURES.index(r["name"]))
  md = results_markdown(results, full=scale == "full", seconds=seconds)
  common.atomic_write_bytes(os.path.join(args.out, "RESULTS.md"), md.encode())
  print(f"wrote {os.path.join(args.out, 'RESULTS.md')} and {len(results)} figures")
  return 130 if interrupted else 0


if __name__ == "__main__":
  raise SystemExit(main())
