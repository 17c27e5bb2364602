"""Entry points: the `gateway` command line and the process that serves API and workers.

Each command parses its arguments, calls one handler of a stage package and prints.
`main` holds the parser; `serve` runs the API, the in-process workers and the
schedules in one event loop.
"""
from gateway.cli.main import main

__all__ = ["main"]
