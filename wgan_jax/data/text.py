"""Character text for the language GAN: vocabulary, corpora, a synthetic oracle language.

As in the official WGAN-GP `gan_language.py` (docs/papers.md §2): every sequence is `seq_len`
characters (32), padded on the right with the pad character '`'; the vocabulary is 'unk'
(id 0), then pad (id 1), then the `max_vocab − 2` most frequent characters; rarer characters
map to 'unk'. Text is held as an int32 token array [N, L] and a GAN draws its real examples
inside the compiled step as one-hot vectors [L, V] (`onehot_sampler`).

Corpora:
  * any UTF-8 text file, one sequence per line (`load_text_file`; clear errors for an empty
    file or a line longer than the sequence length);
  * English prose shipped inside Python itself: the reference-manual topics of `pydoc_data`
    (the text of `help('topics')`), with code and grammar lines dropped, re-wrapped into lines
    of at most 32 characters at word boundaries (`english_lines`; no download);
  * a synthetic language with a known probability model: a fixed random first-order Markov
    chain over 16 characters (`MarkovLanguage`), so the exact log-likelihood of any text under
    the true model can be measured (SeqGAN's oracle NLL);
  * the Billion Word benchmark (`lm1b`) of the paper through tensorflow-datasets
    (`load_lm1b`; imported lazily, needs the internet the first time).
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from wgan_jax.errors import ConfigError

PAD = "`"
UNK = "\ufffd"   # how 'unk' is shown when decoding
UNK_ID = 0
PAD_ID = 1
DATA_SOURCES = ("english", "markov", "lm1b")


@dataclasses.dataclass(frozen=True)
class Vocabulary:
  """Characters by id: 0 is 'unk', 1 is the pad '`', then characters by falling frequency."""
  chars: Tuple[str, ...]

  @property
  def size(self) -> int:
    return len(self.chars)

  @property
  def index(self) -> dict:
    return {c: i for i, c in enumerate(self.chars) if i != UNK_ID}

  def encode(self, lines: Sequence[str], seq_len: int, *, truncate: bool = False) -> np.ndarray:
    """int32 ids [N, seq_len]: padded with the pad id, unknown characters to 'unk' (0).

    Raises:
      ValueError: a line longer than `seq_len` (unless `truncate`), naming the line.
    """
    index = self.index
    out = np.full((len(lines), seq_len), PAD_ID, np.int32)
    for i, line in enumerate(lines):
      if len(line) > seq_len:
        if not truncate:
          raise ValueError(f"line {i + 1} has {len(line)} characters, more than the sequence "
                           f"length {seq_len}")
        line = line[:seq_len]
      out[i, :len(line)] = [index.get(c, UNK_ID) for c in line]
    return out

  def decode(self, ids, *, strip_pad: bool = False) -> List[str]:
    """Strings from ids [N, L] (fixed length, pad included unless `strip_pad`)."""
    ids = np.asarray(ids)
    table = np.asarray(self.chars, dtype=object)
    lines = ["".join(row) for row in table[ids]]
    return [l.rstrip(PAD) for l in lines] if strip_pad else lines


def build_vocabulary(lines: Iterable[str], max_vocab: int = 2048) -> Vocabulary:
  """'unk', pad and the `max_vocab − 2` most frequent characters of `lines` (ties by code).

  Raises:
    ValueError: `max_vocab` < 2 (there must be room for 'unk' and the pad).
  """
  if isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab < 2:
    raise ValueError(f"the vocabulary limit must be at least 2 ('unk' and the pad "
                     f"'{PAD}'), got {max_vocab!r}")
  counts = collections.Counter()
  for line in lines:
    counts.update(line)
  counts.pop(PAD, None)
  ranked = sorted(counts, key=lambda c: (-counts[c], c))[:max_vocab - 2]
  return Vocabulary((UNK, PAD) + tuple(ranked))


# ------------------------------------------------------------------------------ text files
def load_text_file(path: str, seq_len: int = 32) -> List[str]:
  """The non-empty lines of a UTF-8 text file (line endings removed), one sequence each.

  Raises:
    ValueError: no such file, not UTF-8, no line with a character other than blanks and the
      pad '`' (such lines are skipped: the model reads the pad as the end), or a line longer
      than `seq_len` (naming the line and its length); naming `seq_len`, for one that is not a
      positive integer. A leading UTF-8 byte-order mark is not part of the text.
  """
  if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
    raise ConfigError("seq_len", f"must be a positive integer, got {seq_len!r}")
  if not os.path.isfile(path):
    raise ValueError(f"{path} is not a file")
  try:
    with open(path, encoding="utf-8-sig") as f:  # -sig: a leading byte-order mark is dropped
      raw = f.read()
  except UnicodeDecodeError as e:
    raise ValueError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
  lines = []
  for number, line in enumerate(raw.splitlines(), 1):
    if not line.replace(PAD, "").strip():   # blank once the pad character is taken out
      continue
    if len(line) > seq_len:
      raise ValueError(f"{path}: line {number} has {len(line)} characters, more than the "
                       f"sequence length {seq_len}; wrap the text or raise seq_len")
    lines.append(line)
  if not lines:
    raise ValueError(f"{path} is empty: no line with a character to learn besides blanks and "
                     f"the pad '{PAD}'")
  return lines


def wrap_words(text: str, width: int) -> List[str]:
  """Greedy word wrap into lines of at most `width` characters; longer words are dropped."""
  lines, current = [], ""
  for word in text.split():
    if len(word) > width:
      continue
    if current and len(current) + 1 + len(word) <= width:
      current += " " + word
    else:
      if current:
        lines.append(current)
      current = word
  if current:
    lines.append(current)
  return lines


_PROSE = re.compile(r"^[A-Za-z][A-Za-z0-9 ,.;:'()\-]*$")


def english_lines(seq_len: int = 32, *, shuffle_seed: Optional[int] = 0) -> List[str]:
  """English prose from Python's own reference-manual topics (`pydoc_data.topics`).

  Paragraphs of running text only: indented code and grammar lines are dropped, as are
  paragraphs where more than a fifth of the words hold markup or symbols (those words are
  dropped from the rest; the quotes and '*' around keywords are removed); what remains is
  re-wrapped at word boundaries into lines of at most `seq_len` characters and shuffled with a
  fixed seed (about 9,000 lines at 32 characters).
  """
  from pydoc_data.topics import topics
  paragraphs = []
  for name in sorted(topics):
    for para in re.split(r"\n\s*\n", topics[name]):
      rows = para.split("\n")
      if any(r.startswith(" ") for r in rows):  # code, grammar, tables, quoted examples
        continue
      text = " ".join(r.strip() for r in rows).replace('"', "").replace("*", "")
      words = [w for w in text.split() if _PROSE.match(w)]
      if len(words) >= 8 and len(words) >= 0.8 * len(text.split()):
        paragraphs.append(" ".join(words))
  lines = [l for p in paragraphs for l in wrap_words(p, seq_len)]
  if shuffle_seed is not None:
    order = np.random.default_rng(shuffle_seed).permutation(len(lines))
    lines = [lines[i] for i in order]
  return lines


# ------------------------------------------------------------------------------ oracle
@dataclasses.dataclass(frozen=True)
class MarkovLanguage:
  """A first-order Markov chain over characters: the synthetic language with a known model.

  p(x) = π(x₁) · Π_{t>1} T[x_{t−1}, x_t] for sequences of exactly L characters (no padding).

  Attributes:
    alphabet: the characters (no pad, no 'unk').
    initial: π [A], the distribution of the first character.
    transition: T [A, A], each row a distribution (every entry > 0).
  """
  alphabet: str
  initial: np.ndarray
  transition: np.ndarray

  def sample(self, n: int, seq_len: int, seed: int = 0) -> List[str]:
    """n sequences of `seq_len` characters drawn from the chain (numpy, fixed seed)."""
    rng = np.random.default_rng(seed)
    a = len(self.alphabet)
    cum = np.cumsum(self.transition, axis=1)
    x = np.empty((n, seq_len), np.int64)
    x[:, 0] = rng.choice(a, size=n, p=self.initial)
    for t in range(1, seq_len):
      u = rng.random(n)[:, None]
      x[:, t] = np.minimum((u > cum[x[:, t - 1]]).sum(axis=1), a - 1)
    chars = np.asarray(list(self.alphabet), dtype=object)
    return ["".join(row) for row in chars[x]]

  def token_log_probs(self, lines: Sequence[str], *, floor: float = 1e-6) -> List[np.ndarray]:
    """log p(x_t | x_{t−1}) of each character (natural log): one array per line.

    Characters outside the alphabet (pad, 'unk', anything else) have probability 0 under the
    true model; they (and the character after them) are scored as `floor` so the mean stays
    finite, i.e. −log floor ≈ 13.8 nats each.
    """
    index = {c: i for i, c in enumerate(self.alphabet)}
    logf = np.log(floor)
    log_t = np.log(np.maximum(self.transition, floor))
    log_pi = np.log(np.maximum(self.initial, floor))
    out = []
    for line in lines:
      ids = [index.get(c, -1) for c in line]
      row = np.empty(len(ids))
      for t, i in enumerate(ids):
        prev = ids[t - 1] if t else None
        if i < 0 or (t and prev < 0):
          row[t] = logf
        else:
          row[t] = log_pi[i] if t == 0 else log_t[prev, i]
      out.append(row)
    return out

  def entropy_rate(self, seq_len: int) -> float:
    """Exact per-character entropy (nats) of sequences of `seq_len` characters:
    (1/L)[H(π) + Σ_{t=1}^{L−1} Σ_a μ_{t−1}(a) H(T[a])], μ_t the marginal at position t."""
    h_rows = -np.sum(self.transition * np.log(self.transition), axis=1)
    mu = self.initial.astype(np.float64)
    total = -np.sum(mu * np.log(mu))
    for _ in range(seq_len - 1):
      total += mu @ h_rows
      mu = mu @ self.transition
    return float(total / seq_len)

  def uniform_nll(self, seq_len: int) -> float:
    """Exact expected oracle NLL per character of text drawn uniformly from the alphabet:
    (1/L)[−mean log π + (L−1)·(−mean log T)], ≥ log A (Jensen), = log A for a uniform chain."""
    return float((-np.mean(np.log(self.initial))
                  - (seq_len - 1) * np.mean(np.log(self.transition))) / seq_len)


def make_markov_language(seed: int = 0, alphabet: str = "abcdefghijklmno ",
                         concentration: float = 0.1, smoothing: float = 0.02) -> MarkovLanguage:
  """A fixed random chain: rows ~ Dirichlet(concentration) (sparse, so it has structure),
  mixed with `smoothing` of the uniform distribution so every transition is possible."""
  rng = np.random.default_rng(seed)
  a = len(alphabet)
  t = rng.dirichlet(np.full(a, concentration), size=a)
  t = (1 - smoothing) * t + smoothing / a
  pi = (1 - smoothing) * rng.dirichlet(np.ones(a)) + smoothing / a
  return MarkovLanguage(alphabet, pi / pi.sum(), t / t.sum(axis=1, keepdims=True))


# ------------------------------------------------------------------------------ lm1b
def load_lm1b(seq_len: int = 32, max_lines: int = 100_000, split: str = "train",
              data_dir: Optional[str] = None) -> List[str]:
  """Lines of the One Billion Word benchmark (tensorflow-datasets `lm1b`), as the paper.

  Each sentence is truncated to `seq_len` characters (the official code truncates too). The
  first call downloads and prepares the data set (about 1.7 GB; needs the internet); the
  import is lazy so the rest of the library never needs tensorflow-datasets.

  Raises:
    ValueError: tensorflow-datasets is not installed or the data set cannot be prepared.
  """
  try:
    import tensorflow_datasets as tfds
  except ImportError:
    raise ValueError("lm1b needs tensorflow-datasets and array-record (the [tfds] extra: "
                     "pip install 'wgan-jax[tfds]')") from None
  try:
    source = tfds.data_source("lm1b", split=split, data_dir=data_dir,
                              builder_kwargs=dict(file_format="array_record"))
  except Exception as e:  # tfds raises many types (download, preparation, missing deps)
    raise ValueError(f"could not load lm1b through tensorflow-datasets: {e}") from None
  lines = []
  for i in range(min(len(source), max_lines)):
    text = source[i]["text"]
    if isinstance(text, bytes):
      text = text.decode("utf-8", errors="replace")
    text = text.strip()
    if text:
      lines.append(text[:seq_len])
  if not lines:
    raise ValueError("lm1b gave no lines")
  return lines


# ------------------------------------------------------------------------------ sampling
def onehot_sampler(vocab_size: int) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """sample_real(tokens [N, L] int32, key) -> one random line as one-hot float32 [L, V]."""
  def sample_real(tokens, key):
    i = jax.random.randint(key, (), 0, tokens.shape[0])
    return jax.nn.one_hot(tokens[i], vocab_size, dtype=jnp.float32)
  return sample_real


@dataclasses.dataclass
class TextData:
  """A corpus split for training and evaluation.

  Attributes:
    name: "english", "markov", "lm1b" or the file's path.
    vocab: the vocabulary built from the training lines.
    train: training lines, padded to `seq_len` (as the n-gram models see them).
    heldout: held-out lines, padded (the JSD floor and the BLEU references).
    tokens: int32 [N, seq_len] ids of `train`, what the GAN samples from.
    seq_len: characters per sequence.
    oracle: the true model for the synthetic language, else None.
  """
  name: str
  vocab: Vocabulary
  train: List[str]
  heldout: List[str]
  tokens: np.ndarray
  seq_len: int
  oracle: Optional[MarkovLanguage] = None


def make_text_data(source: str = "english", *, text_file: Optional[str] = None,
                   seq_len: int = 32, max_vocab: int = 2048, heldout: int = 640,
                   markov_lines: int = 20_000, max_lines: int = 100_000,
                   seed: int = 0) -> TextData:
  """Load (or generate) a corpus, build its vocabulary and hold out `heldout` lines.

  The held-out lines are the first `heldout` (at most a tenth of the corpus) as in the official
  code; the n-gram floor compares them with the remaining training lines.

  Raises:
    ValueError: bad sizes, an unknown source, or the loaders' errors.
  """
  if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
    raise ValueError(f"the sequence length must be a positive integer, got {seq_len!r}")
  build_vocabulary([], max_vocab)  # validates max_vocab before any loading
  oracle = None
  if text_file is not None:
    lines, name = load_text_file(text_file, seq_len), text_file
  elif source == "english":
    lines, name = english_lines(seq_len), "english"
  elif source == "markov":
    oracle = make_markov_language(seed=0)
    lines, name = oracle.sample(markov_lines, seq_len, seed=seed), "markov"
  elif source == "lm1b":
    lines, name = load_lm1b(seq_len, max_lines), "lm1b"
  else:
    raise ValueError(f"unknown data source {source!r}; choose one of {list(DATA_SOURCES)}")
  if len(lines) < 2:
    raise ValueError(f"{name} has {len(lines)} line; at least 2 are needed (training and "
                     "held-out)")
  n_held = max(1, min(heldout, len(lines) // 10))
  held, train = lines[:n_held], lines[n_held:]
  vocab = build_vocabulary(train, max_vocab)
  if len(vocab.chars) <= 2:
    raise ValueError(f"{name}: its training lines hold no character besides the pad '{PAD}'; "
                     "there is nothing to learn")
  tokens = vocab.encode(train, seq_len)
  # What the n-gram models compare: fixed-length lines as the GAN sees them (pad included,
  # rare characters as 'unk').
  return TextData(name, vocab, vocab.decode(tokens), vocab.decode(vocab.encode(held, seq_len)),
                  tokens, seq_len, oracle)
