"""AI system design interview coach: practice sessions, grounded answers and rubric grading.

``from coach import Coach`` is the Python entry point; heavy libraries load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Coach"]
__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach


def __getattr__(name: str) -> Any:
    if name == "Coach":
        from coach.core import Coach

        return Coach
    raise AttributeError(name)
