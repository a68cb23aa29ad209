"""What each tiny figure's numbers must satisfy, whatever the run's quality (used by
tests/test_figures.py and by the figures' own tiny-run tests, so each figure runs once)."""

import math

import numpy as np

from experiments.figures import mode_collapse
from experiments.figures.optimal_critic import FAKE, REAL


# What each tiny figure's numbers must satisfy whatever the run's quality: identities of the
# quantities it reports, bounds its method implies (a clipped critic's Lipschitz constant, a
# cross-entropy's sign), and what the little training there is already shows (a fresh
# discriminator separates real from fake). Each function fails on a concrete bug in its figure.
TINY_MLP_WIDTH = 16  # the tiny scale's width in optimal_critic and loss_tracks_quality


def _clipped_lipschitz(c, sizes):
  """A bound on the Lipschitz constant (ℓ2) of a ReLU MLP whose every weight is in [-c, c]:
  ∏ ‖W‖₂ ≤ ∏ ‖W‖_F ≤ ∏ c·√(m·n) over its Dense layers (sizes = widths, input first)."""
  return float(np.prod([c * math.sqrt(m * n) for m, n in zip(sizes[:-1], sizes[1:])]))


def _numbers_parallel_lines(n):
  theta = np.asarray(n["theta"])
  np.testing.assert_array_equal(n["closed_form"]["w"], np.abs(theta))
  w, js = np.asarray(n["w_estimate"]), np.asarray(n["js_estimate"])
  assert w.shape == js.shape == theta.shape and np.isfinite(w).all() and np.isfinite(js).all()
  # θ = 0: P_θ = P_0, so any critic's E f(real) − E f(fake) is 0 up to sampling noise (4096
  # samples; measured 0.004), and the discriminator's bound is at most log 2 (L_D ≥ 0).
  assert abs(w[theta == 0][0]) < 0.05 and abs(js[theta == 0][0]) < 0.05
  assert np.all(js <= math.log(2) + 1e-6)


def _numbers_optimal_critic(n):
  x, d, f = (np.asarray(n[k]) for k in ("x", "discriminator", "critic"))
  assert np.all((d > 0) & (d < 1))
  # the trained discriminator separates the modes: real (x = −2) high, fake (x = +2) low
  # (measured 0.90 / 0.28 after 50 steps)
  assert d[np.argmin(abs(x - REAL))] > 0.6 and d[np.argmin(abs(x - FAKE))] < 0.4
  # the clipped critic (c = 0.01, 1 → 16 → 16 → 16 → 1) is L-Lipschitz with the bound below
  # (4e-5; measured |f'| ≤ 4e-7): no clipping and it is of order 1
  lip = _clipped_lipschitz(0.01, [1] + [TINY_MLP_WIDTH] * 3 + [1])
  assert np.max(n["critic_grad"]) <= lip and np.ptp(f) <= lip * np.ptp(x)
  assert f[np.argmin(abs(x - REAL))] > f[np.argmin(abs(x - FAKE))]  # it prefers the real mode


def _numbers_vanishing_gradients(n):
  firsts = set()
  for key, lg in n["logs"].items():
    loss, acc = np.asarray(lg["d_loss"]), np.asarray(lg["d_accuracy"])
    assert np.all(loss > 0) and np.all((acc >= 0) & (acc <= 1)), key
    # the fresh discriminator learns against the frozen generator: its cross-entropy falls and
    # it separates real from fake (measured over 40 steps: 1.09–1.17 → 0.27–0.47, accuracy
    # 0.69–0.84 → ≥ 0.999)
    assert loss[-1] < 0.7 * loss[0] and acc[-1] > 0.9 and acc[-1] >= acc[0], (key, loss, acc)
    assert np.all(np.asarray(lg["grad_original"]) > 0) and np.all(np.asarray(lg["grad_logd"]) > 0)
    firsts.add(round(float(lg["grad_original"][0]), 6))
  assert len(firsts) == len(n["logs"])  # each pretraining length / noise is its own probe


def _numbers_value_surfaces(n):
  k = n["grid"] if np.ndim(n["grid"]) == 0 else len(n["grid"])  # points per side
  diameter = math.sqrt(2) * 6  # the surfaces are drawn on [-3, 3]²
  lip = _clipped_lipschitz(n["clip"], [2] + [n["width"]] * 3 + [1])
  for name in ("8gaussians", "25gaussians", "swissroll"):
    clip, gp = np.asarray(n[f"{name}/clip"]), np.asarray(n[f"{name}/gp"])
    assert clip.shape == gp.shape == (k, k) and np.isfinite(gp).all()
    # weight clipping bounds the surface's range and gradient (measured: range 1e-6, bound
    # 5e-4); unclipped it is of order 1, as the penalised critic's is
    assert np.ptp(clip) <= lip * diameter, name
    assert np.ptp(gp) > 100 * np.ptp(clip), name
    rc, rg = n["reports"][f"{name}/clip"], n["reports"][f"{name}/gp"]
    assert rc["max_grad_norm"] <= lip and rc["w1"] == rg["w1"] > 0
    # duality: E_r f − E_g f ≤ Lip(f)·W1 for the clipped critic, exactly
    assert rc["objective"] <= lip * rc["w1"] + 1e-9
    for r in (rc, rg):
      np.testing.assert_allclose(r["objective_over_w1"], r["objective"] / r["w1"], rtol=1e-6)
      np.testing.assert_allclose(r["normalised_objective"], r["objective"] / r["max_grad_norm"],
                                 rtol=1e-6)
    for m in ("clip", "gp"):
      t = n["trajectories"][f"{name}/{m}"]
      # the value at initialisation, then one per evaluation
      assert len(t["objective"]) == len(t["normalised_objective"]) == n["evals"] + 1


def _numbers_gradient_norms(n):
  norms = {m: np.asarray(v) for m, v in n["log10_norms"].items()}
  width, batch = n["width"], n["batch"]
  sizes = [2] + [width] * 12 + [1]
  for m, v in norms.items():
    assert v.shape == (13,) and np.isfinite(v).all(), m
    # ∂L/∂(the value) is ±1/batch on each of the 2·batch examples: norm √(2/batch), exactly
    np.testing.assert_allclose(v[-1], math.log10(math.sqrt(2 / batch)), atol=1e-5)
    if m.startswith("clip"):
      c = float(m.split()[1])
      # one layer back multiplies the norm by at most ‖W‖₂ ≤ c·√(m·n) (every weight in ±c)
      step_up = v[:-1] - v[1:]  # log10 change going back one layer
      bound = np.log10([c * math.sqrt(a * b) for a, b in zip(sizes[1:-1], sizes[2:])])
      assert np.all(step_up <= bound + 1e-4), (m, step_up - bound)
  # the penalised critic's loss is −Ŵ + λ·E(‖∇f‖ − 1)², and its He-uniform start has
  # ‖∇f‖ ≈ 2 (λ·1.35 ≈ 13): after a few steps the penalty still dominates (measured +4.05);
  # without it the loss is −Ŵ < 0 (measured −1.9 to −2.6)
  assert n["final_critic_loss"]["gradient penalty"] > 1
  slope = n["log10_slope_per_layer_backwards"]
  for c in ("clip 0.1", "clip 0.01", "clip 0.001"):
    assert abs(slope["gradient penalty"]) < abs(slope[c])
  assert slope["clip 0.001"] < slope["clip 0.01"] < 0  # smaller c vanishes faster


def _numbers_mode_collapse(n):
  table = n["table"]
  assert {(r["dataset"], r["method"]) for r in table} == {
      (d, m) for d in ("8gaussians", "25gaussians") for m in mode_collapse.METHODS}
  for r in table:
    per = r["per_seed"]
    assert len(per) == n["seeds"]
    total = 8 if r["dataset"] == "8gaussians" else 25
    modes = np.array([p["modes"] for p in per])
    hq = np.array([p["hq_fraction"] for p in per])
    assert np.all((modes >= 0) & (modes <= total)) and np.all((hq >= 0) & (hq <= 1))
    assert all(p["num_modes"] == total for p in per)
    # the row is the mean ± standard error of its seeds
    np.testing.assert_allclose(r["modes"], [modes.mean(), modes.std(ddof=1) / math.sqrt(len(per))])
    np.testing.assert_allclose(r["hq_percent"],
                               [100 * hq.mean(), 100 * hq.std(ddof=1) / math.sqrt(len(per))])


def _numbers_loss_tracks_quality(n):
  import scipy.stats
  nan = lambda v: np.asarray([np.nan if x is None else x for x in v], float)
  for name, r in n["setups"].items():
    its = np.asarray(r["iterations"])
    raw, filt, at = np.asarray(r["raw"]), nan(r["filtered"]), nan(r["at_evaluations"])
    assert len(raw) == len(filt) == its[-1] and its[0] == 0 and np.all(np.diff(its) > 0)
    # each evaluation after `it` steps reads the filtered loss of iteration it − 1
    np.testing.assert_array_equal(at[1:], filt[its[1:] - 1])
    fd = np.asarray(r["fd"])
    assert fd.shape == its.shape and np.all(fd > 0)
    # the filtered curve exists exactly inside the warm-up-free windows
    inside = np.zeros(len(raw), bool)
    for a, b in r["windows"]:
      inside[a:b] = True
    assert not inside[np.asarray(r["warmup_iterations"], int)].any()
    np.testing.assert_array_equal(np.isfinite(filt), inside)
    for w in r["window_rho"]:  # ρ of the evaluations whose iteration it − 1 is in the window
      a, b = w["window"]
      m = (its - 1 >= a) & (its - 1 < b)
      assert w["points"] == m.sum()
      if w["rho"] is not None:
        np.testing.assert_allclose(w["rho"], scipy.stats.spearmanr(at[m], fd[m]).statistic)
  # GAN: ½L + log 2 with L = −(cross-entropy) ≤ 0, so at most log 2; −log D > 0
  for name in ("gan_mlp_g", "gan_dcgan", "gan_mlp_high_lr"):
    assert np.all(np.asarray(n["setups"][name]["raw"]) <= math.log(2) + 1e-6)
    assert np.all(np.asarray(n["setups"][name]["g_cost_raw"]) > 0)
  # WGAN, MLP critic (784 → 16 → 16 → 16 → 1) clipped at 0.01: E f(real) − E f(fake) is at most
  # Lip · W1(real, fake), and images in [-1, 1]^784 are at most 2·28 apart
  lip = _clipped_lipschitz(0.01, [28 * 28] + [TINY_MLP_WIDTH] * 3 + [1])
  assert np.all(np.abs(n["setups"]["wgan_mlp_high_lr"]["raw"]) <= 56 * lip)


NUMBERS = {n[len("_numbers_"):]: f for n, f in list(globals().items())
           if n.startswith("_numbers_")}
