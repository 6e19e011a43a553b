"""SQLite store: interviews, transcripts, reports, reviewer decisions and the job queue.

One :class:`Store` names a database file and a data folder. Every operation opens
its own connection and closes it, so a store may be shared by Streamlit sessions
and worker threads ("SQLite objects created in a thread can only be used in that
same thread" cannot happen); the store only keeps one idle connection that is
never queried, so that the WAL is not checkpointed away after every operation. Writes are short
``BEGIN IMMEDIATE`` transactions in WAL mode with a busy timeout, so concurrent
writers wait for each other instead of failing with "database is locked", and a
failure rolls the whole transaction back. Erasure is real: ``secure_delete`` zeroes
deleted rows, the WAL is checkpointed and truncated, and the recording file is
removed. See ``FAILURE-MODES.md`` (SQLite).

Recordings live in ``<data folder>/recordings/`` under generated names; the name a
user uploaded is kept only as text to show. The schema carries its version in the
``schema_version`` table and is upgraded by ordered migration functions; a
database is never dropped or recreated.

Example:
    >>> import tempfile, pathlib
    >>> from analyzer.records import Transcript, Turn
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = Store(f"sqlite:///{folder}/interviews.db")
    >>> store.schema_version() == SCHEMA_VERSION
    True
    >>> store.list_interviews()
    []
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

from .errors import StoreError
from .records import CompetencySummary, QuestionEntry, Report, Signal, Transcript
from .transcripts import transcript_from_dict

if TYPE_CHECKING:  # pandas is imported only by decisions_frame
    import pandas as pd

logger = logging.getLogger("analyzer")

#: Where the database lives when neither an argument nor the environment says.
DEFAULT_DB = "data/interviews.db"
#: Environment variable with the database path or ``sqlite:///`` URL.
DB_ENV = "INTERVIEW_ANALYZER_DB"
#: How long a connection waits for another writer before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 5000
#: Further attempts to start a write transaction after the busy timeout ran out.
WRITE_RETRIES = 3

INTERVIEW_STATUSES = ("queued", "transcribing", "analysing", "done", "failed")
JOB_STATUSES = ("queued", "running", "done", "failed")
#: ``process``: transcribe when no transcript is stored yet, then analyse.
#: ``analyze``: analyse the stored transcript again; never transcribes.
JOB_KINDS = ("process", "analyze")
DECISIONS = ("confirm", "reject", "added")
#: ``rule_id`` of a signal that a reviewer added by hand.
ADDED_RULE_ID = "reviewer.added.v1"
SOURCE_KINDS = ("transcript", "recording")


# --- records ------------------------------------------------------------------------------


class Flag(NamedTuple):
    """Identity of one flag within a report: question entry, signal, rule and character span."""

    entry: int
    signal: str
    rule_id: str
    start_char: int
    end_char: int


@dataclass(frozen=True)
class Job:
    """One unit of work of the job queue (see ``analyzer/jobs.py``).

    ``progress`` is 0..1; ``heartbeat`` is the Unix time of the last sign of
    life of the worker that holds the job; ``worker`` is the token of that run.
    """

    id: int
    interview_id: int
    kind: str
    status: str
    progress: float
    stage: str
    error: str | None
    options: dict[str, Any]
    attempts: int
    max_attempts: int
    worker: str | None
    heartbeat: float | None
    created: str
    started: str | None
    finished: str | None


@dataclass(frozen=True)
class Interview:
    """One stored interview, with its latest job when it has one.

    ``source_name`` is the name the file was uploaded under: shown, never used as
    a path. ``recording_path`` is relative to the store's data folder.
    """

    id: int
    candidate: str
    role: str
    interview_date: str | None
    language: str | None
    status: str
    error: str | None
    source_kind: str
    source_name: str
    recording_sha256: str | None
    recording_path: str | None
    duration_s: float | None
    interviewer: str | None
    created: str
    updated: str
    job: Job | None = None


@dataclass(frozen=True)
class StoredReport:
    """A report as stored, with the row's id and how it was produced."""

    id: int
    interview_id: int
    report: Report
    rubric_id: str | None
    rubric_version: str | None
    thresholds_version: str | None
    created: str


@dataclass(frozen=True)
class Decision:
    """A reviewer's verdict on one flag (or a signal the reviewer added).

    ``decision`` is ``confirm``, ``reject``, ``added`` or ``None`` (a note only).
    """

    id: int
    interview_id: int
    report_id: int
    entry: int
    signal: str
    rule_id: str
    start_char: int
    end_char: int
    text: str
    decision: str | None
    note: str
    reviewer: str
    decided_at: str

    @property
    def flag(self) -> Flag:
        return Flag(self.entry, self.signal, self.rule_id, self.start_char, self.end_char)


@dataclass(frozen=True)
class InterviewView:
    """Everything the review page shows for one interview."""

    interview: Interview
    transcript: Transcript | None
    report: StoredReport | None
    decisions: dict[Flag, Decision]


class JobLost(StoreError):
    """The job was taken from this worker (it looked dead and was re-queued or failed)."""


# --- URL and time helpers ---------------------------------------------------------------------


def default_db_url() -> str:
    """The database of the CLI and the app: ``$INTERVIEW_ANALYZER_DB`` or ``data/interviews.db``."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


def resolve_db_path(url: str | os.PathLike[str] | None = None) -> Path:
    """The file of a database URL (``sqlite:///relative.db``, ``sqlite:////abs.db``) or path.

    Raises:
        StoreError: the URL is not SQLite or names an in-memory database.

    Example:
        >>> resolve_db_path("sqlite:///data/x.db").as_posix()
        'data/x.db'
        >>> resolve_db_path("sqlite:////tmp/x.db").as_posix()
        '/tmp/x.db'
    """
    text = str(url if url is not None else default_db_url()).strip()
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme.lower() not in ("sqlite", "sqlite+pysqlite"):
            raise StoreError(
                f"unsupported database URL scheme {scheme!r}; only SQLite is supported: "
                "give sqlite:///path/to/interviews.db or a file path"
            )
        if not rest.startswith("/"):
            raise StoreError("a SQLite URL has three slashes: sqlite:///relative.db or sqlite:////absolute/path.db")
        text = rest[1:].split("?", 1)[0]
    if text in ("", ":memory:") or text.startswith("file::memory:"):
        raise StoreError("an in-memory database cannot be shared by the app's threads; give a file path")
    return Path(text).expanduser()


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_suffix(name: str | os.PathLike[str]) -> str:
    """A safe file suffix (ASCII letters and digits, at most 5) from a user-supplied name, or ``""``.

    Example:
        >>> safe_suffix("../../etc/passwd"), safe_suffix("talk.MP3"), safe_suffix("x.<script>")
        ('', '.mp3', '')
    """
    suffix = Path(str(name)).suffix.lower()
    return suffix if 1 < len(suffix) <= 6 and suffix[1:].isalnum() and suffix[1:].isascii() else ""


# --- schema -----------------------------------------------------------------------------------


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL inside the caller's transaction.

    ``executescript`` would COMMIT first, so a failed migration could be left half-done.
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migration_1(conn: sqlite3.Connection) -> None:
    """Interviews, their transcripts and reports, and reviewer decisions."""
    _run_script(
        conn,
        """
        CREATE TABLE interviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            candidate TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT '',
            interview_date TEXT,
            language TEXT,
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'transcribing', 'analysing', 'done', 'failed')),
            error TEXT,
            source_kind TEXT NOT NULL CHECK (source_kind IN ('transcript', 'recording')),
            source_name TEXT NOT NULL DEFAULT '',
            recording_sha256 TEXT,
            recording_path TEXT,
            duration_s REAL,
            interviewer TEXT,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE TABLE transcripts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            transcript_json TEXT NOT NULL,
            words INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL
        );
        CREATE INDEX transcripts_interview ON transcripts(interview_id);
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            transcript_id INTEGER REFERENCES transcripts(id) ON DELETE CASCADE,
            report_json TEXT NOT NULL,
            rubric_id TEXT,
            rubric_version TEXT,
            thresholds_version TEXT,
            analyzer_version TEXT,
            created TEXT NOT NULL
        );
        CREATE INDEX reports_interview ON reports(interview_id);
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            entry INTEGER NOT NULL,
            signal TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            decision TEXT CHECK (decision IS NULL OR decision IN ('confirm', 'reject', 'added')),
            note TEXT NOT NULL DEFAULT '',
            reviewer TEXT NOT NULL DEFAULT '',
            decided_at TEXT NOT NULL,
            UNIQUE (report_id, entry, signal, rule_id, start_char, end_char)
        );
        CREATE INDEX decisions_interview ON decisions(interview_id);
        """
    )


def _migration_2(conn: sqlite3.Connection) -> None:
    """The job queue: uploads are processed by a worker outside the page's script run."""
    _run_script(
        conn,
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('process', 'analyze')),
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
            progress REAL NOT NULL DEFAULT 0,
            stage TEXT NOT NULL DEFAULT '',
            error TEXT,
            options_json TEXT NOT NULL DEFAULT '{}',
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            worker TEXT,
            heartbeat REAL,
            created TEXT NOT NULL,
            started TEXT,
            finished TEXT
        );
        CREATE INDEX jobs_status ON jobs(status, id);
        CREATE INDEX jobs_interview ON jobs(interview_id);
        """
    )


def _migration_3(conn: sqlite3.Connection) -> None:
    """One decision per flag *and reviewer*: a flag judged by two reviewers keeps both
    verdicts, so agreement between reviewers can be measured from the store."""
    _run_script(
        conn,
        """
        CREATE TABLE decisions_v3 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
            report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            entry INTEGER NOT NULL,
            signal TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            decision TEXT CHECK (decision IS NULL OR decision IN ('confirm', 'reject', 'added')),
            note TEXT NOT NULL DEFAULT '',
            reviewer TEXT NOT NULL DEFAULT '',
            decided_at TEXT NOT NULL,
            UNIQUE (report_id, entry, signal, rule_id, start_char, end_char, reviewer)
        );
        INSERT INTO decisions_v3 SELECT * FROM decisions;
        DROP TABLE decisions;
        ALTER TABLE decisions_v3 RENAME TO decisions;
        CREATE INDEX decisions_interview ON decisions(interview_id);
        """
    )


#: Ordered migrations: ``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``.
#: Add new ones at the end; never edit or remove one that has shipped.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migration_1, _migration_2, _migration_3)
SCHEMA_VERSION = len(MIGRATIONS)


# --- the store --------------------------------------------------------------------------------


class Store:
    """The interview database and its data folder.

    Args:
        url: ``sqlite:///path.db``, ``sqlite:////abs/path.db`` or a file path;
            ``$INTERVIEW_ANALYZER_DB`` or ``data/interviews.db`` when ``None``.
        data_dir: where recordings are kept; ``<database folder>/recordings`` by default.
        busy_timeout_ms: how long a write waits for another writer.
        schema_version: migrate up to this version only (tests of migrations);
            the latest by default.

    Raises:
        StoreError: the URL is not SQLite, the file is not an interview database,
            or it was written by a newer version of the analyzer.
    """

    def __init__(
        self,
        url: str | os.PathLike[str] | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        schema_version: int = SCHEMA_VERSION,
    ):
        self.path = resolve_db_path(url)
        self.url = f"sqlite:///{self.path}"
        self.busy_timeout_ms = int(busy_timeout_ms)
        base = Path(data_dir) if data_dir is not None else self.path.parent
        self.recordings_dir = base / "recordings"
        self.uploads_dir = base / "uploads"
        self.data_dir = base
        if self.path.is_dir():
            raise StoreError("is a folder; give the path of a database file", self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder ({exc.strerror})", self.path.parent) from None
        self._migrate(schema_version)
        # An idle connection that is never queried: while one connection stays open,
        # closing the per-operation connections does not checkpoint and delete the WAL
        # each time (which made every write about ten times slower). It holds no
        # transaction, so it blocks neither writers nor checkpoints.
        self._keeper: sqlite3.Connection | None = sqlite3.connect(self.path, check_same_thread=False)

    def close(self) -> None:
        """Release the idle connection; the last close checkpoints the WAL into the database."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- connections and transactions --

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database ({exc})", self.path) from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")  # erased interviews do not linger in free pages
            conn.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL mode, much faster
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"not a usable SQLite database ({exc})", self.path) from None
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")  # one consistent snapshot for the whole read
            yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"reading failed ({exc})", self.path) from None
        finally:
            conn.close()  # ends the read transaction

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A short ``BEGIN IMMEDIATE`` transaction: committed whole or rolled back whole.

        IMMEDIATE takes the write lock at the start, so the busy timeout applies; a
        deferred transaction that upgrades to a write later fails at once when another
        writer holds the lock (https://www.sqlite.org/lang_transaction.html).
        """
        conn = self._connect()
        try:
            for attempt in range(WRITE_RETRIES + 1):
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise StoreError(f"cannot write ({exc})", self.path) from None
                    if attempt == WRITE_RETRIES:
                        raise StoreError(
                            "the database stayed busy (another program is writing to it); try again", self.path
                        ) from None
                    time.sleep(0.05 * 2**attempt)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"writing failed, nothing was changed ({exc})", self.path) from None
                raise
        finally:
            conn.close()

    def _migrate(self, target: int) -> None:
        if not 0 <= target <= SCHEMA_VERSION:
            raise ValueError(f"schema_version must be 0..{SCHEMA_VERSION}, not {target}")
        conn = self._connect()
        try:
            self._read_version(conn, create=False)  # refuse a foreign file before changing anything
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                logger.warning("database %s is in %s journal mode, not WAL", self.path, mode)
            while True:
                with _immediate(conn):
                    version = self._read_version(conn)
                    if version > SCHEMA_VERSION:
                        raise StoreError(
                            f"the database has schema version {version}, newer than this analyzer "
                            f"knows ({SCHEMA_VERSION}); upgrade interview-analyzer",
                            self.path,
                        )
                    if version >= target:
                        return
                    MIGRATIONS[version](conn)
                    conn.execute("DELETE FROM schema_version")
                    conn.execute("INSERT INTO schema_version (version, migrated) VALUES (?, ?)", (version + 1, _now_iso()))
                    logger.info("database %s migrated to schema version %d", self.path, version + 1)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"not a usable SQLite database ({exc})", self.path) from None
        finally:
            conn.close()

    def _read_version(self, conn: sqlite3.Connection, *, create: bool = True) -> int:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StoreError(
                    "this SQLite file holds other tables and no schema_version; it is not an "
                    "interview-analyzer database, and it is left untouched",
                    self.path,
                )
            if create:
                conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, migrated TEXT NOT NULL)")
            return 0
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def schema_version(self) -> int:
        """The schema version of the database file."""
        with self._read() as conn:
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)

    # -- recordings --

    def _keep_recording(self, source: Path, suffix: str, *, move: bool) -> tuple[str, str]:
        """Copy (or move) a recording into the data folder under a generated name.

        Returns:
            The path relative to the data folder and the file's SHA-256.
        """
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}{suffix}"
        target = self.recordings_dir / name
        tmp = target.with_name(name + ".part")
        try:
            if move:
                shutil.move(str(source), tmp)
            else:
                shutil.copyfile(source, tmp)
            digest = _sha256_file(tmp)
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot keep the recording ({exc.strerror or exc})", self.recordings_dir) from None
        return str(Path("recordings") / name), digest

    def recording_file(self, interview: Interview) -> Path | None:
        """The stored recording of an interview, or ``None`` (transcript uploads, erased files)."""
        if not interview.recording_path:
            return None
        path = self.data_dir / interview.recording_path
        return path if path.is_file() else None

    def find_recording(self, sha256: str) -> list[int]:
        """Ids of interviews whose recording has this SHA-256 (to warn about a second upload)."""
        with self._read() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM interviews WHERE recording_sha256 = ? ORDER BY id", (sha256,))]

    # -- interviews --

    def create_interview(
        self,
        *,
        source_kind: str,
        source_name: str = "",
        candidate: str = "",
        role: str = "",
        interview_date: str | None = None,
        language: str | None = None,
        interviewer: str | None = None,
        recording: str | os.PathLike[str] | None = None,
        move_recording: bool = False,
        duration_s: float | None = None,
        transcript: Transcript | None = None,
        enqueue: str | None = "process",
        options: dict[str, Any] | None = None,
        max_attempts: int = 3,
    ) -> int:
        """Store a new interview (and its transcript, recording and first job) in one transaction.

        Args:
            source_kind: ``transcript`` or ``recording``.
            source_name: the uploaded file's name, kept only to show.
            recording: a recording file to keep in the data folder under a generated name.
            move_recording: move the file instead of copying it (an app-owned spool file).
            transcript: the transcript, for transcript uploads.
            enqueue: the kind of job to queue (``process``), or ``None``.
            options: job options (e.g. transcription language).

        Returns:
            The new interview id.

        Raises:
            StoreError: the write failed; nothing was stored and a kept file was removed.
        """
        if source_kind not in SOURCE_KINDS:
            raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, not {source_kind!r}")
        if enqueue is not None and enqueue not in JOB_KINDS:
            raise ValueError(f"enqueue must be one of {JOB_KINDS} or None, not {enqueue!r}")
        rel = digest = None
        if recording is not None:
            rel, digest = self._keep_recording(Path(recording), safe_suffix(recording), move=move_recording)
        try:
            now = _now_iso()
            with self._write() as conn:
                iid = conn.execute(
                    "INSERT INTO interviews (candidate, role, interview_date, language, status, source_kind, "
                    "source_name, recording_sha256, recording_path, duration_s, interviewer, created, updated) "
                    "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (candidate.strip(), role.strip(), interview_date, language, source_kind, source_name, digest, rel,
                     duration_s, interviewer, now, now),
                ).lastrowid
                if transcript is not None:
                    _insert_transcript(conn, iid, transcript, now)
                if enqueue is not None:
                    _insert_job(conn, iid, enqueue, options or {}, max_attempts, now)
        except BaseException:
            if rel is not None:
                (self.data_dir / rel).unlink(missing_ok=True)
            raise
        return int(iid)

    def save_analysis(
        self,
        source_path: str | os.PathLike[str] | None,
        transcript: Transcript,
        report: Report,
        *,
        candidate: str = "",
        role: str = "",
        interview_date: str | None = None,
    ) -> int:
        """Store a finished analysis (the CLI's ``analyze --db``): interview, transcript and report at once.

        A recording given as ``source_path`` is copied into the data folder; a
        transcript file is not kept (its content is the stored transcript).

        Args:
            source_path: the analysed file.
            transcript: its transcript.
            report: its report.

        Returns:
            The new interview id.
        """
        from .transcripts import TRANSCRIPT_EXTENSIONS

        source = Path(source_path) if source_path is not None else None
        is_recording = source is not None and source.suffix.lower() not in TRANSCRIPT_EXTENSIONS and source.is_file()
        rel = digest = None
        if is_recording:
            rel, digest = self._keep_recording(source, safe_suffix(source), move=False)
        try:
            now = _now_iso()
            with self._write() as conn:
                iid = conn.execute(
                    "INSERT INTO interviews (candidate, role, interview_date, language, status, source_kind, "
                    "source_name, recording_sha256, recording_path, duration_s, interviewer, created, updated) "
                    "VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (candidate or _person(report.speakers.get("candidate")), role, interview_date, report.language,
                     "recording" if is_recording else "transcript", source.name if source else "", digest, rel,
                     transcript.duration_s, None, now, now),
                ).lastrowid
                tid = _insert_transcript(conn, iid, transcript, now)
                _insert_report(conn, iid, tid, report, now)
        except BaseException:
            if rel is not None:
                (self.data_dir / rel).unlink(missing_ok=True)
            raise
        return int(iid)

    def get_interview(self, interview_id: int) -> Interview:
        """One interview with its latest job.

        Raises:
            StoreError: there is no such interview.
        """
        with self._read() as conn:
            row = conn.execute("SELECT * FROM interviews WHERE id = ?", (int(interview_id),)).fetchone()
            if row is None:
                raise StoreError(f"no interview {interview_id} in this database", self.path)
            job = conn.execute("SELECT * FROM jobs WHERE interview_id = ? ORDER BY id DESC LIMIT 1", (row["id"],)).fetchone()
            return _interview(row, _job(job) if job else None)

    def list_interviews(self) -> list[Interview]:
        """All interviews, newest first, each with its latest job."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM interviews ORDER BY id DESC").fetchall()
            jobs = {
                r["interview_id"]: _job(r)
                for r in conn.execute(
                    "SELECT * FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs GROUP BY interview_id)"
                )
            }
        return [_interview(r, jobs.get(r["id"])) for r in rows]

    def update_interview(self, interview_id: int, **fields: Any) -> Interview:
        """Change what a reviewer may correct: candidate, role, interview_date, language, interviewer.

        Raises:
            StoreError: there is no such interview.
            ValueError: a field that may not be changed.
        """
        allowed = {"candidate", "role", "interview_date", "language", "interviewer"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update {', '.join(sorted(bad))}; allowed: {', '.join(sorted(allowed))}")
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            with self._write() as conn:
                cur = conn.execute(f"UPDATE interviews SET {sets}, updated = ? WHERE id = ?",
                                   (*fields.values(), _now_iso(), int(interview_id)))
                if cur.rowcount == 0:
                    raise StoreError(f"no interview {interview_id} in this database", self.path)
        return self.get_interview(interview_id)

    def delete_interview(self, interview_id: int) -> None:
        """Erase an interview: its rows, its decisions, its jobs and its recording file.

        Deleted rows are zeroed (``secure_delete``) and the WAL is checkpointed and
        truncated, so the candidate's words do not linger in the database files.

        Raises:
            StoreError: there is no such interview, or the recording could not be removed.
        """
        with self._write() as conn:
            row = conn.execute("SELECT recording_path FROM interviews WHERE id = ?", (int(interview_id),)).fetchone()
            if row is None:
                raise StoreError(f"no interview {interview_id} in this database", self.path)
            conn.execute("DELETE FROM interviews WHERE id = ?", (int(interview_id),))  # cascades
        if row["recording_path"]:
            path = self.data_dir / row["recording_path"]
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"the interview's rows were erased but its recording was not ({exc.strerror})", path) from None
        self.checkpoint()

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it.

        Returns:
            ``True`` when the WAL was emptied; ``False`` when readers kept it busy.
        """
        conn = self._connect()
        try:
            for attempt in range(20):
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return True
                time.sleep(0.05)
            logger.warning("WAL checkpoint of %s stayed busy; erased pages leave the WAL at the next checkpoint", self.path)
            return False
        finally:
            conn.close()

    # -- transcripts and reports --

    def save_transcript(self, interview_id: int, transcript: Transcript, *, job: tuple[int, str] | None = None) -> int:
        """Store a transcript of an interview (after transcription).

        Args:
            job: ``(job id, worker token)``: write only while this worker still holds the job.

        Raises:
            JobLost: the job was re-queued or failed meanwhile; nothing was written.
        """
        with self._write() as conn:
            if job is not None:
                _check_job(conn, *job)
            return _insert_transcript(conn, int(interview_id), transcript, _now_iso())

    def latest_transcript(self, interview_id: int) -> Transcript | None:
        """The newest stored transcript of an interview, or ``None``."""
        with self._read() as conn:
            row = conn.execute("SELECT transcript_json FROM transcripts WHERE interview_id = ? ORDER BY id DESC LIMIT 1",
                               (int(interview_id),)).fetchone()
        return transcript_from_dict(json.loads(row[0])) if row else None

    def save_report(self, interview_id: int, report: Report, *, job: tuple[int, str] | None = None) -> int:
        """Store a new report of an interview and mark the interview done.

        Decisions on the previous report carry over to flags of the new report with the
        same identity (entry, signal, rule, characters); added signals carry over when
        the same words are at the same place of the answer.

        Args:
            job: ``(job id, worker token)``: the job that produced the report; it is
                marked done in the same transaction.

        Returns:
            The report id.

        Raises:
            JobLost: the job was taken from this worker; nothing was written.
        """
        iid = int(interview_id)
        now = _now_iso()
        with self._write() as conn:
            if job is not None:
                _check_job(conn, *job)
            tid_row = conn.execute("SELECT MAX(id) FROM transcripts WHERE interview_id = ?", (iid,)).fetchone()
            previous = conn.execute("SELECT MAX(id) FROM reports WHERE interview_id = ?", (iid,)).fetchone()[0]
            rid = _insert_report(conn, iid, tid_row[0], report, now)
            if previous is not None:
                _carry_decisions(conn, iid, previous, rid, report)
            conn.execute(
                "UPDATE interviews SET status = 'done', error = NULL, language = ?, updated = ?, "
                "candidate = CASE WHEN candidate = '' THEN ? ELSE candidate END WHERE id = ?",
                (report.language, now, _person(report.speakers.get("candidate")), iid),
            )
            if job is not None:
                conn.execute("UPDATE jobs SET status = 'done', progress = 1, stage = 'done', finished = ?, error = NULL "
                             "WHERE id = ?", (now, job[0]))
        return int(rid)

    def latest_report(self, interview_id: int) -> StoredReport | None:
        """The newest report of an interview, or ``None``."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM reports WHERE interview_id = ? ORDER BY id DESC LIMIT 1",
                               (int(interview_id),)).fetchone()
        return _stored_report(row) if row else None

    def previous_report(self, interview_id: int) -> StoredReport | None:
        """The report before the newest one (what a re-run replaced), or ``None``."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM reports WHERE interview_id = ? ORDER BY id DESC LIMIT 1 OFFSET 1",
                               (int(interview_id),)).fetchone()
        return _stored_report(row) if row else None

    def open_interview(self, interview_id: int, *, reviewer: str | None = None) -> InterviewView:
        """Everything the review page needs, read in one snapshot.

        ``decisions`` holds ``reviewer``'s verdicts (the latest of anyone's per
        flag when ``reviewer`` is None).

        Raises:
            StoreError: there is no such interview.
        """
        iid = int(interview_id)
        with self._read() as conn:
            row = conn.execute("SELECT * FROM interviews WHERE id = ?", (iid,)).fetchone()
            if row is None:
                raise StoreError(f"no interview {interview_id} in this database", self.path)
            job = conn.execute("SELECT * FROM jobs WHERE interview_id = ? ORDER BY id DESC LIMIT 1", (iid,)).fetchone()
            trow = conn.execute("SELECT transcript_json FROM transcripts WHERE interview_id = ? ORDER BY id DESC LIMIT 1",
                                (iid,)).fetchone()
            rrow = conn.execute("SELECT * FROM reports WHERE interview_id = ? ORDER BY id DESC LIMIT 1", (iid,)).fetchone()
            drows = (conn.execute("SELECT * FROM decisions WHERE report_id = ?", (rrow["id"],)).fetchall()
                     if rrow else [])
        decisions = sorted((_decision(r) for r in drows), key=lambda d: (d.decided_at, d.id))
        if reviewer is not None:
            decisions = [d for d in decisions if d.reviewer == reviewer]
        return InterviewView(
            interview=_interview(row, _job(job) if job else None),
            transcript=transcript_from_dict(json.loads(trow[0])) if trow else None,
            report=_stored_report(rrow) if rrow else None,
            decisions={d.flag: d for d in decisions},
        )

    # -- decisions --

    def set_decision(
        self,
        report_id: int,
        flag: Flag | tuple[int, str, str, int, int],
        decision: str | None,
        *,
        note: str | None = None,
        reviewer: str = "",
        text: str = "",
    ) -> Decision:
        """Record (or change) a reviewer's verdict on one flag of a report.

        Args:
            report_id: the report the flag belongs to.
            flag: ``Flag(entry, signal, rule_id, start_char, end_char)``.
            decision: ``confirm``, ``reject``, ``added`` or ``None`` (keep only a note).
            note: a note; ``None`` keeps the stored one.
            reviewer: who decided.
            text: the flagged words (kept so a decision can be read without the report).

        Returns:
            The stored decision.

        Raises:
            StoreError: no such report.
            ValueError: an unknown decision.
        """
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)} or None, not {decision!r}")
        flag = Flag(*flag)
        with self._write() as conn:
            rep = conn.execute("SELECT interview_id FROM reports WHERE id = ?", (int(report_id),)).fetchone()
            if rep is None:
                raise StoreError(f"no report {report_id} in this database", self.path)
            conn.execute(
                "INSERT INTO decisions (interview_id, report_id, entry, signal, rule_id, start_char, end_char, text, "
                "decision, note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (report_id, entry, signal, rule_id, start_char, end_char, reviewer) DO UPDATE SET "
                "decision = excluded.decision, note = COALESCE(?, decisions.note), "
                "decided_at = excluded.decided_at, text = CASE WHEN excluded.text = '' THEN decisions.text ELSE excluded.text END",
                (rep[0], int(report_id), *flag, text, decision, note or "", reviewer, _now_iso(), note),
            )
            row = conn.execute(
                "SELECT * FROM decisions WHERE report_id = ? AND entry = ? AND signal = ? AND rule_id = ? "
                "AND start_char = ? AND end_char = ? AND reviewer = ?", (int(report_id), *flag, reviewer)).fetchone()
        return _decision(row)

    def set_note(self, report_id: int, flag: Flag | tuple[int, str, str, int, int], note: str, *,
                 reviewer: str = "", text: str = "") -> Decision:
        """Keep a note on a flag without changing its verdict."""
        flag = Flag(*flag)
        current = self.decision(report_id, flag, reviewer=reviewer or None)
        return self.set_decision(report_id, flag, current.decision if current else None, note=note,
                                 reviewer=reviewer or (current.reviewer if current else ""), text=text)

    def add_signal(self, report_id: int, entry: int, signal: str, start_char: int, end_char: int, text: str, *,
                   note: str = "", reviewer: str = "") -> Decision:
        """Record a signal the analysis missed, on a passage of the answer of question entry ``entry``."""
        if end_char <= start_char:
            raise ValueError("the passage is empty (end_char must be after start_char)")
        return self.set_decision(report_id, Flag(entry, signal, ADDED_RULE_ID, start_char, end_char), "added",
                                 note=note, reviewer=reviewer, text=text)

    def clear_decision(self, report_id: int, flag: Flag | tuple[int, str, str, int, int], *,
                       reviewer: str | None = None) -> None:
        """Forget a reviewer's verdict and note (every reviewer's when ``reviewer`` is None)."""
        sql = ("DELETE FROM decisions WHERE report_id = ? AND entry = ? AND signal = ? AND rule_id = ? "
               "AND start_char = ? AND end_char = ?")
        args: list[Any] = [int(report_id), *Flag(*flag)]
        if reviewer is not None:
            sql += " AND reviewer = ?"
            args.append(reviewer)
        with self._write() as conn:
            conn.execute(sql, args)

    def decision(self, report_id: int, flag: Flag | tuple[int, str, str, int, int], *,
                 reviewer: str | None = None) -> Decision | None:
        """A reviewer's decision on one flag (the latest of anyone's when ``reviewer`` is None), or ``None``."""
        sql = ("SELECT * FROM decisions WHERE report_id = ? AND entry = ? AND signal = ? AND rule_id = ? "
               "AND start_char = ? AND end_char = ?")
        args: list[Any] = [int(report_id), *Flag(*flag)]
        if reviewer is not None:
            sql += " AND reviewer = ?"
            args.append(reviewer)
        with self._read() as conn:
            row = conn.execute(sql + " ORDER BY decided_at DESC, id DESC LIMIT 1", args).fetchone()
        return _decision(row) if row else None

    def decisions(self, *, interview_id: int | None = None, report_id: int | None = None) -> list[Decision]:
        """Stored decisions, optionally of one interview or one report, oldest first."""
        where, args = [], []
        if interview_id is not None:
            where.append("interview_id = ?")
            args.append(int(interview_id))
        if report_id is not None:
            where.append("report_id = ?")
            args.append(int(report_id))
        sql = "SELECT * FROM decisions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self._read() as conn:
            return [_decision(r) for r in conn.execute(sql, args)]

    def decisions_frame(self, *, interview_id: int | None = None, reviewed_only: bool = True,
                        all_reports: bool = False) -> pd.DataFrame:
        """Flags with their score and the reviewer's verdict: the calibration table.

        One row per reviewer's verdict on a flag of the latest report of each
        interview (of every report with ``all_reports``), one per unjudged flag,
        and one per signal a reviewer added. A flag judged by two reviewers has
        two rows: that is what agreement between reviewers is measured on. Only flags that
        passed their threshold reach a report, so this table can show that a
        threshold should rise, not that it should fall.

        Columns:
            interview (int): interview id; report_id (int);
            language (``ru``/``en``), rubric_id, rubric_version, thresholds_version (str):
                how the report was made;
            entry (int): index of the question entry; question_kind
                (``bank``/``followup``/``offscript``); competency, question_id (str or None);
            signal (str); rule_id (str; ``reviewer.added.v1`` for added signals);
            start_char, end_char (int): the span in the entry's answer text;
            text (str): the flagged words;
            score (float; NaN for added signals: the analyzer never offered them);
            value: the signal's count or polarity (persistence, followup_attitude), else None;
            low_confidence (bool); start_s, end_s (float or None): time in the recording;
            decision (``confirm``/``reject``/``added``, None when not reviewed);
            verdict (1 for confirm and added, 0 for reject, None when not reviewed);
            note, reviewer (str); decided_at (ISO time or None).

        Args:
            interview_id: only this interview.
            reviewed_only: leave out flags nobody has judged yet.
            all_reports: include flags of superseded reports too.

        Returns:
            A pandas DataFrame with exactly these columns (empty when there is nothing).
        """
        import pandas as pd

        where = "WHERE interview_id = ?" if interview_id is not None else ""
        args: list[Any] = [int(interview_id)] if interview_id is not None else []
        latest = "" if all_reports else (
            (" AND " if where else "WHERE ") + "id IN (SELECT MAX(id) FROM reports GROUP BY interview_id)"
        )
        with self._read() as conn:
            reports = conn.execute(f"SELECT * FROM reports {where}{latest} ORDER BY id", args).fetchall()
            ids = [r["id"] for r in reports]
            drows = conn.execute(
                f"SELECT * FROM decisions WHERE report_id IN ({','.join('?' * len(ids))}) ORDER BY id", ids
            ).fetchall() if ids else []
        by_report: dict[int, dict[Flag, list[Decision]]] = {}
        for d in map(_decision, drows):
            by_report.setdefault(d.report_id, {}).setdefault(d.flag, []).append(d)
        rows: list[dict[str, Any]] = []
        for rrow in reports:
            data = json.loads(rrow["report_json"])
            decided = dict(by_report.get(rrow["id"], {}))
            base = {"interview": rrow["interview_id"], "report_id": rrow["id"], "language": data.get("language"),
                    "rubric_id": rrow["rubric_id"], "rubric_version": rrow["rubric_version"],
                    "thresholds_version": rrow["thresholds_version"]}
            entries = {q["index"]: q for q in data.get("questions", [])}
            for q in data.get("questions", []):
                for s in q.get("signals", []):
                    flag = Flag(q["index"], s["signal"], s["rule_id"], s["start_char"], s["end_char"])
                    for d in decided.pop(flag, None) or [None]:  # one row per reviewer's verdict
                        rows.append(_frame_row(base, q, flag, s["text"], s["score"], s.get("value"),
                                               s.get("low_confidence", False), s.get("start"), s.get("end"), d))
            for flag, ds in decided.items():  # added by a reviewer
                for d in ds:
                    rows.append(_frame_row(base, entries.get(flag.entry, {}), flag, d.text, float("nan"), None, False,
                                           None, None, d))
        if reviewed_only:
            rows = [r for r in rows if r["decision"] is not None]
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))

    # -- jobs --

    def enqueue_job(self, interview_id: int, kind: str = "analyze", options: dict[str, Any] | None = None,
                    *, max_attempts: int = 3) -> int:
        """Queue work on an interview; the interview shows as queued.

        Raises:
            StoreError: no such interview, or it already has a queued or running job.
        """
        if kind not in JOB_KINDS:
            raise ValueError(f"kind must be one of {JOB_KINDS}, not {kind!r}")
        now = _now_iso()
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM interviews WHERE id = ?", (int(interview_id),)).fetchone() is None:
                raise StoreError(f"no interview {interview_id} in this database", self.path)
            busy = conn.execute("SELECT id FROM jobs WHERE interview_id = ? AND status IN ('queued', 'running')",
                                (int(interview_id),)).fetchone()
            if busy is not None:
                raise StoreError(f"interview {interview_id} is already being processed (job {busy[0]})")
            jid = _insert_job(conn, int(interview_id), kind, options or {}, max_attempts, now)
            conn.execute("UPDATE interviews SET status = 'queued', error = NULL, updated = ? WHERE id = ?",
                         (now, int(interview_id)))
        return jid

    def claim_job(self, worker: str) -> Job | None:
        """Take the oldest queued job for ``worker`` (a token unique to this run), or ``None``."""
        now = time.time()
        with self._write() as conn:
            row = conn.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = ?, heartbeat = ?, "
                         "started = ?, error = NULL WHERE id = ?", (worker, now, _now_iso(), row[0]))
            job = _job(conn.execute("SELECT * FROM jobs WHERE id = ?", (row[0],)).fetchone())
        return job

    def update_job(self, job_id: int, worker: str, *, progress: float | None = None, stage: str | None = None) -> None:
        """Write progress and a heartbeat for a running job; the stage also becomes the interview's status.

        Raises:
            JobLost: the job is no longer held by this worker.
        """
        with self._write() as conn:
            _check_job(conn, job_id, worker)
            conn.execute("UPDATE jobs SET heartbeat = ?, progress = COALESCE(?, progress), stage = COALESCE(?, stage) "
                         "WHERE id = ?", (time.time(), progress, stage, int(job_id)))
            if stage in ("transcribing", "analysing"):
                conn.execute("UPDATE interviews SET status = ?, updated = ? WHERE id = "
                             "(SELECT interview_id FROM jobs WHERE id = ?)", (stage, _now_iso(), int(job_id)))

    def fail_job(self, job_id: int, worker: str | None, error: str) -> None:
        """Mark a job and its interview failed with a one-line reason (a no-op if the job was taken away)."""
        now = _now_iso()
        with self._write() as conn:
            cur = conn.execute("UPDATE jobs SET status = 'failed', error = ?, finished = ? WHERE id = ? AND status = 'running' "
                               "AND (? IS NULL OR worker = ?)", (error, now, int(job_id), worker, worker))
            if cur.rowcount:
                conn.execute("UPDATE interviews SET status = 'failed', error = ?, updated = ? WHERE id = "
                             "(SELECT interview_id FROM jobs WHERE id = ?)", (error, now, int(job_id)))

    def recover_stale_jobs(self, stale_after_s: float, *, now: float | None = None) -> list[Job]:
        """Re-queue running jobs whose worker stopped sending heartbeats; fail those out of attempts.

        A job is stale when its heartbeat is older than ``stale_after_s`` (its
        worker was killed, or the machine slept). It goes back to the queue until it
        has been tried ``max_attempts`` times; then it fails with a message and
        waits for a person to press Retry. Nothing is left ``running`` forever.

        Returns:
            The recovered jobs as they are now.
        """
        cutoff = (time.time() if now is None else now) - stale_after_s
        with self._write() as conn:
            stale = conn.execute("SELECT id, attempts, max_attempts FROM jobs WHERE status = 'running' "
                                 "AND (heartbeat IS NULL OR heartbeat < ?)", (cutoff,)).fetchall()
            stamp = _now_iso()
            for row in stale:
                if row["attempts"] < row["max_attempts"]:
                    conn.execute("UPDATE jobs SET status = 'queued', worker = NULL, stage = 'requeued' WHERE id = ?",
                                 (row["id"],))
                    conn.execute("UPDATE interviews SET status = 'queued', updated = ? WHERE id = "
                                 "(SELECT interview_id FROM jobs WHERE id = ?)", (stamp, row["id"]))
                else:
                    error = (f"processing stopped {row['attempts']} times without finishing (the worker was "
                             "stopped or crashed); press Retry to try again")
                    conn.execute("UPDATE jobs SET status = 'failed', worker = NULL, error = ?, finished = ? WHERE id = ?",
                                 (error, stamp, row["id"]))
                    conn.execute("UPDATE interviews SET status = 'failed', error = ?, updated = ? WHERE id = "
                                 "(SELECT interview_id FROM jobs WHERE id = ?)", (error, stamp, row["id"]))
            ids = [r["id"] for r in stale]
            jobs = [_job(r) for r in conn.execute(
                f"SELECT * FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)] if ids else []
        for job in jobs:
            logger.warning("job %d of interview %d had no heartbeat for %.0f s: %s", job.id, job.interview_id,
                           stale_after_s, "re-queued" if job.status == "queued" else "failed")
        return jobs

    def retry_job(self, job_id: int) -> Job:
        """Queue a failed job again with fresh attempts (the Retry button).

        Raises:
            StoreError: no such job, or it is not failed.
        """
        with self._write() as conn:
            cur = conn.execute("UPDATE jobs SET status = 'queued', attempts = 0, error = NULL, progress = 0, stage = '', "
                               "worker = NULL, finished = NULL WHERE id = ? AND status = 'failed'", (int(job_id),))
            if cur.rowcount == 0:
                raise StoreError(f"job {job_id} does not exist or has not failed")
            conn.execute("UPDATE interviews SET status = 'queued', error = NULL, updated = ? WHERE id = "
                         "(SELECT interview_id FROM jobs WHERE id = ?)", (_now_iso(), int(job_id)))
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> Job:
        """One job.

        Raises:
            StoreError: no such job.
        """
        with self._read() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        if row is None:
            raise StoreError(f"no job {job_id} in this database", self.path)
        return _job(row)

    def jobs(self, *, status: str | None = None) -> list[Job]:
        """All jobs (or those with one status), oldest first."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM jobs" + (" WHERE status = ?" if status else "") + " ORDER BY id",
                                (status,) if status else ()).fetchall()
        return [_job(r) for r in rows]


# --- row helpers ------------------------------------------------------------------------------

#: Columns of :meth:`Store.decisions_frame`, in order.
FRAME_COLUMNS = (
    "interview", "report_id", "language", "rubric_id", "rubric_version", "thresholds_version", "entry",
    "question_kind", "competency", "question_id", "signal", "rule_id", "start_char", "end_char", "text", "score",
    "value", "low_confidence", "start_s", "end_s", "decision", "verdict", "note", "reviewer", "decided_at",
)


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _frame_row(base: dict[str, Any], q: dict[str, Any], flag: Flag, text: str, score: float, value: Any,
               low: bool, start: float | None, end: float | None, d: Decision | None) -> dict[str, Any]:
    decision = d.decision if d else None
    return {
        **base, "entry": flag.entry, "question_kind": q.get("kind"), "competency": q.get("competency"),
        "question_id": q.get("question_id"), "signal": flag.signal, "rule_id": flag.rule_id,
        "start_char": flag.start_char, "end_char": flag.end_char, "text": text, "score": score, "value": value,
        "low_confidence": bool(low), "start_s": start, "end_s": end, "decision": decision,
        "verdict": None if decision is None else int(decision != "reject"),
        "note": d.note if d else "", "reviewer": d.reviewer if d else "", "decided_at": d.decided_at if d else None,
    }


def _insert_transcript(conn: sqlite3.Connection, iid: int, transcript: Transcript, now: str) -> int:
    words = sum(len(t.text.split()) for t in transcript.turns)
    return int(conn.execute(
        "INSERT INTO transcripts (interview_id, transcript_json, words, created) VALUES (?, ?, ?, ?)",
        (iid, json.dumps(transcript.to_dict(), ensure_ascii=False), words, now),
    ).lastrowid)


def _insert_report(conn: sqlite3.Connection, iid: int, tid: int | None, report: Report, now: str) -> int:
    p = report.provenance
    return int(conn.execute(
        "INSERT INTO reports (interview_id, transcript_id, report_json, rubric_id, rubric_version, thresholds_version, "
        "analyzer_version, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (iid, tid, json.dumps(report.to_dict(), ensure_ascii=False), _str(p.get("rubric_id")),
         _str(p.get("rubric_version")), _str(p.get("thresholds_version")), _str(p.get("analyzer_version")), now),
    ).lastrowid)


def _insert_job(conn: sqlite3.Connection, iid: int, kind: str, options: dict[str, Any], max_attempts: int, now: str) -> int:
    return int(conn.execute(
        "INSERT INTO jobs (interview_id, kind, options_json, max_attempts, created) VALUES (?, ?, ?, ?, ?)",
        (iid, kind, json.dumps(options, ensure_ascii=False), int(max_attempts), now),
    ).lastrowid)


def _check_job(conn: sqlite3.Connection, job_id: int, worker: str) -> None:
    row = conn.execute("SELECT status, worker FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
    if row is None or row["status"] != "running" or row["worker"] != worker:
        raise JobLost(f"job {job_id} is no longer held by this worker")


def _carry_decisions(conn: sqlite3.Connection, iid: int, old_rid: int, new_rid: int, report: Report) -> None:
    flags = {Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char) for q in report.questions for s in q.signals}
    answers = {q.index: q.answer for q in report.questions}
    for d in map(_decision, conn.execute("SELECT * FROM decisions WHERE report_id = ?", (old_rid,))):
        if d.rule_id == ADDED_RULE_ID:
            keep = answers.get(d.entry, "")[d.start_char:d.end_char] == d.text
        else:
            keep = d.flag in flags
        if keep:
            conn.execute(
                "INSERT INTO decisions (interview_id, report_id, entry, signal, rule_id, start_char, end_char, text, "
                "decision, note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (iid, new_rid, *d.flag, d.text, d.decision, d.note, d.reviewer, d.decided_at),
            )


def _person(label: str | None) -> str:
    """A speaker label as a name to show, or ``""`` for anonymous labels (``SPEAKER_01``, ``Candidate``)."""
    label = (label or "").strip()
    if re.fullmatch(r"(?i)(speaker[ _]?\d+|candidate|кандидат|interviewee|respondent)", label):
        return ""
    return label


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], interview_id=row["interview_id"], kind=row["kind"], status=row["status"],
        progress=float(row["progress"]), stage=row["stage"], error=row["error"],
        options=json.loads(row["options_json"] or "{}"), attempts=row["attempts"], max_attempts=row["max_attempts"],
        worker=row["worker"], heartbeat=row["heartbeat"], created=row["created"], started=row["started"],
        finished=row["finished"],
    )


def _interview(row: sqlite3.Row, job: Job | None) -> Interview:
    return Interview(
        id=row["id"], candidate=row["candidate"], role=row["role"], interview_date=row["interview_date"],
        language=row["language"], status=row["status"], error=row["error"], source_kind=row["source_kind"],
        source_name=row["source_name"], recording_sha256=row["recording_sha256"], recording_path=row["recording_path"],
        duration_s=row["duration_s"], interviewer=row["interviewer"], created=row["created"], updated=row["updated"],
        job=job,
    )


def _decision(row: sqlite3.Row) -> Decision:
    return Decision(
        id=row["id"], interview_id=row["interview_id"], report_id=row["report_id"], entry=row["entry"],
        signal=row["signal"], rule_id=row["rule_id"], start_char=row["start_char"], end_char=row["end_char"],
        text=row["text"], decision=row["decision"], note=row["note"], reviewer=row["reviewer"],
        decided_at=row["decided_at"],
    )


def _stored_report(row: sqlite3.Row) -> StoredReport:
    return StoredReport(
        id=row["id"], interview_id=row["interview_id"], report=report_from_dict(json.loads(row["report_json"])),
        rubric_id=row["rubric_id"], rubric_version=row["rubric_version"], thresholds_version=row["thresholds_version"],
        created=row["created"],
    )


def report_from_dict(data: dict[str, Any]) -> Report:
    """Rebuild a :class:`Report` from ``Report.to_dict()`` (the JSON report).

    Raises:
        StoreError: the data is not a JSON report.
    """
    try:
        questions = tuple(
            QuestionEntry(**{**q, "signals": tuple(Signal(**s) for s in q.get("signals", ()))})
            for q in data["questions"]
        )
        tuple_fields = ("asked", "skipped", "signals_present", "signals_absent", "evidence")
        competencies = tuple(
            CompetencySummary(**{**c, **{k: tuple(c.get(k) or ()) for k in tuple_fields}})
            for c in data["competencies"]
        )
        return Report(
            language=data["language"], speakers=dict(data["speakers"]), provenance=dict(data.get("provenance") or {}),
            questions=questions, competencies=competencies, figures=dict(data.get("figures") or {}),
            source=data.get("source"),
        )
    except (KeyError, TypeError) as exc:
        raise StoreError(f"a stored report is not a valid JSON report ({exc})") from None


__all__ = [
    "ADDED_RULE_ID",
    "DB_ENV",
    "DEFAULT_DB",
    "Decision",
    "Flag",
    "Interview",
    "InterviewView",
    "Job",
    "JobLost",
    "SCHEMA_VERSION",
    "Store",
    "StoredReport",
    "default_db_url",
    "report_from_dict",
    "resolve_db_path",
    "safe_suffix",
]
