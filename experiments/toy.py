"""Train one GAN objective on one toy 2-D data set (the main job).

  python -m experiments.toy                      # WGAN-GP on 8gaussians, about 2 minutes
  python -m experiments.toy --objective wgan --dataset 25gaussians --out runs/wgan25
  python -m experiments.toy --preset official    # the official gan_toy.py sizes (width 512)
  python -m experiments.toy --objective mix+wgan-gp --mixture 5 --dataset 25gaussians  # MIX+GAN

Writes into --out: samples.npy (final samples), metrics.json (mode coverage, exact W1, the
losses and the Wasserstein estimate over training, the configuration and timings),
metrics.jsonl and tensorboard/ (the losses as they come), samples/ (samples at each
evaluation), samples.png (samples over the real data with the critic's value contours, as in
WGAN-GP figure 1), losses.png (loss curves) and checkpoints/ (orbax; --resume continues).
SIGTERM or Ctrl-C finishes the current compiled call, checkpoints and writes every output for
the iterations done; a non-finite loss stops the run naming the step and the quantity, with the
last finite state kept as a checkpoint. With --mixture T > 1 (or a mix+ objective) the run
trains MIX+GAN (T generators and T critics with learned weights, `wgan_jax.mixture`): the
weights are logged with the losses (w_g_*, w_d_*), weights.png plots them over training, and
samples.png colours each sample by the generator that drew it.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Dict, List, Optional, Tuple

import jax
import numpy as np

from experiments import cli, common, job, plots
from experiments.builders import objective_name, toy_run
from experiments.configs import TOY_PRESETS, ToyConfig, _objectives
from experiments.evaluators import toy_metrics
from experiments.loop import RunResult, StopReason, train_and_evaluate
from wgan_jax import mixture as mixture_lib
from wgan_jax.data import TOY_DATASETS

PROG = "python -m experiments.toy"


def choices() -> Dict[str, Tuple[str, ...]]:
  return dict(objective=_objectives(), dataset=tuple(sorted(TOY_DATASETS)))


def build_parser():
  return cli.preset_parser(TOY_PRESETS, prog=PROG, description=__doc__, choices=choices())


def fingerprint(config: ToyConfig, dataset, gan) -> Dict:
  """What a checkpoint must match to be resumed by this run."""
  m = config.model
  out = dict(config=dataclasses.asdict(gan.config), dataset=dataset.name, width=m.width,
             depth=m.depth, norm=m.norm, seed=config.loop.seed, iters=config.loop.iters)
  if config.data.data_file:   # the same path with other contents must not resume silently
    out["data_sha256"] = common.content_hash(config.data.data_file)
  mix = mixture_lib.mixture_of(gan)
  if mix is not None:
    out["mixture"] = dict(components=mix.components, entropy_weight=mix.entropy_weight)
  return out


def run(config: ToyConfig) -> Tuple[Dict, RunResult]:
  """Train with the one loop, then write samples, metrics and figures (process 0)."""
  dataset, gan = toy_run(config)
  loop, out = config.loop, config.loop.out

  def evaluate_at(state, key, iteration):
    ev, fake = toy_metrics(gan, state, dataset, key, loop.num_samples)
    common.save_npy(f"{out}/samples/iter_{iteration:07d}.npy", fake)
    return ev

  result = train_and_evaluate(
      gan, loop, out, evaluate=evaluate_at, fingerprint=fingerprint(config, dataset, gan),
      final=lambda state, key, iteration: toy_metrics(gan, state, dataset, key, loop.num_samples))
  if not result.main_process or result.stop_reason is StopReason.ALREADY_FINISHED:
    return {}, result
  state, g = result.state, result.generator_iterations
  final, fake = result.final, result.final_output
  common.save_npy(f"{out}/samples.npy", fake)
  name = objective_name(gan)
  title = (f"{name} on {dataset.name}, {g} generator iterations\n" +
           ", ".join(f"{k} {v:.3g}" for k, v in final.items() if k != "num_modes"))
  mixture, colour = None, {}
  mix = mixture_lib.mixture_of(gan)
  if mix is not None:  # MIX+GAN: the generator of each sample, the final weights
    w_g, w_d = (np.asarray(w) for w in mixture_lib.weights(state))
    # the same key as `toy_metrics`, so these are the samples of samples.npy
    _, comp = mixture_lib.sample_with_components(
        gan, state, jax.random.split(result.final_key)[0], loop.num_samples)
    colour = dict(components=np.asarray(comp), weights=w_g)
    mixture = dict(components=mix.components, entropy_weight=mix.entropy_weight,
                   weights_g=w_g, weights_d=w_d,
                   sample_share=np.bincount(np.asarray(comp), minlength=mix.components)
                   / loop.num_samples)
    common.save_npy(f"{out}/components.npy", np.asarray(comp))
  surface = plots.plot_samples(f"{out}/samples.png", gan, state, dataset, fake,
                               jax.random.key(loop.seed + 1), title, **colour)
  written = ["samples.npy", "metrics.json", "metrics.jsonl", "samples.png", "tensorboard/"]
  history = result.history
  if history["iteration"]:
    plots.plot_losses(f"{out}/losses.png", history, f"{name} on {dataset.name}")
    written.append("losses.png")
    if mixture is not None:
      plots.plot_weights(f"{out}/weights.png", history, mix.components,
                         f"{name} on {dataset.name}: mixture weights (entropy weight "
                         f"{mix.entropy_weight:g})")
      written.append("weights.png")
  if mixture is not None:
    written.append("components.npy")
  summary = dict(final=final, **result.summary(), dataset=dataset.name,
                 config=dataclasses.asdict(gan.config), args=cli.flat(config),
                 value_surface=surface, files=written, objective_name=name)
  if mixture is not None:
    summary["mixture"] = mixture
  common.write_json(f"{out}/metrics.json", summary)
  return summary, result


def report(config: ToyConfig, summary: Dict) -> None:
  final, rate = summary["final"], summary["iterations_per_second"]
  print(f"{summary['objective_name']} on {summary['dataset']}: "
        f"{summary['generator_iterations']} iterations in {summary['train_seconds']:.1f} s"
        + (f" ({rate:.1f} it/s)" if rate else "") + "; " +
        ", ".join(f"{k} {v:.4g}" for k, v in final.items()))
  print(f"wrote {', '.join(summary['files'])} into {config.loop.out}")


def main(argv: Optional[List[str]] = None) -> int:
  return job.run_job(argv, prog=PROG, description=__doc__, presets=TOY_PRESETS, run=run,
                     report=report,
                     choices=choices())


if __name__ == "__main__":
  sys.exit(main())
