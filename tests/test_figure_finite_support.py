"""Arora et al. §3 as computed by experiments/figures/finite_support.py: the critic's size, the
W1 lower bound against brute force, the critic's read-out on cases with known answers, the tiny
run end to end, and each check failing on constructed numbers without its phenomenon."""

import copy
import json

import jax
import numpy as np
import pytest

from experiments import common
from experiments.figures import finite_support as fs
from experiments.figures import runner


def test_parameters_counts_the_flax_critic():
  for width in (4, 16):
    p = fs.Critic(width).init(jax.random.key(0), np.zeros((1, fs.DIM)))
    assert fs.parameters(width) == sum(x.size for x in jax.tree.leaves(p))


def test_nearest_atom_distance_is_brute_force():
  rng = np.random.default_rng(0)
  atoms, pts = rng.normal(size=(7, fs.DIM)), rng.normal(size=(50, fs.DIM))
  want = np.linalg.norm(pts[:, None] - atoms[None], axis=-1).min(1).mean()
  assert fs.nearest_atom_distance(atoms, pts, chunk=16) == pytest.approx(want, rel=1e-5)


def test_critic_sees_one_atom_and_not_the_data_itself():
  atoms = fs.data(jax.random.key(1), 64)
  run = jax.jit(jax.vmap(lambda k, kk: fs.neural_net_distance(8, atoms, k, kk, 300)))
  d = np.asarray(run(np.asarray([1, 0]), jax.random.split(jax.random.key(2), 2)))
  # one atom: W1 = E‖x - a‖ ≈ √(2·16) = 5.7; a trained critic reads most of it; P_r against
  # P_r reads about 0
  assert d[0] > 3.0 and abs(d[1]) < 0.1, d


def test_tiny_run_writes_png_and_json(tmp_path):
  r = runner.run(fs.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "finite_support.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "finite_support.json").read_text())["numbers"]
  assert n["ks"] == [1, 64, 0] and len(r["checks"]) == 3
  assert np.asarray(n["critics"]["4"]["runs"]).shape == (2, 3)
  assert n["w1_lower_bound"][0] > n["w1_lower_bound"][1] > 0 == n["w1_lower_bound"][2]


def _numbers():
  """Stored numbers with §3's phenomena (the default run's values, rounded)."""
  ks = [1, 4, 16, 64, 256, 1024, 4096, 16384, 0]
  crit = {
      "4": [5.6, 3.6, 1.75, 0.79, 0.41, 0.16, 0.074, 0.018, 0.007],
      "16": [6.4, 5.3, 3.4, 1.5, 0.72, 0.28, 0.106, 0.041, -0.005],
      "64": [7.3, 6.3, 5.0, 3.1, 1.6, 0.62, 0.215, 0.056, 0.0],
  }
  return runner.as_stored(dict(
      ks=ks, critics={w: dict(parameters=fs.parameters(int(w)), mean=m, se=[0.01] * 9,
                              runs=[m] * 3) for w, m in crit.items()},
      w1_lower_bound=[5.85, 5.2, 4.3, 3.6, 3.3, 2.95, 2.67, 2.43, 0.0], dim=16, steps=2000,
      seeds=3))


def test_checks_pass_on_the_phenomena():
  n = _numbers()
  assert [fs.fooled_at(n, w) for w in ("4", "16", "64")] == [4096, 4096, 16384]
  assert list(fs.judge(n).values()) == [True] * 3


def _set_mean(n, width, values):
  n["critics"][width]["mean"] = values
  return n


@pytest.mark.parametrize("change, failing", [
    # the largest critic sees the memorisation: d_F stays at a quarter of its k = 1 value (the
    # third check still holds: it needs more support than any k here, more than the smallest)
    (lambda n: _set_mean(n, "64", [7.3, 6.3, 5.0, 3.1, 2.6, 2.2, 2.0, 1.9, 0.0]), (0, 1)),
    # W1 falls as fast as d_F: the distribution is not short of diversity in W1 either
    (lambda n: n.update(w1_lower_bound=[5.85, 3.0, 1.5, 0.7, 0.35, 0.15, 0.07, 0.02, 0.0]),
     (0, 1)),
    # d_F falls more slowly than k^-0.4 over k ≥ 256 (but still below 2% at the end)
    (lambda n: _set_mean(n, "4", [5.6, 3.6, 1.75, 0.79, 0.3, 0.22, 0.16, 0.1, 0.0]), (1, 2)),
    # the smallest critic is the last to be fooled
    (lambda n: _set_mean(n, "4", [5.6, 3.6, 1.75, 0.79, 0.41, 0.2, 0.12, 0.04, 0.0]), (2,)),
    # a diverged critic
    (lambda n: _set_mean(n, "16", [None] * 9), (0, 1, 2)),
])
def test_each_check_fails_when_its_phenomenon_is_absent(change, failing):
  n = copy.deepcopy(_numbers())
  change(n)
  got = list(fs.judge(n).values())
  assert got == [i not in failing for i in range(3)], got


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers()
  assert fs.summary(n).startswith("k = 1 → 16384: W1 ≥ 5.85 → 2.43; width 4: d_F 5.60 → 0.018 "
                                  "(P_r itself +0.007), fooled from k = 4096")
  fig = fs.plot(n)
  assert len(fig.axes) == 2
  common.matplotlib_pyplot().close(fig)
