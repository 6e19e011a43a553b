"""One error style for every command: ``error: <file>: <problem>`` on stderr, exit 1, no traceback."""

from __future__ import annotations

import sys
from functools import wraps
from typing import Callable

import click

from .errors import AnalyzerError


def one_line_errors(func: Callable) -> Callable:
    """Report AnalyzerError (and a few OS errors) as one line with exit code 1."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AnalyzerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (OSError, UnicodeError) as exc:
            name = getattr(exc, "filename", None)
            click.echo(f"error: {name + ': ' if name else ''}{exc.strerror if hasattr(exc, 'strerror') and exc.strerror else exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper
