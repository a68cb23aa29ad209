"""Arjovsky & Bottou Thms 2.5 and 2.6 as computed by experiments/figures/ab_theorems.py: the
quadratures against closed forms, the Thm 2.5 identity to finite-difference precision (and not
with another factor on the JSD), and the Cauchy law of the noisy -log D gradient."""

import math

import jax
import numpy as np
import pytest

from experiments.figures import ab_theorems as ab


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
