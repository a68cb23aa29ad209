"""Image folders in every Pillow mode: converted to the run's channels and value range, never
reinterpreted (issue 15, item 3).

The rule under test (see `load_image_folder`): grey modes (1, L, LA, 16-bit, grey palettes) give
1 channel, any colour image makes the folder 3 channels; alpha is composited on white; values are
the true levels scaled to [-1, 1] (8-bit v → v / 127.5 − 1, 16-bit v → v / 65535 · 2 − 1).
"""

import io

import numpy as np
import pytest
from PIL import Image

from wgan_jax.data.images import load_image_folder


def lvl(v):
  """An 8-bit level as the loader's value."""
  return np.float32(v) / 127.5 - 1.0


def save(folder, name, im, fmt=None, **kw):
  folder.mkdir(exist_ok=True)
  im.save(folder / name, fmt, **kw)


def load(folder, **kw):
  x = load_image_folder(str(folder), **kw)
  assert x.dtype == np.float32 and x.min() >= -1.0 and x.max() <= 1.0
  return x


def palette_image(indices, colours):
  im = Image.fromarray(np.asarray(indices, np.uint8), "P")
  im.putpalette(np.asarray(colours, np.uint8).ravel().tolist())
  return im


def test_one_bit(tmp_path):
  save(tmp_path, "a.png", Image.fromarray(np.array([[True, False, True]])))
  x = load(tmp_path)
  assert x.shape == (1, 1, 3, 1)
  np.testing.assert_array_equal(x[0, 0, :, 0], [1.0, -1.0, 1.0])


def test_grey(tmp_path):
  save(tmp_path, "a.png", Image.fromarray(np.array([[0, 51, 255]], np.uint8)))
  x = load(tmp_path)
  assert x.shape == (1, 1, 3, 1)
  np.testing.assert_array_equal(x[0, 0, :, 0], [-1.0, lvl(51), 1.0])


def test_grey_alpha_is_composited_on_white_into_one_channel(tmp_path):
  # (level, alpha): opaque black, transparent black, half-transparent 100
  la = np.array([[[0, 255], [0, 0], [100, 128]]], np.uint8)
  save(tmp_path, "a.png", Image.fromarray(la, "LA"))
  x = load(tmp_path)
  assert x.shape == (1, 1, 3, 1)   # was 2 channels, which crashed the sample grid
  a = 128 / 255
  np.testing.assert_allclose(x[0, 0, :, 0], [-1.0, 1.0, lvl(100 * a + 255 * (1 - a))],
                             atol=1e-6)


def test_grey_alpha_folder_draws_a_sample_grid(tmp_path):
  from experiments.plots import save_grid
  la = np.zeros((4, 4, 2), np.uint8)
  la[..., 1] = 255
  la[:2, :, 1] = 0
  for i in range(2):
    save(tmp_path / "data", f"{i}.png", Image.fromarray(la, "LA"))
  x = load(tmp_path / "data")
  assert x.shape == (2, 4, 4, 1)
  save_grid(str(tmp_path / "grid.png"), x, "grey + alpha")
  assert (tmp_path / "grid.png").stat().st_size > 0


def test_grey_palette_is_looked_up_not_used_as_levels(tmp_path):
  # index 0 black, 1 WHITE, 2 grey 128: indices differ from the grey levels they stand for
  im = palette_image([[0, 1, 2, 1]], [(0, 0, 0), (255, 255, 255), (128, 128, 128)])
  save(tmp_path, "a.png", im)
  save(tmp_path, "b.gif", im)
  x = load(tmp_path)
  assert x.shape == (2, 1, 4, 1)   # a grey palette stays one channel
  for img in x:
    np.testing.assert_array_equal(img[0, :, 0], [-1.0, 1.0, lvl(128), 1.0])


def test_colour_palette_gives_rgb(tmp_path):
  im = palette_image([[0, 1, 2]], [(255, 0, 0), (255, 255, 255), (10, 20, 30)])
  save(tmp_path, "a.png", im)
  x = load(tmp_path)
  assert x.shape == (1, 1, 3, 3)
  np.testing.assert_array_equal(x[0, 0], [[1, -1, -1], [1, 1, 1], [lvl(10), lvl(20), lvl(30)]])


def test_palette_transparency_is_composited_on_white(tmp_path):
  im = palette_image([[0, 1]], [(0, 0, 0), (255, 0, 0)])
  save(tmp_path, "a.png", im, transparency=1)   # index 1 (red) transparent
  x = load(tmp_path)
  np.testing.assert_array_equal(x[0, 0], [[-1.0], [1.0]])   # visible colours grey: 1 channel


def test_rgb(tmp_path):
  rgb = np.array([[[255, 0, 0], [0, 128, 255]]], np.uint8)
  save(tmp_path, "a.png", Image.fromarray(rgb))
  x = load(tmp_path)
  assert x.shape == (1, 1, 2, 3)
  np.testing.assert_array_equal(x[0], lvl(rgb))


def test_rgba_is_composited_on_white(tmp_path):
  rgba = np.array([[[255, 0, 0, 255], [0, 0, 255, 0], [0, 0, 0, 51]]], np.uint8)
  save(tmp_path, "a.png", Image.fromarray(rgba, "RGBA"))
  x = load(tmp_path)
  assert x.shape == (1, 1, 3, 3)
  a = 51 / 255
  np.testing.assert_allclose(x[0, 0], [[1, -1, -1], [1, 1, 1], [lvl(255 * (1 - a))] * 3],
                             atol=1e-6)


def test_cmyk_jpeg_gives_rgb(tmp_path):
  cmyk = np.zeros((8, 8, 4), np.uint8)
  cmyk[..., 1:3] = 255   # magenta + yellow = red
  save(tmp_path, "a.jpg", Image.fromarray(cmyk, "CMYK"), quality=100)
  x = load(tmp_path)
  assert x.shape == (1, 8, 8, 3)   # was 4 channels
  np.testing.assert_allclose(x[0].mean(axis=(0, 1)), [1, -1, -1], atol=0.05)


def test_sixteen_bit_grey_scales_by_65535(tmp_path):
  v = np.array([[0, 1000, 32768, 65535]], np.uint16)
  save(tmp_path, "a.png", Image.fromarray(v))
  assert Image.open(tmp_path / "a.png").mode == "I;16"
  x = load(tmp_path)
  assert x.shape == (1, 1, 4, 1)   # was values up to 513
  np.testing.assert_allclose(x[0, 0, :, 0], v[0] / 65535 * 2 - 1, atol=1e-6)
  assert x[0, 0, 3, 0] == 1.0


@pytest.mark.parametrize("mode", ["I;16B", "I"])
def test_other_sixteen_bit_layouts(tmp_path, mode):
  # TIFF data under a .png name: Pillow opens files by content, so these modes can reach us
  v = np.array([[0, 1000, 65535]])
  im = (Image.frombytes("I;16B", (3, 1), v.astype(">u2").tobytes()) if mode == "I;16B"
        else Image.fromarray(v.astype(np.int32), "I"))
  save(tmp_path, "a.png", im, "TIFF")
  assert Image.open(tmp_path / "a.png").mode == mode
  x = load(tmp_path)
  np.testing.assert_allclose(x[0, 0, :, 0], v[0] / 65535 * 2 - 1, atol=1e-6)


def test_mode_i_beyond_16_bits_is_refused(tmp_path):
  save(tmp_path, "big.png", Image.fromarray(np.array([[0, 70000]], np.int32), "I"), "TIFF")
  with pytest.raises(ValueError, match=r"^path: .*big\.png has image mode I with values 0\.\.70000"
                     ) as e:
    load_image_folder(str(tmp_path))
  assert "\n" not in str(e.value)


def test_ycbcr_gives_rgb(tmp_path):
  rgb = Image.fromarray(np.full((2, 2, 3), (200, 30, 60), np.uint8))
  save(tmp_path, "a.png", rgb.convert("YCbCr"), "TIFF")
  assert Image.open(tmp_path / "a.png").mode == "YCbCr"
  x = load(tmp_path)
  assert x.shape == (1, 2, 2, 3)
  np.testing.assert_allclose(x[0, 0, 0], lvl(np.array([200, 30, 60])), atol=0.03)


def test_grey_modes_together_stay_one_channel(tmp_path):
  save(tmp_path, "1.png", Image.fromarray(np.ones((2, 2), bool)))
  save(tmp_path, "l.png", Image.fromarray(np.full((2, 2), 255, np.uint8)))
  save(tmp_path, "la.png", Image.fromarray(np.full((2, 2, 2), 255, np.uint8), "LA"))
  save(tmp_path, "i16.png", Image.fromarray(np.full((2, 2), 65535, np.uint16)))
  save(tmp_path, "p.gif", palette_image(np.ones((2, 2)), [(0, 0, 0), (255, 255, 255)]))
  x = load(tmp_path)
  assert x.shape == (5, 2, 2, 1)
  np.testing.assert_array_equal(x, 1.0)   # white in every mode


def test_mixed_grey_and_colour_folder_is_rgb(tmp_path):
  save(tmp_path, "a.png", Image.fromarray(np.array([[0, 255]], np.uint8)))
  save(tmp_path, "b.png", Image.fromarray(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)))
  save(tmp_path, "c.png", Image.fromarray(np.array([[0, 65535]], np.uint16)))
  x = load(tmp_path)
  assert x.shape == (3, 1, 2, 3)
  np.testing.assert_array_equal(x[0, 0], [[-1, -1, -1], [1, 1, 1]])   # grey repeated
  np.testing.assert_array_equal(x[1, 0], [[1, -1, -1], [-1, -1, 1]])
  np.testing.assert_array_equal(x[2, 0], [[-1, -1, -1], [1, 1, 1]])


def test_resize_keeps_range_and_composites_alpha(tmp_path):
  rgba = np.zeros((4, 4, 4), np.uint8)   # transparent black everywhere
  save(tmp_path, "a.png", Image.fromarray(rgba, "RGBA"))
  save(tmp_path, "b.png", Image.fromarray(np.full((6, 6, 3), 255, np.uint8)))
  x = load(tmp_path, image_size=2)
  assert x.shape == (2, 2, 2, 3)
  np.testing.assert_allclose(x, 1.0, atol=1e-6)   # transparent → white, no dark fringe
  g = tmp_path / "g"
  save(g, "a.png", Image.fromarray(np.full((4, 4), 65535, np.uint16)))
  save(g, "b.png", Image.fromarray(np.array([[True, False]] * 2)))
  x = load(g, image_size=3)
  assert x.shape == (2, 3, 3, 1)
  np.testing.assert_allclose(x[0], 1.0, atol=1e-6)


@pytest.mark.parametrize("mode", ["F", "LAB"])
def test_unsupported_mode_is_refused_naming_file_and_mode(tmp_path, mode):
  save(tmp_path, "ok.png", Image.fromarray(np.zeros((2, 2), np.uint8)))
  im = Image.new(mode, (2, 2))
  buf = io.BytesIO()
  im.save(buf, "TIFF")   # TIFF data under an image name: Pillow opens it by content
  (tmp_path / "odd.png").write_bytes(buf.getvalue())
  with pytest.raises(ValueError, match=rf"^path: .*odd\.png has image mode {mode} \(") as e:
    load_image_folder(str(tmp_path))
  assert "\n" not in str(e.value)
