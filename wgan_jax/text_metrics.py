"""Metrics of generated text: n-gram JSD, oracle NLL, in-vocabulary words, BLEU (numpy only).

* Character n-gram Jensen–Shannon divergence in bits, exactly as the official WGAN-GP
  `language_helpers.NgramLanguageModel.js_with` computes it (docs/papers.md §4): an n-gram model is
  the counts of every length-n window of each fixed-length line (padding included), its log
  probability log count − log total (−∞ when unseen), and

    JSD(p, q) = ½ [Σ_{g ∈ supp p} p(g) log(p(g)/m(g)) + Σ_{g ∈ supp q} q(g) log(q(g)/m(g))] / ln 2,

  m = (p + q)/2, in [0, 1] bit. The floor to compare a generator with is the JSD between the
  training lines and as many held-out lines as there are samples.
* Oracle NLL (SeqGAN): −(1/(N·L)) Σ_n Σ_t log p_true(x_t | x_<t) of generated text under the
  true model of a synthetic language.
* The share of generated words found in the corpus vocabulary.
* BLEU (Papineni et al. 2002) of each generated line against all held-out lines as references,
  with nltk's smoothing method 1 (ε = 0.1 for zero n-gram matches), averaged over lines, as
  Texygen computes it.
"""

from __future__ import annotations

import collections
import math
import re
from typing import Dict, Iterable, List, Sequence, Union

import numpy as np


class NgramModel:
  """Counts of the character n-grams of fixed-length lines (official `NgramLanguageModel`)."""

  def __init__(self, n: int, lines: Iterable[str]):
    if n < 1:
      raise ValueError(f"the n-gram order must be at least 1, got {n}")
    self.n = n
    self.counts = collections.Counter()
    for line in lines:
      self.counts.update(line[i:i + n] for i in range(len(line) - n + 1))
    self.total = sum(self.counts.values())
    if self.total == 0:
      raise ValueError(f"no {n}-gram in the text: lines are shorter than {n} characters")

  def log_probs(self, ngrams: Sequence[str]) -> np.ndarray:
    """Natural-log probabilities of `ngrams` (−inf when unseen)."""
    c = np.array([self.counts.get(g, 0) for g in ngrams], dtype=np.float64)
    with np.errstate(divide="ignore"):
      return np.log(c) - np.log(self.total)

  def js_with(self, other: "NgramModel") -> float:
    """JSD(self, other) in bits (symmetric; 0 for equal distributions, 1 for disjoint)."""
    def half(p: NgramModel, q: NgramModel) -> float:
      grams = list(p.counts)
      log_p, log_q = p.log_probs(grams), q.log_probs(grams)
      log_m = np.logaddexp(log_p - np.log(2), log_q - np.log(2))
      return float(np.sum(np.exp(log_p) * (log_p - log_m)))
    return 0.5 * (half(self, other) + half(other, self)) / math.log(2)


LinesOrModel = Union[Sequence[str], NgramModel]


def ngram_jsd(real: LinesOrModel, fake: LinesOrModel, n: int) -> float:
  """Character n-gram JSD in bits between two sets of lines (or prebuilt `NgramModel`s)."""
  p = real if isinstance(real, NgramModel) else NgramModel(n, real)
  q = fake if isinstance(fake, NgramModel) else NgramModel(n, fake)
  if p.n != n or q.n != n:
    raise ValueError(f"n-gram models of order {p.n} and {q.n} for n = {n}")
  return p.js_with(q)


def ngram_jsds(real_models: Dict[int, NgramModel], fake: Sequence[str]) -> Dict[str, float]:
  """{"jsd_1": ..., "jsd_4": ...}: the JSD of `fake` against each prebuilt real model."""
  return {f"jsd_{n}": ngram_jsd(m, fake, n) for n, m in sorted(real_models.items())}


def oracle_nll(oracle, lines: Sequence[str], *, floor: float = 1e-6) -> float:
  """Mean per-character NLL (nats) of `lines` under a true model (`MarkovLanguage`):
  −(1/(N·L)) Σ log p_true(x_t | x_{t−1}); characters the model cannot emit count as `floor`."""
  rows = oracle.token_log_probs(lines, floor=floor)
  lp = np.concatenate(rows) if rows else np.zeros(0)
  if lp.size == 0:
    raise ValueError("no text to score")
  return float(-np.mean(lp))


_WORD = re.compile(r"[A-Za-z0-9']+")


def words(line: str) -> List[str]:
  """Lower-case alphanumeric words of a line (pad and punctuation separate words)."""
  return [w.lower() for w in _WORD.findall(line)]


def word_vocabulary(lines: Iterable[str]) -> set:
  return {w for line in lines for w in words(line)}


def in_vocabulary_share(samples: Sequence[str], vocabulary: set) -> float:
  """The share of the words of `samples` that are in `vocabulary` (0 when no word at all)."""
  ws = [w for line in samples for w in words(line)]
  return float(np.mean([w in vocabulary for w in ws])) if ws else 0.0


def tokenize(line: str) -> List[str]:
  """Word-level tokens for BLEU: words and single punctuation marks (pad characters dropped)."""
  return re.findall(r"\w+|[^\w\s`]", line)


def _ngrams(tokens: Sequence[str], n: int) -> collections.Counter:
  return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
         max_n: int = 4, epsilon: float = 0.1) -> float:
  """Mean sentence BLEU-`max_n` of each hypothesis against all `references` (token lists).

  For one hypothesis h: p_k = Σ_g min(c_h(g), max_r c_r(g)) / max(1, Σ_g c_h(g)) over its
  k-grams g; a zero numerator becomes ε (nltk `SmoothingFunction().method1`); BLEU is 0 when no
  unigram matches; BP = 1 if |h| > r else exp(1 − r/|h|), r the closest reference length (the
  shorter on ties); BLEU = BP · exp(Σ_k (1/max_n) log p_k). Equals nltk's `sentence_bleu` with
  uniform weights and method1.

  References:
    Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine Translation", ACL 2002;
    Zhu et al., "Texygen", SIGIR 2018 (BLEU against the test set).
  """
  if not references:
    raise ValueError("BLEU needs at least one reference")
  max_ref = [collections.Counter() for _ in range(max_n)]
  for ref in references:
    for k in range(max_n):
      for g, c in _ngrams(ref, k + 1).items():
        if c > max_ref[k][g]:
          max_ref[k][g] = c
  ref_lens = np.array(sorted({len(r) for r in references}))
  scores = []
  for hyp in hypotheses:
    h = len(hyp)
    nums, dens = [], []
    for k in range(max_n):
      counts = _ngrams(hyp, k + 1)
      nums.append(sum(min(c, max_ref[k].get(g, 0)) for g, c in counts.items()))
      dens.append(max(1, sum(counts.values())))
    if nums[0] == 0:
      scores.append(0.0)
      continue
    r = int(ref_lens[np.lexsort((ref_lens, np.abs(ref_lens - h)))[0]])
    bp = 1.0 if h > r else math.exp(1 - r / h)
    logs = [math.log((n if n else epsilon) / d) for n, d in zip(nums, dens)]
    scores.append(bp * math.exp(math.fsum(logs) / max_n))
  return float(np.mean(scores)) if scores else 0.0
