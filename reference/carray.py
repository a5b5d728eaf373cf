"""Reading libopus's generated model sources (``dnn/*_data.c``, ``*.h``) as numbers, without a C compiler.

The files follow one pattern, written by libopus's weight exporter:
``#define WEIGHTS_x_TYPE WEIGHT_TYPE_t`` then ``[static] const T x[N] = { ... };``,
a ``const WeightArray <model>_arrays[]`` table whose entries sit under
``#ifdef WEIGHTS_x_DEFINED``, and an ``init_<model>`` function of
``linear_init``/``conv2d_init`` calls (dnn/nnet.h). Conditionals around the
arrays are read as a default build sees them (USE_WEIGHTS_FILE undefined).
Only that pattern is read:
anything else raises :class:`CParseError`, which the caller turns into a
``ModelError`` naming the file.
"""
from __future__ import annotations

import ast
import operator
import re

import numpy as np


class CParseError(ValueError):
    """The text is not what libopus's weight exporter writes (message names the array, table or macro)."""


# WEIGHT_TYPE_* of dnn/nnet.h, plus uint8 which the DRED stats tables declare.
WEIGHT_DTYPES = {"float": np.float32, "int": np.int32, "qweight": np.int8, "int8": np.int8, "uint8": np.uint8}
# C element types of the declarations, with the dtype each stores.
C_DTYPES = {"float": np.float32, "int": np.int32, "opus_int32": np.int32, "qweight": np.int8,
            "opus_int8": np.int8, "opus_uint8": np.uint8}

LINEAR_ARGS = ("bias", "subias", "weights", "float_weights", "weights_idx", "diag", "scale", "nb_inputs", "nb_outputs")
CONV2D_ARGS = ("bias", "float_weights", "in_channels", "out_channels", "ktime", "kheight")

_TYPE_DEF = re.compile(r"^[ \t]*#[ \t]*define[ \t]+WEIGHTS_(\w+)_TYPE[ \t]+WEIGHT_TYPE_(\w+)", re.M)
_DEFINED = re.compile(r"^[ \t]*#[ \t]*define[ \t]+WEIGHTS_(\w+)_DEFINED\b", re.M)
_DECL = re.compile(r"^[ \t]*(?:static[ \t]+)?const[ \t]+(\w+)[ \t]+(\w+)[ \t]*\[[ \t]*(\d+)[ \t]*\][ \t]*=[ \t]*\{",
                   re.M)
_TABLE = re.compile(r"const[ \t]+WeightArray[ \t]+(\w+)[ \t]*\[[ \t]*\][ \t]*=[ \t]*\{(.*?)^\}[ \t]*;", re.M | re.S)
_ENTRY = re.compile(r'\{\s*"(\w+)"\s*,\s*WEIGHTS_(\w+)_TYPE\s*,\s*sizeof\s*\(\s*(\w+)\s*\)\s*,\s*(\w+)\s*\}\s*,?')
_NULL_ENTRY = re.compile(r"\{\s*NULL\s*,\s*0\s*,\s*0\s*,\s*NULL\s*\}\s*,?")
_INIT = re.compile(r"^int[ \t]+init_(\w+)[ \t]*\([^)]*\)\s*\{(.*?)^\}", re.M | re.S)
_CALL = re.compile(r"\b(linear_init|conv2d_init)\s*\(\s*&\s*model\s*->\s*(\w+)\s*,\s*arrays\s*,([^)]*)\)")
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)(?![\w(])[ \t]+(.*?)[ \t]*$", re.M)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_arrays(text: str) -> dict[str, np.ndarray]:
    """Every ``const T name[N] = {...};`` as a numpy array of its declared WEIGHT_TYPE, N checked."""
    wtypes = dict(_TYPE_DEF.findall(text))
    arrays: dict[str, np.ndarray] = {}
    for m in _DECL.finditer(text):
        ctype, name, count = m.group(1), m.group(2), int(m.group(3))
        where = f"array {name} (line {_line(text, m.start())})"
        if ctype not in C_DTYPES:
            raise CParseError(f"{where}: unknown element type {ctype}")
        dtype = C_DTYPES[ctype]
        wtype = wtypes.get(name)
        if wtype is not None and WEIGHT_DTYPES.get(wtype) is not dtype:
            raise CParseError(f"{where}: declared {ctype} but WEIGHTS_{name}_TYPE is WEIGHT_TYPE_{wtype}")
        end = text.find("}", m.end())
        if end < 0 or not text[end + 1:end + 3].lstrip().startswith(";"):
            raise CParseError(f"{where}: no closing '}};' (file truncated?)")
        arrays[name] = _numbers(text[m.end():end], dtype, count, where)
    return arrays


def _numbers(body: str, dtype, count: int, where: str) -> np.ndarray:
    """The comma-separated literals of one brace body; numpy converts the whole list at once (fast)."""
    if dtype is np.float32:
        body = body.replace("f", "").replace("F", "")  # C float suffix; any other letter still fails below
    tokens = body.split(",")
    if tokens and not tokens[-1].strip():
        tokens.pop()  # C allows a trailing comma
    try:
        if dtype is np.float32:
            # A literal without suffix is a double converted to float, as the C compiler does.
            with np.errstate(over="ignore"):  # past float32: inf, rejected below
                values = np.array(tokens, dtype=np.float64).astype(np.float32)
        else:
            values = np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError) as e:  # OverflowError: an integer literal past int64
        raise CParseError(f"{where}: not a list of numbers ({e})") from None
    if values.size != count:
        raise CParseError(f"{where}: {values.size} values, declared [{count}]")
    if dtype is np.float32 and not np.all(np.isfinite(values)):  # 1e999, nan: no float32 literal is that
        raise CParseError(f"{where}: values outside float range (not finite as float32)")
    if dtype is not np.float32 and values.size:
        lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
        if values.min() < lo or values.max() > hi:
            raise CParseError(f"{where}: values outside {np.dtype(dtype).name} range [{lo}, {hi}]")
    return values.astype(dtype)


def parse_weight_table(text: str) -> tuple[str, list[str], list[str]]:
    """The ``WeightArray`` table: (table name, every entry, entries whose ``#ifdef WEIGHTS_x_DEFINED`` holds)."""
    m = _TABLE.search(text)
    if m is None:
        raise CParseError("no complete 'const WeightArray ..._arrays[] = {...};' table (file truncated?)")
    defined = set(_DEFINED.findall(text))
    declared: list[str] = []
    present: list[str] = []
    stack: list[bool] = []  # a minimal preprocessor: only #ifdef/#ifndef/#else/#endif on WEIGHTS_* macros
    for raw in m.group(2).splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            words = line[1:].split()
            if words[:1] in (["ifdef"], ["ifndef"]) and len(words) >= 2:
                is_defined = words[1].removeprefix("WEIGHTS_").removesuffix("_DEFINED") in defined
                stack.append(is_defined == (words[0] == "ifdef"))
            elif words[:1] == ["else"] and stack:
                stack[-1] = not stack[-1]
            elif words[:1] == ["endif"] and stack:
                stack.pop()
            else:
                raise CParseError(f"table {m.group(1)}: unexpected directive {line!r}")
            continue
        e = _ENTRY.fullmatch(line)
        if e is None:
            if _NULL_ENTRY.fullmatch(line):
                continue
            raise CParseError(f"table {m.group(1)}: unreadable entry {line!r}")
        if len(set(e.groups())) != 1:
            raise CParseError(f"table {m.group(1)}: entry {line!r} mixes array names")
        declared.append(e.group(1))
        if all(stack):
            present.append(e.group(1))
    if stack:
        raise CParseError(f"table {m.group(1)}: unbalanced #ifdef/#endif")
    return m.group(1), declared, present


def parse_init(text: str, constants: dict[str, int]) -> tuple[str, dict[str, dict]]:
    """The ``init_<model>`` function: (model name, layer name -> its linear_init/conv2d_init arguments)."""
    m = _INIT.search(text)
    if m is None:
        raise CParseError("no complete 'int init_...(model, arrays) { ... }' function (file truncated?)")
    layers: dict[str, dict] = {}
    for call in _CALL.finditer(m.group(2)):
        kind, layer, args = call.group(1), call.group(2), [a.strip() for a in call.group(3).split(",")]
        keys = LINEAR_ARGS if kind == "linear_init" else CONV2D_ARGS
        if len(args) != len(keys):
            raise CParseError(f"init_{m.group(1)}: {kind} of {layer} has {len(args)} arguments after arrays, "
                              f"expected {len(keys)}")
        spec: dict = {"kind": kind.removesuffix("_init")}
        for key, arg in zip(keys, args):
            if arg == "NULL":
                spec[key] = None
            elif arg.startswith('"') and arg.endswith('"') and len(arg) >= 2:
                spec[key] = arg[1:-1]
            else:
                spec[key] = eval_int(arg, constants)
        n_names = 7 if kind == "linear_init" else 2  # array names first, then the integer sizes
        if not all(isinstance(spec[k], int) for k in keys[n_names:]) or \
                any(isinstance(spec[k], int) for k in keys[:n_names]):
            raise CParseError(f"init_{m.group(1)}: {kind} of {layer}: "
                              f"expected {n_names} array names then integer sizes")
        layers[layer] = spec
    return m.group(1), layers


def parse_defines(text: str, known: dict[str, int] | None = None) -> dict[str, int]:
    """``#define NAME VALUE`` where VALUE is an integer expression (of earlier names); others are skipped."""
    names = dict(known or {})
    found: dict[str, int] = {}
    for name, value in _DEFINE.findall(text):
        value = re.sub(r"/\*.*?\*/|//.*", "", value).strip()
        try:
            found[name] = names[name] = eval_int(value, names)
        except CParseError:
            continue  # not an integer constant (an include guard, a type alias, ...)
    return found


_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
}


MAX_EXPR_CHARS = 200  # the exporter's sizes are a few characters; longer text would only nest deeper
INT_RANGE = (-(1 << 63), 1 << 64)  # every value and intermediate result must fit a C 64-bit integer


def eval_int(expr: str, names: dict[str, int]) -> int:
    """A C integer constant expression (+ - * / % << >> & | ^, parentheses, known names), never via eval().

    At most ``MAX_EXPR_CHARS`` characters, every intermediate value within 64-bit C integers, so a
    corrupted header cannot make this recurse deeply or build huge numbers."""
    expr = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", expr.strip())
    if len(expr) > MAX_EXPR_CHARS:
        raise CParseError(f"not an integer expression: {expr[:40]!r}... is over {MAX_EXPR_CHARS} characters")
    try:
        return _eval(ast.parse(expr, mode="eval").body, names, expr)
    except CParseError:
        raise
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise CParseError(f"not an integer expression: {expr!r}") from None


def _eval(node: ast.AST, names: dict[str, int], expr: str) -> int:
    v = _eval_node(node, names, expr)
    if not INT_RANGE[0] <= v < INT_RANGE[1]:
        raise CParseError(f"integer expression {expr!r} leaves the 64-bit range")
    return v


def _eval_node(node: ast.AST, names: dict[str, int], expr: str) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
        v = _eval(node.operand, names, expr)
        return -v if isinstance(node.op, ast.USub) else ~v if isinstance(node.op, ast.Invert) else v
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, names, expr), _eval(node.right, names, expr)
        if type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](a, b)
        if isinstance(node.op, (ast.Div, ast.Mod)) and b != 0:
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward zero
            return q if isinstance(node.op, ast.Div) else a - q * b
        if isinstance(node.op, (ast.LShift, ast.RShift)) and 0 <= b < 64:
            return a << b if isinstance(node.op, ast.LShift) else a >> b
    raise CParseError(f"not an integer expression: {expr!r}")
