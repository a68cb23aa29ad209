"""The third probe's weak groups (issue 26): options a game would silently ignore, values certain
to fail refused up front, each a one-line error naming the flag (CLI) or field (Python)."""

import jax
import pytest

import wgan_jax as wj
from experiments import toy
from experiments.configs import STEP_COUNT_MAX, get_config, machine_memory


@pytest.mark.parametrize("job, fields, field", [
    ("toy", dict(objective="gan", warmup=False), "warmup"),           # was: silently ignored
    ("toy", dict(objective="wgan", beta1=0.3), "beta1"),              # RMSProp has no β
    ("images", dict(objective="wgan", beta2=0.5), "beta2"),
    ("toy", dict(objective="nsgan", gp_target=2.0), "gp_target"),     # no penalty to target
    ("toy", dict(mixture_entropy=0.5), "mixture_entropy"),            # no mixture
    ("toy", dict(iters=5 * 10 ** 8), "iters"),                        # was: int32 count overflow
    ("toy", dict(width=10 ** 6), "width"),                            # was: 240 s of silence
    ("toy", dict(batch_size=10 ** 9), "batch_size"),
    ("toy", dict(num_samples=100_000), "num_samples"),                # was: MemoryError after
    ("images", dict(image_size=100_000), "image_size"),               # was: the OOM killer
    ("images", dict(batch_size=10 ** 9), "batch_size"),
    ("text", dict(max_vocab=10 ** 9), "max_vocab"),
])
def test_refused_in_python_naming_the_field(job, fields, field):
  with pytest.raises(wj.ConfigError) as e:
    get_config(job, **fields)
  assert e.value.field == field


@pytest.mark.parametrize("fields", [
    dict(objective="wgan", warmup=False), dict(objective="wgan", optimizer="adam", beta1=0.3),
    dict(objective="nsgan", gp_weight=1.0, gp_target=2.0),
    dict(objective="mix+wgan-gp", mixture_entropy=0.5), dict(mixture=2, mixture_entropy=0.0),
    dict(iters=10 ** 8), dict(num_samples=10_000),
])
def test_the_meaningful_combinations_stay_accepted(fields):
  get_config("toy", **fields)


def test_the_limits_are_the_real_ones():
  """The step-count limit is int32's, and the memory bounds are lower bounds: a config just
  under the machine's memory passes."""
  assert STEP_COUNT_MAX == 2 ** 31 - 1
  c = wj.make_config("wgan-gp")                           # 5 critic steps per iteration
  ok = STEP_COUNT_MAX // c.n_critic
  get_config("toy", iters=ok)
  with pytest.raises(wj.ConfigError, match="^iters: "):
    get_config("toy", iters=ok + 1)
  fits = int((machine_memory() / (2 * 3 * 4.0)) ** 0.5) - 1   # the weights just fit
  get_config("toy", width=fits)


@pytest.mark.parametrize("argv, flag", [
    (["--objective", "gan", "--no-warmup"], "--no-warmup"),
    (["--objective", "wgan", "--beta1", "0.3"], "--beta1"),
    (["--gp-target", "2", "--objective", "nsgan"], "--gp-target"),
    (["--mixture-entropy", "0.5"], "--mixture-entropy"),
    (["--num-samples", "100000"], "--num-samples"),
    (["--width", "1000000"], "--width"),
])
def test_the_command_line_says_it_in_one_line_before_any_work(argv, flag, capsys, tmp_path):
  out = tmp_path / "o"
  with pytest.raises(SystemExit) as e:
    toy.main(argv + ["--out", str(out), "--no-progress"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and err.startswith(f"error: {flag}"), err
  assert not out.exists()


def test_exact_w1_refuses_sets_past_its_size():
  import numpy as np
  from wgan_jax.metrics import EXACT_W1_MAX
  x = np.zeros((EXACT_W1_MAX + 1, 2))
  with pytest.raises(ValueError, match="^x and y: .*at most 10,000"):
    wj.wasserstein1_exact(x, x)


@pytest.mark.slow  # two training runs
def test_a_data_file_changed_under_the_same_path_does_not_resume(tmp_path, capsys):
  """Was: the checkpoint's fingerprint held only the path, so other contents resumed silently."""
  import numpy as np
  points = tmp_path / "points.npy"
  np.save(points, np.random.default_rng(0).normal(size=(500, 2)))
  out = tmp_path / "run"
  argv = ["--data-file", str(points), "--iters", "20", "--iters-per-call", "10",
          "--eval-every", "10", "--checkpoint-every", "10", "--width", "8",
          "--num-samples", "50", "--no-progress", "--out", str(out)]
  assert toy.main(argv + ["--stop-at", "10"]) != 1
  capsys.readouterr()
  np.save(points, np.random.default_rng(1).normal(size=(500, 2)))      # same path, new data
  with pytest.raises(SystemExit) as e:
    toy.main(argv + ["--resume"])
  assert e.value.code == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "data_sha256" in err[0], err


def test_a_half_written_last_log_line_is_dropped_and_damage_is_named(tmp_path):
  """Was: a half-written last line of metrics.jsonl (a stop mid-write) blocked --resume with a
  JSONDecodeError naming no file."""
  from wgan_jax.summary import JsonlWriter, read_jsonl
  path = tmp_path / "metrics.jsonl"
  path.write_text('{"iteration": 1, "d_loss": 0.5}\n{"iteration": 2, "d_loss": 0.4}\n'
                  '{"iteration": 3, "d_lo')
  assert [r["iteration"] for r in read_jsonl(str(path))] == [1, 2]
  w = JsonlWriter(str(path), resume_from=1)
  w.write({"iteration": 2, "d_loss": 0.3})
  w.close()
  assert read_jsonl(str(path)) == [{"iteration": 1, "d_loss": 0.5},
                                   {"iteration": 2, "d_loss": 0.3}]
  path.write_text('{"iteration": 1}\n{"iterat\n{"iteration": 3}\n')    # damage mid-file
  with pytest.raises(ValueError, match=r"metrics\.jsonl: line 2 is not JSON"):
    JsonlWriter(str(path), resume_from=3)


@pytest.mark.slow  # two training runs
def test_resume_after_a_stop_mid_write_of_the_log(tmp_path):
  out = tmp_path / "run"
  argv = ["--iters", "20", "--iters-per-call", "10", "--eval-every", "10",
          "--checkpoint-every", "10", "--width", "8", "--num-samples", "50", "--no-progress",
          "--out", str(out)]
  assert toy.main(argv + ["--stop-at", "10"]) != 1
  with open(out / "metrics.jsonl", "a") as f:
    f.write('{"iteration": 11, "d_lo')
  assert toy.main(argv + ["--resume"]) == 0
  import json
  its = [json.loads(l)["iteration"] for l in (out / "metrics.jsonl").read_text().splitlines()]
  assert its == sorted(set(its)) and its[-1] == 20


def test_point_files_are_read_by_their_content_not_their_suffix(tmp_path):
  """Was: an .npz read as text, a valid .NPY refused."""
  import numpy as np
  from wgan_jax.data.toy import load_points
  p = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
  np.save(tmp_path / "a.npy", p)
  (tmp_path / "a.npy").rename(tmp_path / "A.NPY")
  np.savez(tmp_path / "b.npz", points=p)
  np.savez(tmp_path / "c.npz", a=p, b=p)
  for name in ("A.NPY", "b.npz"):
    x = load_points(str(tmp_path / name)).sample(__import__("jax").random.key(0), 200)
    assert set(map(tuple, np.asarray(x).round(5))) <= set(map(tuple, p.round(5)))
  with pytest.raises(ValueError, match=r"c\.npz: an \.npz of 2 arrays \(a, b\)"):
    load_points(str(tmp_path / "c.npz"))


def test_a_pad_only_corpus_is_refused(tmp_path):
  """Was: a corpus of only the pad character '`' trained."""
  from wgan_jax.data.text import make_text_data
  f = tmp_path / "pad.txt"
  f.write_text("````\n``\n" * 20)
  with pytest.raises(ValueError, match="pad.txt is empty: no line with a character"):
    make_text_data(text_file=str(f), seq_len=8)
  f.write_text("````\nab\nba\n" * 20)     # pad-only lines are skipped, the rest trains
  d = make_text_data(text_file=str(f), seq_len=8)
  assert set(d.vocab.chars) >= {"a", "b"} and all(l.strip("`") for l in d.train)


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", "truncate"])
def test_a_damaged_classifier_cache_is_retrained_naming_the_file(tmp_path, monkeypatch, damage):
  """Was: a damaged cache failed every digits run (naming no file) until deleted by hand."""
  import dataclasses
  import numpy as np
  from wgan_jax import classifier
  monkeypatch.setattr(classifier, "DIGITS", dataclasses.replace(classifier.DIGITS, steps=5))
  params, acc = classifier.load_or_train_digit_classifier(str(tmp_path))
  cache = tmp_path / "digit_classifier.msgpack"
  good = cache.read_bytes()
  cache.write_bytes(good[: len(good) // 2] if damage == "truncate" else damage)
  with pytest.warns(RuntimeWarning, match=r"digit_classifier\.msgpack: the cached classifier "
                    r"is damaged"):
    params2, acc2 = classifier.load_or_train_digit_classifier(str(tmp_path))
  assert acc2 == acc and cache.read_bytes() == good          # retrained, same seed, rewritten
  for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(params2)):
    np.testing.assert_array_equal(a, b)


def _checkpointer(tmp_path):
  import jax.numpy as jnp
  from wgan_jax.checkpoint import Checkpointer
  return Checkpointer(str(tmp_path / "ckpt"), {"a": 1}), {"w": jnp.ones((256, 256))}


def test_a_full_disk_is_one_line_before_orbax_starts(tmp_path, monkeypatch):
  """Was: a full disk ended in pages of tracebacks from orbax's writer threads (seen on a 600 KiB
  tmpfs: 375 stderr lines before the one-line error)."""
  import collections
  import shutil
  from wgan_jax.checkpoint import CheckpointError
  ckpt, state = _checkpointer(tmp_path)
  ckpt.save(1, state)
  usage = collections.namedtuple("usage", "total used free")
  monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10 ** 9, 10 ** 9 - 1000, 1000))
  with pytest.raises(CheckpointError, match=r"ckpt: the disk has 0\.0 MiB free and a "
                     r"checkpoint of this state needs about 1\.3 MiB \(the last complete "
                     r"checkpoint, step 1, is kept"):
    ckpt.save(2, state)
  assert ckpt.all_steps() == [1]


def test_a_disk_that_fills_during_the_save_is_one_line(tmp_path, monkeypatch):
  from wgan_jax.checkpoint import CheckpointError
  ckpt, state = _checkpointer(tmp_path)

  def full(*a, **k):
    raise ValueError("RESOURCE_EXHAUSTED: Failed to write: No space left on device")
  monkeypatch.setattr(ckpt.manager, "save", full)
  with pytest.raises(CheckpointError, match="filled up while saving step 3 .no checkpoint was "
                     "complete yet: free space and run again"):
    ckpt.save(3, state)


def _toy_gan(width=8, depth=1, out_dim=2, real=None):
  from wgan_jax.data import make_toy_dataset
  from wgan_jax.models import MLPCritic, MLPGenerator
  ds = make_toy_dataset("8gaussians")
  return wj.GAN(MLPGenerator(width=width, depth=depth, out_dim=out_dim),
                MLPCritic(width=width, depth=depth), wj.make_config("wgan-gp", batch_size=8),
                real or (lambda _, k: ds.sample_one(k)))


def test_library_calls_name_the_argument_at_fault():
  """Was: deep errors naming no argument (a batch of keys to the penalty, another GAN's state, a
  generator whose examples differ from the data's, clip_params with a float or another tree,
  np.int64 sizes refused, mode_coverage of nothing or with σ ≤ 0)."""
  import jax.numpy as jnp
  import numpy as np
  x = jnp.ones((4, 2))
  with pytest.raises(wj.ConfigError, match="^key: must be one PRNG key"):
    wj.gradient_penalty(lambda v: v.sum(-1), x, x, jax.random.split(jax.random.key(0), 4))
  assert wj.make_config("wgan-gp", batch_size=np.int64(8)).batch_size == 8
  assert type(wj.make_config("wgan-gp", batch_size=np.int64(8)).batch_size) is int
  centres = np.eye(2)
  with pytest.raises(ValueError, match="^samples and centres: need at least one"):
    wj.mode_coverage(np.zeros((0, 2)), centres, 0.1)
  for std in (0.0, -1.0, float("nan")):
    with pytest.raises(ValueError, match="^std: must be a finite number > 0"):
      wj.mode_coverage(np.zeros((3, 2)), centres, std)
  small, big = _toy_gan(), _toy_gan(width=16, depth=2)
  with pytest.raises(wj.ConfigError, match="^state: belongs to another GAN"):
    small.train_step()(big.init(jax.random.key(0)), jax.random.key(1))
  state, _ = small.train_step()(small.init(jax.random.key(0)), jax.random.key(1))  # unpoisoned
  with pytest.raises(wj.ConfigError, match=r"^generator: makes examples of shape \(3,\) and "
                     r"sample_real gives \(2,\)"):
    _toy_gan(out_dim=3).init(jax.random.key(0))
  with pytest.raises(wj.ConfigError, match=r"^generator: .* sample_real gives \(3,\)"):
    _toy_gan(real=lambda _, k: jnp.ones((3,))).init(jax.random.key(0))
  clip, p = wj.clip_params(0.01), {"w": jnp.ones(3)}
  for updates, needle in ((1.0, "the root"), ({"v": jnp.ones(3)}, r"\['v'\]"),
                          ({"w": jnp.ones(4)}, r"leaf \['w'\] has shape \(4,\)")):
    with pytest.raises(wj.ConfigError, match=f"^updates: .*{needle}"):
      clip.update(updates, clip.init(p), p)


def test_rebuild_says_which_figures_it_leaves_out(tmp_path, capsys):
  """Was: a missing NAME.json, one without `seconds` or of another --scale were dropped from
  RESULTS.md silently, and a folder with none gave an empty RESULTS.md with exit 0."""
  import json as js
  import shutil
  from experiments import reproduce
  with pytest.raises(SystemExit) as e:
    reproduce.main(["--rebuild", "--out", str(tmp_path)])
  err = capsys.readouterr().err.strip().splitlines()
  assert e.value.code == 2 and len(err) == 1 and err[0].startswith("error: --rebuild: no "), err
  src = __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "docs",
                                   "results")
  for name in ("parallel_lines", "optimal_critic"):
    shutil.copy(f"{src}/{name}.json", tmp_path / f"{name}.json")
  saved = js.loads((tmp_path / "optimal_critic.json").read_text())
  saved.pop("seconds", None)                       # as the figure's own module writes it
  (tmp_path / "optimal_critic.json").write_text(js.dumps(saved))
  other = js.loads((tmp_path / "parallel_lines.json").read_text())
  (tmp_path / "value_surfaces.json").write_text(js.dumps(dict(other, name="value_surfaces",
                                                              scale="tiny")))
  assert reproduce.main(["--rebuild", "--out", str(tmp_path)]) == 0
  err = capsys.readouterr().err
  md = (tmp_path / "RESULTS.md").read_text()
  assert "## parallel_lines" in md and "## optimal_critic" in md    # no seconds: kept, "–"
  assert "value_surfaces: its value_surfaces.json is of --scale tiny" in err
  assert "gans_equal: no gans_equal.json" in err


def _stub_figure(measure):
  from experiments.figures import _common, runner

  def plot(numbers):
    fig, _ = _common.subplots(1, 1)
    return fig

  return runner.Figure("stub", "paper", dict(tiny={}, default={}, full={}), measure,
                       lambda n: {"a claim": True}, plot, lambda n: "a summary")


def test_a_figure_module_records_its_seed_and_says_ctrl_c_in_one_line(tmp_path, capsys):
  """Was: NAME.json without the seed it ran with; Ctrl-C a traceback."""
  import json as js
  from experiments.figures import runner

  figure = _stub_figure(lambda config, seed: {"x": 1.0})
  assert runner.main(figure, "doc", ["--out", str(tmp_path), "--seed", "7"]) == 0
  saved = js.loads((tmp_path / "stub.json").read_text())
  assert (saved["seed"], saved["scale"]) == (7, "default") and saved["seconds"] >= 0

  def interrupted(config, seed):
    raise KeyboardInterrupt
  capsys.readouterr()
  with pytest.raises(SystemExit) as e:
    runner.main(_stub_figure(interrupted), "doc", ["--out", str(tmp_path / "b")])
  err = capsys.readouterr().err.strip().splitlines()
  assert e.value.code == 130 and len(err) == 1 and err[0].startswith("error: interrupted: stub")
  assert not (tmp_path / "b" / "stub.json").exists()
