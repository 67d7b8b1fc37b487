"""Run wrk (``apt-get install -y wrk``) for one workload and parse its ``--latency`` report.

Every request comes from a Lua script here (``log_batch.lua``, ``request.lua``). Counted as
errors: wrk's "Non-2xx or 3xx responses" plus its socket errors (connect, read, write, timeout).
``req_s`` counts successful responses only, so a server that answers fast with errors gains
nothing from them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
CONNECTIONS = 20
THREADS = 2
#: Long enough that a slow 1,000-run search is measured rather than dropped as a timeout.
TIMEOUT = "30s"

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class Result:
    req_s: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    requests: int
    non_2xx: int
    socket_errors: int

    def to_json(self) -> dict:
        return asdict(self)


def available() -> bool:
    return shutil.which("wrk") is not None


def _wrk(url: str, seconds: float, script: str, env: dict) -> str:
    argv = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds:g}s"]
    argv += ["--timeout", TIMEOUT, "--latency", "-s", script, url]
    # cwd: the scripts dofile() their shared helper by relative path
    done = subprocess.run(argv, cwd=HERE, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    return done.stdout


def run(url: str, seconds: float, script: str, env: dict) -> Result:
    """Load ``url`` for ``seconds``: 20 connections, 2 threads, requests made by ``script``."""
    return parse(_wrk(url, seconds, script, env))


def first_error(url: str, script: str, env: dict) -> str | None:
    """Load ``url`` for 1 s more and return the first error answer seen, if any."""
    out = _wrk(url, 1, script, {**env, "SAMPLE_ERRORS": "1"})
    lines = [line for line in out.splitlines() if line.startswith("FIRST_ERROR ")]
    return lines[0].removeprefix("FIRST_ERROR ") if lines else None


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(out: str) -> Result:
    """Parse wrk's report; a run with no completed request has no latencies."""
    count, span, unit = _REQUESTS.search(out).groups()
    requests, seconds = int(count), _ms(span, unit) / 1e3
    latency = {pct: _ms(v, u) for pct, v, u in _LATENCY.findall(out)}
    non_2xx = int(m.group(1)) if (m := _NON_2XX.search(out)) else 0
    sockets = sum(map(int, m.groups())) if (m := _SOCKET.search(out)) else 0
    done = requests > 0
    return Result(
        req_s=(requests - non_2xx) / seconds if seconds else 0.0,
        p50_ms=latency.get("50") if done else None,
        p99_ms=latency.get("99") if done else None,
        errors=non_2xx + sockets,
        requests=requests,
        non_2xx=non_2xx,
        socket_errors=sockets,
    )
