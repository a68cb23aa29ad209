"""The typed configuration trees of the three jobs (toy, images, text).

Each job's config is a frozen dataclass of four sub-configs, validated on construction:

  game  (`GameConfig`)  the objective and its optimisation; unset fields take the objective's
                        defaults (`wgan_jax.make_config`), and `gan_config()` is the library's
                        validated `GANConfig`;
  model                 the networks (and the MIX+GAN mixture size);
  data                  the data set;
  loop  (`LoopConfig`)  iterations, evaluation, checkpoints, devices (experiments/loop.py).

A job's `PRESETS` are its named configs, each a config tree like any other ("default" is the CPU
scale; "official" / "paper" the published one), written as the default tree with some leaves set
(`experiments.cli.with_leaves`); the command line sets its explicit flags on one of them, and
`get_config(job, preset, **fields)` returns the same value in Python.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Optional

from experiments.cli import (OptionError, check_choice, check_positive, configure, opt,
                             with_leaves)
from experiments.loop import LoopConfig
from wgan_jax import (RMSPROP_FORMS as FORM_SETTINGS, check_critic_norm as check,
                      get_objective as get, make_config)
from wgan_jax.config import OBJECTIVES, GANConfig
from wgan_jax.data import TOY_DATASETS
from wgan_jax.metrics import EXACT_W1_MAX
from wgan_jax.mixture import MIX_OBJECTIVES

OPTIMIZERS = ("adam", "rmsprop")
RMSPROP_FORMS = ("pytorch", "tf1", "optax")   # wgan_jax.RMSPROP_FORMS' names (tested equal)
NORMS = ("none", "layer", "batch")


def _built_once(method):
  """A job config's derived library config (`gan_config()`), built on first use and kept on
  the frozen tree: one `GANConfig` per run, however many places ask for it (a changed tree,
  `dataclasses.replace`, is a new tree and builds its own)."""
  name = f"_{method.__name__}_value"

  @functools.wraps(method)
  def once(self):
    if name not in self.__dict__:
      object.__setattr__(self, name, method(self))
    return self.__dict__[name]
  return once


def _objectives():
  return tuple(OBJECTIVES) + tuple(MIX_OBJECTIVES)


def _with_library_fields(cls):
  """`cls` with one optional field per documented `GANConfig` field (`wgan_jax.config._field`),
  after `objective` and `batch_size` and before the job's other own fields: its type made
  Optional, default None (unset: the objective's default), help, choices and metavar from the
  library field's metadata. The game config is generated from `GANConfig`, not a mirror of it:
  a new library field is a flag of every job, passed on by `gan_config`."""
  own = dict(cls.__annotations__)
  first = {k: own.pop(k) for k in ("objective", "batch_size")}
  library = {}
  for f in dataclasses.fields(GANConfig):
    if "doc" not in f.metadata:
      continue
    if f.name in own or f.name in first:
      raise TypeError(f"GameConfig.{f.name}: declared by the job and generated from GANConfig")
    t = f.type if str(f.type).startswith("Optional[") else f"Optional[{f.type}]"
    library[f.name] = t
    setattr(cls, f.name, opt(None, f.metadata["doc"], choices=f.metadata.get("choices"),
                             metavar=f.metadata.get("symbol")))
  cls.__annotations__ = {**first, **library, **own}
  cls.LIBRARY_FIELDS = tuple(library)
  return cls


@dataclasses.dataclass(frozen=True)
@_with_library_fields
class GameConfig:
  """optimisation (unset: the objective's defaults)

  The job's own fields are below; every documented field of the library's `GANConfig`
  (n_critic, optimizer, lr_d, lr_g, beta1, beta2, clip_value, gp_weight, ..., compute_dtype:
  `GameConfig.LIBRARY_FIELDS`) is added as an optional field by `_with_library_fields`."""
  objective: str = opt("wgan-gp", "the game: gan (minimax, saturating G), nsgan (-log D), wgan "
                       "(clipping), wgan-gp, wgan-gp-onesided, lsgan (least squares, 0-1 "
                       "coding), hinge, dragan (nsgan + penalty near the real data); "
                       "mix+<objective> plays it between mixtures of generators and critics "
                       "(MIX+GAN, T = 5 unless --mixture says otherwise)")
  batch_size: int = opt(64, "examples per critic and generator step (the global batch)")
  rmsprop: Optional[str] = opt(None, "RMSProp's form: pytorch (torch.optim.RMSprop: decay 0.99, "
                               "ε 1e-8 after the root; the official WGAN code, wgan's "
                               "default), tf1 (tf.train.RMSPropOptimizer: decay 0.9, ε 1e-10 "
                               "inside the root, second moment starting at 1; the official "
                               "WGAN-GP scripts, gan_toy.py among them) or optax (optax.rmsprop: "
                               "decay 0.9, ε 1e-8 inside the root; the default of the other "
                               "objectives)", choices=RMSPROP_FORMS, metavar="FORM")
  lr_decay: str = opt("none", "linear: both learning rates fall linearly to 0 over --iters; "
                      "none: constant", choices=("linear", "none"))
  warmup: bool = opt(True, "wgan: drop the official warm-up (100 critic steps for the first 25 "
                     "generator iterations and every 500th)", flag="--no-warmup")
  mixture: Optional[int] = opt(None, "MIX+GAN (Arora et al. 2017): T generators and T critics "
                               "with learned mixture weights, payoff averaged over all pairs "
                               "(default 1: the plain GAN; 5 with a mix+ objective)",
                               metavar="T")
  mixture_entropy: Optional[float] = opt(None, "weight of the entropy regulariser that keeps "
                                         "the mixture weights from collapsing (default 0.1, as "
                                         "in the official code)")

  def __post_init__(self):
    check_choice(self, "objective", _objectives())
    if self.rmsprop is not None:
      check_choice(self, "rmsprop", RMSPROP_FORMS)
    check_positive(self, "mixture")
    e = self.mixture_entropy
    if e is not None and not (isinstance(e, (int, float)) and math.isfinite(e) and e >= 0):
      raise OptionError("mixture_entropy", f"must be a number ≥ 0, got {e!r}")

  @property
  def base_objective(self) -> str:
    return self.objective[4:] if self.objective.startswith("mix+") else self.objective

  @property
  def components(self) -> int:
    """T: the mixture size (1: the plain GAN)."""
    if self.mixture is not None:
      return self.mixture
    return 5 if self.objective.startswith("mix+") else 1

  def gan_config(self, *, iters: int, latent_dim: int, **defaults):
    """The library's `GANConfig` (objective defaults < `defaults` < the set fields)."""
    values = dict(defaults)
    if self.rmsprop is not None:
      values.update(FORM_SETTINGS[self.rmsprop])
    values.update({k: getattr(self, k) for k in ("batch_size",) + self.LIBRARY_FIELDS
                   if getattr(self, k) is not None})
    values.update(latent_dim=latent_dim,
                  lr_decay_steps=iters if self.lr_decay == "linear" else 0,
                  warmup=None if self.warmup else False)
    return make_config(self.base_objective, **values)


def check_critic_norm(config, *, batch_norm: bool, field: str) -> None:
  check(config, batch_norm=batch_norm, field=field)


def get_objective(name: str):
  return get(name)


def _validate_game(job) -> None:
  """Build the job's GANConfig once, so a bad game value is refused before any work; refuse a
  set option that the game would silently ignore (the library cannot tell a set value from its
  default, the job can)."""
  g, c = job.game, job.gan_config()
  if not g.warmup and not make_config(g.base_objective).warmup:
    raise OptionError("warmup", f"only wgan has the warm-up schedule; {g.base_objective} has "
                      "none to drop")
  for beta in ("beta1", "beta2"):
    if getattr(g, beta) is not None and c.optimizer != "adam":
      raise OptionError(beta, f"is Adam's; the optimizer is {c.optimizer} (set --optimizer "
                        f"adam, or leave --{beta} out)")
  if g.rmsprop is not None and c.optimizer != "rmsprop":
    raise OptionError("rmsprop", f"sets RMSProp's form; the optimizer is {c.optimizer} (set "
                      "--optimizer rmsprop, or leave --rmsprop out)")
  if g.gp_target is not None and not c.uses_gradient_penalty:
    raise OptionError("gp_target", f"sets the gradient penalty's target, and {g.objective} "
                      "has no penalty (set --gp-weight > 0 too)")
  if g.mixture_entropy is not None and g.components == 1:
    raise OptionError("mixture_entropy", "regularises MIX+GAN's mixture weights, and this is "
                      "one generator and one critic (set --mixture T > 1 or a mix+ objective)")
  steps = c.critic_steps_before(job.loop.iters)
  if steps > STEP_COUNT_MAX:
    raise OptionError("iters", f"{job.loop.iters} generator iterations are {steps:,} critic "
                      f"steps, past the optimisers' int32 step count ({STEP_COUNT_MAX:,}); "
                      "use fewer")


STEP_COUNT_MAX = 2 ** 31 - 1   # optax's schedules count steps in int32


def machine_memory() -> int:
  """Bytes of physical memory on this host."""
  return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(field: str, nbytes: float, what: str) -> None:
  """Refuse up front a value certain to fail: `nbytes`, a lower bound of what `what` needs,
  above this machine's memory."""
  have = machine_memory()
  if nbytes > have:
    raise OptionError(field, f"{what} alone needs {nbytes / 2 ** 30:,.0f} GiB, more than this "
                      f"machine's {have / 2 ** 30:,.0f} GiB")


# ------------------------------------------------------------------------------ toy
@dataclasses.dataclass(frozen=True)
class ToyModel:
  """models (the official toy MLPs)"""
  width: int = opt(128, "hidden units per layer of G and the critic (official 512)")
  depth: int = opt(3, "hidden layers of G and the critic")
  norm: str = opt("none", "normalisation after each hidden layer; batch is refused with a "
                  "gradient penalty", choices=NORMS)
  latent_dim: int = opt(2, "size of z ~ N(0, I)")

  def __post_init__(self):
    check_positive(self, "width", "depth", "latent_dim")


@dataclasses.dataclass(frozen=True)
class ToyData:
  """data"""
  dataset: str = opt("8gaussians", "toy data set")
  data_file: Optional[str] = opt(None, "use your own 2-D points instead (.npy [N,2], .csv or "
                                 "whitespace text with two columns); mode metrics then do not "
                                 "apply, W1 does", metavar="PATH")

  def __post_init__(self):
    check_choice(self, "dataset", sorted(TOY_DATASETS))


@dataclasses.dataclass(frozen=True)
class ToyConfig:
  game: GameConfig = GameConfig()
  model: ToyModel = ToyModel()
  data: ToyData = ToyData()
  loop: LoopConfig = LoopConfig()

  def __post_init__(self):
    _validate_game(self)
    check_critic_norm(self.gan_config(), batch_norm=self.model.norm == "batch", field="norm")
    m, b = self.model, self.game.batch_size
    check_fits("width", 2 * m.depth * 4.0 * m.width ** 2, f"the two {m.depth}-layer MLPs' "
               f"weights at width {m.width}")
    check_fits("batch_size", 4.0 * b * m.width, f"one hidden layer's activations of a batch "
               f"of {b}")
    if self.loop.num_samples > EXACT_W1_MAX:
      raise OptionError("num_samples", f"the exact W1 of each evaluation pairs n samples with n "
                        f"data points (an n×n matrix, O(n³) time): at most {EXACT_W1_MAX:,}, "
                        f"got {self.loop.num_samples:,}")

  @_built_once
  def gan_config(self):
    # Toy runs use the official toy code's λ = 0.1 for the gradient penalty.
    gp = dict(gp_weight=0.1) if get_objective(self.game.base_objective).gradient_penalty else {}
    return self.game.gan_config(iters=self.loop.iters, latent_dim=self.model.latent_dim, **gp)


# The documented `python -m experiments.toy`: WGAN-GP at width 128, batch 256, 8,000 iterations.
TOY_DEFAULT = ToyConfig(
    game=GameConfig(objective="wgan-gp", batch_size=256, lr_decay="linear"),
    loop=LoopConfig(iters=8000, out="runs/toy", iters_per_call=50, eval_every=1000,
                    num_samples=2500))
TOY_PRESETS = {
    "default": TOY_DEFAULT,
    # gan_toy.py: DIM 512, λ 0.1, batch 256, 100,000 generator iterations, constant lr.
    "official": with_leaves(TOY_DEFAULT, width=512, iters=100_000, lr_decay="none"),
}


# ------------------------------------------------------------------------------ images
ARCHS = ("dcgan", "resnet", "mlp", "mnist", "infogan")
EMBEDDED_IMAGES = ("digits", "stacked-digits")
CONDITIONAL = ("none", "projection", "ac")
NUM_CLASSES = 10  # digits, Fashion-MNIST and MNIST-format IDX files


@dataclasses.dataclass(frozen=True)
class ImageModel:
  """models"""
  arch: str = opt("dcgan", "dcgan (the WGAN-GP DCGAN models, sized to the data), resnet (the "
                  "WGAN-GP CIFAR ResNet), mlp (the WGAN paper's 4-layer ReLU MLP, 512 wide), "
                  "mnist (gan_mnist.py's exact models, 28×28×1 only: G ends in 2·sigmoid − 1; "
                  "--gen-norm none is its WGAN-GP mode, batch its WGAN mode), infogan (the "
                  "InfoGAN pair of Lucic et al.'s study, 28×28 only; dim 64 and a 16·dim Dense "
                  "as theirs)",
                  choices=ARCHS)
  dim: int = opt(64, "base width: conv channels or MLP units (the papers use 64 (DCGAN), 128 "
                 "(ResNet) and 512 (MLP))")
  latent_dim: int = opt(128, "size of z ~ N(0, I)")
  gen_norm: str = opt("batch", "generator normalisation (as the official code)",
                      choices=NORMS[::-1])
  critic_norm: Optional[str] = opt(None, "critic normalisation (default: none with a gradient "
                                   "penalty, batch otherwise; batch is refused with a "
                                   "gradient penalty)", choices=NORMS[::-1])
  conditional: str = opt("none", "class-conditional game on labelled data (digits, "
                         "fashion-mnist, IDX files; dcgan only): projection (G gets the class "
                         "one-hot and conditional BatchNorm, D a projection head; Miyato & "
                         "Koyama 2018) or ac (AC-GAN: D also classifies, --ac-weight; Odena "
                         "et al. 2017); the metrics add label_accuracy, the share of samples "
                         "of class c that the project's classifier calls c",
                         choices=CONDITIONAL)

  def __post_init__(self):
    check_positive(self, "dim", "latent_dim")
    if self.conditional != "none" and self.arch != "dcgan":
      raise OptionError("conditional", f"class-conditional models exist for --arch dcgan, "
                        f"not {self.arch}")


@dataclasses.dataclass(frozen=True)
class ImageDataConfig:
  """data"""
  dataset: str = opt("digits", "digits (scikit-learn's 8×8 digits, embedded), stacked-digits "
                     "(three digits as RGB channels: 1000 modes), fashion-mnist (28×28, the "
                     "files of Debian's dataset-fashion-mnist package, no download: apt-get "
                     "install dataset-fashion-mnist; train split, the test split as validation), "
                     "or any image data set tensorflow-datasets knows (mnist, fashion_mnist, "
                     "cifar10, celeb_a, ...)")
  data_dir: Optional[str] = opt(None, "train on the image files in DIR instead (all of one "
                                "size)", metavar="DIR")
  idx_dir: Optional[str] = opt(None, "train on the MNIST-format IDX files in DIR instead "
                               "(train-/t10k-images-idx3-ubyte[.gz] and -labels-idx1-ubyte"
                               "[.gz], e.g. MNIST's own; named fashion-mnist with --dataset "
                               "fashion-mnist, else after DIR)", metavar="DIR")
  tfds_split: str = opt("train", "TFDS split to read")
  tfds_data_dir: Optional[str] = opt(None, "where TFDS data sets are stored (default TFDS's "
                                     "own, ~/tensorflow_datasets)")
  download: bool = opt(False, "let TFDS download and prepare a data set that is not there yet")
  max_examples: int = opt(60000, "read at most this many TFDS examples")
  image_size: Optional[int] = opt(None, "resize TFDS / folder images to this square size "
                                  "(default: as stored)")
  inception_weights: Optional[str] = opt(
      None, "the FID Inception weights you have (torch-fidelity's weights-inception-2015-12-05-"
      "6726825d.pth or pytorch-fid's pt_inception-2015-12-05-6726825d.pth; nothing is "
      "downloaded): every evaluation then adds inception_fid, inception_score and "
      "inception_kid against --num-samples held-out (else training) images, as torch-fidelity "
      "computes them (see docs/library.md); about 2 images/s on 2 CPU cores, for accelerators",
      metavar="PATH")

  def __post_init__(self):
    check_positive(self, "max_examples")
    check_positive(self, "image_size", minimum=2)
    if self.data_dir and self.idx_dir:
      raise OptionError("idx_dir", "give IDX files or an image folder (data_dir), not both")


@dataclasses.dataclass(frozen=True)
class ImageConfig:
  game: GameConfig = GameConfig()
  model: ImageModel = ImageModel()
  data: ImageDataConfig = ImageDataConfig()
  loop: LoopConfig = LoopConfig()

  def __post_init__(self):
    _validate_game(self)
    check_critic_norm(self.gan_config(), batch_norm=self.model.critic_norm == "batch",
                      field="critic_norm")
    if self.model.arch == "resnet" and self.model.critic_norm == "batch":
      raise OptionError("critic_norm", "the ResNet critic supports layer or none")
    if self.game.components > 1 and self.loop.parallel != "none":
      raise OptionError("parallel", "mixtures run on one device in experiments.images")
    if self.loop.num_samples < 2:   # the image metrics' feature covariance needs two
      raise OptionError("num_samples", f"must be at least 2, got {self.loop.num_samples}")
    size, b = self.data.image_size, self.game.batch_size
    if size:
      check_fits("image_size", 4.0 * b * size ** 2, f"a batch of {b} {size}×{size} images")
    check_fits("batch_size", 4.0 * b * self.model.dim * 16, f"the first layer's activations of "
               f"a batch of {b} (at least 4×4 pixels × dim {self.model.dim})")

  @_built_once
  def gan_config(self):
    conditional = {}
    if self.model.conditional != "none":
      conditional = dict(num_classes=NUM_CLASSES,
                         ac_weight=1.0 if self.model.conditional == "ac" else 0.0)
    elif self.game.ac_weight:
      raise OptionError("ac_weight", "weights the AC-GAN classifier of --conditional ac")
    return self.game.gan_config(iters=self.loop.iters, latent_dim=self.model.latent_dim,
                                **conditional)

  @property
  def critic_norm(self) -> str:
    if self.model.critic_norm is not None:
      return self.model.critic_norm
    if self.gan_config().uses_gradient_penalty or self.model.arch == "resnet":
      return "none"
    return "batch"


FASHION_CPU_ITERS = 2000
# The documented `python -m experiments.images`: WGAN-GP's DCGAN pair at dim 64 on the embedded
# 8×8 digits, batch 64, 3,000 iterations.
IMAGE_DEFAULT = ImageConfig(
    game=GameConfig(objective="wgan-gp", batch_size=64),
    loop=LoopConfig(iters=3000, out="runs/images", iters_per_call=50, eval_every=500,
                    num_samples=1000))
IMAGE_PRESETS = {
    "default": IMAGE_DEFAULT,
    # Fashion-MNIST sized for 2 CPU cores: what `--dataset fashion-mnist` runs when no --preset
    # is named (a data set's own preset; see `preset_for`). The DCGAN at dim 32 (a quarter of
    # dim 64's convolution work), FASHION_CPU_ITERS generator iterations: 10 min 57 s on 2 idle
    # cores, the first classifier training and the evaluations included (docs/experiments.md).
    "fashion-mnist": with_leaves(IMAGE_DEFAULT, dataset="fashion-mnist", dim=32,
                                 iters=FASHION_CPU_ITERS, eval_every=500, num_samples=1000,
                                 checkpoint_every=500),
    # The same game at the official DCGAN width (dim 64) and 20,000 iterations: hours on a
    # CPU, minutes on an accelerator.
    "fashion-mnist-long": with_leaves(IMAGE_DEFAULT, dataset="fashion-mnist", dim=64,
                                      iters=20_000, eval_every=1000, num_samples=2000,
                                      iters_per_call=100, checkpoint_every=2000),
    # WGAN-GP's CIFAR-10 ResNet (gan_cifar_resnet.py): DIM 128, batch 64, 100,000 generator
    # iterations, 5 critic iterations, Adam 2e-4 β (0, 0.9) decayed linearly to 0, λ 10;
    # CIFAR-10 through TFDS (its one difference: the generator's batch is the critic's 64,
    # not 128).
    "paper": with_leaves(IMAGE_DEFAULT, dataset="cifar10", arch="resnet", dim=128,
                         batch_size=64, iters=100_000, n_critic=5, lr_d=2e-4, lr_g=2e-4,
                         beta1=0.0, beta2=0.9, lr_decay="linear", iters_per_call=100,
                         eval_every=1000, checkpoint_every=5000),
}


# ------------------------------------------------------------------------------ text
TEXT_OBJECTIVES = ("wgan-gp", "nsgan")
TEXT_LATENT_DIM = 128
# The paper's optimisation for both players and both objectives: Adam 1e-4, β = (.5, .9);
# 10 critic iterations for WGAN-GP, 1 for nsgan. The CPU default uses 5 critic iterations and
# Adam 1e-3 (at 1e-4 a 400-iteration run at width 32 barely moved: oracle NLL 6.3 -> 4.1,
# against 2.3 at 1e-3).
TEXT_OPTIM = dict(lr_d=1e-4, lr_g=1e-4, beta1=0.5, beta2=0.9)
TEXT_N_CRITIC = {"wgan-gp": 10, "nsgan": 1}


@dataclasses.dataclass(frozen=True)
class TextModel:
  """text models"""
  width: int = opt(32, "channels of the residual blocks of G and the critic (the paper 512)")
  num_blocks: int = opt(5, "residual blocks of G and the critic (the paper's)")

  def __post_init__(self):
    check_positive(self, "width", "num_blocks")


@dataclasses.dataclass(frozen=True)
class TextDataConfig:
  """text data and evaluation"""
  data: str = opt("english", "english: prose from Python's own reference manual (pydoc_data, "
                  "offline); markov: a synthetic language from a fixed random Markov chain over "
                  "16 characters, whose exact likelihood gives the oracle NLL; lm1b: the "
                  "Billion Word benchmark of the paper through tensorflow-datasets (needs the "
                  "internet the first time)", choices=("english", "markov", "lm1b"))
  text_file: Optional[str] = opt(None, "train on your own UTF-8 text instead, one sequence per "
                                 "line (blank lines skipped; a line longer than --seq-len is "
                                 "an error)", metavar="PATH")
  seq_len: int = opt(32, "characters per sequence, padded with '`'")
  max_vocab: int = opt(2048, "vocabulary size: 'unk', the pad and the most frequent "
                       "characters; rarer ones become 'unk' (at least 2)")
  markov_lines: int = opt(20_000, "--data markov: lines drawn from the chain")
  max_lines: int = opt(100_000, "--data lm1b: sentences read")
  decode: str = opt("argmax", "argmax: the most probable character at each position (the "
                    "paper); sample: one draw from each position's softmax",
                    choices=("argmax", "sample"))

  def __post_init__(self):
    check_positive(self, "markov_lines", "max_lines")
    if isinstance(self.seq_len, bool) or not isinstance(self.seq_len, int) or self.seq_len < 4:
      raise OptionError("seq_len", f"must be at least 4 (the 4-gram JSD), got {self.seq_len}")
    if not isinstance(self.max_vocab, int) or self.max_vocab < 2:
      raise OptionError("max_vocab", "must be at least 2 ('unk' and the pad '`'), got "
                        f"{self.max_vocab}")


@dataclasses.dataclass(frozen=True)
class TextConfig:
  game: GameConfig = GameConfig()
  model: TextModel = TextModel()
  data: TextDataConfig = TextDataConfig()
  loop: LoopConfig = LoopConfig()
  preset: str = opt("default", "", cli=False)

  def __post_init__(self):
    b, d = self.game.batch_size, self.data
    check_fits("batch_size", 4.0 * b * d.seq_len * max(self.model.width, 2), f"one layer's "
               f"activations of a batch of {b} sequences of {d.seq_len}")
    check_fits("max_vocab", 4.0 * b * d.seq_len * d.max_vocab, f"the one-hot batch of {b} "
               f"sequences over {d.max_vocab:,} characters")
    check_choice(self.game, "objective", TEXT_OBJECTIVES)
    if self.game.gp_weight is not None and self.game.objective != "wgan-gp":
      raise OptionError("gp_weight", "only wgan-gp uses a gradient penalty")
    if self.game.components > 1:
      raise OptionError("mixture", "the text job trains one generator and one critic; MIX+GAN "
                        "runs in experiments.toy and experiments.images")
    _validate_game(self)

  @_built_once
  def gan_config(self):
    n = TEXT_N_CRITIC[self.game.objective]
    n_critic = 5 if (n == 10 and self.preset == "default") else n
    return self.game.gan_config(iters=self.loop.iters, latent_dim=TEXT_LATENT_DIM,
                                **dict(TEXT_OPTIM, n_critic=n_critic))


# The documented `python -m experiments.text`, CPU-sized (about 10 minutes on 2 cores): width
# 32, 1000 generator iterations, Adam 1e-3.
TEXT_DEFAULT = TextConfig(
    game=GameConfig(objective="wgan-gp", batch_size=64, lr_d=1e-3, lr_g=1e-3),
    loop=LoopConfig(iters=1000, out="runs/text", iters_per_call=25, eval_every=100,
                    num_samples=640))
TEXT_PRESETS = {
    "default": TEXT_DEFAULT,
    # gan_language.py: DIM 512, 200,000 iterations, 10 critic iterations, vocabulary 2048,
    # Adam 1e-4.
    "paper": with_leaves(TEXT_DEFAULT, width=512, iters=200_000, max_vocab=2048,
                         iters_per_call=100, eval_every=100, checkpoint_every=5000, lr_d=1e-4,
                         lr_g=1e-4, preset="paper"),
}


# ------------------------------------------------------------------------------ presets
JOBS = {"toy": TOY_PRESETS, "images": IMAGE_PRESETS, "text": TEXT_PRESETS}


def get_config(job: str, preset: Optional[str] = None, **fields):
  """The typed config that `python -m experiments.JOB [--preset PRESET]` runs, with `fields`
  (leaf names, as the flags without dashes: iters=100, width=64, ...) set on top, exactly as
  the flags would set them. With no preset, a `dataset` that has a preset of its own name runs
  that preset (as `--dataset fashion-mnist` does), any other "default". The presets themselves
  are values: `TOY_PRESETS["official"]` is the config `--preset official` runs.

    >>> from experiments.configs import get_config
    >>> get_config("toy").loop.iters, get_config("toy", "official").model.width
    (8000, 512)
    >>> get_config("images", dataset="fashion-mnist").model.dim
    32

  Raises:
    ConfigError (`OptionError`): an unknown job, preset or field, or a bad value; `.field`
      names it.
  """
  if job not in JOBS:
    raise OptionError("job", f"must be one of {sorted(JOBS)}, got {job!r}")
  if preset is not None and preset not in JOBS[job]:
    raise OptionError("preset", f"{job} has {sorted(JOBS[job])}, got {preset!r}")
  return configure(JOBS[job], preset, **fields)
