"""``python -m aci_widgets.runtime.check``: run score.py once (import, init(), run(input)) in a fresh process.

Prints ONE JSON line on stdout (the user's prints go to stderr) so a notebook magic can show a broken
score.py, with the user's failing line, in about a second instead of after a deployment.
Exit status 0 when ok, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any

from .loader import ScoreScriptError, call_init, get_run, load_score, set_model_dir
from .tracebacks import describe, user_line, user_traceback


def _failure(stage: str, exc: BaseException, score: str) -> dict[str, Any]:
    return {
        "ok": False,
        "stage": stage,
        "error": describe(exc),
        "traceback": user_traceback(exc),
        "user_line": user_line(exc, score),
    }


def check(score: str, input_text: str, model_dir: str | None = None) -> dict[str, Any]:
    """Import ``score``, call init() and run(input_text); report timings and output, or the first failure."""
    set_model_dir(model_dir)
    start = time.perf_counter()
    try:
        module = load_score(score)
        import_seconds = time.perf_counter() - start
        init_seconds = call_init(module)
    except ScoreScriptError as exc:
        return _failure(exc.stage, exc.error, score)
    run = get_run(module)
    start = time.perf_counter()
    try:
        result = run(input_text)
    except (Exception, SystemExit) as exc:
        return _failure("run", exc, score)
    run_seconds = time.perf_counter() - start
    report: dict[str, Any] = {
        "ok": True,
        "import_seconds": round(import_seconds, 6),
        "init_seconds": round(init_seconds, 6),
        "run_seconds": round(run_seconds, 6),
    }
    if isinstance(result, (bytes, bytearray, memoryview)):
        report.update(output=repr(bytes(result)), output_is_bytes=True)  # the server sends these raw
        return report
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        # The server would answer 500 for this result: report it as the failure it is.
        failure = _failure("run", exc, score)
        kind = type(result).__name__
        failure["error"] = f"run() returned a {kind} that json.dumps cannot encode: {describe(exc)}"
        failure["output"] = repr(result)[:2000]
        return failure
    report["output"] = result
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run :func:`check`, print its one JSON line."""
    p = argparse.ArgumentParser(
        prog="python -m aci_widgets.runtime.check", description=__doc__.splitlines()[0]
    )
    p.add_argument("--score", required=True)
    p.add_argument("--model-dir")
    p.add_argument("--input-file", required=True, help="the request body to pass to run(), as UTF-8 text")
    args = p.parse_args(argv)
    out = sys.stdout
    try:
        with open(args.input_file, "rb") as f:
            input_text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report: dict[str, Any] = {
            "ok": False,
            "stage": "input",
            "error": describe(exc),
            "traceback": "",
            "user_line": None,
        }
    else:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for our one line
            report = check(args.score, input_text, args.model_dir)
    out.write(json.dumps(report) + "\n")
    out.flush()
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
