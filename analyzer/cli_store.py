"""Command-line access to the interview store: ``list`` and ``delete``.

``analyzer.cli`` registers :data:`list_cmd` and :data:`delete_cmd` when this
module exists. Both take ``--db`` (a path or ``sqlite:///`` URL; default
``$INTERVIEW_ANALYZER_DB`` or ``data/interviews.db``).
"""

from __future__ import annotations

import json

import click

from .cli_errors import one_line_errors
from .errors import StoreError
from .store import DB_ENV, DEFAULT_DB, Store, resolve_db_path

_db_option = click.option(
    "--db", default=DEFAULT_DB, envvar=DB_ENV, show_default=True, show_envvar=True,
    help="Interview database: a file path or sqlite:///path URL.",
)


def _open(db: str) -> Store:
    path = resolve_db_path(db)
    if not path.exists():
        raise StoreError("no database here yet; store an interview first "
                         "(interview-analyzer analyze FILE --db DB, or upload it in the app)", path)
    return Store(db)


@click.command("list")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the interviews as JSON.")
@one_line_errors
def list_cmd(db: str, as_json: bool) -> None:
    """List the stored interviews with their status, newest first.

    Example: interview-analyzer list --db data/interviews.db
    """
    interviews = _open(db).list_interviews()
    if as_json:
        click.echo(json.dumps([
            {"id": i.id, "candidate": i.candidate, "role": i.role, "date": i.interview_date, "language": i.language,
             "status": i.status, "progress": i.job.progress if i.job else None, "error": i.error,
             "source": i.source_name, "recording": bool(i.recording_path), "created": i.created}
            for i in interviews
        ], ensure_ascii=False, indent=2))
        return
    if not interviews:
        click.echo("no interviews stored", err=True)
        return
    rows = [("id", "date", "candidate", "role", "lang", "status", "source")]
    for i in interviews:
        status = i.status
        if i.job and i.job.status == "running":
            status += f" {i.job.progress:.0%}"
        rows.append((str(i.id), i.interview_date or i.created[:10], i.candidate or "—", i.role or "—",
                     i.language or "?", status, i.source_name))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@click.command("delete")
@click.argument("interview_ids", metavar="ID...", nargs=-1, required=True, type=int)
@_db_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
def delete_cmd(interview_ids: tuple[int, ...], db: str, yes: bool) -> None:
    """Erase interviews: transcript, reports, decisions, jobs and the recording file.

    Erased rows are overwritten and the database log is truncated, so nothing of
    the candidate is left behind. This cannot be undone.

    Example: interview-analyzer delete 3 --db data/interviews.db --yes
    """
    store = _open(db)
    interviews = [store.get_interview(i) for i in interview_ids]  # all must exist before anything is erased
    if not yes:
        names = ", ".join(f"{i.id} ({i.candidate or i.source_name})" for i in interviews)
        click.confirm(f"Erase interview(s) {names} for good?", abort=True, err=True)
    for interview in interviews:
        store.delete_interview(interview.id)
        click.echo(f"erased interview {interview.id}", err=True)
