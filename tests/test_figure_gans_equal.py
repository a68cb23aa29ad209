"""gans_equal (Lucic et al., "Are GANs Created Equal?", reduced, on Fashion-MNIST): the InfoGAN
pair is the study's, each game is its recipe, the checks can fail, and a tiny run writes its PNG
and JSON."""

import json
import math
import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.figures import gans_equal as ge
from experiments.figures import runner
from wgan_jax.models import InfoGANCritic, InfoGANGenerator


def test_infogan_pair_has_the_studys_layers():
  """InfoGAN App. C.1 at dim 64 / Dense 1024: the parameter shapes, layer by layer."""
  z, x = jnp.ones((2, 62)), jnp.zeros((2, 28, 28, 1))
  g = jax.jit(InfoGANGenerator().init)(jax.random.key(0), z)   # op by op: ~15x slower
  shapes = jax.tree_util.tree_map(lambda a: a.shape, g["params"])
  assert shapes["Dense_0"]["kernel"] == (62, 1024)
  assert shapes["Dense_1"]["kernel"] == (1024, 7 * 7 * 128)
  assert shapes["ConvTranspose_0"]["kernel"] == (4, 4, 128, 64)
  assert shapes["ConvTranspose_1"]["kernel"] == (4, 4, 64, 1)
  assert len(g["batch_stats"]) == 3                     # BN after both Dense and the first deconv
  y = jax.jit(partial(InfoGANGenerator().apply, train=False))(g, z)
  assert y.shape == (2, 28, 28, 1) and float(jnp.abs(y).max()) <= 1.0
  d = jax.eval_shape(InfoGANCritic().init, jax.random.key(0), x)   # shapes only
  shapes = jax.tree_util.tree_map(lambda a: a.shape, d["params"])
  assert shapes["Conv_0"]["kernel"] == (4, 4, 1, 64)
  assert shapes["Conv_1"]["kernel"] == (4, 4, 64, 128)
  assert shapes["Dense_0"]["kernel"] == (7 * 7 * 128, 1024)
  assert shapes["Dense_1"]["kernel"] == (1024, 1)
  assert len(d["batch_stats"]) == 2
  assert jax.eval_shape(InfoGANCritic(norm="none").init, jax.random.key(0), x).keys() == {
      "params"}
  out, _ = jax.eval_shape(partial(InfoGANCritic().apply, mutable=["batch_stats"]), d, x)
  assert out.shape == (2,)


@pytest.mark.parametrize("make, needle", [
    (lambda: InfoGANGenerator(image_shape=(32, 32, 3)), "image_shape"),
    (lambda: InfoGANGenerator(dim=0), "dim"),
    (lambda: InfoGANCritic(hidden=True), "hidden"),
    (lambda: InfoGANCritic(norm="group"), "norm"),
])
def test_infogan_bad_fields_name_the_field(make, needle):
  with pytest.raises(ValueError, match=needle):
    make()


def test_each_game_is_its_recipe():
  s = ge.FIGURE.config("tiny")
  cfg = {m: ge.build(m, s).config for m in ge.METHODS}
  assert [cfg[m].objective_name for m in ge.METHODS] == [
      "gan", "nsgan", "lsgan", "wgan", "wgan-gp", "dragan", "hinge"]
  assert cfg["hinge+sn"].spectral_norm and not any(
      cfg[m].spectral_norm for m in ge.METHODS if m != "hinge+sn")
  assert cfg["wgan"].clip_value == 0.01 and not cfg["wgan"].warmup
  assert cfg["wgan-gp"].gp_weight == 10 and cfg["dragan"].gp_weight == 10
  x = jnp.zeros((2,) + ge.SHAPE)
  for m in ge.METHODS:
    gan = ge.build(m, s)
    assert gan.config.batch_size == ge.BATCH and gan.config.latent_dim == ge.LATENT
    assert "batch_stats" not in gan.critic.init(jax.random.key(0), x, train=False), m


def test_spearman_permutation_is_exact():
  scipy_stats = pytest.importorskip("scipy.stats")
  a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
  assert ge.spearman_permutation(a, a) == pytest.approx((1.0, 1 / 720))
  assert ge.spearman_permutation(a, a[::-1]) == pytest.approx((-1.0, 1.0))
  b = [3.0, 1.0, 2.0, 6.0, 4.0, 5.0]
  rho, p = ge.spearman_permutation(a, b)
  assert rho == pytest.approx(scipy_stats.spearmanr(a, b).statistic)
  assert 0 < p < 1


def _published_like(scale=0.5, se=1.0):
  """Final FDs in the published order (the published FID × `scale`), hinge in the middle."""
  out = {m: (scale * 10 * v, se) for m, (v, _) in ge.PUBLISHED_FID.items()}
  out["hinge+sn"] = (scale * 10 * 26.0, se)
  return out


START = {m: 700.0 for m in ge.METHODS}


def _judge(final, start=700.0):
  """The checks of stored numbers with these final FDs {game: (mean, s.e.)}, every seed
  starting at FD `start`."""
  return ge.judge(runner.as_stored(dict(
      final_fd={m: dict(mean=v, se=e) for m, (v, e) in final.items()},
      runs={m: dict(fd_curve=[[start, 300.0], [start, 310.0]]) for m in final})))


def test_the_studys_outcome_passes_both_checks():
  v = _judge(_published_like())
  assert list(v.values()) == [True, True], v
  assert ge.judge_fds(_published_like(), START)["checks"] == v


def _worse(*methods, by=3.0):
  final = _published_like()
  return dict(final, **{m: (by * final[m][0], 1.0) for m in methods})


@pytest.mark.parametrize("final, failing", [
    (_worse("gan", "lsgan", "dragan"), [0]),              # three games far behind: not "most"
    (_published_like(scale=2.5), [0]),                    # similar, but none trained (FD ≥ 0.6×)
    ("reversed", [1]),                                    # the published order reversed
    (dict(_published_like(), wgan=(math.inf, math.nan)), [1]),  # diverged WGAN sorts last
    (_worse("gan", "lsgan", by=1.2), []),                 # two games 1.2× behind: still similar
])
def test_each_check_fails_without_its_phenomenon(final, failing):
  if final == "reversed":
    final = _published_like()
    vals = sorted(final[m][0] for m in ge.PUBLISHED_FID)
    order = sorted(ge.PUBLISHED_FID, key=lambda m: ge.PUBLISHED_FID[m][0])
    final.update({m: (vals[-1 - i], 1.0) for i, m in enumerate(order)})
  v = _judge(final)
  assert [i for i, ok in enumerate(v.values()) if not ok] == failing, v


def test_representative_is_the_median_seed():
  assert ge.representative([300.0, 250.0, 280.0]) == 2
  assert ge.representative([300.0, None, 250.0, 280.0]) == 3   # diverged sorts last
  assert ge.representative([300.0, 250.0]) == 1


def _stored_numbers():
  final = _published_like()
  runs = {m: dict(iterations=[0, 2, 4], fd_curve=[[700.0, 400.0, v], [700.0, 420.0, v + 10]],
                  fd=[v, v + 10]) for m, (v, _) in final.items()}
  x = np.linspace(-1, 1, 9 * 28 * 28).reshape(9, 28, 28)
  n = runner.as_stored(dict(
      setup=dict(generator_iterations=4, seeds=2, architecture="InfoGAN (dim 4, Dense 16)"),
      final_fd={m: dict(mean=v, se=e) for m, (v, e) in final.items()},
      classifier_score={m: (2.5, 0.1) for m in final}, runs=runs,
      judged=dict(spearman_rho=1.0),
      real_test_images=dict(fashion_frechet_distance=3.3, fashion_classifier_score=7.97)))
  n["samples"] = {m: dict(seed=1, x=ge._common.stored_images(x)) for m in runs}
  return n


def test_summary_markdown_and_plot_read_the_stored_numbers():
  n = _stored_numbers()
  assert ge.summary(n) == (
      "4 generator iterations × 2 seeds. Mean FD (this classifier): MM GAN 148, NS GAN 132, "
      "LSGAN 154, WGAN 108, WGAN-GP 122, DRAGAN 138, hinge + SN 130; Spearman ρ with the "
      "published order 1.00")
  md = ge.markdown(n)
  assert "| NS GAN | 132.5 ± 1.0 | 2.50 ± 0.10 | 26.5 ± 1.6 |" in md
  assert "| hinge + SN | 130.0 ± 1.0 | 2.50 ± 0.10 | — (not in the study) |" in md
  fig = ge.plot(n)
  titles = [ax.get_title() for ax in fig.axes]
  assert "NS GAN, seed 1 (median FD)\nFD 142" in titles
  import matplotlib.pyplot as plt
  plt.close(fig)


@pytest.mark.slow
def test_tiny_run_writes_png_and_json(tmp_path, monkeypatch):
  """End to end on two games (each compiles its own programs)."""
  pytest.importorskip("scipy")
  from wgan_jax.data.idx import FASHION_MNIST_DIR
  if not os.path.exists(FASHION_MNIST_DIR):
    pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
  monkeypatch.setattr(ge, "METHODS", {m: ge.METHODS[m] for m in ("nsgan", "hinge+sn")})
  monkeypatch.setattr(ge, "PUBLISHED_FID", {m: ge.PUBLISHED_FID[m] for m in ("nsgan",)})
  r = runner.run(ge.FIGURE, str(tmp_path), scale="tiny")
  assert (tmp_path / "gans_equal.png").read_bytes()[:4] == b"\x89PNG"
  n = json.loads((tmp_path / "gans_equal.json").read_text())["numbers"]
  assert set(n["runs"]) == {"nsgan", "hinge+sn"}
  for run in n["runs"].values():
    assert run["iterations"] == [0, 2, 4] and len(run["fd"]) == 2
    assert all(np.isfinite(run["fd"])) and len(run["fd_curve"]) == 2
  for m, shown in n["samples"].items():   # the median seed's (of 2: the better one)
    assert shown["seed"] == int(np.argmin(n["runs"][m]["fd"]))
    assert np.asarray(shown["x"]).shape == (ge.PLOTTED, 28, 28)
  assert len(r["checks"]) == 2
  # re-judged from the JSON alone: the same checks
  assert runner.rebuild(ge.FIGURE, str(tmp_path))["checks"] == r["checks"]


def test_inception_numbers_join_the_fashion_figures_quality(tmp_path, capsys):
  """With --inception-weights the Fashion-MNIST figures' `quality` adds the Inception network's
  numbers (issue 28: the figures use it as an evaluator); a missing file is one line before any
  work."""
  from experiments.figures import _common

  class Metrics:
    train_features = np.random.default_rng(0).normal(size=(50, 4))

    def features(self, x):
      f = np.asarray(x, np.float64).reshape(len(x), -1)[:, :4]
      return np.tile(f, (1, 3))[:, :10], f

    def inception(self, x):
      return dict(inception_fid=float(len(x)), inception_score=1.5)

  x = np.random.default_rng(1).uniform(-1, 1, (20, 2, 2, 1))
  q = _common.quality(Metrics(), x)
  assert q["inception_fid"] == 20.0 and q["inception_score"] == 1.5 and np.isfinite(q["fd"])
  with pytest.raises(SystemExit) as e:
    runner.main(ge.FIGURE, "doc", ["--out", str(tmp_path), "--inception-weights",
                                   str(tmp_path / "missing.pth")])
  err = capsys.readouterr().err.strip().splitlines()
  assert e.value.code == 2 and len(err) == 1 and err[0].startswith(
      "error: --inception-weights: "), err
  assert _common.INCEPTION_WEIGHTS == []
