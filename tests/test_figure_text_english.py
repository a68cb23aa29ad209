"""text_english (WGAN-GP Table 4): the samples table, and each check failing on a constructed
result without its phenomenon."""

import pytest

from experiments.figures import runner
from experiments.figures import text_english as te


def test_samples_table_has_one_column_per_model_and_strips_the_padding():
  md = te.samples_table({"wgan-gp": ["the cat``", "a|b"], "nsgan": ["zzzz"]}, ["real line``"],
                        rows=2).splitlines()
  assert md[0] == "| wgan-gp | nsgan | held-out English |"
  assert md[2] == "| <code>the cat</code> | <code>zzzz</code> | <code>real line</code> |"
  assert md[3] == "| <code>a&#124;b</code> |  |  |"


def _numbers(wgan_jsd_4=0.545, nsgan_jsd_4=1.0, wgan_words=0.27, nsgan_words=0.0,
             d_accuracy=0.97, heldout=("of the module", "a list``")):
  """Stored numbers; by default what the paper describes: WGAN-GP's samples are language-like
  (a lower 4-gram JSD, more words of the corpus) while the standard GAN's discriminator
  separates softmax from one-hot. heldout None: a run stored before the held-out lines were."""
  n = dict(corpus="english", settings=dict(width=64, iters=1000),
           references=dict(floor=dict(jsd_1=0.01, jsd_2=0.02, jsd_3=0.05, jsd_4=0.126),
                           heldout_in_vocabulary=0.98),
           final={"wgan-gp": dict(jsd_4=wgan_jsd_4, in_vocabulary=wgan_words),
                  "nsgan": dict(jsd_4=nsgan_jsd_4, in_vocabulary=nsgan_words)},
           nsgan_d_accuracy_late=d_accuracy,
           samples={"wgan-gp": ["the``.", "is if the"], "nsgan": ["eeee", "eeee"]})
  if heldout is not None:
    n["heldout_lines"] = list(heldout)
  return runner.as_stored(n)


def test_the_papers_result_passes_every_check():
  checks = te.judge(_numbers())
  assert len(checks) == 3 and all(checks.values())


@pytest.mark.parametrize("change,failing", [
    (dict(nsgan_jsd_4=0.5), 0),           # the standard GAN matches WGAN-GP's n-grams
    (dict(wgan_jsd_4=float("nan")), 0),   # a diverged WGAN-GP
    (dict(wgan_words=0.0), 1),            # WGAN-GP's words no more English than the GAN's
    (dict(nsgan_words=0.3), 1),
    (dict(d_accuracy=0.8), 2),            # the discriminator does not separate them
    (dict(d_accuracy=None), 2),
])
def test_each_check_fails_when_its_phenomenon_is_absent(change, failing):
  checks = list(te.judge(_numbers(**change)).values())
  assert [i for i, ok in enumerate(checks) if not ok] == [failing]


def test_summary_and_markdown_read_the_numbers():
  s = te.summary(_numbers())
  assert s == ("final 4-gram JSD wgan-gp 0.545, nsgan 1.000 (floor 0.126); corpus words "
               "wgan-gp 27%, nsgan 0% (held-out 98%); nsgan D accuracy late 0.970")
  assert te.summary(_numbers(d_accuracy=None)).endswith("late –")
  md = te.markdown(_numbers()).splitlines()
  assert md[0] == "| wgan-gp | nsgan | held-out English |"
  assert md[3] == "| <code>is if the</code> | <code>eeee</code> | <code>a list</code> |"
  # a run stored before the held-out lines were: the table without their column
  assert te.markdown(_numbers(heldout=None)).splitlines()[0] == "| wgan-gp | nsgan |"
