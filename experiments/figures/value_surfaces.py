"""WGAN-GP figure 1a: value surfaces of critics trained to optimality, judged against exact W1.

The paper (§3.1): "we train WGAN critics with weight clipping to optimality on several toy
distributions, holding the generator distribution Pg fixed at the real distribution plus
unit-variance Gaussian noise. [...] We omit batch normalization in the critic." As in the
official gan_toy.py (FIXED_GENERATOR), each fake batch is the real batch plus N(0, I); the critic
is its 3 × (Dense + ReLU) → Dense 1 MLP. Clipping: c = 0.01, the `wgan` recipe's RMSProp 5e-5
(PyTorch's form, the official WGAN code's); penalty: Adam (1e-4, β 0.5, 0.9) with the paper's
λ = 10 ("All experiments in this paper use λ = 10", §4).

Judged on held-out samples (n real points, n fakes from independent real points): the exact
W1 between the two point sets (an optimal assignment on the Euclidean cost), each critic's
objective E_r f − E_g f on the same points, its gradient norms ‖∇f‖ on the real, fake and
interpolated points, and its Lipschitz-normalised objective (objective ÷ the largest of those
norms). By Kantorovich–Rubinstein duality the normalised objective of any critic is at most W1
(dividing by a sampled maximum, not the true Lipschitz constant, can only overstate it), and the
optimal critic reaches W1 with ‖∇f‖ = 1 between coupled points (Proposition 1, Corollary 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments.figures import _common
from experiments.figures import runner as _runner
import wgan_jax as wj
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic
from wgan_jax.penalties import critic_input_gradient_norms
from wgan_jax.train import make_optimizer

NAME = "value_surfaces"
PAPER = ("WGAN-GP §3.1 / fig. 1a: \"Implementing a k-Lipshitz constraint via weight clipping "
         "biases the critic towards much simpler functions\"; \"the critic trained with weight "
         "clipping ignores higher moments of the data distribution and instead models very "
         "simple approximations to the optimal functions. In contrast, our approach does not "
         "suffer from this behavior.\" The optimal critic has \"unit gradient norm almost "
         "everywhere under Pr and Pg\" (Corollary 1).")
NOTE = (  # what RESULTS.md says about this figure's runs (written from the committed run)
    "gan_toy's fixed generator (real + N(0, I)) and 3-layer critic (width 256); clipping with "
    "the wgan recipe's RMSProp (PyTorch's form). Not reproduced as a number: on one estimator "
    "for both critics (E_r f − E_g f divided by the critic's largest sampled ‖∇f‖), the "
    "clipped critics reach 0.50, 0.72, 0.64 of the exact W1 against the penalised critics' "
    "0.55, 0.60, 0.58 (8 Gaussians, 25 Gaussians, Swiss roll): clipping falls short of the "
    "penalty only on 8 Gaussians, by 4% of W1, inside the 10% margin. The surfaces do show "
    "the paper's picture (the clipped critics' box-like level sets against the penalised "
    "critics' mode structure), which this estimator does not separate. The penalised critics "
    "reach median ‖∇f‖ 1.01-1.04 but 0.71-0.87 of the empirical W1, which two 2048-point "
    "samples bias upwards, so 'reaches W1' fails by the reference as much as by the critic.")
DATASETS = ("8gaussians", "25gaussians", "swissroll")
CLIP = 0.01
GP_WEIGHT = 10.0
SCALES = dict(tiny=dict(width=16, clip_steps=20, gp_steps=20, evals=2, n_eval=128,
                        grid_points=16),
              default=dict(width=256, clip_steps=10000, gp_steps=4000, evals=5, n_eval=2048,
                           grid_points=64),
              full=dict(width=512, clip_steps=50000, gp_steps=20000, evals=10, n_eval=4096,
                        grid_points=128))
BATCH = 256
SHOWN = 512    # held-out points drawn under each surface (and stored for the plot)

# Thresholds (stated before measuring).
GP_W1_TOLERANCE = 0.10     # the penalised critic's objective within 10% of exact W1
GP_NORM_TOLERANCE = 0.10   # its median ‖∇f‖ on the interpolates within 10% of 1
CLIP_SHORTFALL = 0.10      # the clipped critic's normalised objective ≥ 10% of W1 below the
#                            penalised critic's, both divided by their largest sampled ‖∇f‖
TRAINED = 0.5              # a critic has learned: its objective rose from its value at
#                            initialisation by at least half of its final value
CONVERGED = 0.05           # a critic has converged: its (normalised) objective moved < 5% of
#                            W1 over the second half of its training


def critic_report(f, real, fake, key, w1=None):
  """Objective, gradient norms and Lipschitz-normalised objective of a critic f (batch [n, 2]
  -> scores [n]) on the point sets real and fake, against their exact W1."""
  real, fake = jnp.asarray(real, jnp.float32), jnp.asarray(fake, jnp.float32)
  eps = jax.random.uniform(key, (real.shape[0], 1))
  inter = eps * real + (1 - eps) * fake
  objective = float(jnp.mean(f(real)) - jnp.mean(f(fake)))
  norms = {k: np.asarray(critic_input_gradient_norms(f, x))
           for k, x in (("real", real), ("fake", fake), ("interpolates", inter))}
  lipschitz = float(max(v.max() for v in norms.values()))
  w1 = wj.wasserstein1_exact(real, fake) if w1 is None else w1
  normalised = objective / lipschitz if lipschitz > 0 else 0.0
  return dict(w1=w1, objective=objective, objective_over_w1=objective / w1,
              max_grad_norm=lipschitz, normalised_objective=normalised,
              normalised_over_w1=normalised / w1,
              median_grad_norm_interpolates=float(np.median(norms["interpolates"])),
              median_grad_norm_real=float(np.median(norms["real"])),
              median_grad_norm_fake=float(np.median(norms["fake"])))


def converged(trajectory, w1):
  """The trajectory's last value within CONVERGED·W1 of its value halfway through."""
  t = np.asarray(trajectory, float)
  return bool(abs(t[-1] - t[(len(t) - 1) // 2]) <= CONVERGED * w1)


def trained(objective):
  """The critic learned: its objective (E_r f − E_g f) is positive and rose from its value at
  initialisation (the trajectory's first point) by at least TRAINED of its final value. An
  untrained critic, whose objective never moved, fails."""
  t = np.asarray(objective, float)
  return bool(t[-1] > 0 and t[-1] - t[0] >= TRAINED * t[-1])


def gp_checks(name, r, trajectory):
  return {
      f"{name}: the penalised critic reaches W1 (Corollary 1's optimum) — E_r f − E_g f within "
      f"{100 * GP_W1_TOLERANCE:.0f}% of the exact W1, median ‖∇f‖ on the interpolates within "
      f"{100 * GP_NORM_TOLERANCE:.0f}% of 1, converged (< {100 * CONVERGED:.0f}% of W1 over the "
      f"second half)":
          abs(r["objective_over_w1"] - 1) <= GP_W1_TOLERANCE
          and abs(r["median_grad_norm_interpolates"] - 1) <= GP_NORM_TOLERANCE
          and converged(trajectory, r["w1"]),
  }


def clip_checks(name, clip, gp, objective, normalised):
  """§3.1 on one estimator for both critics: the clipped critic, trained and converged, falls
  short of the penalised critic's Lipschitz-normalised objective (each divided by its own
  largest sampled ‖∇f‖) by ≥ CLIP_SHORTFALL of W1. (Was: short of W1 itself, which any critic
  short of optimal passed, an untrained one included.) `objective` and `normalised` are the
  clipped critic's trajectories, the first point at initialisation; None (a run stored before
  that point was recorded) cannot decide whether it trained: UNDERPOWERED."""
  claim = (f"{name}: §3.1 \"biases the critic towards much simpler functions\" — the clipped "
           f"critic, trained (objective up ≥ {100 * TRAINED:.0f}% of its final value since "
           f"initialisation) and converged (< {100 * CONVERGED:.0f}% of W1 over the second "
           f"half), scores ≥ {100 * CLIP_SHORTFALL:.0f}% of W1 below the penalised critic, both "
           "divided by their largest sampled ‖∇f‖")
  if objective is None:
    return {claim: _runner.UNDERPOWERED}
  return {claim: trained(objective) and converged(normalised[1:], clip["w1"])
          and clip["normalised_over_w1"] <= gp["normalised_over_w1"] - CLIP_SHORTFALL}


def train(critic, ds, method, key, *, steps, evals, eval_points):
  """Critic trained against the fixed generator (real + N(0, I)); returns (params, the
  objective and the normalised objective on `eval_points` = (real, fake) at initialisation and
  after each of `evals` equal chunks). The clipped critic's optimiser is the `wgan` recipe's
  (PyTorch's RMSProp, 5e-5, then the clip), the penalised one's WGAN-GP's Adam."""
  k_init, k_train = jax.random.split(key)
  params = critic.init(k_init, jnp.zeros((1, 2)))
  if method == "clip":
    recipe = wj.make_config("wgan", clip_value=CLIP)
    opt, gp = make_optimizer(recipe, recipe.lr_d, critic=True), 0.0
  else:
    opt, gp = optax.adam(1e-4, 0.5, 0.9), GP_WEIGHT

  def loss_fn(p, k):
    k0, k1, k2 = jax.random.split(k, 3)
    real = ds.sample(k0, BATCH)
    fake = real + jax.random.normal(k1, real.shape)  # gan_toy's FIXED_GENERATOR
    f = lambda x: critic.apply(p, x)
    out = wj.wasserstein_critic_loss(f(real), f(fake))
    return out + gp * wj.gradient_penalty(f, real, fake, k2) if gp else out

  def step(carry, i):
    p, s = carry
    g = jax.grad(loss_fn)(p, jax.random.fold_in(k_train, i))
    u, s = opt.update(g, s, p)
    return (optax.apply_updates(p, u), s), None

  chunk = max(steps // evals, 1)
  real, fake = eval_points
  eps = jax.random.uniform(jax.random.fold_in(key, 7), (real.shape[0], 1))
  probes = jnp.concatenate([real, fake, eps * real + (1 - eps) * fake])

  def values(p):
    f = lambda x: critic.apply(p, x)
    obj = jnp.mean(f(real)) - jnp.mean(f(fake))
    return obj, obj / jnp.max(critic_input_gradient_norms(f, probes))

  @jax.jit
  def run_chunk(carry, start):
    carry, _ = jax.lax.scan(step, carry, start + jnp.arange(chunk))
    return (carry, *values(carry[0]))

  o, n = jax.jit(values)(params)   # at initialisation, before any step
  carry, objective, normalised = (params, opt.init(params)), [float(o)], [float(n)]
  for e in range(evals):
    carry, o, n = run_chunk(carry, e * chunk)
    objective.append(float(o))
    normalised.append(float(n))
  return carry[0], objective, normalised


def games(scale: str) -> list:
  """Trains no GAN: clipped and penalised critics fitted to fixed toy samples; no generator
  step."""
  return []


def measure(cfg, seed: int):
  """Train the clipped and the penalised critic on each data set; their reports against the
  exact W1 of held-out points, trajectories, value surfaces on the grid, and the first
  held-out points (for the plot)."""
  critic = MLPCritic(width=cfg["width"])
  grid = np.linspace(-3, 3, cfg["grid_points"], dtype=np.float32)
  xx, yy = np.meshgrid(grid, grid)
  pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], 1))
  numbers, reports, trajectories, points = dict(grid=grid), {}, {}, {}
  n = cfg["n_eval"]
  for j, name in enumerate(DATASETS):
    ds = make_toy_dataset(name)
    k_eval = jax.random.fold_in(jax.random.key(seed), 1000 + j)
    k0, k1, k2, k3 = jax.random.split(k_eval, 4)
    real = ds.sample(k0, n)
    fake = ds.sample(k1, n) + jax.random.normal(k2, (n, 2))  # independent of `real`
    w1 = wj.wasserstein1_exact(real, fake)
    show = min(n, SHOWN)
    points[name] = dict(real=np.round(np.asarray(real[:show]), 4),
                        fake=np.round(np.asarray(fake[:show]), 4))
    for i, method in enumerate(("clip", "gp")):
      key = jax.random.fold_in(jax.random.key(seed), 10 * j + i)
      steps = cfg["clip_steps" if method == "clip" else "gp_steps"]
      params, obj, normd = train(critic, ds, method, key, steps=steps, evals=cfg["evals"],
                                 eval_points=(real, fake))
      f = lambda x, p=params: critic.apply(p, x)
      reports[f"{name}/{method}"] = critic_report(f, real, fake, k3, w1=w1)
      trajectories[f"{name}/{method}"] = dict(objective=obj, normalised_objective=normd)
      numbers[f"{name}/{method}"] = np.asarray(critic.apply(params, pts)).reshape(xx.shape)
  numbers.update(reports=reports, trajectories=trajectories, gp_weight=GP_WEIGHT, clip=CLIP,
                 **cfg, points=points, initial_point=True)
  return numbers


def _stored(x):
  """A stored report or trajectory with every None (a non-finite value) as NaN."""
  if isinstance(x, dict):
    return {k: _stored(v) for k, v in x.items()}
  if isinstance(x, list):
    return [_stored(v) for v in x]
  return _runner.value(x)


def judge(numbers) -> dict:
  """Each data set's penalised and clipped critic against the exact W1 (`gp_checks`,
  `clip_checks`) on the stored reports and trajectories."""
  reports, t = _stored(numbers["reports"]), _stored(numbers["trajectories"])
  start = 1 if numbers.get("initial_point") else 0   # trajectories from initialisation
  checks = {}
  for name in DATASETS:
    checks.update(gp_checks(name, reports[f"{name}/gp"], t[f"{name}/gp"]["objective"][start:]))
    clip = t[f"{name}/clip"]
    checks.update(clip_checks(
        name, reports[f"{name}/clip"], reports[f"{name}/gp"],
        clip["objective"] if start else None,
        clip["normalised_objective"] if start else None))
  return checks


def plot(numbers):
  """Each critic's value surface over the held-out real (orange) and fake (green) points."""
  grid = np.asarray(numbers["grid"], float)
  xx, yy = np.meshgrid(grid, grid)
  fig, axes = _common.subplots(2, 3, figsize=(13, 8.6))
  for j, name in enumerate(DATASETS):
    real, fake = (np.asarray(numbers["points"][name][k], float) for k in ("real", "fake"))
    for i, method in enumerate(("clip", "gp")):
      r = _stored(numbers["reports"][f"{name}/{method}"])
      ax = axes[i, j]
      ax.contour(xx, yy, np.asarray(numbers[f"{name}/{method}"], float), levels=20,
                 linewidths=0.8)
      ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange")
      ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:green")
      label = "weight clipping" if method == "clip" else f"gradient penalty (λ = {GP_WEIGHT:g})"
      ax.set_title(f"{name}, {label}\nobjective/W1 {r['objective_over_w1']:.3f}, "
                   f"normalised/W1 {r['normalised_over_w1']:.3f}, median ‖∇f‖ "
                   f"{r['median_grad_norm_interpolates']:.2g}", fontsize=8)
      ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
  return fig


def summary(numbers) -> str:
  reports = _stored(numbers["reports"])
  return "normalised objective / exact W1, clip vs GP: " + ", ".join(
      f"{n_} {reports[f'{n_}/clip']['normalised_over_w1']:.2f} vs "
      f"{reports[f'{n_}/gp']['normalised_over_w1']:.2f}" for n_ in DATASETS) + \
      "; GP objective / W1: " + ", ".join(
      f"{n_} {reports[f'{n_}/gp']['objective_over_w1']:.3f} (median ‖∇f‖ "
      f"{reports[f'{n_}/gp']['median_grad_norm_interpolates']:.2f})" for n_ in DATASETS)


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games, note=NOTE)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
