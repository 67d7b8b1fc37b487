"""Check what a build of mlflow-accel produced: the sdist, a compiled wheel, or the pure wheel.

    python tools/check_dist.py sdist dist/mlflow_accel-0.1.0.tar.gz
    python tools/check_dist.py compiled-wheel wheelhouse/mlflow_accel-0.1.0-cp311-*.whl
    python tools/check_dist.py pure-wheel dist/mlflow_accel-0.1.0-py3-none-any.whl

The sdist must carry the Cython sources (the ``.py`` core modules that ``setup.py`` lists), the
tests, the fuzz harness and corpus, examples, README and CHANGELOG, and no generated C, built
extension or bytecode: building from it cythonizes anew. What cibuildwheel's tests take from it
(``test-sources`` and the test files ``test-command`` names, in its own ``[tool.cibuildwheel]``)
must be there too.

A compiled wheel must hold an extension module beside the ``.py`` source of every core module
and a platform tag; the pure wheel must be tagged ``py3-none-any`` and hold no extension at all.
Every artefact's version is the one ``mlflow_accel/_version.py`` gives.

Needs only the standard library (and tomli on Python 3.10): it runs before anything else is
installed. Exits non-zero, naming every problem found, when a check fails.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PACKAGE = "mlflow_accel"
DIST_NAME = "mlflow_accel"
FORBIDDEN_SUFFIXES = (".c", ".so", ".pyd", ".dylib", ".dll", ".pyc", ".pyo", ".html")
SDIST_REQUIRED = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "CHANGELOG.md",
    "PKG-INFO",
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/_version.py",
    f"{PACKAGE}/_core/__init__.py",
    f"{PACKAGE}/_core/_cython_shim.py",
    "tests/__init__.py",
    "tests/support/core_impls.py",
    "examples/quickstart.py",
)
EXTENSION_RE = re.compile(r"^(?P<stem>[^.]+)\.[^/]*(\.so|\.pyd)$")


class Report:
    def __init__(self, artefact: Path) -> None:
        self.artefact = artefact
        self.problems: list[str] = []

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def finish(self, summary: str) -> int:
        if self.problems:
            print(f"FAIL {self.artefact.name}:", file=sys.stderr)
            for problem in self.problems:
                print(f"  - {problem}", file=sys.stderr)
            return 1
        print(f"ok   {self.artefact.name}: {summary}")
        return 0


def _literal_assignment(source: str, name: str):
    """The literal value assigned to module-level ``name`` in ``source``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"no module-level assignment to {name}")


def _cibuildwheel_test_files(pyproject: dict) -> list[str]:
    """``test-sources`` and the ``tests/…`` files and folders ``test-command`` names."""
    config = pyproject.get("tool", {}).get("cibuildwheel", {})
    sources = config.get("test-sources", [])
    sources = sources.split() if isinstance(sources, str) else list(sources)
    command = config.get("test-command", "")
    command = " ".join(command) if isinstance(command, list) else command
    return sources + re.findall(r"\btests/[\w/.]*\w", command)


def _forbidden(names: list[str]) -> list[str]:
    return sorted(
        name for name in names if name.endswith(FORBIDDEN_SUFFIXES) or "__pycache__" in name
    )


def check_sdist(path: Path) -> int:
    report = Report(path)
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tops = {PurePosixPath(m.name).parts[0] for m in members}
        if len(tops) != 1:
            report.require(False, f"expected one top-level directory, found {sorted(tops)}")
            return report.finish("")
        (top,) = tops
        files = {str(PurePosixPath(m.name).relative_to(top)): m for m in members}

        def text(name: str) -> str:
            return tar.extractfile(files[name]).read().decode()

        for name in SDIST_REQUIRED:
            report.require(name in files, f"missing {name}")
        if "pyproject.toml" in files:
            for name in _cibuildwheel_test_files(tomllib.loads(text("pyproject.toml"))):
                report.require(
                    name in files or any(f.startswith(f"{name}/") for f in files),
                    f"missing {name}, which the cibuildwheel tests need",
                )
        if "setup.py" in files:
            core_modules = _literal_assignment(text("setup.py"), "CORE_MODULES")
            for module in core_modules:
                source = f"{PACKAGE}/_core/_{module}.py"
                report.require(source in files, f"missing the Cython source {source}")
        else:
            core_modules = []
        bad = _forbidden(list(files))
        report.require(not bad, f"generated or built files shipped: {bad}")
        report.require(
            not any(name.startswith(("build/", "dist/", ".git/")) for name in files),
            "build/, dist/ or .git/ content shipped",
        )
        if f"{PACKAGE}/_version.py" in files:
            version = _literal_assignment(text(f"{PACKAGE}/_version.py"), "__version__")
            expected = f"{DIST_NAME}-{version}"
            report.require(top == expected, f"top directory {top!r}, expected {expected!r}")
            report.require(
                path.name == f"{expected}.tar.gz", f"file name, expected {expected}.tar.gz"
            )
            pkg_info = text("PKG-INFO") if "PKG-INFO" in files else ""
            report.require(
                f"\nVersion: {version}\n" in pkg_info, f"PKG-INFO does not say version {version}"
            )
    return report.finish(
        f"{len(files)} files, core sources {', '.join(f'_{m}.py' for m in core_modules)},"
        " no generated C or binaries"
    )


def _wheel_metadata(zf: zipfile.ZipFile) -> tuple[str, dict[str, list[str]]]:
    dist_infos = {name.split("/")[0] for name in zf.namelist() if ".dist-info/" in name}
    if len(dist_infos) != 1:
        raise ValueError(f"expected one .dist-info directory, found {sorted(dist_infos)}")
    (dist_info,) = dist_infos
    fields: dict[str, list[str]] = {}
    for line in zf.read(f"{dist_info}/WHEEL").decode().splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), []).append(value.strip())
    return dist_info, fields


def check_wheel(path: Path, *, compiled: bool) -> int:
    report = Report(path)
    # name-version(-build)?-python-abi-platform.whl
    parts = path.name[: -len(".whl")].split("-")
    report.require(len(parts) in (5, 6), f"not a wheel file name: {path.name}")
    if report.problems:
        return report.finish("")
    file_tags = {
        f"{py}-{abi}-{plat}"
        for py in parts[-3].split(".")
        for abi in parts[-2].split(".")
        for plat in parts[-1].split(".")
    }
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        dist_info, wheel = _wheel_metadata(zf)
        version = _literal_assignment(zf.read(f"{PACKAGE}/_version.py").decode(), "__version__")
        core_modules = _literal_assignment(
            zf.read(f"{PACKAGE}/_core/__init__.py").decode(), "MODULE_NAMES"
        )
    report.require(parts[0] == DIST_NAME, f"distribution name {parts[0]!r}")
    report.require(parts[1] == version, f"file version {parts[1]!r}, _version.py says {version!r}")
    report.require(dist_info == f"{DIST_NAME}-{version}.dist-info", f"dist-info {dist_info!r}")
    report.require(
        set(wheel.get("Tag", [])) == file_tags,
        f"WHEEL tags {wheel.get('Tag')} differ from the file name's {sorted(file_tags)}",
    )
    for module in core_modules:
        report.require(
            f"{PACKAGE}/_core/_{module}.py" in names,
            f"missing the pure-Python source _core/_{module}.py",
        )
    extensions = {}
    for name in names:
        match = EXTENSION_RE.match(name)
        if match:
            extensions[match["stem"]] = name
    no_c = [name for name in names if name.endswith((".c", ".pyc", ".html"))]
    report.require(not no_c, f"generated files shipped: {no_c}")
    if compiled:
        report.require(
            not any(tag.endswith("-none-any") for tag in file_tags),
            f"a compiled wheel is tagged {sorted(file_tags)}",
        )
        report.require(wheel.get("Root-Is-Purelib") == ["false"], "Root-Is-Purelib is not false")
        for module in core_modules:
            stem = f"{PACKAGE}/_core/_{module}"
            report.require(stem in extensions, f"no extension module for _core/_{module}")
        summary = f"tags {sorted(file_tags)}, extensions {sorted(extensions.values())}"
    else:
        report.require(
            file_tags == {"py3-none-any"}, f"tagged {sorted(file_tags)}, not py3-none-any"
        )
        report.require(wheel.get("Root-Is-Purelib") == ["true"], "Root-Is-Purelib is not true")
        binaries = _forbidden(names)
        report.require(not binaries, f"binaries in the pure wheel: {binaries}")
        summary = "py3-none-any, pure Python (no extension modules)"
    return report.finish(summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("sdist", "compiled-wheel", "pure-wheel"))
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    status = 0
    for path in args.paths:
        if args.kind == "sdist":
            status |= check_sdist(path)
        else:
            status |= check_wheel(path, compiled=args.kind == "compiled-wheel")
    return status


if __name__ == "__main__":
    sys.exit(main())
