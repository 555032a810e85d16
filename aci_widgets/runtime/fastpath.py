"""The fast path: for a run() that declares its input (schema.py), the server parses the body itself.

Measured here, stdlib ``json.loads`` of the floats is most of a stock request's cost. Numeric arrays go straight
into ndarrays of the declared dtype through pysimdjson (arrays.py); any other body, and every body simdjson cannot
prove well-formed, through orjson and np.array, which also write every 400. Only a user who declared the input gets
this: both parsers reject NaN/Infinity that json.loads accepts, so they must never replace the parser a plain
``run(raw_data)`` calls itself. Both are optional: without them the body goes through json.loads (NaN rejected the
same way) and np.array.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .arrays import ArrayReader
    from .schema import ArraySpec, Declared, Field

_MISSING = object()
MAX_DIMS = 64  # numpy's limit on an array's dimensions (NPY_MAXDIMS): a deeper body is a 400 naming it
_JSON_KINDS = {dict: "a JSON object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


class BadRequest(ValueError):
    """The body does not fit what run() declared; the message is the 400 answer's ``error``."""


class _NonFinite(ValueError):
    """json.loads met NaN or Infinity (the fallback parser must reject what orjson rejects)."""


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


class FastScorer:
    """Turns a raw body into run()'s keyword arguments and an ndarray result into JSON bytes.

    Callable like a stock run, ``scorer(raw_data) -> JSON-able value``, so that code which calls
    ``get_run(module)(text)`` (runtime.check) keeps working; the server uses :meth:`parse` and :meth:`encode`.
    """

    def __init__(self, declared: Declared) -> None:
        import numpy as np

        self.np = np
        self.function = declared.function
        self.fields = declared.fields
        self.declared = declared
        self._allowed = ", ".join(repr(f.name) for f in declared.fields) or "no fields"
        try:
            import orjson
        except ImportError:
            self.parser = "json.loads + numpy.array (orjson is not installed: pip install orjson for the full speed)"
            self._loads: Callable[[bytes], Any] = lambda body: json.loads(body, parse_constant=_reject_constant)
            self._dumps_array: Callable[[Any], bytes] | None = None
            self._encode_error: type[Exception] = TypeError
        else:
            self.parser = f"orjson {orjson.__version__}"
            self._loads = orjson.loads
            option = orjson.OPT_SERIALIZE_NUMPY
            self._dumps_array = lambda array: orjson.dumps(array, option=option)
            self._encode_error = orjson.JSONEncodeError
        self._reader = _array_reader(np, declared.fields)
        if self._reader is not None:
            self.parser = f"pysimdjson (numeric arrays), else {self.parser}"

    def summary(self) -> str:
        """One line for the start-up log: what run() takes and which parser reads it."""
        args = ", ".join(_describe_field(f) for f in self.fields)
        return f"fast path on ({self.declared.source}): run({args}); request bodies parsed by {self.parser}"

    # -- the request -------------------------------------------------------------------------------------------

    def parse(self, body: bytes) -> dict[str, Any]:
        """run()'s keyword arguments from the body ``{"<field>": ..., ...}``; BadRequest says what is wrong."""
        if self._reader is not None:
            arrays = self._reader.read(body)
            if arrays is not None:
                return arrays
        try:
            doc = self._loads(body)
        except ValueError as exc:  # orjson.JSONDecodeError and json's both are ValueErrors
            raise BadRequest(_not_json(body, exc)) from None
        if type(doc) is not dict:
            raise BadRequest(f"The request body must be a JSON object with the field(s) {self._allowed}; got "
                             f"{_json_kind(doc)}.")
        kwargs = {}
        for field in self.fields:
            value = doc.get(field.name, _MISSING)
            if value is _MISSING:
                if field.required:
                    raise BadRequest(f"field {field.name!r} is missing; this service takes a JSON object with the "
                                     f"field(s) {self._allowed}.")
                continue
            if field.array is not None:
                value = self._to_array(field.name, field.array, value)
            elif field.convert is not None:
                try:
                    value = field.convert(value)
                except (ValueError, TypeError) as exc:
                    raise BadRequest(f"field {field.name!r}: {exc}") from None
            kwargs[field.name] = value
        return kwargs

    def _to_array(self, name: str, spec: ArraySpec, value: Any) -> Any:
        if type(value) is not list:
            raise BadRequest(f"field {name!r}: expected {_expected(spec)}, got {_json_kind(value)}")
        depth, node = 0, value
        while type(node) is list and depth <= MAX_DIMS:  # along the first elements: a few steps for real inputs
            depth, node = depth + 1, (node[0] if node else None)
        if depth > MAX_DIMS:
            raise BadRequest(f"field {name!r}: arrays nested more than {MAX_DIMS} deep are refused (numpy's limit "
                             f"on dimensions is {MAX_DIMS})")
        try:
            array = self.np.array(value, dtype=spec.dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            if "inhomogeneous" in str(exc):
                raise BadRequest(f"field {name!r}: expected {_expected(spec)}, got nested lists of unequal "
                                 "lengths") from None
            raise BadRequest(f"field {name!r}: expected {_expected(spec)}, got a value that does not convert "
                             f"({exc})") from None
        shape = spec.shape
        if shape is not None and (array.ndim != len(shape) or array.shape[1:] != shape[1:]):
            raise BadRequest(f"field {name!r}: expected {_expected(spec)}, got shape {_shape_text(array.shape)}")
        return array

    def encode(self, result: Any) -> bytes | None:
        """JSON bytes for an ndarray result, decoding to the same values as ``json.dumps(result.tolist())``;
        None for any other result (the handler answers it as the stock path does)."""
        np = self.np
        if not isinstance(result, np.ndarray):
            return None
        dumps = self._dumps_array
        kind = result.dtype.kind
        if dumps is not None and result.ndim and kind in "biuf":
            if kind == "f":
                if not np.isfinite(result).all():
                    return json.dumps(result.tolist()).encode()  # NaN/Infinity as tolist() writes them, not null
                if result.dtype != np.float64:
                    result = result.astype(np.float64)  # float32 0.1 is 0.10000000149011612 in tolist() too
            if not result.flags.c_contiguous:
                result = np.ascontiguousarray(result)
            try:
                return dumps(result)
            except self._encode_error:  # e.g. a non-native byte order
                pass
        return json.dumps(result.tolist()).encode()

    def __call__(self, raw_data: str | bytes) -> Any:
        """What the server would answer, as a JSON-able value (for callers of a stock-style run)."""
        body = raw_data.encode("utf-8") if isinstance(raw_data, str) else raw_data
        result = self.function(**self.parse(body))
        return result.tolist() if isinstance(result, self.np.ndarray) else result


def _array_reader(np: Any, fields: tuple[Field, ...]) -> ArrayReader | None:
    """An ArrayReader when pysimdjson is installed and some body can be read by it."""
    from .arrays import ArrayReader

    if not ArrayReader.usable(fields):
        return None
    try:
        import simdjson
    except ImportError:
        return None
    return ArrayReader(simdjson, np, fields)


def fast_scorer(run: Callable[..., Any]) -> FastScorer | None:
    """A FastScorer when ``run`` declares its input, else None (the stock path)."""
    from .schema import declared_input

    declared = declared_input(run)
    return FastScorer(declared) if declared is not None else None


# -- messages ------------------------------------------------------------------------------------------------------


def _not_json(body: bytes, exc: ValueError) -> str:
    pos = getattr(exc, "pos", None)
    rest = body[pos : pos + 9] if isinstance(pos, int) else b""
    if isinstance(exc, _NonFinite) or rest.startswith((b"NaN", b"Infinity", b"-Infinity")):
        return ("The request body is not valid JSON: NaN and Infinity are not JSON numbers; send null or a finite "
                "number instead.")
    return f"The request body is not valid JSON ({exc})."


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_KINDS.get(type(value), "a JSON array")


def _shape_text(shape: tuple[int, ...]) -> str:
    """``(n, 784)``: the batch dimension is free, so it is shown as n."""
    if not shape:
        return "()"
    dims = ["n", *(str(d) for d in shape[1:])]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _expected(spec: ArraySpec) -> str:
    shape = f" of shape {_shape_text(spec.shape)}" if spec.shape is not None else ""
    dtype = f" of {spec.dtype}" if spec.dtype is not None else ""
    return f"an array{shape}{dtype}"


def _describe_field(field: Field) -> str:
    """``data: float64 array (n, 784)`` for the start-up log."""
    spec = field.array
    if spec is None:
        return field.name
    shape = f" {_shape_text(spec.shape)}" if spec.shape is not None else ""
    return f"{field.name}: {spec.dtype if spec.dtype is not None else 'any'} array{shape}"
