"""``%%score_script``: write the scoring script from a cell, check its shape, and optionally run it once."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from .arguments import parse_line
from .errors import user_errors

if TYPE_CHECKING:
    from .deploy import DeployMagics
    from .display import CheckReport


@magics_class
class ScoreScriptMagics(Magics):
    """Write score.py from a cell and catch its mistakes in a second rather than after a deployment."""

    def __init__(self, shell: Any, settings: DeployMagics) -> None:
        super().__init__(shell=shell)
        self.settings = settings

    @magic_arguments("%score_script")  # shown as %%score_script: it is a cell magic
    @argument("path", nargs="?", default="score.py", help="Where to write the script (default: score.py).")
    @argument("--test-model", action="append", default=[], metavar="PATH_OR_NAME",
              help="A model file or folder, or a registered 'name[:version]', laid out as "
                   "azureml-models/<name>/<version>/ for the test run. Repeat for several models.")
    @argument("--test-input", default=None, metavar="EXPR_OR_FILE",
              help="The request body for run(): a file, or a Python expression evaluated here and sent as JSON "
                   "(quote it). Given this, init() and run() are called once in a fresh Python process.")
    @argument("--timeout", type=float, default=300.0, help="Seconds the test run may take (default 300).")
    @no_var_expand
    @cell_magic
    @user_errors
    def score_script(self, line: str, cell: str) -> CheckReport | None:
        """Write the cell to PATH and check that it compiles and defines init() and run(raw_data).

        With --test-input (and --test-model for the model files), also run init() then run() once, with this
        kernel's Python, and show the answer and timings, or the traceback with your own line marked.
        """
        from .score_check import check_shape, input_text, lay_out_models, run_check

        args = parse_line(self.score_script, line)
        if args.test_model and args.test_input is None:
            raise UsageError("--test-model needs --test-input (the request body to pass to run()).")
        path = Path(args.path)
        if path.parent != Path() and not path.parent.is_dir():
            raise UsageError(f"Folder {str(path.parent)!r} does not exist (relative to {Path.cwd()}).")
        path.write_text(cell, encoding="utf-8")
        print(check_shape(cell, args.path))
        if args.test_input is None:
            return None
        from .display import CheckReport

        body = input_text(args.test_input, self.shell.ev)
        with tempfile.TemporaryDirectory(prefix="aci-score-check-") as tmp:
            root = Path(tmp) / "azureml-models"
            root.mkdir()
            models = lay_out_models(self.settings.get_workspace(), args.test_model, root) \
                if args.test_model else []
            report = run_check(str(path), body, root if models else None, args.timeout)
        return CheckReport(args.path, report, models)
