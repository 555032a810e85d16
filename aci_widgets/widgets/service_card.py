"""A service card: what a deployed service is, where to call it, and buttons to test, read logs and delete it."""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..core.ansi import strip_ansi
from ..core.errors import AciWidgetsError
from .badge import StateBadge
from .html_cards import webservice_html
from .prediction import predict_sample
from .static import StaticFallback

MASK = "•" * 12
TEST_DIGITS = 4
LOG_LINES = 50
FOLLOW_EVERY = 2.0  # seconds between two looks at the state of a displayed card's service


def _link(uri: str | None) -> str:
    return f'<a href="{html.escape(uri)}" target="_blank">{html.escape(uri)}</a>' if uri else "–"


def replicas_line(service: Any) -> str:
    """``2 of 3 Healthy (RUNNING 2, STARTING 1) on 2 nodes``: the replicas of a service that has them."""
    try:
        replicas = service.replicas()
    except AciWidgetsError as exc:
        return f"unknown ({exc})"
    states: dict[str, int] = {}
    for replica in replicas:
        states[replica.get("state", "?")] = states.get(replica.get("state", "?"), 0) + 1
    nodes = len({r.get("node_id") for r in replicas if r.get("node_id")})
    return (f"{states.get('RUNNING', 0)} of {len(replicas)} Healthy ("
            + ", ".join(f"{k} {v}" for k, v in sorted(states.items())) + f") on {nodes} node{'s' * (nodes != 1)}"
            if replicas else "none")


class ServiceCard(StaticFallback, widgets.VBox):
    """Name, coloured state badge, target, scoring URI, swagger link, masked keys (auth only), and actions.

    Results of Test and Logs go to ``output`` (an ``Output`` widget written through its ``outputs`` trait, so it
    works from any thread). Delete asks for confirmation first. Once displayed, the card follows its service
    (``follow_service``): deleted or failed elsewhere (``%aci_delete``, ``svc.delete()``), the card says so.
    """

    def __init__(self, service: Any, data: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.service = service
        self.data = data
        self.badge = StateBadge("Unknown")
        self.header = widgets.HTML()
        self.info = widgets.HTML()
        self.keys_html = widgets.HTML()
        self.reveal = widgets.ToggleButton(description="Reveal keys", icon="eye", value=False)
        self.reveal.observe(lambda _change: self._draw_keys(), "value")
        self.keys_row = widgets.HBox([self.keys_html, self.reveal])
        self.test_button = widgets.Button(description="Test", icon="play",
                                          tooltip=f"Send {TEST_DIGITS} MNIST digits to the service")
        self.logs_button = widgets.Button(description="Logs", icon="file-text")
        self.delete_button = widgets.Button(description="Delete", icon="trash", button_style="danger")
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(description="Yes, delete it", button_style="danger")
        self.keep_button = widgets.Button(description="Keep it")
        self.confirm_row = widgets.HBox([self.confirm_text, self.confirm_button, self.keep_button],
                                        layout=widgets.Layout(display="none"))
        self.output = widgets.Output()
        self.test_button.on_click(lambda _b: self._guarded(self.test))
        self.logs_button.on_click(lambda _b: self._guarded(self.show_logs))
        self.delete_button.on_click(lambda _b: self.request_delete())
        self.confirm_button.on_click(lambda _b: self._guarded(self.confirm_delete))
        self.keep_button.on_click(lambda _b: self.cancel_delete())
        self.buttons = widgets.HBox([self.test_button, self.logs_button, self.delete_button])
        super().__init__([widgets.HBox([self.header, self.badge]), self.info, self.keys_row, self.buttons,
                          self.confirm_row, self.output],
                         layout=widgets.Layout(border="1px solid #d0d0d0", padding="0.4em 0.8em"))
        self.deleted = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._following = False
        self.refresh()

    # --- what it shows -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the service's state, URIs and keys again."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        service = self.service
        self.header.value = f'<b style="font-size:1.1em;margin-right:0.6em">{html.escape(service.name)}</b>'
        if self.deleted:
            self.badge.state = "Deleted"
            return
        try:
            self.badge.state = service.state
            rows = [("target", html.escape(service.target or "–")), ("scoring URI", _link(service.scoring_uri)),
                    ("swagger", _link(service.swagger_uri))]
            if callable(getattr(service, "replicas", None)):  # an AKS-style service on Ray Serve
                rows.append(("replicas", html.escape(replicas_line(service))))
            error = service.error if self.badge.state in ("Failed", "Unhealthy") else ""
        except AciWidgetsError as exc:
            if self._gone():
                self._mark_deleted(f"Service {service.name!r} was deleted.")
                return
            self.badge.state, rows, error = "Unknown", [], str(exc)
        if error:
            rows.append(("error", f'<span style="color:#d13438">{html.escape(error)}</span>'))
        self.info.value = "<table>" + "".join(
            f'<tr><td style="color:#6b6b6b;padding-right:1em">{k}</td><td>{v}</td></tr>' for k, v in rows) + "</table>"
        self.keys_row.layout.display = "" if self._auth() else "none"
        self._draw_keys()

    def _auth(self) -> bool:
        try:
            return bool(self.service.auth_enabled)
        except AciWidgetsError:
            return False

    def _draw_keys(self) -> None:
        if not self._auth():
            self.keys_html.value = ""
            return
        if self.reveal.value:
            primary, secondary = self.service.get_keys()
            self.reveal.description = "Hide keys"
        else:
            primary = secondary = MASK
            self.reveal.description = "Reveal keys"
        self.keys_html.value = (f'<span style="color:#6b6b6b">primary key</span> <code>{html.escape(primary)}</code> '
                                f'<span style="color:#6b6b6b">secondary key</span> '
                                f"<code>{html.escape(secondary)}</code>")

    # --- actions -----------------------------------------------------------------------------------------

    def test(self, n: int = TEST_DIGITS, seed: int | None = None) -> str:
        """Send ``n`` random MNIST digits (the same ones for the same ``seed``); show predictions against labels
        and the latency."""
        rng = np.random.default_rng(seed) if seed is not None else None
        sample = predict_sample(self.service.run, n, rng, data=self.data)
        line = (f"predicted {sample.predictions.tolist()}, labels {sample.labels.tolist()}: "
                f"{sample.summary()}")
        self._show(line)
        return line

    def show_logs(self, tail: int = LOG_LINES) -> str:
        """Show the last ``tail`` lines of the service's own log."""
        text = strip_ansi(self.service.get_logs(num_lines=tail))
        self._show(text or "(no log yet)")
        return text

    def request_delete(self) -> None:
        """First click: ask. Nothing is deleted until ``confirm_delete``."""
        self.confirm_text.value = (f"Delete service <b>{html.escape(self.service.name)}</b>? "
                                   "It stops at once; its image and models stay.")
        self.confirm_row.layout.display = ""
        self.delete_button.disabled = True

    def cancel_delete(self) -> None:
        self.confirm_row.layout.display = "none"
        self.delete_button.disabled = False

    def confirm_delete(self) -> None:
        """Second step: stop and remove the service."""
        self.confirm_row.layout.display = "none"
        with self._lock:
            try:
                self.service.delete()
            except BaseException:
                self.delete_button.disabled = False
                raise
            self._mark_deleted(f"Deleted service {self.service.name!r}.")

    # --- following the service while the card is shown ----------------------------------------------------

    def follow_service(self, every: float = FOLLOW_EVERY) -> None:
        """Look at the service's state every ``every`` seconds (in a daemon thread) until it is deleted or the
        card is closed; the badge, and the static copy of the card, follow it."""
        with self._lock:
            if self._following or self.deleted:
                return
            self._following = True
        threading.Thread(target=self._follow, args=(every,), name=f"aci-widgets card {self.service.name}",
                         daemon=True).start()

    def on_displayed(self) -> None:
        self.follow_service()

    def close(self) -> None:
        self._stop.set()
        super().close()

    def _follow(self, every: float) -> None:
        while not self._stop.wait(every) and not self.deleted:
            before = self.badge.state
            try:
                self.refresh()
            except Exception:  # noqa: BLE001, S112 - a look that failed is retried at the next tick
                continue
            if self.badge.state != before and not self.deleted:  # a deletion refreshed it already
                self.update_static()

    def _gone(self) -> bool:
        """Whether the service is no longer in its workspace (deleted by another cell or process)."""
        from ..core import Webservice

        try:
            return all(other.name != self.service.name for other in Webservice.list(self.service.workspace))
        except Exception:  # noqa: BLE001 - cannot tell: not gone
            return False

    def _mark_deleted(self, message: str) -> None:
        self.deleted = True
        for button in (self.test_button, self.logs_button, self.delete_button, self.reveal):
            button.disabled = True
        self.keys_row.layout.display = "none"
        self.confirm_row.layout.display = "none"
        self.info.value = ""
        self._show(message)
        self.badge.state = "Deleted"
        self.update_static()

    def static_bundle(self) -> dict[str, str]:
        """The card as the static HTML card of a Webservice (a deleted one says so), and as text."""
        name = self.service.name
        if self.deleted:
            body = (f'<div class="aci-card" style="border:1px solid #d0d0d0;border-radius:6px;padding:0.5em 0.9em">'
                    f"<div>Webservice {self.header.value}{self.badge.value}</div></div>")
            return {"text/html": body, "text/plain": f"Webservice {name}: Deleted"}
        return {"text/html": webservice_html(self.service), "text/plain": f"Webservice {name}: {self.badge.state}"}

    def _show(self, text: str) -> None:
        self.output.outputs = ({"output_type": "stream", "name": "stdout", "text": text.rstrip("\n") + "\n"},)

    def _guarded(self, action: Any) -> None:
        """Run a button's action; a failure is shown in the card (a click has nowhere else to report)."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001
            text = str(exc) if isinstance(exc, AciWidgetsError) else f"{type(exc).__name__}: {exc}"
            self.output.outputs = ({"output_type": "stream", "name": "stderr", "text": text + "\n"},)
