"""WGAN-GP §5.5 / Table 4 on English: character-level samples of WGAN-GP against a standard GAN.

  python -m experiments.figures.text_english --out runs/figures [--scale tiny|default|full]

The same character-level generator (a softmax over the vocabulary at each of 32 positions,
the official gan_language.py's residual 1-D convolutions) and critic, trained with `wgan-gp`
and with `nsgan` on English prose shipped inside Python (`pydoc_data`'s reference-manual
topics, cut into 32-character lines at word boundaries: the Billion Word benchmark of the paper
is not available offline). Every evaluation decodes samples by argmax (as the paper) and
measures the character n-gram JSD (n = 1..4, bits) against the training text, with the
held-out-vs-train JSD as the floor, and the share of generated words that are words of the
corpus. The result is Table 4's: a table of samples from each model.

The same figure as `text_jsd` on another corpus: both measure, compare and plot through
`experiments.evaluators` (text_pair_measure, text_pair_facts, text_pair_plot); each keeps its
own claims.
"""

from __future__ import annotations

import functools
import html
from typing import Dict, Mapping

from experiments import evaluators
from experiments.figures import _common
from experiments.figures import runner as _runner

NAME = "text_english"
CORPUS = "english"
PAPER = ("WGAN-GP §5.5, Table 4: a WGAN-GP character language model on the generator's softmax "
         "outputs 'learns ... a lot about the statistics of language', its samples with "
         "'frequent spelling errors'; 'we were unable to train' a standard GAN on the same "
         "softmax outputs to comparable results.")
PUBLISHED = ("Table 4 samples only (Billion Word, 32 chars), e.g. 'Busino game camperate spent "
             "odea'; no metric")
# log_every: the training history's step (every step at the tiny scale)
SCALES = {
    "tiny": dict(width=8, num_blocks=1, iters=4, eval_every=4, n_critic=2, batch_size=16,
                 heldout=50, lr=1e-3, log_every=1),
    "default": dict(width=64, num_blocks=5, iters=1000, eval_every=100, n_critic=5,
                    batch_size=64, heldout=640, lr=1e-3, log_every=5),
    "full": dict(width=512, num_blocks=5, iters=200_000, eval_every=2000, n_critic=10,
                 batch_size=64, heldout=640, lr=1e-4, log_every=5),
}
NOTE = ("Reproduced qualitatively at CPU size: width 64 (paper 512), 1000 generator iterations "
        "(paper ~2×10⁵), 5 critic iterations and Adam 1e-3 (paper 10 and 1e-4), English prose "
        "from Python's pydoc_data instead of Billion Word; about 9 min of CPU on 2 cores. "
        "WGAN-GP's argmax samples are word-shaped English with frequent misspellings, as Table "
        "4's ('the``.', 'is if the', 'for'), 4-gram JSD 0.545 against the held-out floor 0.126, "
        "27% of its words in the corpus (held-out lines: 98%); the standard GAN on the same "
        "softmax outputs emits one repeated character (4-gram JSD 1.000, 0% corpus words) while "
        "its discriminator's accuracy stays at 0.97.")
MIN_D_ACCURACY = 0.95  # the GAN's discriminator "trivially" separates softmax from one-hot


def games(scale: str, seed: int = 0):
  """wgan-gp and nsgan on English prose at `scale`, one run each."""
  s = FIGURE.config(scale)
  return _common.text_pair_games(evaluators.text_pair_data(CORPUS, s, seed), s)


# (settings, seed) -> numbers: wgan-gp and nsgan trained on English prose
measure = functools.partial(evaluators.text_pair_measure, CORPUS)


def judge(numbers: Mapping) -> Dict[str, bool]:
  f = evaluators.text_pair_facts(numbers, MIN_D_ACCURACY)
  return {
      "§5.5: WGAN-GP learns the statistics of language better than the standard GAN: a lower "
      "4-gram JSD to the training text": f["lower_jsd_4"],
      "Table 4 ('frequent spelling errors', but language-like): more of WGAN-GP's words are "
      "words of the corpus than of the standard GAN's": f["more_corpus_words"],
      f"§5.5: the standard GAN's discriminator separates softmax from one-hot (accuracy > "
      f"{MIN_D_ACCURACY} over the last fifth of training)": f["d_separates"],
  }


def plot(numbers: Mapping):
  return evaluators.text_pair_plot(numbers, "English (pydoc_data)")


def summary(numbers: Mapping) -> str:
  final, ref, v = numbers["final"], numbers["references"], _runner.value
  late = numbers["nsgan_d_accuracy_late"]
  return ("final 4-gram JSD wgan-gp {:.3f}, nsgan {:.3f} (floor {:.3f}); corpus words "
          "wgan-gp {:.0%}, nsgan {:.0%} (held-out {:.0%}); nsgan D accuracy late {}").format(
      v(final["wgan-gp"]["jsd_4"]), v(final["nsgan"]["jsd_4"]), v(ref["floor"]["jsd_4"]),
      v(final["wgan-gp"]["in_vocabulary"]), v(final["nsgan"]["in_vocabulary"]),
      v(ref["heldout_in_vocabulary"]), "–" if late is None else f"{late:.3f}")


def markdown(numbers: Mapping) -> str:
  """Table 4: the samples of each model beside held-out lines (a run stored before the held-out
  lines were: without them)."""
  return samples_table(numbers["samples"], numbers.get("heldout_lines"))


def samples_table(samples, heldout, rows: int = 10) -> str:
  """Table 4 as markdown: one column of argmax-decoded samples per model, and real lines (no
  such column where `heldout` is None)."""
  cell = lambda t: "<code>" + html.escape(t.rstrip("`")).replace("|", "&#124;") + "</code>"  # pad "`" cut
  cols = list(samples) + ([] if heldout is None else ["held-out English"])
  lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
  data = list(samples.values()) + ([] if heldout is None else [list(heldout)])
  for i in range(rows):
    lines.append("| " + " | ".join(cell(c[i]) if i < len(c) else "" for c in data) + " |")
  return "\n".join(lines)


FIGURE = _runner.Figure(
    name=NAME, paper=PAPER, scales=SCALES, measure=measure, judge=judge, plot=plot,
    summary=summary, markdown=markdown, games=games, note=NOTE, published=PUBLISHED)


if __name__ == "__main__":
  raise SystemExit(_runner.main(FIGURE, __doc__))
