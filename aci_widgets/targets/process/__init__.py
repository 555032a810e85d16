"""Local processes: the embedded default target (no Docker, no Azure)."""

from .target import ProcessTarget

__all__ = ["ProcessTarget"]
