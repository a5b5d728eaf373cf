"""docs/RULES.md stays true: every home it names is defined where it says, every test it names exists, and every
framing or extension error the code can raise (docs/ERRORS.md's catalogue of them) has its row, whose test names it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "RULES.md"
SYNTAX_ERROR = re.compile(r"`((?:rfc6716-r\d|ext-[a-z-]+|limit-extensions))`")
HOME = re.compile(r"`((?:spec|reference|conformance|tests)/[\w/.]+\.(?:py|c|h|inc)):([\w.]+)`")
TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rows() -> list[list[str]]:
    """The table rows of RULES.md, each as its cells (header and rule lines left out)."""
    rows = []
    for line in RULES.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5 and cells[0] not in ("rule", "---"):
            rows.append(cells)
    return rows


def _python_names(path: Path) -> set[str]:
    """Names a module defines: functions, classes, Class.method, module-level assignments."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _defined(path: Path, name: str) -> bool:
    if path.suffix == ".py":
        return name in _python_names(path)
    # C: a function definition at the start of a line, or an inline one in a header
    return re.search(rf"^[\w \*]*\b{re.escape(name)}\s*\(", path.read_text(), re.M) is not None


def test_every_row_names_a_home_and_a_test():
    rows = _rows()
    assert len(rows) > 50
    for cells in rows:
        assert HOME.search(cells[3]), f"no home in: {cells[0]}"
        assert TEST.search(cells[4]), f"no test in: {cells[0]}"


def test_every_home_named_is_defined_there():
    homes = set(HOME.findall(RULES.read_text()))
    assert len(homes) > 40
    for path, name in sorted(homes):
        assert (ROOT / path).is_file(), path
        assert _defined(ROOT / path, name), f"docs/RULES.md: {path} defines no {name}"


def test_every_test_named_exists():
    tests = set(TEST.findall(RULES.read_text()))
    assert len(tests) > 40
    for path, func in sorted(tests):
        tree = ast.parse((ROOT / path).read_text())
        assert func in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, f"{path}::{func}"


def test_every_framing_and_extension_error_has_its_row_and_its_test_names_it():
    catalogued = set(SYNTAX_ERROR.findall((ROOT / "docs" / "ERRORS.md").read_text()))
    assert {f"rfc6716-r{i}" for i in range(1, 8)} <= catalogued and len(catalogued) >= 18
    seen = set()
    for cells in _rows():
        ids = SYNTAX_ERROR.findall(cells[0])
        for rule in ids:
            path, _ = TEST.search(cells[4]).groups()
            assert rule in (ROOT / path).read_text(), f"{rule}: {path} does not name it"
            seen.add(rule)
    assert catalogued == seen, f"in docs/ERRORS.md, not in docs/RULES.md: {catalogued - seen}; " \
                               f"in docs/RULES.md only: {seen - catalogued}"
