"""stacked_digits' checks: each can fail, and collapse is graded only on recognisable digits."""

from experiments.figures import stacked_digits as sd

REAL = dict(modes=990.0, kl_to_uniform=0.05, classifier_score=9.0)


def _table(nsgan_modes=400.0, nsgan_kl=2.0, nsgan_score=8.0, mix_ns=500.0, gp=700.0, mix_gp=800.0):
  row = lambda modes, kl=1.0, score=8.0: dict(modes=(modes, 5.0), kl=(kl, 0.1),
                                              classifier_score=(score, 0.1))
  return {"nsgan": row(nsgan_modes, nsgan_kl, nsgan_score), "mix+nsgan": row(mix_ns),
          "wgan-gp": row(gp), "mix+wgan-gp": row(mix_gp)}


def test_a_collapsed_but_recognisable_dcgan_passes_every_check():
  assert all(sd.judge(_table(), REAL).values())


def test_noise_fails_the_precondition():
  checks = list(sd.judge(_table(nsgan_score=2.0), REAL).values())
  assert checks[0] is False and checks[1] is True


def test_a_dcgan_covering_the_modes_fails_the_collapse_check():
  assert list(sd.judge(_table(nsgan_modes=950.0), REAL).values())[1] is False
  assert list(sd.judge(_table(nsgan_kl=0.3), REAL).values())[1] is False


def test_mixtures_that_do_not_gain_modes_fail():
  checks = list(sd.judge(_table(mix_ns=400.0, mix_gp=650.0), REAL).values())
  assert checks[2:] == [False, False]
