"""benchmarks.conv_plan: each variant changes the one choice it names, and measuring restores the
library's plan."""

import pytest

from benchmarks import conv_plan
from wgan_jax.models import conv


def test_each_variant_changes_only_its_choice():
  default = conv_plan.DEFAULT
  # the 28×28 DCGAN's layers: stride-2 5×5 convolutions with 14×14 and 7×7 outputs
  assert default(2, 5, 14) == ("xla", "subpixel", "xla")
  assert default(2, 5, 7) == ("xla", "subpixel", "xla")
  v = conv_plan.VARIANTS
  assert v["patches7"](2, 5, 7) == ("xla", "patches", "xla")
  assert v["patches_fwd7"](2, 5, 7) == ("patches", "subpixel", "xla")
  assert v["patches_gk7"](2, 5, 7) == ("xla", "subpixel", "patches")
  assert v["patches_gk14"](2, 5, 14) == ("xla", "subpixel", "patches")
  for name, plan in v.items():   # at 16×16 and above every variant is the default
    for args in [(2, 5, 16), (2, 5, 32), (1, 3, 16)]:
      assert plan(*args) == default(*args), (name, args)


@pytest.mark.slow
def test_measure_times_every_variant_and_restores_the_plan():
  rates = conv_plan.measure(2, ["default", "patches7"], rounds=1, seconds=0.01,
                            log=lambda *_: None)
  assert set(rates) == {"default", "patches7"}
  assert all(len(v) == 1 and v[0] > 0 for v in rates.values())
  assert conv.hybrid_plan is conv_plan.DEFAULT
