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
modes of 1000 and KL to uniform). They are comparable with each other, not with published
Inception-based numbers. Other data sets get the losses and the sample grids.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import textwrap
from typing import Dict, List, Optional

import numpy as np

from experiments import common, runner

ARCHS = ("dcgan", "resnet", "mlp")
OBJECTIVES = ("gan", "nsgan", "wgan", "wgan-gp", "wgan-gp-onesided")
MIXED = tuple("mix+" + o for o in OBJECTIVES)
EMBEDDED = ("digits", "stacked-digits")

DEFAULTS = dict(dataset="digits", objective="wgan-gp", arch="dcgan", dim=64, latent_dim=128,
                batch_size=64, iters=3000, seed=0, out="runs/images", iters_per_call=50,
                eval_every=500, num_samples=1000, log_every=10, gen_norm="batch",
                tfds_split="train", max_examples=60000, lr_decay="none")


def build_parser() -> argparse.ArgumentParser:
  d = DEFAULTS
  p = argparse.ArgumentParser(prog="python -m experiments.images", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  g = p.add_argument_group("data and run")
  g.add_argument("--dataset", default=None,
                 help="digits (default: scikit-learn's 8×8 digits, embedded), stacked-digits "
                      "(three digits as RGB channels: 1000 modes), or any image data set "
                      "tensorflow-datasets knows (mnist, fashion_mnist, cifar10, celeb_a, ...)")
  g.add_argument("--data-dir", default=None, metavar="DIR",
                 help="train on the image files in DIR instead (all of one size)")
  g.add_argument("--tfds-split", default=None, help="TFDS split to read (default train)")
  g.add_argument("--tfds-data-dir", default=None,
                 help="where TFDS data sets are stored (default TFDS's own, ~/tensorflow_datasets)")
  g.add_argument("--download", action="store_true",
                 help="let TFDS download and prepare a data set that is not there yet")
  g.add_argument("--max-examples", type=int, default=None,
                 help=f"read at most this many TFDS examples (default {d['max_examples']})")
  g.add_argument("--image-size", type=int, default=None,
                 help="resize TFDS / folder images to this square size (default: as stored)")
  g.add_argument("--objective", choices=OBJECTIVES + MIXED, default=None,
                 help="nsgan (DCGAN recipe), wgan (clipping, RMSProp), wgan-gp (default), ...; "
                      "mix+OBJECTIVE plays it between mixtures (MIX+GAN, T = 5 unless "
                      "--mixture says otherwise)")
  g.add_argument("--iters", type=int, default=None,
                 help=f"generator iterations (default {d['iters']}: about 10 minutes of a "
                      "WGAN-GP DCGAN on digits on 2 CPU cores)")
  g.add_argument("--batch-size", type=int, default=None,
                 help=f"global batch size (default {d['batch_size']}, as the official code)")
  g.add_argument("--seed", type=int, default=None, help="PRNG seed of the whole run (default 0)")
  g.add_argument("--out", default=None, help=f"output folder (default {d['out']})")
  m = p.add_argument_group("models")
  m.add_argument("--arch", choices=ARCHS, default=None,
                 help="dcgan (default; the official WGAN-GP MNIST/CIFAR models), resnet (the "
                      "WGAN-GP CIFAR ResNet), mlp (the WGAN paper's 4-layer ReLU MLP, 512 wide)")
  m.add_argument("--dim", type=int, default=None,
                 help=f"base width: conv channels or MLP units (default {d['dim']}; the papers "
                      "use 64 (DCGAN), 128 (ResNet) and 512 (MLP))")
  m.add_argument("--latent-dim", type=int, default=None,
                 help=f"size of z ~ N(0, I) (default {d['latent_dim']})")
  m.add_argument("--mixture", type=int, default=None, metavar="T",
                 help="MIX+GAN: T generators and T critics with learned mixture weights "
                      "(wgan_jax.mixture; default 1, the plain GAN)")
  m.add_argument("--mixture-entropy", type=float, default=None,
                 help="weight of the entropy regulariser on the mixture weights (default 0.1)")
  m.add_argument("--gen-norm", choices=("batch", "layer", "none"), default=None,
                 help="generator normalisation (default batch, as the official code)")
  m.add_argument("--critic-norm", choices=("batch", "layer", "none"), default=None,
                 help="critic normalisation (default: none with a gradient penalty, batch "
                      "otherwise; batch is refused with a gradient penalty)")
  o = p.add_argument_group("optimisation (defaults: the official code's, per objective)")
  o.add_argument("--n-critic", type=int, default=None, help="critic steps per generator step")
  o.add_argument("--optimizer", choices=("adam", "rmsprop"), default=None,
                 help="adam (nsgan, wgan-gp) or rmsprop (wgan)")
  o.add_argument("--lr-d", type=float, default=None, help="critic learning rate")
  o.add_argument("--lr-g", type=float, default=None, help="generator learning rate")
  o.add_argument("--beta1", type=float, default=None, help="Adam β1 (0.5)")
  o.add_argument("--beta2", type=float, default=None, help="Adam β2 (wgan-gp 0.9, nsgan 0.999)")
  o.add_argument("--lr-decay", choices=("linear", "none"), default=None,
                 help="decay both learning rates linearly to 0 over --iters (default none)")
  o.add_argument("--clip-value", type=float, default=None, help="WGAN weight clipping c (0.01)")
  o.add_argument("--gp-weight", type=float, default=None, help="gradient penalty λ (10)")
  o.add_argument("--no-warmup", action="store_true",
                 help="wgan: skip the official 100-critic-step warm-up iterations")
  e = p.add_argument_group("evaluation and speed")
  e.add_argument("--iters-per-call", type=int, default=None,
                 help=f"generator iterations per compiled call (default {d['iters_per_call']})")
  e.add_argument("--eval-every", type=int, default=None,
                 help=f"evaluate and write a sample grid every n iterations "
                      f"(default {d['eval_every']})")
  e.add_argument("--num-samples", type=int, default=None,
                 help=f"samples per evaluation (default {d['num_samples']}; stacked digits use "
                      "26000 at the end, as VEEGAN/PacGAN)")
  e.add_argument("--log-every", type=int, default=None,
                 help=f"log losses every n iterations (default {d['log_every']})")
  e.add_argument("--no-progress", action="store_true", help="no progress bar")
  runner.add_run_flags(p)
  return p


def resolve(args: argparse.Namespace) -> argparse.Namespace:
  values = dict(DEFAULTS, **runner.RUN_DEFAULTS)
  for k, v in vars(args).items():
    if v is not None or k not in values:
      values[k] = v
  return argparse.Namespace(**values)


# ------------------------------------------------------------------------------ data
@dataclasses.dataclass
class ImageData:
  name: str
  train: np.ndarray                      # [N, H, W, C] in [-1, 1]
  validation: Optional[np.ndarray] = None
  labels: Optional[np.ndarray] = None

  @property
  def shape(self):
    return self.train.shape[1:]


def load_data(args) -> ImageData:
  """The training images named by --dataset / --data-dir (clear errors, no JAX tracebacks)."""
  from wgan_jax.data import images
  if args.data_dir:
    try:
      x = images.load_image_folder(args.data_dir, image_size=args.image_size)
    except ValueError as e:
      common.fail(str(e))
    return ImageData(os.path.basename(os.path.normpath(args.data_dir)), x)
  if args.dataset == "digits":
    xt, yt, xv, _ = images.load_digits()
    return ImageData("digits", xt, xv, yt)
  if args.dataset == "stacked-digits":
    xt, _, xv, _ = images.load_digits()
    return ImageData("stacked-digits", images.stack_digits(xt, 25600, seed=args.seed),
                     images.stack_digits(xv, 2560, seed=args.seed + 1))
  from wgan_jax.data import tfds_images
  try:
    x = tfds_images.load_tfds_images(
        args.dataset, split=args.tfds_split, data_dir=args.tfds_data_dir,
        max_examples=args.max_examples, seed=args.seed, image_size=args.image_size,
        download=args.download)
  except (ValueError, ImportError) as e:
    common.fail(str(e))
  return ImageData(args.dataset, x)


# ------------------------------------------------------------------------------ models
def make_models(arch: str, shape, *, dim: int, gen_norm: str, critic_norm: str):
  from wgan_jax.models import (DCGANCritic, DCGANGenerator, ImageMLPGenerator, MLPCritic,
                               ResNetCritic, ResNetGenerator)
  if arch == "dcgan":
    return (DCGANGenerator(image_shape=shape, dim=dim, norm=gen_norm),
            DCGANCritic(dim=dim, norm=critic_norm))
  if arch == "resnet":
    return (ResNetGenerator(image_shape=shape, dim=dim, norm=gen_norm),
            ResNetCritic(dim=dim, norm=critic_norm))
  return (ImageMLPGenerator(image_shape=shape, width=dim, depth=3),
          MLPCritic(width=dim, depth=3, norm=critic_norm))


def make_config_from(args, objective: str):
  from wgan_jax import make_config
  return make_config(
      objective, batch_size=args.batch_size, latent_dim=args.latent_dim,
      n_critic=args.n_critic, optimizer=args.optimizer, lr_d=args.lr_d, lr_g=args.lr_g,
      beta1=args.beta1, beta2=args.beta2, clip_value=args.clip_value, gp_weight=args.gp_weight,
      lr_decay_steps=args.iters if args.lr_decay == "linear" else 0,
      warmup=False if args.no_warmup else None, skip_nonfinite=args.skip_nonfinite or None)


def make_run(args):
  """Validate everything and build (config, data, GAN) before anything is compiled."""
  from wgan_jax import GAN, ConfigError
  from wgan_jax.data.images import array_sampler
  from wgan_jax.models.dcgan import stages_for

  for name in ("iters", "dim", "latent_dim", "iters_per_call", "eval_every", "num_samples",
               "log_every", "max_examples"):
    v = getattr(args, name)
    if v < 1:
      common.fail(f"--{name.replace('_', '-')}: must be a positive integer, got {v}")
  if args.image_size is not None and args.image_size < 2:
    common.fail(f"--image-size: must be at least 2, got {args.image_size}")
  from wgan_jax.mixture import DEFAULT_COMPONENTS, MixtureGAN, parse_objective
  if args.mixture is not None and args.mixture < 1:
    common.fail(f"--mixture: must be a positive integer, got {args.mixture}")
  if args.mixture_entropy is not None and not args.mixture_entropy >= 0:
    common.fail(f"--mixture-entropy: must be a number ≥ 0, got {args.mixture_entropy}")
  try:
    objective, mixed = parse_objective(args.objective)
    config = make_config_from(args, objective)
  except ConfigError as e:
    common.fail(str(e))
  components = args.mixture or (DEFAULT_COMPONENTS if mixed else 1)
  critic_norm = args.critic_norm or ("none" if config.uses_gradient_penalty else "batch")
  if critic_norm == "batch" and config.uses_gradient_penalty:
    common.fail("--critic-norm: a critic trained with a gradient penalty must not use "
                "BatchNorm (it couples the examples of a batch); use layer or none")
  if args.arch == "resnet" and critic_norm == "batch":
    critic_norm = "none" if args.critic_norm is None else common.fail(
        "--critic-norm: the ResNet critic supports layer or none")
  data = load_data(args)
  shape = tuple(int(s) for s in data.shape)
  if args.arch != "mlp":
    try:
      stages_for(shape[:2])
    except ValueError:
      common.fail(f"--arch {args.arch}: image sides must be even, got {shape[0]}×{shape[1]}; "
                  "use --image-size or --arch mlp")
  if not np.isfinite(data.train).all():
    common.fail(f"--dataset: {data.name} holds non-finite pixel values")
  generator, critic = make_models(args.arch, shape, dim=args.dim, gen_norm=args.gen_norm,
                                  critic_norm=critic_norm)
  gan = GAN(generator, critic, config, array_sampler)
  if components > 1:
    if args.parallel != "none":
      common.fail("--parallel: mixtures run on one device in experiments.images")
    gan = MixtureGAN.from_gan(gan, components=components, entropy_weight=0.1 if
                              args.mixture_entropy is None else args.mixture_entropy)
  return config, data, gan, critic_norm


# ------------------------------------------------------------------------------ metrics
class DigitMetrics:
  """The offline metrics on (stacked) digits from the project's cached classifier."""

  def __init__(self, data: ImageData):
    import jax
    from wgan_jax.classifier import classify, load_or_train_digit_classifier
    self.stacked = data.name == "stacked-digits"
    self.params, self.classifier_accuracy = load_or_train_digit_classifier()
    self._classify = jax.jit(lambda x: classify(self.params, x))
    ref = data.train[:, :, :, :1] if self.stacked else data.train
    self.train_features = self.features(ref)[1]
    self.reference = self.of(data.validation) if data.validation is not None else {}
    self.reference["classifier_accuracy"] = self.classifier_accuracy

  def features(self, x):
    out = [self._classify(x[i:i + 2000]) for i in range(0, len(x), 2000)]
    return (np.concatenate([np.asarray(o[0]) for o in out]),
            np.concatenate([np.asarray(o[1]) for o in out]))

  def of(self, x: np.ndarray) -> Dict[str, float]:
    from wgan_jax import image_metrics as im
    x = np.clip(np.asarray(x, np.float32), -1, 1)
    if self.stacked:
      n, h, w, _ = x.shape
      channels = x.transpose(0, 3, 1, 2).reshape(n * 3, h, w, 1)
      logits, feats = self.features(channels)
      out = im.stacked_modes(logits.reshape(n, 3, -1))
      out = dict(modes=out["modes"], kl_to_uniform=out["kl_to_uniform"])
    else:
      logits, feats = self.features(x)
      hist = im.class_histogram(logits)
      out = dict(classes_covered=hist["classes_covered"], kl_to_uniform=hist["kl_to_uniform"])
    out["classifier_score"] = im.classifier_score(logits)
    out["frechet_distance"] = im.frechet_distance(feats, self.train_features)
    out["kernel_distance"] = im.kernel_distance(feats[:2000], self.train_features[:2000])
    return out


def sample_in_chunks(sample, state, key, n: int, chunk: int = 2000) -> np.ndarray:
  """n samples from a jitted `sample(state, key, m)`, `chunk` at a time (bounded memory: the
  patches convolutions hold k² copies of a layer's input). Up to `chunk`: one call with `key`;
  beyond, chunk c uses fold_in(key, c)."""
  import jax
  if n <= chunk:
    return np.asarray(sample(state, key, n))
  parts = [np.asarray(sample(state, jax.random.fold_in(key, c), min(chunk, n - c * chunk)))
           for c in range(-(-n // chunk))]
  return np.concatenate(parts)


def save_grid(path: str, x: np.ndarray, title: str, n: int = 64) -> None:
  """A square grid of the first n images (in [-1, 1]) as a PNG."""
  plt = common.matplotlib_pyplot()
  x = np.clip((np.asarray(x[:n], np.float32) + 1) / 2, 0, 1)
  k = int(np.ceil(np.sqrt(len(x))))
  h, w, c = x.shape[1:]
  canvas = np.ones((k * (h + 1) + 1, k * (w + 1) + 1, c), np.float32)
  for i, img in enumerate(x):
    r, q = divmod(i, k)
    canvas[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + q * (w + 1):1 + q * (w + 1) + w] = img
  fig, ax = plt.subplots(figsize=(5, 5.3))
  ax.imshow(canvas[..., 0] if c == 1 else canvas, cmap="gray" if c == 1 else None,
            vmin=0, vmax=1, interpolation="nearest")
  ax.set_axis_off()
  ax.set_title("\n".join(textwrap.fill(line, 70) for line in title.splitlines()), fontsize=8)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_metrics(path: str, evaluations: List[Dict], reference: Dict, title: str) -> None:
  plt = common.matplotlib_pyplot()
  keys = [k for k in ("classifier_score", "frechet_distance", "classes_covered", "modes")
          if evaluations and k in evaluations[0]]
  if not keys:
    return
  fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.2))
  axes = np.atleast_1d(axes)
  its = [e["iteration"] for e in evaluations]
  for ax, k in zip(axes, keys):
    ax.plot(its, [e[k] for e in evaluations], "o-", ms=3)
    if k in reference:
      ax.axhline(reference[k], color="k", ls="--", lw=0.8, label="held-out real")
      ax.legend(fontsize=7)
    ax.set_xlabel("generator iteration")
    ax.set_title(k, fontsize=9)
    ax.grid(alpha=0.3)
  fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


# ------------------------------------------------------------------------------ the run
def fingerprint(args, config, data: ImageData, critic_norm: str, gan=None) -> Dict:
  return dict(config=dataclasses.asdict(config), dataset=data.name, shape=list(data.shape),
              arch=args.arch, dim=args.dim, gen_norm=args.gen_norm, critic_norm=critic_norm,
              seed=args.seed, iters=args.iters, num_train=int(len(data.train)),
              mixture=[getattr(gan, "components", 1), getattr(gan, "entropy_weight", 0.0)])


def run(args, config, data: ImageData, gan, critic_norm: str, *, progress: bool = True) -> Dict:
  import jax
  import jax.numpy as jnp
  metrics = DigitMetrics(data) if data.name in EMBEDDED else None
  device_data = jnp.asarray(data.train)
  name = config.objective if not hasattr(gan, "components") else \
      f"mix+{config.objective} (T={gan.components})"
  sample = jax.jit(gan.sample, static_argnums=2)

  def evaluate_at(state, key, iteration):
    fake = sample_in_chunks(sample, state, key, args.num_samples)
    save_grid(f"{args.out}/samples/grid_iter_{iteration:07d}.png", fake,
              f"{name} on {data.name}, iteration {iteration}")
    if not np.isfinite(fake).all():
      return dict(nonfinite_samples=float((~np.isfinite(fake)).any(axis=(1, 2, 3)).sum()))
    return metrics.of(fake) if metrics else {}

  result = runner.train(args, gan, fingerprint=fingerprint(args, config, data, critic_norm, gan),
                        evaluate=evaluate_at, progress=progress, data=device_data)
  if not result["main_process"]:
    return result
  state, g = result.pop("state"), result["generator_iterations"]
  n_final = 26000 if data.name == "stacked-digits" else args.num_samples
  fake = sample_in_chunks(sample, state, result.pop("final_key"), n_final)
  final = {}
  if not np.isfinite(fake).all():
    final["nonfinite_samples"] = float((~np.isfinite(fake)).any(axis=(1, 2, 3)).sum())
  elif metrics:
    final = metrics.of(fake)
  result["evaluations"].append(dict(iteration=g, seconds=result["train_seconds"], **final))
  common.save_npy(f"{args.out}/samples.npy", fake)
  title = (f"{name} ({args.arch}) on {data.name}, {g} generator iterations\n" +
           ", ".join(f"{k} {v:.3g}" for k, v in final.items()))
  save_grid(f"{args.out}/samples.png", fake, title)
  written = ["samples.npy", "samples.png", "samples/", "metrics.json", "metrics.jsonl",
             "tensorboard/"]
  history = result["history"]
  if hasattr(gan, "components") and history["iteration"]:
    from experiments.toy import plot_weights
    plot_weights(f"{args.out}/weights.png", history, gan.components,
                 f"{name} on {data.name}: mixture weights")
    written.append("weights.png")
  reference = metrics.reference if metrics else {}
  if metrics:
    plot_metrics(f"{args.out}/metrics.png", result["evaluations"], reference,
                 f"{name} ({args.arch}) on {data.name}")
    written.append("metrics.png")
  summary = dict(final=final, reference=reference, **result, dataset=data.name,
                 image_shape=list(data.shape), config=dataclasses.asdict(config),
                 critic_norm=critic_norm, args=dict(vars(args)), files=written)
  common.write_json(f"{args.out}/metrics.json", summary)
  return summary


def main(argv: Optional[List[str]] = None) -> int:
  args = resolve(build_parser().parse_args(argv))
  runner.check_run_flags(args)
  runner.init_distributed(args)
  config, data, gan, critic_norm = make_run(args)
  summary = run(args, config, data, gan, critic_norm, progress=not args.no_progress)
  if summary.get("main_process", True) and "final" in summary:
    rate = summary["iterations_per_second"]
    print(f"{args.objective} ({args.arch}) on {data.name}: {summary['generator_iterations']} "
          f"iterations in {summary['train_seconds']:.1f} s"
          + (f" ({rate:.2f} it/s)" if rate else "") + "; " +
          ", ".join(f"{k} {v:.4g}" for k, v in summary["final"].items()))
    if summary["reference"]:
      print("real held-out data: " + ", ".join(
          f"{k} {v:.4g}" for k, v in summary["reference"].items()))
    print(f"wrote {', '.join(summary['files'])} into {args.out}")
  if summary["stopped"]:
    print(f"stopped: {summary['stopped']}", file=sys.stderr)
    return 1 if "non-finite" in summary["stopped"] else 0 if "--stop-at" in summary[
        "stopped"] else 130
  return 0


if __name__ == "__main__":
  sys.exit(main())
