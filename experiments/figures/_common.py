"""Shared plumbing of the figures (their frame is `runner`): training through the experiments'
one loop, a small critic trainer, the seeded toy tables (mode_collapse and mixture_modes), and
the GANs a figure trains at a scale (`Game`, each figure's `games(scale)`)
with their compiled fused steps and XLA's cost of them (`reproduce --plan`)."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments import builders, common
from experiments.builders import ImageData, make_gan, text_gan_for
from experiments.configs import get_config
from experiments.evaluators import FashionMetrics, inception_evaluator, sample_in_chunks
from experiments.loop import LoopConfig, StopReason, train_and_evaluate
import wgan_jax as wj
from wgan_jax import image_metrics, inception
from wgan_jax.data import make_toy_dataset
from wgan_jax.data.idx import load_fashion_mnist
from wgan_jax.mixture import mixture_of
from wgan_jax.models import MLPCritic, MLPGenerator


def subplots(*args, **kwargs):
  return common.matplotlib_pyplot().subplots(*args, **kwargs)


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
  keys = key if isinstance(key, tuple) else tuple(jax.random.split(key, 3))
  loop = dict(dict(eval_every=loop["iters"], progress=False, stop_on_nonfinite=False), **loop)
  loop.setdefault("iters_per_call", loop["eval_every"])
  data = None if data is None else jnp.asarray(data)  # on the device once, not every call
  final = None if evaluate is None else (lambda s, k, g: (evaluate(s, k, g), None))
  r = train_and_evaluate(gan, LoopConfig(**loop), None, data=data, evaluate=evaluate, keys=keys,
                         final=final, final_after_signal=False)
  if r.stop_reason == StopReason.SIGNAL:
    raise KeyboardInterrupt(r.stopped)
  return list(r.evaluations), r


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


def fashion_mnist(key, reference: int, samples: int, fold: int = 100):
  """(train images, test images, FashionMetrics) of the Fashion-MNIST figures: the metrics'
  training features are those of `reference` training images drawn with fold_in(key, fold),
  their real-data reference is measured on `samples` test images."""
  train_x, train_y = load_fashion_mnist(None, "train")
  test_x, _ = load_fashion_mnist(None, "test")
  subset = np.sort(np.asarray(jax.random.permutation(jax.random.fold_in(key, fold),
                                                     len(train_x)))[:reference])
  data = ImageData("fashion-mnist", train_x[subset], test_x, train_y[subset])
  metrics = FashionMetrics(data, samples)
  if INCEPTION_WEIGHTS:   # the Inception network's numbers too, against `samples` test images
    metrics.inception = inception_evaluator(INCEPTION_WEIGHTS[0], data, samples)
  return train_x, test_x, metrics


# The FID Inception weights a user passed (--inception-weights of reproduce and the figure
# modules): the Fashion-MNIST figures' `quality` then adds the Inception FID / IS / KID.
INCEPTION_WEIGHTS: List[str] = []


def set_inception_weights(path: Optional[str]) -> None:
  """Use the FID Inception network of this weights file in the Fashion-MNIST figures (None:
  not). Checks the file at once (a one-line ConfigError naming it)."""
  INCEPTION_WEIGHTS.clear()
  if path:
    inception.load_weights(path)
    INCEPTION_WEIGHTS.append(path)


def quality(metrics, x) -> Dict[str, float]:
  """FD and classifier score of samples x under the Fashion-MNIST classifier of `metrics`;
  with Inception weights set, also inception_fid, inception_score(_std) and inception_kid."""
  logits, feats = metrics.features(np.clip(np.asarray(x, np.float32), -1, 1))
  out = dict(fd=image_metrics.frechet_distance(feats, metrics.train_features),
             classifier_score=image_metrics.classifier_score(logits))
  if getattr(metrics, "inception", None) is not None:
    out.update(metrics.inception(x))
  return out


# ------------------------------------------------------------ image runs, scored
def per_run(score: Callable, x) -> Dict[str, list]:
  """score(x_i) of each run's samples x [K, n, ...] as {name: [value of run i]} (the names in
  the order they first appear; None where a run lacks one)."""
  scores = [score(xi) for xi in x]
  return {q: [s.get(q) for s in scores] for q in dict.fromkeys(q for s in scores for q in s)}


def train_scored(gan, keys, score: Callable, *, data, samples: int, final: int = 0,
                 runs: Optional[int] = None, sample: Optional[Callable] = None, **loop):
  """Train `gan` through `train`, scoring its samples at iteration 0, every `eval_every`
  iterations and after the last; then draw `final` fresh samples.

  One run (`runs` None): keys (init, train, eval); each evaluation is `score(x)` of `samples`
  samples drawn (`sample_in_chunks` of `sample`, default gan.sample) with fold_in(eval, 0),
  the same latents every time; the final samples are drawn with fold_in(eval, 1).
  `runs` seeds trained at once: keys (init [runs], train [runs], eval); each evaluation draws
  every run's samples with the loop's evaluation key split over the runs and scores them
  `per_run`; the final samples [runs, final, ...] with fold_in(eval, 1) split over the runs.
  `loop`: `LoopConfig` fields (iters, eval_every, ...).

  Returns (evaluations [{iteration, seconds, score names}], the final samples as a numpy
  array (None when `final` is 0), RunResult)."""
  k_eval = keys[2]
  if runs is None:
    sample = sample or gan.sample
    draw = lambda state, k, n: sample_in_chunks(sample, state, k, n)
    evaluate = lambda state, _, it: score(draw(state, jax.random.fold_in(k_eval, 0), samples))
  else:
    sample = jax.jit(jax.vmap(gan.sample, in_axes=(0, 0, None)), static_argnums=2)
    draw = lambda states, k, n: np.asarray(sample(states, jax.random.split(k, runs), n))
    evaluate = lambda states, k, it: per_run(score, draw(states, k, samples))
    loop["seeds"] = runs
  evals, r = train(gan, keys, evaluate, data=data, eval_at_start=True, **loop)
  x = draw(r.state, jax.random.fold_in(k_eval, 1), final) if final else None
  return evals, x, r


def stored_images(x, n: int = 16):
  """The first n images of x [N, ...] in [-1, 1] as a figure's numbers keep them for its
  plot: grey levels 0-255 (a PNG's own resolution; a non-finite pixel is 0), uint8. The
  indented JSON holds one line per level: keep n (and a grey image's channel axis) small."""
  v = np.nan_to_num(np.clip(np.asarray(x[:n], np.float32), -1, 1), nan=-1.0)
  return np.round((v + 1) * 127.5).astype(np.uint8)


def images_of(stored) -> np.ndarray:
  """`stored_images`' levels (as stored: nested lists) back as images in [-1, 1]."""
  return np.asarray(stored, np.float32) / 127.5 - 1


def judge_trained(claims, trained) -> Dict[str, bool]:
  """{claim: check()} for the (claim, the runs it reads, check) of `claims` whose runs are all
  in `trained`: a claim on runs a config did not train (or on none) is absent, not passed."""
  return {claim: check() for claim, needs, check in claims
          if needs and all(n in trained for n in needs)}


def median_run(values) -> int:
  """The index of the run whose value is the median of `values` (the lower middle one for an
  even count, the first of equal ones; NaN sorts last): the seed a figure plots under its mean
  over seeds."""
  return int(np.argsort(np.asarray(values, float), kind="stable")[(len(values) - 1) // 2])


# ------------------------------------------------------------ seeded toy tables
TOY_DATASETS = ("8gaussians", "25gaussians")
TOY_METHODS = {  # the rows of mode_collapse and the plain runs of mixture_modes (same keys)
    "gan": dict(objective="gan"),
    "nsgan": dict(objective="nsgan"),
    "wgan": dict(objective="wgan"),
    "wgan-gp": dict(objective="wgan-gp", gp_weight=0.1),
    "nsgan + instance noise": dict(objective="nsgan", instance_noise=0.1),
}


# The 2-D toys' CPU learning rates by objective (mode_collapse's converged recipe, which
# mixture_modes trains too): Adam 2e-3 (10× DCGAN's rate, for the budget), the clipped wgan
# at WGAN's own RMSProp 5e-5.
TOY_CPU_LR = {"gan": 2e-3, "nsgan": 2e-3, "wgan": 5e-5, "wgan-gp": 2e-3}


def toy_recipe(method: str, size: Mapping) -> Dict:
  """GANConfig overrides of TOY_METHODS row `method` (a "mix+" prefix read through) at `size`:
  both players' learning rate (size["lr"]'s for the row's objective, else the objective's own)
  and its linear decay to 0 over size["iters"]."""
  lr = size["lr"].get(TOY_METHODS[method.removeprefix("mix+")]["objective"])
  return dict(lr_decay_steps=size["iters"], **({} if lr is None else dict(lr_d=lr, lr_g=lr)))


def toy_gan(dataset, method: str, *, iters: int, width: int, components: int = 1,
            batch_size: int = 256, **config):
  """The GAN of a TOY_METHODS row on `dataset` (a MIX+GAN of `components` pairs when > 1):
  `config` are GANConfig overrides on top of the row's settings (e.g. lr_d, lr_g,
  lr_decay_steps); instance noise, where the row has it, anneals to 0 over `iters`."""
  kw = dict(TOY_METHODS[method], **config)
  objective = kw.pop("objective")
  if "instance_noise" in kw:
    kw["instance_noise_anneal"] = iters
  return make_gan(MLPGenerator(width=width), MLPCritic(width=width),
                  wj.make_config(objective, batch_size=batch_size, **kw),
                  lambda d, k: dataset.sample_one(k), components=components)


def toy_seeds(dataset, method: str, *, seeds: int, iters: int, width: int, seed: int,
              d_i: int, components: int = 1, batch_size: int = 256, **config):
  """`seeds` runs of a TOY_METHODS row (a MIX+GAN of `components` pairs when > 1) trained at
  once on data set number `d_i`, with the key of that row in mode_collapse's table.

  `config`: GANConfig overrides on top of the row's settings (e.g. lr_d, lr_g,
  lr_decay_steps); instance noise, where the row has it, anneals to 0 over `iters`.
  Returns (gan, stacked states, losses every 50 iterations, evaluation key)."""
  gan = toy_gan(dataset, method, iters=iters, width=width, components=components,
                batch_size=batch_size, **config)
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


def toy_rows(numbers: Mapping) -> Dict:
  """A stored `toy_table` as coverage rows {(data set, method): {modes, hq_fraction,
  reverse_kl}} (mean, s.e.) each; a non-finite value (None) is NaN."""
  pair = lambda v: tuple(math.nan if x is None else float(x) for x in v)   # runner.value
  return {(t["dataset"], t["method"]): dict(
              modes=pair(t["modes"]), reverse_kl=pair(t["reverse_kl"]),
              hq_fraction=tuple(x / 100 for x in pair(t["hq_percent"])),
              per_seed=t.get("per_seed", []))
          for t in numbers["table"]}


def representative(per_seed) -> int:
  """The seed whose mode count is the median of a coverage row's (`median_run`): the seed a
  panel plots under the row's mean."""
  return median_run([p["modes"] for p in per_seed])


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


def toy_grid(rows, samples, methods, comps=None, weights=None, seeds=None):
  """One panel of samples per (data set, method) over the modes; a mixture's samples in
  one colour per generator, labelled with its weight; `seeds` {(data set, method): seed}
  names the seed a panel plots (under the row's mean over seeds)."""
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
      shown = "" if seeds is None else f"\nplotted: seed {seeds[(name, method)]}"
      ax.set_title(f"{method} ({name})\n{r['modes'][0]:.1f} ± {r['modes'][1]:.1f} modes, "
                   f"{100 * r['hq_fraction'][0]:.0f}% HQ{shown}", fontsize=8)
      ax.set(xlim=(-2.2, 2.2), ylim=(-2.2, 2.2), aspect="equal")
  return fig


# ------------------------------------------------------------ the games a figure trains
@dataclasses.dataclass(frozen=True)
class Game:
  """One GAN a figure (or a job) trains at a scale: what `reproduce --plan` compiles and costs,
  and what tests/test_paper_scale.py builds and steps at the paper's sizes.

  Attributes:
    label: which of the figure's runs it is (e.g. "wgan/dcgan", "25gaussians/nsgan").
    gan: the `GAN` (plain or MIX+GAN) exactly as the figure builds it at that scale.
    data_shape: one real example's shape when the figure samples real data from an array
      passed to the steps (images [H, W, C], token lines [L]); None when the GAN's sampler
      makes its own data (the toy data sets, a 1-D Gaussian).
    iterations: generator iterations of one run.
    runs: how many runs of it the figure trains (seeds × data sets × architectures, ...).
    data_dtype: the dtype of the data array (float32 images, int32 tokens).
    examples: how many real examples the figure holds on the device (the data array's
      length: it is an argument of every step, so it counts in the step's memory); None: as
      many as one batch.
    at_once: how many of the runs train at once in one program (`IndependentRuns`: a vmap
      over seeds), so the device holds that many states and batches together.
  """
  label: str
  gan: Any
  data_shape: Optional[Tuple[int, ...]]
  iterations: int
  runs: int = 1
  data_dtype: str = "float32"
  examples: Optional[int] = None
  at_once: int = 1

  @property
  def n_critic(self) -> int:
    return self.gan.config.n_critic

  @property
  def critic_steps(self) -> int:
    """Critic steps of one run: n_critic per generator iteration, plus WGAN's warm-up."""
    return self.gan.config.critic_steps_before(self.iterations)

  def key(self) -> tuple:
    """What makes two games one compiled program: the GAN's class, networks and config (and
    a mixture's size), and the data's shape and dtype. Not the sampler: the toy data sets'
    samplers differ only in constants (the ring's and the grid's centres)."""
    g = self.gan
    return (type(g).__name__, repr(g.generator), repr(g.critic), repr(g.config),
            repr(mixture_of(g)),
            None if self.data_shape is None else tuple(self.data_shape), self.data_dtype)


def distinct(games: List[Game]) -> List[Tuple[Game, List[Game]]]:
  """The games grouped by compiled program (`Game.key`), in first-seen order:
  [(representative, [every game of that program])]."""
  groups: Dict[tuple, List[Game]] = {}
  for g in games:
    groups.setdefault(g.key(), []).append(g)
  return [(gs[0], gs) for gs in groups.values()]


def with_batch(gan, batch: int):
  """`gan` with another batch size (the same networks, game and sampler)."""
  if batch == gan.config.batch_size:
    return gan
  return dataclasses.replace(gan, config=dataclasses.replace(gan.config, batch_size=batch))


def example_data(game: Game, n: Optional[int] = None):
  """Data for the game's steps: zeros of n examples of its real shape and dtype (default: its
  `examples`, else one batch), or None when its sampler makes its own data."""
  if game.data_shape is None:
    return None
  n = n or game.examples or game.gan.config.batch_size
  return jnp.zeros((n,) + tuple(game.data_shape), game.data_dtype)


def _abstract_inputs(gan, game: Game, examples: Optional[int]):
  """(state, key, data) as shapes only: nothing is allocated or computed."""
  key = jax.random.key(0)
  data = None
  if game.data_shape is not None:
    n = examples or game.examples or gan.config.batch_size
    data = jax.ShapeDtypeStruct((n,) + tuple(game.data_shape), jnp.dtype(game.data_dtype))
  state = jax.eval_shape(gan.init, key, data)
  return state, key, data


def lower_step(game: Game, *, batch: Optional[int] = None, examples: Optional[int] = None,
               n_critic: Optional[int] = None):
  """The game's fused step, `jax.jit(gan.train_step_fn(n_critic, 1))`, traced and lowered for
  its state, a key and its data as shapes (the program one generator iteration runs: n_critic
  critic steps and one generator step); nothing is compiled or run.

  `batch` replaces the config's batch size (for a cheaper test step); `examples` the length
  of the data array (default `game.examples`, else one batch)."""
  gan = with_batch(game.gan, batch) if batch else game.gan
  state, key, data = _abstract_inputs(gan, game, examples)
  n = gan.config.n_critic if n_critic is None else n_critic
  return jax.jit(gan.train_step_fn(n, 1)).lower(state, key, data)


def compile_step(game: Game, *, batch: Optional[int] = None, examples: Optional[int] = None,
                 n_critic: Optional[int] = None, compiler_options: Optional[Dict] = None):
  """`lower_step`'s program compiled, not run; `compiler_options` go to XLA (e.g.
  {"xla_backend_optimization_level": 0}: a faster compile of the same computation)."""
  lowered = lower_step(game, batch=batch, examples=examples, n_critic=n_critic)
  return lowered.compile(compiler_options) if compiler_options else lowered.compile()


def compile_critic_step(game: Game, *, examples: Optional[int] = None):
  """The compiled single critic step of the game (what XLA's count of a fused step leaves out
  of its critic loop, and what WGAN's warm-up runs more of)."""
  state, key, data = _abstract_inputs(game.gan, game, examples)
  return jax.jit(game.gan.critic_step_fn).lower(state, key, data).compile()


def _cost(compiled) -> Dict[str, float]:
  """`compiled.cost_analysis()` as one dict (JAX 0.10 returns a dict; older versions a list
  with one dict per device program)."""
  ca = compiled.cost_analysis()
  if isinstance(ca, (list, tuple)):
    ca = ca[0] if ca else {}
  return dict(ca or {})


@functools.lru_cache(maxsize=None)
def xla_counts_loop_body_once() -> bool:
  """Whether XLA's cost analysis counts a `while` loop's body once, whatever its trip count
  (XLA of JAX 0.10: yes, measured: a fused step with n_critic = 5 has the FLOPs of one with
  n_critic = 2). Probed on a 4-step `lax.scan` of a matrix product."""
  x = jnp.ones((64, 64), jnp.float32)

  def body(c, _):
    return c @ x, None

  def once(c):
    return body(c, None)[0]

  def loop(c):
    return jax.lax.scan(body, c, None, length=4)[0]

  f1 = _cost(jax.jit(once).lower(x).compile()).get("flops", 0.0)
  f4 = _cost(jax.jit(loop).lower(x).compile()).get("flops", 0.0)
  return f4 < 2 * f1


def step_cost(compiled, *, n_critic: int = 1, critic=None) -> Dict[str, float]:
  """XLA's cost of a compiled fused step: FLOPs of one generator iteration and bytes.

  Returns:
    flops: FLOPs of one generator iteration (n_critic critic steps + one generator step).
      XLA counts a loop's body once (see `xla_counts_loop_body_once`), and the fused step runs
      its first n_critic − 1 critic steps in a `lax.scan`, so with n_critic ≥ 3 the compiled
      single critic step `critic` supplies the steps the count leaves out.
    xla_flops: XLA's own count of the fused program.
    critic_flops: one critic step's FLOPs (`critic`'s count; None without it).
    peak_bytes: XLA's peak of the program's buffers (`memory_analysis().peak_memory_in_bytes`:
      arguments, outputs and temporaries live at once, donation and aliasing taken into
      account); where a backend does not report it, argument + output + temporary sizes.
    argument_bytes, output_bytes, temp_bytes: the parts.
  """
  ca = _cost(compiled)
  xla = float(ca.get("flops", 0.0))
  c_flops = None if critic is None else float(_cost(critic).get("flops", 0.0))
  flops = xla
  if n_critic >= 3:
    if xla_counts_loop_body_once():
      if c_flops is None:
        raise ValueError("n_critic ≥ 3: the count of a fused step leaves out critic steps; "
                         "pass the compiled critic step (`compile_critic_step`) as `critic`")
      flops = xla + (n_critic - 2) * c_flops
  ma = compiled.memory_analysis()
  parts = {k: int(getattr(ma, f"{k}_size_in_bytes", 0) or 0)
           for k in ("argument", "output", "temp", "alias")}
  peak = getattr(ma, "peak_memory_in_bytes", None)
  if not peak:
    peak = parts["argument"] + parts["output"] + parts["temp"] - parts["alias"]
  return dict(flops=flops, xla_flops=xla, critic_flops=c_flops, peak_bytes=int(peak),
              argument_bytes=parts["argument"], output_bytes=parts["output"],
              temp_bytes=parts["temp"])


def game_flops(game: Game, cost: Dict[str, float]) -> float:
  """FLOPs of all the game's runs: every run's generator iterations, plus the critic steps of
  WGAN's warm-up beyond n_critic per iteration (at the critic step's count)."""
  extra = game.critic_steps - game.n_critic * game.iterations
  per_run = game.iterations * cost["flops"] + extra * (cost["critic_flops"] or 0.0)
  return game.runs * per_run


def text_pair_games(data, s: Dict) -> List[Game]:
  """The two GANs `experiments.evaluators.text_pair_curves` trains on the corpus `data` with
  settings `s` (the text figures): wgan-gp (s["n_critic"] critic steps) and nsgan (1), the
  same generator and critic, each run once on the corpus' token lines."""
  out = []
  for objective in ("wgan-gp", "nsgan"):
    gan = text_gan_for(objective, data.vocab.size, width=s["width"], num_blocks=s["num_blocks"],
                       batch_size=s["batch_size"],
                       n_critic=s["n_critic"] if objective == "wgan-gp" else 1,
                       lr_d=s["lr"], lr_g=s["lr"])
    out.append(Game(objective, gan, tuple(data.tokens.shape[1:]), s["iters"],
                    data_dtype=str(data.tokens.dtype), examples=int(data.tokens.shape[0])))
  return out


# ------------------------------------------------------------ the jobs' presets as games
JOB_PRESETS = {"full": dict(toy="official", images="paper", text="paper"),
               "default": dict(toy="default", images="default", text="default")}
# Image data sets a preset names that may not be on this machine (TFDS downloads): their
# example shape and training-split size, so the GAN can be built without the data.
IMAGE_DATA_SHAPES = {"cifar10": ((32, 32, 3), 50000)}


def job_games(scale: str) -> List[Game]:
  """The GANs of the three jobs' presets at `scale` ("full": toy official, images paper, text
  paper; otherwise their default presets), built by `experiments.builders` from
  `experiments.configs.get_config` exactly as the jobs build them. Image data named in
  IMAGE_DATA_SHAPES (CIFAR-10 through TFDS, which needs a download) is not loaded: the GAN is
  built for zeros of its shape (the builder's checks and models see the real shape)."""
  from unittest import mock
  presets = JOB_PRESETS["full" if scale == "full" else "default"]
  out = []
  c = get_config("toy", presets["toy"])
  _, gan = builders.toy_run(c)
  out.append(Game(f"toy {presets['toy']}", gan, None, c.loop.iters))
  c = get_config("images", presets["images"])
  if c.data.dataset in IMAGE_DATA_SHAPES and not (c.data.data_dir or c.data.idx_dir):
    shape, n = IMAGE_DATA_SHAPES[c.data.dataset]
    stand_in = builders.ImageData(c.data.dataset, np.zeros((2,) + shape, np.float32))
    with mock.patch.object(builders, "load_images", lambda d, seed=0: stand_in):
      _, gan = builders.image_run(c)
    examples = min(n, c.data.max_examples)
  else:
    data, gan = builders.image_run(c)
    shape, examples = tuple(data.shape), len(data.train)
  out.append(Game(f"images {presets['images']}", gan, tuple(shape), c.loop.iters,
                  examples=examples))
  c = get_config("text", presets["text"])
  data, gan = builders.text_run(c)
  out.append(Game(f"text {presets['text']}", gan, tuple(data.tokens.shape[1:]), c.loop.iters,
                  data_dtype=str(data.tokens.dtype), examples=int(data.tokens.shape[0])))
  return out
