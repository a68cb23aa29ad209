"""Text data: vocabulary, pad and 'unk', file loading errors, corpora, the one-hot sampler."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wgan_jax.data import text as td


def test_vocabulary_round_trip_with_pad_and_unk():
  lines = ["aab", "abc", "ba"]
  v = td.build_vocabulary(lines, max_vocab=4)
  assert v.chars == (td.UNK, "`", "a", "b")  # 'c' is the rarest: beyond the limit
  ids = v.encode(["ab", "cab"], 4)
  np.testing.assert_array_equal(ids, [[2, 3, 1, 1], [0, 2, 3, 1]])
  assert ids.dtype == np.int32
  assert v.decode(ids) == ["ab``", td.UNK + "ab`"]
  assert v.decode(ids, strip_pad=True) == ["ab", td.UNK + "ab"]
  full = td.build_vocabulary(lines)
  assert full.decode(full.encode(lines, 3), strip_pad=True) == lines


def test_vocabulary_limit_below_two_and_too_long_lines_are_errors():
  for bad in (1, 0, -3):
    with pytest.raises(ValueError, match="at least 2"):
      td.build_vocabulary(["abc"], bad)
  assert td.build_vocabulary(["abc"], 2).size == 2
  with pytest.raises(ValueError, match="line 2 has 5 characters"):
    td.build_vocabulary(["ab"]).encode(["ab", "abcde"], 4)
  assert td.build_vocabulary(["ab"]).encode(["abab"], 2, truncate=True).shape == (1, 2)


def test_load_text_file_errors_are_clear(tmp_path):
  empty = tmp_path / "empty.txt"
  empty.write_text("\n  \n\n")
  with pytest.raises(ValueError, match="empty"):
    td.load_text_file(str(empty))
  long = tmp_path / "long.txt"
  long.write_text("short\n" + "x" * 40 + "\n")
  with pytest.raises(ValueError, match="line 2 has 40 characters.*raise seq_len"):
    td.load_text_file(str(long), 32)
  with pytest.raises(ValueError, match="not a file"):
    td.load_text_file(str(tmp_path / "missing.txt"))
  binary = tmp_path / "bin.txt"
  binary.write_bytes(b"\xff\xfeab\n")
  with pytest.raises(ValueError, match="UTF-8"):
    td.load_text_file(str(binary))
  good = tmp_path / "good.txt"
  good.write_text("one line\n\ntwo lines\r\n")
  assert td.load_text_file(str(good)) == ["one line", "two lines"]


def test_english_corpus_is_offline_prose_in_short_lines():
  lines = td.english_lines(32)
  assert len(lines) > 3000
  assert all(0 < len(l) <= 32 for l in lines)
  text = " ".join(lines)
  assert " the " in text and "::=" not in text
  letters = sum(c.isalpha() or c == " " for c in text) / len(text)
  assert letters > 0.95


def test_markov_language_is_fixed_and_normalised():
  a, b = td.make_markov_language(seed=0), td.make_markov_language(seed=0)
  np.testing.assert_array_equal(a.transition, b.transition)
  np.testing.assert_allclose(a.transition.sum(axis=1), 1.0)
  assert (a.transition > 0).all() and a.initial.sum() == pytest.approx(1.0)
  s = a.sample(10, 32, seed=1)
  assert s == a.sample(10, 32, seed=1) and all(len(l) == 32 for l in s)
  assert set("".join(s)) <= set(a.alphabet)


def test_make_text_data_splits_and_pads(tmp_path):
  d = td.make_text_data("markov", markov_lines=500, heldout=30, seq_len=16)
  assert d.oracle is not None and d.vocab.size == 18
  assert len(d.heldout) == 30 and len(d.train) == 470 and d.tokens.shape == (470, 16)
  assert all(len(l) == 16 for l in d.train + d.heldout)
  f = tmp_path / "t.txt"
  f.write_text("\n".join(["hello", "world", "hi", "ok"] * 5))
  d = td.make_text_data(text_file=str(f), seq_len=8, heldout=640)
  assert len(d.heldout) == 2 and d.train[0] == "hi``````" and d.oracle is None
  with pytest.raises(ValueError, match="at least 2"):
    td.make_text_data(text_file=str(f), max_vocab=1)
  with pytest.raises(ValueError, match="unknown data source"):
    td.make_text_data("shakespeare")


def test_onehot_sampler_draws_real_lines():
  tokens = jnp.array([[2, 3, 1], [3, 3, 3]], jnp.int32)
  sample = td.onehot_sampler(5)
  x = jax.jit(jax.vmap(lambda k: sample(tokens, k)))(jax.random.split(jax.random.key(0), 64))
  assert x.shape == (64, 3, 5) and x.dtype == jnp.float32
  np.testing.assert_array_equal(x.sum(-1), 1.0)
  ids = np.asarray(x.argmax(-1))
  assert {tuple(r) for r in ids} == {(2, 3, 1), (3, 3, 3)}


def test_lm1b_through_tfds_mock_data():
  tfds = pytest.importorskip("tensorflow_datasets")

  def source(builder, split=None, **kwargs):
    return [{"text": b"The first sentence of the benchmark is long."},
            {"text": "  "}, {"text": "Short one."}]

  with tfds.testing.mock_data(num_examples=3, as_data_source_fn=source):
    lines = td.load_lm1b(seq_len=20)
  assert lines == ["The first sentence o", "Short one."]
  with tfds.testing.mock_data(num_examples=50):  # tfds' own random examples
    d = td.make_text_data("lm1b", seq_len=32, heldout=5)
  assert len(d.heldout) == 5 and len(d.train) == 45 and d.tokens.shape == (45, 32)
