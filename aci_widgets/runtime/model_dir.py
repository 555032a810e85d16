"""Find a model's files in the deployment's model directory, like azureml's ``Model.get_model_path``.

The layout is ``<root>/<model name>/<version>/<files>``; root comes from ``ACI_WIDGETS_MODEL_DIR`` or
``AZUREML_MODEL_DIR``, which the runtime sets before it imports score.py.
"""

from __future__ import annotations

import os

ROOT_ENV_VARS = ("ACI_WIDGETS_MODEL_DIR", "AZUREML_MODEL_DIR")


class ModelPathNotFound(LookupError):
    """No model (or model file) of that name in the model directory; the message lists what is there."""


def _root(root: str | None) -> str:
    if root:
        return root
    for name in ROOT_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return value
    raise ModelPathNotFound(
        "No model directory: pass root=... or set ACI_WIDGETS_MODEL_DIR"
        " (the runtime sets it from --model-dir)."
    )


def _versions(model_dir: str) -> list[int]:
    """Numeric version directories of one model, lowest first."""
    try:
        names = os.listdir(model_dir)
    except OSError:
        return []
    return sorted(int(n) for n in names if n.isdigit() and os.path.isdir(os.path.join(model_dir, n)))


def _files(directory: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        found.extend(os.path.join(dirpath, f) for f in sorted(filenames))
    return found


def _inventory(root: str) -> str:
    """``"a (versions 1, 2), b (version 3)"``: what the error messages offer instead."""
    models = []
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        versions = _versions(os.path.join(root, name))
        if versions:
            label = "version" if len(versions) == 1 else "versions"
            models.append(f"{name} ({label} {', '.join(map(str, versions))})")
    return ", ".join(models) or "none"


def azureml_model_dir(root: str) -> str:
    """``AZUREML_MODEL_DIR`` as Azure ML sets it: with one model, ``<root>/<name>/<version>``; with several (or
    none), ``root`` itself (the ``azureml-models`` folder)."""
    found = [(name, version) for name in (sorted(os.listdir(root)) if os.path.isdir(root) else [])
             for version in _versions(os.path.join(root, name))]
    if len(found) == 1:
        name, version = found[0]
        return os.path.join(root, name, str(version))
    return root


def get_model_path(model_name: str, version: int | None = None, root: str | None = None) -> str:
    """Path of a deployed model: its only file, or its version directory when it holds several files.

    ``model_name`` may also be a file name (``Model.get_model_path('sklearn_mnist_model.pkl')`` in the azureml
    samples): then the latest version (or ``version``) of every model is searched for a file of that name.
    """
    base = _root(root)
    parent, leaf = os.path.split(os.path.normpath(base))
    if leaf.isdigit() and os.path.basename(parent) == model_name and version in (None, int(leaf)):
        files = _files(base)  # base is that model's own version folder (Azure's one-model AZUREML_MODEL_DIR)
        return files[0] if len(files) == 1 else base
    model_dir = os.path.join(base, model_name)
    if os.path.isdir(model_dir):
        versions = _versions(model_dir)
        if version is None and versions:
            version = versions[-1]
        version_dir = os.path.join(model_dir, str(version))
        if version is None or version not in versions:
            raise ModelPathNotFound(
                f"Model {model_name!r} has no version {version} in {base}; models there: {_inventory(base)}."
            )
        files = _files(version_dir)
        return files[0] if len(files) == 1 else version_dir
    if os.path.isfile(model_dir):
        return model_dir  # root is itself one model's version directory (Azure ML's single-model layout)
    matches = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        versions = _versions(os.path.join(base, name))
        chosen = version if version is not None else (versions[-1] if versions else None)
        if chosen in versions:
            version_dir = os.path.join(base, name, str(chosen))
            matches.extend(f for f in _files(version_dir) if os.path.basename(f) == model_name)
    if not matches:
        raise ModelPathNotFound(
            f"No model or model file named {model_name!r} in {base}; models there: {_inventory(base)}."
        )
    return min(matches, key=lambda p: (p.count(os.sep), p))  # the shallowest, then the first by name
