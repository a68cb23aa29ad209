"""Shared plumbing of the figure scripts: the command line, the outputs, training through the
experiments' one loop, a small critic trainer, and the seeded toy tables (mode_collapse and
mixture_modes)."""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable, Dict

import jax
import jax.numpy as jnp
import numpy as np
import optax

import wgan_jax as wj
from wgan_jax import image_metrics
from experiments import cli, common
from experiments.loop import hold_workdir


def figure_main(name: str, doc: str, run: Callable, argv=None) -> int:
  p = argparse.ArgumentParser(prog=f"python -m experiments.figures.{name}", description=doc,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", default="runs/figures",
                 help=f"output folder for {name}.png and {name}.json (default runs/figures)")
  p.add_argument("--full", action="store_true",
                 help="the paper's sizes (for an accelerator) instead of the CPU default")
  p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
  args = p.parse_args(argv)
  # Checked before any computing (was: a figure computed, then died on an unwritable --out).
  if not 0 <= args.seed < 2**63:
    cli.fail(f"--seed: must be an integer in [0, 2^63), got {args.seed}")
  try:
    hold_workdir(args.out)   # made, writable, and locked against a second run into it
  except cli.OptionError as e:
    cli.fail(cli.flag_message(e))
  t0 = time.time()
  result = run(args.out, full=args.full, seed=args.seed)
  print(f"{name}: {result['summary']} ({time.time() - t0:.0f} s)")
  for claim, ok in result["checks"].items():
    print(f"  [{'yes' if ok else 'NO '}] {claim}")
  print(f"wrote {os.path.join(args.out, name)}.png and .json")
  return 0


def subplots(*args, **kwargs):
  return common.matplotlib_pyplot().subplots(*args, **kwargs)


def save(out: str, name: str, fig, numbers: Dict, checks: Dict[str, bool], summary: str,
         paper: str, markdown: str | None = None) -> Dict:
  """NAME.png and NAME.json (every number) into `out`; returns the figure's result."""
  fig.tight_layout()
  os.makedirs(out, exist_ok=True)
  fig.savefig(os.path.join(out, f"{name}.png"), dpi=110)
  common.matplotlib_pyplot().close(fig)
  result = dict(name=name, paper=paper, summary=summary,
                checks={k: bool(v) for k, v in checks.items()}, numbers=numbers)
  common.write_json(os.path.join(out, f"{name}.json"), result)
  if markdown is not None:
    result["markdown"] = markdown
  return result


def mean_se(values):
  """(mean, standard error) over seeds; (inf, nan) when a seed's value is not finite."""
  v = np.asarray(values, float)
  if not np.isfinite(v).all():
    return float("inf"), float("nan")
  return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0


def train(gan, key, evaluate=None, *, data=None, **loop):
  """Train `gan` through the experiments' loop (`experiments.loop`) without files and through
  non-finite values, in compiled calls of up to `eval_every` iterations (default: all).

  `key` is split into (init, train, eval) keys, or is that triple (init and train keys [K]
  with `seeds` = K). `evaluate(state, key, iteration)` runs every `eval_every` iterations and
  after the last. `loop`: `LoopConfig` fields.

  Returns (evaluations [{iteration, seconds, ...}], RunResult).

  Raises:
    KeyboardInterrupt: when SIGTERM / SIGINT stopped the loop (a figure has no checkpoint to
      resume from, so a stop ends the figure, and `experiments.reproduce` ends the run).
  """
  from experiments.loop import LoopConfig, StopReason, train_and_evaluate
  keys = key if isinstance(key, tuple) else tuple(jax.random.split(key, 3))
  loop = dict(dict(eval_every=loop["iters"], progress=False, stop_on_nonfinite=False), **loop)
  loop.setdefault("iters_per_call", loop["eval_every"])
  data = None if data is None else jnp.asarray(data)  # on the device once, not every call
  r = train_and_evaluate(gan, LoopConfig(**loop), None, data=data, evaluate=evaluate, keys=keys)
  if r.stop_reason == StopReason.SIGNAL:
    raise KeyboardInterrupt(r.stopped)
  evals = list(r.evaluations)
  if evaluate is not None:
    g = r.generator_iterations
    evals.append(dict(iteration=g, seconds=r.train_seconds, **evaluate(r.state, r.final_key, g)))
  return evals, r


def train_critic(critic, sample_pair: Callable, key, *, steps: int, loss: str,
                 optimizer: optax.GradientTransformation, gp_weight: float = 0.0,
                 example_shape=(2,)):
  """Train `critic` to (near) optimality against fixed real/fake samplers; returns params.

  sample_pair(key) -> (real [B, ...], fake [B, ...]); loss "wasserstein" or "minimax".
  Pure and jit-compiled (a `lax.scan` over steps), so it can be vmapped over keys or data.
  """
  k_init, k_train = jax.random.split(key)
  params = critic.init(k_init, jnp.zeros((1,) + tuple(example_shape)))
  opt_state = optimizer.init(params)

  def loss_fn(p, real, fake, k):
    f = lambda x: critic.apply(p, x)
    if loss == "wasserstein":
      out = wj.wasserstein_critic_loss(f(real), f(fake))
    else:
      out = wj.minimax_discriminator_loss(f(real), f(fake))
    if gp_weight:
      out = out + gp_weight * wj.gradient_penalty(f, real, fake, k)
    return out

  def step(carry, i):
    p, s = carry
    k = jax.random.fold_in(k_train, i)
    real, fake = sample_pair(jax.random.fold_in(k, 0))
    l, g = jax.value_and_grad(loss_fn)(p, real, fake, jax.random.fold_in(k, 1))
    u, s = optimizer.update(g, s, p)
    return (optax.apply_updates(p, u), s), l

  (params, _), losses = jax.lax.scan(step, (params, opt_state), jnp.arange(steps))
  return params, losses


def fashion_mnist(key, reference: int, samples: int):
  """(train images, test images, FashionMetrics) of the Fashion-MNIST figures: the metrics'
  training features are those of `reference` training images drawn with fold_in(key, 100),
  their real-data reference is measured on `samples` test images."""
  from experiments.builders import ImageData
  from experiments.evaluators import FashionMetrics
  from wgan_jax.data.idx import load_fashion_mnist
  train_x, train_y = load_fashion_mnist(None, "train")
  test_x, _ = load_fashion_mnist(None, "test")
  subset = np.sort(np.asarray(jax.random.permutation(jax.random.fold_in(key, 100),
                                                     len(train_x)))[:reference])
  metrics = FashionMetrics(ImageData("fashion-mnist", train_x[subset], test_x, train_y[subset]),
                           samples)
  return train_x, test_x, metrics


def quality(metrics, x) -> Dict[str, float]:
  """FD and classifier score of samples x under the Fashion-MNIST classifier of `metrics`."""
  logits, feats = metrics.features(np.clip(np.asarray(x, np.float32), -1, 1))
  return dict(fd=image_metrics.frechet_distance(feats, metrics.train_features),
              classifier_score=image_metrics.classifier_score(logits))


# ------------------------------------------------------------ seeded toy tables
TOY_DATASETS = ("8gaussians", "25gaussians")
TOY_METHODS = {  # the rows of mode_collapse and the plain runs of mixture_modes (same keys)
    "gan": dict(objective="gan"),
    "nsgan": dict(objective="nsgan"),
    "wgan": dict(objective="wgan"),
    "wgan-gp": dict(objective="wgan-gp", gp_weight=0.1),
    "nsgan + instance noise": dict(objective="nsgan", instance_noise=0.1),
}


def toy_seeds(dataset, method: str, *, seeds: int, iters: int, width: int, seed: int,
              d_i: int, components: int = 1, batch_size: int = 256, **config):
  """`seeds` runs of a TOY_METHODS row (a MIX+GAN of `components` pairs when > 1) trained at
  once on data set number `d_i`, with the key of that row in mode_collapse's table.

  `config`: GANConfig overrides on top of the row's settings (e.g. lr_d, lr_g,
  lr_decay_steps); instance noise, where the row has it, anneals to 0 over `iters`.
  Returns (gan, stacked states, losses every 50 iterations, evaluation key)."""
  from experiments.builders import make_gan
  from wgan_jax.models import MLPCritic, MLPGenerator
  kw = dict(TOY_METHODS[method], **config)
  objective = kw.pop("objective")
  if "instance_noise" in kw:
    kw["instance_noise_anneal"] = iters
  gan = make_gan(MLPGenerator(width=width), MLPCritic(width=width),
                 wj.make_config(objective, batch_size=batch_size, **kw),
                 lambda d, k: dataset.sample_one(k), components=components)
  key = jax.random.fold_in(jax.random.key(seed), 10 * d_i + list(TOY_METHODS).index(method))
  k_init, k_train, k_eval = jax.random.split(key, 3)
  _, r = train(gan, (jax.random.split(k_init, seeds), jax.random.split(k_train, seeds), k_eval),
               iters=iters, iters_per_call=50, seeds=seeds, log_every=50 if iters >= 50 else 1)
  return gan, r.state, r.history, k_eval


def coverage_row(x, ds) -> Dict:
  """Mode coverage of each seed's samples x [K, n, 2], and its mean ± s.e. over seeds."""
  per_seed = [wj.mode_coverage(xi, ds.centres, ds.std) for xi in x]
  row = {k: mean_se([p[k] for p in per_seed]) for k in ("modes", "hq_fraction", "reverse_kl")}
  return dict(row, per_seed=per_seed)


def toy_table(rows) -> list:
  return [dict(dataset=n, method=m, modes=r["modes"],
               hq_percent=(100 * r["hq_fraction"][0], 100 * r["hq_fraction"][1]),
               reverse_kl=r["reverse_kl"], per_seed=r["per_seed"]) for (n, m), r in rows.items()]


def toy_markdown(rows, methods, title: str) -> list:
  lines = [title, "", "| method | ring modes (/8) | ring % HQ | ring rev-KL | grid modes (/25) "
           "| grid % HQ | grid rev-KL |", "|---|---|---|---|---|---|---|"]
  for m in methods:
    cells = []
    for n in TOY_DATASETS:
      r = rows[(n, m)]
      cells += [f"{r['modes'][0]:.1f} ± {r['modes'][1]:.1f}",
                f"{100 * r['hq_fraction'][0]:.1f} ± {100 * r['hq_fraction'][1]:.1f}",
                f"{r['reverse_kl'][0]:.2f} ± {r['reverse_kl'][1]:.2f}"]
    lines.append(f"| {m} | " + " | ".join(cells) + " |")
  return lines


def toy_grid(rows, samples, methods, comps=None, weights=None):
  """One panel of samples per (data set, method) over the modes; a mixture's samples in
  one colour per generator, labelled with its weight."""
  from wgan_jax.data import make_toy_dataset
  fig, axes = subplots(len(TOY_DATASETS), len(methods), figsize=(3.1 * len(methods), 6.4))
  colours = common.matplotlib_pyplot().get_cmap("tab10")
  for i, name in enumerate(TOY_DATASETS):
    ds = make_toy_dataset(name)
    for j, method in enumerate(methods):
      ax, x = axes[i, j], samples[(name, method)]
      ax.scatter(ds.centres[:, 0], ds.centres[:, 1], s=30, c="black", marker="x", zorder=3)
      if comps and (name, method) in comps:
        w_g = weights[(name, method)]["w_g"][0]
        for c in range(len(w_g)):
          pts = x[comps[(name, method)] == c]
          ax.scatter(pts[:, 0], pts[:, 1], s=1, color=colours(c), alpha=0.5,
                     label=f"G{c} w={w_g[c]:.2f}")
        ax.legend(loc="lower left", fontsize=5, markerscale=6, handletextpad=0.1)
      else:
        ax.scatter(x[:, 0], x[:, 1], s=1, c="tab:green", alpha=0.5)
      r = rows[(name, method)]
      ax.set_title(f"{method} ({name})\n{r['modes'][0]:.1f} ± {r['modes'][1]:.1f} modes, "
                   f"{100 * r['hq_fraction'][0]:.0f}% HQ", fontsize=8)
      ax.set(xlim=(-2.2, 2.2), ylim=(-2.2, 2.2), aspect="equal")
  return fig
