"""A collapsible, bounded live log: build and service lines, the last ``max_lines`` of them."""

from __future__ import annotations

import time
from collections import deque

import ipywidgets as widgets

from ..core.ansi import strip_ansi

MAX_LINES = 500


class LogView(widgets.Accordion):
    """An Accordion holding a read-only Textarea; ``append`` buffers, ``flush`` sends (at most a few per second).

    Colour codes are stripped as lines arrive (a Textarea would show them raw). ``expand`` and ``fold`` open and
    close it: the panel opens it while a step runs and folds it when the deployment succeeds.
    """

    def __init__(self, title: str = "Log", max_lines: int = MAX_LINES, flush_every: float = 0.25) -> None:
        self.text = widgets.Textarea(value="", disabled=True,
                                     layout=widgets.Layout(width="100%", height="16em"))
        super().__init__(children=[self.text], selected_index=None)
        self._title = title
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._seen = 0
        self._flush_every = flush_every
        self._last_flush = 0.0
        self._dirty = False
        self.set_title(0, title)

    @property
    def expanded(self) -> bool:
        return self.selected_index == 0

    def expand(self) -> None:
        self.selected_index = 0

    def fold(self) -> None:
        self.selected_index = None

    @property
    def lines(self) -> list[str]:
        """The lines kept (the most recent ``max_lines``)."""
        return list(self._lines)

    @property
    def total(self) -> int:
        """How many lines arrived in all, including those dropped from the front."""
        return self._seen

    def append(self, line: str) -> None:
        """Keep a line; the Textarea is updated when enough time has passed since the last update."""
        self._lines.append(strip_ansi(line))
        self._seen += 1
        self._dirty = True
        if time.monotonic() - self._last_flush >= self._flush_every:
            self.flush()

    def drop_repeated(self, detail: str, prefix: str = "") -> None:
        """Drop the traceback that ``detail`` repeats (the panel shows it in its error box): a failure is shown
        once. Only lines from a ``Traceback`` line on that ``detail`` holds too are dropped, as the printer does."""
        repeated = {line.strip() for line in strip_ansi(detail).splitlines() if line.strip()}
        kept: list[str] = []
        in_traceback = False
        for line in self._lines:
            text = line.removeprefix(prefix).strip()
            in_traceback = (in_traceback or text.startswith("Traceback (most recent call last)")) and \
                text in repeated
            if not in_traceback:
                kept.append(line)
        if len(kept) != len(self._lines):
            self._lines = deque(kept, maxlen=self._lines.maxlen)
            self._dirty = True

    def flush(self) -> None:
        """Send the kept lines to the frontend now (called on every non-log event and at the end)."""
        if not self._dirty:
            return
        self._dirty = False
        self._last_flush = time.monotonic()
        self.text.value = "\n".join(self._lines)
        dropped = self._seen - len(self._lines)
        more = f", first {dropped} dropped" if dropped else ""
        self.set_title(0, f"{self._title} ({self._seen} lines{more})")
