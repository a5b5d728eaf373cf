"""libopus dnn/vec.h's activations and int8 input quantisation, written in numpy for the layer tests:
float32 with every operation rounded, what libopus's generic C computes.
"""
from __future__ import annotations

import numpy as np

F32 = np.float32
U32 = np.uint32


def bits(x) -> np.ndarray:
    """float32 values as their bit patterns (uint32)."""
    return np.ascontiguousarray(np.asarray(x, dtype=F32)).view(U32)


def floats(b) -> np.ndarray:
    """uint32 bit patterns as the float32 values they code."""
    return np.ascontiguousarray(np.asarray(b, dtype=U32)).view(F32)


# vec.h tanh_approx: x (N0 + N1 x^2 + N2 x^4) / (D0 + D1 x^2 + D2 x^4), float32 literals
TANH_NUM = [F32(v) for v in ("952.52801514", "96.39235687", "0.60863042")]
TANH_DEN = [F32(v) for v in ("952.72399902", "413.36801147", "11.88600922")]


def tanh_f32(x: np.ndarray) -> np.ndarray:
    """tanh_approx in numpy float32, each operation rounded as libopus's generic C rounds it."""
    x = np.asarray(x, F32)
    with np.errstate(all="ignore"):
        x2 = x * x
        num = (TANH_NUM[2] * x2 + TANH_NUM[1]) * x2 + TANH_NUM[0]
        den = (TANH_DEN[2] * x2 + TANH_DEN[1]) * x2 + TANH_DEN[0]
        t = (num * x) / den
    t = np.where(F32(1) < t, F32(1), t)
    return np.where(F32(-1) > t, F32(-1), t).astype(F32)


def sigmoid_f32(x: np.ndarray) -> np.ndarray:
    """sigmoid_approx in float32, each operation rounded."""
    return (F32(.5) + F32(.5) * tanh_f32(F32(.5) * np.asarray(x, F32))).astype(F32)


def q8(x) -> np.ndarray:
    """cgemv8x4's input quantisation floor(.5 + 127 x), the product rounded once to float32 (int64)."""
    prod = (127.0 * np.asarray(x, dtype=np.float64)).astype(F32)     # exact in float64, then fl32
    return np.floor(0.5 + prod.astype(np.float64)).astype(np.int64)
