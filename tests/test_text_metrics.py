"""Text metrics: n-gram JSD (official definition), oracle NLL, in-vocabulary words, BLEU."""

import math

import numpy as np
import pytest

from wgan_jax import text_metrics as tm
from wgan_jax.data.text import MarkovLanguage, make_markov_language


def test_jsd_of_identical_corpora_is_zero_and_of_disjoint_is_one_bit():
  a = ["abcab", "bcabc"]
  for n in range(1, 5):
    assert tm.ngram_jsd(a, list(a), n) == pytest.approx(0.0, abs=1e-12)
    assert tm.ngram_jsd(a, ["xyzxy", "zzzzz"], n) == pytest.approx(1.0, abs=1e-12)


def test_jsd_matches_a_hand_computed_example():
  # unigrams: p = {a: 3/4, b: 1/4}, q = {a: 1/4, c: 3/4}.
  p, q = np.array([0.75, 0.25, 0.0]), np.array([0.25, 0.0, 0.75])
  m = (p + q) / 2
  kl = lambda x: sum(xi * math.log(xi / mi) for xi, mi in zip(x, m) if xi > 0)
  expected = 0.5 * (kl(p) + kl(q)) / math.log(2)
  assert tm.ngram_jsd(["aaab"], ["acc", "c"], 1) == pytest.approx(expected, rel=1e-12)
  # bigrams of "aab" and "abb": {aa, ab} vs {ab, bb}, each 1/2: JSD = 1/2 bit.
  assert tm.ngram_jsd(["aab"], ["abb"], 2) == pytest.approx(0.5, rel=1e-12)


def test_jsd_is_symmetric_and_accepts_prebuilt_models():
  a, b = ["hello world", "help"], ["yellow", "hollow word"]
  m = tm.NgramModel(3, a)
  assert tm.ngram_jsd(m, b, 3) == pytest.approx(tm.ngram_jsd(b, a, 3), rel=1e-12)
  assert set(tm.ngram_jsds({1: tm.NgramModel(1, a), 2: tm.NgramModel(2, a)}, b)) == {
      "jsd_1", "jsd_2"}
  with pytest.raises(ValueError, match="order"):
    tm.ngram_jsd(m, b, 2)


def test_oracle_nll_of_true_samples_is_the_entropy_rate():
  lang = make_markov_language(seed=0)
  h = lang.entropy_rate(32)
  nll = tm.oracle_nll(lang, lang.sample(4000, 32, seed=3))
  assert 0.5 < h < math.log(16)
  assert nll == pytest.approx(h, rel=0.02)


def test_uniform_chain_gives_log_v_and_uniform_text_gives_its_exact_expectation():
  a = "abcd"
  uniform = MarkovLanguage(a, np.full(4, 0.25), np.full((4, 4), 0.25))
  assert tm.oracle_nll(uniform, ["abcdabcd", "ddcc"]) == pytest.approx(math.log(4))
  assert uniform.entropy_rate(8) == pytest.approx(math.log(4))
  assert uniform.uniform_nll(8) == pytest.approx(math.log(4))
  lang = make_markov_language(seed=1)
  rng = np.random.default_rng(0)
  text = ["".join(rng.choice(list(lang.alphabet), 32)) for _ in range(3000)]
  assert tm.oracle_nll(lang, text) == pytest.approx(lang.uniform_nll(32), rel=0.02)
  assert lang.uniform_nll(32) > math.log(16) > lang.entropy_rate(32)


def test_oracle_scores_impossible_characters_at_the_floor():
  lang = MarkovLanguage("ab", np.array([0.5, 0.5]), np.full((2, 2), 0.5))
  lp = lang.token_log_probs(["a`b"], floor=1e-6)
  np.testing.assert_allclose(lp[0], [math.log(0.5), math.log(1e-6), math.log(1e-6)])


def test_in_vocabulary_share():
  vocab = tm.word_vocabulary(["the cat sat", "on the mat"])
  assert tm.in_vocabulary_share(["the dog sat``", "mat, cat"], vocab) == pytest.approx(4 / 5)
  assert tm.in_vocabulary_share(["```", ""], vocab) == 0.0


def test_bleu_of_a_sentence_against_itself_is_one():
  s = tm.tokenize("the cat sat on the mat``")
  assert s == ["the", "cat", "sat", "on", "the", "mat"]
  assert tm.bleu([s], [s]) == pytest.approx(1.0)
  assert tm.bleu([s], [s, ["a", "b"]], max_n=2) == pytest.approx(1.0)


def test_bleu_hand_computed_with_smoothing_and_brevity():
  ref = ["the", "cat", "is", "on", "the", "mat"]
  # "the the": p1 = min(2, 2)/2 = 1, p2 = 0 -> 0.1/1 (method1); c = 2 < r = 6: BP = e^(1-3).
  hyp = ["the", "the"]
  expected = math.exp(1 - 6 / 2) * math.exp(0.5 * (math.log(1.0) + math.log(0.1)))
  assert tm.bleu([hyp], [ref], max_n=2) == pytest.approx(expected, rel=1e-12)
  # no unigram match at all: 0 (as nltk); mean over hypotheses.
  assert tm.bleu([["dog"]], [ref]) == 0.0
  assert tm.bleu([["dog"], ref], [ref]) == pytest.approx(0.5)
  # the closest reference length, the shorter on ties: |h| = 3, refs 2 and 4 -> r = 2, BP = 1.
  assert tm.bleu([["a", "b", "c"]], [["a", "b"], ["a", "b", "c", "d"]], max_n=1) == 1.0
