"""Whether a widget can be seen: a kernel with a frontend (a notebook), not a terminal or a plain script."""

from __future__ import annotations

from typing import Any


def has_frontend(shell: Any = None) -> bool:
    """True inside an ipykernel (notebook, JupyterLab, VS Code); False in terminal IPython or plain Python."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    return getattr(shell, "kernel", None) is not None
