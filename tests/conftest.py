"""Test set-up (before JAX starts): 4 simulated CPU devices for the multi-device tests, and
XLA's persistent compilation cache shared by the test processes.

The cache: many tests compile the same programs (the toy GAN's fused step in every job that a
test runs as a subprocess, the same small models in several files), and XLA keys each compiled
program by its HLO, the compile options and the JAX version, so a hit returns the executable
that compiling would have produced (the same numbers). Measured on the subprocess-heavy
tests/test_long_runs.py cases: 25% less wall-clock from a cold cache. It lives in the system's
temporary folder (one per user); set JAX_COMPILATION_CACHE_DIR to use another, or to "" for
none."""

import getpass
import os
import tempfile


def _user() -> str:
  try:
    return getpass.getuser()
  except (KeyError, OSError):   # no login name and no passwd entry (some CI containers)
    return str(os.getuid()) if hasattr(os, "getuid") else "user"


os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=4").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), f"wgan-jax-tests-xla-cache-{_user()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
