"""The public surface of `wgan_jax` and what installing and importing it needs."""

import os
import subprocess
import sys
import tomllib
import types

import setuptools

import wgan_jax

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The names `from wgan_jax import *` gives, in `sorted` order (uppercase first). A name added to
# or removed from the public surface is added to or removed from this list on purpose.
PUBLIC = [
    "ConfigError",
    "GAN",
    "GANConfig",
    "GANState",
    "IndependentRuns",
    "MIX_OBJECTIVES",
    "MixturePlayers",
    "NgramModel",
    "OBJECTIVES",
    "Objective",
    "PlayerState",
    "RMSPROP_FORMS",
    "SinglePlayers",
    "bleu",
    "check_critic_norm",
    "clip_params",
    "diff_augment",
    "dragan_penalty",
    "entropy_regulariser",
    "example_keys",
    "get_objective",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_discriminator_terms",
    "hinge_generator_loss",
    "hinge_generator_terms",
    "in_vocabulary_share",
    "instance_noise",
    "interpolate",
    "least_squares_discriminator_loss",
    "least_squares_discriminator_terms",
    "least_squares_generator_loss",
    "least_squares_generator_terms",
    "make_config",
    "minimax_discriminator_loss",
    "minimax_discriminator_terms",
    "minimax_generator_loss",
    "minimax_generator_terms",
    "mix_gan",
    "mode_coverage",
    "ngram_jsd",
    "ngram_jsds",
    "nonsaturating_generator_loss",
    "nonsaturating_generator_terms",
    "oracle_nll",
    "parse_objective",
    "plan_blocks",
    "r1_penalty",
    "r2_penalty",
    "use_unrolled_threefry",
    "wasserstein1_exact",
    "wasserstein_critic_loss",
    "wasserstein_critic_terms",
    "wasserstein_generator_loss",
    "wasserstein_generator_terms",
    "weight_penalty",
]

# The modules of the optional extras (pyproject.toml's [experiments], [tfds] and [test]).
EXTRAS = ["scipy", "sklearn", "matplotlib", "PIL", "tqdm", "tensorboardX", "tensorboard",
          "tensorflow_datasets", "tensorflow"]


def test_all_is_pinned_and_sorted():
  assert PUBLIC == sorted(PUBLIC)
  assert wgan_jax.__all__ == PUBLIC


def test_every_public_name_resolves():
  for name in wgan_jax.__all__:
    assert getattr(wgan_jax, name) is not None, name
  star = {}
  exec("from wgan_jax import *", star)
  assert sorted(k for k in star if k != "__builtins__") == PUBLIC


def test_nothing_public_outside_all():
  """Every public, non-module attribute of the package is listed in `__all__`."""
  exported = {name for name, value in vars(wgan_jax).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
  assert exported == set(PUBLIC)


def run_without_extras(code):
  block = "; ".join(f"sys.modules[{m!r}] = None" for m in EXTRAS)
  return subprocess.run([sys.executable, "-c", f"import sys; {block}; {code}"], cwd=ROOT,
                        capture_output=True, text=True, timeout=300)


def test_the_losses_import_without_the_extras():
  """`sys.modules[name] = None` makes `import name` fail, as if the package were not installed."""
  proc = run_without_extras(
      "import wgan_jax, jax.numpy as jnp; "
      "print(float(jnp.mean(wgan_jax.wasserstein_critic_loss(jnp.ones(3), jnp.zeros(3)))))")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.strip() == "-1.0"


def test_every_library_module_imports_without_the_extras():
  """The functions that need an extra import it when called, never at module import."""
  names = []
  for folder, _, files in os.walk(os.path.join(ROOT, "wgan_jax")):
    package = os.path.relpath(folder, ROOT).replace(os.sep, ".")
    names += [package if f == "__init__.py" else f"{package}.{f[:-3]}"
              for f in sorted(files) if f.endswith(".py")]
  assert "wgan_jax.summary" in names and "wgan_jax.data.images" in names
  proc = run_without_extras(
      "import importlib; " + "; ".join(f"importlib.import_module({n!r})" for n in names))
  assert proc.returncode == 0, proc.stderr


def test_installing_installs_the_library_only():
  with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
    project = tomllib.load(f)
  find = project["tool"]["setuptools"]["packages"]["find"]
  packages = setuptools.find_packages(ROOT, include=find["include"])
  assert "wgan_jax" in packages and "wgan_jax.models" in packages
  assert all(p == "wgan_jax" or p.startswith("wgan_jax.") for p in packages), packages
  core = " ".join(project["project"]["dependencies"]).lower()
  for extra in ["scipy", "scikit-learn", "matplotlib", "pillow", "tqdm", "tensorboard",
                "tensorflow"]:
    assert extra not in core, extra
