"""The FID Inception pieces without torch: the torch-file reader on a zip written here, TF1's
resize on hand-computed examples, the uint8 convention, the metrics against closed forms and
hand values, the one-line errors, and `python -m experiments.evaluate` (its end-to-end run on
random weights is in the slow tier). Equality with torch-fidelity itself:
tests/test_inception_parity.py (slow tier)."""

import io
import json
import math
import os
import pickle
import subprocess
import sys
import types
import zipfile

import numpy as np
import pytest

from wgan_jax import inception, inception_metrics as im, torch_file
from wgan_jax.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- a torch.save zip written without torch ---------------------------------------------------
# Stand-ins pickled under harmless module names, renamed to torch's in the protocol-2 pickle
# (GLOBAL opcodes are "module\nname\n" text lines), as torch.save writes them.

_STUB = "zz_torch_standin"


def _standins():
  if _STUB in sys.modules:
    return sys.modules[_STUB], sys.modules[_STUB + "._utils"]
  top, utils = types.ModuleType(_STUB), types.ModuleType(_STUB + "._utils")
  for name in ("FloatStorage", "DoubleStorage", "LongStorage"):
    cls = type(name, (), {"__module__": _STUB})
    setattr(top, name, cls)

  def _rebuild_tensor_v2(*args):  # never called here: only pickled by name
    raise AssertionError

  _rebuild_tensor_v2.__module__ = _STUB + "._utils"
  _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
  utils._rebuild_tensor_v2 = _rebuild_tensor_v2
  sys.modules[_STUB], sys.modules[_STUB + "._utils"] = top, utils
  return top, utils


class _Tensor:
  """A tensor as torch pickles it: a view (offset, size, stride) of storage `key`."""

  def __init__(self, key, offset, size, stride):
    self.args = (key, offset, size, stride)


def write_torch_zip(path, tensors, storages):
  """`tensors`: {name: _Tensor}; `storages`: {key: 1-D array}. Writes torch's zip format."""
  top, utils = _standins()
  kinds = {np.dtype("float32"): top.FloatStorage, np.dtype("float64"): top.DoubleStorage,
           np.dtype("int64"): top.LongStorage}

  class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
      if isinstance(obj, tuple) and obj and obj[0] == "__storage__":
        key = obj[1]
        return ("storage", kinds[storages[key].dtype], key, "cpu", storages[key].size)
      return None

    def reducer_override(self, obj):
      if isinstance(obj, _Tensor):
        key, offset, size, stride = obj.args
        import collections
        return utils._rebuild_tensor_v2, (("__storage__", key), offset, tuple(size),
                                          tuple(stride), False, collections.OrderedDict())
      return NotImplemented

  import collections
  buf = io.BytesIO()
  _Pickler(buf, protocol=2).dump(collections.OrderedDict(tensors))
  data = buf.getvalue().replace(f"{_STUB}._utils\n".encode(), b"torch._utils\n")
  data = data.replace(f"{_STUB}\n".encode(), b"torch\n")
  with zipfile.ZipFile(path, "w") as z:
    z.writestr("archive/data.pkl", data)
    z.writestr("archive/byteorder", "little")
    z.writestr("archive/version", "3\n")
    for key, array in storages.items():
      z.writestr(f"archive/data/{key}", np.ascontiguousarray(array).astype(
          array.dtype.newbyteorder("<")).tobytes())


def test_torch_zip_reader_rebuilds_views_offsets_and_dtypes(tmp_path):
  base = np.arange(24, dtype=np.float32) * 0.5
  storages = {"0": base, "1": np.array([3, -4, 5], np.int64), "2": np.array([2.5], np.float64)}
  tensors = {
      "plain": _Tensor("0", 0, (2, 3, 4), (12, 4, 1)),
      "transposed": _Tensor("0", 0, (4, 6), (1, 4)),  # a .T view of a [6, 4] tensor
      "offset": _Tensor("0", 5, (3,), (2,)),
      "long": _Tensor("1", 0, (3,), (1,)),
      "scalar": _Tensor("2", 0, (), ()),
  }
  path = str(tmp_path / "sd.pth")
  write_torch_zip(path, tensors, storages)
  sd = torch_file.load(path)
  assert list(sd) == list(tensors)
  np.testing.assert_array_equal(sd["plain"], base.reshape(2, 3, 4))
  np.testing.assert_array_equal(sd["transposed"], base.reshape(6, 4).T)
  np.testing.assert_array_equal(sd["offset"], base[5:11:2])
  assert sd["long"].dtype == np.int64 and sd["long"].tolist() == [3, -4, 5]
  assert sd["scalar"].shape == () and sd["scalar"].dtype == np.float64 and sd["scalar"] == 2.5


def test_torch_reader_refuses_code_and_damage(tmp_path):
  evil = tmp_path / "evil.pth"
  with zipfile.ZipFile(evil, "w") as z:
    z.writestr("archive/data.pkl", b"cos\nsystem\n(S'true'\ntR.")
  with pytest.raises(torch_file.TorchFileError, match="os.system.*refused"):
    torch_file.load(str(evil))
  text = tmp_path / "notes.pth"
  text.write_text("not a model")
  with pytest.raises(torch_file.TorchFileError, match="neither a zip"):
    torch_file.load(str(text))
  short = tmp_path / "short.pth"
  write_torch_zip(str(short), {"w": _Tensor("0", 0, (10,), (1,))},
                  {"0": np.zeros(4, np.float32)})
  with pytest.raises(torch_file.TorchFileError, match="reaches past"):
    torch_file.load(str(short))


# --- weights files: one-line errors -----------------------------------------------------------

def _one_line(e):
  return "\n" not in str(e)


def test_missing_and_wrong_weights_files_are_one_line_errors(tmp_path):
  missing = str(tmp_path / "pt_inception-2015-12-05-6726825d.pth")
  with pytest.raises(ConfigError) as e:
    inception.load_weights(missing)
  assert e.value.field == "inception_weights" and missing in str(e.value)
  assert "pytorch-fid" in str(e.value) and "torch-fidelity" in str(e.value) and _one_line(e.value)
  text = tmp_path / "weights.pth"
  text.write_text("hello")
  with pytest.raises(ConfigError, match="not a torch state dict") as e:
    inception.load_weights(str(text), cache=False)
  assert str(text) in str(e.value) and _one_line(e.value)
  other = str(tmp_path / "resnet.pth")  # a real torch file, other weights
  write_torch_zip(other, {"conv1.weight": _Tensor("0", 0, (2, 2), (2, 1))},
                  {"0": np.zeros(4, np.float32)})
  with pytest.raises(ConfigError, match="is not the FID Inception weights") as e:
    inception.load_weights(other, cache=False)
  assert other in str(e.value) and _one_line(e.value)


# --- input convention and resize --------------------------------------------------------------

def test_uint8_convention_round_trips_levels_and_tiles_grey():
  levels = np.arange(256)
  assert np.array_equal(inception.to_uint8(levels / 127.5 - 1.0), levels)
  assert inception.to_uint8(np.array([-1.0, 0.0, 1.0, -1.5, 2.0])).tolist() == [0, 128, 255, 0, 255]
  grey = np.arange(4, dtype=np.uint8).reshape(1, 2, 2, 1)
  rgb = inception.as_rgb_uint8(grey)
  assert rgb.shape == (1, 2, 2, 3) and (rgb == grey).all()
  with pytest.raises(ConfigError, match=r"images: float images must lie in \[-1, 1\]"):
    inception.as_rgb_uint8(np.full((1, 2, 2), 3.0))


def test_tf1_resize_on_hand_computed_examples():
  import jax.numpy as jnp
  # 2 → 3: source coordinates i·2/3 = 0, 0.667, 1.333; lo 0, 0, 1; hi 1, 1, 1 (clamped)
  x = jnp.array([[0.0, 30.0], [60.0, 90.0]])[None, :, :, None]
  out = np.asarray(inception.resize_tf1(x, (3, 3)))[0, :, :, 0]
  np.testing.assert_allclose(out, [[0, 20, 30], [40, 60, 70], [60, 80, 90]], rtol=1e-6)
  # 2 → 4: TF1 (no half-pixel) repeats the last pixel; half-pixel centres do not
  row = jnp.array([[[0.0], [10.0]]])[None][:, 0][:, None]  # [1, 1, 2, 1]
  tf1 = np.asarray(inception.resize_tf1(row, (1, 4)))[0, 0, :, 0]
  half = np.asarray(inception.resize_tf1(row, (1, 4), half_pixel=True))[0, 0, :, 0]
  np.testing.assert_allclose(tf1, [0, 5, 10, 10])
  np.testing.assert_allclose(half, [0, 2.5, 7.5, 10])
  # the scale is rounded to float32 as in torch-fidelity: 28 → 299 indices
  lo, hi, w = inception.resize_grid(28, 299, np.float32)
  s = np.arange(299, dtype=np.float32) * np.float32(28 / 299)
  assert np.array_equal(lo, np.floor(s).astype(int)) and hi.max() == 27
  assert w.dtype == np.float32 and (0 <= w).all() and (w < 1).all()


# --- metrics against closed forms and hand values --------------------------------------------

@pytest.mark.parametrize("method", ["eigvals", "sqrtm"])
def test_fid_identical_zero_and_gaussians_closed_form(method):
  rng = np.random.default_rng(0)
  a = rng.normal(size=(6, 6))
  sigma = a @ a.T + 0.1 * np.eye(6)
  mu = rng.normal(size=6)
  assert abs(im.frechet_distance(mu, sigma, mu, sigma, method=method)) < 1e-9
  # Σ₂ = cΣ₁: (Σ₁Σ₂)^{1/2} = √c Σ₁, so FID = ‖Δμ‖² + (1 − √c)² Tr Σ₁
  c, mu2 = 4.0, mu + 1.5
  want = 6 * 1.5 ** 2 + (1 - math.sqrt(c)) ** 2 * np.trace(sigma)
  assert im.frechet_distance(mu, sigma, mu2, c * sigma, method=method) == pytest.approx(want,
                                                                                         rel=1e-9)
  # diagonal covariances: Σ_i (√σ₁ᵢ − √σ₂ᵢ)²
  d1, d2 = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
  want = np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
  assert im.frechet_distance(mu, np.diag(d1), mu, np.diag(d2), method=method) == pytest.approx(
      want, rel=1e-9)


def test_fid_ill_conditioned_rank_deficient_statistics_stay_finite():
  rng = np.random.default_rng(1)
  f1, f2 = rng.normal(size=(5, 40)), rng.normal(size=(5, 40)) + 0.3  # rank 4 in 40 dimensions
  s1, s2 = im.statistics(f1), im.statistics(f2)
  by_eig = im.frechet_distance(*s1, *s2, method="eigvals")
  by_sqrtm = im.frechet_distance(*s1, *s2, method="sqrtm")
  assert np.isfinite(by_eig) and by_eig > 0 and by_sqrtm == pytest.approx(by_eig, rel=1e-4)


def test_streamed_statistics_equal_numpy_and_save_load(tmp_path):
  rng = np.random.default_rng(2)
  f = rng.normal(size=(103, 7)).astype(np.float32) + 1000.0  # a large mean: the shift matters
  acc = im.FeatureStatistics()
  for i in range(0, len(f), 10):
    acc.update(f[i:i + 10])
  mu, sigma = acc.result()
  np.testing.assert_allclose(mu, f.astype(np.float64).mean(0), rtol=1e-13)
  np.testing.assert_allclose(sigma, np.cov(f.astype(np.float64), rowvar=False), rtol=1e-9,
                             atol=1e-12)
  path = str(tmp_path / "stats.npz")
  im.save_statistics(path, mu, sigma)
  with np.load(path) as z:
    assert sorted(z.files) == ["mu", "sigma"]
  mu2, sigma2 = im.load_statistics(path)
  assert np.array_equal(mu, mu2) and np.array_equal(sigma, sigma2)
  np.savez(str(tmp_path / "bad.npz"), m=mu)
  with pytest.raises(ConfigError, match="'mu' and 'sigma'") as e:
    im.load_statistics(str(tmp_path / "bad.npz"))
  assert e.value.field == "reference" and _one_line(e.value)


def test_inception_score_hand_values_and_shuffle_convention():
  a = 0.9
  logits = np.log(np.array([[a, 1 - a], [1 - a, a]]))
  kl = a * math.log(2 * a) + (1 - a) * math.log(2 * (1 - a))  # both rows; marginal (½, ½)
  mean, std = im.inception_score(logits, splits=1)
  assert mean == pytest.approx(math.exp(kl), rel=1e-12) and std == 0.0
  same = np.log(np.tile([[0.2, 0.3, 0.5]], (4, 1)))
  assert im.inception_score(same, splits=2) == pytest.approx((1.0, 0.0))
  # shuffle: torch-fidelity permutes rows by RandomState(seed).permutation(N) before splitting
  rng = np.random.default_rng(3)
  x = rng.normal(size=(23, 5)) * 3
  perm = np.random.RandomState(7).permutation(23)
  assert im.inception_score(x, splits=4, seed=7) == im.inception_score(x[perm], splits=4,
                                                                       shuffle=False)
  parts = [x[perm][i * 23 // 4:(i + 1) * 23 // 4] for i in range(4)]
  hand = [im.inception_score(p, splits=1, shuffle=False)[0] for p in parts]
  assert im.inception_score(x, splits=4, seed=7) == pytest.approx((np.mean(hand), np.std(hand)))


def test_kid_hand_value_and_subset_draws():
  rng = np.random.default_rng(4)
  x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) + 0.5
  k = lambda u, v: (u @ v / 3 + 1) ** 3
  m = 4
  hand = (sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
          + sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
          - 2 * sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2)
  mean, std = im.kernel_inception_distance(x, y, subsets=3, subset_size=4)
  assert mean == pytest.approx(hand, rel=1e-12) and std == pytest.approx(0, abs=1e-12)
  # subsets: rng.choice(N₁) then rng.choice(N₂) per subset from RandomState(seed)
  big_x, big_y = rng.normal(size=(9, 3)), rng.normal(size=(8, 3))
  r = np.random.RandomState(5)
  draws = [(r.choice(9, 4, replace=False), r.choice(8, 4, replace=False)) for _ in range(3)]
  vals = [im.kernel_inception_distance(big_x[i], big_y[j], subsets=1, subset_size=4)[0]
          for i, j in draws]
  assert im.kernel_inception_distance(big_x, big_y, subsets=3, subset_size=4, seed=5) == \
      pytest.approx((np.mean(vals), np.std(vals)), rel=1e-12)
  with pytest.raises(ConfigError, match="kid_subset_size"):
    im.kernel_inception_distance(x, y, subset_size=5)


def test_precision_recall_hand_example():
  real = np.array([[0.0], [1.0], [3.0]])  # 1-NN radii 1, 1, 2
  gen = np.array([[0.5], [5.5], [2.9]])   # 1-NN radii 2.4, 2.6, 2.4
  # precision: 0.5 (in 0's ball), 5.5 (2.5 from 3 > 2: out), 2.9 → 2/3; recall: all real in
  assert im.precision_recall(gen, real, k=1) == pytest.approx((2 / 3, 1.0))
  assert im.precision_recall(real, gen, k=1) == pytest.approx((1.0, 2 / 3))
  assert im.precision_recall(gen, real, k=1, chunk=1) == pytest.approx((2 / 3, 1.0))


# --- the network on random weights: batching, and the command ---------------------------------

@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
  """Random variables saved as a torch zip under torch's names and layouts (no torch)."""
  rng = np.random.default_rng(0)
  flat = {}
  for name, shape in inception.variable_shapes().items():
    if name.endswith("/kernel"):
      fan_in = int(np.prod(shape[:-1]))
      v = rng.normal(size=shape) * np.sqrt(2.0 / fan_in)
    elif name.endswith("/var") or name.endswith("/scale"):
      v = rng.uniform(0.5, 1.5, shape)
    else:
      v = rng.normal(size=shape) * 0.1
    flat[name] = v.astype(np.float32)
  variables = inception.unflatten(flat)
  tensors, storages = {}, {}
  back = {("params", "kernel"): "conv.weight", ("params", "scale"): "bn.weight",
          ("params", "bias"): "bn.bias", ("batch_stats", "mean"): "bn.running_mean",
          ("batch_stats", "var"): "bn.running_var"}
  for i, (name, v) in enumerate(sorted(flat.items())):
    kind, *path, leaf = name.split("/")
    if path == ["fc"]:
      key, v = f"fc.{'weight' if leaf == 'kernel' else 'bias'}", (v.T if v.ndim == 2 else v)
    else:
      key = ".".join(path[:-1] + [back[(kind, leaf)]])
      v = v.transpose(3, 2, 0, 1) if v.ndim == 4 else v
    storages[str(i)] = np.ascontiguousarray(v, np.float32).ravel()
    tensors[key] = _Tensor(str(i), 0, v.shape, tuple(int(np.prod(v.shape[d + 1:]))
                                                      for d in range(v.ndim)))
  folder = tmp_path_factory.mktemp("weights")
  path = str(folder / "weights-inception-2015-12-05-6726825d.pth")
  write_torch_zip(path, tensors, storages)
  return path, variables


def test_weights_round_trip_and_batched_extract(random_weights, tmp_path):
  path, variables = random_weights
  loaded = inception.load_weights(path, cache_dir=str(tmp_path))
  import jax
  assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(variables)
  for a, b in zip(jax.tree_util.tree_leaves(loaded), jax.tree_util.tree_leaves(variables)):
    np.testing.assert_array_equal(a, b)
  assert [f for f in os.listdir(tmp_path) if f.endswith(".npz")]
  images = np.random.default_rng(0).integers(0, 256, (3, 20, 20, 1)).astype(np.uint8)
  feats, logits = inception.extract(loaded, images, batch_size=2)  # 2 + a padded batch of 1
  whole = inception.apply(loaded, np.repeat(images, 3, axis=-1))
  assert feats.shape == (3, 2048) and logits.shape == (3, 1008)
  np.testing.assert_allclose(feats, whole["pool3"], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(logits, whole["logits_unbiased"], rtol=1e-5, atol=1e-6)


def _evaluate(*args):
  return subprocess.run([sys.executable, "-m", "experiments.evaluate", *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=600,
                        env={**os.environ, "JAX_PLATFORMS": "cpu"})


def _evaluate_here(capsys, *args):
  """`experiments.evaluate.main(args)` in this process: (exit code, stdout, stderr)."""
  from experiments import evaluate
  capsys.readouterr()
  with pytest.raises(SystemExit) as e:
    evaluate.main(list(args))
  out, err = capsys.readouterr()
  return e.value.code, out, err


def test_evaluate_command_help_and_one_line_errors(random_weights, tmp_path, capsys):
  path, _ = random_weights
  code, help_text, _ = _evaluate_here(capsys, "--help")
  assert code == 0
  for flag in ("--samples", "--reference", "--inception-weights", "--protocol", "--num-samples",
               "--kid-subsets", "--kid-subset-size", "--isc-splits", "--seed", "--batch-size",
               "--dtype", "--cache-dir", "--save-reference-stats", "--progress", "--out"):
    assert flag in help_text
  rng = np.random.default_rng(1)
  samples = str(tmp_path / "samples.npy")
  np.save(samples, rng.uniform(-1, 1, (10, 12, 12, 1)).astype(np.float32))
  common = ("--samples", samples, "--reference", samples, "--protocol", "quick",
            "--cache-dir", str(tmp_path / "cache"))
  # the real command, in its own process: one line on stderr, no traceback, exit 2
  r = _evaluate(*common, "--inception-weights", str(tmp_path / "none.pth"))
  assert r.returncode == 2 and r.stderr.startswith("error: --inception-weights: "), r.stderr
  assert r.stderr.count("\n") == 1, r.stderr
  # the other refusals through the same main(), in this process (each process start is seconds)
  for args, flag in ((["--inception-weights", path, "--kid-subset-size", "50"],
                      "--kid-subset-size"),
                     (["--inception-weights", path, "--reference", "no-such-set"], "--reference"),
                     (["--inception-weights", path, "--protocol", "nope"], "--protocol")):
    code, _, err = _evaluate_here(capsys, *common, *args)
    assert code == 2 and err.startswith(f"error: {flag}: "), err
    assert err.count("\n") == 1, err


@pytest.mark.slow
def test_evaluate_command_end_to_end(random_weights, tmp_path):
  path, _ = random_weights
  rng = np.random.default_rng(1)
  samples = str(tmp_path / "samples.npy")
  np.save(samples, rng.uniform(-1, 1, (10, 12, 12, 1)).astype(np.float32))
  reference = str(tmp_path / "real.npz")
  np.savez(reference, images=rng.integers(0, 256, (10, 12, 12, 3)).astype(np.uint8))
  out, stats = str(tmp_path / "m.json"), str(tmp_path / "ref_stats.npz")
  r = _evaluate("--samples", samples, "--reference", reference, "--inception-weights", path,
                "--protocol", "quick", "--kid-subset-size", "5", "--batch-size", "10",
                "--cache-dir", str(tmp_path / "cache"), "--save-reference-stats", stats,
                "--out", out)
  assert r.returncode == 0, r.stderr
  m = json.load(open(out))
  for key in ("fid", "is_mean", "is_std", "kid_mean", "kid_std", "precision", "recall"):
    assert isinstance(m[key], float) and math.isfinite(m[key]), key
  assert m["num_samples"] == 10 and m["fid"] > 0 and m["is_mean"] >= 1.0
  # statistics as reference: FID equals the run's, KID and P/R are not available
  r = _evaluate("--samples", samples, "--reference", stats, "--inception-weights", path,
                "--protocol", "quick", "--batch-size", "10", "--cache-dir",
                str(tmp_path / "cache"), "--out", out)
  assert r.returncode == 0, r.stderr
  m2 = json.load(open(out))
  assert m2["fid"] == pytest.approx(m["fid"], rel=1e-9) and m2["kid_mean"] is None


def test_published_protocols_are_the_papers_settings():
  """The presets of `experiments.evaluate` for the published numbers (docs/papers.md §7), and
  the improved-gan script's unshuffled IS reaching the score."""
  from experiments.evaluate import PROTOCOLS
  from wgan_jax import inception_metrics as im
  assert PROTOCOLS["improved-gan-is"]["num_samples"] == 50_000
  assert PROTOCOLS["improved-gan-is"]["isc_shuffle"] is False
  assert PROTOCOLS["lucic-fid"]["num_samples"] == 10_000
  assert PROTOCOLS["lucic-fid"]["fid_method"] == "sqrtm"
  rng = np.random.default_rng(0)
  feats, logits = rng.normal(size=(40, 8)), rng.normal(size=(40, 6)) * 3
  m = im.metrics_from_features(feats, logits, reference_features=feats + 0.1, isc_splits=4,
                               kid_subset_size=10, isc_shuffle=False)
  assert (m["is_mean"], m["is_std"]) == im.inception_score(logits, splits=4, shuffle=False)
  assert (m["is_mean"], m["is_std"]) != im.inception_score(logits, splits=4, shuffle=True)


@pytest.fixture(scope="module")
def images_run(random_weights, tmp_path_factory):
  """A tiny `experiments.images` run on digits, evaluated with the Inception weights and
  checkpointed (one training for the two tests below)."""
  from experiments import images
  path, _ = random_weights
  out = tmp_path_factory.mktemp("images") / "run"
  assert images.main(["--iters", "2", "--iters-per-call", "2", "--eval-every", "2", "--dim", "4",
                      "--latent-dim", "8", "--batch-size", "8", "--num-samples", "12",
                      "--checkpoint-every", "2", "--no-progress", "--inception-weights", path,
                      "--out", str(out)]) == 0
  return out


@pytest.mark.slow
def test_images_job_evaluates_with_the_inception_weights(random_weights, images_run):
  """`python -m experiments.images --inception-weights PATH`: each evaluation holds the Inception
  FID / IS / KID of its samples against the held-out digits, equal to computing them directly."""
  from experiments.builders import load_images
  from experiments.configs import get_config
  from wgan_jax import inception_metrics as im
  path, _ = random_weights
  evals = json.loads((images_run / "metrics.json").read_text())["evaluations"]
  assert evals and all(math.isfinite(e["inception_fid"]) and e["inception_score"] >= 1.0
                       for e in evals)
  data = load_images(get_config("images").data, 0)
  variables = inception.load_weights(path)
  ref, _ = inception.extract(variables, data.validation[:12])
  feats, logits = inception.extract(variables, np.load(images_run / "samples.npy"))
  direct = im.metrics_from_features(feats, logits, reference_features=ref, isc_splits=10,
                                    kid_subset_size=12)
  assert evals[-1]["inception_fid"] == pytest.approx(direct["fid"], rel=1e-6)
  assert evals[-1]["inception_score"] == pytest.approx(direct["is_mean"], rel=1e-6)


@pytest.mark.slow
def test_evaluate_draws_fresh_samples_from_a_run_directory(random_weights, images_run, tmp_path):
  """`--samples RUN_DIR` of an images run: N samples from its newest checkpoint (the rebuilt
  GAN), not the run's own samples.npy."""
  from experiments.evaluate import samples_from_run
  path, _ = random_weights
  x = samples_from_run(str(images_run), 24)
  assert x.shape == (24, 8, 8, 1) and np.isfinite(x).all()
  np.testing.assert_array_equal(x, samples_from_run(str(images_run), 24))   # seeded
  assert not np.array_equal(x[:12], np.load(images_run / "samples.npy"))   # fresh draws
  r = _evaluate("--samples", str(images_run), "--reference", "digits", "--inception-weights",
                path, "--protocol", "quick", "--num-samples", "12", "--kid-subset-size", "10",
                "--batch-size", "12", "--cache-dir", str(tmp_path / "cache"),
                "--out", str(tmp_path / "m.json"))
  assert r.returncode == 0, r.stderr
  m = json.load(open(tmp_path / "m.json"))
  assert m["num_samples"] == 12 and math.isfinite(m["fid"])
