"""Test set-up: 4 simulated CPU devices (set before JAX starts) for the multi-device tests.

No persistent XLA compilation cache: tried (a shared folder for the test processes and the jobs
they start), it cut the subprocess-heavy resume tests by a quarter, but JAX writes an entry
without a lock unless it may evict (which needs filelock), so a job killed mid-write by the
signal tests leaves a truncated entry, and every later reader prints a warning on stderr, which
the one-line-error tests read."""

import os

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=4").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
