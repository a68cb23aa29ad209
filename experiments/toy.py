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

import argparse
import dataclasses
import sys
from typing import Dict, List, Optional

import numpy as np

from experiments import common, runner

DEFAULTS = dict(dataset="8gaussians", objective="wgan-gp", iters=8000, batch_size=256, seed=0,
                out="runs/toy", width=128, depth=3, norm="none", latent_dim=2,
                lr_decay="linear", iters_per_call=50, eval_every=1000, num_samples=2500,
                log_every=10)
PRESETS = {
    "default": {},
    # gan_toy.py: DIM 512, λ 0.1, batch 256, 100,000 generator iterations, constant lr.
    "official": dict(width=512, iters=100_000, lr_decay="none"),
}


def build_parser() -> argparse.ArgumentParser:
  from wgan_jax.config import OBJECTIVES
  from wgan_jax.data import TOY_DATASETS
  from wgan_jax.mixture import MIX_OBJECTIVES
  from wgan_jax.models.mlp import NORMS

  p = argparse.ArgumentParser(
      prog="python -m experiments.toy", description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  d = DEFAULTS
  g = p.add_argument_group("run")
  g.add_argument("--dataset", choices=sorted(TOY_DATASETS), default=None,
                 help=f"toy data set (default {d['dataset']})")
  g.add_argument("--data-file", default=None, metavar="PATH",
                 help="use your own 2-D points instead (.npy [N,2], .csv or whitespace text with "
                      "two columns); mode metrics then do not apply, W1 does")
  g.add_argument("--objective", choices=OBJECTIVES + MIX_OBJECTIVES, default=None,
                 help=f"the game: gan (minimax, saturating G), nsgan (-log D), wgan (clipping), "
                      f"wgan-gp, wgan-gp-onesided (default {d['objective']}); mix+<objective> "
                      f"plays it between mixtures of generators and critics (MIX+GAN, T = 5 "
                      f"unless --mixture says otherwise)")
  g.add_argument("--preset", choices=sorted(PRESETS), default="default",
                 help="default: CPU-sized (width 128, 8000 iterations, linear lr decay); "
                      "official: the official toy code's sizes (width 512, 100,000 iterations, "
                      "constant lr). Explicit flags override the preset")
  g.add_argument("--iters", type=int, default=None,
                 help=f"generator iterations (default {d['iters']})")
  g.add_argument("--batch-size", type=int, default=None,
                 help=f"examples per critic and generator step (default {d['batch_size']})")
  g.add_argument("--seed", type=int, default=None, help="PRNG seed of the whole run (default 0)")
  g.add_argument("--out", default=None, help=f"output folder (default {d['out']})")
  m = p.add_argument_group("models (the official toy MLPs)")
  m.add_argument("--width", type=int, default=None,
                 help=f"hidden units per layer of G and the critic (default {d['width']}; "
                      "official 512)")
  m.add_argument("--depth", type=int, default=None,
                 help=f"hidden layers of G and the critic (default {d['depth']})")
  m.add_argument("--norm", choices=NORMS, default=None,
                 help="normalisation after each hidden layer (default none); batch is refused "
                      "with a gradient penalty")
  m.add_argument("--latent-dim", type=int, default=None, help="size of z ~ N(0, I) (default 2)")
  m.add_argument("--mixture", type=int, default=None, metavar="T",
                 help="MIX+GAN (Arora et al. 2017): T generators and T critics with learned "
                      "mixture weights, payoff averaged over all pairs (default 1: the plain "
                      "GAN; 5 with a mix+ objective)")
  m.add_argument("--mixture-entropy", type=float, default=None,
                 help="weight of the entropy regulariser that keeps the mixture weights from "
                      "collapsing, added by each player for its own weights (default 0.1, as "
                      "in the official code)")
  o = p.add_argument_group("optimisation (unset: the objective's defaults)")
  o.add_argument("--n-critic", type=int, default=None,
                 help="critic steps per generator step (gan/nsgan 1, wgan/wgan-gp 5)")
  o.add_argument("--optimizer", choices=("adam", "rmsprop"), default=None,
                 help="gan/nsgan/wgan-gp: adam; wgan: rmsprop")
  o.add_argument("--lr-d", type=float, default=None,
                 help="critic learning rate (gan 2e-4, wgan 5e-5, wgan-gp 1e-4)")
  o.add_argument("--lr-g", type=float, default=None, help="generator learning rate (as --lr-d)")
  o.add_argument("--beta1", type=float, default=None, help="Adam β1 (0.5)")
  o.add_argument("--beta2", type=float, default=None, help="Adam β2 (wgan-gp 0.9, gan 0.999)")
  o.add_argument("--lr-decay", choices=("linear", "none"), default=None,
                 help="linear: both learning rates fall linearly to 0 over --iters (default); "
                      "none: constant")
  o.add_argument("--clip-value", type=float, default=None,
                 help="WGAN weight clipping c: every critic weight in [-c, c] (wgan: 0.01)")
  o.add_argument("--no-warmup", action="store_true",
                 help="wgan: drop the official warm-up (100 critic steps for the first 25 "
                      "generator iterations and every 500th)")
  o.add_argument("--gp-weight", type=float, default=None,
                 help="gradient penalty λ (toy default 0.1 as in gan_toy.py; the paper's 10 "
                      "elsewhere)")
  o.add_argument("--gp-target", type=float, default=None,
                 help="the gradient norm the penalty pulls towards (1)")
  o.add_argument("--instance-noise", type=float, default=None,
                 help="std of Gaussian noise added to D's real and fake inputs (0: off)")
  o.add_argument("--instance-noise-anneal", type=int, default=None,
                 help="generator iterations over which the noise std falls linearly to 0 "
                      "(0: constant)")
  o.add_argument("--weight-penalty", type=float, default=None,
                 help="coefficient of the L2 penalty Σ‖w‖² on D's weights (0: off)")
  e = p.add_argument_group("execution and output")
  e.add_argument("--iters-per-call", type=int, default=None,
                 help=f"generator iterations fused in one compiled call (default "
                      f"{d['iters_per_call']}); larger is faster for small models")
  e.add_argument("--eval-every", type=int, default=None,
                 help=f"generator iterations between evaluations (default {d['eval_every']})")
  e.add_argument("--num-samples", type=int, default=None,
                 help="samples for the metrics and samples.npy (default 2500, the papers' "
                      "protocol)")
  e.add_argument("--log-every", type=int, default=None,
                 help="keep the losses of every n-th iteration in metrics.json (default 10)")
  e.add_argument("--no-progress", action="store_true", help="no progress bar")
  runner.add_run_flags(p)
  return p


def resolve(args: argparse.Namespace) -> argparse.Namespace:
  """Defaults < preset < explicit flags."""
  values = dict(vars(args))
  values.update(DEFAULTS)
  values.update(runner.RUN_DEFAULTS)
  values.update(PRESETS[args.preset])
  for k, v in vars(args).items():
    if v is not None:
      values[k] = v
  return argparse.Namespace(**values)


def make_run(args):
  """Validate everything and build (config, dataset, GAN) before anything is compiled."""
  from wgan_jax import GAN, ConfigError, make_config
  from wgan_jax.data import load_points, make_toy_dataset
  from wgan_jax.models import MLPCritic, MLPGenerator

  for name in ("iters", "width", "depth", "iters_per_call", "eval_every", "num_samples",
               "log_every"):
    v = getattr(args, name)
    if v < 1:
      common.fail(f"--{name.replace('_', '-')}: must be a positive integer, got {v}")
  try:
    dataset = load_points(args.data_file) if args.data_file else make_toy_dataset(args.dataset)
  except ValueError as e:
    common.fail(f"--data-file: {e}" if args.data_file else f"--dataset: {e}")
  from wgan_jax.mixture import DEFAULT_COMPONENTS, MixtureGAN, parse_objective

  for name in ("mixture", "mixture_entropy"):
    v = getattr(args, name)
    if v is not None and not v >= (1 if name == "mixture" else 0):
      common.fail(f"--{name.replace('_', '-')}: must be "
                  f"{'a positive integer' if name == 'mixture' else 'a number ≥ 0'}, got {v}")
  try:
    objective, mixed = parse_objective(args.objective)
  except ConfigError as e:
    common.fail(str(e))
  components = args.mixture or (DEFAULT_COMPONENTS if mixed else 1)
  # Toy runs use the official toy code's λ = 0.1 for the gradient penalty; --gp-weight given
  # with another objective adds the penalty to it (e.g. a GAN-GP).
  gp_weight = args.gp_weight
  if gp_weight is None and objective.startswith("wgan-gp"):
    gp_weight = 0.1
  try:
    config = make_config(
        objective, batch_size=args.batch_size, latent_dim=args.latent_dim,
        n_critic=args.n_critic, optimizer=args.optimizer, lr_d=args.lr_d, lr_g=args.lr_g,
        beta1=args.beta1, beta2=args.beta2, clip_value=args.clip_value,
        gp_weight=gp_weight,
        gp_target=args.gp_target, instance_noise=args.instance_noise,
        instance_noise_anneal=args.instance_noise_anneal, weight_penalty=args.weight_penalty,
        lr_decay_steps=args.iters if args.lr_decay == "linear" else 0,
        warmup=False if args.no_warmup else None,
        skip_nonfinite=args.skip_nonfinite or None)
  except ConfigError as e:
    common.fail(str(e))
  if args.norm == "batch" and config.uses_gradient_penalty:
    common.fail("--norm: a critic trained with a gradient penalty must not use BatchNorm "
                "(it couples the examples of a batch); use --norm layer or none")
  gan = GAN(MLPGenerator(out_dim=2, width=args.width, depth=args.depth, norm=args.norm),
            MLPCritic(width=args.width, depth=args.depth, norm=args.norm),
            config, lambda data, key: dataset.sample_one(key))
  if mixed or components > 1:
    entropy = 0.1 if args.mixture_entropy is None else args.mixture_entropy
    gan = MixtureGAN.from_gan(gan, components=components, entropy_weight=entropy)
  return config, dataset, gan


def objective_name(gan) -> str:
  """The objective as the user wrote it: nsgan, or mix+nsgan (T=5) for a mixture."""
  if hasattr(gan, "components"):
    return f"{gan.objective_name} (T={gan.components})"
  return gan.config.objective


def evaluate(gan, state, dataset, key, n: int) -> Dict[str, float]:
  import jax
  from wgan_jax import mode_coverage, wasserstein1_exact
  k_fake, k_real = jax.random.split(key)
  fake = np.asarray(gan.sample(state, k_fake, n))
  real = np.asarray(dataset.sample(k_real, n))
  if not np.isfinite(fake).all():
    return dict(nonfinite_samples=float((~np.isfinite(fake).all(axis=1)).sum())), fake
  out = dict(w1_exact=wasserstein1_exact(fake, real))
  if dataset.centres is not None:
    out.update(mode_coverage(fake, dataset.centres, dataset.std))
  return out, fake


def plot_samples(path, gan, state, dataset, fake, key, title, components=None, weights=None):
  """Samples over the real data and the critic's contours; with `components` (the generator
  of each sample, a mixture) each generator's samples in its own colour, labelled by weight."""
  import jax
  import jax.numpy as jnp
  plt = common.matplotlib_pyplot()
  real = np.asarray(dataset.sample(key, len(fake)))
  lim = 1.25 * float(np.abs(real).max())
  grid = np.linspace(-lim, lim, 128, dtype=np.float32)
  xx, yy = np.meshgrid(grid, grid)
  pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=1))
  values = np.asarray(jax.jit(gan.critic_values)(state, pts)).reshape(xx.shape)
  fig, ax = plt.subplots(figsize=(6, 6))
  cs = ax.contour(xx, yy, values, levels=20, cmap="viridis", linewidths=0.8)
  fig.colorbar(cs, ax=ax, shrink=0.8, label="critic value")
  ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", label="real")
  shown = fake[np.all(np.abs(fake) < 2 * lim, axis=1)]
  if components is None:
    ax.scatter(shown[:, 0], shown[:, 1], s=2, c="tab:green", label="generated")
  else:
    comp = np.asarray(components)[np.all(np.abs(fake) < 2 * lim, axis=1)]
    colours = plt.get_cmap("tab10")
    for i in range(len(weights)):
      pts = shown[comp == i]
      ax.scatter(pts[:, 0], pts[:, 1], s=2, color=colours((i + 2) % 10),
                 label=f"G{i} (w {weights[i]:.2f})")
  ax.set_xlim(-lim, lim)
  ax.set_ylim(-lim, lim)
  ax.set_aspect("equal")
  ax.legend(loc="upper right", markerscale=4)
  ax.set_title(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return dict(grid=grid, critic_values=values)


def plot_losses(path, history, title):
  plt = common.matplotlib_pyplot()
  keys = [k for k in ("d_loss", "g_loss", "w_estimate", "gp") if k in history]
  fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.2 * len(keys)), sharex=True)
  axes = np.atleast_1d(axes)
  for ax, k in zip(axes, keys):
    ax.plot(history["iteration"], history[k], lw=0.8)
    ax.set_ylabel(k)
    ax.grid(alpha=0.3)
  axes[-1].set_xlabel("generator iteration")
  axes[0].set_title(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_weights(path, history, components, title):
  """The mixture weights of both players over training (from the logged metrics)."""
  plt = common.matplotlib_pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
  for ax, side, name in zip(axes, ("g", "d"), ("generators", "critics")):
    for i in range(components):
      ax.plot(history["iteration"], history[f"w_{side}_{i}"], lw=1, label=f"{side.upper()}{i}")
    ax.axhline(1 / components, color="gray", ls=":", lw=0.8)
    ax.set_title(f"weights of the {name}", fontsize=9)
    ax.set_xlabel("generator iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
  axes[0].set_ylabel("mixture weight")
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def fingerprint(args, config, dataset, gan=None) -> Dict:
  """What a checkpoint must match to be resumed by this run."""
  out = dict(config=dataclasses.asdict(config), dataset=dataset.name, width=args.width,
             depth=args.depth, norm=args.norm, seed=args.seed, iters=args.iters)
  if hasattr(gan, "components"):
    out["mixture"] = dict(components=gan.components, entropy_weight=gan.entropy_weight)
  return out


def run(args, config, dataset, gan, *, progress: bool = True) -> Dict:
  """Train with the shared runner, then write samples, metrics and figures (process 0)."""
  import jax

  def evaluate_at(state, key, iteration):
    ev, fake = evaluate(gan, state, dataset, key, args.num_samples)
    common.save_npy(f"{args.out}/samples/iter_{iteration:07d}.npy", fake)
    return ev

  result = runner.train(args, gan, fingerprint=fingerprint(args, config, dataset, gan),
                        evaluate=evaluate_at, progress=progress)
  if not result["main_process"]:
    return result
  state, g = result.pop("state"), result["generator_iterations"]
  final_key = result.pop("final_key")
  final, fake = evaluate(gan, state, dataset, final_key, args.num_samples)
  result["evaluations"].append(dict(iteration=g, seconds=result["train_seconds"], **final))
  common.save_npy(f"{args.out}/samples.npy", fake)
  name = objective_name(gan)
  title = (f"{name} on {dataset.name}, {g} generator iterations\n" +
           ", ".join(f"{k} {v:.3g}" for k, v in final.items() if k != "num_modes"))
  mixture, colour = None, {}
  if hasattr(gan, "components"):  # MIX+GAN: the generator of each sample, the final weights
    w_g, w_d = (np.asarray(w) for w in gan.weights(state))
    # the same key as `evaluate`, so these are the samples of samples.npy
    _, comp = gan.sample_with_components(state, jax.random.split(final_key)[0],
                                         args.num_samples)
    colour = dict(components=np.asarray(comp), weights=w_g)
    mixture = dict(components=gan.components, entropy_weight=gan.entropy_weight,
                   weights_g=w_g, weights_d=w_d,
                   sample_share=np.bincount(np.asarray(comp), minlength=gan.components)
                   / args.num_samples)
    common.save_npy(f"{args.out}/components.npy", np.asarray(comp))
  surface = plot_samples(f"{args.out}/samples.png", gan, state, dataset, fake,
                         jax.random.key(args.seed + 1), title, **colour)
  written = ["samples.npy", "metrics.json", "metrics.jsonl", "samples.png", "tensorboard/"]
  history = result["history"]
  if history["iteration"]:
    plot_losses(f"{args.out}/losses.png", history, f"{name} on {dataset.name}")
    written.append("losses.png")
    if mixture is not None:
      plot_weights(f"{args.out}/weights.png", history, gan.components,
                   f"{name} on {dataset.name}: mixture weights (entropy weight "
                   f"{gan.entropy_weight:g})")
      written.append("weights.png")
  if mixture is not None:
    written.append("components.npy")
  summary = dict(final=final, **result, dataset=dataset.name,
                 config=dataclasses.asdict(config), args=dict(vars(args)),
                 value_surface=surface, files=written)
  if mixture is not None:
    summary["mixture"] = mixture
  common.write_json(f"{args.out}/metrics.json", summary)
  return summary


def main(argv: Optional[List[str]] = None) -> int:
  args = resolve(build_parser().parse_args(argv))
  runner.check_run_flags(args)
  runner.init_distributed(args)  # before anything touches the XLA backend
  config, dataset, gan = make_run(args)
  summary = run(args, config, dataset, gan, progress=not args.no_progress)
  if summary.get("main_process", True) and "final" in summary:
    final = summary["final"]
    rate = summary["iterations_per_second"]
    print(f"{objective_name(gan)} on {dataset.name}: {summary['generator_iterations']} iterations "
          f"in {summary['train_seconds']:.1f} s"
          + (f" ({rate:.1f} it/s)" if rate else "") + "; " +
          ", ".join(f"{k} {v:.4g}" for k, v in final.items()))
    print(f"wrote {', '.join(summary['files'])} into {args.out}")
  if summary["stopped"]:
    print(f"stopped: {summary['stopped']}", file=sys.stderr)
    return 1 if "non-finite" in summary["stopped"] else 0 if "--stop-at" in summary[
        "stopped"] else 130
  return 0


if __name__ == "__main__":
  sys.exit(main())
