"""Bad inputs refused with one line (issue 15, item 4): `load_points` files and the benchmarks'
flags.

The benchmark table calls each script's `main` in this process with its work functions
replaced by ones that fail, so a flag refused after any work fails the test; two cases run the
real command line (exit code 2, one line on stderr, nothing on stdout, no JSON written).
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from wgan_jax.data import load_points

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------- load_points
def write(path: Path, content) -> str:
  if isinstance(content, np.ndarray):
    np.save(path, content)
  else:
    path.write_bytes(content)
  return str(path)


def truncated_npy(path: Path) -> bytes:
  np.save(path, np.ones((50, 2)))
  return path.read_bytes()[:100]


POINTS_CASES = [
    # id, file name, content (array or bytes; a callable gets the path), message regex
    ("npy_zero_bytes", "p.npy", b"", r"the file is empty \(0 bytes\)"),
    ("csv_zero_bytes", "p.csv", b"", r"the file is empty \(0 bytes\)"),
    ("npy_no_points", "p.npy", np.zeros((0, 2)), r"holds no points \(an array of shape \(0, 2\)\)"),
    ("txt_no_points", "p.txt", b"# only a comment\n", r"holds no points"),
    ("npy_truncated", "p.npy", truncated_npy, r"^cannot read 2-D points from .*p\.npy: "),
    ("npy_complex", "p.npy", np.array([[1 + 2j, 0], [3, 4]]), r"holds complex numbers"),
    ("npy_complex_zero_imaginary", "p.npy", np.ones((2, 2), complex), r"holds complex numbers"),
    ("npy_float32_overflow", "p.npy", np.array([[0.0, 1.0], [1e39, 2.0], [3.0, -4e38]]),
     r"2 of 3 rows hold values beyond float32's range .*first at row 1\)$"),
    ("csv_float32_overflow", "p.csv", b"0,1\n2,3\n-1e300,0\n",
     r"1 of 3 rows hold values beyond float32's range .*first at row 2\)$"),
]


@pytest.mark.parametrize("name,content,message", [c[1:] for c in POINTS_CASES],
                         ids=[c[0] for c in POINTS_CASES])
def test_load_points_refuses(tmp_path, name, content, message):
  path = tmp_path / name
  if callable(content):
    content = content(path)
  path = write(path, content)
  with warnings.catch_warnings():
    warnings.simplefilter("error")   # refused, not warned about (complex casts, empty files)
    with pytest.raises(ValueError, match=message) as e:
      load_points(path)
  assert path in str(e.value) and "\n" not in str(e.value)
  if not str(e.value).startswith("cannot read"):
    assert str(e.value).startswith(f"{path}: ")   # the style of the NaN check: file first


def test_load_points_accepts_the_float32_extremes(tmp_path):
  big = float(np.finfo(np.float32).max)
  path = write(tmp_path / "p.npy", np.array([[big, -big], [0.0, 1.0]]))
  ds = load_points(path)
  assert ds.name == path


# ------------------------------------------------------------------------------- benchmarks
TINY = {
    "throughput": ["--sizes", "8", "--batch-size", "8", "--iters-per-call", "1",
                   "--seconds", "0.01"],
    "dcgan": ["--image-shape", "2", "2", "1", "--dim", "2", "--batch-size", "2",
              "--latent-dim", "2", "--n-critic", "1", "--iters-per-call", "1", "--impls", "xla",
              "--modes", "a", "--seconds", "0.01", "--rounds", "1", "--no-torch",
              "--matmul-seconds", "0"],
}
# the functions that do a benchmark's work: a refused flag must stop before any of them
WORK = {
    "throughput": ["matmul_gflops", "layer_matmul_gflops", "bench_size"],
    "dcgan": ["matmul_gflops", "torch_available", "jax_variants", "roles_table"],
}

# id, script, flag named in the error, bad arguments ({folder}: an existing folder, {file}: an
# existing file); they come after TINY, so they win
BENCH_CASES = [
    ("throughput-sizes-0", "throughput", "--sizes", ["--sizes", "0"]),
    ("throughput-sizes-neg", "throughput", "--sizes", ["--sizes", "-8"]),
    ("throughput-sizes-one-bad", "throughput", "--sizes", ["--sizes", "8", "0"]),
    ("throughput-batch-0", "throughput", "--batch-size", ["--batch-size", "0"]),
    ("throughput-iters-per-call-0", "throughput", "--iters-per-call", ["--iters-per-call", "0"]),
    ("throughput-seconds-0", "throughput", "--seconds", ["--seconds", "0"]),
    ("throughput-seconds-neg", "throughput", "--seconds", ["--seconds", "-1"]),
    ("throughput-seconds-nan", "throughput", "--seconds", ["--seconds", "nan"]),
    ("throughput-out-folder", "throughput", "--out", ["--out", "{folder}"]),
    ("throughput-out-under-file", "throughput", "--out", ["--out", "{file}/t.json"]),
    ("dcgan-batch-0", "dcgan", "--batch-size", ["--batch-size", "0"]),
    ("dcgan-iters-per-call-0", "dcgan", "--iters-per-call", ["--iters-per-call", "0"]),
    ("dcgan-seconds-0", "dcgan", "--seconds", ["--seconds", "0"]),
    ("dcgan-seconds-neg", "dcgan", "--seconds", ["--seconds", "-2"]),
    ("dcgan-roles-seconds-0", "dcgan", "--seconds", ["--roles", "--seconds", "0"]),
    ("dcgan-matmul-seconds-neg", "dcgan", "--matmul-seconds", ["--matmul-seconds", "-1"]),
    ("dcgan-image-shape-odd", "dcgan", "--image-shape", ["--image-shape", "3", "3", "1"]),
    ("dcgan-out-folder", "dcgan", "--out", ["--out", "{folder}"]),
    ("dcgan-out-under-file", "dcgan", "--out", ["--out", "{file}/d.json"]),
]


def bench_argv(tmp_path, script, bad):
  folder, file = tmp_path / "folder", tmp_path / "file"
  folder.mkdir()
  file.write_text("a file")
  out = tmp_path / "out.json"
  argv = TINY[script] + ["--out", str(out)] + [a.format(folder=folder, file=file) for a in bad]
  return argv, out, folder


def check_refusal(rc, stdout, stderr, flag, out, folder):
  lines = stderr.strip().splitlines()
  assert rc == 2, (rc, stderr[-2000:])
  assert len(lines) == 1 and lines[0].startswith(f"error: {flag}: "), stderr[-2000:]
  assert stdout == ""   # nothing measured, nothing printed
  assert not out.exists() and list(folder.iterdir()) == []


@pytest.mark.parametrize("script,flag,bad", [c[1:] for c in BENCH_CASES],
                         ids=[c[0] for c in BENCH_CASES])
def test_benchmark_refuses_bad_flag_before_any_work(tmp_path, monkeypatch, capsys, script, flag,
                                                    bad):
  import importlib
  module = importlib.import_module(f"benchmarks.{script}")

  def no_work(*args, **kwargs):
    raise AssertionError("benchmark work started before the flags were checked")
  for name in WORK[script]:
    monkeypatch.setattr(module, name, no_work)
  argv, out, folder = bench_argv(tmp_path, script, bad)
  with pytest.raises(SystemExit) as e:
    module.main(argv)
  captured = capsys.readouterr()
  check_refusal(e.value.code, captured.out, captured.err, flag, out, folder)


@pytest.mark.parametrize("script,flag,bad", [
    ("throughput", "--sizes", ["--sizes", "0"]),
    ("dcgan", "--out", ["--out", "{folder}"]),
], ids=["throughput-sizes-0", "dcgan-out-folder"])
def test_benchmark_command_line_exits_2_with_one_line(tmp_path, script, flag, bad):
  argv, out, folder = bench_argv(tmp_path, script, bad)
  p = subprocess.run([sys.executable, "-m", f"benchmarks.{script}"] + argv, cwd=ROOT,
                     capture_output=True, text=True, timeout=300)
  check_refusal(p.returncode, p.stdout, p.stderr, flag, out, folder)
