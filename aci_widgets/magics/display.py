"""What the magics return: small display objects with an HTML face for notebooks and a text face elsewhere."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.ansi import strip_ansi
from ..widgets.html_cards import age, badge_html


@dataclass
class ServiceRow:
    name: str
    state: str
    target: str
    uri: str
    age: str


class ServicesTable:
    """``%aci_services``: the workspace's services with state, target, scoring URI and age."""

    columns = ("name", "state", "target", "scoring URI", "age")

    def __init__(self, workspace_name: str, rows: list[ServiceRow]) -> None:
        self.workspace_name = workspace_name
        self.rows = rows

    @classmethod
    def of(cls, services: list[Any], workspace_name: str) -> ServicesTable:
        rows = []
        for service in services:
            try:
                state, uri = service.state, service.scoring_uri or ""
            except Exception:  # noqa: BLE001 - a table row must not break the whole table
                state, uri = "Unknown", ""
            rows.append(ServiceRow(service.name, state, service.target or "", uri,
                                   age(service.created_time)))
        return cls(workspace_name, rows)

    def _cells(self, row: ServiceRow) -> tuple[str, ...]:
        return (row.name, row.state, row.target, row.uri or "-", row.age)

    def __repr__(self) -> str:
        if not self.rows:
            return f"No services in workspace {self.workspace_name!r}."
        table = [self.columns, *(self._cells(r) for r in self.rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(self.columns))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>No services in workspace <b>{html.escape(self.workspace_name)}</b>.</p>"
        head = "".join(f'<th style="text-align:left">{c}</th>' for c in self.columns)
        body = "".join(
            f"<tr><td style='text-align:left'><b>{html.escape(r.name)}</b></td><td>{badge_html(r.state)}</td>"
            f"<td style='text-align:left'>{html.escape(r.target)}</td>"
            f"<td style='text-align:left'>{html.escape(r.uri or '-')}</td><td>{html.escape(r.age)}</td></tr>"
            for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class LogText:
    """``%aci_logs``: a service's log, without colour codes, as text or in a scrollable block (HTML)."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = strip_ansi(text)

    def __repr__(self) -> str:
        return self.text or f"(service {self.name!r} has no log yet)"

    def _repr_html_(self) -> str:
        return (f'<pre style="max-height:30em;overflow:auto;white-space:pre-wrap">{html.escape(repr(self))}'
                "</pre>")


class PredictionReport:
    """``%aci_predict`` outside a notebook: the gallery PNG with its one-line summary."""

    def __init__(self, summary: str, png: bytes) -> None:
        self.summary = summary
        self.png = png

    def __repr__(self) -> str:
        return self.summary

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return f'<div><img src="data:image/png;base64,{data}"/><div>{html.escape(self.summary)}</div></div>'


class CheckReport:
    """``%%score_script --test-input``: the answer and how long init()/run() took, or the traceback with the
    user's own line marked."""

    MARK = "-->"

    def __init__(self, script: str, report: dict[str, Any], models: list[str]) -> None:
        self.script = script
        self.report = report
        self.models = models

    @property
    def ok(self) -> bool:
        return bool(self.report.get("ok"))

    @property
    def user_line(self) -> dict[str, Any] | None:
        return self.report.get("user_line")

    def headline(self) -> str:
        r = self.report
        if self.ok:
            return f"OK: init() took {r['init_seconds']:.3f} s, run() took {r['run_seconds']:.3f} s."
        stage = {"init": "init()", "run": "run()", "import": "importing the script"}.get(r.get("stage"), r.get("stage"))
        return f"{stage} failed: {r.get('error')}"

    def marked_traceback(self) -> str:
        """The traceback with the user's frame marked, so the eye lands on their line, not the runtime's."""
        text = self.report.get("traceback") or ""
        where = self.user_line
        if not where:
            return text
        needle = f'line {where["line"]}'
        out = []
        for line in text.splitlines():
            hit = line.lstrip().startswith("File ") and needle in line and Path(where["file"]).name in line
            out.append(f"{self.MARK} {line.lstrip()}" if hit else line)
        return "\n".join(out)

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.models:
            lines.append(f"models: {', '.join(self.models)}")
        if self.ok:
            lines.append(f"output: {json.dumps(self.report.get('output'))[:2000]}")
        else:
            where = self.user_line
            if where:
                lines.append(f"{self.MARK} {Path(where['file']).name}, line {where['line']}: {where['code']}")
            if self.report.get("traceback"):
                lines += ["", self.marked_traceback().rstrip()]
        if self.report.get("printed", "").strip():
            lines += ["", f"{self.script} printed:", self.report["printed"].rstrip()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#107c10" if self.ok else "#d13438"
        parts = [f'<div style="color:{colour};font-weight:600">{html.escape(self.headline())}</div>']
        if self.models:
            parts.append(f"<div>models: {html.escape(', '.join(self.models))}</div>")
        if self.ok:
            output = json.dumps(self.report.get("output"))[:2000]
            parts.append(f"<div>output: <code>{html.escape(output)}</code></div>")
        else:
            where = self.user_line
            if where:
                parts.append(f'<div style="background:#fff4ce;padding:0.2em 0.5em">{self.MARK} '
                             f"{html.escape(Path(where['file']).name)}, line {where['line']}: "
                             f"<code>{html.escape(where['code'])}</code></div>")
            if self.report.get("traceback"):
                rows = []
                for line in self.marked_traceback().splitlines():
                    text = html.escape(line)
                    rows.append(f'<b style="background:#fff4ce">{text}</b>' if line.startswith(self.MARK) else text)
                parts.append('<pre style="white-space:pre-wrap">' + "\n".join(rows) + "</pre>")
        if self.report.get("printed", "").strip():
            parts.append(f"<details><summary>{html.escape(self.script)} printed</summary><pre>"
                         f"{html.escape(self.report['printed'])}</pre></details>")
        return "<div>" + "".join(parts) + "</div>"
