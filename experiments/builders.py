"""Build a run from its typed config: the data, the networks and the `GAN` (plain or MIX+GAN).

Every check happens here or in the config, before anything is compiled; errors are
`OptionError`s naming the config field (the command line names the flag).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import numpy as np

import wgan_jax as wj
from experiments.cli import OptionError, renamed
from experiments.configs import TEXT_LATENT_DIM, TEXT_N_CRITIC, TEXT_OPTIM
from wgan_jax.data import images, load_points, make_toy_dataset, tfds_images
from wgan_jax.data.images import array_sampler
from wgan_jax.data.text import make_text_data, onehot_sampler
from wgan_jax.mixture import mix_gan, mixture_of
from wgan_jax.models import (DCGANCritic, DCGANGenerator, ImageMLPGenerator, InfoGANCritic,
                             InfoGANGenerator, MLPCritic, MLPGenerator, MNISTCritic,
                             MNISTGenerator, ResNetCritic, ResNetGenerator)
from wgan_jax.models.dcgan import stages_for
from wgan_jax.models.text import TextCritic, TextGenerator


def objective_name(gan) -> str:
  """The objective as the user wrote it: nsgan, or mix+nsgan (T=5) for a mixture."""
  mix = mixture_of(gan)
  if mix is not None:
    return f"{gan.objective_name} (T={mix.components})"
  return gan.config.objective


def make_gan(generator, critic, config, sample_real, *, components: int = 1,
             entropy_weight: Optional[float] = None):
  """A `GAN`, or with `components` > 1 the MIX+GAN of that many copies of its players."""
  gan = wj.GAN(generator, critic, config, sample_real)
  if components > 1:
    gan = mix_gan(gan, components=components,
                  entropy_weight=0.1 if entropy_weight is None else entropy_weight)
  return gan


def _mixture_of(game):
  return dict(components=game.components, entropy_weight=game.mixture_entropy)


# ------------------------------------------------------------------------------ toy
def toy_run(config):
  """(dataset, gan) of a `ToyConfig`."""
  d, m = config.data, config.model
  try:
    dataset = load_points(d.data_file) if d.data_file else make_toy_dataset(d.dataset)
  except ValueError as e:
    raise renamed(e, "data_file" if d.data_file else "dataset") from None
  gan = make_gan(MLPGenerator(out_dim=2, width=m.width, depth=m.depth, norm=m.norm),
                 MLPCritic(width=m.width, depth=m.depth, norm=m.norm), config.gan_config(),
                 lambda data, key: dataset.sample_one(key), **_mixture_of(config.game))
  return dataset, gan


# ------------------------------------------------------------------------------ images
@dataclasses.dataclass
class ImageData:
  name: str
  train: np.ndarray                      # [N, H, W, C] in [-1, 1]
  validation: Optional[np.ndarray] = None
  labels: Optional[np.ndarray] = None

  @property
  def shape(self):
    return self.train.shape[1:]


def load_images(d, seed: int = 0) -> ImageData:
  """The training images named by an `ImageDataConfig` (errors name the field)."""
  if d.data_dir:
    try:
      x = images.load_image_folder(d.data_dir, image_size=d.image_size)
    except ValueError as e:
      raise renamed(e, "data_dir", path="data_dir", image_size="image_size") from None
    return ImageData(os.path.basename(os.path.normpath(d.data_dir)), x)
  if d.idx_dir or d.dataset == "fashion-mnist":
    # Fashion-MNIST from Debian's package, or the MNIST-format IDX files in idx_dir: the train
    # split, the test split as validation.
    field = "idx_dir" if d.idx_dir else "dataset"
    try:
      xt, yt = idx.load_fashion_mnist(d.idx_dir, "train")
      xv, _ = idx.load_fashion_mnist(d.idx_dir, "test")
    except ValueError as e:
      if not str(e).startswith("directory:"):
        raise renamed(e, field, path=field) from None
      if d.idx_dir:
        raise OptionError("idx_dir", f"no MNIST-format IDX files in {d.idx_dir}: needs "
                          "train-/t10k-images-idx3-ubyte[.gz] and train-/t10k-labels-idx1-"
                          "ubyte[.gz]") from None
      raise OptionError("dataset", f"fashion-mnist: not installed in {idx.FASHION_MNIST_DIR}; "
                        f"install it with `{idx.INSTALL_HINT}`, or give --idx-dir DIR holding "
                        "its IDX files") from None
    if d.image_size and d.image_size != xt.shape[1]:
      raise OptionError("image_size", "resizes TFDS and folder images; the IDX images are "
                        f"{xt.shape[1]}×{xt.shape[2]}")
    name = "fashion-mnist"
    if d.dataset != "fashion-mnist":
      name = os.path.basename(os.path.normpath(d.idx_dir))
      if name in EMBEDDED_IMAGES:   # those names select the digit classifier's metrics
        name += " (idx)"
    return ImageData(name, xt, xv, yt)
  if d.dataset == "digits":
    xt, yt, xv, _ = images.load_digits()
    return ImageData("digits", xt, xv, yt)
  if d.dataset == "stacked-digits":
    xt, _, xv, _ = images.load_digits()
    return ImageData("stacked-digits", images.stack_digits(xt, 25600, seed=seed),
                     images.stack_digits(xv, 2560, seed=seed + 1))
  try:
    x = tfds_images.load_tfds_images(
        d.dataset, split=d.tfds_split, data_dir=d.tfds_data_dir, max_examples=d.max_examples,
        seed=seed, image_size=d.image_size, download=d.download)
  except (ValueError, ImportError) as e:
    raise renamed(e, "dataset", name="dataset", split="tfds_split", download="download",
                  image_size="image_size", max_examples="max_examples",
                  image_key="dataset") from None
  return ImageData(d.dataset, x)


def make_models(arch: str, shape, *, dim: int, gen_norm: str, critic_norm: str,
                num_classes: int = 0, head: str = "projection"):
  """(generator, critic) of an image architecture for images of `shape` (H, W, C); with
  `num_classes` the class-conditional DCGAN pair (`head`: projection or ac)."""
  if arch == "mnist":
    if tuple(shape) != (28, 28, 1):
      raise OptionError("arch", "mnist: the official WGAN-GP MNIST models take 28×28×1 images, "
                        f"got {'×'.join(str(s) for s in shape)}; use --arch dcgan")
    return (MNISTGenerator(dim=dim, norm=gen_norm), MNISTCritic(dim=dim, norm=critic_norm))
  if arch == "infogan":
    if tuple(shape[:2]) != (28, 28):
      raise OptionError("arch", "infogan: the InfoGAN models make 28×28 images, got "
                        f"{'×'.join(str(s) for s in shape)}; use --arch dcgan")
    return (InfoGANGenerator(image_shape=shape, dim=dim, hidden=16 * dim, norm=gen_norm),
            InfoGANCritic(dim=dim, hidden=16 * dim, norm=critic_norm))
  if arch == "dcgan":
    return (DCGANGenerator(image_shape=shape, dim=dim, norm=gen_norm, num_classes=num_classes),
            DCGANCritic(dim=dim, norm=critic_norm, num_classes=num_classes, head=head))
  if arch == "resnet":
    return (ResNetGenerator(image_shape=shape, dim=dim, norm=gen_norm),
            ResNetCritic(dim=dim, norm=critic_norm))
  return (ImageMLPGenerator(image_shape=shape, width=dim, depth=3),
          MLPCritic(width=dim, depth=3, norm=critic_norm))


def image_gan(objective: str, shape, *, dim: int, batch_size: int = 64, latent_dim: int = 128,
              arch: str = "dcgan", components: int = 5, **overrides):
  """A GAN on image arrays with the official per-objective defaults (the figures' builder);
  "mix+OBJECTIVE" gives a MIX+GAN of `components` generators and critics."""
  mixed = objective.startswith("mix+")
  config = wj.make_config(objective[4:] if mixed else objective, batch_size=batch_size,
                          latent_dim=latent_dim, **overrides)
  critic_norm = "none" if config.uses_gradient_penalty else "batch"
  generator, critic = make_models(arch, shape, dim=dim, gen_norm="batch",
                                  critic_norm=critic_norm)
  return make_gan(generator, critic, config, array_sampler,
                  components=components if mixed else 1)


def image_run(config):
  """(data, gan) of an `ImageConfig`."""
  m = config.model
  data = load_images(config.data, config.loop.seed)
  shape = tuple(int(s) for s in data.shape)
  if m.arch != "mlp":
    try:
      stages_for(shape[:2])
    except ValueError:
      raise OptionError("arch", f"{m.arch}: image sides must be even, got {shape[0]}×"
                        f"{shape[1]}; use --image-size or --arch mlp") from None
  if not np.isfinite(data.train).all():
    raise OptionError("dataset", f"{data.name} holds non-finite pixel values")
  gan_config = config.gan_config()
  sampler = array_sampler
  if gan_config.num_classes:
    if data.labels is None:
      raise OptionError("conditional", f"{data.name} has no class labels (digits, "
                        "fashion-mnist and IDX files have)")
    if int(np.max(data.labels)) >= gan_config.num_classes or int(np.min(data.labels)) < 0:
      raise OptionError("conditional", f"{data.name}'s labels must lie in 0..."
                        f"{gan_config.num_classes - 1}")
    sampler = labelled_array_sampler
  generator, critic = make_models(m.arch, shape, dim=m.dim, gen_norm=m.gen_norm,
                                  critic_norm=config.critic_norm,
                                  num_classes=gan_config.num_classes,
                                  head=m.conditional if m.conditional != "none" else "projection")
  return data, make_gan(generator, critic, gan_config, sampler, **_mixture_of(config.game))


# ------------------------------------------------------------------------------ text
def text_gan(config, vocab_size: int, *, seq_len: int = 32, width: int = 32,
             num_blocks: int = 5):
  """The language GAN of WGAN-GP §5.5: `TextGenerator` and `TextCritic` on one-hot text."""
  return wj.GAN(TextGenerator(seq_len, vocab_size, width, num_blocks),
                TextCritic(width, num_blocks), config, onehot_sampler(vocab_size))


def text_gan_for(objective: str, vocab_size: int, *, seq_len: int = 32, width: int = 32,
                 num_blocks: int = 5, batch_size: int = 64, n_critic: Optional[int] = None,
                 **optim):
  """The language GAN with the paper's optimisation (Adam 1e-4, β (.5, .9); 10 critic
  iterations for wgan-gp, 1 for nsgan) unless `n_critic` / `optim` say otherwise."""
  kw = dict(TEXT_OPTIM)
  kw.update({k: v for k, v in optim.items() if v is not None})
  config = wj.make_config(objective, batch_size=batch_size, latent_dim=TEXT_LATENT_DIM,
                          n_critic=n_critic or TEXT_N_CRITIC[objective], **kw)
  return text_gan(config, vocab_size, seq_len=seq_len, width=width, num_blocks=num_blocks)


def text_run(config):
  """(data, gan) of a `TextConfig`."""
  d, m = config.data, config.model
  try:
    data = make_text_data(d.data, text_file=d.text_file, seq_len=d.seq_len,
                          max_vocab=d.max_vocab, heldout=config.loop.num_samples,
                          markov_lines=d.markov_lines, max_lines=d.max_lines,
                          seed=config.loop.seed)
  except ValueError as e:
    raise renamed(e, "text_file" if d.text_file else "data", seq_len="seq_len") from None
  return data, text_gan(config.gan_config(), data.vocab.size, seq_len=d.seq_len,
                        width=m.width, num_blocks=m.num_blocks)
from experiments.configs import EMBEDDED_IMAGES
from wgan_jax.data import idx
from wgan_jax.data.images import labelled_array_sampler
