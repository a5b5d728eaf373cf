"""The package's import graph, read with ast (nothing imported): no cycle, and imports at the top of spec/ and
vectors/ modules but for the heavy ones the vectors CLI loads when a command runs."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGES = ("dredconf", "dredconf.spec", "dredconf.reference", "dredconf.vectors", "dredconf.vectors.groups",
            "dredconf.conformance", "dredconf.authoring")
#: Function-level imports kept on purpose: the commands' heavy modules (numpy, the C core), loaded when they run.
LAZY = {
    ("dredconf.vectors.cli", "dredconf.reference.model"), ("dredconf.vectors.cli", "dredconf.vectors.generate"),
    ("dredconf.vectors.cli", "dredconf.vectors.expectations"), ("dredconf.vectors.cli", "dredconf.vectors.coverage"),
    ("dredconf.vectors.cli", "dredconf.vectors.standalone"),
    ("dredconf.vectors.manifest", "dredconf.vectors.expectations"),
    # capture: runs a decoder through the conformance adapters, loaded only for that command
    ("dredconf.vectors.cli", "dredconf.vectors.capture"), ("dredconf.vectors.cli", "dredconf.conformance.adapters"),
    ("dredconf.vectors.cli", "dredconf.conformance.audio_metric"),
}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for d in importlib.util.find_spec(pkg).submodule_search_locations:
            for f in Path(d).glob("*.py"):
                mods[pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"] = f
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]):
    """(imported module, whether at module level) for every import of the package's own modules."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    base = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            if n.level:
                parts = base.split(".")
                mod = ".".join(parts[:len(parts) - n.level + 1] + ([mod] if mod else []))
            targets = [mod] + [f"{mod}.{a.name}" for a in n.names]
        elif isinstance(n, ast.Import):
            targets = [a.name for a in n.names]
        else:
            continue
        for t in targets:
            if t in mods and t != name:
                yield t, id(n) in top


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    """Function-level imports count too: a cycle through one is still two modules needing each other."""
    mods = _modules()
    graph = {m: {t for t, _ in _imports(m, f, mods)} for m, f in mods.items()}
    assert len(mods) > 40 and graph["dredconf.vectors.generate"]
    assert _cycles(graph) == []


def test_spec_and_vectors_import_at_the_top():
    mods = _modules()
    inner = sorted((m, t) for m, f in mods.items() if m.startswith(("dredconf.spec", "dredconf.vectors"))
                   for t, at_top in _imports(m, f, mods) if not at_top)
    assert [x for x in inner if x not in LAZY] == []


def test_the_cycle_check_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
