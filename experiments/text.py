"""Character-level text generation with a GAN on softmax outputs (WGAN-GP §5.4, gan_language.py).

  python -m experiments.text --objective wgan-gp --out runs/text-wgan   # English, CPU default
  python -m experiments.text --objective nsgan --out runs/text-nsgan    # the failing baseline
  python -m experiments.text --data markov --out runs/text-markov       # oracle NLL measurable
  python -m experiments.text --text-file lines.txt --seq-len 48         # your own text
  python -m experiments.text --preset paper --data lm1b                 # the paper's sizes

Text is discrete, so the generator emits a softmax per position and the critic reads it (real
text as one-hot vectors). A standard GAN's discriminator then wins trivially (a softmax is never
one-hot) and its gradients saturate; a WGAN-GP critic keeps giving useful gradients.

Writes into --out: samples.txt (the final samples, one per line, pad stripped, 'unk' shown as
U+FFFD), metrics.json (the n-gram JSDs n = 1..4 against the training text, their held-out floor,
the oracle NLL for --data markov with the uniform and true-model references, the share of words
in the corpus vocabulary and BLEU-2/4 against held-out lines, at every evaluation; the losses,
the discriminator's accuracy and the generator's gradient norm over training; the
configuration), metrics.jsonl and tensorboard/ (as they come), jsd.png (the JSDs over training
with their floors, and the players' diagnostics), samples/ and checkpoints/ (--resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from experiments import common, runner

LATENT_DIM = 128
DEFAULTS = dict(data="english", objective="wgan-gp", iters=1000, batch_size=64, seed=0,
                out="runs/text", width=32, num_blocks=5, seq_len=32, max_vocab=2048,
                iters_per_call=25,
                eval_every=100, num_samples=640, log_every=10, decode="argmax",
                markov_lines=20_000, max_lines=100_000, lr_d=1e-3, lr_g=1e-3)
# Optimisation of the paper for both players and both objectives: Adam 1e-4, β = (.5, .9);
# 10 critic iterations for WGAN-GP, 1 for nsgan. The CPU default uses 5 critic iterations and
# Adam 1e-3 (at 1e-4 a 400-iteration run at width 32 barely moved: oracle NLL 6.3 -> 4.1,
# against 2.3 at 1e-3).
OPTIM = dict(lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9)
N_CRITIC = {"wgan-gp": 10, "nsgan": 1}
PRESETS = {
    # CPU-sized (about 10 minutes on 2 cores): width 32, 1000 generator iterations, Adam 1e-3.
    "default": {},
    # gan_language.py: DIM 512, 200,000 iterations, 10 critic iterations, vocabulary 2048,
    # Adam 1e-4.
    "paper": dict(width=512, iters=200_000, max_vocab=2048, iters_per_call=100,
                  eval_every=100, checkpoint_every=5000, lr_d=1e-4, lr_g=1e-4),
}
OBJECTIVES = ("wgan-gp", "nsgan")


def build_parser() -> argparse.ArgumentParser:
  from wgan_jax.data.text import DATA_SOURCES
  from wgan_jax.models.text import DECODINGS

  p = argparse.ArgumentParser(
      prog="python -m experiments.text", description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  d = DEFAULTS
  g = p.add_argument_group("run")
  g.add_argument("--objective", choices=OBJECTIVES, default=None,
                 help="wgan-gp: Wasserstein critic with gradient penalty λ = 10 (the paper); "
                      "nsgan: the standard non-saturating GAN on the same softmax outputs, the "
                      f"baseline that fails (default {d['objective']})")
  g.add_argument("--data", choices=DATA_SOURCES, default=None,
                 help="english: prose from Python's own reference manual (pydoc_data, offline; "
                      "default); markov: a synthetic language from a fixed random Markov chain "
                      "over 16 characters, whose exact likelihood gives the oracle NLL; lm1b: the "
                      "Billion Word benchmark of the paper through tensorflow-datasets (needs the "
                      "internet the first time)")
  g.add_argument("--text-file", default=None, metavar="PATH",
                 help="train on your own UTF-8 text instead, one sequence per line (blank lines "
                      "skipped; a line longer than --seq-len is an error)")
  g.add_argument("--preset", choices=sorted(PRESETS), default="default",
                 help="default: CPU-sized (width 32, 1000 iterations, 5 critic iterations, "
                      "Adam 1e-3); paper: gan_language.py's sizes (width 512, 200,000 "
                      "iterations, 10 critic iterations, Adam 1e-4). Explicit flags override "
                      "the preset")
  g.add_argument("--iters", type=int, default=None,
                 help=f"generator iterations (default {d['iters']})")
  g.add_argument("--batch-size", type=int, default=None,
                 help=f"sequences per critic and generator step (default {d['batch_size']})")
  g.add_argument("--seed", type=int, default=None, help="PRNG seed of the whole run (default 0)")
  g.add_argument("--out", default=None, help=f"output folder (default {d['out']})")
  t = p.add_argument_group("text and models")
  t.add_argument("--seq-len", type=int, default=None,
                 help=f"characters per sequence, padded with '`' (default {d['seq_len']})")
  t.add_argument("--max-vocab", type=int, default=None,
                 help="vocabulary size: 'unk', the pad and the most frequent characters; rarer "
                      f"ones become 'unk' (default {d['max_vocab']}, at least 2)")
  t.add_argument("--markov-lines", type=int, default=None,
                 help=f"--data markov: lines drawn from the chain (default {d['markov_lines']})")
  t.add_argument("--max-lines", type=int, default=None,
                 help=f"--data lm1b: sentences read (default {d['max_lines']})")
  t.add_argument("--width", type=int, default=None,
                 help=f"channels of the residual blocks of G and the critic (default "
                      f"{d['width']}; the paper 512)")
  t.add_argument("--num-blocks", type=int, default=None,
                 help=f"residual blocks of G and the critic (default {d['num_blocks']}, the "
                      "paper's)")
  o = p.add_argument_group("optimisation (Adam, β = (0.5, 0.9), for both objectives)")
  o.add_argument("--n-critic", type=int, default=None,
                 help="critic steps per generator step (default: wgan-gp 5 on the CPU preset, "
                      "10 with --preset paper as in the paper; nsgan 1)")
  o.add_argument("--lr-d", type=float, default=None,
                 help="critic learning rate (CPU default 1e-3; the paper and --preset paper "
                      "1e-4)")
  o.add_argument("--lr-g", type=float, default=None,
                 help="generator learning rate (as --lr-d)")
  o.add_argument("--beta1", type=float, default=None, help="Adam β1 (0.5)")
  o.add_argument("--beta2", type=float, default=None, help="Adam β2 (0.9)")
  o.add_argument("--gp-weight", type=float, default=None,
                 help="wgan-gp: gradient penalty λ (10); the norm is over sequence and "
                      "vocabulary axes")
  e = p.add_argument_group("evaluation and output")
  e.add_argument("--eval-every", type=int, default=None,
                 help=f"generator iterations between evaluations (default {d['eval_every']}, "
                      "the official code's)")
  e.add_argument("--num-samples", type=int, default=None,
                 help="held-out lines, and samples generated per evaluation (default 640 as in "
                      "the official code; at most a tenth of the corpus is held out, and as "
                      "many samples as held-out lines are scored so the floor is comparable)")
  e.add_argument("--decode", choices=DECODINGS, default=None,
                 help="argmax: the most probable character at each position (the paper); "
                      "sample: one draw from each position's softmax (default argmax)")
  e.add_argument("--iters-per-call", type=int, default=None,
                 help=f"generator iterations fused in one compiled call (default "
                      f"{d['iters_per_call']})")
  e.add_argument("--log-every", type=int, default=None,
                 help="keep the losses of every n-th iteration in metrics.json (default 10)")
  e.add_argument("--no-progress", action="store_true", help="no progress bar")
  runner.add_run_flags(p)
  return p


def resolve(args: argparse.Namespace) -> argparse.Namespace:
  """Defaults < preset < explicit flags; the objective's critic count when unset."""
  values = dict(vars(args))
  values.update(DEFAULTS)
  values.update(runner.RUN_DEFAULTS)
  values.update(PRESETS[args.preset])
  for k, v in vars(args).items():
    if v is not None:
      values[k] = v
  if values.get("n_critic") is None:
    n = N_CRITIC[values["objective"]]
    values["n_critic"] = 5 if (n == 10 and args.preset == "default") else n
  return argparse.Namespace(**values)


def build_gan(objective: str, vocab_size: int, *, seq_len: int = 32, width: int = 32,
              num_blocks: int = 5, batch_size: int = 64, n_critic: Optional[int] = None,
              **optim):
  """The language GAN: `TextGenerator` and `TextCritic` with the paper's optimisation.

  Raises:
    ConfigError: naming the option, for a bad optimisation value.
  """
  import wgan_jax as wj
  from wgan_jax.data.text import onehot_sampler
  from wgan_jax.models.text import TextCritic, TextGenerator
  kw = dict(OPTIM)
  kw.update({k: v for k, v in optim.items() if v is not None})
  config = wj.make_config(objective, batch_size=batch_size, latent_dim=LATENT_DIM,
                          n_critic=n_critic or N_CRITIC[objective], **kw)
  return wj.GAN(TextGenerator(seq_len, vocab_size, width, num_blocks),
                TextCritic(width, num_blocks), config, onehot_sampler(vocab_size))


def make_run(args):
  """Validate everything and build (config, data, GAN) before anything is compiled."""
  from wgan_jax import ConfigError
  from wgan_jax.data.text import make_text_data

  for name in ("iters", "width", "num_blocks", "iters_per_call", "eval_every", "num_samples",
               "log_every",
               "markov_lines", "max_lines", "batch_size", "n_critic"):
    v = getattr(args, name)
    if v < 1:
      common.fail(f"--{name.replace('_', '-')}: must be a positive integer, got {v}")
  if args.seq_len < 4:
    common.fail(f"--seq-len: must be at least 4 (the 4-gram JSD), got {args.seq_len}")
  if args.max_vocab < 2:
    common.fail(f"--max-vocab: must be at least 2 ('unk' and the pad '`'), got "
                f"{args.max_vocab}")
  try:
    data = make_text_data(args.data, text_file=args.text_file, seq_len=args.seq_len,
                          max_vocab=args.max_vocab, heldout=args.num_samples,
                          markov_lines=args.markov_lines, max_lines=args.max_lines,
                          seed=args.seed)
  except ValueError as e:
    common.fail(f"--text-file: {e}" if args.text_file else f"--data {args.data}: {e}")
  try:
    gan = build_gan(args.objective, data.vocab.size, seq_len=args.seq_len, width=args.width,
                    num_blocks=args.num_blocks, batch_size=args.batch_size,
                    n_critic=args.n_critic, lr_d=args.lr_d,
                    lr_g=args.lr_g, beta1=args.beta1, beta2=args.beta2,
                    gp_weight=args.gp_weight if args.objective == "wgan-gp" else None)
  except ConfigError as e:
    common.fail(str(e))
  if args.gp_weight is not None and args.objective != "wgan-gp":
    common.fail("--gp-weight: only wgan-gp uses a gradient penalty")
  return gan.config, data, gan


class Evaluator:
  """Samples the generator and scores the text against the corpus (built once per run)."""

  def __init__(self, gan, data, decode: str = "argmax"):
    import jax
    from wgan_jax import text_metrics as tm
    self.gan, self.data, self.decode = gan, data, decode
    self.n = len(data.heldout)
    self.models = {n: tm.NgramModel(n, data.train) for n in range(1, 5)}
    self.floor = {f"jsd_{n}": m.js_with(tm.NgramModel(n, data.heldout))
                  for n, m in self.models.items()}
    self.words = tm.word_vocabulary(data.train)
    self.refs = [tm.tokenize(l) for l in data.heldout]
    self.references = dict(floor=self.floor)
    if data.oracle is not None:
      self.references.update(
          true_entropy_rate=data.oracle.entropy_rate(data.seq_len),
          uniform_oracle_nll=data.oracle.uniform_nll(data.seq_len),
          heldout_oracle_nll=tm.oracle_nll(data.oracle, data.heldout))
    self.references.update(
        heldout_in_vocabulary=tm.in_vocabulary_share(data.heldout, self.words))
    self._probs = jax.jit(lambda state, key: gan.sample(state, key, self.n))

  def lines(self, state, key) -> List[str]:
    import jax
    from wgan_jax.models.text import decode_tokens
    k_z, k_dec = jax.random.split(key)
    ids = decode_tokens(self._probs(state, k_z), self.decode, k_dec)
    return self.data.vocab.decode(np.asarray(ids))

  def score(self, lines: List[str]) -> Dict[str, float]:
    from wgan_jax import text_metrics as tm
    out = tm.ngram_jsds(self.models, lines)
    if self.data.oracle is not None:
      out["oracle_nll"] = tm.oracle_nll(self.data.oracle, lines)
    out["in_vocabulary"] = tm.in_vocabulary_share(lines, self.words)
    hyps = [tm.tokenize(l) for l in lines]
    out["bleu2"] = tm.bleu(hyps, self.refs, max_n=2)
    out["bleu4"] = tm.bleu(hyps, self.refs, max_n=4)
    return out

  def __call__(self, state, key):
    lines = self.lines(state, key)
    return self.score(lines), lines


def plot_jsd(path, curves: Dict[str, Dict], floor: Dict[str, float], title: str):
  """Write `jsd_figure` to `path`."""
  fig = jsd_figure(curves, floor, title)
  fig.savefig(path, dpi=100)
  common.matplotlib_pyplot().close(fig)


def jsd_figure(curves: Dict[str, Dict], floor: Dict[str, float], title: str):
  """JSD n = 1..4 over training for each run (solid), floors dashed; D accuracy and ‖∇G‖."""
  plt = common.matplotlib_pyplot()
  diag = [k for k in ("d_accuracy", "g_grad_norm", "w_estimate")
          if any(k in c.get("history", {}) for c in curves.values())]
  fig, axes = plt.subplots(1, 4 + len(diag), figsize=(3.2 * (4 + len(diag)), 3.2))
  colors = dict(zip(curves, ("tab:blue", "tab:red", "tab:green", "tab:purple")))
  for i, n in enumerate(range(1, 5)):
    ax = axes[i]
    for name, c in curves.items():
      ev = c["evaluations"]
      ax.plot([e["iteration"] for e in ev], [e[f"jsd_{n}"] for e in ev], "-o", ms=2,
              color=colors[name], label=name)
    ax.axhline(floor[f"jsd_{n}"], ls="--", color="gray", lw=0.8, label="held-out floor")
    ax.set_title(f"{n}-gram JSD (bits)", fontsize=9)
    ax.set_xlabel("generator iteration")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  for ax, k in zip(axes[4:], diag):
    for name, c in curves.items():
      h = c.get("history", {})
      if k in h:
        ax.plot(h["iteration"], h[k], lw=0.8, color=colors[name], label=name)
    ax.set_title({"d_accuracy": "discriminator accuracy", "g_grad_norm": "‖∇G loss‖",
                  "w_estimate": "W estimate"}[k], fontsize=9)
    if k == "g_grad_norm":
      ax.set_yscale("log")
    ax.set_xlabel("generator iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  return fig


def train_curve(gan, data, *, iters: int, eval_every: int, seed: int = 0,
                iters_per_call: int = 25, decode: str = "argmax", log_every: int = 10):
  """Train in-process without side effects (the figure's loop): evaluations and losses.

  Returns dict(evaluations=[{iteration, seconds, jsd_1.., ...}], history={iteration, d_loss,
  ...}, references=..., samples=[final lines], seconds).
  """
  import jax
  from wgan_jax import plan_blocks
  ev = Evaluator(gan, data, decode)
  tokens = jax.numpy.asarray(data.tokens)
  k_init, k_train, k_eval = jax.random.split(jax.random.key(seed), 3)
  state = gan.init(k_init, tokens)
  scores, lines = ev(state, jax.random.fold_in(k_eval, 0))
  evals = [dict(iteration=0, seconds=0.0, **scores)]
  history: Dict[str, List[float]] = {"iteration": []}
  t0, g = time.time(), 0
  for lo in range(0, iters, eval_every):
    hi = min(iters, lo + eval_every)
    for n_critic, k in plan_blocks(gan.config, lo, hi, iters_per_call):
      state, m = gan.train_step(n_critic, k)(state, k_train, tokens)
      m = jax.device_get(m)
      for i in range(k):
        if (g + i + 1) % log_every == 0:
          history["iteration"].append(g + i + 1)
          for name, v in m.items():
            history.setdefault(name, []).append(float(v[i]))
      g += k
    scores, lines = ev(state, jax.random.fold_in(k_eval, g))
    evals.append(dict(iteration=g, seconds=time.time() - t0, **scores))
  return dict(evaluations=evals, history=history, references=ev.references, samples=lines,
              seconds=time.time() - t0)


def fingerprint(args, config, data) -> Dict:
  """What a checkpoint must match to be resumed by this run."""
  return dict(config=dataclasses.asdict(config), data=data.name, vocab="".join(data.vocab.chars),
              width=args.width, num_blocks=args.num_blocks, seq_len=args.seq_len,
              seed=args.seed, iters=args.iters)


def run(args, config, data, gan, *, progress: bool = True) -> Dict:
  """Train with the shared runner, then write samples, metrics and the figure (process 0)."""
  import jax
  ev = Evaluator(gan, data, args.decode)
  tokens = jax.numpy.asarray(data.tokens)

  def evaluate_at(state, key, iteration):
    scores, lines = ev(state, key)
    common.atomic_write_bytes(f"{args.out}/samples/iter_{iteration:07d}.txt",
                              ("\n".join(lines) + "\n").encode())
    return scores

  initial = None
  if not args.resume:  # the untrained generator, with the runner's initial key
    k_init, _, k_eval = jax.random.split(jax.random.key(args.seed), 3)
    initial, _ = ev(gan.init(k_init, tokens), jax.random.fold_in(k_eval, 0))
  result = runner.train(args, gan, fingerprint=fingerprint(args, config, data),
                        evaluate=evaluate_at, progress=progress, data=tokens)
  if not result["main_process"]:
    return result
  state, g = result.pop("state"), result["generator_iterations"]
  final, lines = ev(state, result.pop("final_key"))
  evals = result["evaluations"]
  if initial is not None:
    evals.insert(0, dict(iteration=0, seconds=0.0, **initial))
  evals.append(dict(iteration=g, seconds=result["train_seconds"], **final))
  from wgan_jax.data.text import PAD
  common.atomic_write_bytes(f"{args.out}/samples.txt",
                            ("\n".join(l.rstrip(PAD) for l in lines) + "\n").encode())
  written = ["samples.txt", "metrics.json", "metrics.jsonl", "tensorboard/", "samples/"]
  history = result["history"]
  plot_jsd(f"{args.out}/jsd.png", {config.objective: dict(evaluations=evals, history=history)},
           ev.floor, f"{config.objective} on {data.name}, width {args.width}, {g} generator "
           f"iterations")
  written.append("jsd.png")
  summary = dict(final=final, references=ev.references, **result, data=data.name,
                 vocabulary="".join(data.vocab.chars), vocab_size=data.vocab.size,
                 train_lines=len(data.train), heldout_lines=len(data.heldout),
                 config=dataclasses.asdict(config), args=dict(vars(args)), files=written)
  common.write_json(f"{args.out}/metrics.json", summary)
  return summary


def main(argv: Optional[List[str]] = None) -> int:
  args = resolve(build_parser().parse_args(argv))
  runner.check_run_flags(args)
  runner.init_distributed(args)  # before anything touches the XLA backend
  config, data, gan = make_run(args)
  summary = run(args, config, data, gan, progress=not args.no_progress)
  if summary.get("main_process", True) and "final" in summary:
    final, ref = summary["final"], summary["references"]
    print(f"{config.objective} on {data.name}: {summary['generator_iterations']} iterations in "
          f"{summary['train_seconds']:.1f} s; " +
          ", ".join(f"{k} {v:.4g}" for k, v in final.items()) + "; floor " +
          ", ".join(f"{k} {v:.4g}" for k, v in ref["floor"].items()))
    if "uniform_oracle_nll" in ref:
      print(f"oracle NLL: uniform {ref['uniform_oracle_nll']:.4g}, true entropy "
            f"{ref['true_entropy_rate']:.4g} nats per character")
    print(f"wrote {', '.join(summary['files'])} into {args.out}")
  if summary["stopped"]:
    print(f"stopped: {summary['stopped']}", file=sys.stderr)
    return 1 if "non-finite" in summary["stopped"] else 0 if "--stop-at" in summary[
        "stopped"] else 130
  return 0


if __name__ == "__main__":
  sys.exit(main())
