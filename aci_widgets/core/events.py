"""Typed progress events: the one stream every front end consumes.

The core emits these while it registers, builds and deploys. A front end never asks a target what it is doing;
it subscribes to an :class:`~aci_widgets.core.operation.Operation` and draws the events it receives. The plain
printer behind ``show_output=True`` is one such front end, the notebook panel another, a test a third.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from .ansi import strip_ansi

if TYPE_CHECKING:
    from .operation import Operation

# The steps of a deployment, in order. An image creation uses REGISTER and BUILD only.
REGISTER = "register model"
BUILD = "build image"
START = "start service"
HEALTH = "wait for health"
STEPS = (REGISTER, BUILD, START, HEALTH)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened in an operation (``operation`` is its title, e.g. ``service aci-mnist-1``)."""

    operation: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class TargetChosen(Event):
    """Which target runs this operation, and why (configured, environment variable, or auto-detected)."""

    target: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    step: str
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class StepFinished(Event):
    step: str
    seconds: float
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class StepFailed(Event):
    """A step failed. ``detail`` carries what the user needs to fix it (a traceback, pip's error line)."""

    step: str
    seconds: float
    error: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class LogLine(Event):
    """One line of output from a build (``source='build'``) or a running service (``source='service'``)."""

    source: str
    line: str


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something the user should know that is not a failure (a fallback taken, a setting ignored)."""

    message: str
    level: str = "info"


@dataclass(frozen=True, kw_only=True)
class Finished(Event):
    """The operation ended. ``state`` is the final state (``Healthy``, ``Succeeded``, ``Failed``, ``Cancelled``)."""

    state: str
    error: str = ""
    detail: str = ""


def format_event(event: Event) -> str | None:
    """One human line for an event, or None for events a console does not show."""
    if isinstance(event, TargetChosen):
        return f"Target: {event.target} ({event.reason})"
    if isinstance(event, StepStarted):
        return f"{event.step}..." + (f" {event.message}" if event.message else "")
    if isinstance(event, StepFinished):
        tail = f" {event.message}" if event.message else ""
        return f"{event.step}: done in {event.seconds:.1f}s.{tail}"
    if isinstance(event, StepFailed):
        return f"{event.step}: FAILED after {event.seconds:.1f}s: {event.error}"
    if isinstance(event, LogLine):
        return f"  | {event.line}"
    if isinstance(event, Notice):
        return f"{event.level.upper()}: {event.message}"
    if isinstance(event, Finished):
        text = f"{event.operation}: {event.state}"
        if event.error:
            text += f"\n{event.error}"
        if event.detail:
            text += f"\n{event.detail}"
        return text
    return None


def print_events(operation: Operation, stream: TextIO | None = None) -> None:
    """The console front end: print each event as it arrives until the operation ends (without colour codes).

    A failure's traceback is shown once: a service log's traceback is held back until its step ends, and dropped
    if the failure's detail (printed at the end) repeats it; a failure's message is not repeated at the end.
    """
    out = stream or sys.stdout
    held: list[str] = []  # service log lines from a "Traceback" line on, until the step ends
    failed_with = ""

    def show(text: str) -> None:
        print(strip_ansi(text), file=out, flush=True)

    def release(detail: str = "") -> None:
        repeated = {line.strip() for line in detail.splitlines() if line.strip()}
        for line in held:
            if strip_ansi(line).strip() not in repeated:
                show(f"  | {line}")
        held.clear()

    for event in operation.follow():
        if isinstance(event, LogLine) and event.source == "service" and (
                held or strip_ansi(event.line).startswith("Traceback (most recent call last)")):
            held.append(event.line)
            if len(held) >= _MAX_HELD:
                release()
            continue
        if isinstance(event, (StepFinished, StepStarted)):
            release()
        elif isinstance(event, StepFailed):
            release(event.detail)
            failed_with = event.error
        elif isinstance(event, Finished):
            release(event.detail)
            if event.error and event.error == failed_with:
                event = dataclasses.replace(event, error="")  # its step's FAILED line said it already
        line = format_event(event)
        if line is not None:
            show(line)
    release()


_MAX_HELD = 200  # a traceback longer than this is shown as it comes


Presenter = Callable[["Operation"], None]
_presenter: Presenter = print_events


def set_presenter(presenter: Presenter | None) -> Presenter:
    """Choose what ``show_output=True`` does; the notebook extension installs its live panel here.

    Returns the previous presenter so that it can be restored. ``None`` restores the console printer.
    """
    global _presenter
    previous = _presenter
    _presenter = presenter or print_events
    return previous


def present(operation: Operation) -> None:
    """Show an operation with the current presenter (blocks until the operation ends)."""
    _presenter(operation)
