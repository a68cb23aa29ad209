"""WGAN-GP figure 1b: gradient norms through a deep critic, and the trained weights' histograms.

The paper's set-up (§3.2): "we train WGAN on the Swiss Roll toy dataset, varying the clipping
threshold c in [10^-1, 10^-2, 10^-3], and plot the norm of the gradient of the critic loss with
respect to successive layers of activations. Both generator and critic are 12-layer ReLU MLPs
without batch normalization." Here a 12-layer generator (z ∈ R² ~ N(0, I)) and a 12-layer critic
(`wgan_jax.models` MLPs of depth 12: 12 × (Dense + ReLU) → Dense 1, 13 Dense layers; He-uniform
hidden and Glorot-uniform output init, as in the official gan_toy.py) are trained as a WGAN
through the experiments' one loop (`_common.train`), n_critic = 5, batch 256: clipping with
RMSProp 5e-5 for both players (every critic variable clipped after each step, as the official
code does; no warm-up), the penalty with Adam (1e-4, β 0.5, 0.9) and λ = 10 ("All experiments
in this paper use λ = 10", §4). The per-layer profiles are measured by the loop's evaluation
callback, at iteration 0 and every `iters / evals` iterations. The width is not given in the
paper; it must be large enough that one backward layer can amplify the norm at c = 0.1 (about
c·√(width·p_active) for random signs), so the CPU default uses 256 and the full scale 512 (the
official toy code's DIM).

Left: ‖∂L/∂h_l‖ for the Dense outputs h_l, l = 13 (the critic's value) back to 1, of the critic
loss L = E f(G(z)) − E f(x) on fresh batches after training (geometric mean over 4 batches).
Right: the trained weights (kernels) of the clipped (c = 0.01, the paper's histogram axis ±0.02)
and of the penalised critics, beside the share the first clipping of the initial weights already
puts at ±c.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import wgan_jax as wj
from experiments.figures import _common
from experiments.figures import runner as _runner
from wgan_jax.data import make_toy_dataset
from wgan_jax.models import MLPCritic, MLPGenerator

NAME = "gradient_norms"
PAPER = ("WGAN-GP §3.2 / fig. 1b: a 12-layer WGAN on the Swiss roll; going back from the "
         "output, clipping's gradient norms \"either grow or decay exponentially\" (c = 0.1 "
         "explodes, c = 0.01 and 0.001 vanish); with the penalty they \"neither vanish nor "
         "explode\". \"Weight clipping pushes weights towards two values (the extremes of the "
         "clipping range), unlike gradient penalty.\"")
NOTE = (  # what RESULTS.md says about this figure's runs
    'A real WGAN on the Swiss roll (12-layer ReLU generator and critic, width 256, 300 '
    'generator iterations; full: width 512, 10,000). The norms are back-propagated with a '
    'per-layer rescaling so that c = 0.001 cannot underflow. The clipped critics train with the '
    "wgan recipe's RMSProp in PyTorch's form, as the official WGAN code (re-run for issue 27: "
    'the verdicts are those of the earlier optax-form run; c = 0.1 then grew +0.49). c = 0.1 '
    'grows +0.62 decades per layer, c = 0.01 and 0.001 decay -0.97 and -1.97, the penalty '
    'stays within a factor 1.5. '
    'The penalised weights have barely moved from their He-uniform initialisation at this '
    'length (mean |dw| 0.003 against a spread of 0.088), so their histogram is not yet the '
    "paper's unimodal spread; 94% of the c = 0.01 weights sit at +-c, but the first clip of "
    'the initial weights already puts them there.')
DEPTH = 12
METHODS = ("clip 0.1", "clip 0.01", "clip 0.001", "gradient penalty")
GP_WEIGHT = 10.0
# CPU default <= ~10 min on 2 quiet cores; tiny for tests; full for an accelerator.
SCALES = dict(tiny=dict(width=16, iters=4, n_critic=2, batch=32, evals=1),
              default=dict(width=256, iters=300, n_critic=5, batch=256, evals=3),
              full=dict(width=512, iters=10000, n_critic=5, batch=256, evals=10))
N_MEASURE = 4  # batches the final profile is averaged over

# Thresholds of the checks (stated before measuring; see `profile_checks`).
EXPLODE_DECADES = 1.0    # c = 0.1: the input layer's norm ≥ 10× the output layer's
VANISH_SLOPE = -0.25     # c ≤ 0.01: at least a quarter decade lost per layer going back
EXPONENTIAL_R2 = 0.9     # "exponentially": log10 norm linear in the layer index
FLAT_FACTOR = 10.0       # the penalty: every layer within 10× of every other
PILED_SHARE = 0.5        # clipping: > half the weights within 10% of ±c


def layers(params):
  """A `wgan_jax.models` MLP's params as its Dense layers [(W, b)], input side first."""
  body = params["_MLPBody_0"]
  return [(body[f"Dense_{i}"]["kernel"], body[f"Dense_{i}"]["bias"]) for i in range(len(body))
          ] + [(params["Dense_0"]["kernel"], params["Dense_0"]["bias"])]


def forward(params, x, deltas=None):
  """The MLP; `deltas[l]` is added to Dense output l (to differentiate with respect to it)."""
  h = x
  for i, (w, b) in enumerate(params):
    h = h @ w + b
    if deltas is not None:
      h = h + deltas[i]
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  return h


def log_layer_gradient_norms(params, real, fake):
  """log ‖∂L/∂h_l‖ (natural log; Frobenius norm over the batch) for each Dense output h_l of
  the critic, l = 1 (input side) .. len(params) (the value), of L = mean f(fake) − mean f(real).

  Back-propagated by hand with the running norm factored out at each layer, so a profile that
  falls by hundreds of decades (c = 0.001) stays exact instead of underflowing float32 to 0.
  """
  x = jnp.concatenate([real, fake])
  n, m = real.shape[0], fake.shape[0]
  pre, h = [], x
  for i, (w, b) in enumerate(params):
    h = h @ w + b
    pre.append(h)
    if i < len(params) - 1:
      h = jax.nn.relu(h)
  delta = jnp.concatenate([-jnp.ones((n, 1)) / n, jnp.ones((m, 1)) / m])  # ∂L/∂(the value)
  delta = jnp.broadcast_to(delta, pre[-1].shape)
  log_scale = jnp.zeros(())
  logs = []
  for i in range(len(params) - 1, -1, -1):
    if i < len(params) - 1:
      delta = (delta @ params[i + 1][0].T) * (pre[i] > 0)
    norm = jnp.linalg.norm(delta)
    log_scale = log_scale + jnp.log(norm)
    delta = delta / jnp.where(norm > 0, norm, 1.0)
    logs.append(log_scale)
  return jnp.stack(logs[::-1])


# ------------------------------------------------------------------ the checks' statistics
def profile_stats(log10_norms):
  """Of a per-layer profile log10_norms[l-1] (log10 ‖∂L/∂h_l‖, l = 1..L): the fitted log10
  change per layer going back from the output (L) to the input (1), the total change
  log10(norm_1 / norm_L), the R² of the log-linear fit, and log10 of max/min over the layers."""
  v = np.asarray([_runner.value(x) for x in log10_norms], np.float64)
  if not np.isfinite(v).all():   # a diverged or dead profile: every statistic NaN
    return dict(slope_back=np.nan, decades_back=np.nan, r2=np.nan, log10_max_over_min=np.nan)
  index = np.arange(1, len(v) + 1)
  a, b = np.polyfit(index, v, 1)
  resid = v - (a * index + b)
  r2 = float(1 - resid.var() / v.var()) if v.var() > 0 else 0.0
  return dict(slope_back=float(-a), decades_back=float(v[0] - v[-1]), r2=r2,
              log10_max_over_min=float(v.max() - v.min()))


def profile_checks(log10_norms):
  """The paper's claims about the profiles {method: log10 norms}, each False when absent."""
  s = {m: profile_stats(n) for m, n in log10_norms.items()}
  quote = ("§3.2: \"the gradient either grows or decays exponentially as we move farther back "
           "in the network\"")
  return {
      f"{quote} — c = 0.1 grows: the input layer's norm ≥ {10 ** EXPLODE_DECADES:.0f}× the "
      f"output's, log-linear R² ≥ {EXPONENTIAL_R2}":
          s["clip 0.1"]["decades_back"] >= EXPLODE_DECADES
          and s["clip 0.1"]["r2"] >= EXPONENTIAL_R2,
      f"{quote} — c = 0.01 decays: ≤ {VANISH_SLOPE} decades per layer, R² ≥ {EXPONENTIAL_R2}":
          s["clip 0.01"]["slope_back"] <= VANISH_SLOPE and s["clip 0.01"]["r2"] >= EXPONENTIAL_R2,
      f"{quote} — c = 0.001 decays, faster than c = 0.01, R² ≥ {EXPONENTIAL_R2}":
          s["clip 0.001"]["slope_back"] < s["clip 0.01"]["slope_back"] <= VANISH_SLOPE
          and s["clip 0.001"]["r2"] >= EXPONENTIAL_R2,
      f"§3.2: the penalty gives \"more stable gradients that neither vanish nor explode\" — all "
      f"13 layers within {FLAT_FACTOR:.0f}× of each other":
          s["gradient penalty"]["log10_max_over_min"] <= np.log10(FLAT_FACTOR),
  }


def share_at_bounds(w, c, within=0.1):
  """Share of weights within `within`·c of ±c."""
  return float(np.mean(np.abs(np.asarray(w)) >= (1 - within) * c))


def clipped_histogram(w, c, bins=40):
  """Counts of a histogram of the weights clipped to [−c, c], over [−c, c]."""
  return np.histogram(np.clip(w, -c, c), bins=bins, range=(-c, c))[0]


def piled_counts(h, share) -> bool:
  """> PILED_SHARE of the weights within 10% of ±c (`share`), and the two outermost bins of
  `clipped_histogram`'s counts h are its two fullest."""
  h = np.asarray(h)
  return bool(share > PILED_SHARE and set(np.argsort(h)[-2:].tolist()) == {0, len(h) - 1})


def piled_at_bounds(w, c, bins=40):
  """Fig. 1b (right, top): > PILED_SHARE of the weights within 10% of ±c, and the two outermost
  bins of a histogram over [−c, c] are its two fullest."""
  return piled_counts(clipped_histogram(w, c, bins), share_at_bounds(w, c))


def symmetric_histogram(w, bins=41):
  """Counts of a histogram of the weights over [−m, m], m = max |w|."""
  w = np.asarray(w, np.float64).ravel()
  m = np.abs(w).max()
  return np.histogram(w, bins=bins, range=(-m, m))[0]


def unimodal_counts(h, smooth=3, tol=0.05) -> bool:
  """`unimodal_spread` on the counts h of `symmetric_histogram`."""
  h = np.asarray(h, np.float64)
  bins = len(h)
  h = np.convolve(h, np.ones(smooth) / smooth, mode="same")
  p = int(np.argmax(h))
  q = bins // 4
  if not (q <= p < bins - q):
    return False
  if h[p] < 2 * max(h[:q].mean(), h[-q:].mean()):
    return False
  left = all(h[i] <= h[i + 1:p + 1].min() + tol * h[p] for i in range(p))
  right = all(h[i] <= h[p:i].min() + tol * h[p] for i in range(p + 1, bins))
  return bool(left and right)


def unimodal_spread(w, bins=41, smooth=3, tol=0.05):
  """Fig. 1b (right, bottom): one mode, in the middle half of [−m, m] (m = max |w|), at least
  twice as full as the outer quarter of the range on either side, and the smoothed histogram
  non-increasing away from it (up to `tol` of the peak). A uniform (the He-uniform initial
  weights) or a two-valued histogram fails."""
  return unimodal_counts(symmetric_histogram(w, bins), smooth, tol)


def weight_check_names(c=0.01):
  """The claims of the weight checks (`piled_counts`, `unimodal_counts`) at clip value c."""
  return (f"fig. 1b caption: \"Weight clipping pushes weights towards two values (the extremes "
          f"of the clipping range)\" — c = {c}: > {100 * PILED_SHARE:.0f}% within 10% of ±c, "
          "the two end bins the fullest",
          "fig. 1b caption: \"unlike gradient penalty\" — the trained penalised weights form "
          "one central mode (a uniform or two-valued histogram fails)")


# ------------------------------------------------------------------------------ training
def gan_of(method, *, width, n_critic, batch):
  """The 12-layer WGAN of `method` ("clip c" or "gradient penalty") on the swiss roll."""
  ds = make_toy_dataset("swissroll")
  if method.startswith("clip"):
    config = wj.make_config("wgan", clip_value=float(method.split()[1]), optimizer="rmsprop",
                            lr_d=5e-5, lr_g=5e-5, warmup=False, n_critic=n_critic,
                            batch_size=batch)
  else:
    config = wj.make_config("wgan-gp", optimizer="adam", lr_d=1e-4, lr_g=1e-4, beta1=0.5,
                            beta2=0.9, gp_weight=GP_WEIGHT, n_critic=n_critic,
                            batch_size=batch)
  return wj.GAN(MLPGenerator(width=width, depth=DEPTH), MLPCritic(width=width, depth=DEPTH),
                config, lambda d, k: ds.sample_one(k))


def iterations(iters, evals) -> int:
  """Generator iterations trained: `evals` equal chunks of iters // evals (at least 1)."""
  return max(iters // evals, 1) * evals


def train_wgan(method, key, *, width, iters, n_critic, batch, evals):
  """A 12-layer WGAN (clipping or penalty) on the swiss roll, trained through the experiments'
  loop; returns (initial critic, trained critic, both as Dense layers [(W, b)], profiles
  [evals + 1, 13] at iteration 0 and after each of `evals` equal chunks, the critic loss of
  each iteration's last critic step)."""
  ds = make_toy_dataset("swissroll")
  gan = gan_of(method, width=width, n_critic=n_critic, batch=batch)
  k_init, k_train, k_eval = jax.random.split(key, 3)

  @jax.jit
  def profile(d, g, k):
    def one(kk):
      fake = forward(g, jax.random.normal(jax.random.fold_in(kk, 1), (batch, 2)))
      return log_layer_gradient_norms(d, ds.sample(jax.random.fold_in(kk, 0), batch), fake)
    logs = jax.vmap(one)(jax.random.split(k, N_MEASURE))
    return jnp.mean(logs, 0) / np.log(10.0)  # log10 of the geometric mean over batches

  def evaluate(state, k, it):
    return dict(profile=np.asarray(profile(layers(state.critic.params),
                                           layers(state.generator.params), k)))

  chunk = max(iters // evals, 1)
  evaluations, r = _common.train(gan, (k_init, k_train, k_eval), evaluate,
                                 iters=iterations(iters, evals), eval_every=chunk,
                                 eval_at_start=True, log_every=1)
  d0 = layers(jax.jit(gan.init)(k_init).critic.params)
  return (d0, layers(r.state.critic.params), np.stack([e["profile"] for e in evaluations]),
          np.asarray(r.history["d_loss"]))


def kernels(params):
  """The hidden width × width kernels (Dense layers 2..12), which share one initial
  distribution, U(±√(6/width)): the first layer's (fan-in 2, U(±√3)) and the last's would make
  any histogram of the initial weights peaked."""
  return np.concatenate([np.asarray(w).ravel() for w, _ in params[1:-1]])


def games(scale: str) -> list:
  """The four 12-layer WGANs (clipping at 0.1, 0.01, 0.001; the penalty) on the swiss roll,
  one run each."""
  cfg = FIGURE.config(scale)
  return [_common.Game(m, gan_of(m, width=cfg["width"], n_critic=cfg["n_critic"],
                                 batch=cfg["batch"]), None,
                       iterations(cfg["iters"], cfg["evals"])) for m in METHODS]


def _c(method) -> float:
  return float(method.split()[1])


def measure(cfg, seed: int):
  """Train the four WGANs; the per-layer profiles (trained and during training), their
  statistics, the clipped weights' share at ±c, the histograms the weight checks and the plot
  read, and the critic losses."""
  profiles, weights, initial, losses = {}, {}, {}, {}
  for i, m in enumerate(METHODS):
    d0, d, prof, loss = train_wgan(m, jax.random.fold_in(jax.random.key(seed), i), **cfg)
    profiles[m], weights[m], initial[m], losses[m] = prof, kernels(d), kernels(d0), loss
  norms = {m: profiles[m][-1] for m in METHODS}  # log10, trained
  stats = {m: profile_stats(norms[m]) for m in METHODS}
  at_c = {m: share_at_bounds(weights[m], _c(m)) for m in METHODS[:3]}
  # What the first clipping of the initial weights alone puts there (training not needed).
  at_c_init = {m: share_at_bounds(np.clip(initial[m], -_c(m), _c(m)), _c(m))
               for m in METHODS[:3]}
  gp_w, gp_w0 = weights["gradient penalty"], initial["gradient penalty"]
  edges = np.linspace(min(gp_w.min(), gp_w0.min()), max(gp_w.max(), gp_w0.max()), 61)
  clip_range = (-0.0205, 0.0205)  # 41 bins, ±c mid-bin
  return dict(
      layers=np.arange(1, DEPTH + 2), log10_norms=norms, log10_profiles_during_training=profiles,
      log10_slope_per_layer_backwards={m: stats[m]["slope_back"] for m in METHODS},
      profile_stats=stats, clip_share_at_c=at_c, clip_share_at_c_first_clip_of_init=at_c_init,
      clip_fraction_at_c=at_c["clip 0.01"],
      penalised_weights=dict(initial_std=float(np.std(gp_w0)), trained_std=float(np.std(gp_w)),
                             mean_abs_change=float(np.mean(np.abs(gp_w - gp_w0)))),
      histograms={m: np.histogram(w, bins=60) for m, w in weights.items()},
      final_critic_loss={m: float(np.mean(losses[m][-max(len(losses[m]) // 10, 1):]))
                         for m in METHODS},
      gp_weight=GP_WEIGHT, **cfg,
      # what the weight checks read: the clipped c = 0.01 weights over [−c, c] in 40 bins, the
      # penalised ones over ±max |w| in 41 bins
      check_histograms={"clip 0.01": clipped_histogram(weights["clip 0.01"], 0.01),
                        "gradient penalty": symmetric_histogram(gp_w)},
      plot_histograms=dict(
          clip_range=clip_range,
          clip=np.histogram(weights["clip 0.01"], bins=41, range=clip_range)[0],
          gp_edges=edges, gp_trained=np.histogram(gp_w, bins=edges)[0],
          gp_initial=np.histogram(gp_w0, bins=edges)[0]))


def judge(numbers) -> dict:
  """The profile checks on the trained profiles, and the weight checks on the stored
  histograms. A run stored before `check_histograms` (docs/results at 2bccb2d) has only the
  60-bin histograms over [min w, max w]: the weight checks then read those, an approximation
  of their 40- and 41-bin histograms."""
  checks = profile_checks(numbers["log10_norms"])
  piled, unimodal = weight_check_names(0.01)
  h = numbers.get("check_histograms") or {m: numbers["histograms"][m][0]
                                          for m in ("clip 0.01", "gradient penalty")}
  checks[piled] = piled_counts(h["clip 0.01"],
                               _runner.value(numbers["clip_share_at_c"]["clip 0.01"]))
  checks[unimodal] = unimodal_counts(h["gradient penalty"])
  return checks


def plot(numbers):
  """The per-layer profiles (faint: during training), the c = 0.01 weights and the penalised
  weights against their initial ones."""
  stats = {m: profile_stats(numbers["log10_norms"][m]) for m in METHODS}
  at_c, at_c_init = (numbers[k]["clip 0.01"] for k in ("clip_share_at_c",
                                                        "clip_share_at_c_first_clip_of_init"))
  hist = numbers["plot_histograms"]
  index = np.arange(1, DEPTH + 2)  # Dense layer index, 1 = first (input side)
  fig, (a, b, c) = _common.subplots(1, 3, figsize=(15, 4.2))
  for j, m in enumerate(METHODS):
    colour = f"C{j}"
    for p in numbers["log10_profiles_during_training"][m][1:-1]:
      a.plot(index, np.asarray(p, float), "-", color=colour, alpha=0.25, lw=0.8)
    a.plot(index, np.asarray(numbers["log10_norms"][m], float), "o-", color=colour,
           label=f"{m} ({stats[m]['slope_back']:+.2f} dec/layer)")
  a.set_xlabel("discriminator layer")
  a.set_ylabel("log10 ‖∂L/∂h_l‖")
  a.set_xticks([13, 10, 7, 4, 1])
  a.invert_xaxis()
  a.legend(fontsize=7)
  a.set_title(f"12-layer WGAN on the swiss roll, width {numbers['width']}, "
              f"{numbers['iters']} G iterations\n(faint: earlier in training)", fontsize=9)
  lo, hi = hist["clip_range"]
  clip_edges = np.linspace(lo, hi, len(hist["clip"]) + 1)
  b.stairs(hist["clip"], clip_edges, fill=True)
  b.set_title(f"weight clipping c = 0.01: {100 * at_c:.0f}% within 10% of ±c\n"
              f"(first clip of the init alone: {100 * at_c_init:.0f}%)", fontsize=9)
  b.set_xlabel("weights")
  edges = np.asarray(hist["gp_edges"], float)
  c.stairs(hist["gp_trained"], edges, fill=True, alpha=0.7, label="trained")
  c.stairs(hist["gp_initial"], edges, color="grey", label="initial (He-uniform)")
  c.legend(fontsize=7)
  c.set_title("gradient penalty (λ = 10), trained weights", fontsize=9)
  c.set_xlabel("weights")
  return fig


def summary(numbers) -> str:
  stats = {m: profile_stats(numbers["log10_norms"][m]) for m in METHODS}
  at_c, at_c_init = (numbers[k]["clip 0.01"] for k in ("clip_share_at_c",
                                                        "clip_share_at_c_first_clip_of_init"))
  w = numbers["penalised_weights"]
  return ("log10 norm change per layer going back (total input vs output): " +
          ", ".join(f"{m} {stats[m]['slope_back']:+.2f} ({stats[m]['decades_back']:+.1f})"
                    for m in METHODS) +
          "; GP max/min over layers "
          f"{10 ** stats['gradient penalty']['log10_max_over_min']:.1f}; "
          f"{100 * at_c:.0f}% of c = 0.01 weights at ±c "
          f"({100 * at_c_init:.0f}% after the first clip of the init); "
          f"penalised weights moved by mean |Δw| {w['mean_abs_change']:.3f} "
          f"(initial std {w['initial_std']:.3f})")


FIGURE = _runner.Figure(name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge,
                        plot=plot, summary=summary, games=games, note=NOTE)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
