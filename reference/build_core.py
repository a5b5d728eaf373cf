"""cffi (API mode, out-of-line) builder for the reference C core.

Every header in ``csrc/`` carries its public declarations between the markers
``/* cdef begin */`` and ``/* cdef end */``: that block is both C and the cffi
cdef, so the interface is written once. Extra compiler flags come from the
environment (``DREDCONF_CFLAGS``), which is how the determinism test and the
sanitizer build compile the same sources differently. ``DREDCONF_SANITIZE=1`` is
shorthand for ``SANITIZE_CFLAGS`` (AddressSanitizer + UndefinedBehaviorSanitizer,
halting on the first report); a module built so only loads in a Python started
with the ASan runtime preloaded (docs/FUZZING.md; tests/fuzz/sanitizer.py builds
one beside the normal module instead of replacing it).
"""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parent / "csrc"
MODULE = "dredconf.reference._core"
# Integer-only core: strict ISO C, no fast-math, so every compiler gives the same bits.
BASE_CFLAGS = ["-std=c99", "-O2", "-fno-fast-math", "-fwrapv", "-Wall", "-Wextra"]
# ASan + UBSan, every UBSan report fatal, frames kept for readable stacks; -fno-wrapv so that UBSan also
# reports signed overflow, which the base flags' -fwrapv would define away (the core never overflows).
SANITIZE_CFLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer",
                   "-fno-wrapv", "-g", "-O1"]
_CDEF = re.compile(r"/\* cdef begin \*/(.*?)/\* cdef end \*/", re.S)


def headers() -> list[Path]:
    return sorted(CSRC.glob("*.h"))


def sources() -> list[Path]:
    return sorted(CSRC.glob("*.c"))


def cdef_text() -> str:
    return "\n".join(m for h in headers() for m in _CDEF.findall(h.read_text()))


def _source_path(path: Path) -> str:
    """setuptools wants sources relative to the project root when it drives the build."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def make_builder(module: str = MODULE, extra_cflags: list[str] | None = None) -> FFI:
    """A builder for the core; ``module`` and flags vary for test builds."""
    flags = (BASE_CFLAGS + (SANITIZE_CFLAGS if os.environ.get("DREDCONF_SANITIZE") == "1" else [])
             + shlex.split(os.environ.get("DREDCONF_CFLAGS", "")) + list(extra_cflags or []))
    builder = FFI()
    builder.cdef(cdef_text())
    includes = "".join(f'#include "{h.name}"\n' for h in headers())
    builder.set_source(
        module,
        includes,
        sources=[_source_path(s) for s in sources()],
        include_dirs=[str(CSRC)],
        extra_compile_args=flags,
        extra_link_args=[f for f in flags if f.startswith("-fsanitize")],
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
