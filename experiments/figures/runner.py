"""A paper figure as a value, and the one runner of all of them.

A figure (`Figure`) is its named configs (`scales`: "tiny", "default", "full", and any other
such as "long"), `measure(config, seed) -> numbers` (the training and measuring: the only part
that computes), `judge(numbers) -> {claim: bool}` (the paper's claims, each quoted, with its
threshold fixed in the figure's code), `plot(numbers) -> matplotlib figure`, `summary(numbers)`
and optionally `markdown(numbers)` (a table for RESULTS.md). Every one of them but `measure`
reads only the numbers, so `rebuild` re-judges and re-plots a stored NAME.json without training.

The runner does the rest for every figure: the clock and CPU seconds, the seed, saving NAME.png
and NAME.json (numbers, checks, summary, config, seed, scale, seconds), the command line of
`python -m experiments.figures.NAME` and, through `experiments.reproduce`, RESULTS.md.

The numbers are judged as they are stored: `measure`'s result passes through JSON before
`judge` sees it (numpy arrays become lists, tuple keys strings, a non-finite float None), so a
fresh run and `rebuild` of its JSON give the same verdicts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from experiments import cli, common
from experiments.figures import _common
from experiments.loop import hold_workdir
from wgan_jax.errors import ConfigError

SCALES = ("tiny", "default", "full")   # every figure has these; more (e.g. "long") may be added


def layout(fig) -> None:
  """`tight_layout`, leaving a figure's suptitle a band of its own above the panels (alone,
  `tight_layout` lets it overlap tall panel titles)."""
  title = fig.get_suptitle()
  if not title:
    fig.tight_layout()
    return
  band = min(0.15, (0.2 * (title.count("\n") + 1) + 0.05) / fig.get_figheight())  # inches
  fig.tight_layout(rect=(0, 0, 1, 1 - band))


@dataclasses.dataclass(frozen=True)
class Figure:
  """A paper figure or table as a value.

  Attributes:
    name: the module's name (NAME.png, NAME.json).
    paper: the paper's claim, quoted with section and figure.
    scales: named configs, {"tiny": ..., "default": ..., "full": ..., ...}: what `measure`
      trains at each (a mapping of sizes, and where it trains GANs the settings they are built
      from).
    measure: (config, seed) -> numbers: trains and measures; JSON-shaped numbers (dicts with
      string keys, lists or arrays, floats; a non-finite float is stored as None).
    judge: numbers -> {claim: bool or UNDERPOWERED}: the paper's claims on the numbers as
      stored (UNDERPOWERED: its test cannot reject at the sample size).
    plot: numbers -> a matplotlib figure.
    summary: numbers -> one line for the console and RESULTS.md.
    markdown: numbers -> a table for RESULTS.md (None: no table).
    games: scale -> [`_common.Game`]: the GANs it trains at a scale (reproduce --plan,
      tests/test_paper_scale.py); None where it trains none.
    note: what RESULTS.md says about the committed run (written from that run).
    published: the paper's own number, for RESULTS.md's table.
  """
  name: str
  paper: str
  scales: Mapping[str, Any]
  measure: Callable[[Any, int], Dict]
  judge: Callable[[Dict], Dict[str, bool]]
  plot: Callable[[Dict], Any]
  summary: Callable[[Dict], str]
  markdown: Optional[Callable[[Dict], Optional[str]]] = None
  games: Optional[Callable[..., List[Any]]] = None
  note: Optional[str] = None
  published: Optional[str] = None

  def __post_init__(self):
    missing = [s for s in SCALES if s not in self.scales]
    if missing:
      raise ConfigError("scales", f"figure {self.name} has no {', '.join(missing)} config")

  def config(self, scale: str):
    """The config of a named scale (a ConfigError naming `scale` for an unknown one)."""
    if scale not in self.scales:
      raise ConfigError("scale", f"figure {self.name} has the scales {list(self.scales)}, "
                        f"got {scale!r}")
    return self.scales[scale]


def as_stored(numbers: Any) -> Any:
  """`numbers` exactly as `judge` reads them back from NAME.json."""
  return json.loads(json.dumps(common.to_jsonable(numbers), allow_nan=False))


def value(x) -> float:
  """A stored number as a float: None (a non-finite value, as JSON stores it) is NaN, so every
  comparison with it is False and no check passes on a diverged run."""
  return math.nan if x is None else float(x)


# A check whose test could not reject at its sample size (e.g. a sign test on 5 pairs, whose
# smallest p is 0.0625): neither a pass nor a fail; RESULTS.md shows it as such and the
# verdict does not count it.
UNDERPOWERED = "underpowered"


# One margin rule for "A beats B" in every figure (issue 27 item 1): the difference of two means
# must exceed MARGIN_SE standard errors of the difference, √(se_a² + se_b²) (a two-sample z at
# the 2.3% one-sided level for normal means). Used by the figures whose claims compare methods
# over seeds (mixgan_scores, quality_over_time, ...); docs/results/README.md states it.
MARGIN_SE = 2.0


def beats(a, b, *, higher_is_better: bool = True, k: float = MARGIN_SE) -> bool:
  """Whether `a` = (mean, s.e.) beats `b` = (mean, s.e.) by the one margin rule: by more than k
  standard errors of the difference. A non-finite (None) value beats nothing and is beaten by
  nothing."""
  (ma, sa), (mb, sb) = ((value(m), value(s)) for m, s in (a, b))
  diff = (ma - mb) if higher_is_better else (mb - ma)
  return bool(diff > k * math.sqrt(sa ** 2 + sb ** 2))


def sign_test(wins: int, n: int, *, alpha: float = 0.05, alternative: str = "two-sided"):
  """Exact sign test of `wins` successes in `n` paired comparisons against 1/2, two-sided or
  one-sided ("greater": wins more likely): True (significant at `alpha`), False, or
  UNDERPOWERED when even the most extreme split could not reach `alpha` (the smallest p is
  2·0.5ⁿ two-sided, n ≤ 5 at 0.05; 0.5ⁿ one-sided, n ≤ 4)."""
  if alternative not in ("two-sided", "greater"):
    raise ConfigError("alternative", f"'two-sided' or 'greater', got {alternative!r}")
  sides = 2 if alternative == "two-sided" else 1
  if n < 1 or sides * 0.5 ** n >= alpha:
    return UNDERPOWERED
  k = max(wins, n - wins) if sides == 2 else wins
  p = min(1.0, sides * sum(math.comb(n, i) for i in range(k, n + 1)) * 0.5 ** n)
  return bool(p < alpha)


def check_value(v):
  """A judge's value as stored: True, False or UNDERPOWERED."""
  return UNDERPOWERED if isinstance(v, str) and v == UNDERPOWERED else bool(v)


def verdict(checks: Dict[str, Any]) -> str:
  """yes: every informative check holds; partly: some do; no: none do; underpowered: no check
  is informative. Underpowered checks are never counted as passes."""
  informative = [v for v in checks.values() if v != UNDERPOWERED]
  if not informative:
    return UNDERPOWERED if checks else "no"
  ok = sum(bool(v) for v in informative)
  return "yes" if ok == len(informative) else "no" if ok == 0 else "partly"


def mark(v) -> str:
  """A check's box in RESULTS.md: [x] holds, [ ] does not, [~] underpowered."""
  return "~" if v == UNDERPOWERED else "x" if v else " "


def _write(figure: Figure, out: str, numbers: Dict, meta: Dict, *,
           keep_old_png: bool = False) -> Dict:
  """Judge, plot and save stored numbers: NAME.png and NAME.json; returns the result.

  keep_old_png: where the numbers lack what the plot reads (a run stored before the plot
  read it), keep the PNG already in `out` and say so on stderr, instead of failing."""
  checks = {k: check_value(v) for k, v in figure.judge(numbers).items()}
  summary = figure.summary(numbers)
  markdown = figure.markdown(numbers) if figure.markdown else None
  png = os.path.join(out, f"{figure.name}.png")
  try:
    fig = figure.plot(numbers)
  except KeyError as e:
    if not (keep_old_png and os.path.exists(png)):
      raise
    print(f"{figure.name}: kept {png}: the stored numbers predate what its plot reads "
          f"({e}); run the figure again to re-plot it", file=sys.stderr)
    meta = dict(meta, replotted=False)
  else:
    layout(fig)
    os.makedirs(out, exist_ok=True)
    fig.savefig(png + ".tmp.png", dpi=110)
    os.replace(png + ".tmp.png", png)
    common.matplotlib_pyplot().close(fig)
  result = dict(name=figure.name, paper=figure.paper, summary=summary, checks=checks,
                numbers=numbers, **meta)
  for k, v in (("markdown", markdown), ("note", figure.note), ("published", figure.published)):
    if v is not None:
      result[k] = v
  common.write_json(os.path.join(out, f"{figure.name}.json"), result, compact_lists=True)
  return result


def run(figure: Figure, out: str, *, scale: str = "default", seed: int = 0) -> Dict:
  """Measure `figure` at `scale` with `seed`, judge and plot it: NAME.png and NAME.json in `out`.

  Returns the saved result: {name, paper, summary, checks, numbers, markdown?, note?,
  published?, scale, seed, config, seconds, cpu_seconds}.

  Raises:
    ConfigError: an unknown scale or a seed outside [0, 2^63) (before anything is computed).
    KeyboardInterrupt: SIGTERM / SIGINT stopped the training (nothing is written).
  """
  config = figure.config(scale)
  if not 0 <= seed < 2 ** 63:
    raise ConfigError("seed", f"must be an integer in [0, 2^63), got {seed}")
  t0, c0 = time.time(), common.cpu_seconds()
  numbers = as_stored(figure.measure(config, seed))
  meta = dict(scale=scale, seed=seed, config=common.to_jsonable(config),
              seconds=time.time() - t0, cpu_seconds=common.cpu_seconds() - c0)
  return _write(figure, out, numbers, meta)


def read_saved(path: str) -> Dict:
  """A figure's saved NAME.json (ConfigError naming the file when it is truncated, empty or not
  a figure's result)."""
  try:
    with open(path, encoding="utf-8") as f:
      saved = json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise ConfigError("out", f"{path}: not a figure's JSON ({type(e).__name__}: {e}); run "
                      "the figure again or delete the file") from None
  if not isinstance(saved, dict) or "checks" not in saved or "numbers" not in saved:
    raise ConfigError("out", f"{path}: not a figure's JSON (no checks or numbers); run the "
                      "figure again or delete the file")
  return saved


def rebuild(figure: Figure, out: str) -> Dict:
  """Re-judge and re-plot `figure` from OUT/NAME.json, training nothing: the checks, summary,
  table and PNG of the code as it is now, on the numbers of the stored run (its seed, scale,
  config and seconds kept)."""
  saved = read_saved(os.path.join(out, f"{figure.name}.json"))
  meta = {k: saved[k] for k in ("scale", "seed", "config", "seconds", "cpu_seconds")
          if k in saved}
  return _write(figure, out, saved["numbers"], meta, keep_old_png=True)


def main(figure: Figure, doc: str, argv=None) -> int:
  """`python -m experiments.figures.NAME`: run (or --rebuild) one figure into --out."""
  p = cli.OneLineParser(prog=f"python -m experiments.figures.{figure.name}", description=doc,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", default="runs/figures",
                 help=f"output folder for {figure.name}.png and {figure.name}.json "
                      "(default runs/figures)")
  p.add_argument("--scale", choices=list(figure.scales), default=None,
                 help="named config: tiny (seconds-long smoke run), default (the CPU sizes), "
                      "full (the paper's sizes, for an accelerator)"
                      + "".join(f", {s}" for s in figure.scales if s not in SCALES)
                      + " (default: default)")
  p.add_argument("--full", action="store_true", help="the paper's sizes: --scale full")
  p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  p.add_argument("--rebuild", action="store_true",
                 help=f"train nothing: re-judge and re-plot {figure.name} from the "
                      f"{figure.name}.json already in --out (the checks and plot of the code "
                      "as it is now)")
  p.add_argument("--inception-weights", metavar="PATH",
                 help="your FID Inception weights file (torch-fidelity's or pytorch-fid's .pth): "
                 "the Fashion-MNIST figures then also record the Inception FID / IS / KID of "
                 "their samples (slow on a CPU; nothing is downloaded)")
  args = p.parse_args(argv)
  if args.full and args.scale not in (None, "full"):
    cli.fail(f"--full: is --scale full, which contradicts --scale {args.scale}")
  scale = args.scale or ("full" if args.full else "default")
  # Checked before any computing (was: a figure computed, then died on an unwritable --out).
  if not 0 <= args.seed < 2 ** 63:
    cli.fail(f"--seed: must be an integer in [0, 2^63), got {args.seed}")
  try:
    hold_workdir(args.out)   # made, writable, and locked against a second run into it
    _common.set_inception_weights(args.inception_weights)
    if args.rebuild:
      result = rebuild(figure, args.out)
    else:
      result = run(figure, args.out, scale=scale, seed=args.seed)
  except ConfigError as e:   # OptionError included
    cli.fail(cli.flag_message(e))
  except KeyboardInterrupt:   # Ctrl-C / SIGTERM: one line, not a traceback
    cli.fail(f"interrupted: {figure.name} was not finished, and {figure.name}.json / .png "
             "were not written (a figure has no checkpoint: run it again)", code=130)
  took = "" if args.rebuild else f" ({result['seconds']:.0f} s)"
  print(f"{figure.name}: {result['summary']}{took}")
  for claim, ok in result["checks"].items():
    print(f"  [{'low' if ok == UNDERPOWERED else 'yes' if ok else 'NO '}] {claim}")
  print(f"wrote {os.path.join(args.out, figure.name)}.png and .json")
  return 0
