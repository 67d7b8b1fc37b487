"""Build the compiled core: each module of ``mlflow_accel/_core`` that Cython compiles.

``MLFLOW_ACCEL_NO_EXTENSIONS=1`` at build time skips compilation (a pure-Python install).
"""

import os

from setuptools import setup

# The one list of core modules, in dependency order; mlflow_accel/_core/__init__.py's MODULE_NAMES
# repeats it for the installed package, tests/core/test_core_module_list.py checks they agree.
CORE_MODULES = ["validation", "rows", "messages", "parse", "render", "json_writer"]


def _extensions():
    if os.environ.get("MLFLOW_ACCEL_NO_EXTENSIONS"):
        return []
    from Cython.Build import cythonize
    from setuptools import Extension

    modules = [
        Extension(f"mlflow_accel._core._{name}", [f"mlflow_accel/_core/_{name}.py"])
        for name in CORE_MODULES
    ]
    return cythonize(
        modules,
        nthreads=os.cpu_count() or 1,
        compiler_directives={
            "language_level": 3,
            "embedsignature": True,
            "freethreading_compatible": True,
        },
    )


# The modules compile in parallel, one per core: a build takes about half the time on two cores.
setup(ext_modules=_extensions(), options={"build_ext": {"parallel": os.cpu_count() or 1}})
