"""Load the user's score.py and call its init(): the part of start-up that can fail because of user code."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

MODEL_DIR_ENV_VARS = ("AZUREML_MODEL_DIR", "ACI_WIDGETS_MODEL_DIR")


class ScoreScriptError(Exception):
    """score.py failed at ``stage`` ("import" or "init"); ``error`` is the user's own exception."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"score.py failed at {stage}: {type(error).__name__}: {error}")
        self.stage = stage
        self.error = error


def set_model_dir(model_dir: str | None) -> None:
    """Point azureml's and our own variable at the models, as Azure ML does before it imports score.py."""
    if model_dir:
        from .model_dir import azureml_model_dir

        path = os.path.abspath(model_dir)
        os.environ["ACI_WIDGETS_MODEL_DIR"] = path  # always the azureml-models folder
        os.environ["AZUREML_MODEL_DIR"] = azureml_model_dir(path)  # as Azure sets it: one model's folder, or that


def load_score(path: str) -> ModuleType:
    """Import ``path`` as module ``score``, its directory first on sys.path so that sibling imports work."""
    path = os.path.abspath(path)
    script_dir = os.path.dirname(path)
    if not sys.path or sys.path[0] != script_dir:
        sys.path.insert(0, script_dir)
    # An explicit loader accepts any file name, not only *.py.
    loader = importlib.machinery.SourceFileLoader("score", path)
    spec = importlib.util.spec_from_file_location("score", path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    try:
        loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop("score", None)
        raise ScoreScriptError("import", exc) from exc
    if not callable(getattr(module, "run", None)):
        raise ScoreScriptError("import", AttributeError(f"{path} defines no run(raw_data) function"))
    return module


def call_init(module: ModuleType) -> float:
    """Call ``init()`` once (when score.py defines one) and return how long it took."""
    init = getattr(module, "init", None)
    start = time.perf_counter()
    if callable(init):
        try:
            init()
        except (Exception, SystemExit) as exc:
            from .hints import model_file_hint

            hint = model_file_hint(exc)
            if hint and hasattr(exc, "add_note"):  # Python 3.11+: the note ends the traceback wherever it is shown
                exc.add_note(hint)
            raise ScoreScriptError("init", exc) from exc
    return time.perf_counter() - start


def get_run(module: ModuleType) -> Callable[[str], Any]:
    """The user's ``run(raw_data: str)``, or a FastScorer when run() declares its input (inference-schema
    decorators or an ndarray annotation): then the server parses the body itself (see fastpath.py)."""
    run = module.run
    if "numpy" not in sys.modules:  # nothing can declare an array without numpy: keep a plain start-up lean
        return run
    from .fastpath import fast_scorer

    scorer = fast_scorer(run)
    if scorer is None:
        return run
    logging.getLogger("aci_widgets.runtime").info("%s", scorer.summary())
    return scorer
