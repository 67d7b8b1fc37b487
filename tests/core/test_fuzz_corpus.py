"""The fuzzer's findings in the normal test run: every input of ``fuzz/corpus`` (hand-made seeds
and what atheris kept for new coverage) replayed through the compiled core and the pure-Python
twin with ``fuzz/fuzz_codec.py``'s properties, and a short deterministic atheris run of the
harness itself (fixed seed and run count) so that the harness keeps working.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.fuzz_codec import check_bytes

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
CORPUS = sorted((FUZZ / "corpus").iterdir())
MAX_FILES = 300
MAX_BYTES = 1 << 20


def test_corpus_stays_small():
    assert 40 <= len(CORPUS) <= MAX_FILES
    assert sum(path.stat().st_size for path in CORPUS) <= MAX_BYTES


@pytest.mark.parametrize("path", CORPUS, ids=[path.name for path in CORPUS])
def test_corpus_input(path):
    check_bytes(path.read_bytes())


# Where the test extra installs atheris (its wheels): there, under CI, it must be installed.
_ATHERIS_PLATFORM = (
    sys.platform == "linux"
    and platform.machine() == "x86_64"
    and (3, 11) <= sys.version_info < (3, 14)
)


def _atheris_missing() -> bool:
    if importlib.util.find_spec("atheris") is not None:
        return False
    return not (_ATHERIS_PLATFORM and os.environ.get("CI") == "true")


@pytest.mark.skipif(_atheris_missing(), reason="atheris is not installed")
def test_short_atheris_run(tmp_path):
    """A fixed-seed atheris run from the corpus: no failing input, and it actually fuzzed."""
    command = [
        sys.executable,
        str(FUZZ / "fuzz_codec.py"),
        str(tmp_path),
        str(FUZZ / "corpus"),
        "-seed=1",
        "-runs=1000",
        "-max_len=2048",
        "-timeout=10",
        "-rss_limit_mb=4096",
        f"-artifact_prefix={tmp_path}/",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done 1000 runs" in done.stderr, done.stderr[-4000:]
