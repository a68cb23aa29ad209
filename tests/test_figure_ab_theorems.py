"""Arjovsky & Bottou Thms 2.5 and 2.6 as computed by experiments/figures/ab_theorems.py: the
quadratures against closed forms, the Thm 2.5 identity to finite-difference precision (and not
with another factor on the JSD), the Cauchy law of the noisy -log D gradient, and the checks on
constructed numbers (each fails when its phenomenon is absent). Its tiny run is in
tests/test_figures.py (`fast_results`)."""

import math

import jax
import numpy as np
import pytest

from experiments import common
from experiments.figures import ab_theorems as ab
from experiments.figures import runner


def test_quadratures_match_closed_forms():
  for mu, s in ((0.0, 1.0), (1.5, 0.5), (-2.0, 2.0)):
    assert ab.kl_quad(mu, s) == pytest.approx(ab.kl_closed(mu, s), abs=1e-10)
  assert ab.jsd_quad(0.0, 1.0) == pytest.approx(0.0, abs=1e-12)
  assert ab.jsd_quad(40.0, 1.0) == pytest.approx(math.log(2), abs=1e-9)  # disjoint: log 2
  assert ab.jsd_quad(1.0, 1.0) == pytest.approx(ab.jsd_quad(-1.0, 1.0), abs=1e-12)


def test_theorem_2_5_expected_gradient_is_kl_minus_twice_jsd():
  rows = ab.theorem_2_5(mus=(-1.5, 0.5, 2.0), sigmas=(0.5, 1.0))
  for r in rows:
    assert np.linalg.norm(r["rhs"]) > 0.1
    assert r["rel_error"] < 1e-6, r  # finite differences with h = 1e-4: ~1e-8
    # another factor on the JSD (or none) is far off: the identity is specific
    assert r["rel_error_kl_minus_jsd"] > 0.1 and r["rel_error_kl"] > 0.2, r


def test_theorem_2_6_noisy_minus_log_d_gradient_is_cauchy():
  draws = 4000
  st = ab.theorem_2_6(jax.random.key(3), draws=draws, batches=(1, 64))
  big = st[64]
  # -r/ε with σ_r = σ_ε: a unit centred Cauchy law, whose IQR is 2, whatever the batch size
  assert big["ks_cauchy"] < 2 / math.sqrt(draws)
  assert big["iqr"]["minus_log_d"] == pytest.approx(2.0, rel=0.1)
  assert st[1]["iqr"]["minus_log_d"] == pytest.approx(2.0, rel=0.1)
  assert big["tail_ratio"]["minus_log_d"] > 20  # Cauchy 31.8
  assert big["chain_variance_spread"]["minus_log_d"] > 10
  # the original cost: -r/(1 - ε), normal, its batch mean shrinks as 1/√batch (√64 = 8)
  assert big["tail_ratio"]["original"] == pytest.approx(ab.NORMAL_TAIL_RATIO, rel=0.15)
  assert st[1]["iqr"]["original"] / big["iqr"]["original"] == pytest.approx(8.0, rel=0.15)
  assert big["max_abs"]["original"] < 6 * ab.NOISE_GRAD / math.sqrt(64)


def test_overlapping_supports_are_outside_theorem_2_6():
  # with D* ~ 0.3 on the generated samples the noise barely moves D: no Cauchy tails
  st = ab.theorem_2_6(jax.random.key(4), draws=2000, batches=(64,), mu=ab.NEAR)[64]
  assert st["tail_ratio"]["minus_log_d"] < 5
  assert st["ks_cauchy"] > 0.3


def _numbers(**changes):
  """Stored numbers of a run with both theorems' phenomena (the default run's values,
  rounded); `changes` {"a/b/c": value} replace single numbers (None: a diverged value)."""
  main = dict(ks_cauchy=0.004, ks_normal=0.19, tail_ratio=dict(minus_log_d=31.0, original=3.4),
              chain_variance_spread=dict(minus_log_d=500.0, original=1.2),
              iqr=dict(minus_log_d=2.0, original=0.0016),
              variance_drift=dict(minus_log_d=30.0, original=1.01))
  n = dict(
      theorem_2_5=dict(rows=[{}] * 21, max_rel_error=2e-9,
                       best_rel_error_of_alternatives=dict(kl_minus_jsd=0.25, kl=0.5),
                       curve_mu=np.linspace(-4, 4, 5), curve_rhs=np.arange(5.0),
                       curve_lhs=np.arange(5.0), curve_kl=np.arange(5.0) * 2,
                       curve_kl_minus_jsd=np.arange(5.0) * 1.5),
      theorem_2_6={str(m): dict(main, iqr=dict(minus_log_d=2.0, original=0.0128 / m ** 0.5))
                   for m in ab.BATCHES},
      theorem_2_6_overlapping=dict(main, tail_ratio=dict(minus_log_d=3.4, original=3.4)),
      setting=dict(draws=20000, batches=ab.BATCHES),
      iqr_shrink_batch1_to_512=dict(minus_log_d=1.0, original=22.6),
      histogram=dict(minus_log_d=np.full(ab.HIST_BINS, 0.004), original=np.full(ab.HIST_BINS, 0.004)),
      running_variance=dict(draws=[11, 100, 20000], minus_log_d=[0.1, 0.5, 1.0],
                            original=[0.9, 1.0, 1.0]))
  n["theorem_2_6"][str(ab.MAIN_BATCH)] = main
  n = runner.as_stored(n)
  for path, v in changes.items():
    *head, last = path.split("/")
    d = n
    for k in head:
      d = d[k]
    d[last] = v
  return n


def test_checks_pass_on_the_theorems_phenomena():
  assert list(ab.judge(_numbers()).values()) == [True] * 6


M = f"theorem_2_6/{ab.MAIN_BATCH}"


@pytest.mark.parametrize("changes, failing", [
    ({"theorem_2_5/max_rel_error": 1e-3}, 0),                       # the identity misses
    ({"theorem_2_5/max_rel_error": None}, 0),
    ({"theorem_2_5/best_rel_error_of_alternatives/kl_minus_jsd": 1e-3}, 1),  # factor 1 fits too
    ({f"{M}/ks_cauchy": 0.1}, 2),                                   # not the Cauchy law
    ({f"{M}/ks_normal": 0.01}, 2),                                  # a normal law fits as well
    ({f"{M}/tail_ratio/minus_log_d": 5.0}, 3),                      # no heavy tails
    ({f"{M}/tail_ratio/original": 10.0}, 3),                        # the original cost's heavy
    ({"iqr_shrink_batch1_to_512/minus_log_d": 8.0}, 4),             # averaging helps -log D
    ({"iqr_shrink_batch1_to_512/original": 2.0}, 4),                # ... or not the original
    ({f"{M}/chain_variance_spread/minus_log_d": 2.0}, 5),           # a variance to estimate
    ({f"{M}/chain_variance_spread/original": 5.0}, 5),              # none for the original
])
def test_each_check_fails_when_its_phenomenon_is_absent(changes, failing):
  got = list(ab.judge(_numbers(**changes)).values())
  assert got == [i != failing for i in range(6)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  s = ab.summary(n)
  assert s.startswith("Thm 2.5 max relative error 2.0e-09 over 21 (μ, s) (KL - JSD misses by "
                      "≥ 25%)") and s.endswith("the -log D tail ratio is 3.4")
  fig = ab.plot(n)
  assert len(fig.axes) == 4
  common.matplotlib_pyplot().close(fig)
