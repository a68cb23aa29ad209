"""The tensorflow-datasets path, on `tfds.testing.mock_data` (no download, no TensorFlow)."""

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from wgan_jax.data import tfds_images as ti  # noqa: E402


def test_mock_mnist_and_celeba_read_scaled_and_deterministic():
  with tfds.testing.mock_data(num_examples=40):
    a = ti.load_tfds_images("mnist", max_examples=25, seed=3)
    b = ti.load_tfds_images("mnist", max_examples=25, seed=3)
    c = ti.load_tfds_images("mnist", max_examples=25, seed=4)
    source = tfds.data_source("mnist", split="train")
    first = np.asarray(source[int(ti.epoch_order(len(source), 3)[0])]["image"])
    faces = ti.load_tfds_images("celeb_a", max_examples=3, image_size=16)
  assert a.shape == (25, 28, 28, 1) and a.dtype == np.float32
  assert a.min() >= -1 and a.max() <= 1
  np.testing.assert_array_equal(a, b)              # same seed: same images, same order
  assert not np.array_equal(a, c)                  # another seed: another order
  np.testing.assert_allclose(a[0], first / 127.5 - 1, atol=1e-6)
  assert faces.shape == (3, 16, 16, 3)


def test_process_shards_are_disjoint_and_cover_the_order():
  shards = [ti.epoch_order(103, seed=7, process_index=p, process_count=4) for p in range(4)]
  assert sum(len(s) for s in shards) == 103
  assert sorted(np.concatenate(shards).tolist()) == list(range(103))
  np.testing.assert_array_equal(shards[1], ti.epoch_order(103, 7, process_index=1,
                                                          process_count=4))
  with pytest.raises(ValueError, match="process index"):
    ti.epoch_order(10, 0, process_index=4, process_count=4)


def test_prefetching_reader_keeps_order():
  source = [{"image": np.full((2, 2, 1), i, np.uint8)} for i in range(50)]
  idx = np.random.default_rng(0).permutation(50)
  batches = list(ti.iter_batches(source, idx, 8, workers=3, prefetch=3))
  assert [len(b) for b in batches] == [8] * 6 + [2]
  got = np.concatenate(batches)[:, 0, 0, 0]
  np.testing.assert_allclose((got + 1) * 127.5, idx, atol=1e-4)
  with pytest.raises(ValueError, match="image_key: the records have no 'image' feature"):
    list(ti.iter_batches([{"text": b"x"}], np.arange(1), 1))


def test_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="name: tensorflow-datasets does not know a data set named"):
    ti.load_tfds_images("no_such_data_set_xyz", data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="name: mnist is not prepared.*download=True"):
    ti.load_tfds_images("mnist", data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="max_examples: must be positive"):
    ti.load_tfds_images("mnist", max_examples=0)
