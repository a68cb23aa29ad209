"""The training loop shared by the experiments, and the only place with its side effects.

It drives a `wgan_jax.GAN` through `plan_blocks` with, around it: an optional data-parallel
backend (`--parallel none|pmap|shard_map`) and JAX's multi-controller runtime
(`--coordinator-address`, `--num-processes`, `--process-id`); orbax checkpoints every N
iterations and at the end, `--resume`, `--stop-at`; SIGTERM/SIGINT handling (finish the current
call, checkpoint, exit); metrics to JSON lines and TensorBoard; sample dumps every N iterations;
a progress bar; and the non-finite guard.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from experiments import common


def add_run_flags(p: argparse.ArgumentParser) -> None:
  g = p.add_argument_group("long runs: checkpoints, logs, devices, hosts")
  g.add_argument("--checkpoint-every", type=int, default=None,
                 help="generator iterations between orbax checkpoints in OUT/checkpoints "
                      "(default 1000; one is always written at the end and on SIGTERM/SIGINT)")
  g.add_argument("--keep-checkpoints", type=int, default=None,
                 help="how many recent checkpoints to keep (default 3)")
  g.add_argument("--resume", action="store_true",
                 help="continue from the latest checkpoint in OUT/checkpoints (refused if it "
                      "was written with other options, or is damaged)")
  g.add_argument("--stop-at", type=int, default=None,
                 help="stop after this generator iteration with a checkpoint, as if "
                      "interrupted (for time-limited job slots); --resume continues")
  g.add_argument("--sample-every", type=int, default=None,
                 help="write OUT/samples/iter_NNNNNNN.npy every n iterations (default: at each "
                      "evaluation)")
  g.add_argument("--skip-nonfinite", action="store_true",
                 help="skip updates whose gradients are not finite (optax.apply_if_finite) "
                      "instead of stopping the run")
  g.add_argument("--parallel", choices=("none", "pmap", "shard_map"), default=None,
                 help="data-parallel backend over the devices (default none: one device); the "
                      "global batch is split over them and must divide by their number")
  g.add_argument("--coordinator-address", default=None,
                 help="host:port of process 0, for multi-host runs (jax.distributed.initialize; "
                      "the JAX_COORDINATOR_ADDRESS variable works too)")
  g.add_argument("--num-processes", type=int, default=None,
                 help="number of processes of a multi-host run (or JAX_NUM_PROCESSES)")
  g.add_argument("--process-id", type=int, default=None,
                 help="this process's index in a multi-host run (or JAX_PROCESS_ID)")


RUN_DEFAULTS = dict(checkpoint_every=1000, keep_checkpoints=3, parallel="none")


def check_run_flags(args) -> None:
  for name in ("checkpoint_every", "keep_checkpoints"):
    if getattr(args, name) < 1:
      common.fail(f"--{name.replace('_', '-')}: must be a positive integer, got "
                  f"{getattr(args, name)}")
  for name in ("stop_at", "sample_every"):
    v = getattr(args, name)
    if v is not None and v < 1:
      common.fail(f"--{name.replace('_', '-')}: must be a positive integer, got {v}")


def init_distributed(args) -> None:
  """Start JAX's multi-controller runtime when asked (flags or the JAX_* variables)."""
  address = args.coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if not address:
    return
  nproc = args.num_processes or int(os.environ.get("JAX_NUM_PROCESSES", "0") or 0)
  pid = args.process_id if args.process_id is not None else int(
      os.environ.get("JAX_PROCESS_ID", "-1"))
  if nproc < 1 or not 0 <= pid < nproc:
    common.fail("--num-processes and --process-id: a multi-host run needs both, with "
                "0 <= process id < number of processes")
  if args.parallel != "shard_map":
    common.fail("--parallel: multi-host runs use the shard_map backend (--parallel shard_map)")
  import jax
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=address, num_processes=nproc,
                             process_id=pid)


class _StopSignal:
  """SIGTERM / SIGINT set a flag; the loop finishes its current call, checkpoints and exits."""

  def __init__(self):
    self.received: Optional[str] = None
    self._old = {}

  def __enter__(self):
    for sig in (signal.SIGTERM, signal.SIGINT):
      self._old[sig] = signal.signal(sig, self._handle)
    return self

  def _handle(self, signum, frame):
    if self.received is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt  # a second Ctrl-C: stop now
    self.received = signal.Signals(signum).name

  def __exit__(self, *exc):
    for sig, old in self._old.items():
      signal.signal(sig, old)


def first_nonfinite(metrics: Dict[str, np.ndarray]):
  """(index, name) of the first non-finite metric in a block of per-iteration metrics."""
  bad = [(int(np.argmax(~np.isfinite(v))), k) for k, v in metrics.items()
         if not np.isfinite(v).all()]
  return min(bad) if bad else None


def _host(x):
  """One host copy of a (possibly multi-process, replicated) array tree."""
  import jax
  def one(a):
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
      return np.asarray(a.addressable_data(0))
    return np.asarray(a)
  return jax.tree_util.tree_map(one, x)


def train(args, gan, *, fingerprint: Dict[str, Any],
          evaluate: Callable[[Any, Any, int], Dict[str, float]],
          progress: bool = True, data: Any = None) -> Dict:
  """Run `args.iters` generator iterations; returns the summary (state under "state").

  `data` is the pytree the GAN's `sample_real(data, key)` reads (an image or token array; None
  for samplers that make their data), passed to every compiled step as an argument.

  `evaluate(state, key, iteration)` returns a dict of metrics (and may write files); it is
  called on process 0 only, with a single-device copy of the state.
  """
  import jax
  from wgan_jax import plan_blocks
  from wgan_jax.checkpoint import CheckpointError, Checkpointer
  from wgan_jax.parallel import ParallelTrainer
  from wgan_jax.summary import JsonlWriter, TensorBoardWriter

  main_process = jax.process_index() == 0
  key = jax.random.key(args.seed)
  k_init, k_train, k_eval = jax.random.split(key, 3)
  state = jax.jit(gan.init)(k_init, data)  # one compile instead of one per eager op
  ckpt = Checkpointer(os.path.join(args.out, "checkpoints"), fingerprint,
                      max_to_keep=args.keep_checkpoints)
  start, elapsed_before = 0, 0.0
  if args.resume:
    try:
      state, meta = ckpt.restore(jax.tree_util.tree_map(
          lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state))
    except CheckpointError as e:
      common.fail(str(e))
    start = int(state.step)
    elapsed_before = float(meta.get("train_seconds", 0.0))
  elif ckpt.latest_step() is not None:
    common.fail(f"--out: {args.out} already holds checkpoints (latest step "
                f"{ckpt.latest_step()}); pass --resume to continue, or choose another --out")

  if args.parallel == "none":
    to_device, to_host = (lambda s: s), (lambda s: s)
    step_for = gan.train_step
  else:
    try:
      trainer = ParallelTrainer(gan, args.parallel)
    except ValueError as e:
      common.fail(str(e))
    to_device, to_host = trainer.put, trainer.get
    step_for = trainer.train_step

  writers = []
  if main_process:
    jsonl = JsonlWriter(os.path.join(args.out, "metrics.jsonl"),
                        resume_from=start if args.resume else None)
    tb = TensorBoardWriter(os.path.join(args.out, "tensorboard"))
    writers = [jsonl, tb]
  history: Dict[str, List[float]] = {"iteration": []}
  evals: List[Dict] = []
  stop_at = min(args.iters, args.stop_at) if args.stop_at else args.iters
  bar = None
  if progress and main_process:
    from tqdm import tqdm
    bar = tqdm(total=args.iters, initial=start, unit="it", dynamic_ncols=True, file=sys.stderr)
  t0 = time.time()
  compile_s, stopped, g = None, None, start
  pstate = to_device(state)
  last_saved = start if args.resume else None

  def seconds():
    return elapsed_before + time.time() - t0

  def save(step, st):
    nonlocal last_saved
    if last_saved == step:
      return
    ckpt.save(step, st, dict(train_seconds=seconds(), iteration=step))
    last_saved = step

  def blocks():  # compiled calls that stop at every evaluation, checkpoint and sample point
    marks = {stop_at}
    for every in (args.eval_every, args.checkpoint_every, args.sample_every):
      if every:
        marks.update(range(every, stop_at, every))
    edges = sorted(m for m in marks if m > start)
    lo = start
    for hi in edges:
      yield from plan_blocks(gan.config, lo, hi, args.iters_per_call)
      lo = hi

  with _StopSignal() as sig:
    try:
      for n_critic, k in blocks():
        t_call = time.time()
        new_pstate, metrics = step_for(n_critic, k)(pstate, k_train, data)
        metrics = _host(metrics)
        if compile_s is None:
          compile_s = time.time() - t_call
        bad = first_nonfinite(metrics)
        if bad is not None and not gan.config.skip_nonfinite:
          idx, name = bad
          save(g, to_host(pstate))  # the last finite state, as a checkpoint
          stopped = (f"non-finite {name} at generator iteration {g + idx + 1}; the last finite "
                     f"state (iteration {g}) is the checkpoint {ckpt.directory}/{g}")
          break
        pstate = new_pstate
        for i in range(k):
          it = g + i + 1
          if it % args.log_every == 0 or it == stop_at:
            row = {name: float(v[i]) for name, v in metrics.items()}
            history["iteration"].append(it)
            for name, v in row.items():
              history.setdefault(name, []).append(v)
            for w in writers:
              if isinstance(w, JsonlWriter):
                w.write(dict(iteration=it, seconds=seconds(), **row))
              else:
                w.scalars(it, row)
        g += k
        if bar is not None:
          bar.update(k)
          post = {"d": f"{metrics['d_loss'][-1]:.3f}", "g": f"{metrics['g_loss'][-1]:.3f}"}
          if "w_estimate" in metrics:
            post["W"] = f"{metrics['w_estimate'][-1]:.3f}"
          bar.set_postfix(post, refresh=False)
        if g % args.checkpoint_every == 0 and g < stop_at:
          save(g, to_host(pstate))
        if main_process and g < stop_at and (g % args.eval_every == 0 or (
            args.sample_every and g % args.sample_every == 0)):
          ev = evaluate(_host(to_host(pstate)), jax.random.fold_in(k_eval, g), g)
          if g % args.eval_every == 0:
            evals.append(dict(iteration=g, seconds=seconds(), **ev))
            for w in writers:
              if isinstance(w, TensorBoardWriter):
                w.scalars(g, {f"eval/{k_}": v for k_, v in ev.items()
                              if isinstance(v, float)})
        if sig.received:
          stopped = f"stopped by {sig.received} at generator iteration {g}"
          break
      else:
        if stop_at < args.iters:
          stopped = f"stopped at generator iteration {g} (--stop-at)"
    except KeyboardInterrupt:
      stopped = f"interrupted at generator iteration {g}"
    finally:
      if bar is not None:
        bar.close()
      for w in writers:
        w.close()
  state = _host(to_host(pstate))
  if stopped is None or "non-finite" not in stopped:
    save(g, to_host(pstate))
  ckpt.close()
  train_s = seconds()
  return dict(state=state, generator_iterations=g, start_iteration=start,
              train_seconds=train_s, first_call_seconds=compile_s,
              iterations_per_second=(g - start) / (time.time() - t0)
              if time.time() > t0 and g > start else None,
              stopped=stopped, history=history, evaluations=evals,
              final_key=jax.random.fold_in(k_eval, g), main_process=main_process,
              checkpoint_dir=ckpt.directory)
