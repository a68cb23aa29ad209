"""Image arrays: the embedded digits and image folders."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from wgan_jax.data.images import array_sampler, load_digits, load_image_folder


def test_digits():
  xt, yt, xv, yv = load_digits()
  assert xt.shape == (1500, 8, 8, 1) and xv.shape == (297, 8, 8, 1)
  assert xt.dtype == np.float32 and xt.min() == -1.0 and xt.max() == 1.0
  assert set(np.unique(yt)) == set(range(10)) and set(np.unique(yv)) == set(range(10))
  again = load_digits()
  np.testing.assert_array_equal(xt, again[0])  # the split is fixed
  flat_t = {x.tobytes() for x in xt}
  assert sum(x.tobytes() in flat_t for x in xv) < 5  # (the data set has a few duplicates)


def test_array_sampler_draws_rows():
  data = jnp.arange(12.0).reshape(6, 2)
  keys = jax.random.split(jax.random.key(0), 200)
  rows = np.asarray(jax.vmap(lambda k: array_sampler(data, k))(keys))
  assert {tuple(r) for r in rows} == {tuple(r) for r in np.asarray(data)}


def test_image_folder(tmp_path):
  for i in range(3):
    Image.fromarray(np.full((5, 4, 3), 60 * i, np.uint8)).save(tmp_path / f"{i}.png")
  (tmp_path / "notes.txt").write_text("not an image")
  x = load_image_folder(str(tmp_path))
  assert x.shape == (3, 5, 4, 3)
  np.testing.assert_allclose(x[:, 0, 0, 0], np.array([0, 60, 120]) / 127.5 - 1, rtol=1e-6)


def test_image_folder_errors(tmp_path):
  with pytest.raises(ValueError, match="^path: no image files"):
    load_image_folder(str(tmp_path))
  with pytest.raises(ValueError, match="^path: .*missing is not a folder"):
    load_image_folder(str(tmp_path / "missing"))
  Image.fromarray(np.zeros((5, 4), np.uint8)).save(tmp_path / "a.png")
  Image.fromarray(np.zeros((6, 4), np.uint8)).save(tmp_path / "b.png")
  with pytest.raises(ValueError, match="^path: images of mixed sizes.*pass image_size"):
    load_image_folder(str(tmp_path))
  assert load_image_folder(str(tmp_path), image_size=4).shape == (2, 4, 4, 1)
