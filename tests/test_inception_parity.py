"""The Flax FID Inception network and metrics equal torch-fidelity's (the reference), offline.

torch-fidelity 0.4.0's `FeatureExtractorInceptionV3` is built with random weights (no download:
its constructor is given a file holding an empty dict and its `load_state_dict` is skipped
once), BatchNorm γ, β drawn at random and the running statistics calibrated by one
training-mode pass with momentum 1 (each layer's mean and variance on random images, so
activations neither vanish nor explode), the fc weights scaled so that the softmax is not
flat. That state dict is saved with `torch.save` (torch-fidelity's file format) and loaded
into the Flax network by `wgan_jax.inception.load_weights`, i.e. by the pure-Python reader.

Compared on the same uint8 images: every block's output, pool3 and the logits (with and
without the fc bias) in float64 (≤ 1e-6) and float32 (≤ 1e-4), relative differences
max|ours − ref| / max|ref|; then FID, IS, KID and precision/recall of our features through
`wgan_jax.inception_metrics` against torch's features through torch-fidelity's own metric
functions (≤ 1e-3). Negative controls: the mistakes a port commonly makes each break parity.

Test-only workaround: `import torch_fidelity` imports torchvision, which PyPI's torchvision
cannot satisfy beside the pinned CPU torch; a stub `torchvision` module (every attribute a
dummy class) is put in sys.modules first. Nothing used here touches torchvision (the
extractor and the metric functions are plain torch and NumPy).

Slow tier (`python -m pytest -m slow tests/test_inception_parity.py`); needs torch==2.13.0 and
torch-fidelity==0.4.0 (requirements-parity.txt), skipped without them.
"""

import os
import sys
import types

import numpy as np
import pytest

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch", reason="needs torch (pip install -r requirements-parity.txt)")


def _dummy_attribute(attr):
  """A dummy class for any public name; a dunder (`__file__`, `__path__`, …) is absent, as on a
  real module without it: other libraries walk sys.modules and read them (torch's own imports
  read `__file__` of every loaded module, and a class there broke test_rmsprop in CI)."""
  if attr.startswith("__"):
    raise AttributeError(attr)
  return type(attr, (), {})


def _stub_torchvision():
  if "torchvision" in sys.modules:
    return
  for name in ("torchvision", "torchvision.datasets", "torchvision.transforms",
               "torchvision.transforms.functional", "torchvision.models"):
    module = types.ModuleType(name)
    module.__getattr__ = _dummy_attribute
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
      setattr(sys.modules[parent], child, module)


try:
  import torchvision  # noqa: F401  (a working one, if installed)
except Exception:  # noqa: BLE001 - absent or broken beside this torch
  sys.modules.pop("torchvision", None)
  _stub_torchvision()
tfi = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3",
                          reason="needs torch-fidelity (pip install --no-deps torch-fidelity)")
from torch_fidelity import metric_fid, metric_isc, metric_kid, metric_prc  # noqa: E402

from wgan_jax import inception, inception_metrics as im  # noqa: E402

N_SET = 12  # images per set for the metrics (IS: 10 splits; KID subsets of 6; P/R k = 3)


def rel(ours, ref) -> float:
  ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
  return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def _random_extractor(tmp, features):
  """torch-fidelity's extractor with random, calibrated weights, saved as its .pth file."""
  torch.manual_seed(0)
  empty = str(tmp / "empty.pth")
  torch.save({}, empty)
  cls = tfi.FeatureExtractorInceptionV3
  model = cls.__new__(cls)
  object.__setattr__(model, "load_state_dict", lambda state_dict: None)  # skip the real weights
  cls.__init__(model, "inception-v3-compat", features, feature_extractor_weights_path=empty)
  del model.__dict__["load_state_dict"]
  for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(0.3, 0.8)
    bn.train()
    bn.momentum = 1.0  # running statistics := this pass's batch statistics
  with torch.no_grad():
    model(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8))
  model.eval()
  model.fc.weight.data *= 20.0
  model.fc.bias.data.uniform_(-1.0, 1.0)
  path = str(tmp / "weights-inception-2015-12-05-random.pth")
  torch.save(model.state_dict(), path)
  return model, path


def _images(n, seed, smooth):
  rng = np.random.default_rng(seed)
  if smooth:  # low-frequency images: 8×8 noise repeated to 32×32
    return np.repeat(np.repeat(rng.integers(0, 256, (n, 8, 8, 3)), 4, 1), 4, 2).astype(np.uint8)
  return rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)


def _torch_run(model, images):
  """torch-fidelity's outputs and each block's output (NHWC) on uint8 NHWC images."""
  blocks, hooks = {}, []
  for name in (*inception.BLOCKS, "AvgPool"):
    hooks.append(getattr(model, name).register_forward_hook(
        lambda mod, i, o, name=name: blocks.__setitem__(name, o.detach().permute(0, 2, 3, 1)
                                                        .numpy().copy())))
  try:
    with torch.no_grad():
      out = model(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous())
  finally:
    for h in hooks:
      h.remove()
  return [o.numpy() for o in out], blocks


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_file_reader_equals_torch_load(tmp_path, legacy):
  """The pure-Python reader against torch.load on a random state dict, both file formats."""
  from collections import OrderedDict
  from wgan_jax import torch_file
  g = torch.Generator().manual_seed(0)
  base = torch.randn(6, 5, generator=g)
  state = OrderedDict(
      conv=torch.randn(4, 3, 7, 1, generator=g), double=torch.randn(3, generator=g).double(),
      transposed=base.T, sliced=base[2:4, 1:], long=torch.arange(10), scalar=torch.tensor(7),
      half=torch.randn(3, generator=g).half(), bools=torch.tensor([True, False]),
      param=torch.nn.Parameter(torch.randn(2, 2, generator=g)),
      u8=torch.randint(0, 255, (3, 4), dtype=torch.uint8, generator=g), empty=torch.zeros(0, 3))
  path = str(tmp_path / "state.pth")
  torch.save(state, path, _use_new_zipfile_serialization=not legacy)
  ref, ours = torch.load(path), torch_file.load(path)
  assert type(ours) is OrderedDict and list(ours) == list(ref)
  for key, value in ref.items():
    want = value.detach().numpy()
    assert ours[key].dtype == want.dtype and ours[key].shape == want.shape, key
    assert np.array_equal(ours[key], want), key


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
  torch.set_num_threads(2)
  tmp = tmp_path_factory.mktemp("inception")
  model, path = _random_extractor(tmp, ["2048", "logits_unbiased", "logits"])
  variables = inception.load_weights(path, cache_dir=str(tmp / "cache"))
  return model, path, variables, str(tmp / "cache")


def test_weights_file_reads_without_torch_and_caches(setup, monkeypatch):
  model, path, variables, cache_dir = setup
  ref = model.state_dict()
  assert np.array_equal(variables["params"]["Mixed_6b"]["branch7x7_2"]["conv"]["kernel"],
                        ref["Mixed_6b.branch7x7_2.conv.weight"].numpy().transpose(2, 3, 1, 0))
  assert np.array_equal(variables["batch_stats"]["Mixed_7c"]["branch_pool"]["bn"]["var"],
                        ref["Mixed_7c.branch_pool.bn.running_var"].numpy())
  assert np.array_equal(variables["params"]["fc"]["kernel"], ref["fc.weight"].numpy().T)
  import os
  from wgan_jax import torch_file
  assert [f for f in os.listdir(cache_dir) if f.endswith(".npz")], "not cached"
  monkeypatch.setattr(torch_file, "load", lambda p: pytest.fail("converted again"))
  again = inception.load_weights(path, cache_dir=cache_dir)
  assert np.array_equal(again["params"]["fc"]["bias"], variables["params"]["fc"]["bias"])


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-6), ("float32", 1e-4)])
def test_every_block_pool3_and_logits_equal_torch_fidelity(setup, dtype, tol):
  model, _, variables, _ = setup
  images = _images(2, 1, smooth=False)
  model.to(getattr(torch, dtype))
  model.feature_extractor_internal_dtype = getattr(torch, dtype)
  try:
    (pool3, _, logits), blocks = _torch_run(model, images)
  finally:
    model.to(torch.float32)
    model.feature_extractor_internal_dtype = torch.float32
  out, ours = inception.apply(variables, images, dtype=dtype, intermediates=True)
  diffs = {name: rel(ours[name], blocks[name]) for name in inception.BLOCKS}
  # torch-fidelity returns its outputs cast to float32; its AvgPool output and fc applied to it
  # (in `dtype`, as its forward does) are the full-precision references
  pool3_full = torch.from_numpy(blocks["AvgPool"][:, 0, 0, :])
  weight, bias = (p.detach().to(pool3_full.dtype) for p in (model.fc.weight, model.fc.bias))
  unbiased_full = pool3_full.mm(weight.T)
  diffs.update(pool3=rel(out["pool3"], pool3_full.numpy()),
               logits_unbiased=rel(out["logits_unbiased"], unbiased_full.numpy()),
               logits=rel(out["logits"], (unbiased_full + bias).numpy()),
               returned_pool3=rel(out["pool3"], pool3),
               returned_logits=rel(out["logits"], logits))
  print(f"\n{dtype} max relative difference per block: " +
        ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
  assert all(np.std(blocks[name]) > 0.1 for name in inception.BLOCKS)  # nothing vanished
  assert max(diffs.values()) <= tol, diffs


# Each of these (an option the Flax network only has for this test) is a real porting mistake.
NEGATIVE_CONTROLS = {
    "avg pools count the padding": dict(count_include_pad=True),
    "last block's pool is an average": dict(last_pool="avg"),
    "1×7 / 7×1 kernels transposed": dict(swap_factorised=True),
    "BatchNorm ε = 1e-5 (torch's default)": dict(bn_epsilon=1e-5),
    "half-pixel resize": dict(half_pixel=True),
}


def test_negative_controls_break_parity(setup):
  model, path, variables, _ = setup
  images = _images(1, 2, smooth=False)
  (pool3, _, _), _ = _torch_run(model, images)
  assert rel(inception.apply(variables, images)["pool3"], pool3) <= 1e-4
  effects = {}
  for name, options in NEGATIVE_CONTROLS.items():
    v = variables
    if options.get("swap_factorised"):
      from wgan_jax import torch_file
      v = inception.unflatten(inception.convert_state_dict(torch_file.load(path),
                                                           swap_factorised=True))
    effects[name] = rel(inception.apply(v, images, **options)["pool3"], pool3)
  print("\nnegative controls, pool3 relative difference: " +
        ", ".join(f"{k}: {v:.2e}" for k, v in effects.items()))
  assert all(e > 1e-3 for e in effects.values()), effects  # ≥ 10× the float32 tolerance


def test_metrics_equal_torch_fidelity(setup, tmp_path):
  """FID, IS, KID, P/R of our pipeline vs torch-fidelity's features and metric functions; then
  the same through the command line, `python -m experiments.evaluate` on the weights file."""
  model, path, variables, cache_dir = setup
  # generated: half noise, half smooth; real: smooth, so that P/R are not all 0 or 1
  gen = np.concatenate([_images(N_SET // 2, 3, smooth=False), _images(N_SET // 2, 4, True)])
  real = _images(N_SET, 5, smooth=True)
  feats, logits = {}, {}
  ref_feats, ref_logits = {}, {}
  for key, images in (("gen", gen), ("real", real)):
    feats[key], logits[key] = inception.extract(variables, images, batch_size=N_SET)
    (f, lu, _), _ = _torch_run(model, images)
    ref_feats[key], ref_logits[key] = torch.from_numpy(f), torch.from_numpy(lu)
  kid_kw = dict(kid_subsets=20, kid_subset_size=N_SET // 2, rng_seed=2020, verbose=False)
  ref = {
      "fid": metric_fid.fid_statistics_to_metric(
          metric_fid.fid_features_to_statistics(ref_feats["gen"]),
          metric_fid.fid_features_to_statistics(ref_feats["real"]), False)[
              metric_fid.KEY_METRIC_FID],
      **metric_isc.isc_features_to_metric(ref_logits["gen"], 10, True, 2020),
      **metric_kid.kid_features_to_metric(ref_feats["gen"], ref_feats["real"], **kid_kw),
      **metric_prc.prc_features_to_metric(ref_feats["gen"], ref_feats["real"], verbose=False),
  }
  ours = im.metrics_from_features(feats["gen"], logits["gen"], reference_features=feats["real"],
                                  kid_subsets=20, kid_subset_size=N_SET // 2)
  pairs = {"fid": ref["fid"], "is_mean": ref[metric_isc.KEY_METRIC_ISC_MEAN],
           "is_std": ref[metric_isc.KEY_METRIC_ISC_STD],
           "kid_mean": ref[metric_kid.KEY_METRIC_KID_MEAN],
           "kid_std": ref[metric_kid.KEY_METRIC_KID_STD],
           "precision": ref[metric_prc.KEY_METRIC_PRECISION],
           "recall": ref[metric_prc.KEY_METRIC_RECALL]}
  diffs = {k: abs(ours[k] - v) / max(abs(v), 1e-12) for k, v in pairs.items()}
  print("\nmetrics (ours / torch-fidelity / relative difference): " +
        ", ".join(f"{k} {ours[k]:.6g} / {v:.6g} / {diffs[k]:.1e}" for k, v in pairs.items()))
  assert 1.0 < ours["is_mean"] and ours["fid"] > 0 and 0 < ours["precision"] < 1
  assert max(diffs.values()) <= 1e-3, diffs
  # The command: the same images as files, the same settings as flags.
  import json
  import subprocess
  np.save(tmp_path / "gen.npy", gen)
  np.savez(tmp_path / "real.npz", images=real)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  r = subprocess.run(
      [sys.executable, "-m", "experiments.evaluate", "--samples", str(tmp_path / "gen.npy"),
       "--reference", str(tmp_path / "real.npz"), "--inception-weights", path,
       "--cache-dir", cache_dir, "--protocol", "torch-fidelity", "--num-samples", str(N_SET),
       "--kid-subsets", "20", "--kid-subset-size", str(N_SET // 2), "--isc-splits", "10",
       "--batch-size", str(N_SET), "--out", str(tmp_path / "m.json")],
      cwd=root, capture_output=True, text=True, timeout=900,
      env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert r.returncode == 0, r.stderr
  cmd = json.load(open(tmp_path / "m.json"))
  cmd_diffs = {k: abs(cmd[k] - v) / max(abs(v), 1e-12) for k, v in pairs.items()}
  print("command vs torch-fidelity: " + ", ".join(f"{k} {d:.1e}" for k, d in cmd_diffs.items()))
  assert max(cmd_diffs.values()) <= 1e-3, cmd_diffs
