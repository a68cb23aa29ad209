"""MNIST-format IDX files (`wgan_jax.data.idx`): the reader on tiny files of our own, its errors,
Fashion-MNIST from Debian's package, and `--dataset fashion-mnist` / `--idx-dir` in the images
job."""

import gzip
import json
import os

import numpy as np
import pytest

from experiments import images
from experiments.builders import load_images
from experiments.cli import OptionError
from experiments.configs import ImageDataConfig
from wgan_jax.data import idx
from wgan_jax.data.idx import load_fashion_mnist, load_idx

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
  """The IDX encoding of `a`, written by hand from the format's definition."""
  a = np.asarray(a)
  header = bytes([0, 0, _CODES[a.dtype], a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
  return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, gz: bool) -> str:
  with (gzip.open if gz else open)(path, "wb") as f:
    f.write(data)
  return str(path)


def tiny_images(n: int, seed: int = 0) -> np.ndarray:
  img = np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)
  img[0, 0, 0], img[0, 0, 1] = 0, 255   # both ends of the grey scale
  return img


def write_dataset(folder, *, gz_train=True, gz_test=False, n_train=4, n_test=3):
  os.makedirs(folder, exist_ok=True)
  data = {}
  for split, prefix, n, gz in (("train", "train", n_train, gz_train),
                               ("test", "t10k", n_test, gz_test)):
    img, lab = tiny_images(n, seed=n), np.arange(n, dtype=np.uint8) % 10
    suffix = ".gz" if gz else ""
    write(os.path.join(folder, f"{prefix}-images-idx3-ubyte{suffix}"), idx_bytes(img), gz)
    write(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{suffix}"), idx_bytes(lab), gz)
    data[split] = (img, lab)
  return data


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("array", [
    tiny_images(3),
    np.array([7, 0, 9, 255], np.uint8),
    np.array([[-3, 1000], [32767, -32768]], np.int16),
    np.array([1.5, -2.25, 1e30], np.float32),
    np.array([[[1, -1]]], np.int32),
    np.array([np.pi], np.float64),
    np.array([-128, 127], np.int8),
], ids=["images", "labels", "int16", "float32", "int32", "float64", "int8"])
def test_reads_what_was_written(tmp_path, array, gz):
  path = write(tmp_path / ("f.gz" if gz else "f"), idx_bytes(array), gz)
  out = load_idx(path)
  assert out.dtype == array.dtype and out.dtype.isnative and out.shape == array.shape
  np.testing.assert_array_equal(out, array)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
  a = tiny_images(2)
  np.testing.assert_array_equal(load_idx(write(tmp_path / "gz_named_plain", idx_bytes(a), True)),
                                a)
  np.testing.assert_array_equal(load_idx(write(tmp_path / "plain.gz", idx_bytes(a), False)), a)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize("data,gz,needle", [
    (b"", False, "too short"),
    (b"\x00\x00", False, "too short"),
    (b"\x01\x02\x08\x01" + GOOD[4:], False, "not an IDX file"),
    (b"\x00\x00\x07\x02" + GOOD[4:], False, "unknown IDX type byte 0x07"),
    (b"\x00\x00\x08\x00", False, "rank 0"),
    (GOOD[:9], False, "truncated header"),
    (GOOD[:-1], False, "truncated: 11 data bytes"),
    (GOOD + b"\x00", False, "extra bytes after the data"),
    (GOOD[:-5], True, "truncated: 7 data bytes"),
    (None, False, "corrupt or truncated gzip"),   # a gzip stream cut short
    (b"\x1f\x8bnot gzip at all", False, "corrupt or truncated gzip"),
], ids=["empty", "short", "magic", "type", "rank0", "header", "data-short", "data-long",
        "gz-data-short", "gz-cut", "gz-bad"])
def test_malformed_file_is_one_line_naming_the_file(tmp_path, data, gz, needle):
  if data is None:
    data, gz = gzip.compress(GOOD)[:-6], False
  path = write(tmp_path / "bad-idx", data, gz)
  with pytest.raises(ValueError) as e:
    load_idx(path)
  msg = str(e.value)
  assert msg.startswith(f"path: {path}: ") and needle in msg and "\n" not in msg, msg


def test_not_a_file(tmp_path):
  with pytest.raises(ValueError, match=r"^path: .*nothing-here is not a file$"):
    load_idx(str(tmp_path / "nothing-here"))


def test_fashion_mnist_reader_on_tiny_files(tmp_path):
  written = write_dataset(tmp_path)   # train gzipped, test not
  for split in ("train", "test"):
    img, lab = written[split]
    x, y = load_fashion_mnist(str(tmp_path), split=split)
    assert x.shape == img.shape + (1,) and x.dtype == np.float32
    assert y.dtype == np.int32 and y.tolist() == lab.tolist()
    np.testing.assert_allclose(x[..., 0], img / 127.5 - 1.0, atol=1e-6)
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 1, 0] == 1.0 and np.abs(x).max() <= 1.0


def test_split_must_be_known(tmp_path):
  with pytest.raises(ValueError, match=r"^split: must be one of \['train', 'test'\], got 'val'"):
    load_fashion_mnist(str(tmp_path), split="val")


def test_missing_files_say_how_to_install(tmp_path, monkeypatch):
  with pytest.raises(ValueError) as e:
    load_fashion_mnist(str(tmp_path))
  msg = str(e.value)
  assert msg.startswith("directory: no MNIST-format IDX files in") and "\n" not in msg
  assert "apt-get update && apt-get install dataset-fashion-mnist" in msg
  # directory=None reads the package's folder: not installed there
  monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
  with pytest.raises(ValueError) as e:
    load_fashion_mnist()
  msg = str(e.value)
  assert msg.startswith("directory: Fashion-MNIST is not installed") and "\n" not in msg
  assert "apt-get install dataset-fashion-mnist" in msg and "pass directory=" in msg


def test_inconsistent_files_are_refused(tmp_path):
  write_dataset(tmp_path, gz_train=False)
  labels = tmp_path / "train-labels-idx1-ubyte"
  write(labels, idx_bytes(np.zeros(5, np.uint8)), False)   # 5 labels, 4 images
  with pytest.raises(ValueError, match=r"^path: .*5 labels for the 4 images"):
    load_fashion_mnist(str(tmp_path))
  write(labels, idx_bytes(np.zeros((4, 2), np.uint8)), False)
  with pytest.raises(ValueError, match=r"expected labels \[N\], got shape \[4, 2\]"):
    load_fashion_mnist(str(tmp_path))
  write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((4, 28, 28), np.int16)), False)
  with pytest.raises(ValueError, match=r"expected uint8 images \[N, H, W\], got int16"):
    load_fashion_mnist(str(tmp_path))


# ------------------------------------------------------------------------------ images job
def test_images_job_reads_an_idx_folder(tmp_path):
  written = write_dataset(tmp_path / "mnist")
  data = load_images(ImageDataConfig(idx_dir=str(tmp_path / "mnist")))
  assert data.name == "mnist" and data.shape == (28, 28, 1)
  assert data.train.shape == (4, 28, 28, 1) and data.validation.shape == (3, 28, 28, 1)
  assert data.labels.tolist() == written["train"][1].tolist()
  named = load_images(ImageDataConfig(dataset="fashion-mnist", idx_dir=str(tmp_path / "mnist")))
  assert named.name == "fashion-mnist"
  write_dataset(tmp_path / "digits")   # a folder name must not select the digit metrics
  assert load_images(ImageDataConfig(idx_dir=str(tmp_path / "digits"))).name == "digits (idx)"
  with pytest.raises(OptionError, match="^idx_dir: give IDX files or an image folder"):
    ImageDataConfig(idx_dir=str(tmp_path), data_dir=str(tmp_path))


@pytest.mark.parametrize("argv,needle", [
    (["--dataset", "fashion-mnist"], "--dataset: fashion-mnist: not installed in "),
    (["--idx-dir", "{tmp}"], "--idx-dir: no MNIST-format IDX files in "),
    (["--idx-dir", "{tmp}/bad"], "--idx-dir: {tmp}/bad/train-images-idx3-ubyte: truncated"),
    (["--idx-dir", "{tmp}/ok", "--image-size", "32"], "--image-size: resizes TFDS"),
    (["--idx-dir", "{tmp}/ok", "--arch", "mnist", "--data-dir", "{tmp}"], "--idx-dir: give"),
    (["--arch", "mnist"], "--arch: mnist: the official WGAN-GP MNIST models take 28×28×1 "
                          "images, got 8×8×1"),
])
def test_bad_input_is_one_line_naming_the_option(argv, needle, capsys, tmp_path, monkeypatch):
  monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
  write_dataset(tmp_path / "ok")
  write_dataset(tmp_path / "bad", gz_train=False)
  path = tmp_path / "bad" / "train-images-idx3-ubyte"
  path.write_bytes(path.read_bytes()[:-1])
  argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
  with pytest.raises(SystemExit) as e:
    images.main(argv + ["--out", str(tmp_path / "o"), "--no-progress"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  needle = needle.replace("{tmp}", str(tmp_path))
  assert len(err.splitlines()) == 1 and err.startswith("error: " + needle), err
  if "not installed" in needle:
    assert "apt-get update && apt-get install dataset-fashion-mnist" in err
    assert "--idx-dir" in err


# ------------------------------------------------------------------------------ the real files
def _installed():
  if not os.path.isfile(os.path.join(idx.FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz")):
    pytest.skip(f"Fashion-MNIST is not installed in {idx.FASHION_MNIST_DIR} (Debian: "
                f"{idx.INSTALL_HINT})")


@pytest.mark.slow
def test_real_fashion_mnist_from_the_debian_package():
  _installed()
  for split, n in (("train", 60000), ("test", 10000)):
    x, y = load_fashion_mnist(split=split)
    assert x.shape == (n, 28, 28, 1) and x.dtype == np.float32 and y.shape == (n,)
    assert x.min() == -1.0 and x.max() == 1.0
    assert set(np.unique(y).tolist()) == set(range(10))
    assert np.bincount(y).tolist() == [n // 10] * 10   # Fashion-MNIST is balanced


@pytest.mark.slow
def test_images_job_on_real_fashion_mnist_with_the_official_models(tmp_path):
  _installed()
  out = tmp_path / "run"
  argv = ["--dataset", "fashion-mnist", "--arch", "mnist", "--gen-norm", "none", "--iters", "4",
          "--iters-per-call", "2", "--eval-every", "2", "--dim", "4", "--latent-dim", "8",
          "--batch-size", "8", "--num-samples", "16", "--no-progress", "--out", str(out)]
  assert images.main(argv) == 0
  x = np.load(out / "samples.npy")
  assert x.shape == (16, 28, 28, 1) and np.isfinite(x).all() and np.abs(x).max() <= 1.0
  m = json.loads((out / "metrics.json").read_text())
  assert m["dataset"] == "fashion-mnist" and m["image_shape"] == [28, 28, 1]
  # The Fashion-MNIST classifier's metrics (test_fashion_classifier.py), named after it.
  assert set(m["final"]) == {"fashion_classifier_score", "fashion_frechet_distance",
                             "fashion_kernel_distance", "fashion_classes_covered",
                             "fashion_kl_to_uniform", "nearest_train_share"}
  assert set(m["reference"]) == set(m["final"]) | {"fashion_classifier_test_accuracy"}
  assert (out / "samples" / "grid_iter_0000002.png").exists()
