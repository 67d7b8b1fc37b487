"""Memory: ``mlflow-accel server`` under steady load keeps its workers' memory flat.

A server of its own (``--workers 2``, fresh database) per dialect — SQLite only in the default
size, every dialect in the long mode — takes the reliability load
(``tests/support/reliability.py``).
After ``SIZE.memory_warmup`` seconds (imports done, pools filled, caches and allocator arenas at
their working size) the resident set size of each uvicorn worker is sampled from ``/proc`` every
``SAMPLE_EVERY`` seconds for ``SIZE.memory_seconds``. A worker's growth is the median of its last
third of samples minus the median of its first third (medians: a single sample taken in the middle
of a large response does not count).

The bound is ``GROWTH_FLOOR + LEAK_PER_REQUEST * requests`` per worker. ``GROWTH_FLOOR``
(8 MiB) is twice the largest growth measured on healthy runs here (0.6 to 4 MiB per worker in
the default size: allocator arenas and the thread pool's stacks still settling);
``LEAK_PER_REQUEST`` (1 KiB) allows for what legitimately grows with the data (metric
histories read back get longer). A leak of L bytes per request fails once a worker serves more
than ``GROWTH_FLOOR / (L - 1 KiB)`` requests: in the default size (~500-800 requests per worker
while sampling) a leak of ~16 KiB per request fails — checked with an injected 32 KiB one;
the long mode (``MLFLOW_ACCEL_LONG=1``: 64 clients, 3 minutes) catches a few KiB per request.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pytest

from tests.support import reliability
from tests.support.databases import DIALECTS

SAMPLE_EVERY = 0.5
GROWTH_FLOOR = 8 * 2**20
LEAK_PER_REQUEST = 2**10

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    # The memory a worker holds does not depend on the database driver much, and each dialect
    # costs a server boot: the default size (CI) samples SQLite, the long mode all three.
    pytest.mark.parametrize(
        "dialect", DIALECTS if reliability.LONG else ["sqlite"], indirect=True, scope="module"
    ),
]


@pytest.fixture(scope="module")
def server(fresh_databases, tmp_path_factory):
    """A server of its own: the load tests' shared one, rebooted by the SIGKILL test on a database
    they filled, grew past the bound while settling (12.8 MiB in one worker, one CI run)."""
    workdir = tmp_path_factory.mktemp(f"memory-{fresh_databases.dialect}")
    running = reliability.start_server("accel", fresh_databases.new(), workdir)
    yield running
    running.stop()


def workers(server) -> list[int]:
    """The uvicorn worker processes of ``server`` (spawned by multiprocessing, in its group)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == server.process.pid and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def growth(samples: list[int]) -> int:
    third = max(1, len(samples) // 3)
    return int(statistics.median(samples[-third:]) - statistics.median(samples[:third]))


def test_worker_memory_stays_flat_under_load(server):
    pids = workers(server)
    assert len(pids) == 2, f"expected 2 uvicorn workers, found {pids}"
    load = reliability.Load(server.url)
    load.prepare("memory")
    load.start()
    try:
        time.sleep(reliability.SIZE.memory_warmup)
        served_before = len(load.writes) + len(load.reads)
        samples = {pid: [] for pid in pids}
        deadline = time.monotonic() + reliability.SIZE.memory_seconds
        while time.monotonic() < deadline:
            for pid in pids:
                samples[pid].append(rss(pid))
            time.sleep(SAMPLE_EVERY)
        served = len(load.writes) + len(load.reads) - served_before
    finally:
        load.stop()

    per_worker = served / len(pids)
    bound = GROWTH_FLOOR + LEAK_PER_REQUEST * per_worker
    grown = {pid: growth(s) for pid, s in samples.items()}
    print(
        f"{served} requests while sampling; RSS MiB first/last: "
        f"{ {pid: (s[0] >> 20, s[-1] >> 20) for pid, s in samples.items()} }; "
        f"growth KiB { ({pid: g >> 10 for pid, g in grown.items()}) }, bound {int(bound) >> 10}"
    )
    assert not reliability.unexpected_answers(load), reliability.unexpected_answers(load)
    assert all(g <= bound for g in grown.values()), f"growth {grown} > {bound:.0f} bytes"
