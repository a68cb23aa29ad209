"""`experiments.configs.get_config`: in Python, the exact config the documented command runs."""

import dataclasses
import json

import pytest

from experiments import cli, toy
from experiments.configs import JOBS, get_config
from wgan_jax import ConfigError


def test_the_documented_defaults_are_values():
  c = get_config("toy")
  # the documented default run (README): batch 256, 8,000 iterations into runs/toy
  assert (c.loop.iters, c.game.batch_size, c.loop.out) == (8000, 256, "runs/toy")
  assert get_config("toy", "official").model.width == 512
  assert get_config("toy", "official").loop.iters == 100_000
  text, paper = get_config("text"), get_config("text", "paper")
  assert (text.gan_config().n_critic, paper.gan_config().n_critic) == (5, 10)
  assert paper.gan_config().lr_d == 1e-4 and paper.model.width == 512
  assert get_config("images").loop.iters == 3000


@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_preset_equals_what_its_flags_resolve_to(job):
  """get_config(job, p) is the config the job's own parser builds from `--preset p`."""
  presets = JOBS[job]
  module = __import__(f"experiments.{job}", fromlist=["build_parser"])
  for p in presets:
    args = module.build_parser().parse_known_args(["--preset", p] if len(presets) > 1 else [])[0]
    assert get_config(job, p) == cli.resolve(args, presets=presets, preset=p), (job, p)
    assert get_config(job, p) == presets[p], (job, p)   # the preset is the value run


def test_the_run_records_the_config_get_config_returns(tmp_path):
  """A real run's metrics.json holds, as its `args`, exactly get_config's leaves."""
  out = str(tmp_path / "run")
  over = dict(iters=20, iters_per_call=10, eval_every=20, width=8, num_samples=100,
              progress=False, out=out)
  argv = ["--iters", "20", "--iters-per-call", "10", "--eval-every", "20", "--width", "8",
          "--num-samples", "100", "--no-progress", "--out", out]
  assert toy.main(argv) == 0
  recorded = json.loads((tmp_path / "run" / "metrics.json").read_text())["args"]
  expected = json.loads(json.dumps(cli.flat(get_config("toy", **over))))
  assert recorded == expected


@pytest.mark.parametrize("call, field", [
    (lambda: get_config("video"), "job"),
    (lambda: get_config("toy", "paper"), "preset"),
    (lambda: get_config("toy", widht=64), "widht"),
    (lambda: get_config("toy", iters=0), "iters"),
])
def test_bad_calls_name_the_field(call, field):
  with pytest.raises(ConfigError) as e:
    call()
  assert e.value.field == field


def test_configs_are_frozen_values():
  c = get_config("toy")
  with pytest.raises(dataclasses.FrozenInstanceError):
    c.loop.iters = 3
  assert dataclasses.replace(c.loop, iters=3).iters == 3 and c.loop.iters == 8000


@pytest.mark.parametrize("job", ["toy", "images", "text"])
def test_the_library_config_is_built_once_per_run(job, monkeypatch):
  """Was: GANConfig rebuilt 3-5 times per run. The tree builds it on first use and keeps it;
  a changed tree (dataclasses.replace) builds its own."""
  from experiments import builders, configs
  calls = []
  real = configs.make_config
  monkeypatch.setattr(configs, "make_config", lambda *a, **k: calls.append(1) or real(*a, **k))
  c = get_config(job, iters=10)
  getattr(builders, f"{job}_run" if job != "images" else "image_run")(c)
  assert c.gan_config() is c.gan_config() and len(calls) == 1
  other = dataclasses.replace(c, game=dataclasses.replace(c.game, batch_size=32))
  assert other.gan_config().batch_size == 32 and len(calls) == 2


def test_a_data_set_with_a_preset_of_its_own_runs_it():
  """`--dataset fashion-mnist` without --preset runs the Fashion-MNIST preset (sized for 2 CPU
  cores); a named preset or an explicit flag still wins; a data set without one runs default."""
  from experiments import images
  from experiments.configs import FASHION_CPU_ITERS, IMAGE_PRESETS
  c = get_config("images", dataset="fashion-mnist")
  assert c == get_config("images", "fashion-mnist")
  assert (c.model.dim, c.loop.iters, c.data.dataset) == (32, FASHION_CPU_ITERS, "fashion-mnist")
  assert get_config("images", "default", dataset="fashion-mnist").model.dim == 64
  assert get_config("images", dataset="fashion-mnist", dim=48).model.dim == 48
  assert get_config("images", dataset="digits") == get_config("images", "default")
  long = get_config("images", "fashion-mnist-long")
  assert (long.model.dim, long.loop.iters) == (64, 20_000)

  def flags(*argv, preset=None):   # as run_job: no --preset given is None
    args = images.build_parser().parse_args(list(argv))
    return cli.resolve(args, presets=IMAGE_PRESETS, preset=preset)
  assert flags("--dataset", "fashion-mnist") == c
  assert flags("--dataset", "fashion-mnist", preset="default").model.dim == 64
  assert flags("--dataset", "fashion-mnist", "--iters", "10").loop.iters == 10
  assert flags().model.dim == 64 and flags(preset="fashion-mnist") == c


def test_help_names_the_data_set_presets(capsys):
  from experiments import images
  with pytest.raises(SystemExit) as e:
    images.main(["--help"])
  out = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at "-"
  assert e.value.code == 0
  assert "fashion-mnist-long: dataset=fashion-mnist, iters=20000" in out
  assert "runs that preset (fashion-mnist)" in out


# A non-default value per documented GANConfig field (with what it needs beside it). A new
# library field fails test_the_game_config_is_generated_from_GANConfig until it has one here.
LIBRARY_VALUES = dict(
    n_critic=(3, {}), optimizer=("rmsprop", {}), lr_d=(3e-4, {}), lr_g=(7e-4, {}),
    beta1=(0.1, {}), beta2=(0.5, {}), clip_value=(0.05, {}), gp_weight=(2.5, {}),
    gp_target=(0.5, {}), instance_noise=(0.2, {}),
    instance_noise_anneal=(100, dict(instance_noise=0.1)), weight_penalty=(1e-3, {}),
    skip_nonfinite=(True, {}), r1_weight=(0.5, {}), r2_weight=(0.25, {}),
    lazy_every=(4, dict(r1_weight=1.0)), spectral_norm=(True, {}), ema_decay=(0.99, {}),
    ema_start=(10, dict(ema_decay=0.9)), diffaugment=("color,cutout", {}),
    ac_weight=(0.5, {}), compute_dtype=("bfloat16", {}))


def test_the_game_config_is_generated_from_GANConfig():
  """Issue 25 item 3: every GANConfig field with a doc is a GameConfig field and a flag of each
  job (help from the library), and a value set in the job reaches the GANConfig it builds."""
  from experiments.configs import GameConfig
  from wgan_jax import GANConfig
  documented = [f for f in dataclasses.fields(GANConfig) if "doc" in f.metadata]
  assert [f.name for f in documented] == list(GameConfig.LIBRARY_FIELDS)
  assert set(LIBRARY_VALUES) == set(GameConfig.LIBRARY_FIELDS)
  game_fields = {f.name: f for f in dataclasses.fields(GameConfig)}
  for f in documented:
    assert game_fields[f.name].default is None
    assert game_fields[f.name].metadata["help"] == f.metadata["doc"]
  for job in sorted(JOBS):
    module = __import__(f"experiments.{job}", fromlist=["build_parser"])
    helptext = module.build_parser().format_help()
    for f in documented:
      assert "--" + f.name.replace("_", "-") in helptext, (job, f.name)
  for name, (value, beside) in LIBRARY_VALUES.items():
    game = GameConfig(objective="nsgan", **{name: value, **beside})
    config = game.gan_config(iters=50, latent_dim=3, num_classes=10)
    assert getattr(config, name) == value, name
    assert getattr(GameConfig(objective="nsgan").gan_config(
        iters=50, latent_dim=3), name) != value, name   # unset: not the value


def test_a_library_field_error_names_the_job_field():
  from experiments.configs import GameConfig
  with pytest.raises(ConfigError) as e:
    GameConfig(objective="nsgan", lazy_every=3).gan_config(iters=5, latent_dim=2)
  assert e.value.field == "lazy_every"
  with pytest.raises(ConfigError) as e:
    get_config("toy", ema_decay=1.5)
  assert e.value.field == "ema_decay"


def test_presets_are_config_values():
  """A preset is a typed tree, the default with some leaves set: not a dict applied by the
  command line. `with_leaves` validates the whole new tree and names a bad or unknown field."""
  from experiments.configs import IMAGE_PRESETS, TEXT_PRESETS, TOY_PRESETS, ToyConfig
  official = TOY_PRESETS["official"]
  assert isinstance(official, ToyConfig)
  assert cli.preset_changes(TOY_PRESETS, "official") == dict(width=512, iters=100_000,
                                                              lr_decay="none")
  assert cli.with_leaves(TOY_PRESETS["default"], width=512, iters=100_000,
                         lr_decay="none") == official
  # the text presets record their own name (its CPU default lowers wgan-gp's critic count)
  assert {k: p.preset for k, p in TEXT_PRESETS.items()} == {k: k for k in TEXT_PRESETS}
  # a data set's own preset is found by its value
  assert cli.dataset_presets(IMAGE_PRESETS) == ["fashion-mnist"]
  with pytest.raises(ConfigError) as e:
    cli.with_leaves(official, widht=3)
  assert e.value.field == "widht"
  with pytest.raises(ConfigError) as e:
    cli.with_leaves(official, width=0)
  assert e.value.field == "width"
  assert official.model.width == 512   # values: nothing above changed the preset
