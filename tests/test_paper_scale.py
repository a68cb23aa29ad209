"""Every paper-scale config compiles (issue 25, item 7).

The slow tier builds every GAN that each figure trains at `scale="full"` and each job's
paper preset (toy official, images paper, text paper) at its real model and data shapes and
traces its fused training step (n_critic critic steps + one generator step) at those shapes;
the first program of each family (networks' classes, game, players: `_family`) is compiled and
run once: the losses and metrics must be finite and the parameters keep their shapes. Only the
batch is cut (to BATCH examples) and the iterations (to one); identical programs run once. The default
tier checks that each figure's `games(scale)` is what the figure trains, that XLA's cost is read
right (every critic step counted), and `reproduce --plan` end to end at the tiny scale.
"""

import contextlib
import dataclasses
import importlib
import json
import math
import sys
from unittest import mock

import jax
import numpy as np
import pytest

import wgan_jax as wj
from experiments import loop, reproduce
from experiments.figures import FIGURES, _common, runner
from wgan_jax.mixture import mixture_of

# The figures that train no `wgan_jax.GAN` (critic-only or analytic): their games() is [].
NO_GAN = ("parallel_lines", "optimal_critic", "value_surfaces", "ab_theorems",
          "gp_optimal_transport", "mode_seeking", "vanishing_bound", "noise_bound",
          "finite_support")
GAN_FIGURES = tuple(f for f in FIGURES if f not in NO_GAN)
BATCH = 8             # the slow tier's batch (the model and data shapes are the paper's)
FAST_COMPILE = {"xla_backend_optimization_level": 0}   # the same computation, compiled faster


def _module(name):
  return importlib.import_module(f"experiments.figures.{name}")


# ------------------------------------------------------------------ default tier
def test_every_figure_says_which_gans_it_trains():
  for name in FIGURES:
    m = _module(name)
    assert callable(getattr(m, "games", None)), name
    assert m.games.__doc__, name       # each says what it trains, or why nothing
    games = m.games("tiny")
    if name in NO_GAN:
      assert games == [], name
      continue
    assert games, name
    for g in games:
      assert isinstance(g, _common.Game) and isinstance(g.gan, wj.GAN), (name, g)
      assert g.iterations >= 1 and g.runs >= 1 and 1 <= g.at_once <= g.runs, (name, g.label)
      assert len({x.label for x in games}) == len(games), name   # labels name the runs


class _Trained(Exception):
  """Raised by the patched loop at a figure's first training."""


def _patch_everywhere(stack, original, replacement):
  """Replace `original` under every name the project's modules import it by (`from module
  import name` binds it in each importer, so patching the defining module alone misses them)."""
  patched = 0
  for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").split(".")[0] not in ("experiments", "wgan_jax"):
      continue
    for attr, value in list(vars(module).items()):
      if value is original:
        stack.enter_context(mock.patch.object(module, attr, replacement))
        patched += 1
  assert patched, original


@pytest.mark.parametrize("name", GAN_FIGURES)
def test_games_are_what_the_figure_trains(name, tmp_path):
  """The figure's run at the tiny scale, stopped at its first training: the GAN it hands the
  loop is games("tiny")[0]'s (networks, config, class), for as many iterations and seeds at
  once, on data of the game's shape and length."""
  from experiments import evaluators
  from experiments.figures import mixgan_scores
  seen = {}

  def first_training(gan, cfg, workdir, *, data=None, **kw):
    seen.update(gan=gan, loop=cfg, data=data)
    raise _Trained

  m = _module(name)
  with contextlib.ExitStack() as stack:
    _patch_everywhere(stack, loop.train_and_evaluate, first_training)
    _patch_everywhere(stack, evaluators.FashionMetrics, mock.MagicMock())
    stack.enter_context(mock.patch.object(mixgan_scores, "gaussian_distances", mock.MagicMock()))
    with pytest.raises(_Trained):
      runner.run(m.FIGURE, str(tmp_path), scale="tiny")
  game = _module(name).games("tiny")[0]
  gan, data = seen["gan"], seen["data"]
  assert type(gan) is type(game.gan)
  assert repr(gan.generator) == repr(game.gan.generator)
  assert repr(gan.critic) == repr(game.gan.critic)
  assert gan.config == game.gan.config
  assert gan.players == game.gan.players
  assert seen["loop"].iters == game.iterations and seen["loop"].seeds == game.at_once
  if game.data_shape is None:
    assert data is None
  else:
    assert tuple(data.shape[1:]) == game.data_shape and str(data.dtype) == game.data_dtype
    assert data.shape[0] == game.examples


def test_the_jobs_games_are_their_presets():
  from experiments.configs import get_config
  from wgan_jax.models import ResNetGenerator
  toy, images, text = _common.job_games("full")
  assert toy.gan.config == get_config("toy", "official").gan_config()
  assert toy.gan.generator.width == 512 and toy.iterations == 100_000
  c = get_config("images", "paper")
  assert images.gan.config == c.gan_config() and images.iterations == 100_000
  assert isinstance(images.gan.generator, ResNetGenerator)
  assert images.gan.generator.dim == 128 and images.data_shape == (32, 32, 3)
  assert c.gan_config().n_critic == 5 and c.gan_config().lr_decay_steps == 100_000
  assert (c.gan_config().beta1, c.gan_config().beta2, c.gan_config().lr_d) == (0.0, 0.9, 2e-4)
  assert text.gan.config == get_config("text", "paper").gan_config()
  assert text.gan.config.n_critic == 10 and text.data_shape == (32,)
  assert text.data_dtype == "int32" and text.iterations == 200_000


def test_distinct_groups_games_by_program():
  games = _module("mode_collapse").games("tiny")
  groups = _common.distinct(games)
  assert len(games) == 10 and len(groups) == 5    # the ring's and the grid's rows share one
  assert all(len(m) == 2 for _, m in groups)


def _toy_game(n_critic: int, **config):
  from wgan_jax.data import make_toy_dataset
  from wgan_jax.models import MLPCritic, MLPGenerator
  ds = make_toy_dataset("8gaussians")
  gan = wj.GAN(MLPGenerator(width=8), MLPCritic(width=8),
               wj.make_config("nsgan", batch_size=8, n_critic=n_critic, **config),
               lambda d, k: ds.sample_one(k))
  return _common.Game("toy", gan, None, 10)


@pytest.mark.slow   # three compiled toy steps, ~15 s on 2 cores
def test_step_cost_counts_every_critic_step():
  """XLA counts the critic loop's body once: with n_critic = 5 the cost adds the 3 critic steps
  its count leaves out, so it equals one generator step and five critic steps."""
  g5, g1 = _toy_game(5), _toy_game(1)
  critic = _common.compile_critic_step(g5)
  step5 = _common.compile_step(g5)
  c5 = _common.step_cost(step5, n_critic=5, critic=critic)
  c1 = _common.step_cost(_common.compile_step(g1))
  one_critic = c5["critic_flops"]
  assert one_critic > 0 and c1["flops"] > one_critic
  assert c5["flops"] == pytest.approx(c1["flops"] + 4 * one_critic, rel=0.02)
  assert c5["peak_bytes"] > 0 and c5["argument_bytes"] > 0
  with pytest.raises(ValueError, match="critic step"):
    _common.step_cost(step5, n_critic=5)


def test_game_flops_adds_the_wgan_warm_up():
  g = _toy_game(5)
  config = dataclasses.replace(g.gan.config, warmup=True)
  warm = _common.Game("warm", dataclasses.replace(g.gan, config=config), None, 1000, runs=3)
  cost = dict(flops=10.0, critic_flops=1.0)
  extra = warm.gan.config.critic_steps_before(1000) - 5 * 1000
  assert extra == 95 * 26   # 100 instead of 5 critic steps before iterations 0-24 and 500
  assert _common.game_flops(warm, cost) == 3 * (1000 * 10.0 + extra * 1.0)


def test_control_dim_bisection_is_the_scan():
  from experiments.figures import mixgan_scores as ms
  shape = (28, 28, 1)
  for dim in (4,):
    base = ms.parameter_count(dim, shape)
    scan = min(range(dim, 8 * dim + 1),
               key=lambda w: abs(math.log(ms.parameter_count(w, shape) / (5 * base))))
    assert ms.control_dim(dim, shape, 5) == scan


def test_plan_prints_the_table_and_writes_plan_json(tmp_path, capsys):
  assert reproduce.main(["--plan", "--scale", "tiny", "--only", "original_gan_1d",
                         "--out", str(tmp_path)]) == 0
  out = capsys.readouterr().out
  assert "| figure | game | runs × iterations | GFLOP / iteration |" in out
  assert "| original_gan_1d | nsgan | 1 × 20 |" in out and "TFLOP/s" in out
  plan = json.loads((tmp_path / "plan.json").read_text())
  assert plan["scale"] == "tiny" and plan["rate_tflops"] == reproduce.DEFAULT_RATE
  rows = [r for r in plan["rows"] if not r.get("total")]
  assert len(rows) == 1 and rows[0]["flops_per_iteration"] > 0 and rows[0]["peak_bytes"] > 0
  assert rows[0]["flops"] == pytest.approx(20 * rows[0]["flops_per_iteration"])
  assert plan["hours"] == pytest.approx(rows[0]["flops"] / 100e12 / 3600)


@pytest.mark.parametrize("argv, message", [
    (["--plan", "--rate", "0"], "--rate"),
    (["--plan", "--max-programs", "0"], "--max-programs"),
    (["--plan", "--rebuild"], "--rebuild"),
    (["--jobs"], "--jobs"),
])
def test_plan_options_are_checked(argv, message, tmp_path, capsys):
  with pytest.raises(SystemExit) as e:
    reproduce.main(argv + ["--out", str(tmp_path)])
  assert e.value.code == 2 and message in capsys.readouterr().err


def test_plan_samples_a_figure_with_many_programs():
  games = [_toy_game(1, lr_d=1e-4 * (i + 1)) for i in range(5)]
  games = [_common.Game(f"g{i}", g.gan, None, 10) for i, g in enumerate(games)]
  rows = reproduce.plan_costs([("many", games)], rate=1.0, max_programs=2, log=lambda m: None)
  row, total = rows
  assert "5 games, 5 programs: 2 compiled" in row["game"] and len(row["sampled"]) == 2
  assert row["flops"] == pytest.approx(5 * 10 * row["flops_per_iteration"])
  assert total["total"] and total["hours"] == pytest.approx(row["hours"])


# ------------------------------------------------------------------ slow tier: the real sizes
_STEPPED = set()   # programs already stepped (identical programs across figures run once)
_FAMILIES = set()  # (generator class, critic class, objective, players) compiled and stepped


def _family(game):
  """The kind of program a step is: the two networks' classes, whether it differentiates
  through the critic's input gradient (a penalty's double backward), and single or mixture
  players. Programs of one family differ in widths, depths, losses and hyper-parameters, which
  tracing at the real shapes checks (`jax.jit(...).lower`: every shape, dtype and
  loss); compiling is what costs (85% of a program's time here), so each family is compiled
  and stepped once, and every other program of it is lowered."""
  g = game.gan
  return (type(g.generator).__name__, type(g.critic).__name__,
          g.config.uses_gradient_penalty or g.config.r1_weight > 0 or g.config.r2_weight > 0,
          mixture_of(g) is not None)


def _covering(name, games):
  """random_archs: of its 600 games, a few that between them hold every Table 1 choice of each
  player and every loss with and without a normalised critic (the greedy set cover of those
  features over the drawn architectures, in draw order)."""
  if name != "random_archs":
    return games
  from experiments.figures import random_archs as ra
  archs = ra.architectures(jax.random.key(0), ra.FIGURE.config("full")["archs"])
  feats = {}
  for g in games:
    i, loss = g.label.removeprefix("arch ").split("/")
    a = archs[int(i)]
    feats[g.label] = {(k, v) for k, v in a.items()} | {(loss, a["d_batch_norm"])}
  todo = set().union(*feats.values())
  chosen = []
  while todo:
    best = max(games, key=lambda g: len(feats[g.label] & todo))
    chosen.append(best)
    todo -= feats[best.label]
  return chosen


def _step_at_paper_size(game):
  """The game's fused step at its model and data shapes (batch BATCH): traced and lowered, and
  for the first program of its `_family` compiled and run once: finite metrics, parameters of
  unchanged shapes."""
  key = game.key()
  if key in _STEPPED:
    return False
  small = _common.Game(game.label, _common.with_batch(game.gan, BATCH), game.data_shape, 1,
                       data_dtype=game.data_dtype, examples=BATCH)
  _STEPPED.add(key)
  if _family(game) in _FAMILIES:
    lowered = _common.lower_step(small, examples=BATCH)
    state = lowered.args_info[0][0]
    assert jax.tree.map(lambda x: (x.shape, x.dtype), lowered.out_info[0]) == jax.tree.map(
        lambda x: (x.shape, x.dtype), state), game.label
    return False
  _FAMILIES.add(_family(game))
  data = _common.example_data(small, BATCH)
  init = jax.jit(small.gan.init).lower(jax.random.key(0), data).compile(FAST_COMPILE)
  state = init(jax.random.key(0), data)
  shapes = jax.tree.map(lambda x: (x.shape, x.dtype), state)
  # the parameters are the paper-size GAN's (the batch does not shape them)
  assert jax.tree.map(lambda x: (x.shape, x.dtype), jax.eval_shape(
      game.gan.init, jax.random.key(0), _common.example_data(game, 2))) == shapes
  step = _common.compile_step(small, examples=BATCH, compiler_options=FAST_COMPILE)
  new, metrics = step(state, jax.random.key(1), data)
  bad = {k: np.asarray(v) for k, v in metrics.items() if not np.isfinite(np.asarray(v)).all()}
  assert not bad, (game.label, bad)
  assert jax.tree.map(lambda x: (x.shape, x.dtype), new) == shapes, game.label
  assert int(new.step) == 1 and int(new.critic_steps) == game.n_critic
  return True


@pytest.mark.slow
@pytest.mark.parametrize("name", GAN_FIGURES)
def test_every_full_scale_gan_compiles_and_steps(name):
  games = _module(name).games("full")
  assert games
  for game in _covering(name, games):
    _step_at_paper_size(game)


@pytest.mark.slow
def test_every_job_paper_preset_compiles_and_steps():
  for game in _common.job_games("full"):
    _step_at_paper_size(game)
