"""arrays.py: pysimdjson reads well-formed numeric bodies and hands every other body back, so that the fast path
accepts, converts and rejects exactly what the orjson + np.array path does, with the same messages."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import orjson  # noqa: F401 - a dependency of the runtime: fail, never skip, without it
import pytest
import simdjson  # noqa: F401 - idem

from aci_widgets.runtime.fastpath import BadRequest, FastScorer
from aci_widgets.runtime.schema import ArraySpec, Declared, Field

# float16 overflows to inf for large numbers on both paths alike (numpy warns about it each time).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

DTYPES = ["float64", "float32", "float16", "int64", "int16", "uint8", "uint64"]


def scorers(dtype: str, shape: tuple[int, ...] | None, extra: tuple[Field, ...] = ()) -> tuple[FastScorer, FastScorer]:
    """The same declared run(), with the simdjson reader and without it."""
    fields = (Field("data", True, array=ArraySpec(np.dtype(dtype), shape)), *extra)
    declared = Declared(lambda **kwargs: kwargs, fields, "test", {}, None)
    fast, plain = FastScorer(declared), FastScorer(declared)
    assert fast._reader is not None, "pysimdjson is a runtime dependency: the reader must be on"
    plain._reader = None
    return fast, plain


def outcome(scorer: FastScorer, body: bytes) -> tuple[Any, ...]:
    try:
        kwargs = scorer.parse(body)
    except BadRequest as exc:
        return ("400", str(exc))
    return tuple(sorted((k, v.dtype.str, v.shape, v.tobytes()) if isinstance(v, np.ndarray) else (k, v)
                        for k, v in kwargs.items()))


WELL_FORMED = [
    b'{"data": [[0.1, 0.2, 0.3]]}',
    b'{"data": [[1, 2, 3], [4, 5, 6]]}',
    b'{"data":[[-0.0,1e-3,2E+2]]}',
    b' { "data" : [ [ 1 , 2 , 3 ] ] } ',
    b'{"data": [[1.7976931348623157e308, 5e-324, 0.30000000000000004]]}',
    b'{"d\\u0061ta": [[1, 2, 3]]}',
]
ILL_FORMED = [
    b'{"data": [[1, 2, 3], [4, 5]]}',        # ragged
    b'{"data": [[1, 2], [[3], 4]]}',         # a one-number array where a number belongs: as_buffer flattens it
    b'{"data": [[1, 2, 3], [4, 5, [6]]]}',
    b'{"data": [[1, 2, 3], 4]}',
    b'{"data": [1, 2, 3]}',                  # wrong number of dimensions
    b'{"data": [[]]}',
    b'{"data": []}',
    b'{"data": [[1, 2, "3"]]}',
    b'{"data": [[1, 2, null]]}',
    b'{"data": [[1, 2, true]]}',
    b'{"data": [[1, 2, {"a": 3}]]}',
    b'{"data": [[1, 2, NaN]]}',
    b'{"data": [[1, 2, 1e400]]}',
    b'{"data": [[1, 2, 300]]}',
    b'{"data": [[1, 2, -1]]}',
    b'{"data": [[1, 2, 1.5]]}',
    b'{"data": [[1, 2, 18446744073709551615]]}',
    b'{"data": [[1, 2, 18446744073709551616]]}',
    b'{"data": [[1, 2, 3]], "data": [[4, 5, 6]]}',  # duplicate key: the last one wins, as in json.loads
    b'{"data": [[1, 2, 3]], "extra": "[["}',         # an unknown key (ignored), with brackets in a string
    b'{"data": 3}',
    b'{"rows": [[1, 2, 3]]}',
    b'[[1, 2, 3]]',
    b'{"data": [[1, 2, 3]]} trailing',
    b'{"data": [[1, 2, 3]',
    b'\xff{"data": [[1, 2, 3]]}',
    b'',
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("body", WELL_FORMED + ILL_FORMED)
def test_same_outcome_as_orjson_and_numpy(dtype: str, body: bytes) -> None:
    fast, plain = scorers(dtype, (1, 3))
    assert outcome(fast, body) == outcome(plain, body)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("body", WELL_FORMED[:4])
def test_well_formed_bodies_are_read_by_simdjson(dtype: str, body: bytes) -> None:
    fast, plain = scorers(dtype, (1, 3))
    arrays = fast._reader.read(body)
    if dtype == "int64" and b"." in body:
        # Decimals into an int dtype are handed back to the ordinary way, where np.array truncates them.
        assert arrays is None
        expected = np.trunc(np.array(json.loads(body)["data"])).astype(np.int64)
        assert outcome(fast, body) == outcome(plain, body) == (("data", "<i8", expected.shape, expected.tobytes()),)
    else:
        assert arrays is not None
        assert arrays["data"].dtype == np.dtype(dtype) and arrays["data"].flags.writeable
        assert np.array_equal(arrays["data"], np.array(json.loads(body)["data"], dtype=dtype))


def test_a_mnist_sized_body_is_read_by_simdjson_and_equals_json() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(100, 784)) / 255.0
    body = json.dumps({"data": x.tolist()}).encode()
    fast, plain = scorers("float64", (1, 784))
    arrays = fast._reader.read(body)
    assert arrays is not None
    assert arrays["data"].tobytes() == x.tobytes() == plain.parse(body)["data"].tobytes()


def test_other_fields_send_the_body_the_ordinary_way() -> None:
    flag = (Field("report", False, convert=bool),)
    fast, plain = scorers("float64", None, flag)
    assert fast._reader.read(b'{"data": [1, 2]}') is not None
    body = b'{"data": [1, 2], "report": 1}'
    assert fast._reader.read(body) is None
    assert outcome(fast, body) == outcome(plain, body)


def _random_body(rng: random.Random) -> bytes:
    """A nested list of numbers, sometimes damaged in one place."""
    shape = [rng.randint(0, 3) for _ in range(rng.randint(1, 3))]

    def build(depth: int) -> Any:
        if depth == len(shape):
            return rng.choice([rng.randint(-300, 300), rng.uniform(-1e3, 1e3), 0.0, 1e-7, 255])
        return [build(depth + 1) for _ in range(shape[depth])]

    value = build(0)
    damage = rng.random()
    if damage < 0.5 and value:
        node = value
        while isinstance(node, list) and node and isinstance(node[-1], list) and rng.random() < 0.7:
            node = node[-1]
        choice = rng.choice(["append", "pop", "wrap", "unwrap", "bool", "null", "big"])
        if node:
            if choice == "append":
                node.append(node[-1])
            elif choice == "pop":
                node.pop()
            elif choice == "wrap":
                node[-1] = [node[-1]]
            elif choice == "unwrap" and isinstance(node[-1], list) and node[-1]:
                node[-1] = node[-1][0]
            elif choice == "bool":
                node[-1] = True
            elif choice == "null":
                node[-1] = None
            elif choice == "big":
                node[-1] = 2**64
    return json.dumps({"data": value}).encode()


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_nested_bodies_same_outcome(dtype: str) -> None:
    rng = random.Random(dtype)
    read = 0
    for shape in (None, (1, 3), (1, 2, 2)):
        fast, plain = scorers(dtype, shape)
        for _ in range(300):
            body = _random_body(rng)
            assert outcome(fast, body) == outcome(plain, body), body
            read += fast._reader.read(body) is not None
    assert read > 100, "the reader should take most well-formed bodies"
