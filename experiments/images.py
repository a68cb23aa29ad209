"""Train a GAN or WGAN on images and measure it with offline metrics.

  python -m experiments.images --dataset digits --objective wgan-gp --out runs/digits
  python -m experiments.images --dataset mnist --arch dcgan --out runs/mnist   # TFDS (download)
  python -m experiments.images --data-dir my_images/ --out runs/mine           # your own folder

Writes into --out: samples/grid_iter_NNNNNNN.png (sample grids over training), samples.npy (the
final samples, N × H × W × C in [-1, 1]), samples.png (the final grid), metrics.json (every
evaluation over generator iterations and wall-clock seconds, the configuration and the real-data
reference values), metrics.jsonl and tensorboard/ (losses every --log-every iterations), and
checkpoints/ (orbax; --resume continues).

On the digit data sets the metrics come from the project's own small classifier (trained once,
cached): the classifier score (the Inception score's formula), the Fréchet and kernel (KID)
distances of its features to the training digits, and the classes covered (stacked digits:
modes of 1000 and KL to uniform). On fashion-mnist they come from the project's Fashion-MNIST
classifier (trained once, cached) and are named after it: fashion_classifier_score,
fashion_frechet_distance, fashion_kernel_distance, fashion_classes_covered (≥ 1% of samples),
and nearest_train_share (samples nearer a training image than 95% of test images are: ≈ 0.05
without memorisation, 1 for copies). They are comparable with each other, not with published
Inception-based numbers. Other data sets get the losses and the sample grids.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from experiments import cli, common, job, plots
from experiments.builders import image_run, objective_name
from experiments.configs import (EMBEDDED_IMAGES, IMAGE_PRESETS, ImageConfig,
                                 _objectives)
from experiments.evaluators import (DigitMetrics, FashionMetrics, inception_evaluator,
                                    label_accuracy, sample_in_chunks)
from experiments.loop import RunResult, StopReason, train_and_evaluate
from wgan_jax.mixture import mixture_of

PROG = "python -m experiments.images"


def build_parser():
  return cli.preset_parser(IMAGE_PRESETS, prog=PROG, description=__doc__,
                           choices=dict(objective=_objectives()))


def fingerprint(config: ImageConfig, data, gan) -> Dict:
  m, mix = config.model, mixture_of(gan)
  return dict(config=dataclasses.asdict(gan.config), dataset=data.name, shape=list(data.shape),
              arch=m.arch, dim=m.dim, gen_norm=m.gen_norm, critic_norm=config.critic_norm,
              conditional=m.conditional,
              seed=config.loop.seed, iters=config.loop.iters, num_train=int(len(data.train)),
              data_sha256=common.content_hash(data.train),
              mixture=[mix.components, mix.entropy_weight] if mix else [1, 0.0])


def _nonfinite(fake):
  return dict(nonfinite_samples=float((~np.isfinite(fake)).any(axis=(1, 2, 3)).sum()))


def run(config: ImageConfig) -> Tuple[Dict, RunResult]:
  data, gan = image_run(config)
  loop, out, arch = config.loop, config.loop.out, config.model.arch
  metrics = DigitMetrics(data) if data.name in EMBEDDED_IMAGES else None
  if data.name == "fashion-mnist":   # the Fashion-MNIST classifier of the same files
    metrics = FashionMetrics(data, loop.num_samples, directory=config.data.idx_dir)
  name = objective_name(gan)
  sample = jax.jit(gan.sample, static_argnums=2)
  classes = gan.config.num_classes
  train_data = jnp.asarray(data.train)
  if classes:
    train_data = (train_data, jnp.asarray(data.labels, jnp.int32))
    # Samples of chosen classes (c = i mod C): does the label control the sample?
    sample_classes = jax.jit(lambda s, k, y: gan.sample(s, k, y.shape[0], labels=y))

  inception_of = (inception_evaluator(config.data.inception_weights, data, loop.num_samples)
                  if config.data.inception_weights else None)

  def scores(state, key, fake):
    out = metrics.of(fake) if metrics else {}
    if inception_of is not None:
      out.update(inception_of(fake))
    if classes and metrics:
      y = jnp.arange(min(loop.num_samples, 2000)) % classes
      out["label_accuracy"] = label_accuracy(metrics, np.asarray(sample_classes(
          state, jax.random.fold_in(key, 7), y)), np.asarray(y))
    return out

  def evaluate_at(state, key, iteration):
    fake = sample_in_chunks(sample, state, key, loop.num_samples)
    plots.save_grid(f"{out}/samples/grid_iter_{iteration:07d}.png", fake,
                    f"{name} on {data.name}, iteration {iteration}")
    if not np.isfinite(fake).all():
      return _nonfinite(fake)
    return scores(state, key, fake)

  n_final = 26000 if data.name == "stacked-digits" else loop.num_samples

  def final_at(state, key, iteration):
    fake = sample_in_chunks(sample, state, key, n_final)
    if not np.isfinite(fake).all():
      return _nonfinite(fake), fake
    return (scores(state, key, fake) if metrics or inception_of is not None else {}), fake

  result = train_and_evaluate(gan, loop, out, data=train_data, evaluate=evaluate_at,
                              final=final_at, fingerprint=fingerprint(config, data, gan))
  if not result.main_process or result.stop_reason is StopReason.ALREADY_FINISHED:
    return {}, result
  g = result.generator_iterations
  final, fake = result.final, result.final_output
  common.save_npy(f"{out}/samples.npy", fake)
  title = (f"{name} ({arch}) on {data.name}, {g} generator iterations\n" +
           ", ".join(f"{k} {v:.3g}" for k, v in final.items()))
  plots.save_grid(f"{out}/samples.png", fake, title)
  written = ["samples.npy", "samples.png", "samples/", "metrics.json", "metrics.jsonl",
             "tensorboard/"]
  mix = mixture_of(gan)
  if mix is not None and result.history["iteration"]:
    plots.plot_weights(f"{out}/weights.png", result.history, mix.components,
                       f"{name} on {data.name}: mixture weights")
    written.append("weights.png")
  reference = metrics.reference if metrics else {}
  if metrics:
    plots.plot_metrics(f"{out}/metrics.png", result.evaluations, reference,
                       f"{name} ({arch}) on {data.name}")
    written.append("metrics.png")
  summary = dict(final=final, reference=reference, **result.summary(), dataset=data.name,
                 image_shape=list(data.shape), config=dataclasses.asdict(gan.config),
                 critic_norm=config.critic_norm, args=cli.flat(config), files=written)
  common.write_json(f"{out}/metrics.json", summary)
  return summary, result


def report(config: ImageConfig, summary: Dict) -> None:
  rate = summary["iterations_per_second"]
  print(f"{config.game.objective} ({config.model.arch}) on {summary['dataset']}: "
        f"{summary['generator_iterations']} iterations in {summary['train_seconds']:.1f} s"
        + (f" ({rate:.2f} it/s)" if rate else "") + "; " +
        ", ".join(f"{k} {v:.4g}" for k, v in summary["final"].items()))
  if summary["reference"]:
    print("real held-out data: " + ", ".join(
        f"{k} {v:.4g}" for k, v in summary["reference"].items()))
  print(f"wrote {', '.join(summary['files'])} into {config.loop.out}")


def main(argv: Optional[List[str]] = None) -> int:
  return job.run_job(argv, prog=PROG, description=__doc__, presets=IMAGE_PRESETS, run=run,
                     report=report,
                     choices=dict(objective=_objectives()))


if __name__ == "__main__":
  sys.exit(main())
