"""Review app: upload an interview, follow its processing, review the flags, export.

Run with ``streamlit run app.py`` (see docs/APP.md). A thin shell: uploads go to
``analyzer.jobs.accept_upload``, the work happens in the job worker, everything
shown is read from ``analyzer.store``. Transcript text, names and file names are
untrusted: they are shown as escaped text, never as raw HTML.

Settings (environment): ``INTERVIEW_ANALYZER_DB`` (database path or
``sqlite:///`` URL), ``INTERVIEW_ANALYZER_PASSWORD`` (or ``password`` in
``.streamlit/secrets.toml``) for a shared deployment, ``INTERVIEW_ANALYZER_WORKER=0``
to leave processing to another process.
"""

from __future__ import annotations

import csv
import hmac
import html
import io
import mimetypes
import os
import re
from datetime import date

import streamlit as st

from analyzer.errors import AnalyzerError
from analyzer.i18n import LANGUAGES, translator
from analyzer.jobs import UPLOAD_EXTENSIONS, accept_upload, start_worker
from analyzer.report import LEVEL_NAMES, format_time, report_changes, to_csv, to_json, to_markdown
from analyzer.rubric import load_rubric
from analyzer.store import ADDED_RULE_ID, Flag, Store, default_db_url

BUSY = ("queued", "transcribing", "analysing")
# Material icons ship with Streamlit as a web font, so they draw without emoji fonts or a network.
STATUS_ICON = {"queued": ":material/schedule:", "transcribing": ":material/mic:", "analysing": ":material/manage_search:",
               "done": ":green[:material/check_circle:]", "failed": ":red[:material/error:]"}
LEVEL_ICON = {"not_asked": ":gray[:material/radio_button_unchecked:]", "insufficient": ":gray[:material/more_horiz:]",
              "none": ":red[:material/cancel:]", "some": ":orange[:material/adjust:]",
              "strong": ":green[:material/check_circle:]"}
LOW = ":orange[:material/warning:]"
#: Upload limit of the widget, in MB; ``server.maxUploadSize`` in .streamlit/config.toml matches it.
MAX_UPLOAD_MB = 1024
POLL_S = 2.0
FLAGS_PER_PAGE = 30

st.set_page_config(page_title="Interview review", page_icon="🗂️", layout="wide")


# --- resources shared by all sessions (nothing here is mutated per request) ------------------


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    return Store(url)  # each operation opens its own connection; safe to share across sessions


@st.cache_resource(show_spinner=False)
def get_worker(url: str):
    if os.environ.get("INTERVIEW_ANALYZER_WORKER", "1") == "0":
        return None
    return start_worker(get_store(url))


@st.cache_resource(show_spinner=False)
def get_rubric():
    return load_rubric()


# --- escaping: untrusted text never reaches the page as markup ------------------------------

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~:$^=")


def md(text: object) -> str:
    """Text for ``st.markdown``: HTML escaped, Markdown syntax neutralised."""
    out = []
    for ch in str(text):
        if ch in "<>&":
            out.append(html.escape(ch))
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def highlight(text: str, spans: list[tuple[int, int, str]]) -> str:
    """HTML of ``text`` with ``spans`` marked; every piece of text is escaped, only our tags are added."""
    out, pos = [], 0
    for start, end, label in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f'<mark title="{html.escape(label, quote=True)}" style="background:#fde68a;padding:0 2px">'
                   f"{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


# --- session helpers ------------------------------------------------------------------------


def flash(message: str) -> None:
    st.session_state.setdefault("flash", []).append(message)


def show_flash() -> None:
    for message in st.session_state.pop("flash", []):
        st.error(message)


def reviewer() -> str:
    return str(st.session_state.get("reviewer", "")).strip()


def current_interview_id() -> int | None:
    value = st.query_params.get("interview")
    return int(value) if value and value.isdigit() else None


def open_interview(interview_id: int | None) -> None:
    if interview_id is None:
        st.query_params.pop("interview", None)
    else:
        st.query_params["interview"] = str(interview_id)


def ui_language(interview_language: str | None) -> str:
    chosen = st.query_params.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if interview_language in LANGUAGES:
        return interview_language  # Russian by default for a Russian interview
    locale = getattr(st.context, "locale", None) or ""
    return "ru" if locale.lower().startswith("ru") else "en"


def _set_language(key: str) -> None:
    value = st.session_state.get(key)
    if value in LANGUAGES:
        st.query_params["lang"] = value


def _password() -> str | None:
    if os.environ.get("INTERVIEW_ANALYZER_PASSWORD"):
        return os.environ["INTERVIEW_ANALYZER_PASSWORD"]
    try:
        value = st.secrets.get("password")
    except Exception:  # noqa: BLE001 - no secrets file: no password
        return None
    return str(value) if value else None


def require_password(T) -> None:
    expected = _password()
    if not expected or st.session_state.get("authenticated"):
        return
    st.title(T("app_title"))
    with st.form("login"):
        given = st.text_input(T("password"), type="password")
        submitted = st.form_submit_button(T("sign_in"))
    if submitted:
        if hmac.compare_digest(given.encode(), expected.encode()):
            st.session_state["authenticated"] = True
            st.rerun()
        st.error(T("wrong_password"))
    st.stop()


# --- sidebar: language, upload, the list of interviews --------------------------------------


def sidebar(store: Store, T, lang: str) -> None:
    with st.sidebar:
        st.title(T("app_title"))
        key = f"lang-{lang}"
        st.segmented_control(T("language"), LANGUAGES, default=lang, key=key, format_func=str.upper,
                             on_change=_set_language, args=(key,))
        st.text_input(T("reviewer"), key="reviewer")
        upload_form(store, T)
        interview_list(store, T)


def upload_form(store: Store, T) -> None:
    st.subheader(T("upload_header"))
    with st.form("upload", clear_on_submit=True):
        uploaded = st.file_uploader(T("upload_file"), type=[e.lstrip(".") for e in UPLOAD_EXTENSIONS],
                                    help=T("upload_help"), max_upload_size=MAX_UPLOAD_MB)
        candidate = st.text_input(T("candidate"))
        role = st.text_input(T("role"))
        when = st.date_input(T("date"), value=date.today(), format="YYYY-MM-DD")
        language = st.selectbox(T("interview_language"), ("auto", "ru", "en"), format_func=lambda v: T(f"lang_{v}"))
        submitted = st.form_submit_button(T("upload_submit"), type="primary")
    if not submitted:
        return
    if uploaded is None:
        st.error(T("upload_missing"))
        return
    try:
        # The upload is written to an app-owned file at once and checked before anything is stored.
        iid = accept_upload(store, uploaded.name, uploaded, candidate=candidate, role=role,
                            interview_date=when.isoformat() if when else None, language=language,
                            max_bytes=MAX_UPLOAD_MB * 2**20)
    except AnalyzerError as exc:
        st.error(T("upload_failed", message=exc.message))
        return
    interview = store.get_interview(iid)
    if interview.recording_sha256:
        others = [i for i in store.find_recording(interview.recording_sha256) if i != iid]
        if others:
            flash(T("upload_duplicate", ids=", ".join(map(str, others))))
    open_interview(iid)
    st.rerun()


def interview_list(store: Store, T) -> None:
    st.subheader(T("interviews"))

    @st.fragment(run_every=POLL_S)
    def listing() -> None:
        interviews = store.list_interviews()
        current = current_interview_id()
        statuses = {i.id: i.status for i in interviews}
        seen = st.session_state.get("seen_status")
        st.session_state["seen_status"] = statuses
        if seen is not None and current is not None and seen.get(current) != statuses.get(current):
            st.rerun()  # the open interview finished or failed: redraw the whole page
        if not interviews:
            st.caption(T("no_interviews"))
        for i in interviews:
            name = i.candidate or i.source_name or T("untitled")
            label = f"{STATUS_ICON.get(i.status, '')} {md(name)} · {i.interview_date or i.created[:10]}"
            st.button(label, key=f"open-{i.id}", on_click=open_interview, args=(i.id,), width="stretch",
                      type="primary" if i.id == current else "secondary")
            if i.status in BUSY and i.job is not None:
                st.progress(min(1.0, max(0.0, i.job.progress)), text=T(f"status_{i.status}"))

    listing()


# --- one interview --------------------------------------------------------------------------


def interview_page(store: Store, T, lang: str, iid: int) -> None:
    try:
        view = store.open_interview(iid, reviewer=reviewer() or None)  # unnamed: the latest verdicts of anyone
    except AnalyzerError:
        st.warning(T("not_found", id=iid))
        st.button(T("back"), on_click=open_interview, args=(None,))
        return
    interview, report = view.interview, view.report
    title = interview.candidate or interview.source_name or T("untitled")
    st.header(md(title))
    facts = [interview.role, interview.interview_date, f"{T('source')}: {interview.source_name}"]
    if interview.duration_s:
        facts.append(f"{T('duration')}: {format_time(interview.duration_s)}")
    st.caption(md(" · ".join(f for f in facts if f)) + f" · {STATUS_ICON.get(interview.status, '')} "
               f"{T('status_' + interview.status)}")

    if interview.status in BUSY:
        progress_panel(store, T, iid)
    if interview.status == "failed":
        st.error(T("failed_because", message=interview.error or ""))
        if interview.job is not None:
            st.button(T("retry"), on_click=_retry, args=(store, T, interview.job.id), type="primary")
    if report is None:
        if view.transcript is None:
            return
        st.info(T("transcript_missing"))
        return

    rubric = get_rubric()
    recording = store.recording_file(interview)
    audio_player(iid, recording)
    summary_tab, review_tab, transcript_tab, figures_tab, manage_tab = st.tabs(
        [T("tab_summary"), T("tab_review"), T("tab_transcript"), T("tab_figures"), T("tab_manage")])
    with summary_tab:
        competencies(T, lang, rubric, report.report, iid, recording is not None)
    with review_tab:
        review(store, T, lang, rubric, view, recording is not None)
    with transcript_tab:
        transcript_view(T, lang, rubric, view)
    with figures_tab:
        figures(T, report.report)
    with manage_tab:
        manage(store, T, rubric, view)


def progress_panel(store: Store, T, iid: int) -> None:
    @st.fragment(run_every=1.0)
    def panel() -> None:
        interview = store.get_interview(iid)
        if interview.status not in BUSY:
            st.rerun()
        progress = interview.job.progress if interview.job else 0.0
        st.progress(min(1.0, max(0.0, progress)),
                    text=f"{T('status_' + interview.status)} · {T('progress_of', percent=round(progress * 100))}")

    panel()


def _retry(store: Store, T, job_id: int) -> None:
    try:
        store.retry_job(job_id)
    except AnalyzerError as exc:
        flash(T("retry_failed", message=exc.message))


def _seek(iid: int, start: float | None) -> None:
    st.session_state[f"seek-{iid}"] = float(start or 0.0)


def audio_player(iid: int, recording) -> None:
    if recording is None:
        return
    start = st.session_state.get(f"seek-{iid}")
    mime = mimetypes.guess_type(recording.name)[0] or "audio/mpeg"
    st.audio(str(recording), format=mime, start_time=int(start or 0), autoplay=start is not None)


def play_button(T, iid: int, start: float | None, key: str, has_recording: bool) -> None:
    if has_recording and start is not None:
        st.button(format_time(start), key=key, on_click=_seek, args=(iid, start), icon=":material/play_arrow:",
                  help=T("play_from", time=format_time(start)))
    elif start is not None:
        st.caption(format_time(start))


def signal_name(rubric, sid: str, lang: str) -> str:
    spec = rubric.signals.get(sid) or {}
    names = spec.get("name") or {}
    return names.get(lang) or names.get("en") or sid


def competency_name(rubric, cid: str | None, lang: str, T) -> str:
    if cid is None:
        return T("off_script")
    try:
        return rubric.name_of(cid, lang)
    except KeyError:
        return cid


def question_text(rubric, qid: str, lang: str, fallback: str) -> str:
    try:
        text = rubric.question(qid).text
    except KeyError:
        return fallback
    return text.get(lang) or fallback


def competencies(T, lang: str, rubric, report, iid: int, has_recording: bool) -> None:
    levels = LEVEL_NAMES.get(lang, LEVEL_NAMES["en"])
    st.subheader(T("overview"))
    st.dataframe(
        [{T("competency"): competency_name(rubric, c.competency, lang, T),
          T("level"): levels.get(c.level, c.level),
          T("questions_asked"): len(c.asked),
          T("signals_present"): ", ".join(signal_name(rubric, s, lang) for s in c.signals_present)}
         for c in report.competencies],
        hide_index=True, width="stretch",
        column_config={T("competency"): st.column_config.TextColumn(width="medium"),
                       T("level"): st.column_config.TextColumn(width="small"),
                       T("questions_asked"): st.column_config.NumberColumn(width="small"),
                       T("signals_present"): st.column_config.TextColumn(width="large")},
    )
    st.caption(T("app_note"))
    for c in report.competencies:
        name = competency_name(rubric, c.competency, lang, T)
        with st.expander(f"{LEVEL_ICON.get(c.level, '')} {md(name)} — {levels.get(c.level, c.level)}",
                         expanded=c.level in ("some", "strong")):
            if c.level != "not_asked":
                present = ", ".join(f"{signal_name(rubric, s, lang)} ×{c.signals.get(s, 0)}" for s in c.signals_present)
                absent = ", ".join(signal_name(rubric, s, lang) for s in c.signals_absent)
                st.markdown(f"**{T('signals_present')}:** {md(present or '—')}  \n"
                            f"**{T('signals_absent')}:** {md(absent or '—')}")
            if c.skipped:
                st.markdown(f"**{T('not_asked')}:**\n" + "\n".join(
                    f"- {md(question_text(rubric, s['question_id'], lang, s['text']))}" for s in c.skipped))
            if c.persistence is not None:
                st.caption(T("persistence", count=c.persistence))
            if c.followup_attitude:
                st.caption(T("followup_attitude", value=T(f"attitude_{c.followup_attitude}")))
            if c.level == "not_asked":
                continue
            if not c.evidence:
                st.caption(T("no_evidence"))
            for n, ev in enumerate(c.evidence):
                left, right = st.columns([1.5, 8.5], vertical_alignment="center")
                with left:
                    play_button(T, iid, ev.get("start"), f"ev-{c.competency}-{n}", has_recording)
                with right:
                    low = f" {LOW}" if ev.get("low_confidence") else ""
                    st.markdown(f"*{md(signal_name(rubric, ev['signal'], lang))}*: «{md(ev['quote'])}»{low}")


def _flag_key(rid: int, flag: Flag) -> str:
    return f"{rid}-{flag.entry}-{flag.signal}-{flag.rule_id}-{flag.start_char}-{flag.end_char}"


def _save_decision(store: Store, T, rid: int, flag: Flag, key: str, text: str) -> None:
    value = st.session_state.get(key)
    try:
        if value is None:
            current = store.decision(rid, flag, reviewer=reviewer())
            if current is not None and current.note:
                store.set_decision(rid, flag, None, reviewer=reviewer(), text=text)
            else:
                store.clear_decision(rid, flag, reviewer=reviewer())
        else:
            store.set_decision(rid, flag, value, reviewer=reviewer(), text=text)
    except (AnalyzerError, ValueError) as exc:
        flash(T("action_failed", message=str(exc)))


def _save_note(store: Store, T, rid: int, flag: Flag, key: str, text: str) -> None:
    try:
        store.set_note(rid, flag, str(st.session_state.get(key, "")).strip(), reviewer=reviewer(), text=text)
    except AnalyzerError as exc:
        flash(T("action_failed", message=exc.message))


def review(store: Store, T, lang: str, rubric, view, has_recording: bool) -> None:
    report, rid, iid = view.report.report, view.report.id, view.interview.id
    flags, seen = [], set()
    for q in report.questions:
        for s in q.signals:
            identity = (q.index, s.signal, s.rule_id, s.start_char, s.end_char)
            if identity not in seen:  # one decision per flag identity, and widget keys must be unique
                seen.add(identity)
                flags.append((q, s))
    decided = sum(1 for d in view.decisions.values() if d.rule_id != ADDED_RULE_ID and d.decision in ("confirm", "reject"))
    st.caption(T("flags_count", decided=decided, total=len(flags)))
    present = [c.competency for c in report.competencies if any(q.competency == c.competency for q, _ in flags)]
    options = ["*"] + present + ([None] if any(q.competency is None for q, _ in flags) else [])
    chosen = st.selectbox(T("filter_competency"), options, key=f"filter-{iid}",
                          format_func=lambda c: T("all_competencies") if c == "*" else competency_name(rubric, c, lang, T))
    shown = [(q, s) for q, s in flags if chosen == "*" or q.competency == chosen]
    if not shown:
        st.caption(T("no_flags"))
    if len(shown) > FLAGS_PER_PAGE:  # a one-hour interview has hundreds of flags; a page of widgets each
        pages = -(-len(shown) // FLAGS_PER_PAGE)
        page = st.pagination(pages, key=f"page-{rid}-{chosen}")
        shown = shown[(page - 1) * FLAGS_PER_PAGE:page * FLAGS_PER_PAGE]
    last_entry = None
    for q, s in shown:
        if q.index != last_entry:
            last_entry = q.index
            st.markdown(f"**#{q.index + 1}** {format_time(q.start)} · *{md(competency_name(rubric, q.competency, lang, T))}*  \n"
                        f"{md(q.asked)}")
        flag = Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char)
        key = _flag_key(rid, flag)
        current = view.decisions.get(flag)
        play, quote, decision, note = st.columns([1.5, 4.7, 2.5, 2.5], vertical_alignment="center")
        with play:
            play_button(T, iid, s.start, f"play-{key}", has_recording)
        with quote:
            low = f" · {LOW} {md(T('low_confidence'))}" if s.low_confidence else ""
            st.markdown(f"**{md(signal_name(rubric, s.signal, lang))}** · «{md(s.text)}»  \n"
                        f":gray[{md(s.rule_id)} · {s.score:.2f}]{low}")
        with decision:
            st.segmented_control(T("decision"), ("confirm", "reject"), format_func=T, key=f"d-{key}",
                                 default=current.decision if current and current.decision in ("confirm", "reject") else None,
                                 on_change=_save_decision, args=(store, T, rid, flag, f"d-{key}", s.text),
                                 label_visibility="collapsed")
        with note:
            st.text_input(T("note"), value=current.note if current else "", key=f"n-{key}",
                          placeholder=T("note_placeholder"), label_visibility="collapsed",
                          on_change=_save_note, args=(store, T, rid, flag, f"n-{key}", s.text))
    st.divider()
    add_signal_form(store, T, lang, rubric, view)


def add_signal_form(store: Store, T, lang: str, rubric, view) -> None:
    report, rid, iid = view.report.report, view.report.id, view.interview.id
    st.subheader(T("add_header"))
    answered = [q for q in report.questions if q.answer]
    if not answered:
        return
    entry = st.selectbox(T("add_entry"), [q.index for q in answered], key=f"add-entry-{iid}",
                         format_func=lambda i: f"#{i + 1} {report.questions[i].asked[:90]}")
    answer = report.questions[entry].answer
    st.markdown(f"**{T('answer')}:** {md(answer)}")
    with st.form(f"add-{iid}", clear_on_submit=True):
        signal = st.selectbox(T("add_signal"), list(rubric.signals), format_func=lambda s: signal_name(rubric, s, lang))
        passage = st.text_area(T("add_passage"), height=80)
        note = st.text_input(T("note"), placeholder=T("note_placeholder"))
        submitted = st.form_submit_button(T("add_submit"))
    if submitted:
        words = " ".join(passage.split())
        start = answer.find(words) if words else -1
        if start < 0 and words:
            match = re.search(re.escape(words), answer, flags=re.IGNORECASE)
            start = match.start() if match else -1
        if not words:
            st.error(T("add_empty"))
        elif start < 0:
            st.error(T("add_not_found", entry=entry + 1))
        else:
            try:
                store.add_signal(rid, entry, signal, start, start + len(words), answer[start:start + len(words)],
                                 note=note.strip(), reviewer=reviewer())
            except AnalyzerError as exc:
                st.error(T("action_failed", message=exc.message))
            else:
                st.rerun()
    added = [d for d in view.decisions.values() if d.rule_id == ADDED_RULE_ID]
    if added:
        st.markdown(f"**{T('added_signals')}**")
    for d in added:
        text, button = st.columns([8, 1], vertical_alignment="center")
        with text:
            by = f" — {d.reviewer}" if d.reviewer else ""
            note = f" ({d.note})" if d.note else ""
            st.markdown(f"#{d.entry + 1} **{md(signal_name(rubric, d.signal, lang))}**: «{md(d.text)}»{md(note + by)}")
        with button:
            st.button(T("remove"), key=f"rm-{d.id}", on_click=_remove_added, args=(store, T, rid, d.flag, d.reviewer))


def _remove_added(store: Store, T, rid: int, flag: Flag, who: str) -> None:
    try:
        store.clear_decision(rid, flag, reviewer=who)
    except AnalyzerError as exc:
        flash(T("action_failed", message=exc.message))


def transcript_view(T, lang: str, rubric, view) -> None:
    transcript, report = view.transcript, view.report.report
    if transcript is None:
        st.info(T("transcript_missing"))
        return
    interviewer, candidate = report.speakers.get("interviewer"), report.speakers.get("candidate")
    starts = {q.turn_index: q for q in report.questions}
    kinds = {"bank": T("kind_bank"), "followup": T("kind_followup"), "offscript": T("kind_offscript")}
    current, offset = None, 0
    blocks: list[str] = []

    def flush() -> None:
        if blocks:
            st.html("<div style='line-height:1.55'>" + "".join(blocks) + "</div>")
            blocks.clear()

    for k, turn in enumerate(transcript.turns):
        if k in starts:
            flush()
            current, offset = starts[k], 0
            q = current
            meta = [kinds.get(q.kind, q.kind)]
            if q.kind != "offscript":
                meta += [competency_name(rubric, q.competency, lang, T), T("similarity", value=q.similarity)]
            st.markdown(f"##### #{q.index + 1} {format_time(q.start)}  \n*{md(' · '.join(meta))}*")
        who = T("interviewer") if turn.speaker == interviewer else T("candidate_label") if turn.speaker == candidate else turn.speaker
        spans: list[tuple[int, int, str]] = []
        if current is not None and turn.speaker == candidate:
            for s in current.signals:
                a, b = s.start_char - offset, s.end_char - offset
                if b > 0 and a < len(turn.text):
                    spans.append((max(0, a), min(len(turn.text), b), signal_name(rubric, s.signal, lang)))
            offset += len(turn.text) + 1
        stamp = f"<span style='color:#6b7280'>[{format_time(turn.start)}]</span> " if turn.start is not None else ""
        blocks.append(f"<p>{stamp}<b>{html.escape(who)}</b> <span style='color:#6b7280'>({html.escape(turn.speaker)})"
                      f"</span>: {highlight(turn.text, spans)}</p>")
    flush()


def figures(T, report) -> None:
    values = {k: v for k, v in report.figures.items() if v is not None}
    if not values:
        st.caption(T("figures_none"))
        return
    columns = st.columns(4)
    for n, (key, value) in enumerate(values.items()):
        shown = f"{value:.0%}" if key.endswith("_share") else value
        columns[n % 4].metric(T(f"fig_{key}"), shown)
    answered = [q for q in report.questions if q.answer]
    if answered:
        import pandas as pd

        st.caption(T("answer_lengths"))
        st.bar_chart(pd.DataFrame({"words": [len(q.answer.split()) for q in answered]},
                                  index=[f"#{q.index + 1:02d}" for q in answered]), height=220)


def manage(store: Store, T, rubric, view) -> None:
    interview, stored = view.interview, view.report
    report, iid = stored.report, interview.id
    st.caption(T("report_made", created=stored.created[:16].replace("T", " "), rubric=stored.rubric_id,
                 version=stored.rubric_version, thresholds=stored.thresholds_version))
    from analyzer.thresholds import load_thresholds

    try:
        current = load_thresholds().version
    except AnalyzerError:
        current = stored.thresholds_version
    if current != stored.thresholds_version:
        st.info(T("thresholds_newer", old=stored.thresholds_version, new=current))

    st.subheader(T("correct_header"))
    speakers = view.transcript.speakers if view.transcript else []
    with st.form(f"details-{iid}"):
        candidate = st.text_input(T("candidate"), value=interview.candidate)
        role = st.text_input(T("role"), value=interview.role)
        who = report.speakers.get("interviewer")
        interviewer = st.selectbox(T("interviewer_is"), speakers, index=speakers.index(who) if who in speakers else 0) \
            if speakers else None
        save, rerun = st.columns(2)
        saved = save.form_submit_button(T("save_details"))
        rerun_clicked = rerun.form_submit_button(T("rerun"), help=T("rerun_help"), type="primary")
    if saved or rerun_clicked:
        try:
            changes = {"candidate": candidate.strip(), "role": role.strip()}
            if interviewer is not None and (interviewer != who or interview.interviewer):
                changes["interviewer"] = interviewer
            store.update_interview(iid, **changes)
            if rerun_clicked:
                store.enqueue_job(iid, "analyze")
        except AnalyzerError as exc:
            st.error(T("action_failed", message=exc.message))
        else:
            st.rerun()

    _show_changes(store, T, iid, report)

    st.subheader(T("export_header"))
    columns = st.columns(4)
    stem = f"interview-{iid}"
    columns[0].download_button(T("export_md"), data=lambda: to_markdown(report, rubric), file_name=f"{stem}.md",
                               mime="text/markdown", on_click="ignore", key=f"x-md-{iid}")
    columns[1].download_button(T("export_csv"), data=lambda: to_csv(report), file_name=f"{stem}-flags.csv",
                               mime="text/csv", on_click="ignore", key=f"x-csv-{iid}")
    columns[2].download_button(T("export_json"), data=lambda: to_json(report), file_name=f"{stem}.json",
                               mime="application/json", on_click="ignore", key=f"x-json-{iid}")
    columns[3].download_button(T("export_decisions"), data=lambda: decisions_csv(store, iid),
                               file_name=f"{stem}-decisions.csv", mime="text/csv", on_click="ignore",
                               key=f"x-dec-{iid}")

    st.subheader(T("delete_header"))
    st.caption(T("delete_help"))
    sure = st.checkbox(T("delete_confirm"), key=f"sure-{iid}")
    st.button(T("delete_button"), key=f"delete-{iid}", disabled=not sure, on_click=_delete, args=(store, T, iid))


def _show_changes(store: Store, T, iid: int, report) -> None:
    """After a re-run: what the new report changed against the one it replaced."""
    previous = store.previous_report(iid)
    if previous is None:
        return
    changes = report_changes(previous.report, report)
    names = LEVEL_NAMES.get(T.language, LEVEL_NAMES["en"])
    with st.expander(T("changes_header")):
        st.caption(T("changes_summary", old=changes["thresholds"]["old"], new=changes["thresholds"]["new"],
                     old_int=changes["interviewer"]["old"], new_int=changes["interviewer"]["new"]))
        if not (changes["levels"] or changes["flags_added"] or changes["flags_removed"]):
            st.write(T("changes_none"))
        if changes["levels"]:
            st.markdown(f"**{T('changes_levels')}**")
            st.dataframe([{"": c["name"], "←": names[c["old"]], "→": names[c["new"]]} for c in changes["levels"]],
                         hide_index=True)
        for key in ("flags_added", "flags_removed"):
            if changes[key]:
                st.markdown(f"**{T('changes_' + key.split('_')[1])}**")
                st.dataframe([{"#": f["entry"] + 1, "signal": f["signal"], "text": f["text"]} for f in changes[key]],
                             hide_index=True)


def decisions_csv(store: Store, iid: int) -> str:
    frame = store.decisions_frame(interview_id=iid)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def _delete(store: Store, T, iid: int) -> None:
    try:
        store.delete_interview(iid)
    except AnalyzerError as exc:
        flash(T("action_failed", message=exc.message))
        return
    open_interview(None)
    st.session_state["deleted"] = True


def home(store: Store, T) -> None:
    st.header(T("app_title"))
    st.caption(T("app_note"))
    if st.session_state.pop("deleted", False):
        st.success(T("deleted"))
    st.info(T("pick_interview") if store.list_interviews() else T("no_interviews"))


# --- the page -------------------------------------------------------------------------------


def main() -> None:
    url = default_db_url()
    try:
        store = get_store(url)
    except AnalyzerError as exc:
        st.error(translator(ui_language(None))("store_error", message=exc.message))
        st.stop()
    iid = current_interview_id()
    interview_language = None
    if iid is not None:
        try:
            interview_language = store.get_interview(iid).language
        except AnalyzerError:
            pass
    lang = ui_language(interview_language)
    T = translator(lang)
    worker = get_worker(url)  # processing goes on whether or not anyone is signed in
    if worker is not None and not worker.alive:
        get_worker.clear()
        get_worker(url)
    require_password(T)
    sidebar(store, T, lang)
    show_flash()
    if iid is None:
        home(store, T)
    else:
        interview_page(store, T, lang, iid)


main()
