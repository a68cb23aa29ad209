"""The README's promises: its library example runs, and its links and the docs' links resolve."""

import json
import os
import pathlib
import re
import subprocess
import sys
import unicodedata

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README] + sorted((ROOT / "docs").rglob("*.md"))

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)


def first_python_block(text: str) -> str:
  match = re.search(r"^```python[ \t]*\n(.*?)^```", text, re.S | re.M)
  assert match, "README.md has no ```python block"
  return match.group(1)


def slug(heading: str) -> str:
  """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
  text = heading.strip().lower()
  text = "".join(ch for ch in text
                 if ch in " -_" or unicodedata.category(ch)[0] in "LN")
  return text.replace(" ", "-")


def anchors(path: pathlib.Path) -> set:
  seen, out = {}, set()
  for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
    base = slug(heading)
    n = seen.get(base, 0)
    seen[base] = n + 1
    out.add(base if n == 0 else f"{base}-{n}")
  return out


def links(path: pathlib.Path):
  """Relative links and images outside code blocks: (target file, anchor or None)."""
  text = FENCE.sub("", path.read_text(encoding="utf-8"))
  for target in LINK.findall(text):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:, ...
      continue
    file_part, _, anchor = target.partition("#")
    yield (path if not file_part else (path.parent / file_part).resolve()), (anchor or None)


# What the example's comments promise, printed by the example run as a script (one run of the
# example does both checks: it compiles two GANs, most of this file's time).
REPORT = """
import json as _json, numpy as _np
print(_json.dumps(dict(
    d_loss=float(d_loss), gp=float(gp), samples_shape=list(_np.shape(samples)),
    samples_finite=bool(_np.isfinite(_np.asarray(samples)).all()), step=int(state.step),
    mine_step=int(mine_state.step), mine_spectral="spectral" in mine_state.critic.model_state,
    mine_ema=mine_state.ema is not None,
    nonfinite_metrics=[k for k, v in metrics.items() if not _np.isfinite(_np.asarray(v)).all()])))
"""


def test_library_example_runs_as_a_script_outside_the_checkout(tmp_path):
  """After the README's install command, a script saved anywhere imports wgan_jax (the
  requirements install the library itself): run it from an empty folder, with no path set; it
  gives the values its comments promise."""
  code = first_python_block(README.read_text(encoding="utf-8"))
  assert len(code.strip().splitlines()) <= 25, "keep the README's example short"
  script = tmp_path / "example.py"
  script.write_text(code + REPORT, encoding="utf-8")
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-2000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  assert out["d_loss"] == pytest.approx(-7.0)
  assert out["gp"] == pytest.approx(16.0, rel=1e-5)
  assert out["samples_shape"] == [1000, 2] and out["samples_finite"]
  assert out["step"] == 50  # generator iterations done
  # the user's hinge game, spectral norm and EMA on
  assert out["mine_step"] == 50 and out["mine_spectral"] and out["mine_ema"]
  assert out["nonfinite_metrics"] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
  broken = []
  for target, anchor in links(page):
    if not target.exists():
      broken.append(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                    " does not exist")
    elif anchor and target.suffix == ".md" and anchor not in anchors(target):
      broken.append(f"{target.relative_to(ROOT)}#{anchor}: no such heading")
  assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_is_short():
  lines = README.read_text(encoding="utf-8").splitlines()
  assert len(lines) <= 200, f"README.md has {len(lines)} lines; details belong in docs/"


def test_docs_cite_nothing_outside_the_repository():
  for page in PAGES:
    text = page.read_text(encoding="utf-8")
    assert "PAPERS.md" not in text, f"{page.relative_to(ROOT)} cites PAPERS.md; use docs/papers.md"
