"""text_english (WGAN-GP Table 4): the samples table."""

from experiments.figures import text_english as te


def test_samples_table_has_one_column_per_model_and_strips_the_padding():
  md = te.samples_table({"wgan-gp": ["the cat``", "a|b"], "nsgan": ["zzzz"]}, ["real line``"],
                        rows=2).splitlines()
  assert md[0] == "| wgan-gp | nsgan | held-out English |"
  assert md[2] == "| <code>the cat</code> | <code>zzzz</code> | <code>real line</code> |"
  assert md[3] == "| <code>a&#124;b</code> |  |  |"
