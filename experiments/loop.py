"""The one training loop of the experiments: `train_and_evaluate(gan, loop, workdir) -> RunResult`.

Every entry point and every figure trains through it. It walks `wgan_jax.plan_blocks` (the only
caller) and hangs the side effects on that walk as periodic actions, in the manner of
CommonLoopUtils: evaluation every `eval_every`, sample dumps every `sample_every`, checkpoints
every `checkpoint_every` (orbax), losses every `log_every` into metrics.jsonl and TensorBoard,
a progress bar, the SIGTERM/SIGINT handler (finish the call, checkpoint, stop) and the
non-finite guard. What the figures need are options of the same loop: no work folder (no files,
no checkpoints), timing without compile time, K seeds at once (`seeds`: `IndependentRuns`), an
evaluation at iteration 0, and a non-finite policy that keeps going.

How a run ended is data: `RunResult.stop_reason` is a `StopReason`, and the command line takes
its exit code from it.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import fcntl
import json
import os
import signal
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import jax
import numpy as np
import optax

from experiments.cli import OptionError, check_choice, check_positive, opt, renamed
from wgan_jax import IndependentRuns, plan_blocks
from wgan_jax.summary import JsonlWriter, MultiWriter, Prefixed, ProgressWriter, TensorBoardWriter, read_jsonl

PARALLEL = ("none", "pmap", "shard_map")


@dataclasses.dataclass(frozen=True)
class LoopConfig:
  """loop, evaluation, checkpoints, devices and hosts"""
  iters: int = opt(1000, "generator iterations")
  seed: int = opt(0, "PRNG seed of the whole run")
  out: str = opt("runs/run", "output folder")
  iters_per_call: int = opt(50, "generator iterations fused in one compiled call; larger is "
                            "faster for small models")
  eval_every: int = opt(1000, "generator iterations between evaluations")
  num_samples: int = opt(2500, "samples per evaluation")
  log_every: int = opt(10, "keep the losses of every n-th iteration in metrics.json")
  progress: bool = opt(True, "no progress bar", flag="--no-progress")
  checkpoint_every: int = opt(1000, "generator iterations between orbax checkpoints in "
                              "OUT/checkpoints (one is always written at the end and on "
                              "SIGTERM/SIGINT)")
  keep_checkpoints: int = opt(3, "how many recent checkpoints to keep")
  resume: bool = opt(False, "continue from the latest checkpoint in OUT/checkpoints (refused "
                     "if it was written with other options, or is damaged)")
  stop_at: Optional[int] = opt(None, "stop after this generator iteration with a checkpoint, "
                               "as if interrupted (for time-limited job slots); --resume "
                               "continues")
  sample_every: Optional[int] = opt(None, "write OUT/samples/ every n iterations (default: at "
                                    "each evaluation)")
  parallel: str = opt("none", "data-parallel backend over the devices (none: one device); the "
                      "global batch is split over them and must divide by their number",
                      choices=PARALLEL)
  coordinator_address: Optional[str] = opt(None, "host:port of process 0, for multi-host runs "
                                           "(jax.distributed.initialize; the "
                                           "JAX_COORDINATOR_ADDRESS variable works too)")
  num_processes: Optional[int] = opt(None, "number of processes of a multi-host run (or "
                                     "JAX_NUM_PROCESSES)")
  process_id: Optional[int] = opt(None, "this process's index in a multi-host run (or "
                                  "JAX_PROCESS_ID)")
  coordinator_timeout: int = opt(300, "seconds a multi-host run waits for its coordinator and "
                                 "the other processes before it fails")
  # Options of the figures (not command-line flags).
  seeds: int = opt(1, "independent runs trained at once (IndependentRuns)", cli=False)
  eval_at_start: bool = opt(False, "evaluate at iteration 0 too", cli=False)
  exclude_compile_time: bool = opt(False, "compile each program before the clock starts",
                                   cli=False)
  stop_on_nonfinite: bool = opt(True, "stop at the first non-finite metric", cli=False)

  def __post_init__(self):
    check_positive(self, "iters", "iters_per_call", "eval_every", "num_samples", "log_every",
                   "checkpoint_every", "keep_checkpoints", "stop_at", "sample_every", "seeds",
                   "coordinator_timeout")
    check_choice(self, "parallel", PARALLEL)
    if isinstance(self.seed, bool) or not isinstance(self.seed, int) or \
        not 0 <= self.seed < 2**63:
      raise OptionError("seed", f"must be an integer in [0, 2^63), got {self.seed!r}")
    if not isinstance(self.out, str) or not self.out.strip():
      # '' used to put the checkpoints in the current folder and the outputs into "/"
      raise OptionError("out", f"must name an output folder, got {self.out!r}")


class StopReason(enum.Enum):
  """Why a run ended; `exit_code` is what the command line returns."""
  COMPLETED = "completed"
  STOP_AT = "stop_at"
  SIGNAL = "signal"
  NONFINITE = "nonfinite"
  ALL_SKIPPED = "all_skipped"          # skip_nonfinite skipped every update: nothing learned
  ALREADY_FINISHED = "already_finished"  # resume of a run whose last checkpoint is its end

  @property
  def exit_code(self) -> int:
    return {"completed": 0, "stop_at": 0, "signal": 130, "nonfinite": 1, "all_skipped": 1,
            "already_finished": 0}[self.value]


@dataclasses.dataclass
class RunResult:
  """What `train_and_evaluate` returns (the state is a single-device host copy)."""
  state: Any
  generator_iterations: int
  start_iteration: int
  train_seconds: float
  first_call_seconds: Optional[float]
  iterations_per_second: Optional[float]
  stop_reason: StopReason
  stopped: Optional[str]           # the human-readable stop message (None: completed)
  history: Dict[str, List[float]]  # losses every log_every iterations
  evaluations: List[Dict]          # [{iteration, seconds, ...evaluate's metrics}]
  final_key: Any                   # the evaluation key of the last iteration
  main_process: bool = True
  checkpoint_dir: Optional[str] = None
  skipped_updates: Optional[Dict[str, int]] = None  # skip_nonfinite: updates skipped per player
  resume_changes: Optional[List[str]] = None  # fields changed on resume ("field: old, new")
  final: Optional[Dict] = None     # the final hook's metrics (None: no final hook ran)
  final_output: Any = None         # what the final hook returned beside them (samples, lines)

  def summary(self) -> Dict[str, Any]:
    """The JSON-able fields (everything but the state, the key and the final hook's results,
    which the jobs write under their own names)."""
    out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
           if f.name not in ("state", "final_key", "final", "final_output")}
    out["stop_reason"] = self.stop_reason.value
    return out


def process_id(loop: LoopConfig) -> int:
  """This process's index in a multi-host run (config, else JAX_PROCESS_ID), 0 otherwise."""
  if not (loop.coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")):
    return 0
  if loop.process_id is not None:
    return loop.process_id
  return int(os.environ.get("JAX_PROCESS_ID", "-1"))


def init_distributed(loop: LoopConfig) -> None:
  """Start JAX's multi-controller runtime when asked (config or the JAX_* variables)."""
  address = loop.coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if not address:
    for field in ("num_processes", "process_id"):
      if getattr(loop, field) is not None:
        raise OptionError(field, "needs a coordinator (coordinator_address or "
                          "JAX_COORDINATOR_ADDRESS) for a multi-host run")
    return
  nproc = loop.num_processes or int(os.environ.get("JAX_NUM_PROCESSES", "0") or 0)
  pid = process_id(loop)
  if nproc >= 1 and loop.process_id is not None and not 0 <= pid < nproc:
    raise OptionError("process_id", f"must lie in [0, {nproc}), got {pid}")
  if nproc < 1 or not 0 <= pid < nproc:
    raise OptionError("num_processes", "a multi-host run needs num_processes and process_id, "
                      "with 0 <= process id < number of processes")
  if loop.parallel != "shard_map":
    raise OptionError("parallel", "multi-host runs use the shard_map backend")
  timeout = loop.coordinator_timeout
  if pid != 0:  # process 0 hosts the coordinator; the others must reach it, or fail in time
    _wait_for(address, timeout)
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=address, num_processes=nproc,
                             process_id=pid, initialization_timeout=timeout)


def _wait_for(address: str, timeout: float) -> None:
  """Connect to host:port until it answers; an `OptionError` naming it after `timeout` s."""
  host, _, port = address.rpartition(":")
  if not host or not port.isdigit():
    raise OptionError("coordinator_address", f"expected host:port, got {address!r}")
  deadline = time.time() + timeout
  while True:
    try:
      socket.create_connection((host.strip("[]"), int(port)), timeout=min(5.0, timeout)).close()
      return
    except OSError as e:
      if time.time() >= deadline:
        raise OptionError("coordinator_address", f"the coordinator at {address} did not "
                          f"answer within {timeout} s ({e.strerror or e})") from None
      time.sleep(0.5)


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
  """(index, name) of the first non-finite metric in a block of per-iteration metrics
  (the iteration axis is the last)."""
  bad = []
  for k, v in metrics.items():
    ok = np.isfinite(v)
    if not ok.all():
      per_iter = ok.reshape(-1, ok.shape[-1]).all(axis=0) if ok.ndim > 1 else ok
      bad.append((int(np.argmax(~per_iter)), k))
  return min(bad) if bad else None


def _host(x):
  """One host copy of a (possibly multi-process, replicated) array tree."""

  def one(a):
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
      return np.asarray(a.addressable_data(0))
    return np.asarray(a)
  return jax.tree_util.tree_map(one, x)


def _row(metrics, i):
  return {name: (float(v[i]) if v.ndim == 1 else v[..., i].tolist())
          for name, v in metrics.items()}


def train_and_evaluate(gan, loop: LoopConfig, workdir: Optional[str], *, data: Any = None,
                       evaluate: Optional[Callable[[Any, Any, int], Dict]] = None,
                       fingerprint: Optional[Dict[str, Any]] = None,
                       on_sample: Optional[Callable[[Any, Any, int], None]] = None,
                       keys: Optional[tuple] = None,
                       final: Optional[Callable[[Any, Any, int], Tuple[Dict, Any]]] = None,
                       final_after_signal: bool = True) -> RunResult:
  """Train `gan` for `loop.iters` generator iterations; the experiments' only loop.

  Args:
    gan: a `wgan_jax.GAN` (plain or MIX+GAN).
    loop: the loop's configuration.
    workdir: the run's folder (checkpoints/, metrics.jsonl, tensorboard/), or None for no files
      and no checkpoints (the figures).
    data: the pytree the GAN's `sample_real(data, key)` reads, passed to every compiled step.
    evaluate: `evaluate(state, key, iteration) -> dict` at every `eval_every` (and at 0 with
      `eval_at_start`), on process 0, with a single-device host copy of the state (states
      stacked over seeds when `loop.seeds > 1`).
    fingerprint: what a checkpoint must match to be resumed (with a workdir).
    on_sample: `on_sample(state, key, iteration)` at every `sample_every` that is not an
      evaluation point (default: `evaluate`, its metrics dropped).
    keys: (init, train, eval) keys instead of the split of `jax.random.key(loop.seed)` (init
      and train keys stacked over seeds when `loop.seeds > 1`).
    final: the final evaluation, `final(state, key, iteration) -> (metrics, output)`, after the
      last iteration whatever stopped the run (not on the resume of a finished run), on process
      0, with `final_key` and after the last checkpoint; its metrics replace an evaluation at
      the same iteration and end `evaluations`, and are `RunResult.final`, its output (the
      samples a job saves, say) `RunResult.final_output`. Its time is not training time.
    final_after_signal: False: a run stopped by a signal skips `final` (the figures, which
      discard a stopped run); the jobs evaluate what they saved.

  Returns:
    The `RunResult`.

  Raises:
    CheckpointError: a refused resume (named in the message).
    OptionError: existing checkpoints without `resume`, or a bad parallel set-up.
  """

  main_process = jax.process_index() == 0
  if keys is None:
    k_init, k_train, k_eval = jax.random.split(jax.random.key(loop.seed), 3)
    if loop.seeds > 1:
      k_init = jax.random.split(k_init, loop.seeds)
      k_train = jax.random.split(k_train, loop.seeds)
  else:
    k_init, k_train, k_eval = keys
  if loop.seeds > 1:
    runs = IndependentRuns(gan)
    state = jax.jit(runs.init)(k_init, data)
    step_for = runs.train_step
  else:
    state = jax.jit(gan.init)(k_init, data)  # one compile instead of one per eager op
    step_for = gan.train_step

  ckpt, start, elapsed_before, resume_changes = None, 0, 0.0, None
  if workdir is not None:
    hold_workdir(workdir, lock=main_process)
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), fingerprint or {},
                        max_to_keep=loop.keep_checkpoints)
    if loop.resume:
      try:
        state, meta = ckpt.restore(jax.tree_util.tree_map(
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state), may_change=MAY_CHANGE)
      except CheckpointError as e:
        raise renamed(e, "resume", directory="resume") from None
      start = int(np.asarray(state.step).reshape(-1)[0])
      elapsed_before = float(meta.get("train_seconds", 0.0))
      resume_changes = meta.get("changed") or []
      # A run is finished when its final outputs exist, not when its last checkpoint does: a
      # stop between the two resumes into writing them (the jobs write metrics.json last).
      if start >= loop.iters and _outputs_written(workdir, start):
        ckpt.close()
        return RunResult(
            state=_host(state), generator_iterations=start, start_iteration=start,
            train_seconds=elapsed_before, first_call_seconds=None, iterations_per_second=None,
            stop_reason=StopReason.ALREADY_FINISHED,
            stopped=f"nothing to do: the run in {workdir} already finished its {start} "
                    f"generator iterations", history={"iteration": []}, evaluations=[],
            final_key=jax.random.fold_in(k_eval, start), main_process=main_process,
            checkpoint_dir=ckpt.directory, resume_changes=resume_changes)
    elif ckpt.latest_step() is not None:
      raise OptionError("out", f"{workdir} already holds checkpoints (latest step "
                        f"{ckpt.latest_step()}); set resume (--resume) to continue, or choose "
                        "another folder")

  to_device, to_host = (lambda s: s), (lambda s: s)
  if loop.parallel != "none":
    if loop.seeds > 1:
      raise OptionError("parallel", "independent seeds run on one device")
    try:
      trainer = ParallelTrainer(gan, loop.parallel)
    except ValueError as e:
      raise renamed(e, "parallel", batch_size="batch_size", backend="parallel") from None
    to_device, to_host, step_for = trainer.put, trainer.get, trainer.train_step

  history: Dict[str, List] = {"iteration": []}
  evals: List[Dict] = []
  if workdir is not None and loop.resume:  # the logs of the iterations before the checkpoint
    history, evals = _logged_before(workdir, start)
  # One writer protocol (`write_scalars`): the losses go to metrics.jsonl, TensorBoard and the
  # console's progress bar, the evaluations to evaluations.jsonl and TensorBoard (eval/NAME).
  loss_writers, eval_writers, owned = [], [], []
  if main_process and workdir is not None:
    resume_from = start if loop.resume else None
    tensorboard = TensorBoardWriter(os.path.join(workdir, "tensorboard"))
    metrics_log = JsonlWriter(os.path.join(workdir, "metrics.jsonl"), resume_from=resume_from)
    eval_log = JsonlWriter(os.path.join(workdir, "evaluations.jsonl"), resume_from=resume_from)
    owned = [metrics_log, eval_log, tensorboard]
    loss_writers = [metrics_log, tensorboard]
    eval_writers = [eval_log, Prefixed("eval/", tensorboard)]
  stop_at = min(loop.iters, loop.stop_at) if loop.stop_at else loop.iters
  console = None
  if loop.progress and main_process:
    console = ProgressWriter(loop.iters, start, show=_postfix)
    owned.append(console)
  losses, evaluations = MultiWriter(loss_writers), MultiWriter(eval_writers)
  compiled: Dict = {}
  clock = [0.0]  # seconds of compiled calls only (exclude_compile_time)
  t0 = time.time()
  compile_s, stopped, reason, g = None, None, StopReason.COMPLETED, start
  pstate = to_device(state)
  last_saved = start if loop.resume else None

  def seconds():
    if loop.exclude_compile_time:
      return elapsed_before + clock[0]
    return elapsed_before + time.time() - t0

  def save(step, st):
    nonlocal last_saved
    if ckpt is None or last_saved == step:
      return
    ckpt.save(step, st, dict(train_seconds=seconds(), iteration=step))
    last_saved = step

  def log(metrics, i, it):
    if it % loop.log_every == 0 or it == stop_at:
      row = _row(metrics, i)
      history["iteration"].append(it)
      for name, v in row.items():
        history.setdefault(name, []).append(v)
      losses.write_scalars(it, dict(seconds=seconds(), **row))

  def run_evaluation(it):
    ev = evaluate(_host(to_host(pstate)), jax.random.fold_in(k_eval, it), it)
    evals.append(dict(iteration=it, seconds=seconds(), **ev))
    evaluations.write_scalars(it, {k_: v for k_, v in evals[-1].items() if k_ != "iteration"})

  def sample(it):
    (on_sample or evaluate)(_host(to_host(pstate)), jax.random.fold_in(k_eval, it), it)

  # The periodic actions hung on the walk (CLU's PeriodicAction, on the blocks' boundaries):
  # each runs after the block that ends at a multiple of its period below stop_at, in order.
  evaluating = evaluate is not None and main_process
  hooks = [
      _Every(loop.checkpoint_every if ckpt else None, lambda it: save(it, to_host(pstate))),
      _Every(loop.eval_every if evaluating else None, run_evaluation),
      _Every(loop.sample_every if main_process and (on_sample or evaluate) else None, sample,
             unless=loop.eval_every if evaluating else None),  # an evaluation point samples
  ]

  def blocks():  # compiled calls that stop at every period (on every process alike)
    marks = {stop_at}
    for every in (loop.eval_every, loop.checkpoint_every if ckpt else None, loop.sample_every):
      if every:
        marks.update(range(every, stop_at, every))
    lo = start
    for hi in sorted(m for m in marks if m > start):
      yield from plan_blocks(gan.config, lo, hi, loop.iters_per_call)
      lo = hi

  def step(n_critic, k):
    if not loop.exclude_compile_time:
      return step_for(n_critic, k)(pstate, k_train, data)
    if (n_critic, k) not in compiled:
      compiled[n_critic, k] = jax.jit(step_for(n_critic, k)).lower(
          pstate, k_train, data).compile()
    t = time.time()
    out = jax.block_until_ready(compiled[n_critic, k](pstate, k_train, data))
    clock[0] += time.time() - t
    return out

  if evaluating and loop.eval_at_start and start == 0:
    run_evaluation(0)
  elif (evaluating and loop.resume and loop.eval_every and 0 < start < stop_at
        and start % loop.eval_every == 0 and not any(e.get("iteration") == start for e in evals)):
    # scheduled at the checkpoint's iteration but lost to a stop between the two (or never
    # run: --stop-at there): the same state and key as an uninterrupted run's
    run_evaluation(start)
  with _StopSignal() as sig:
    try:
      for n_critic, k in blocks():
        t_call = time.time()
        new_pstate, metrics = step(n_critic, k)
        metrics = _host(metrics)
        if compile_s is None:
          compile_s = time.time() - t_call
        bad = first_nonfinite(metrics) if loop.stop_on_nonfinite else None
        if bad is not None and not gan.config.skip_nonfinite:
          idx, name = bad
          # the idx finite iterations of this call, run again one at a time (same numbers:
          # the draws depend on the counters only), so the checkpoint is the last finite state
          for _ in range(idx):
            pstate, m1 = step_for(n_critic, 1)(pstate, k_train, data)
            log(_host(m1), 0, g + 1)
            g += 1
          save(g, to_host(pstate))
          reason = StopReason.NONFINITE
          stopped = f"non-finite {name} at generator iteration {g + 1}"
          if ckpt is not None:
            stopped += (f"; the last finite state (iteration {g}) is the checkpoint "
                        f"{ckpt.directory}/{g}")
          break
        pstate = new_pstate
        for i in range(k):
          log(metrics, i, g + i + 1)
        g += k
        if console is not None:
          console.write_scalars(g, metrics)
        for hook in hooks:
          hook(g, stop_at)
        if sig.received:
          reason = StopReason.SIGNAL
          stopped = f"stopped by {sig.received} at generator iteration {g}"
          break
      else:
        if stop_at < loop.iters:
          reason = StopReason.STOP_AT
          stopped = f"stopped at generator iteration {g} (stop_at)"
    except KeyboardInterrupt:
      reason = StopReason.SIGNAL
      stopped = f"interrupted at generator iteration {g}"
    finally:
      for w in owned:
        w.close()
  state = _host(to_host(pstate))
  skipped = _skipped_updates(state) if gan.config.skip_nonfinite else None
  if skipped is not None and g > start and reason is StopReason.COMPLETED:
    total = dict(critic=int(np.asarray(state.critic_steps).max()),
                 generator=int(np.asarray(state.step).max()))
    never = [p for p in total if skipped[p] >= total[p] > 0]
    if never:
      reason = StopReason.ALL_SKIPPED
      stopped = (f"every {' and every '.join(never)} update was skipped as non-finite "
                 f"({skipped['critic']} of {total['critic']} critic and "
                 f"{skipped['generator']} of {total['generator']} generator updates): "
                 f"the {' and the '.join(never)} learned nothing")
  if reason is not StopReason.NONFINITE:
    save(g, to_host(pstate))
  if ckpt is not None:
    ckpt.close()
  train_s = seconds()
  run_s = (clock[0] if loop.exclude_compile_time else time.time() - t0)
  final_metrics, final_output = None, None
  if final is not None and main_process and (final_after_signal
                                              or reason is not StopReason.SIGNAL):
    final_metrics, final_output = final(state, jax.random.fold_in(k_eval, g), g)
    if evals and evals[-1].get("iteration") == g:
      evals.pop()  # a signal after the periodic evaluation at g: the final one stays
    evals.append(dict(iteration=g, seconds=train_s, **final_metrics))
  return RunResult(
      state=state, generator_iterations=g, start_iteration=start, train_seconds=train_s,
      first_call_seconds=compile_s,
      iterations_per_second=(g - start) / run_s if run_s > 0 and g > start else None,
      stop_reason=reason, stopped=stopped, history=history, evaluations=evals,
      final_key=jax.random.fold_in(k_eval, g), main_process=main_process,
      checkpoint_dir=ckpt.directory if ckpt else None, skipped_updates=skipped,
      resume_changes=resume_changes, final=final_metrics, final_output=final_output)
from wgan_jax.checkpoint import CheckpointError, Checkpointer
from wgan_jax.parallel import ParallelTrainer


@dataclasses.dataclass(frozen=True)
class _Every:
  """A periodic action of the loop: `action(g)` after the block ending at generator iteration
  g, when g is a multiple of `every` (None: never) below the run's stop and not a multiple of
  `unless`."""
  every: Optional[int]
  action: Callable[[int], None]
  unless: Optional[int] = None

  def __call__(self, g: int, stop_at: int) -> None:
    if self.every and g % self.every == 0 and g < stop_at and not (
        self.unless and g % self.unless == 0):
      self.action(g)


def _postfix(metrics: Dict[str, np.ndarray]) -> Dict[str, str]:
  """The progress bar's postfix: the last iteration's losses (mean over seeds)."""
  post = {"d": f"{np.mean(metrics['d_loss'][..., -1]):.3f}",
          "g": f"{np.mean(metrics['g_loss'][..., -1]):.3f}"}
  if "w_estimate" in metrics:
    post["W"] = f"{np.mean(metrics['w_estimate'][..., -1]):.3f}"
  return post


# Fingerprint fields a resume may change: they do not change the run before the checkpoint.
MAY_CHANGE = ("config.lr_d", "config.lr_g", "iters")


def _skipped_updates(state) -> Dict[str, int]:
  """Updates skipped by optax.apply_if_finite, per player (summed over seeds)."""
  out = {}
  for player in ("critic", "generator"):
    leaves = [int(np.asarray(getattr(s, "total_notfinite")).sum())
              for s in jax_leaves_of_type(getattr(state, player).opt_state)]
    out[player] = sum(leaves)
  return out


def jax_leaves_of_type(tree):
  return [x for x in jax.tree_util.tree_leaves(
      tree, is_leaf=lambda x: isinstance(x, optax.ApplyIfFiniteState))
      if isinstance(x, optax.ApplyIfFiniteState)]


def _outputs_written(workdir: str, start: int) -> bool:
  """Whether the job's final outputs of generator iteration `start` exist: its metrics.json
  (written last by every job) records that many generator iterations."""
  try:
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
      return int(json.load(f).get("generator_iterations", -1)) >= start
  except (OSError, ValueError, TypeError, AttributeError):
    return False


def _logged_before(workdir: str, start: int):
  """(history, evaluations) of the iterations ≤ start, read back from the run's logs."""
  history: Dict[str, List] = {"iteration": []}
  evals: List[Dict] = []
  path = os.path.join(workdir, "metrics.jsonl")
  if os.path.exists(path):
    for row in read_jsonl(path):
      if row.get("iteration", 0) <= start:
        history["iteration"].append(row["iteration"])
        for k, v in row.items():
          if k not in ("iteration", "seconds"):
            history.setdefault(k, []).append(float("nan") if v is None else v)
  path = os.path.join(workdir, "evaluations.jsonl")
  if os.path.exists(path):
    evals = [e for e in read_jsonl(path) if e.get("iteration", 0) <= start]
  return history, evals


_HELD: Dict[str, Any] = {}


def hold_workdir(workdir: str, lock: bool = True) -> None:
  """Make `workdir` and lock it for this process's life: a second run into the same folder is
  refused naming the holder (an OS lock, released on any exit: no stale locks).

  With `lock=False` (the other processes of a multi-host run, which share process 0's folder)
  the folder is only made and checked for writing."""
  path = os.path.abspath(workdir)
  if path in _HELD:
    return
  if os.path.exists(path) and not os.path.isdir(path):
    raise OptionError("out", f"{workdir} exists and is not a folder")
  try:
    os.makedirs(path, exist_ok=True)
    if not lock:
      if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
      return
    f = open(os.path.join(path, ".lock"), "a+")
  except OSError as e:
    raise OptionError("out", f"cannot write into {workdir}: {e.strerror}") from None
  try:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except OSError:
    f.seek(0)
    holder = f.read().strip() or "another process"
    f.close()
    raise OptionError("out", f"{workdir} is in use by another run ({holder}); wait for it to "
                      "finish or choose another folder") from None
  f.seek(0)
  f.truncate()
  f.write(f"pid {os.getpid()} on {socket.gethostname()} since "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
  f.flush()
  _HELD[path] = f


def release_workdir(workdir: str) -> None:
  f = _HELD.pop(os.path.abspath(workdir), None)
  if f is not None:
    f.close()
