"""One line of help under an init() traceback that a newcomer meets often: a model file that is not where init()
looks. The runtime attaches it to the user's exception as a note, so it ends the traceback wherever that is shown
(the ready file, the deployment's error) and is shown once with it."""

from __future__ import annotations

import errno
import os

_SHOWN_FILES = 8


def model_file_hint(error: BaseException) -> str | None:
    """The hint for ``error`` raised by init(), or None when it is not about a missing model file."""
    root = os.environ.get("ACI_WIDGETS_MODEL_DIR") or os.environ.get("AZUREML_MODEL_DIR")
    if not root:
        return None
    files = _files(root)
    if type(error).__name__ in ("ModelPathNotFound", "ModelNotFoundException"):  # from Model.get_model_path
        missing = None
    elif isinstance(error, OSError) and error.errno == errno.ENOENT and isinstance(error.filename, str):
        missing = error.filename
        under_root = os.path.abspath(missing).startswith(os.path.abspath(root) + os.sep)
        if not under_root and os.path.basename(missing) not in {os.path.basename(f) for f in files}:
            return None  # some other file: not ours to guess about
    else:
        return None
    shown = ", ".join(files[:_SHOWN_FILES]) + (f" and {len(files) - _SHOWN_FILES} more" if len(files) > _SHOWN_FILES
                                                else "")
    return (f"Hint: load model files with Model.get_model_path(\"<model name>\") or from os.environ"
            f"[\"AZUREML_MODEL_DIR\"] (here {os.environ.get('AZUREML_MODEL_DIR', root)}); the model directory"
            f" holds: {shown or 'no files'}.")


def _files(root: str) -> list[str]:
    """Every file under the model directory, relative to it, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(os.path.relpath(os.path.join(dirpath, f), root) for f in sorted(filenames))
    return found
