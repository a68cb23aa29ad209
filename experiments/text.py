"""Character-level text generation with a GAN on softmax outputs (WGAN-GP §5.5, gan_language.py).

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

import dataclasses
import sys
from typing import Dict, List, Optional, Tuple

import jax

from experiments import cli, common, job, plots
from experiments.builders import text_run
from experiments.configs import TEXT_OBJECTIVES, TEXT_PRESETS, TextConfig
from experiments.evaluators import TextEvaluator
from experiments.loop import RunResult, StopReason, train_and_evaluate
from wgan_jax.data.text import PAD

PROG = "python -m experiments.text"
CHOICES = dict(objective=TEXT_OBJECTIVES)


def build_parser():
  return cli.preset_parser(TEXT_PRESETS, prog=PROG, description=__doc__, choices=CHOICES)


def fingerprint(config: TextConfig, data, gan) -> Dict:
  """What a checkpoint must match to be resumed by this run."""
  m = config.model
  return dict(config=dataclasses.asdict(gan.config), data=data.name,
              vocab="".join(data.vocab.chars), width=m.width, num_blocks=m.num_blocks,
              seq_len=config.data.seq_len, seed=config.loop.seed, iters=config.loop.iters,
              data_sha256=common.content_hash(data.tokens))


def run(config: TextConfig) -> Tuple[Dict, RunResult]:
  """Train with the one loop, then write samples, metrics and the figure (process 0)."""
  data, gan = text_run(config)
  loop, out = config.loop, config.loop.out
  ev = TextEvaluator(gan, data, config.data.decode)
  tokens = jax.numpy.asarray(data.tokens)

  def evaluate_at(state, key, iteration):
    scores, lines = ev(state, key)
    if iteration > 0:  # the untrained generator is scored, not saved
      common.atomic_write_bytes(f"{out}/samples/iter_{iteration:07d}.txt",
                                ("\n".join(lines) + "\n").encode())
    return scores

  result = train_and_evaluate(gan, dataclasses.replace(
      loop, eval_at_start=not loop.resume), out, data=tokens, evaluate=evaluate_at,
      final=lambda state, key, iteration: ev(state, key),
      fingerprint=fingerprint(config, data, gan))
  if not result.main_process or result.stop_reason is StopReason.ALREADY_FINISHED:
    return {}, result
  g = result.generator_iterations
  final, lines = result.final, result.final_output
  common.atomic_write_bytes(f"{out}/samples.txt",
                            ("\n".join(l.rstrip(PAD) for l in lines) + "\n").encode())
  written = ["samples.txt", "metrics.json", "metrics.jsonl", "tensorboard/", "samples/",
             "jsd.png"]
  objective = gan.config.objective
  plots.plot_jsd(f"{out}/jsd.png", {objective: dict(evaluations=result.evaluations,
                                                    history=result.history)},
                 ev.floor, f"{objective} on {data.name}, width {config.model.width}, {g} "
                 f"generator iterations")
  summary = dict(final=final, references=ev.references, **result.summary(), data=data.name,
                 vocabulary="".join(data.vocab.chars), vocab_size=data.vocab.size,
                 train_lines=len(data.train), heldout_lines=len(data.heldout),
                 config=dataclasses.asdict(gan.config), args=cli.flat(config), files=written)
  common.write_json(f"{out}/metrics.json", summary)
  return summary, result


def report(config: TextConfig, summary: Dict) -> None:
  final, ref = summary["final"], summary["references"]
  print(f"{config.game.objective} on {summary['data']}: {summary['generator_iterations']} "
        f"iterations in {summary['train_seconds']:.1f} s; " +
        ", ".join(f"{k} {v:.4g}" for k, v in final.items()) + "; floor " +
        ", ".join(f"{k} {v:.4g}" for k, v in ref["floor"].items()))
  if "uniform_oracle_nll" in ref:
    print(f"oracle NLL: uniform {ref['uniform_oracle_nll']:.4g}, true entropy "
          f"{ref['true_entropy_rate']:.4g} nats per character")
  print(f"wrote {', '.join(summary['files'])} into {config.loop.out}")


def main(argv: Optional[List[str]] = None) -> int:
  return job.run_job(argv, prog=PROG, description=__doc__, presets=TEXT_PRESETS, run=run,
                     report=report,
                     choices=CHOICES)


if __name__ == "__main__":
  sys.exit(main())
