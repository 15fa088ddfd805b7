"""One small dispatcher for the ``python -m medmodels.train`` / ``.evaluate`` entry points."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

#: (name, help, add_arguments(parser), run(args) -> exit status)
Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int | None]]


def build_parser(prog: str, description: str, commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="model", required=True)
    for name, help_text, add_arguments, run in commands:
        command = sub.add_parser(name, help=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def dispatch(prog: str, description: str, commands: Sequence[Command], argv: list[str] | None = None) -> int:
    args = build_parser(prog, description, commands).parse_args(argv)
    return int(args.run(args) or 0)
