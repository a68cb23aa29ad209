"""WGAN-GP §5.5 / Table 4 on English: character-level samples of WGAN-GP against a standard GAN.

  python -m experiments.figures.text_english --out runs/figures

The same character-level generator (a softmax over the vocabulary at each of 32 positions,
the official gan_language.py's residual 1-D convolutions) and critic, trained with `wgan-gp`
and with `nsgan` on English prose shipped inside Python (`pydoc_data`'s reference-manual
topics, cut into 32-character lines at word boundaries: the Billion Word benchmark of the paper
is not available offline). Every evaluation decodes samples by argmax (as the paper) and
measures the character n-gram JSD (n = 1..4, bits) against the training text, with the
held-out-vs-train JSD as the floor, and the share of generated words that are words of the
corpus. The result is Table 4's: a table of samples from each model.
"""

from __future__ import annotations

import html

import numpy as np

from experiments.figures import _common

NAME = "text_english"
PAPER = ("WGAN-GP §5.5, Table 4: a WGAN-GP character language model on the generator's softmax "
         "outputs 'learns ... a lot about the statistics of language', its samples with "
         "'frequent spelling errors'; 'we were unable to train' a standard GAN on the same "
         "softmax outputs to comparable results.")
PUBLISHED = ("Table 4 samples only (Billion Word, 32 chars), e.g. 'Busino game camperate spent "
             "odea'; no metric")
SCALES = {
    "tiny": dict(width=8, num_blocks=1, iters=4, eval_every=4, n_critic=2, batch_size=16,
                 heldout=50, lr=1e-3),
    "default": dict(width=64, num_blocks=5, iters=1000, eval_every=100, n_critic=5,
                    batch_size=64, heldout=640, lr=1e-3),
    "full": dict(width=512, num_blocks=5, iters=200_000, eval_every=2000, n_critic=10,
                 batch_size=64, heldout=640, lr=1e-4),
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
  from wgan_jax.data.text import make_text_data
  s = SCALES[scale]
  data = make_text_data("english", heldout=s["heldout"], seed=seed)
  return _common.text_pair_games(data, s)


def run(out: str, *, full: bool = False, seed: int = 0, scale: str | None = None):
  from experiments.evaluators import text_pair_curves
  from experiments.plots import jsd_figure
  from wgan_jax.data.text import make_text_data

  scale = scale or ("full" if full else "default")
  s = SCALES[scale]
  data = make_text_data("english", heldout=s["heldout"], seed=seed)
  curves = text_pair_curves(data, s, seed=seed, tiny=scale == "tiny")
  ref = curves["wgan-gp"]["references"]
  fig = jsd_figure(curves, ref["floor"],
                   f"wgan-gp vs nsgan on English (pydoc_data; width {s['width']}, "
                   f"{s['iters']} generator iterations)")
  final = {k: c["evaluations"][-1] for k, c in curves.items()}
  acc = np.asarray(curves["nsgan"]["history"]["d_accuracy"])
  late = acc[len(acc) * 4 // 5:] if len(acc) else acc
  checks = {
      "§5.5: WGAN-GP learns the statistics of language better than the standard GAN: a lower "
      "4-gram JSD to the training text": final["wgan-gp"]["jsd_4"] < final["nsgan"]["jsd_4"],
      "Table 4 ('frequent spelling errors', but language-like): more of WGAN-GP's words are "
      "words of the corpus than of the standard GAN's":
          final["wgan-gp"]["in_vocabulary"] > final["nsgan"]["in_vocabulary"],
      f"§5.5: the standard GAN's discriminator separates softmax from one-hot (accuracy > "
      f"{MIN_D_ACCURACY} over the last fifth of training)":
          bool(len(late)) and float(late.mean()) > MIN_D_ACCURACY,
  }
  samples = {k: c["samples"][:20] for k, c in curves.items()}
  numbers = dict(scale=scale, settings=s, references=ref, final=final,
                 evaluations={k: c["evaluations"] for k, c in curves.items()},
                 nsgan_d_accuracy_late=float(late.mean()) if len(late) else None,
                 history={k: c["history"] for k, c in curves.items()}, samples=samples,
                 seconds={k: c["seconds"] for k, c in curves.items()})
  summary = ("final 4-gram JSD wgan-gp {:.3f}, nsgan {:.3f} (floor {:.3f}); corpus words "
             "wgan-gp {:.0%}, nsgan {:.0%} (held-out {:.0%}); nsgan D accuracy late {}").format(
      final["wgan-gp"]["jsd_4"], final["nsgan"]["jsd_4"], ref["floor"]["jsd_4"],
      final["wgan-gp"]["in_vocabulary"], final["nsgan"]["in_vocabulary"],
      ref["heldout_in_vocabulary"], f"{late.mean():.3f}" if len(late) else "–")
  return _common.save(out, NAME, fig, numbers, checks, summary, PAPER,
                      samples_table(samples, data.heldout[:10]))


def samples_table(samples, heldout, rows: int = 10) -> str:
  """Table 4 as markdown: one column of argmax-decoded samples per model, and real lines."""
  cell = lambda t: "<code>" + html.escape(t.rstrip("`")).replace("|", "&#124;") + "</code>"  # pad "`" cut
  cols = list(samples) + ["held-out English"]
  lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
  data = list(samples.values()) + [list(heldout)]
  for i in range(rows):
    lines.append("| " + " | ".join(cell(c[i]) if i < len(c) else "" for c in data) + " |")
  return "\n".join(lines)


if __name__ == "__main__":
  raise SystemExit(_common.figure_main(NAME, __doc__, run))
