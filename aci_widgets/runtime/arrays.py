"""Numeric JSON arrays straight into ndarrays, with no Python object per number (pysimdjson's ``as_buffer``).

orjson.loads makes a Python float of every number and np.array copies them once more: for a 100 x 784 body
that is ~5 ms of a ~7 ms request. simdjson writes the numbers into one buffer that numpy wraps, about 4x faster.

It is only an accelerator. ``as_buffer`` flattens whatever nesting it meets, so :meth:`ArrayReader.read` proves
the array rectangular before trusting it, and returns None for anything it cannot prove (ragged rows, a
field that is not an array, a key it does not know, a number out of range). The caller then parses the body
the ordinary way, which gives every error its usual message: both ways accept exactly the same bodies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .fastpath import MAX_DIMS  # deeper arrays are left to fastpath.py, which refuses them with a 400

if TYPE_CHECKING:
    from .schema import ArraySpec, Field

_OPEN_BRACKET = 0x5B  # b"["
_NUMPY_COUNTS_FROM = 16 * 1024  # body size from which numpy counts brackets faster than bytes.count (~6x at 600 KB)
# The buffer type as_buffer fills for each dtype kind; narrower dtypes are range-checked, then cast.
_BUFFER_TYPE = {"f": ("d", "float64"), "i": ("i", "int64"), "u": ("u", "uint64")}


class ArrayReader:
    """Reads ``{"<field>": <nested numeric lists>, ...}`` bodies whose keys are all numeric array fields."""

    def __init__(self, simdjson: Any, np: Any, fields: tuple[Field, ...]) -> None:
        self.simdjson = simdjson
        self.np = np
        self._array_type = simdjson.Array
        self._object_type = simdjson.Object
        # One parser for the life of the server: it keeps its buffers (a fresh one per request maps and faults in
        # megabytes for a large body, which cost more than the parse). Nothing returned refers to it: as_buffer
        # copies the numbers out, and the views of the document die with read()'s locals.
        self._parser = simdjson.Parser()
        self._specs: dict[str, ArraySpec] = {f.name: f.array for f in fields if readable(f)}
        self._required = tuple(f.name for f in fields if f.required)

    @staticmethod
    def usable(fields: tuple[Field, ...]) -> bool:
        """True when some body can be read this way: every required field is a readable array."""
        return any(readable(f) for f in fields) and all(readable(f) for f in fields if f.required)

    def read(self, body: bytes) -> dict[str, Any] | None:
        """run()'s keyword arguments, or None: parse the body the ordinary way (it may be fine, or a 400)."""
        try:
            doc = self._parser.parse(body)
        except ValueError:  # not JSON, not UTF-8, a number simdjson cannot hold, too deep
            return None
        except RuntimeError:  # something still holds a view of the last document: never wait for it
            self._parser = self.simdjson.Parser()
            return None
        if type(doc) is not self._object_type:
            return None
        arrays: dict[str, Any] = {}
        brackets = 0
        for name in doc:
            spec = self._specs.get(name)
            if spec is None or name in arrays:
                return None  # a field read elsewhere, or a duplicate (orjson keeps the last, simdjson the first)
            found = self._read_array(doc[name], spec)
            if found is None:
                return None
            arrays[name], opened = found
            brackets += opened
        for name in self._required:
            if name not in arrays:
                return None
        # Every "[" of the body opens one of the arrays counted above (the keys hold none and the values hold no
        # strings): a single-number array where a number belongs, which as_buffer would flatten, adds one more.
        if len(body) < _NUMPY_COUNTS_FROM:
            opened_in_body = body.count(b"[")
        else:
            opened_in_body = int(self.np.count_nonzero(self.np.frombuffer(body, self.np.uint8) == _OPEN_BRACKET))
        return arrays if opened_in_body == brackets else None

    def _read_array(self, value: Any, spec: ArraySpec) -> tuple[Any, int] | None:
        """(the ndarray, how many JSON arrays it was written as), or None when it is not proved rectangular."""
        shape = self._shape(value)
        if shape is None or len(shape) > MAX_DIMS or (spec.shape is not None and (len(shape) != len(spec.shape) or
                                                          tuple(shape[1:]) != spec.shape[1:])):
            return None
        of_type, wide = _BUFFER_TYPE[spec.dtype.kind]
        try:
            buffer = value.as_buffer(of_type=of_type)
        except (TypeError, ValueError):  # a string, boolean, null or object inside; an int out of 64-bit range
            return None
        np = self.np
        flat = np.frombuffer(buffer, dtype=wide)
        if flat.size != math.prod(shape):
            return None
        if spec.dtype.kind in "iu" and flat.size and spec.dtype != flat.dtype:
            info = np.iinfo(spec.dtype)
            if flat.min() < info.min or flat.max() > info.max:
                return None  # np.array raises OverflowError for it: let that path say so
        array = flat.reshape(shape)
        if array.dtype != spec.dtype:
            array = array.astype(spec.dtype)
        return array, self._arrays_in(shape)

    def _shape(self, value: Any) -> list[int] | None:
        """The shape, read along the first elements, once every array above the last level is checked to hold
        arrays of that length; None for anything ragged or for a value that is not an array."""
        array_type = self._array_type
        if type(value) is not array_type:
            return None
        shape = []
        node = value
        while type(node) is array_type:
            shape.append(len(node))
            if not shape[-1]:
                break
            node = node[0]
        level = [value]
        for size in shape[1:]:
            level = [child for parent in level for child in parent]
            for child in level:
                if type(child) is not array_type or len(child) != size:
                    return None
        return shape

    @staticmethod
    def _arrays_in(shape: list[int]) -> int:
        """How many JSON arrays a rectangular array of ``shape`` is written as: 1 + d0 + d0*d1 + ..."""
        total, count = 1, 1
        for size in shape[:-1]:
            count *= size
            total += count
        return total


def readable(field: Field) -> bool:
    """An array field of a concrete numeric dtype whose name holds no "[" (the bracket count relies on it)."""
    spec = field.array
    return spec is not None and spec.dtype is not None and spec.dtype.kind in _BUFFER_TYPE and "[" not in field.name
