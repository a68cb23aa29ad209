"""Evaluators of the jobs: toy mode coverage and exact W1, the digit classifier's metrics, and
the text n-gram scores (each built once per run, called at every evaluation)."""

from __future__ import annotations

from typing import Dict, List

import numpy as np


def toy_metrics(gan, state, dataset, key, n: int):
  """(metrics, samples) of n samples: exact W1 to n real points, and the mode coverage."""
  import jax
  from wgan_jax import mode_coverage, wasserstein1_exact
  k_fake, k_real = jax.random.split(key)
  fake = np.asarray(gan.sample(state, k_fake, n))
  real = np.asarray(dataset.sample(k_real, n))
  if not np.isfinite(fake).all():
    return dict(nonfinite_samples=float((~np.isfinite(fake).all(axis=1)).sum())), fake
  out = dict(w1_exact=wasserstein1_exact(fake, real))
  if dataset.centres is not None:
    out.update(mode_coverage(fake, dataset.centres, dataset.std))
  return out, fake



class DigitMetrics:
  """The offline metrics on (stacked) digits from the project's cached classifier."""

  def __init__(self, data):
    import jax
    from wgan_jax.classifier import classify, load_or_train_digit_classifier
    self.stacked = data.name == "stacked-digits"
    self.params, self.classifier_accuracy = load_or_train_digit_classifier()
    self._classify = jax.jit(lambda x: classify(self.params, x))
    ref = data.train[:, :, :, :1] if self.stacked else data.train
    self.train_features = self.features(ref)[1]
    self.reference = self.of(data.validation) if data.validation is not None else {}
    self.reference["classifier_accuracy"] = self.classifier_accuracy

  def features(self, x):
    out = [self._classify(x[i:i + 2000]) for i in range(0, len(x), 2000)]
    return (np.concatenate([np.asarray(o[0]) for o in out]),
            np.concatenate([np.asarray(o[1]) for o in out]))

  def of(self, x: np.ndarray) -> Dict[str, float]:
    from wgan_jax import image_metrics as im
    x = np.clip(np.asarray(x, np.float32), -1, 1)
    if self.stacked:
      n, h, w, _ = x.shape
      channels = x.transpose(0, 3, 1, 2).reshape(n * 3, h, w, 1)
      logits, feats = self.features(channels)
      out = im.stacked_modes(logits.reshape(n, 3, -1))
      out = dict(modes=out["modes"], kl_to_uniform=out["kl_to_uniform"])
    else:
      logits, feats = self.features(x)
      hist = im.class_histogram(logits)
      out = dict(classes_covered=hist["classes_covered"], kl_to_uniform=hist["kl_to_uniform"])
    out["classifier_score"] = im.classifier_score(logits)
    out["frechet_distance"] = im.frechet_distance(feats, self.train_features)
    out["kernel_distance"] = im.kernel_distance(feats[:2000], self.train_features[:2000])
    return out


def sample_in_chunks(sample, state, key, n: int, chunk: int = 2000) -> np.ndarray:
  """n samples from a jitted `sample(state, key, m)`, `chunk` at a time (bounded memory: the
  patches convolutions hold k² copies of a layer's input). Up to `chunk`: one call with `key`;
  beyond, chunk c uses fold_in(key, c)."""
  import jax
  if n <= chunk:
    return np.asarray(sample(state, key, n))
  parts = [np.asarray(sample(state, jax.random.fold_in(key, c), min(chunk, n - c * chunk)))
           for c in range(-(-n // chunk))]
  return np.concatenate(parts)




class TextEvaluator:
  """Samples the generator and scores the text against the corpus (built once per run)."""

  def __init__(self, gan, data, decode: str = "argmax"):
    import jax
    from wgan_jax import text_metrics as tm
    self.gan, self.data, self.decode = gan, data, decode
    self.n = len(data.heldout)
    self.models = {n: tm.NgramModel(n, data.train) for n in range(1, 5)}
    self.floor = {f"jsd_{n}": m.js_with(tm.NgramModel(n, data.heldout))
                  for n, m in self.models.items()}
    self.words = tm.word_vocabulary(data.train)
    self.refs = [tm.tokenize(l) for l in data.heldout]
    self.references = dict(floor=self.floor)
    if data.oracle is not None:
      self.references.update(
          true_entropy_rate=data.oracle.entropy_rate(data.seq_len),
          uniform_oracle_nll=data.oracle.uniform_nll(data.seq_len),
          heldout_oracle_nll=tm.oracle_nll(data.oracle, data.heldout))
    self.references.update(
        heldout_in_vocabulary=tm.in_vocabulary_share(data.heldout, self.words))
    self._probs = jax.jit(lambda state, key: gan.sample(state, key, self.n))

  def lines(self, state, key) -> List[str]:
    import jax
    from wgan_jax.models.text import decode_tokens
    k_z, k_dec = jax.random.split(key)
    ids = decode_tokens(self._probs(state, k_z), self.decode, k_dec)
    return self.data.vocab.decode(np.asarray(ids))

  def score(self, lines: List[str]) -> Dict[str, float]:
    from wgan_jax import text_metrics as tm
    out = tm.ngram_jsds(self.models, lines)
    if self.data.oracle is not None:
      out["oracle_nll"] = tm.oracle_nll(self.data.oracle, lines)
    out["in_vocabulary"] = tm.in_vocabulary_share(lines, self.words)
    hyps = [tm.tokenize(l) for l in lines]
    out["bleu2"] = tm.bleu(hyps, self.refs, max_n=2)
    out["bleu4"] = tm.bleu(hyps, self.refs, max_n=4)
    return out

  def __call__(self, state, key):
    lines = self.lines(state, key)
    return self.score(lines), lines




def text_curve(gan, data, *, iters: int, eval_every: int, seed: int = 0,
               iters_per_call: int = 25, decode: str = "argmax", log_every: int = 10) -> Dict:
  """Train a language GAN in-process without files (the figures' and tests' run): the scores
  at 0 and every `eval_every`, the losses, and the final samples.

  Returns dict(evaluations=[{iteration, seconds, jsd_1.., ...}], history={iteration, d_loss,
  ...}, references=..., samples=[final lines], seconds).
  """
  import jax
  from experiments.loop import LoopConfig, train_and_evaluate
  ev = TextEvaluator(gan, data, decode)
  loop = LoopConfig(iters=iters, eval_every=eval_every, seed=seed, iters_per_call=iters_per_call,
                    log_every=log_every, progress=False, eval_at_start=True)
  r = train_and_evaluate(gan, loop, None, data=jax.numpy.asarray(data.tokens),
                         evaluate=lambda state, key, it: ev(state, key)[0])
  scores, lines = ev(r.state, r.final_key)
  evals = r.evaluations + [dict(iteration=r.generator_iterations, seconds=r.train_seconds,
                                **scores)]
  return dict(evaluations=evals, history=r.history, references=ev.references, samples=lines,
              seconds=r.train_seconds)
