"""WGAN-GP figure 1b: gradient norms through a deep critic, and the trained weights' histograms.

The paper's set-up (§3.2): "we train WGAN on the Swiss Roll toy dataset, varying the clipping
threshold c in [10^-1, 10^-2, 10^-3], and plot the norm of the gradient of the critic loss with
respect to successive layers of activations. Both generator and critic are 12-layer ReLU MLPs
without batch normalization." Here a 12-layer generator (z ∈ R² ~ N(0, I)) and a 12-layer critic
(12 × (Dense + ReLU) → Dense 1, 13 Dense layers; He-uniform hidden and Glorot-uniform output
init, as in the official gan_toy.py) are trained as a WGAN, n_critic = 5, batch 256: clipping
with RMSProp 5e-5 for both players (every critic variable clipped after each step, as the
official code does), the penalty with Adam (1e-4, β 0.5, 0.9) and λ = 10 ("All experiments in
this paper use λ = 10", §4). The width is not given in the paper; it must be large enough that
one backward layer can amplify the norm at c = 0.1 (about c·√(width·p_active) for random signs),
so the CPU default uses 256 and the full scale 512 (the official toy code's DIM).

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
import optax

import wgan_jax as wj
from experiments.figures import _common
from wgan_jax.data import make_toy_dataset

NAME = "gradient_norms"
PAPER = ("WGAN-GP §3.2 / fig. 1b: a 12-layer WGAN on the Swiss roll; going back from the "
         "output, clipping's gradient norms \"either grow or decay exponentially\" (c = 0.1 "
         "explodes, c = 0.01 and 0.001 vanish); with the penalty they \"neither vanish nor "
         "explode\". \"Weight clipping pushes weights towards two values (the extremes of the "
         "clipping range), unlike gradient penalty.\"")
NOTE = (  # what RESULTS.md says about this figure's runs
    'A real WGAN on the Swiss roll (12-layer ReLU generator and critic, width 256, 300 '
    'generator iterations; full: width 512, 10,000). The norms are back-propagated with a '
    'per-layer rescaling so that c = 0.001 cannot underflow. c = 0.1 grows +0.49 decades per '
    'layer, c = 0.01 and 0.001 decay -0.97 and -1.97, the penalty stays within a factor 2.1. '
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


def init_mlp(key, sizes):
  """Dense layers [(W, b)]: He-uniform hidden layers, Glorot-uniform last, zero biases."""
  params = []
  for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
    last = i == len(sizes) - 2
    lim = np.sqrt(6.0 / (m + n)) if last else np.sqrt(6.0 / m)
    w = jax.random.uniform(jax.random.fold_in(key, i), (m, n), minval=-lim, maxval=lim)
    params.append((w, jnp.zeros((n,))))
  return params


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
  v = np.asarray(log10_norms, np.float64)
  layers = np.arange(1, len(v) + 1)
  a, b = np.polyfit(layers, v, 1)
  resid = v - (a * layers + b)
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


def piled_at_bounds(w, c, bins=40):
  """Fig. 1b (right, top): > PILED_SHARE of the weights within 10% of ±c, and the two outermost
  bins of a histogram over [−c, c] are its two fullest."""
  h, _ = np.histogram(np.clip(w, -c, c), bins=bins, range=(-c, c))
  two_fullest = set(np.argsort(h)[-2:].tolist())
  return share_at_bounds(w, c) > PILED_SHARE and two_fullest == {0, bins - 1}


def unimodal_spread(w, bins=41, smooth=3, tol=0.05):
  """Fig. 1b (right, bottom): one mode, in the middle half of [−m, m] (m = max |w|), at least
  twice as full as the outer quarter of the range on either side, and the smoothed histogram
  non-increasing away from it (up to `tol` of the peak). A uniform (the He-uniform initial
  weights) or a two-valued histogram fails."""
  w = np.asarray(w, np.float64).ravel()
  m = np.abs(w).max()
  h, _ = np.histogram(w, bins=bins, range=(-m, m))
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


def weight_checks(clipped_w, c, penalised_w):
  return {
      f"fig. 1b caption: \"Weight clipping pushes weights towards two values (the extremes of "
      f"the clipping range)\" — c = {c}: > {100 * PILED_SHARE:.0f}% within 10% of ±c, the two "
      f"end bins the fullest": piled_at_bounds(clipped_w, c),
      "fig. 1b caption: \"unlike gradient penalty\" — the trained penalised weights form one "
      "central mode (a uniform or two-valued histogram fails)": unimodal_spread(penalised_w),
  }


# ------------------------------------------------------------------------------ training
def train_wgan(method, key, *, width, iters, n_critic, batch, evals):
  """A 12-layer WGAN (clipping or penalty) on the swiss roll; returns (initial critic, trained
  critic, profiles [evals + 1, 13] at iteration 0 and after each of `evals` equal chunks,
  critic losses per iteration)."""
  ds = make_toy_dataset("swissroll")
  k_d, k_g, k_train = jax.random.split(key, 3)
  d0 = init_mlp(k_d, [2] + [width] * DEPTH + [1])
  g0 = init_mlp(k_g, [2] + [width] * DEPTH + [2])
  if method.startswith("clip"):
    c = float(method.split()[1])
    d_opt = optax.chain(optax.rmsprop(5e-5), wj.clip_params(c))
    g_opt = optax.rmsprop(5e-5)
    gp = 0.0
  else:
    d_opt = g_opt = optax.adam(1e-4, 0.5, 0.9)
    gp = GP_WEIGHT

  def fakes(g, k):
    return forward(g, jax.random.normal(k, (batch, 2)))

  def d_loss(d, g, k):
    k0, k1, k2 = jax.random.split(k, 3)
    real, fake = ds.sample(k0, batch), fakes(g, k1)
    f = lambda x: forward(d, x)[:, 0]
    out = wj.wasserstein_critic_loss(f(real), f(fake))
    if gp:
      out = out + gp * wj.gradient_penalty(f, real, fake, k2)
    return out

  def g_loss(g, d, k):
    return wj.wasserstein_generator_loss(forward(d, fakes(g, k))[:, 0])

  def iteration(carry, i):
    d, ds_, g, gs = carry
    k = jax.random.fold_in(k_train, i)

    def critic_step(c2, j):
      d, s = c2
      l, grad = jax.value_and_grad(d_loss)(d, g, jax.random.fold_in(k, j))
      u, s = d_opt.update(grad, s, d)
      return (optax.apply_updates(d, u), s), l

    (d, ds_), losses = jax.lax.scan(critic_step, (d, ds_), jnp.arange(n_critic))
    grad = jax.grad(g_loss)(g, d, jax.random.fold_in(k, n_critic))
    u, gs = g_opt.update(grad, gs, g)
    return (d, ds_, optax.apply_updates(g, u), gs), losses[-1]

  @jax.jit
  def profile(d, g, k):
    one = lambda kk: log_layer_gradient_norms(d, ds.sample(jax.random.fold_in(kk, 0), batch),
                                              fakes(g, jax.random.fold_in(kk, 1)))
    logs = jax.vmap(one)(jax.random.split(k, N_MEASURE))
    return jnp.mean(logs, 0) / np.log(10.0)  # log10 of the geometric mean over batches

  chunk = max(iters // evals, 1)

  @jax.jit
  def run_chunk(carry, start):
    return jax.lax.scan(iteration, carry, start + jnp.arange(chunk))

  carry = (d0, d_opt.init(d0), g0, g_opt.init(g0))
  k_measure = jax.random.fold_in(key, 10**6)
  profiles, losses = [profile(d0, g0, k_measure)], []
  for e in range(evals):
    carry, l = run_chunk(carry, e * chunk)
    profiles.append(profile(carry[0], carry[2], jax.random.fold_in(k_measure, e + 1)))
    losses.append(l)
  return d0, carry[0], np.asarray(jnp.stack(profiles)), np.concatenate(
      [np.asarray(x) for x in losses])


def kernels(params):
  """The hidden width × width kernels (Dense layers 2..12), which share one initial
  distribution, U(±√(6/width)): the first layer's (fan-in 2, U(±√3)) and the last's would make
  any histogram of the initial weights peaked."""
  return np.concatenate([np.asarray(w).ravel() for w, _ in params[1:-1]])


def games(scale: str) -> list:
  """Its 12-layer WGANs train in the figure's own hand-written loop (`train_wgan`), not as a
  `wgan_jax.GAN`, so there is no fused GAN step to compile."""
  return []


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  scale = scale or ("full" if full else "default")
  cfg = SCALES[scale]
  profiles, weights, initial, losses = {}, {}, {}, {}
  for i, m in enumerate(METHODS):
    d0, d, prof, loss = train_wgan(m, jax.random.fold_in(jax.random.key(seed), i), **cfg)
    profiles[m], weights[m], initial[m], losses[m] = prof, kernels(d), kernels(d0), loss
  norms = {m: profiles[m][-1] for m in METHODS}  # log10, trained
  stats = {m: profile_stats(norms[m]) for m in METHODS}
  at_c = {m: share_at_bounds(weights[m], float(m.split()[1])) for m in METHODS[:3]}
  # What the first clipping of the initial weights alone puts there (training not needed).
  at_c_init = {m: share_at_bounds(np.clip(initial[m], -float(m.split()[1]), float(m.split()[1])),
                                  float(m.split()[1])) for m in METHODS[:3]}
  gp_w, gp_w0 = weights["gradient penalty"], initial["gradient penalty"]
  checks = profile_checks(norms)
  checks.update(weight_checks(weights["clip 0.01"], 0.01, gp_w))

  layers = np.arange(1, DEPTH + 2)  # Dense layer index, 1 = first (input side)
  fig, (a, b, c) = _common.subplots(1, 3, figsize=(15, 4.2))
  for j, m in enumerate(METHODS):
    colour = f"C{j}"
    for p in profiles[m][1:-1]:
      a.plot(layers, p, "-", color=colour, alpha=0.25, lw=0.8)
    a.plot(layers, norms[m], "o-", color=colour, label=f"{m} ({stats[m]['slope_back']:+.2f}"
               " dec/layer)")
  a.set_xlabel("discriminator layer")
  a.set_ylabel("log10 ‖∂L/∂h_l‖")
  a.set_xticks([13, 10, 7, 4, 1])
  a.invert_xaxis()
  a.legend(fontsize=7)
  a.set_title(f"12-layer WGAN on the swiss roll, width {cfg['width']}, "
              f"{cfg['iters']} G iterations\n(faint: earlier in training)", fontsize=9)
  b.hist(weights["clip 0.01"], bins=41, range=(-0.0205, 0.0205))  # ±c mid-bin
  b.set_title(f"weight clipping c = 0.01: {100 * at_c['clip 0.01']:.0f}% within 10% of ±c\n"
              f"(first clip of the init alone: {100 * at_c_init['clip 0.01']:.0f}%)", fontsize=9)
  b.set_xlabel("weights")
  edges = np.linspace(min(gp_w.min(), gp_w0.min()), max(gp_w.max(), gp_w0.max()), 61)
  c.hist(gp_w, bins=edges, alpha=0.7, label="trained")
  c.hist(gp_w0, bins=edges, histtype="step", color="grey", label="initial (He-uniform)")
  c.legend(fontsize=7)
  c.set_title("gradient penalty (λ = 10), trained weights", fontsize=9)
  c.set_xlabel("weights")
  numbers = dict(
      layers=layers, log10_norms=norms, log10_profiles_during_training=profiles,
      log10_slope_per_layer_backwards={m: stats[m]["slope_back"] for m in METHODS},
      profile_stats=stats, clip_share_at_c=at_c, clip_share_at_c_first_clip_of_init=at_c_init,
      clip_fraction_at_c=at_c["clip 0.01"],
      penalised_weights=dict(initial_std=float(np.std(gp_w0)), trained_std=float(np.std(gp_w)),
                             mean_abs_change=float(np.mean(np.abs(gp_w - gp_w0)))),
      histograms={m: np.histogram(w, bins=60) for m, w in weights.items()},
      final_critic_loss={m: float(np.mean(losses[m][-max(len(losses[m]) // 10, 1):]))
                         for m in METHODS},
      gp_weight=GP_WEIGHT, **cfg)
  summary = ("log10 norm change per layer going back (total input vs output): " +
             ", ".join(f"{m} {stats[m]['slope_back']:+.2f} ({stats[m]['decades_back']:+.1f})"
                       for m in METHODS) +
             "; GP max/min over layers "
             f"{10 ** stats['gradient penalty']['log10_max_over_min']:.1f}; "
             f"{100 * at_c['clip 0.01']:.0f}% of c = 0.01 weights at ±c "
             f"({100 * at_c_init['clip 0.01']:.0f}% after the first clip of the init); "
             f"penalised weights moved by mean |Δw| {np.mean(np.abs(gp_w - gp_w0)):.3f} "
             f"(initial std {np.std(gp_w0):.3f})")
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
