"""The C core built with AddressSanitizer and UndefinedBehaviorSanitizer, beside the normal build.

The sanitized core is a separate cffi module (``_dredconf_core_san``) compiled from
the same ``reference/csrc`` with ``build_core.make_builder`` and
``build_core.SANITIZE_CFLAGS`` into a cache directory (``$DREDCONF_SAN_DIR``,
default ``$TMPDIR/dredconf-san-<hash of sources and flags>``); the installed
``dredconf.reference._core`` is never touched. ``install()`` puts it in
``sys.modules`` under the normal name, so everything importing the core
afterwards (payload.py, rdovae.py, the tests) runs on it.

Python itself is not instrumented, so the process needs the ASan runtime first
in line and Python's allocator routed to malloc (so cffi buffers get red zones)::

    python -m tests.fuzz.sanitizer build              # prints the module directory
    eval "$(python -m tests.fuzz.sanitizer env)"      # LD_PRELOAD, ASAN/UBSAN_OPTIONS, PYTHONMALLOC
    python -m pytest -p tests.fuzz.sanitizer tests/test_range_coder.py ...
    python -m tests.fuzz.sanitizer selftest           # proves a heap overflow, a UB shift, a signed overflow are caught

As a pytest plugin (``-p tests.fuzz.sanitizer``) it installs the sanitized core
before any test module is imported and fails loudly if the runtime is missing.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MODULE = "_dredconf_core_san"
ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "reference" / "csrc"
ASAN_OPTIONS = "detect_leaks=0:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1"
UBSAN_OPTIONS = "halt_on_error=1:print_stacktrace=1"


def flags() -> list[str]:
    from dredconf.reference.build_core import SANITIZE_CFLAGS

    return list(SANITIZE_CFLAGS)


def cache_dir() -> Path:
    h = hashlib.sha256()
    for p in sorted(CSRC.glob("*.[ch]")) + sorted(CSRC.glob("*.inc")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(" ".join(flags() + [os.environ.get("DREDCONF_CFLAGS", ""), sys.version]).encode())
    base = Path(os.environ.get("DREDCONF_SAN_DIR") or tempfile.gettempdir())
    return base / f"dredconf-san-{h.hexdigest()[:16]}"


def _built(d: Path) -> bool:
    return any(d.glob(f"{MODULE}*.so"))


def build() -> Path:
    """Compile the sanitized module unless the cache has it; returns its directory."""
    d = cache_dir()
    if _built(d):
        return d
    d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC")}
    code = ("import sys; from dredconf.reference.build_core import make_builder, SANITIZE_CFLAGS; "
            f"make_builder({MODULE!r}, SANITIZE_CFLAGS).compile(tmpdir={str(d)!r}, verbose=False)")
    # cffi changes into tmpdir to compile: run it from there so the sources resolve as absolute paths
    r = subprocess.run([sys.executable, "-c", code], cwd=d, env=env, capture_output=True, text=True)
    if r.returncode != 0 or not _built(d):
        raise RuntimeError(f"sanitizer build failed:\n{r.stdout}\n{r.stderr}")
    return d


def libasan() -> str:
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not out or not Path(out).exists():
        raise RuntimeError("gcc has no libasan.so (install libasan / gcc's sanitizer runtime)")
    return str(Path(out).resolve())


def runtime_env() -> dict[str, str]:
    """What a Python process needs to load the sanitized module."""
    return {"LD_PRELOAD": libasan(), "ASAN_OPTIONS": ASAN_OPTIONS, "UBSAN_OPTIONS": UBSAN_OPTIONS,
            "PYTHONMALLOC": "malloc"}


def install():
    """Load the sanitized core and make it ``dredconf.reference._core``; returns the module."""
    if "libasan" not in os.environ.get("LD_PRELOAD", ""):
        raise RuntimeError("the sanitized core needs the ASan runtime preloaded: "
                           'eval "$(python -m tests.fuzz.sanitizer env)" first')
    if "dredconf.reference._core" in sys.modules and getattr(sys.modules["dredconf.reference._core"], "__name__",
                                                             "") == MODULE:
        return sys.modules["dredconf.reference._core"]
    if "dredconf.reference._core" in sys.modules:
        raise RuntimeError("the normal C core was imported before the sanitized one could be installed")
    d = build()
    sys.path.insert(0, str(d))
    mod = importlib.import_module(MODULE)
    sys.modules["dredconf.reference._core"] = mod
    import dredconf.reference

    dredconf.reference._core = mod
    return mod


def is_installed() -> bool:
    m = sys.modules.get("dredconf.reference._core")
    return m is not None and m.__name__ == MODULE


# pytest plugin: -p tests.fuzz.sanitizer
def pytest_configure(config):
    install()


def pytest_report_header(config):
    m = sys.modules.get("dredconf.reference._core")
    return f"dredconf C core: {getattr(m, '__file__', '?')} (ASan + UBSan)"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    m = sys.modules.get("dredconf.reference._core")
    terminalreporter.write_line(f"tested on the sanitized C core: {getattr(m, '__file__', '?')} "
                                f"({'installed' if is_installed() else 'NOT INSTALLED'})")


_SELFTEST_C = r"""
#include <stdlib.h>
#include <string.h>
int overflow(int n) { unsigned char *p = malloc(n); int v; memset(p, 1, n); v = p[n]; free(p); return v; }
int shift(int n) { return 1 << n; }
int add(int n) { return n + 2147483647; }
int ok(int n) { return n + 1; }
"""


def build_selftest_module() -> Path:
    """A small module (a heap overflow, a UB shift, a signed overflow, a correct function) built with the
    same flags."""
    from cffi import FFI

    d = cache_dir().with_name(cache_dir().name + "-selftest")
    d.mkdir(parents=True, exist_ok=True)
    if not any(d.glob("_dredconf_san_selftest*.so")):
        b = FFI()
        b.cdef("int overflow(int n); int shift(int n); int add(int n); int ok(int n);")
        b.set_source("_dredconf_san_selftest", _SELFTEST_C, extra_compile_args=flags(),
                     extra_link_args=[f for f in flags() if f.startswith("-fsanitize")])
        env_saved = os.environ.pop("LD_PRELOAD", None)
        try:
            b.compile(tmpdir=str(d))
        finally:
            if env_saved is not None:
                os.environ["LD_PRELOAD"] = env_saved
    return d


def selftest() -> int:
    """Check that each sanitizer stops a process of the selftest module at its bug (and not otherwise)."""
    d = build_selftest_module()
    env = dict(os.environ, **runtime_env(), PYTHONPATH=str(d))
    failures = 0
    for fn, expect in (("ok(1)", None), ("overflow(16)", "heap-buffer-overflow"),
                       ("shift(40)", "shift exponent"), ("add(1)", "signed integer overflow")):
        r = subprocess.run([sys.executable, "-c", f"import _dredconf_san_selftest as m; print(m.lib.{fn})"],
                           env=env, capture_output=True, text=True)
        caught = r.returncode != 0 and expect is not None and expect in r.stderr
        fine = expect is None and r.returncode == 0
        print(f"selftest {fn}: exit {r.returncode}, {'caught ' + expect if caught else 'ok' if fine else 'NOT CAUGHT'}")
        if not (caught or fine):
            failures += 1
            print(r.stderr[-2000:])
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "build"
    if cmd == "build":
        print(build())
    elif cmd == "env":
        for k, v in runtime_env().items():
            print(f"export {k}={v!r}")
    elif cmd == "selftest":
        return selftest()
    else:
        print("usage: python -m tests.fuzz.sanitizer [build|env|selftest]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
