"""Colour codes in build and server logs: stripped by ``strip_ansi`` and by the console printer."""

from aci_widgets.core import events
from aci_widgets.core.ansi import strip_ansi
from aci_widgets.core.operation import Operation

PIP_ERROR = "\x1b[1;31merror\x1b[0m: \x1b[1msubprocess-exited-with-error\x1b[0m"


def test_colours_cursor_moves_and_links_are_removed():
    assert strip_ansi(PIP_ERROR) == "error: subprocess-exited-with-error"
    assert strip_ansi("\x1b[2K\x1b[1Gdone \x1b[38;5;208m50%\x1b[39m") == "done 50%"
    link = "\x1b]8;;https://pip.pypa.io\x1b\\pip docs\x1b]8;;\x1b\\ and \x1b]0;title\x07x"
    assert strip_ansi(link) == "pip docs and x"
    assert strip_ansi("\x1b(B\x1bMplain") == "plain"  # character set and two-byte escapes
    assert strip_ansi("plain [1;31m text, 100% [ok]") == "plain [1;31m text, 100% [ok]"


def test_the_console_printer_strips_them(capsys):
    def work(report):
        with report.step(events.BUILD):
            report.log(PIP_ERROR)
            report.log("\x1b[32mINFO\x1b[0m ready", source="service")

    events.print_events(Operation("image x:1", work).start())
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "  | error: subprocess-exited-with-error" in out and "  | INFO ready" in out
