"""Load and validate the rubric: competencies, the question bank and signal settings.

The rubric is data (``analyzer/rubric/account_manager.yaml`` by default); this
module only reads and checks it. Errors name the file, the place in the document
(``competencies[3].questions[1].text`` and its line) and the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import RubricError

#: Signals every rubric must know; reports use these ids.
CORE_SIGNALS = ("example", "analogy", "stepwise", "ownership", "story", "metric")
GUIDE_SIGNALS = (
    "shared_credit",
    "deflection",
    "jargon",
    "cause_effect",
    "alternatives",
    "persistence",
    "followup_attitude",
    "self_reflection",
)
ALL_SIGNALS = CORE_SIGNALS + GUIDE_SIGNALS
#: Signals that only make sense on the question that asks for them (the pipeline reads
#: them only there, and the answer-level weights never use them as evidence).
QUESTION_SPECIFIC = ("persistence", "followup_attitude")
COMPETENCY_IDS = (
    "product_knowledge",
    "client_service",
    "sales",
    "business_basics",
    "multitasking",
    "communication",
    "empathy",
    "self_development",
    "explaining_simply",
    "problem_solving",
)
LANGUAGES = ("ru", "en")
DIRECTIONS = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class Question:
    """A question of the guide, or a follow-up probe of one (``parent`` set)."""

    id: str
    competency: str
    text: dict[str, str]  # language → the guide's wording
    variants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    listen_for: dict[str, str] = field(default_factory=dict)
    signals: tuple[str, ...] = ()
    parent: str | None = None

    def texts(self, language: str | None = None) -> list[str]:
        """The wording and the variants, in one language or all."""
        langs = [language] if language else list(self.text)
        out: list[str] = []
        for lang in langs:
            if lang in self.text:
                out.append(self.text[lang])
            out.extend(self.variants.get(lang, ()))
        return out


@dataclass(frozen=True)
class Competency:
    id: str
    name: dict[str, str]
    group: str
    description: dict[str, str]
    listen_for: tuple[dict[str, Any], ...]
    signals: dict[str, str]  # signal id → positive | negative | neutral
    questions: tuple[Question, ...]  # bank questions, then their follow-ups


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: dict[str, str]
    language: str
    signals: dict[str, dict[str, Any]]
    competencies: tuple[Competency, ...]
    source: str | None = None
    path: str | None = None
    sha256: str | None = None

    def competency(self, competency_id: str) -> Competency:
        for comp in self.competencies:
            if comp.id == competency_id:
                return comp
        raise KeyError(competency_id)

    @property
    def questions(self) -> list[Question]:
        return [q for comp in self.competencies for q in comp.questions]

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def name_of(self, competency_id: str, language: str = "en") -> str:
        names = self.competency(competency_id).name
        return names.get(language) or next(iter(names.values()))


class _Loader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping and sequence."""


class _LineDict(dict):
    line: int = 0


class _LineList(list):
    line: int = 0


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    value = _LineDict(loader.construct_mapping(node, deep=True))
    value.line = node.start_mark.line + 1
    return value


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    value = _LineList(loader.construct_sequence(node, deep=True))
    value.line = node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path, error: type[Exception] = RubricError) -> Any:
    """Parse a YAML file, keeping line numbers; any failure is a one-line error."""
    if not path.exists():
        raise error("no such file", path)
    if path.is_dir():
        raise error("is a folder, not a YAML file", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text (is it a binary file?)", path) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}invalid YAML ({problem})", path) from None


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, node: Any, reason: str) -> None:
        line = getattr(node, "line", None)
        at = f"{where} (line {line})" if line else where
        raise RubricError(f"{at}: {reason}", self.path)

    def mapping(self, where: str, node: Any, parent: Any = None) -> dict:
        if not isinstance(node, dict):
            self.fail(where, node if hasattr(node, "line") else parent, "must be a mapping")
        return node

    def require(self, where: str, node: dict, key: str) -> Any:
        if key not in node or node[key] in (None, "", [], {}):
            self.fail(where, node, f"missing required field '{key}'")
        return node[key]

    def text(self, where: str, node: Any, parent: Any) -> dict[str, str]:
        """A {ru: ..., en: ...} mapping with at least one language."""
        if isinstance(node, str):
            return {"ru": node}
        if not isinstance(node, dict) or not node:
            self.fail(where, parent, "must be a mapping of language to text, e.g. {ru: …, en: …}")
        out = {}
        for lang, value in node.items():
            if lang not in LANGUAGES:
                self.fail(f"{where}.{lang}", node, f"unknown language; expected {'/'.join(LANGUAGES)}")
            if not isinstance(value, str) or not value.strip():
                self.fail(f"{where}.{lang}", node, "must be non-empty text")
            out[lang] = value.strip()
        return out

    def variants(self, where: str, node: Any, parent: Any) -> dict[str, tuple[str, ...]]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.fail(where, parent, "must map a language to a list of phrasings")
        out = {}
        for lang, values in node.items():
            if lang not in LANGUAGES:
                self.fail(f"{where}.{lang}", node, f"unknown language; expected {'/'.join(LANGUAGES)}")
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                self.fail(f"{where}.{lang}", node, "must be a list of non-empty strings")
            out[lang] = tuple(v.strip() for v in values)
        return out

    def signal_list(self, where: str, node: Any, parent: Any, known: set[str]) -> tuple[str, ...]:
        if node is None:
            return ()
        if not isinstance(node, list):
            self.fail(where, parent, "must be a list of signal ids")
        for s in node:
            if s not in known:
                self.fail(where, node, f"unknown signal {s!r}; known: {', '.join(sorted(known))}")
        return tuple(node)


def parse_rubric(data: Any, path: Path) -> Rubric:
    """Validate parsed YAML and build the :class:`Rubric`."""
    c = _Checker(path)
    root = c.mapping("document", data)
    rubric_id = str(c.require("document", root, "id"))
    version = str(c.require("document", root, "version"))
    title = c.text("title", c.require("document", root, "title"), root)
    language = root.get("language", "ru")
    if language not in LANGUAGES:
        c.fail("language", root, f"expected one of {', '.join(LANGUAGES)}")

    signals_node = c.mapping("signals", c.require("document", root, "signals"), root)
    for sid in CORE_SIGNALS:
        if sid not in signals_node:
            c.fail("signals", signals_node, f"missing core signal '{sid}'")
    signals: dict[str, dict[str, Any]] = {}
    for sid, spec in signals_node.items():
        spec = c.mapping(f"signals.{sid}", spec, signals_node)
        signals[sid] = {
            "name": c.text(f"signals.{sid}.name", c.require(f"signals.{sid}", spec, "name"), spec),
            "description": c.text(f"signals.{sid}.description", spec.get("description") or {"en": sid}, spec),
        }
    known = set(signals)

    comps_node = c.require("document", root, "competencies")
    if not isinstance(comps_node, list):
        c.fail("competencies", root, "must be a list")
    competencies: list[Competency] = []
    seen_ids: set[str] = set()
    for ci, comp in enumerate(comps_node):
        where = f"competencies[{ci}]"
        comp = c.mapping(where, comp, comps_node)
        cid = str(c.require(where, comp, "id"))
        where = f"competencies[{ci}] ({cid})"
        if cid in seen_ids:
            c.fail(where, comp, f"duplicate competency id {cid!r}")
        seen_ids.add(cid)
        directions = comp.get("signals") or {}
        if not isinstance(directions, dict):
            c.fail(f"{where}.signals", comp, "must map signal id → positive/negative/neutral")
        for sid, direction in directions.items():
            if sid not in known:
                c.fail(f"{where}.signals", directions, f"unknown signal {sid!r}")
            if direction not in DIRECTIONS:
                c.fail(f"{where}.signals.{sid}", directions, f"expected one of {', '.join(DIRECTIONS)}")
        listen = comp.get("listen_for") or []
        if not isinstance(listen, list):
            c.fail(f"{where}.listen_for", comp, "must be a list")
        listen_for = []
        for li, item in enumerate(listen):
            item = c.mapping(f"{where}.listen_for[{li}]", item, listen)
            entry: dict[str, Any] = dict(c.text(f"{where}.listen_for[{li}]", {k: v for k, v in item.items() if k in LANGUAGES}, item))
            entry["scored"] = bool(item.get("scored", True))
            listen_for.append(entry)

        questions_node = c.require(where, comp, "questions")
        if not isinstance(questions_node, list):
            c.fail(f"{where}.questions", comp, "must be a list")
        questions: list[Question] = []

        def build(qnode: Any, qwhere: str, parent: str | None) -> None:
            qnode = c.mapping(qwhere, qnode, questions_node)
            qid = str(c.require(qwhere, qnode, "id"))
            if qid in seen_ids:
                c.fail(qwhere, qnode, f"duplicate id {qid!r}")
            seen_ids.add(qid)
            text = c.text(f"{qwhere}.text", c.require(qwhere, qnode, "text"), qnode)
            question = Question(
                id=qid,
                competency=cid,
                text=text,
                variants=c.variants(f"{qwhere}.variants", qnode.get("variants"), qnode),
                listen_for=c.text(f"{qwhere}.listen_for", qnode["listen_for"], qnode)
                if qnode.get("listen_for")
                else {},
                signals=c.signal_list(f"{qwhere}.signals", qnode.get("signals"), qnode, known),
                parent=parent,
            )
            questions.append(question)
            followups = qnode.get("followups") or []
            if not isinstance(followups, list):
                c.fail(f"{qwhere}.followups", qnode, "must be a list")
            for fi, fnode in enumerate(followups):
                build(fnode, f"{qwhere}.followups[{fi}]", qid)

        for qi, qnode in enumerate(questions_node):
            build(qnode, f"{where}.questions[{qi}]", None)
        competencies.append(
            Competency(
                id=cid,
                name=c.text(f"{where}.name", c.require(where, comp, "name"), comp),
                group=str(comp.get("group", "")),
                description=c.text(f"{where}.description", comp["description"], comp)
                if comp.get("description")
                else {},
                listen_for=tuple(listen_for),
                signals=dict(directions),
                questions=tuple(questions),
            )
        )
    if not competencies:
        c.fail("competencies", comps_node, "must list at least one competency")
    return Rubric(
        id=rubric_id,
        version=version,
        title=title,
        language=language,
        signals=signals,
        competencies=tuple(competencies),
        source=root.get("source"),
        path=str(path),
    )


def default_rubric_path() -> Path:
    return Path(str(resources.files("analyzer") / "rubric" / "account_manager.yaml"))


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric YAML file (the packaged guide by default).

    Raises:
        RubricError: naming the file, the place in it and the reason.
    """
    path = Path(path) if path is not None else default_rubric_path()
    return _load_rubric_cached(path.resolve(), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=16)
def _load_rubric_cached(path: Path, _mtime: int) -> Rubric:
    data = load_yaml(path)
    rubric = parse_rubric(data, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Rubric(**{**rubric.__dict__, "sha256": digest})
