"""What run() declares about its input: inference-schema decorators, or parameters annotated as numpy arrays.

Declaring the input is how a user opts into the fast path (the server parses the body, see fastpath.py); a plain
``run(raw_data)`` keeps getting the body as text, parsed by the user's own code, as on Azure ML. Nothing here imports
numpy or inference-schema: score.py has imported them already whenever they can matter.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

# NumpyParameterType dtypes the server converts itself; the others (datetimes, strings, structured) keep
# inference-schema's own conversion, whose rules for them are richer than np.array(value, dtype).
_FAST_KINDS = "biuf"
_NO_OUTPUT_SCHEMA = {"type": "object"}  # what inference-schema reports for a run() without @output_schema


class ArraySpec(NamedTuple):
    """An input the server turns into an ndarray.

    ``dtype`` None keeps what np.array infers; ``shape`` None accepts any shape, else it is the sample's shape, of
    which the first (batch) dimension is free and the others must match.
    """

    dtype: Any  # numpy.dtype | None
    shape: tuple[int, ...] | None


class Field(NamedTuple):
    """One top-level key of the JSON body, passed to run() as the keyword argument of the same name."""

    name: str
    required: bool
    array: ArraySpec | None = None  # converted and validated by the server
    convert: Callable[[Any], Any] | None = None  # else inference-schema's conversion for this type, or as given


class Declared(NamedTuple):
    """A run() that declares its input: the function to call and how to build its arguments from the body."""

    function: Callable[..., Any]  # the undecorated run(): inference-schema's per-call conversion is skipped
    fields: tuple[Field, ...]
    source: str  # "@input_schema" or "annotations", for the start-up log
    input_schema: dict[str, Any]  # swagger.json's ServiceInput
    output_schema: dict[str, Any] | None  # ServiceOutput; None: any JSON


def declared_input(run: Callable[..., Any]) -> Declared | None:
    """How ``run`` declares its input, or None for a plain ``run(raw_data)`` (the stock path)."""
    if "numpy" not in sys.modules:  # an ndarray annotation or inference-schema both import numpy first
        return None
    return _from_inference_schema(run) or _from_annotations(run)


# -- inference-schema ----------------------------------------------------------------------------------------------


def _from_inference_schema(run: Callable[..., Any]) -> Declared | None:
    """A run() under @input_schema/@output_schema: the body's keys are run()'s parameters, as azmlinfsrv reads them."""
    if "inference_schema.schema_util" not in sys.modules or getattr(run, "_self_wrapper", None) is None:
        return None
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.schema_util import get_input_schema, get_output_schema, is_schema_decorated

    if not is_schema_decorated(run):
        return None
    declared, function = _schema_layers(run)
    fields = []
    for param in _parameters(function):
        required = param.default is inspect.Parameter.empty
        param_type, convert = declared.get(param.name, (None, False))
        if not convert:  # no schema for it, or convert_to_provided_type=False: passed as given
            fields.append(Field(param.name, required))
        elif isinstance(param_type, NumpyParameterType) and param_type.sample_input.dtype.kind in _FAST_KINDS:
            sample = param_type.sample_input
            dtype = sample.dtype if param_type.enforce_column_type else None
            shape = tuple(sample.shape) if param_type.enforce_shape else None
            fields.append(Field(param.name, required, array=ArraySpec(dtype, shape)))
        else:
            fields.append(Field(param.name, required, convert=param_type.deserialize_input))
    output = get_output_schema(run)
    return Declared(
        function, tuple(fields), "@input_schema", get_input_schema(run), None if output == _NO_OUTPUT_SCHEMA else output
    )


def _schema_layers(run: Callable[..., Any]) -> tuple[dict[str, tuple[Any, bool]], Callable[..., Any]]:
    """``{param_name: (param_type, convert_to_provided_type)}`` from the inference-schema layers on ``run``, and
    what they wrap (the user's function, with any decorator of the user's own still on it).

    inference-schema keeps the parameter types only in its wrappers' closures (its global registry holds the
    swagger schemas alone), so read them there: the sample's dtype and shape are what the fast path needs.
    """
    found: dict[str, tuple[Any, bool]] = {}
    layer: Any = run
    for _ in range(64):  # the bound only guards against a cycle
        wrapper = getattr(layer, "_self_wrapper", None)  # a wrapt.FunctionWrapper's wrapper function
        if wrapper is None or not getattr(wrapper, "__module__", "").startswith("inference_schema."):
            break
        cells = {}
        for name, cell in zip(wrapper.__code__.co_freevars, wrapper.__closure__ or (), strict=False):
            try:
                cells[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        if "param_name" in cells and "param_type" in cells:
            found.setdefault(cells["param_name"], (cells["param_type"], bool(cells.get("convert_to_provided_type"))))
        layer = layer.__wrapped__
    return found, layer


def _parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters a JSON body can fill by name (``*args``/``**kwargs`` cannot be)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p for p in inspect.signature(function).parameters.values() if p.kind in kinds]


# -- annotations ---------------------------------------------------------------------------------------------------


def _from_annotations(run: Callable[..., Any]) -> Declared | None:
    """``run(data: np.ndarray)`` or ``run(data: NDArray[np.float32])``: each such parameter is an array field."""
    np = sys.modules["numpy"]
    function = run  # called as it is: a decorator of the user's own stays in place
    try:
        hints = typing.get_type_hints(function)
        signature = inspect.signature(function)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: the user did not declare an array
        return None
    if any(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in signature.parameters.values()):
        return None
    fields = []
    for param in _parameters(function):
        spec = _array_spec(hints.get(param.name), np)
        fields.append(Field(param.name, param.default is inspect.Parameter.empty, array=spec))
    if not any(f.array for f in fields):
        return None
    properties = {f.name: _array_schema(f.array.dtype) if f.array else {} for f in fields}
    input_schema = {"type": "object", "required": [f.name for f in fields if f.required], "properties": properties}
    output = _array_spec(hints.get("return"), np)
    output_schema = _array_schema(None) if output else None  # its dtype is whatever run() returns
    return Declared(function, tuple(fields), "annotations", input_schema, output_schema)


def _array_spec(annotation: Any, np: Any) -> ArraySpec | None:
    """ArraySpec for an ndarray annotation (float64 unless NDArray[<concrete dtype>]), None for anything else."""
    if annotation is np.ndarray:
        return ArraySpec(np.dtype(np.float64), None)
    if typing.get_origin(annotation) is not np.ndarray:
        return None
    args = typing.get_args(annotation)
    scalars = typing.get_args(args[1]) if len(args) == 2 else ()
    scalar = scalars[0] if scalars else None
    dtype = np.dtype(np.float64)
    if isinstance(scalar, type) and issubclass(scalar, np.generic):
        try:
            candidate = np.dtype(scalar)
        except TypeError:  # abstract, like np.floating: no single dtype to convert to
            candidate = None
        if candidate is not None and candidate.type is scalar:
            dtype = candidate
    return ArraySpec(dtype, None)


def _array_schema(dtype: Any) -> dict[str, Any]:
    """A Swagger 2.0 schema for an annotated array: nested JSON lists, any depth (Swagger 2.0 cannot say more)."""
    of = f" of {dtype}" if dtype is not None else ""
    description = f"an array{of} as nested JSON lists"
    return {"type": "array", "format": "numpy.ndarray", "description": description, "items": {}}
