"""The project's import graph has no circle, counting every import (module-level and inside
functions, where a circle would otherwise hide), and the error types are one family."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("wgan_jax", "experiments", "benchmarks")


def _modules():
  mods = {}
  for pkg in PACKAGES:
    for folder, _, files in os.walk(os.path.join(ROOT, pkg)):
      for f in files:
        if f.endswith(".py"):
          path = os.path.join(folder, f)
          name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
          mods[name.removesuffix(".__init__")] = path
  return mods


def import_graph():
  """{module: the project modules it imports anywhere in its file}."""
  mods = _modules()

  def owner(name):
    while name and name not in mods:
      name = name.rpartition(".")[0]
    return name or None

  graph = {}
  for mod, path in mods.items():
    edges = set()
    is_pkg = path.endswith("__init__.py")
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
      if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
      elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
          pkg = mod if is_pkg else mod.rpartition(".")[0]
          for _ in range(node.level - 1):
            pkg = pkg.rpartition(".")[0]
          base = f"{pkg}.{base}" if base else pkg
        subs = [f"{base}.{a.name}" for a in node.names]
        # `from pkg import submodule` imports the submodule; `from pkg import name` the package
        names = subs if all(s in mods for s in subs) else subs + [base]
      else:
        continue
      edges |= {t for t in map(owner, names) if t and t != mod}
    graph[mod] = edges
  return graph


def cycles(graph):
  """The strongly connected components of more than one module (Tarjan)."""
  index, low, stack, on, out = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in graph.get(v, ()):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      comp = []
      while True:
        w = stack.pop()
        on.discard(w)
        comp.append(w)
        if w == v:
          break
      if len(comp) > 1:
        out.append(sorted(comp))

  for v in list(graph):
    if v not in index:
      visit(v)
  return out


def test_the_cycle_finder_finds_a_planted_circle():
  assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
  assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_project():
  graph = import_graph()
  assert {"wgan_jax", "experiments.cli", "experiments.loop", "wgan_jax.train"} <= set(graph)
  assert "experiments.loop" in graph["experiments.job"]      # the graph sees real edges
  assert cycles(graph) == []


# The heavy or optional dependencies a function may import when called (issue 25 item 6), so
# that `import wgan_jax` and the jobs' `--help` do not pay for them; pydoc_data is the standard
# library's 3 MB help text, read only by the English corpus.
OPTIONAL = {"scipy", "PIL", "tensorflow_datasets", "tensorflow", "tensorboardX", "tensorboard",
            "torch", "torch_fidelity", "torchvision", "matplotlib", "tqdm", "sklearn",
            "unittest", "pydoc_data"}
# The PyTorch ports are independent references: they import the library's measures lazily.
INDEPENDENT = {"benchmarks.wgan_toy_reference"}


def function_level_imports(path):
  """[(line, top-level module)] of the imports inside functions of one file."""
  found = set()   # a nested function's imports are walked from each enclosing one
  for fn in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
      for node in ast.walk(fn):
        if isinstance(node, ast.Import):
          found |= {(node.lineno, a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
          found.add((node.lineno, "." if node.level else node.module.split(".")[0]))
  return sorted(found)


def test_no_figure_imports_another():
  """Issue 25 item 2: a figure module imports the figures' shared parts (`_common`, `runner`)
  and the library, never another figure."""
  graph = import_graph()
  shared = {"experiments.figures", "experiments.figures._common", "experiments.figures.runner"}
  figures = [m for m in graph if m.startswith("experiments.figures.") and m not in shared]
  assert len(figures) >= 28
  bad = {m: sorted(d for d in graph[m] if d.startswith("experiments.figures.")
                   and d not in shared) for m in figures}
  assert not {m: d for m, d in bad.items() if d}


def test_no_function_level_import_outside_the_optional_dependencies():
  bad = [f"{mod}:{line} imports {top}" for mod, path in sorted(_modules().items())
         if mod not in INDEPENDENT
         for line, top in function_level_imports(path) if top not in OPTIONAL]
  assert bad == []


def test_the_function_level_import_finder_sees_nested_imports(tmp_path):
  path = tmp_path / "m.py"
  path.write_text("import os\ndef f():\n  import jax\n  def g():\n    from scipy import stats\n"
                  "  return 1\n")
  assert function_level_imports(str(path)) == [(3, "jax"), (5, "scipy")]


def test_one_error_family_read_by_its_field():
  from experiments import cli
  from wgan_jax import ConfigError, make_config
  e = cli.OptionError("iters", "must be positive")
  assert isinstance(e, ConfigError) and e.field == "iters" and str(e) == "iters: must be positive"
  with pytest.raises(ConfigError) as lib:
    make_config("wgan-gp", gp_weight=-1.0)
  r = cli.renamed(lib.value, "objective", gp_weight="penalty")
  assert (r.field, r.message) == ("penalty", lib.value.message)
  # a message that merely starts like another field is not read as that field
  r = cli.renamed(ConfigError("lr_d", "penalty: text"), "objective", penalty="x")
  assert r.field == "objective" and r.message == "lr_d: penalty: text"
