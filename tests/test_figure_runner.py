"""experiments/figures/runner.py: a figure is a value, and `rebuild` re-judges and re-plots a
stored run with the code as it is now (a changed threshold changes the verdict, training
nothing); the runner's refusals."""

import json
import math
import os

import numpy as np
import pytest

from experiments import reproduce
from experiments.figures import FIGURES, _common, runner
from experiments.figures import mode_collapse as mc
from wgan_jax.errors import ConfigError

RING, GRID = "8gaussians", "25gaussians"


def _stored_mode_collapse(out):
  """A mode_collapse.json as a run would store it: the papers' phenomena, 2 seeds, samples."""
  rows = {}
  for n, M in ((RING, 8), (GRID, 25)):
    for m in mc.METHODS:
      modes, hq = dict(gan=(3.0, 0.97), nsgan=(M - 1.0, 0.95), wgan=(4.0, 0.01)).get(
          m, (float(M), 0.9))
      rows[(n, m)] = dict(modes=(modes, 0.5), hq_fraction=(hq, 0.01), reverse_kl=(0.1, 0.01),
                          per_seed=[dict(modes=modes), dict(modes=modes)])
  rng = np.random.default_rng(0)
  samples = {f"{n}/{m}": dict(seed=0, x=rng.normal(size=(50, 2)).round(4))
             for n, m in rows}
  numbers = dict(table=_common.toy_table(rows), seeds=2, iterations=10, width=8, batch=100,
                 samples=samples)
  saved = dict(name="mode_collapse", paper="old quote", summary="old", checks={"old": True},
               numbers=runner.as_stored(numbers), scale="tiny", seed=3, seconds=1.5)
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, "mode_collapse.json"), "w") as f:
    json.dump(saved, f)
  return saved


def test_rebuild_rejudges_and_replots_with_the_code_as_it_is(tmp_path):
  _stored_mode_collapse(tmp_path)
  r = runner.rebuild(mc.FIGURE, str(tmp_path))
  assert list(r["checks"].values()) == [True] * 6
  assert r["paper"] == mc.PAPER and r["seed"] == 3 and r["scale"] == "tiny"
  assert (tmp_path / "mode_collapse.png").read_bytes()[:4] == b"\x89PNG"
  assert json.loads((tmp_path / "mode_collapse.json").read_text())["checks"] == r["checks"]


def test_a_changed_threshold_changes_the_verdict_without_training(tmp_path, monkeypatch):
  _stored_mode_collapse(tmp_path)
  assert reproduce.main(["--rebuild", "--scale", "tiny", "--out", str(tmp_path)]) == 0
  assert "| [mode_collapse](#mode_collapse) | yes |" in (tmp_path / "RESULTS.md").read_text()
  # every converged row is at 90-97% HQ: a 99% bar leaves none converged
  monkeypatch.setattr(mc, "CONVERGED_HQ", 0.99)
  assert reproduce.main(["--rebuild", "--scale", "tiny", "--out", str(tmp_path)]) == 0
  text = (tmp_path / "RESULTS.md").read_text()
  assert "| [mode_collapse](#mode_collapse) | no |" in text
  assert not any(json.loads((tmp_path / "mode_collapse.json").read_text())["checks"].values())


def test_rebuild_keeps_the_png_of_numbers_stored_before_the_plot_read_them(tmp_path, capsys):
  saved = _stored_mode_collapse(tmp_path)
  del saved["numbers"]["samples"]
  (tmp_path / "mode_collapse.json").write_text(json.dumps(saved))
  (tmp_path / "mode_collapse.png").write_bytes(b"old png")
  r = runner.rebuild(mc.FIGURE, str(tmp_path))
  assert r["replotted"] is False and (tmp_path / "mode_collapse.png").read_bytes() == b"old png"
  assert "predate what its plot reads" in capsys.readouterr().err
  os.remove(tmp_path / "mode_collapse.png")   # and with no PNG to keep: the KeyError itself
  with pytest.raises(KeyError):
    runner.rebuild(mc.FIGURE, str(tmp_path))


def test_refusals_name_the_argument(tmp_path):
  with pytest.raises(ConfigError, match="scale") as e:
    runner.run(mc.FIGURE, str(tmp_path), scale="huge")
  assert e.value.field == "scale"
  with pytest.raises(ConfigError, match="seed"):
    runner.run(mc.FIGURE, str(tmp_path), scale="tiny", seed=-1)
  (tmp_path / "mode_collapse.json").write_text("")
  with pytest.raises(ConfigError, match="mode_collapse.json: not a figure's JSON"):
    runner.rebuild(mc.FIGURE, str(tmp_path))
  with pytest.raises(ConfigError, match="scales"):
    runner.Figure("x", "p", dict(tiny={}, default={}), *(lambda *a: None,) * 4)


def test_as_stored_is_what_json_gives_back():
  got = runner.as_stored(dict(a=np.arange(3), b=(1.0, float("inf")), c={("x", "y"): 1}))
  assert got == dict(a=[0, 1, 2], b=[1.0, None], c={"('x', 'y')": 1})
  assert np.isnan(runner.value(None)) and runner.value(2) == 2.0
  assert not runner.value(None) >= 0 and not runner.value(None) < 0


def test_figure_command_rebuilds_and_refuses_a_bad_scale(tmp_path, capsys):
  _stored_mode_collapse(tmp_path)
  assert runner.main(mc.FIGURE, "doc", ["--rebuild", "--out", str(tmp_path)]) == 0
  assert "[yes]" in capsys.readouterr().out
  with pytest.raises(SystemExit) as e:
    runner.main(mc.FIGURE, "doc", ["--scale", "huge", "--out", str(tmp_path)])
  assert e.value.code == 2 and "--scale" in capsys.readouterr().err


def test_every_figure_is_a_value():
  """Each figure module defines FIGURE (converted figures): its scales include tiny, default and
  full, and its name is the module's."""
  import importlib
  converted = [n for n in FIGURES
               if hasattr(importlib.import_module(f"experiments.figures.{n}"), "FIGURE")]
  assert "mode_collapse" in converted
  for n in converted:
    f = importlib.import_module(f"experiments.figures.{n}").FIGURE
    assert f.name == n and set(runner.SCALES) <= set(f.scales)


def test_underpowered_checks_are_never_passes():
  U = runner.UNDERPOWERED
  assert runner.verdict({"a": True, "b": U}) == "yes"
  assert runner.verdict({"a": False, "b": U}) == "no"
  assert runner.verdict({"a": True, "b": False, "c": U}) == "partly"
  assert runner.verdict({"b": U}) == U
  assert runner.check_value(U) == U and runner.check_value("yes") is True
  md = reproduce.results_markdown([dict(name="x", paper="p", summary="s",
                                        checks={"claim": U, "other": True})],
                                  full=False, seconds={})
  assert "- [~] claim *(underpowered" in md and "- [x] other" in md


def test_figure_json_puts_number_lists_on_one_line_and_reads_back_equal(tmp_path):
  from experiments import common
  obj = dict(curve=[1.5, -2e-05, None, 3], image=[[0, 255], [7, 8]], name="x", rows=[{"q": 1}])
  path = tmp_path / "f.json"
  common.write_json(str(path), obj, compact_lists=True)
  text = path.read_text()
  assert '"curve": [1.5, -2e-05, null, 3]' in text and "[0, 255]" in text
  assert json.loads(text) == obj


def test_one_margin_rule_two_standard_errors_of_the_difference():
  # se of the difference √(0.3² + 0.4²) = 0.5: a difference of 1.0 is exactly 2 s.e.
  assert not runner.beats((2.0, 0.3), (1.0, 0.4))
  assert runner.beats((2.01, 0.3), (1.0, 0.4))
  assert runner.beats((1.0, 0.4), (2.01, 0.3), higher_is_better=False)
  assert not runner.beats((1.0, 0.4), (2.01, 0.3))
  # a 1-s.e. margin (mixgan_scores' old rule) no longer counts as a win
  assert not runner.beats((1.6, 0.3), (1.0, 0.4))
  # a diverged side (None, NaN or inf mean) beats nothing and is beaten by nothing
  for bad in ((None, 0.1), (math.nan, 0.1), (1.0, None)):
    assert not runner.beats(bad, (0.0, 0.1)) and not runner.beats((5.0, 0.1), bad)


def test_the_sign_test_is_scipys_and_says_when_it_cannot_reject():
  import scipy.stats
  assert runner.sign_test(5, 5) == runner.UNDERPOWERED     # smallest p = 2·0.5⁵ = 0.0625
  assert runner.sign_test(0, 5) == runner.UNDERPOWERED
  assert runner.sign_test(0, 0) == runner.UNDERPOWERED
  for n in (6, 9, 12, 20):
    for wins in range(n + 1):
      p = scipy.stats.binomtest(wins, n, 0.5).pvalue
      assert runner.sign_test(wins, n) == (p < 0.05), (wins, n, p)
  assert runner.sign_test(6, 6) is True and runner.sign_test(5, 6) is False
  # one-sided ("greater"), as random_archs' Table 2 check uses it: scipy's alternative="greater"
  assert runner.sign_test(4, 4, alternative="greater") == runner.UNDERPOWERED  # p ≥ 1/16
  for n in (5, 7, 8, 12):
    for wins in range(n + 1):
      p = scipy.stats.binomtest(wins, n, 0.5, alternative="greater").pvalue
      assert runner.sign_test(wins, n, alternative="greater") == (p < 0.05), (wins, n, p)
  with pytest.raises(ConfigError, match="alternative"):
    runner.sign_test(3, 8, alternative="less")


def test_layout_keeps_the_suptitle_clear_of_tall_panel_titles():
  """arch_robustness's committed run: under tight_layout alone its three-line panel titles ran
  into the suptitle (measured: 4 px into it at dpi 110)."""
  from experiments import common
  from experiments.figures import arch_robustness
  stored = runner.read_saved(os.path.join(os.path.dirname(__file__), "..", "docs", "results",
                                          "arch_robustness.json"))
  fig = arch_robustness.plot(stored["numbers"])
  runner.layout(fig)
  fig.set_dpi(110)
  fig.canvas.draw()
  r = fig.canvas.get_renderer()
  top = fig._suptitle.get_window_extent(r)
  titles = [ax.title.get_window_extent(r) for ax in fig.axes if ax.get_title()]
  assert max(t.y1 for t in titles) <= top.y0 and top.y1 <= fig.bbox.y1
  common.matplotlib_pyplot().close(fig)
