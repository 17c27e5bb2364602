"""The terminal: stored text is printed as it is, never read as rich markup (a Table 1 may hold `[link=…]` or `[/red]`).

Every command prints through `terminal()`; colours are given with `style=`, not
with markup in the text.
"""
from __future__ import annotations

from rich.console import Console


def terminal(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, markup=False, highlight=False)
