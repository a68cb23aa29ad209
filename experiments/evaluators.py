"""Evaluators of the jobs: toy mode coverage and exact W1, the digit and Fashion-MNIST
classifiers' metrics, and the text n-gram scores (each built once per run, called at every
evaluation)."""

from __future__ import annotations

import sys
from typing import Dict, List

import jax
import numpy as np

from experiments.builders import text_gan_for
from experiments.loop import LoopConfig, train_and_evaluate
from experiments.plots import jsd_figure
from wgan_jax import classifier
from wgan_jax import image_metrics as im
from wgan_jax import inception
from wgan_jax import inception_metrics
from wgan_jax import mode_coverage
from wgan_jax import text_metrics as tm
from wgan_jax import wasserstein1_exact
from wgan_jax.classifier import classify, classify_in_chunks, load_or_train_digit_classifier
from wgan_jax.data.text import make_text_data
from wgan_jax.models.text import decode_tokens


def toy_metrics(gan, state, dataset, key, n: int):
  """(metrics, samples) of n samples: exact W1 to n real points, and the mode coverage."""
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


def _to_stderr(line: str) -> None:
  print(line, file=sys.stderr, flush=True)


class FashionMetrics:
  """The offline metrics on Fashion-MNIST from the project's cached Fashion-MNIST classifier
  (`wgan_jax.classifier.FASHION_MNIST`: trained once, its test accuracy in the reference). Every
  name says whose they are: none of them is an Inception-based number.

  Of n samples (images in [−1, 1], 28×28×1):
    fashion_classifier_score: exp(E_x KL(p(y|x) ‖ p(y))) of this classifier (1 to 10).
    fashion_frechet_distance, fashion_kernel_distance: Fréchet distance and KID (cubic kernel,
      first 2000 of each) between this classifier's 128 penultimate features of the samples and
      of the training images.
    fashion_classes_covered: classes that are the arg-max prediction of at least `MIN_SHARE`
      (1%, a tenth of a class's share in the balanced data) of the samples; fashion_kl_to_uniform:
      KL(predicted-class histogram ‖ uniform).
    nearest_train_share: the memorisation detector. d(x) = min_j ‖x − t_j‖₂, the Euclidean
      pixel distance from a sample x to its nearest training image t_j. The threshold τ is the
      `NEIGHBOUR_QUANTILE` (5%) quantile of d over `CALIBRATION` (2000) held-out test images,
      i.e. the distance within which only 5% of unseen real images have a training image. The
      share is the fraction of samples with d(x) < τ: ≈ 0.05 for a generator that samples the
      data distribution without copying its training set, 1 for one that reproduces training
      images (copies give d = 0), 0 for samples far from every training image.

  `reference` holds the same metrics of the real test split against the training split (what a
  generator that draws fresh real images scores), on the test images after the calibration
  ones, at most `num_samples` of them (Fréchet and KID depend on the sample size), and the
  classifier's `fashion_classifier_test_accuracy`.
  """

  MIN_SHARE = 0.01
  NEIGHBOUR_QUANTILE = 0.05
  CALIBRATION = 2000

  def __init__(self, data, num_samples: int | None = None, *, directory: str | None = None,
               cache_dir: str | None = None, recipe=None):
    self.recipe = recipe or classifier.FASHION_MNIST
    self.params, self.info = classifier.load_or_train_fashion_classifier(
        cache_dir, directory, self.recipe, announce=_to_stderr)
    self.train = np.asarray(data.train, np.float32)
    self.train_features = self.features(self.train)[1]
    test = np.asarray(data.validation, np.float32)
    cal = min(self.CALIBRATION, len(test) // 2)
    self.threshold = float(np.quantile(self.neighbour_distances(test[:cal]),
                                       self.NEIGHBOUR_QUANTILE))
    held_out = test[cal:cal + num_samples] if num_samples else test[cal:]
    self.reference = self.of(held_out)
    self.reference["fashion_classifier_test_accuracy"] = self.info["test_accuracy"]

  def features(self, x):
    return classify_in_chunks(self.params, x, self.recipe)

  def neighbour_distances(self, x):
    return im.nearest_neighbour_distances(x, self.train)

  def of(self, x: np.ndarray) -> Dict[str, float]:
    x = np.clip(np.asarray(x, np.float32), -1, 1)
    logits, feats = self.features(x)
    hist = im.class_histogram(logits, min_share=self.MIN_SHARE)
    return dict(
        fashion_classifier_score=im.classifier_score(logits),
        fashion_frechet_distance=im.frechet_distance(feats, self.train_features),
        fashion_kernel_distance=im.kernel_distance(feats[:2000], self.train_features[:2000]),
        fashion_classes_covered=hist["classes_covered"],
        fashion_kl_to_uniform=hist["kl_to_uniform"],
        nearest_train_share=im.nearest_train_share(self.neighbour_distances(x), self.threshold))


def label_accuracy(metrics, fake: np.ndarray, labels: np.ndarray) -> float:
  """The share of samples generated for class c that the project's classifier (of `metrics`:
  `DigitMetrics` or `FashionMetrics`) calls c: 1 when the label controls the sample, about
  1/C when it is ignored."""
  logits = metrics.features(np.clip(np.asarray(fake, np.float32), -1, 1))[0]
  return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))


def sample_in_chunks(sample, state, key, n: int, chunk: int = 2000) -> np.ndarray:
  """n samples from a jitted `sample(state, key, m)`, `chunk` at a time (bounded memory: the
  patches convolutions hold k² copies of a layer's input). Up to `chunk`: one call with `key`;
  beyond, chunk c uses fold_in(key, c)."""
  if n <= chunk:
    return np.asarray(sample(state, key, n))
  parts = [np.asarray(sample(state, jax.random.fold_in(key, c), min(chunk, n - c * chunk)))
           for c in range(-(-n // chunk))]
  return np.concatenate(parts)




class TextEvaluator:
  """Samples the generator and scores the text against the corpus (built once per run)."""

  def __init__(self, gan, data, decode: str = "argmax"):
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
    k_z, k_dec = jax.random.split(key)
    ids = decode_tokens(self._probs(state, k_z), self.decode, k_dec)
    return self.data.vocab.decode(np.asarray(ids))

  def score(self, lines: List[str]) -> Dict[str, float]:
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
  ev = TextEvaluator(gan, data, decode)
  loop = LoopConfig(iters=iters, eval_every=eval_every, seed=seed, iters_per_call=iters_per_call,
                    log_every=log_every, progress=False, eval_at_start=True)
  r = train_and_evaluate(gan, loop, None, data=jax.numpy.asarray(data.tokens),
                         evaluate=lambda state, key, it: ev(state, key)[0],
                         final=lambda state, key, it: ev(state, key))
  return dict(evaluations=r.evaluations, history=r.history, references=ev.references,
              samples=r.final_output, seconds=r.train_seconds)


def text_pair_curves(data, s: Dict, *, seed: int = 0, tiny: bool = False) -> Dict[str, Dict]:
  """`text_curve` of `wgan-gp` and of `nsgan` on the same corpus with the same generator and
  critic (settings `s`: width, num_blocks, batch_size, n_critic (wgan-gp only), lr, iters,
  eval_every, and optionally log_every, the history's step: default 1 if `tiny` else 5): the
  text figures' comparison of WGAN-GP §5.5."""
  curves = {}
  for objective in ("wgan-gp", "nsgan"):
    gan = text_gan_for(objective, data.vocab.size, width=s["width"], num_blocks=s["num_blocks"],
                       batch_size=s["batch_size"],
                       n_critic=s["n_critic"] if objective == "wgan-gp" else 1,
                       lr_d=s["lr"], lr_g=s["lr"])
    curves[objective] = text_curve(
        gan, data, iters=s["iters"], eval_every=s["eval_every"], seed=seed,
        iters_per_call=min(25, s["eval_every"]),
        log_every=s.get("log_every", 1 if tiny else 5))
  return curves


# ------------------------------------------------------------ the text figures (WGAN-GP §5.5)
# text_jsd (the Markov language) and text_english (English prose) are one figure on two
# corpora: they measure, compare and plot through these; each states its own claims.
def text_pair_data(corpus: str, s: Dict, seed: int = 0):
  """A text figure's corpus at settings `s`: "markov" (s["lines"] lines of the synthetic Markov
  language) or "english" (pydoc_data's prose), s["heldout"] of its lines held out."""
  lines = dict(markov_lines=s["lines"]) if corpus == "markov" else {}
  return make_text_data(corpus, heldout=s["heldout"], seed=seed, **lines)


def text_pair_measure(corpus: str, s: Dict, seed: int = 0) -> Dict:
  """A text figure's numbers: `text_pair_curves` on `corpus` at settings `s` (with s["log_every"]
  the history's step): the corpus' references, each run's evaluations, final scores, history and
  first 20 samples, the nsgan discriminator's mean accuracy over the last fifth of training
  (None without a history), its generator's gradient norm over the first and last fifths, and
  the first 10 held-out lines."""
  data = text_pair_data(corpus, s, seed)
  curves = text_pair_curves(data, s, seed=seed)
  acc = np.asarray(curves["nsgan"]["history"]["d_accuracy"])
  late = acc[len(acc) * 4 // 5:]
  gnorm = np.asarray(curves["nsgan"]["history"]["g_grad_norm"])
  return dict(
      corpus=corpus, settings=dict(s), references=curves["wgan-gp"]["references"],
      final={k: c["evaluations"][-1] for k, c in curves.items()},
      evaluations={k: c["evaluations"] for k, c in curves.items()},
      nsgan_d_accuracy_late=float(late.mean()) if len(late) else None,
      nsgan_g_grad_norm=dict(first=float(gnorm[:max(1, len(gnorm) // 5)].mean()),
                             last=float(gnorm[len(gnorm) * 4 // 5:].mean()))
      if len(gnorm) else None,
      history={k: c["history"] for k, c in curves.items()},
      samples={k: c["samples"][:20] for k, c in curves.items()},
      heldout_lines=list(data.heldout[:10]),
      seconds={k: c["seconds"] for k, c in curves.items()})


def text_pair_facts(numbers: Dict, min_d_accuracy: float) -> Dict[str, bool]:
  """The text figures' comparisons on their stored numbers (a missing or None number, e.g. of
  a diverged run, is NaN and fails every one): lower_jsd_4 (wgan-gp's final 4-gram JSD is below
  nsgan's), below_uniform_nll (wgan-gp's oracle NLL is below the uniform generator's: False on
  a corpus without an oracle), more_corpus_words (more of wgan-gp's words are words of the
  corpus than of nsgan's), d_separates (the nsgan discriminator's mean accuracy over the last
  fifth of training is above `min_d_accuracy`)."""
  v = lambda x: float("nan") if x is None else float(x)
  w, n = numbers["final"]["wgan-gp"], numbers["final"]["nsgan"]
  return dict(
      lower_jsd_4=v(w.get("jsd_4")) < v(n.get("jsd_4")),
      below_uniform_nll=v(w.get("oracle_nll"))
      < v(numbers["references"].get("uniform_oracle_nll")),
      more_corpus_words=v(w.get("in_vocabulary")) > v(n.get("in_vocabulary")),
      d_separates=v(numbers.get("nsgan_d_accuracy_late")) > min_d_accuracy)


def text_pair_plot(numbers: Dict, corpus_label: str):
  """A text figure's plot from its numbers: each run's n-gram JSDs over training against the
  held-out floor, the discriminator's accuracy and the generator's gradient norm."""
  s = numbers["settings"]
  curves = {k: dict(evaluations=ev, history=numbers["history"][k])
            for k, ev in numbers["evaluations"].items()}
  return jsd_figure(curves, numbers["references"]["floor"],
                    f"wgan-gp vs nsgan on {corpus_label} (width {s['width']}, {s['iters']} "
                    "generator iterations)")


def inception_evaluator(weights: str, data, n: int):
  """fake images -> {inception_fid, inception_score, inception_score_std, inception_kid}
  against n held-out images of `data` (its validation split, else its first training images),
  with the reference's features computed once (`wgan_jax.inception`)."""
  variables = inception.load_weights(weights)
  real = data.validation if data.validation is not None else data.train
  ref_feats, _ = inception.extract(variables, np.asarray(real[:n]))

  def of(fake):
    feats, logits = inception.extract(variables, np.asarray(fake))
    m = inception_metrics.metrics_from_features(
        feats, logits, reference_features=ref_feats, isc_splits=min(10, len(feats)),
        kid_subset_size=min(1000, len(feats), len(ref_feats)))
    return dict(inception_fid=m["fid"], inception_score=m["is_mean"],
                inception_score_std=m["is_std"], inception_kid=m["kid_mean"])
  return of
