"""Per-competency summaries, conversation figures, and the report as Markdown or CSV rows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .records import CompetencySummary, QuestionEntry, Report, Transcript
from .rubric import Rubric
from .thresholds import Thresholds

LEVELS = ("not_asked", "insufficient", "none", "some", "strong")
_SIGN = {"positive": 1, "negative": -1, "neutral": 0}


def _passing(entry: QuestionEntry, thresholds: Thresholds):
    return [s for s in entry.signals if s.score >= thresholds.signal(s.signal)]


def _root_id(rubric: Rubric, qid: str) -> str:
    q = rubric.question(qid)
    while q.parent is not None:
        q = rubric.question(q.parent)
    return q.id


def build_summaries(
    entries: list[QuestionEntry], rubric: Rubric, thresholds: Thresholds, language: str
) -> list[CompetencySummary]:
    """One summary per competency of the rubric, in the rubric's order."""
    out = []
    for comp in rubric.competencies:
        mine = [e for e in entries if e.competency == comp.id]
        bank = [q for q in comp.questions if q.parent is None]
        asked, skipped = [], []
        for q in bank:
            hits = [e.index for e in mine if e.question_id and _root_id(rubric, e.question_id) == q.id]
            item = {"question_id": q.id, "text": q.text.get(language) or next(iter(q.text.values()))}
            (asked if hits else skipped).append({**item, "entries": hits} if hits else item)
        counts: dict[str, int] = {}
        flags = []
        persistence = None
        attitude = None
        for e in mine:
            for s in _passing(e, thresholds):
                counts[s.signal] = counts.get(s.signal, 0) + 1
                flags.append((e, s))
                if s.signal == "persistence":
                    persistence = max(persistence or 0, int(s.value or 0))
                if s.signal == "followup_attitude":
                    attitude = s.value
        words = sum(len(e.answer.split()) for e in mine)
        cared = comp.signals
        score = 0.0
        for sid, direction in cared.items():
            if sid not in counts:
                continue
            sign = _SIGN[direction]
            if sid == "followup_attitude":
                sign *= 1 if attitude == "positive" else -1
            elif sid == "persistence":
                sign *= 1 if (persistence or 0) >= 3 else 0
            score += sign
        if not mine:
            level = "not_asked"
        elif words < thresholds.levels.insufficient_max_words:
            level = "insufficient"
        elif score >= thresholds.levels.strong_min_score:
            level = "strong"
        elif score >= thresholds.levels.some_min_score:
            level = "some"
        else:
            level = "none"
        supporting = [(e, s) for e, s in flags if cared.get(s.signal) == "positive"] or flags
        supporting.sort(key=lambda es: -es[1].score)
        evidence, used = [], set()
        distinct = len({x.signal for _, x in supporting})
        for e, s in supporting:
            if s.signal in used and len(used) < distinct:
                continue
            used.add(s.signal)
            evidence.append({"signal": s.signal, "text": s.text, "quote": _quote(e.answer, s.start_char, s.end_char),
                             "start": s.start, "end": s.end, "entry": e.index, "score": s.score,
                             "low_confidence": s.low_confidence})
            if len(evidence) == 3:
                break
        present = tuple(sid for sid in cared if sid in counts)
        out.append(
            CompetencySummary(
                competency=comp.id,
                name=comp.name.get(language) or next(iter(comp.name.values())),
                questions=sum(1 for e in mine if e.kind == "bank"),
                asked=tuple(asked),
                skipped=tuple(skipped),
                signals=counts,
                signals_present=present,
                signals_absent=tuple(sid for sid in cared if sid not in counts),
                evidence=tuple(evidence),
                level=level,
                answer_words=words,
                score=score,
                persistence=persistence,
                followup_attitude=attitude,
            )
        )
    return out


def _quote(text: str, start: int, end: int, context: int = 60) -> str:
    """The flagged words with a little of the sentence around them."""
    left = text.rfind(".", 0, start)
    left = max(left + 1, start - context)
    right_dot = [i for i in (text.find(c, end) for c in ".!?") if i != -1]
    right = min([end + context] + [i + 1 for i in right_dot])
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return f"{prefix}{text[left:right].strip()}{suffix}"


def conversation_figures(
    transcript: Transcript, entries: list[QuestionEntry], interviewer: str, candidate: str
) -> dict[str, Any]:
    """Talk-time shares, longest monologue, answer lengths and pauses (when times are known)."""
    talk = {interviewer: 0.0, candidate: 0.0}
    words = {interviewer: 0, candidate: 0}
    # Plain text with [mm:ss] stamps leaves the last turn without an end: time what is timed.
    timed_turns = [t for t in transcript.turns if t.start is not None and t.end is not None]
    timed = len(timed_turns) >= max(1, len(transcript.turns) // 2)
    longest = 0.0
    longest_words = 0
    for turn in transcript.turns:
        side = turn.speaker if turn.speaker in talk else interviewer
        words[side] += len(turn.text.split())
        if timed and turn.start is not None and turn.end is not None:
            talk[side] += max(0.0, turn.end - turn.start)
        if turn.speaker == candidate:
            longest_words = max(longest_words, len(turn.text.split()))
            if timed and turn.start is not None and turn.end is not None:
                longest = max(longest, turn.end - turn.start)
    total_words = sum(words.values()) or 1
    answered = [e for e in entries if e.answer]
    pauses = [e.answer_start - e.end for e in answered if e.answer_start is not None and e.end is not None]
    figures: dict[str, Any] = {
        "questions_asked": len(entries),
        "bank_questions": sum(1 for e in entries if e.kind == "bank"),
        "followups": sum(1 for e in entries if e.kind == "followup"),
        "offscript": sum(1 for e in entries if e.kind == "offscript"),
        "candidate_word_share": round(words[candidate] / total_words, 3),
        "interviewer_word_share": round(words[interviewer] / total_words, 3),
        "longest_candidate_turn_words": longest_words,
        "mean_answer_words": round(sum(len(e.answer.split()) for e in answered) / len(answered), 1) if answered else 0,
    }
    total_time = sum(talk.values())
    if timed and total_time > 0:
        figures.update(
            candidate_talk_share=round(talk[candidate] / total_time, 3),
            interviewer_talk_share=round(talk[interviewer] / total_time, 3),
            longest_candidate_monologue_s=round(longest, 1),
            mean_pause_before_answer_s=round(sum(pauses) / len(pauses), 2) if pauses else None,
        )
    return figures


def report_changes(old: Report, new: Report) -> dict[str, Any]:
    """What a re-run changed: competency levels, and flags that appeared or disappeared.

    Flags are compared by (question entry, signal, quoted words), so a re-run
    with new thresholds shows exactly which evidence a reviewer gains or loses.
    """
    old_levels = {c.competency: (c.name, c.level) for c in old.competencies}
    levels = [
        {"competency": c.competency, "name": c.name, "old": old_levels[c.competency][1], "new": c.level}
        for c in new.competencies
        if c.competency in old_levels and old_levels[c.competency][1] != c.level
    ]

    def flags(report: Report) -> dict[tuple[int, str, str], dict[str, Any]]:
        return {(q.index, s.signal, s.text): {"entry": q.index, "signal": s.signal, "text": s.text, "score": s.score,
                                              "start": s.start} for q in report.questions for s in q.signals}

    before, after = flags(old), flags(new)
    return {
        "thresholds": {"old": old.provenance.get("thresholds_version"), "new": new.provenance.get("thresholds_version")},
        "interviewer": {"old": old.speakers.get("interviewer"), "new": new.speakers.get("interviewer")},
        "levels": levels,
        "flags_added": [after[k] for k in after if k not in before],
        "flags_removed": [before[k] for k in before if k not in after],
    }


# --- rendering -------------------------------------------------------------------------

_LABELS = {
    "en": {
        "title": "Interview report", "speakers": "Speakers", "interviewer": "interviewer", "candidate": "candidate",
        "coverage": "Coverage of the guide", "competency": "Competency", "asked": "Asked", "skipped": "Not asked",
        "level": "Level", "evidence": "Evidence", "questions": "Questions and answers", "signals": "Signals",
        "present": "present", "absent": "absent", "figures": "Conversation figures", "kind": "kind",
        "similarity": "similarity", "answer": "Answer", "none": "—", "low": "(low confidence)",
        "note": "The tool surfaces evidence; a person decides. Every flag below shows its quote.",
        "persistence": "actions named before giving up", "attitude": "attitude to follow-ups",
        "provenance": "Produced by",
    },
    "ru": {
        "title": "Отчёт по интервью", "speakers": "Участники", "interviewer": "интервьюер", "candidate": "кандидат",
        "coverage": "Покрытие гайда", "competency": "Компетенция", "asked": "Заданы", "skipped": "Не заданы",
        "level": "Уровень", "evidence": "Подтверждения", "questions": "Вопросы и ответы", "signals": "Сигналы",
        "present": "есть", "absent": "нет", "figures": "Показатели беседы", "kind": "тип",
        "similarity": "сходство", "answer": "Ответ", "none": "—", "low": "(низкая уверенность)",
        "note": "Инструмент показывает подтверждения; решение принимает человек. У каждой отметки есть цитата.",
        "persistence": "действий до того, как сдаться", "attitude": "отношение к фоллоу-апам",
        "provenance": "Получено",
    },
}
LEVEL_NAMES = {
    "en": {"not_asked": "not asked", "insufficient": "too little to judge", "none": "no evidence", "some": "some evidence", "strong": "strong evidence"},
    "ru": {"not_asked": "не спрашивали", "insufficient": "мало ответа", "none": "нет подтверждений", "some": "есть подтверждения", "strong": "сильные подтверждения"},
}


def format_time(seconds: float | None) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on; empty when the time is unknown."""
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def _ts(seconds: float | None) -> str:
    return f"[{format_time(seconds)}]" if seconds is not None else ""


def _md(text: str) -> str:
    """Escape what Markdown would otherwise interpret (tables, HTML)."""
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("`", "\\`"))


def to_markdown(report: Report, rubric: Rubric | None = None) -> str:
    """The report as a reviewer reads it: per competency what was asked and shown, with quotes and times."""
    lang = report.language if report.language in _LABELS else "en"
    L = _LABELS[lang]
    names = LEVEL_NAMES[lang]
    signal_names = {sid: spec["name"].get(lang, sid) for sid, spec in rubric.signals.items()} if rubric else {}
    sname = lambda sid: signal_names.get(sid, sid)  # noqa: E731
    lines = [f"# {L['title']}", "", f"_{L['note']}_", ""]
    if report.source:
        lines += [_md(str(report.source)), ""]
    lines += [f"**{L['speakers']}:** {L['interviewer']} — {_md(str(report.speakers['interviewer']))}; "
              f"{L['candidate']} — {_md(str(report.speakers['candidate']))}", ""]
    lines += [f"## {L['coverage']}", "", f"| {L['competency']} | {L['asked']} | {L['skipped']} | {L['level']} |", "|---|---|---|---|"]
    for c in report.competencies:
        lines.append(f"| {_md(c.name)} | {len(c.asked)} | {len(c.skipped)} | {names[c.level]} |")
    lines.append("")
    for c in report.competencies:
        lines += [f"## {_md(c.name)} — {names[c.level]}", ""]
        if c.asked:
            lines.append(f"**{L['asked']}:**")
            for a in c.asked:
                refs = ", ".join(f"#{i + 1} {_ts(report.questions[i].start)}".strip() for i in a["entries"])
                lines.append(f"- {_md(a['text'])} ({refs})")
            lines.append("")
        if c.skipped:
            lines.append(f"**{L['skipped']}:** " + "; ".join(_md(s["text"]) for s in c.skipped))
            lines.append("")
        if c.level != "not_asked":
            present = ", ".join(f"{sname(s)} ×{c.signals[s]}" for s in c.signals_present) or L["none"]
            absent = ", ".join(sname(s) for s in c.signals_absent) or L["none"]
            lines += [f"**{L['signals']}:** {L['present']}: {present}; {L['absent']}: {absent}", ""]
            if c.persistence is not None:
                lines += [f"**{sname('persistence')}:** {c.persistence} ({L['persistence']})", ""]
            if c.followup_attitude:
                lines += [f"**{L['attitude']}:** {c.followup_attitude}", ""]
            if c.evidence:
                lines.append(f"**{L['evidence']}:**")
                for ev in c.evidence:
                    low = f" {L['low']}" if ev.get("low_confidence") else ""
                    lines.append(f"- {_ts(ev['start'])} _{sname(ev['signal'])}_: «{_md(ev['quote'])}»{low}")
                lines.append("")
    lines += [f"## {L['questions']}", ""]
    for q in report.questions:
        comp = next((c.name for c in report.competencies if c.competency == q.competency), None)
        tag = f"{q.kind}" + (f", {comp}" if comp else "") + (f", {L['similarity']} {q.similarity:.2f}" if q.kind != "offscript" else "")
        lines += [f"### {q.index + 1}. {_ts(q.start)} {_md(q.asked)}", "", f"_{_md(tag)}_", ""]
        if q.answer:
            answer = q.answer if len(q.answer) <= 600 else q.answer[:600] + "…"
            lines += [f"> {_md(answer)}", ""]
        for s in q.signals:
            lines.append(f"- {_ts(s.start)} **{sname(s.signal)}** ({s.score:.2f}, `{s.rule_id}`): «{_md(s.text)}»")
        if q.signals:
            lines.append("")
    if report.figures:
        lines += [f"## {L['figures']}", ""]
        lines += [f"- {k}: {v}" for k, v in report.figures.items() if v is not None]
        lines.append("")
    p = report.provenance
    lines.append(f"_{L['provenance']}: interview-analyzer {p.get('analyzer_version')}, rubric {p.get('rubric_id')} "
                 f"{p.get('rubric_version')}, thresholds {p.get('thresholds_version')}_")
    return "\n".join(lines) + "\n"


CSV_FIELDS = ("entry", "question_kind", "competency", "question_id", "asked_at", "signal", "rule_id", "score", "text", "start", "end", "start_char", "end_char", "value", "low_confidence")


def flag_rows(report: Report) -> list[dict[str, Any]]:
    """One row per flagged signal (the CSV export and the calibration table)."""
    rows = []
    for q in report.questions:
        for s in q.signals:
            rows.append({
                "entry": q.index, "question_kind": q.kind, "competency": q.competency, "question_id": q.question_id,
                "asked_at": q.start, "signal": s.signal, "rule_id": s.rule_id, "score": s.score,
                "text": s.text, "start": s.start, "end": s.end, "start_char": s.start_char, "end_char": s.end_char,
                "value": "; ".join(map(str, s.value)) if isinstance(s.value, (list, tuple)) else s.value,
                "low_confidence": s.low_confidence,
            })
    return rows


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(flag_rows(report))
    return buf.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
