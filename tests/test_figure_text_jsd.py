"""text_jsd (WGAN-GP §5.5 on the Markov language) and the text figures' shared comparisons
(`experiments.evaluators.text_pair_facts`): each check fails on a constructed result without
its phenomenon. The tiny end-to-end run is in tests/test_text_experiment.py."""

import pytest

from experiments import evaluators
from experiments.figures import runner
from experiments.figures import text_jsd as tj

FLOOR = dict(jsd_1=0.01, jsd_2=0.03, jsd_3=0.08, jsd_4=0.2)


def _numbers(wgan_jsd_4=0.8, nsgan_jsd_4=1.0, wgan_nll=4.1, uniform_nll=4.8,
             d_accuracy=0.999):
  """Stored numbers; by default what the paper describes: wgan-gp learns the language (a lower
  4-gram JSD, an oracle NLL below the uniform generator's), nsgan collapses and its
  discriminator separates softmax from one-hot."""
  return runner.as_stored(dict(
      corpus="markov", settings=dict(width=32, iters=500),
      references=dict(floor=FLOOR, uniform_oracle_nll=uniform_nll, true_entropy_rate=1.9,
                      heldout_oracle_nll=1.95, heldout_in_vocabulary=1.0),
      final={"wgan-gp": dict(jsd_1=0.05, jsd_2=0.2, jsd_3=0.5, jsd_4=wgan_jsd_4,
                             oracle_nll=wgan_nll, in_vocabulary=0.3),
             "nsgan": dict(jsd_1=0.9, jsd_2=1.0, jsd_3=1.0, jsd_4=nsgan_jsd_4, oracle_nll=9.0,
                           in_vocabulary=0.0)},
      nsgan_d_accuracy_late=d_accuracy))


def test_the_papers_result_passes_every_check():
  checks = tj.judge(_numbers())
  assert len(checks) == 3 and all(checks.values())


@pytest.mark.parametrize("change,failing", [
    (dict(nsgan_jsd_4=0.7), 0),             # nsgan's 4-gram JSD below wgan-gp's
    (dict(wgan_jsd_4=float("nan")), 0),     # a diverged wgan-gp (stored as None)
    (dict(wgan_nll=4.9), 1),                # no better than the uniform generator
    (dict(wgan_nll=float("inf")), 1),
    (dict(d_accuracy=0.9), 2),              # the nsgan discriminator does not win
    (dict(d_accuracy=None), 2),             # no history to say
])
def test_each_check_fails_when_its_phenomenon_is_absent(change, failing):
  checks = list(tj.judge(_numbers(**change)).values())
  assert [i for i, ok in enumerate(checks) if not ok] == [failing]


def test_shared_facts_name_each_comparison_and_a_missing_oracle_fails_its_own():
  f = evaluators.text_pair_facts(_numbers(), 0.95)
  assert f == dict(lower_jsd_4=True, below_uniform_nll=True, more_corpus_words=True,
                   d_separates=True)
  english = _numbers()   # a corpus without an oracle: no NLL to compare
  del english["references"]["uniform_oracle_nll"], english["final"]["wgan-gp"]["oracle_nll"]
  f = evaluators.text_pair_facts(english, 0.95)
  assert not f["below_uniform_nll"] and f["lower_jsd_4"] and f["d_separates"]
  assert not evaluators.text_pair_facts(_numbers(), 0.9995)["d_separates"]


def test_summary_and_markdown_read_the_numbers():
  n = _numbers()
  s = tj.summary(n)
  assert "wgan-gp 0.050/0.200/0.500/0.800" in s and "uniform 4.80" in s and "true 1.90" in s
  md = tj.markdown_table(n).splitlines()
  assert md[2] == "| wgan-gp | 0.050 | 0.200 | 0.500 | 0.800 | 4.100 |"
  assert md[4] == "| held-out floor | 0.010 | 0.030 | 0.080 | 0.200 | 1.950 |"
  # a diverged run's None reads as nan, not a TypeError
  assert "nan" in tj.summary(_numbers(nsgan_jsd_4=float("nan")))


def test_scales_keep_their_sizes():
  assert tj.FIGURE.config("default") == dict(
      width=32, num_blocks=5, iters=500, eval_every=100, n_critic=5, batch_size=64,
      lines=20_000, heldout=640, lr=1e-3, log_every=5)
  assert tj.FIGURE.config("tiny")["log_every"] == 1
  with pytest.raises(ValueError, match="scale"):
    tj.FIGURE.config("huge")
