"""experiments/figures/vanishing_gradients.py (Arjovsky & Bottou Figs 1–3 on Fashion-MNIST):
the checks on constructed curves (each fails when its phenomenon is absent), the two gradient
norms against the library's own generator gradients, the fresh-discriminator probe on a frozen
generator whose support is disjoint from the data, the epoch snapshots of the pretraining, and
the paper's sizes at scale "full"."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import wgan_jax as wj
from experiments import common
from experiments.figures import runner
from experiments.figures import vanishing_gradients as vg
from wgan_jax.models import MLPCritic, MLPGenerator

N = 200  # log points of a constructed curve


def _logs(original=(0.0, -3.0), logd=(0.0, 1.0), spread=(0.05, 0.3), error=1e-3,
          accuracy=1.0):
  """Constructed probe logs: log-linear gradient curves between the given decades, a
  spread of log10 ‖∇ −log D‖ growing from spread[0] to spread[1] (s.d. over 16 batches)."""
  base = np.random.default_rng(0).standard_normal(16)
  base = (base - base.mean()) / base.std(ddof=1)  # unit s.d.
  s = np.linspace(*spread, 6)
  return dict(
      grad_original=10 ** np.linspace(*original, N), grad_logd=10 ** np.linspace(*logd, N),
      d_loss=np.geomspace(1.4, error, N), d_accuracy=np.minimum(np.linspace(0.5, 1.2, N), accuracy),
      spread_logd=s[:, None] * base[None, :], spread_original=0.1 * base[None, :].repeat(6, 0))


def _judge(**by_epochs):
  stats = {e: vg.summarise(_logs()) for e in vg.EPOCHS}
  for e, kw in by_epochs.items():
    stats[int(e[1:])] = vg.summarise(_logs(**kw))
  return list(vg.judge_stats(stats).values())


def test_checks_pass_on_the_papers_curves():
  assert _judge() == [True] * 5


@pytest.mark.parametrize("kw, failing", [
    (dict(original=(0.0, 1.0)), 2),              # the original-cost gradient rises
    (dict(original=(0.0, 3.0)), 2),              # ... by orders of magnitude
    (dict(original=(0.0, -1.5)), 2),             # falls, but less than 2 decades
    (dict(logd=(0.0, 0.1)), 3),                  # −log D gradient flat
    (dict(logd=(0.0, -2.0)), 3),                 # −log D gradient falls (both falling)
    (dict(spread=(0.2, 0.3)), 4),                # spread grows less than ×2
    (dict(error=0.1), 0),                        # D's error does not reach ~0
    (dict(accuracy=0.9), 1),                     # D's accuracy does not reach 1
])
def test_each_check_fails_when_its_phenomenon_is_absent(kw, failing):
  """One generator (the 25-epoch one) without the phenomenon fails exactly that check."""
  got = _judge(e25=kw)
  assert got == [i != failing for i in range(5)], got


def test_a_curve_that_rises_then_falls_back_is_no_fall():
  """Up 2 decades, then down 2.5 (below its start only by ~0.4 at the end): no 2-decade fall,
  however deep the fall from the peak."""
  up_down = 10 ** np.concatenate([np.linspace(0, 2, N // 2), np.linspace(2, -0.5, N // 2)])
  logs = dict(_logs(), grad_original=up_down)
  assert vg.log10_change(up_down) == pytest.approx(np.mean(np.log10(up_down[-10:])), rel=1e-9)
  assert vg.summarise(logs)["log10_fall_from_peak_original"] < -2
  checks = list(vg.judge_stats({e: vg.summarise(logs) for e in vg.EPOCHS}).values())
  assert checks == [True, True, False, True, True]
  assert vg.judge_stats({}) and not any(vg.judge_stats({}).values())  # no generators: none


def test_log10_change_uses_first_point_and_the_tail_geometric_mean():
  c = 10 ** np.linspace(0, -4, 100)
  assert vg.log10_change(c) == pytest.approx(np.mean(np.linspace(0, -4, 100)[-5:]), rel=1e-9)
  assert vg.log10_change(c[::-1]) == pytest.approx(4 - 4 / 99 * 2, rel=1e-6)


def test_sizes_and_schedule():
  full = vg.FIGURE.config("full")
  assert (full["images"], full["dim"], full["d_steps"], full["log_every"]) == (60000, 64, 4000, 10)
  assert vg.epoch_iterations(60000) == 938 and vg.epoch_iterations(4096) == 64
  assert vg.spread_steps(4000, 10).tolist() == [10, 20, 50, 100, 200, 500, 1000, 2000, 4000]
  assert vg.spread_steps(40, 10).tolist() == [10, 20, 40]
  with pytest.raises(ValueError, match="scale"):
    vg.FIGURE.config("huge")
  # dcgan.torch's batch and XLA's own optimisation but at the tiny scale (a smoke test whose
  # compiles take its time)
  for scale in ("default", "full"):
    assert vg.FIGURE.config(scale)["batch"] == vg.BATCH == 64
    assert not vg.FIGURE.config(scale).get("fast_compile")
  tiny = vg.FIGURE.config("tiny")
  assert tiny["fast_compile"] and vg.epoch_iterations(tiny["images"], tiny["batch"]) == 2


def _numbers(**by_epochs):
  """Stored numbers of the three probes (no noise) with the paper's curves, those of
  `by_epochs` (e.g. e25=dict(...)) changed as in `_judge`, as `measure` returns them."""
  logs = {e: _logs(**by_epochs.get(f"e{e}", {})) for e in vg.EPOCHS}
  levels = np.zeros((4, 8, 8, 1), np.uint8)   # small images: as_stored is quick
  return runner.as_stored(dict(
      setup=dict(scale="default", subset_images=4096, batch=64, models="DCGAN dim 16 (G and D with "
                 "BatchNorm)", discriminator_steps=N * 10),
      discriminator_steps=np.arange(1, N + 1) * 10, spread_steps=[10, 20, 50, 100, 200, N * 10],
      logs={vg.label(0.0, e): lg for e, lg in logs.items()},
      stats={vg.label(0.0, e): vg.summarise(lg) for e, lg in logs.items()},
      extension_instance_noise={}, samples={f"{e} epochs": levels for e in vg.EPOCHS},
      real=levels))


def test_judge_reads_the_stored_stats_as_judge_stats_reads_them():
  for kw in ({}, dict(e25=dict(original=(0.0, -1.5))), dict(e1=dict(accuracy=0.9))):
    stats = {e: vg.summarise(_logs(**kw.get(f"e{e}", {}))) for e in vg.EPOCHS}
    assert vg.judge(_numbers(**kw)) == vg.judge_stats(stats)
  n = _numbers()
  n["stats"][vg.label(0.0, 10)]["final_error"] = None   # a diverged probe (non-finite)
  assert list(vg.judge(n).values()) == [False, True, True, True, True]
  del n["stats"][vg.label(0.0, 25)]                     # a probe missing: no check passes
  assert not any(vg.judge(n).values())


def test_summary_and_plot_read_the_stored_numbers():
  n = _numbers(e25=dict(original=(0.0, -1.5)))
  s = vg.summary(n)
  assert s.startswith("default: DCGAN dim 16, epoch = 64 it. over 4096 images, 2000 D steps. "
                      "log10 change of ‖∇ original‖ (1/10/25 ep.): -2.9 / -2.9 / -1.5 (paper")
  assert s.endswith("instance noise σ 0.3: ‖∇ original‖ not run at this scale")
  fig = vg.plot(n)
  assert len(fig.axes) == 12
  common.matplotlib_pyplot().close(fig)
  del n["samples"]   # a run stored before the samples were: no plot (rebuild keeps its PNG)
  with pytest.raises(KeyError):
    vg.plot(n)


def test_grey_levels_store_images_in_8_bits():
  x = np.array([-1.0, -0.5, 0.0, 1.0, 1.5])
  levels = vg.grey_levels(x)
  assert levels.dtype == np.uint8 and levels.tolist() == [0, 64, 128, 255, 255]
  np.testing.assert_allclose(levels / 127.5 - 1, np.clip(x, -1, 1), atol=1 / 255)


def _toy(objective, lr_d=2e-4, depth=3):
  """An MLP GAN, BatchNorm in G (so its model_state matters), on (3, 3) + N(0, 0.05²): a
  frozen generator at its initialisation lies far from it. (No BatchNorm in D: on separate
  real and fake batches it would normalise the offset away.)"""
  cfg = wj.make_config(objective, batch_size=64, latent_dim=4, lr_d=lr_d)
  sample = lambda data, k: jnp.array([3.0, 3.0]) + 0.05 * jax.random.normal(k, (2,))
  return wj.GAN(MLPGenerator(width=32, depth=depth, norm="batch"),
                MLPCritic(width=32, depth=depth), cfg, sample)


def test_gradient_norms_match_the_librarys_generator_gradients():
  g_orig, g_ns = _toy("gan", depth=1), _toy("nsgan", depth=1)
  state = jax.jit(g_orig.init)(jax.random.key(0))
  # a sharper D than at its initialisation (logits far from 0), so the two costs differ
  state = state.replace(critic=state.critic.replace(
      params=jax.tree.map(lambda w: 3.0 * w, state.critic.params)))
  key = jax.random.key(2)

  @jax.jit
  def both(state):
    z = g_ns._generator_inputs(state, key)[0]
    lib = [optax.tree.norm(gan.generator_grads(state, key)[1]) for gan in (g_orig, g_ns)]
    return (vg.generator_cost_grad_norms(g_orig, g_ns, state, z), lib,
            vg.generator_cost_grad_norms(g_orig, g_ns, state, z, jax.random.key(3), 0.5))

  got, want, noisy = jax.device_get(both(state))
  np.testing.assert_allclose(got, want, rtol=1e-5)
  assert abs(got[0] - got[1]) > 0.1 * got[1]  # two different costs
  assert abs(noisy[0] - got[0]) > 1e-3 * got[0]  # the noise reaches the gradient


@pytest.mark.slow
def test_probe_shows_the_vanishing_gradient_against_a_disjoint_frozen_generator():
  """A fresh D against a frozen G far from the data: D's error falls toward 0, its accuracy
  reaches 1, ‖∇ original‖ falls by more than a decade and ‖∇ −log D‖ by a decade less."""
  g_orig, g_ns = _toy("gan", lr_d=1e-2), _toy("nsgan", lr_d=1e-2)
  pretrained = g_orig.init(jax.random.key(0))
  logs = vg.probe(g_orig, g_ns, pretrained, jax.random.key(1), None, d_steps=300, log_every=10,
                  spread_at=[10, 300], spread_batches=4)
  assert logs["d_loss"].shape == (30,) and logs["spread_logd"].shape == (2, 4)
  assert np.isfinite(logs["spread_logd"]).all()
  assert logs["d_accuracy"][-1] >= 0.99 and logs["d_loss"][-1] < 0.05 * logs["d_loss"][0], logs
  assert vg.log10_change(logs["grad_original"]) < -1.0
  assert vg.log10_change(logs["grad_logd"]) > vg.log10_change(logs["grad_original"]) + 1.0
  # compiled at XLA's lowest optimisation level (the tiny scale's probe): the same computation
  fast = vg.probe(g_orig, g_ns, pretrained, jax.random.key(1), None, d_steps=300, log_every=10,
                  spread_at=[10, 300], spread_batches=4, compiler_options=vg.FAST_COMPILE)
  for k, v in logs.items():
    np.testing.assert_allclose(fast[k], v, rtol=1e-3, err_msg=k)


@pytest.mark.slow
def test_pretraining_snapshots_after_1_10_25_epochs():
  gan = _toy("nsgan")
  snaps = vg.pretrain(gan, None, jax.random.key(0), epoch_iters=2)
  assert sorted(snaps) == list(vg.EPOCHS)
  assert [int(snaps[e].step) for e in vg.EPOCHS] == [2, 20, 50]
  a, b = snaps[1].generator.params, snaps[25].generator.params
  assert any(not np.allclose(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
