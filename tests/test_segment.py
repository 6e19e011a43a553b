from __future__ import annotations

import pytest

from analyzer.errors import TranscriptError
from analyzer.pipeline import analyze_transcript
from analyzer.records import Transcript, Turn


def convo(*lines: tuple[str, str]) -> Transcript:
    return Transcript(turns=tuple(Turn(s, t) for s, t in lines))


SILENT_CASE_RU = convo(
    ("SPEAKER_00", "Добрый день, меня хорошо слышно?"),
    ("SPEAKER_01", "Да, добрый день, всё слышно."),
    ("SPEAKER_00", "Давай кейс. Клиент подписал договор, мы начали проект, и тут он пропал: не отвечает на звонки и письма. Твои действия?"),
    ("SPEAKER_01", "Сначала позвоню ему, потом напишу в мессенджер и на почту."),
    ("SPEAKER_00", "Ок, ты всё это сделал, а он всё равно молчит. Что ещё?"),
    ("SPEAKER_01", "Приеду к нему в офис, найду его руководителя через коллег."),
    ("SPEAKER_00", "И это не помогло. Дальше?"),
    ("SPEAKER_01", "Подключу своего руководителя и приостановлю работы по договору."),
    ("SPEAKER_00", "Понятно, спасибо."),
    ("SPEAKER_00", "Какие у тебя зарплатные ожидания?"),
    ("SPEAKER_01", "Около ста пятидесяти тысяч."),
)


def test_segment_silent_client_cascade_is_one_thread_with_a_persistence_count():
    report = analyze_transcript(SILENT_CASE_RU, language="ru")
    kinds = [(q.kind, q.competency) for q in report.questions]
    assert kinds == [
        ("offscript", None),
        ("bank", "communication"),
        ("followup", "communication"),
        ("followup", "communication"),
        ("offscript", None),
    ]
    assert report.questions[1].question_id == "communication.silent_client"
    assert report.questions[2].parent == 1 and report.questions[3].parent == 1
    persistence = [s for s in report.questions[1].signals if s.signal == "persistence"]
    assert persistence and persistence[0].value >= 5
    # the count lives on the case question only
    assert not any(s.signal == "persistence" for q in report.questions[2:] for s in q.signals)
    # "Понятно, спасибо." asks nothing and is not an entry; the salary answer is no evidence
    assert all("Понятно, спасибо" not in q.asked or "зарплат" in q.asked for q in report.questions)
    assert report.questions[-1].signals == ()


def test_segment_roles_from_questions_not_from_speaking_order():
    # the candidate speaks first and the interviewer is SPEAKER_01
    t = convo(
        ("SPEAKER_00", "Hi, thanks for having me."),
        ("SPEAKER_01", "Hi! Why did you leave your last job?"),
        ("SPEAKER_00", "I wanted to grow, and my last company had no new projects for me for a year, so I decided to move on."),
        ("SPEAKER_01", "What would your former manager say about you?"),
        ("SPEAKER_00", "She'd say I'm reliable but sometimes too stubborn."),
        ("SPEAKER_01", "How would you explain to your grandmother what a database is?"),
        ("SPEAKER_00", "It's like a big address book: every name has a phone number and you find anyone in a second."),
        ("SPEAKER_00", "Can I ask what the team looks like?"),
        ("SPEAKER_01", "Sure, we are six people."),
    )
    report = analyze_transcript(t)
    assert report.speakers == {"interviewer": "SPEAKER_01", "candidate": "SPEAKER_00"}
    assert [q.competency for q in report.questions] == ["empathy", "empathy", "explaining_simply"]


def test_segment_interviewer_override_and_unknown_label():
    t = convo(("A", "How do you organise your working day?"), ("B", "I plan it every morning."))
    assert analyze_transcript(t, interviewer="B").speakers["interviewer"] == "B"
    with pytest.raises(TranscriptError, match="not a speaker here"):
        analyze_transcript(t, interviewer="C")


def test_segment_unpunctuated_asr_questions_still_match():
    t = convo(
        ("SPEAKER_00", "ок давай начнем расскажи почему ты ушел с последнего места работы"),
        ("SPEAKER_01", "ну там не было роста и я решил искать новое место"),
        ("SPEAKER_00", "а как бы ты объяснил бабушке что такое база данных"),
        ("SPEAKER_01", "это как записная книжка где у каждого номер"),
    )
    report = analyze_transcript(t, language="ru")
    assert [(q.kind, q.competency) for q in report.questions] == [("bank", "empathy"), ("bank", "explaining_simply")]


def test_segment_offscript_question_is_never_forced_onto_the_guide():
    t = convo(
        ("I", "Do you have any questions for me?"),
        ("C", "Yes, what does the onboarding look like?"),
        ("I", "When could you start?"),
        ("C", "In two weeks."),
    )
    report = analyze_transcript(t, interviewer="I")
    assert all(q.kind == "offscript" and q.competency is None for q in report.questions)


def test_segment_a_transcript_with_one_speaker_is_a_clear_error():
    # a transcribed recording whose voices could not be told apart never reaches the reader's check
    t = Transcript(turns=(Turn("SPEAKER_00", "Why did you leave your last job?"), Turn("SPEAKER_00", "I wanted to grow.")),
                   source="call.wav")
    with pytest.raises(TranscriptError, match="call.wav: only one speaker"):
        analyze_transcript(t)


def test_segment_panel_candidate_is_who_answers_not_who_talks_most():
    t = convo(
        ("Anna", "Tell me about a time a client was unhappy with you?"),
        ("Carl", "I called him the same day and apologised."),
        ("Boris", "Let me add some context: our clients escalate a lot because delivery is slow and contracts are "
                  "complicated, so we care how people handle pressure. How would you explain a complex product to a "
                  "client who is not technical?"),
        ("Carl", "It is like a car engine."),
        ("Boris", "And how do you organise your working day when several urgent requests arrive together from sales, "
                  "from support and from the client himself?"),
        ("Carl", "I list them and call the client first."),
    )
    report = analyze_transcript(t)
    assert report.speakers["candidate"] == "Carl"
    assert all(q.asked.startswith(("Tell", "Let", "And")) for q in report.questions)


def test_segment_a_topic_change_is_never_a_probe_of_the_previous_question():
    # "Давайте сменим тему" opens something new: here a question outside the guide, not a
    # follow-up of the silent-client case it interrupts.
    t = convo(
        ("SPEAKER_00", "Давай кейс. Клиент подписал договор, и тут он пропал: не отвечает на звонки и письма. Твои действия?"),
        ("SPEAKER_01", "Позвоню ему, потом напишу в мессенджер и на почту, потом приеду в офис."),
        ("SPEAKER_00", "Хорошо. Давайте сменим тему. Вы сейчас ещё работаете в агентстве?"),
        ("SPEAKER_01", "Да, пока работаю, но уже предупредила руководителя."),
    )
    kinds = [(q.kind, q.competency) for q in analyze_transcript(t, language="ru").questions]
    assert kinds == [("bank", "communication"), ("offscript", None)]
    # without the topic change the same turn would stay in the case's thread
    t2 = convo(*[(s, x.replace("Давайте сменим тему. ", "")) for s, x in ((u.speaker, u.text) for u in t.turns)])
    assert analyze_transcript(t2, language="ru").questions[1].kind == "followup"


@pytest.mark.parametrize("lang, their_question, anything_else", [
    ("en", "What does the team look like?", "Anything else?"),
    ("ru", "А какая у вас команда?", "Что-то ещё?"),
])
def test_segment_anything_else_after_the_candidates_own_question_is_offscript(lang, their_question, anything_else):
    first = ("Why did you leave your last job?" if lang == "en" else "Почему ты ушёл с последнего места работы?")
    answer = ("I wanted to grow and there were no new projects for me." if lang == "en"
              else "Хотелось расти, а новых проектов для меня не было.")
    reply = ("Five people, two of them account managers." if lang == "en" else "Пять человек, двое из них аккаунты.")
    t = convo(("A", first), ("B", answer), ("A", anything_else), ("B", answer + " " + their_question), ("A", reply + " " + anything_else),
              ("B", "No, that's all, thanks." if lang == "en" else "Нет, спасибо, всё понятно."))
    questions = analyze_transcript(t, language=lang).questions
    # the first «что-то ещё?» probes the answer; the second invites more of the candidate's questions
    assert [q.kind for q in questions] == ["bank", "followup", "offscript"]


def test_segment_unpunctuated_turn_that_draws_a_long_answer_asks_something():
    # speech-to-text without question marks: «а был у тебя такой клиент реально» has no question
    # word, but the candidate answers it at length
    t = convo(
        ("SPEAKER_01", "давай кейс приходит клиент очень недовольный говорит что реклама не сработала и требует вернуть деньги что будешь делать"),
        ("SPEAKER_00", "сначала дам ему выговориться потом подниму статистику и посмотрю правда ли не сработало"),
        ("SPEAKER_01", "а был у тебя такой клиент реально"),
        ("SPEAKER_00", "ну был там дизайнер сдал баннеры с ошибкой в цене клиент обиделся я сама позвонила извинилась и мы сделали скидку"),
        ("SPEAKER_01", "понятно спасибо"),
        ("SPEAKER_00", "да"),
    )
    questions = analyze_transcript(t, language="ru").questions
    assert [q.kind for q in questions] == ["bank", "followup"]
    assert "такой клиент" in questions[1].asked and "дизайнер" in questions[1].answer


@pytest.mark.parametrize("lang,asked,expected", [
    # Russian gives the two aspects of a verb different lemmas: «уходишь» is «уходить», «ушёл» is «уйти»
    ("ru", "Хорошо. Почему уходишь из «Пикселя»?", "empathy.why_left"),
    ("en", "So why are you quitting?", "empathy.why_left"),
    # «начальник» / "boss" for the guide's «руководитель» / "manager"
    ("ru", "Если я наберу твоего бывшего начальника, что он про тебя расскажет?", "empathy.why_left.manager_reference"),
    # a name the guide does not know is no word of the question: one shared word is all it says
    ("en", "Okay. Why you want to leave Northlane?", "empathy.why_left"),
    ("ru", "Хорошо. А почему уходишь из Пикселя?", "empathy.why_left"),
])
def test_segment_synonyms_and_aspect_pairs_meet_the_guide_wording(lang, asked, expected):
    from analyzer.matching import normalize

    t = convo(("A", "Добрый день!" if lang == "ru" else "Hello!"), ("B", "Hi."), ("A", asked),
              ("B", "Хочу расти, а там потолок." if lang == "ru" else "I want to grow and there was no room left."))
    report = analyze_transcript(t, language=lang, interviewer="A")
    entry = next(q for q in report.questions if q.asked == asked)
    assert entry.question_id == expected
    assert normalize("уходишь", "ru") == normalize("ушёл", "ru") != normalize("ушами", "ru")


@pytest.mark.parametrize("lead_in,expected", [
    ("I love the coffee bit. Okay, learning.", "self_development"),   # small talk in the lead-in only
    ("How was the coffee there, by the way?", None),                  # the question itself is small talk
])
def test_segment_a_small_talk_cue_counts_only_in_what_the_turn_asks(lead_in, expected):
    asked = f"{lead_in} What's something you've genuinely learnt in the last year?" if expected else lead_in
    t = convo(("Int", "Why did you leave your last job?"), ("Cand", "I wanted a bigger role and more clients of my own."),
              ("Int", asked), ("Cand", "I learnt SQL on evenings and built my own churn report with it."))
    report = analyze_transcript(t, language="en", interviewer="Int")
    entry = next(q for q in report.questions if q.asked == asked)
    assert entry.competency == expected


@pytest.mark.parametrize("lang,lines", [
    ("en", (("Int", "Tell me about the biggest problem you've had at work. What happened?"),
            ("Cand", "A launch slipped by a month because the printer was never told the new date, and the client was furious."),
            ("Int", "Out of curiosity, which CRM were you on there, Salesforce?"),
            ("Cand", "HubSpot, mostly."),
            ("Int", "Got it. And who was in charge of making sure everyone knew the new date, you or someone else?"),
            ("Cand", "Honestly, me. I should have sent the updated schedule to every supplier the same day."))),
    ("ru", (("Инт", "Расскажи о самой большой проблеме на работе. Что случилось?"),
            ("Канд", "Сорвали запуск на месяц: типографию не предупредили о новой дате, клиент был в ярости."),
            ("Инт", "Кстати, а заявки вы в чём вели, какая CRM у вас была?"),
            ("Канд", "Битрикс, в основном."),
            ("Инт", "Ясно. А кто у вас отвечал за то, чтобы все узнали новую дату, вы или кто-то другой?"),
            ("Канд", "Честно, я. Надо было в тот же день разослать новый график всем подрядчикам."))),
])
def test_segment_a_side_question_about_tools_is_offscript_and_leaves_the_topic_open(lang, lines):
    report = analyze_transcript(convo(*lines), language=lang, interviewer=lines[0][0])
    first, side, probe = report.questions
    assert (first.kind, first.competency) == ("bank", "problem_solving")
    assert (side.kind, side.competency) == ("offscript", None)
    assert (probe.kind, probe.competency, probe.parent) == ("followup", "problem_solving", 0)


def test_segment_a_guide_question_that_names_a_tool_stays_on_the_guide():
    asked = "Хорошо. Давайте теперь про ваш день. Как вы его выстраиваете и каким трекером задач пользуетесь — Битрикс, Jira, что-то ещё?"
    report = analyze_transcript(convo(("Инт", "Добрый день!"), ("Канд", "Здравствуйте."), ("Инт", asked),
                                      ("Канд", "Утром разбираю почту, потом созвоны, задачи веду в Jira.")),
                                language="ru", interviewer="Инт")
    assert report.questions[-1].competency == "multitasking"
