"""The browser tests import their JupyterLab driver by name (shared with docs/screenshots.py)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
