"""The fast path a user opts into by declaring run()'s input: inference-schema decorators or an ndarray annotation.

Real servers over real sockets. Answers must equal the stock path's on the same model, bad bodies get a 400 that
names the field, and a plain run(raw_data) stays byte-for-byte what it was (json.dumps of what run returns).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import inference_schema  # noqa: E402,F401 - a test dependency: fail, never skip, without it
import numpy as np
import pytest
from runtime_harness import NUMPY_SCORE, REPO, WEIGHTS, Server, StartServer, launch, make_model_dir, write_score

LOAD_WEIGHTS = """\
def init():
    global W
    W = np.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.npy"))  # one model: its own folder
"""

# score.py for the numpy model of NUMPY_SCORE (y = x @ W), declared with inference-schema. It counts calls of
# NumpyParameterType.deserialize_input to show that the server skips inference-schema's own (slow) conversion.
SCHEMA_SCORE = (
    """\
import os

import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

CALLS = {"deserialize_input": 0}
_deserialize = NumpyParameterType.deserialize_input


def _counted(self, input_data):
    CALLS["deserialize_input"] += 1
    return _deserialize(self, input_data)


NumpyParameterType.deserialize_input = _counted

"""
    + LOAD_WEIGHTS
    + """

@input_schema("data", NumpyParameterType(np.zeros((2, 3))))
@input_schema("report", StandardPythonParameterType(False))
@output_schema(NumpyParameterType(np.zeros((2, 2))))
def run(data, report=False):
    if report:
        return {"type": type(data).__name__, "dtype": str(data.dtype), "shape": list(data.shape), **CALLS}
    return data @ W
"""
)

# Arrays run() may return, shared by the annotated score.py and the test that checks how each is encoded.
OUTPUTS_SOURCE = """\
OUTPUTS = {
    "float32": lambda: np.array([[0.1, 1 / 3], [1e-8, 3.4e38]], dtype=np.float32),
    "float16": lambda: np.array([0.1, 65504], dtype=np.float16),
    "float64": lambda: np.array([5e-324, 1e300, -0.0, 0.1 + 0.2, 1e16]),
    "int32": lambda: np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
    "uint64": lambda: np.array([2**64 - 1, 0], dtype=np.uint64),
    "int64": lambda: np.array([-(2**63), 2**63 - 1]),
    "bool": lambda: np.array([[True, False]]),
    "transposed": lambda: np.arange(6.0).reshape(2, 3).T,
    "big_endian": lambda: np.arange(3, dtype=">f8"),
    "three_d": lambda: np.arange(8, dtype=np.int16).reshape(2, 2, 2),
    "empty": lambda: np.zeros((0, 3)),
    "nan": lambda: np.array([np.nan, np.inf, -np.inf, 1.5]),
    "zero_d": lambda: np.array(2.5),
    "strings": lambda: np.array(["a", "é"]),
}
"""

ANNOTATED_SCORE = (
    """\
import os

import numpy as np
import numpy.typing as npt

"""
    + OUTPUTS_SOURCE
    + "\n\n"
    + LOAD_WEIGHTS
    + """

def run(data: npt.NDArray[np.float32], kind: str = "predict"):
    if kind == "report":
        return {"type": type(data).__name__, "dtype": str(data.dtype), "shape": list(data.shape)}
    if kind == "predict":
        return data @ W
    if kind == "list":
        return (data @ W).tolist()
    if kind == "bytes":
        return b"raw \\xe2\\x98\\x83"
    if kind == "raise":
        raise ValueError("bad kind")  # <- fails here
    if kind == "dict_of_array":
        return {"a": data}
    return OUTPUTS[kind]()
"""
)

SKLEARN_STOCK = """\
import json

import joblib
import numpy as np

from aci_widgets.runtime.model_dir import get_model_path


def init():
    global model
    model = joblib.load(get_model_path("logreg.pkl"))


def run(raw_data):
    body = json.loads(raw_data)
    data = np.array(body["data"])
    return (model.predict_proba(data) if body.get("proba") else model.predict(data)).tolist()
"""

SKLEARN_SCHEMA = """\
import joblib
import numpy as np
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema

from aci_widgets.runtime.model_dir import get_model_path


def init():
    global model
    model = joblib.load(get_model_path("logreg.pkl"))


@input_schema("data", NumpyParameterType(np.zeros((1, 8))))
@input_schema("proba", StandardPythonParameterType(False))
@output_schema(NumpyParameterType(np.array([0])))
def run(data, proba=False):
    return model.predict_proba(data) if proba else model.predict(data)
"""


def canonical(body: bytes) -> str:
    """The JSON values of ``body`` in one spelling, NaN included (nan != nan defeats a plain ==)."""
    return json.dumps(json.loads(body))


def start(base: Path, source: str, name: str, **kwargs: Any) -> Server:
    server = launch(base / name, write_score(base / f"{name}_app", source), **kwargs)
    assert server.ready.get("status") == "ready", server.stderr()
    return server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """The same numpy model served three ways: stock score.py, inference-schema, NDArray[np.float32] annotation."""
    base = tmp_path_factory.mktemp("fastpath")
    models = make_model_dir(base / "models")
    started: dict[str, Server] = {}
    try:
        started["stock"] = launch(base / "stock", NUMPY_SCORE, model_dir=models)
        started["schema"] = start(base, SCHEMA_SCORE, "schema", model_dir=models)
        started["annotated"] = start(base, ANNOTATED_SCORE, "annotated", model_dir=models)
        yield started
    finally:
        for server in started.values():
            server.stop()


# -- round trips ---------------------------------------------------------------------------------------------------


def test_schema_round_trip_equals_the_stock_path(servers: dict[str, Server]) -> None:
    x = [[1.0, 0.5, -2.0], [0.0, 1.0, 1.0], [0.1, 0.2, 0.3]]
    stock = servers["stock"].score({"data": x})
    fast = servers["schema"].score({"data": x})
    assert stock[0] == fast[0] == 200
    assert fast[1]["content-type"] == "application/json"
    assert json.loads(fast[2]) == json.loads(stock[2]) == (np.array(x) @ WEIGHTS).tolist()
    assert "fast path on (@input_schema): run(data: float64 array (n, 3), report)" in servers["schema"].stderr()
    assert "request bodies parsed by pysimdjson (numeric arrays), else orjson" in servers["schema"].stderr()


def test_schema_run_gets_an_ndarray_without_inference_schemas_conversion(servers: dict[str, Server]) -> None:
    status, _, body = servers["schema"].score({"data": [[1, 2, 3]] * 5, "report": True})
    assert status == 200
    # The batch dimension is free (the sample has 2 rows); the dtype is the sample's.
    assert json.loads(body) == {"type": "ndarray", "dtype": "float64", "shape": [5, 3], "deserialize_input": 0}


def test_unknown_fields_are_ignored_as_azmlinfsrv_does(servers: dict[str, Server]) -> None:
    status, _, body = servers["schema"].score({"data": [[1, 0, 0]], "extra": "ignored"})
    assert (status, json.loads(body)) == (200, [[1.0, 2.0]])


def test_annotated_run_gets_an_array_of_the_annotated_dtype(servers: dict[str, Server]) -> None:
    server = servers["annotated"]
    status, _, body = server.score({"data": [[1, 2, 3]], "kind": "report"})
    assert (status, json.loads(body)) == (200, {"type": "ndarray", "dtype": "float32", "shape": [1, 3]})
    x = [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]]
    status, _, body = server.score({"data": x})
    assert status == 200
    assert json.loads(body) == (np.array(x, dtype=np.float32) @ WEIGHTS).tolist()
    assert "fast path on (annotations): run(data: float32 array, kind)" in server.stderr()


def test_plain_ndarray_annotation_means_float64_of_any_shape(start_server: StartServer, tmp_path: Path) -> None:
    source = (
        "import numpy as np\n\n\n"
        "def run(data: np.ndarray):\n"
        "    return {'dtype': str(data.dtype), 'shape': list(data.shape), 'sum': float(data.sum())}\n"
    )
    server = start_server(write_score(tmp_path / "app", source))
    status, _, body = server.score({"data": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]})
    assert (status, json.loads(body)) == (200, {"dtype": "float64", "shape": [2, 2, 2], "sum": 36.0})


@pytest.mark.parametrize(
    "kind",
    [
        "float32", "float16", "float64", "int32", "uint64", "int64", "bool", "transposed", "big_endian", "three_d",
        "empty", "nan", "zero_d", "strings",
    ],
)  # fmt: skip
def test_ndarray_results_decode_like_json_dumps_of_tolist(servers: dict[str, Server], kind: str) -> None:
    namespace: dict[str, Any] = {"np": np}
    exec(OUTPUTS_SOURCE, namespace)
    expected = json.dumps(namespace["OUTPUTS"][kind]().tolist())
    status, headers, body = servers["annotated"].score({"data": [[0, 0, 0]], "kind": kind})
    assert (status, headers["content-type"]) == (200, "application/json")
    assert canonical(body) == canonical(expected.encode())
    if kind == "nan":
        assert body == expected.encode()  # NaN/Infinity spelled as json.dumps spells them, not as null


def test_other_results_are_answered_as_the_stock_path(servers: dict[str, Server]) -> None:
    server = servers["annotated"]
    x = [[1.0, 0.0, 0.5]]
    status, _, body = server.score({"data": x, "kind": "list"})
    assert (status, body) == (200, json.dumps((np.array(x, dtype=np.float32) @ WEIGHTS).tolist()).encode())
    status, headers, body = server.score({"data": x, "kind": "bytes"})
    assert (status, headers["content-type"], body) == (200, "application/octet-stream", "raw ☃".encode())
    status, _, body = server.score({"data": x, "kind": "dict_of_array"})
    assert status == 500
    assert json.loads(body)["error"].startswith("TypeError: Object of type ndarray is not JSON serializable")


def test_run_exception_is_500_with_the_users_traceback(servers: dict[str, Server]) -> None:
    status, _, body = servers["annotated"].score({"data": [[0, 0, 0]], "kind": "raise"})
    assert (status, json.loads(body)) == (500, {"error": "ValueError: bad kind"})
    log = servers["annotated"].stderr()
    assert 'raise ValueError("bad kind")  # <- fails here' in log
    assert "fastpath.py" not in log and "handlers.py" not in log


def test_sklearn_logistic_regression_schema_equals_stock(start_server: StartServer, tmp_path: Path) -> None:
    import joblib
    import sklearn  # noqa: F401 - the model below is an sklearn one
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 8))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + 2 * (x[:, 2] > 0.5)
    version_dir = tmp_path / "models" / "logreg.pkl" / "1"
    version_dir.mkdir(parents=True)
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), version_dir / "logreg.pkl")

    stock = start_server(write_score(tmp_path / "stock", SKLEARN_STOCK), model_dir=tmp_path / "models")
    fast = start_server(write_score(tmp_path / "fast", SKLEARN_SCHEMA), model_dir=tmp_path / "models")
    assert fast.ready["status"] == "ready", fast.stderr()
    probe = rng.normal(size=(7, 8)).tolist()
    for payload in ({"data": probe}, {"data": probe, "proba": True}, {"data": probe[:1]}):
        expected, got = stock.score(payload), fast.score(payload)
        assert expected[0] == got[0] == 200
        assert json.loads(got[2]) == json.loads(expected[2])


# -- 400s ----------------------------------------------------------------------------------------------------------

SHAPE = "field 'data': expected an array of shape (n, 3) of float64"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"data": [[1, 2]]}', f"{SHAPE}, got shape (n, 2)"),
        (b'{"data": [1, 2, 3]}', f"{SHAPE}, got shape (n,)"),
        (b'{"data": [[1, "a", 3]]}', f"{SHAPE}, got a value that does not convert (could not convert string to float: "
                                     "'a')"),
        (b'{"data": [[1, 2, 3], [4, 5]]}', f"{SHAPE}, got nested lists of unequal lengths"),
        (b'{"data": "1, 2, 3"}', f"{SHAPE}, got a string"),
        (b'{"data": {"a": 1}}', f"{SHAPE}, got a JSON object"),
        (b'{"data": null}', f"{SHAPE}, got null"),
        (b'{"rows": [[1, 2, 3]]}', "field 'data' is missing; this service takes a JSON object with the field(s) "
                                   "'data', 'report'."),
        (b'{"data": [[1, 2, 3]], "report": "yes"}', "field 'report': Invalid input data type to parse. Expected: "
                                                    "<class 'bool'> but got <class 'str'>"),
        (b'{"data": [[NaN, 2, 3]]}', "The request body is not valid JSON: NaN and Infinity are not JSON numbers; "
                                     "send null or a finite number instead."),
        (b'{"data": [[-Infinity, 2, 3]]}', "The request body is not valid JSON: NaN and Infinity are not JSON "
                                           "numbers; send null or a finite number instead."),
        (b"[[1, 2, 3]]", "The request body must be a JSON object with the field(s) 'data', 'report'; got a JSON "
                         "array."),
    ],
)  # fmt: skip
def test_bad_bodies_are_400_naming_the_problem(servers: dict[str, Server], body: bytes, error: str) -> None:
    with servers["schema"].client() as c:
        c.request("POST", "/score", body)
        status, headers, answer = c.read_response()
        assert (status, headers["content-type"], json.loads(answer)) == (400, "application/json", {"error": error})
        c.request("POST", "/score", b'{"data": [[1, 0, 0]]}')  # the connection stays usable
        assert c.read_response()[::2] == (200, b"[[1.0,2.0]]")


@pytest.mark.parametrize("body", [b"", b"{data", b'{"data": [[1, 2, 3]]', b'{"data": "\xff"}'])
def test_not_json_is_400(servers: dict[str, Server], body: bytes) -> None:
    status, _, answer = servers["schema"].call("POST", "/score", body)
    assert status == 400
    assert json.loads(answer)["error"].startswith("The request body is not valid JSON (")


# -- swagger.json --------------------------------------------------------------------------------------------------


def test_swagger_comes_from_the_inference_schema(servers: dict[str, Server]) -> None:
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema, output_schema
    from inference_schema.schema_util import get_input_schema, get_output_schema

    @input_schema("data", NumpyParameterType(np.zeros((2, 3))))
    @input_schema("report", StandardPythonParameterType(False))
    @output_schema(NumpyParameterType(np.zeros((2, 2))))
    def reference_run(data: Any, report: bool = False) -> Any:  # SCHEMA_SCORE's run(), declared the same way
        return data

    status, _, body = servers["schema"].call("GET", "/swagger.json")
    doc = json.loads(body)
    assert (status, doc["swagger"]) == (200, "2.0")
    assert set(doc["paths"]) == {"/", "/score"}
    assert doc["definitions"]["ServiceInput"] == get_input_schema(reference_run)
    assert doc["definitions"]["ServiceInput"]["example"] == {"data": [[0.0] * 3] * 2, "report": False}
    assert doc["definitions"]["ServiceOutput"] == get_output_schema(reference_run)
    assert doc["definitions"]["ErrorResponse"]["properties"] == {"error": {"type": "string"}}


def test_swagger_of_an_annotated_run(servers: dict[str, Server]) -> None:
    doc = json.loads(servers["annotated"].call("GET", "/swagger.json")[2])
    service_input = doc["definitions"]["ServiceInput"]
    assert service_input["required"] == ["data"]
    assert service_input["properties"]["data"]["format"] == "numpy.ndarray"
    assert "float32" in service_input["properties"]["data"]["description"]
    assert doc["definitions"]["ServiceOutput"]["description"].startswith("Any JSON")  # run() has no return type


# -- the stock path is untouched -----------------------------------------------------------------------------------

STOCK_WITH_SCHEMA_IMPORTED = """\
import json

import numpy as np
from inference_schema.schema_decorators import input_schema  # noqa: F401 - imported, but run() is not decorated


def run(raw_data):
    data = json.loads(raw_data)
    values = np.array(data["data"], dtype=np.float32)
    return {"sum": float(values.sum()), "rows": values.tolist(), "nan": float("nan"), "text": "é☃", "none": None}
"""


def test_stock_path_is_byte_for_byte_json_dumps_of_runs_return(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(write_score(tmp_path / "app", STOCK_WITH_SCHEMA_IMPORTED))
    # NaN in the body: the user's own json.loads accepts it, and the server never swaps that parser.
    body = b'{"data": [[0.1, NaN], [1e-3, 3]]}'
    status, headers, answer = server.call("POST", "/score", body)
    values = np.array([[0.1, math.nan], [1e-3, 3]], dtype=np.float32)
    expected = {"sum": float(values.sum()), "rows": values.tolist(), "nan": math.nan, "text": "é☃", "none": None}
    assert (status, headers["content-type"]) == (200, "application/json")
    assert answer == json.dumps(expected).encode()
    assert "fast path" not in server.stderr()


def test_numpy_stock_server_stays_on_the_stock_path(servers: dict[str, Server]) -> None:
    status, _, body = servers["stock"].score({"echo": {"b": [1, 2.5], "a": "é"}})
    assert (status, body) == (200, json.dumps({"b": [1, 2.5], "a": "é"}).encode())
    assert "fast path" not in servers["stock"].stderr()


# -- without the optional parsers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "parser"),
    [
        (("simdjson",), "parsed by orjson"),
        (("simdjson", "orjson"), "parsed by json.loads + numpy.array (orjson is not installed"),
    ],
)
def test_without_the_optional_parsers_answers_stay_the_same_and_the_log_says_so(
    tmp_path: Path, servers: dict[str, Server], hidden: tuple[str, ...], parser: str
) -> None:
    shim = tmp_path / "hidden"
    for module in hidden:
        (shim / module).mkdir(parents=True)
        (shim / module / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    models = make_model_dir(tmp_path / "models")
    server = start(tmp_path, SCHEMA_SCORE, "schema", model_dir=models, env={"PYTHONPATH": f"{shim}{os.pathsep}{REPO}"})
    try:
        assert parser in server.stderr()
        x = {"data": [[0.1, 0.2, 0.3], [1, 2, 3]]}
        full, without = servers["schema"].score(x), server.score(x)
        assert full[0] == without[0] == 200
        assert json.loads(without[2]) == json.loads(full[2])
        bodies = (b'{"data": [[NaN, 2, 3]]}', b'{"data": [[1, 2]]}', b'{"rows": 1}', b'{"data": [[1, 2], [[3], 4]]}')
        for body in bodies:
            assert server.call("POST", "/score", body)[::2] == servers["schema"].call("POST", "/score", body)[::2]
    finally:
        assert server.stop() == 0
