from __future__ import annotations

import pytest

from analyzer.errors import RubricError
from analyzer.nlp import get_nlp
from analyzer.signals import detect_signals, load_rules, parse_rules


def found(text: str, lang: str, rules, thresholds) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in detect_signals(get_nlp(lang)(text), rules, lang):
        if s.score >= thresholds.signal(s.signal):
            out.setdefault(s.signal, []).append(s.text)
    return out


@pytest.mark.parametrize(
    "lang, text, signal",
    [
        ("ru", "Например, у клиента сети кофеен мы запустили рассылку.", "example"),
        ("en", "For example, a retail client wanted weekly reports.", "example"),
        ("ru", "База данных — это как большая записная книжка с телефонами.", "analogy"),
        ("en", "A CRM is like your address book, but smart.", "analogy"),
        ("ru", "Сначала я смотрю на цели клиента, потом собираю команду, затем запускаю тест.", "stepwise"),
        ("en", "First, I'd check our own side. Then I'd call from my personal phone. Finally I'd go to their office.", "stepwise"),
        ("ru", "Я взяла на себя переговоры с клиентом и сама позвонила директору.", "ownership"),
        ("en", "I took charge of the account and I called the CEO myself.", "ownership"),
        ("ru", "В прошлом году у меня был клиент, он пропал на месяц. Я позвонила, написала, приехала в офис. В итоге договор продлили.", "story"),
        ("en", "Last year a client went silent for a month. I called, I emailed, and I went to their office. In the end they renewed.", "story"),
        ("ru", "За полгода выручка по моим клиентам выросла на 30%.", "metric"),
        ("en", "We grew revenue on my accounts by 20% in six months.", "metric"),
        ("ru", "Проект сорвался, потому что клиент поздно прислал материалы.", "cause_effect"),
        ("en", "My manager decided, I just passed it on.", "deflection"),
        ("ru", "Руководитель решил, я просто передала задачу дальше.", "deflection"),
    ],
)
def test_signals_core_examples_fire(lang, text, signal, rules, thresholds):
    assert signal in found(text, lang, rules, thresholds)


@pytest.mark.parametrize(
    "lang, text, signal",
    [
        ("ru", "Как правило, я отвечаю клиентам в течение часа.", "analogy"),
        ("ru", "Так как клиент молчал, я написала ещё раз.", "analogy"),
        ("ru", "Как дела у клиента, я узнаю на еженедельном созвоне.", "analogy"),
        ("en", "I like working with difficult clients, I'd like to do more of it.", "analogy"),
        ("en", "It was like, you know, a normal week.", "analogy"),
        ("en", "My first job was in a bank, then I moved to an agency.", "stepwise"),
        ("ru", "Сначала я работала в банке, потом перешла в агентство.", "stepwise"),
        ("en", "I have 2 kids and I joined the company in 2019.", "metric"),
        ("ru", "Мне 27 лет, в 2019 году я пришла в агентство.", "metric"),
        ("en", "Usually I would call the client and then send an email.", "story"),
        ("ru", "Я бы сама позвонила клиенту.", "ownership"),
        ("en", "I flagged it to my manager, he decided what to do.", "ownership"),
        ("ru", "Например? Ну, не знаю, наверное, я бы позвонила.", "example"),
        # illustrative and hypothetical numbers are no outcome (LABELS.md)
        ("en", "Say we bill a client ten thousand a month but pay freelancers seven, then profit is three.", "metric"),
        ("ru", "Допустим, клиент купил кофе за сто рублей, а за год принёс тридцать тысяч.", "metric"),
        ("en", "If we doubled the budget, we would bring in maybe 40% more leads.", "metric"),
    ],
)
def test_signals_false_friends_do_not_fire(lang, text, signal, rules, thresholds):
    assert signal not in found(text, lang, rules, thresholds)


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        # a share told about what happened is an outcome even without a change word
        ("en", "Our team's retention was 95% last year.", True),
        ("ru", "Удержание у нас было 95% в прошлом году.", True),
        ("ru", "Где-то каждый пятый клиент в год расширялся.", True),
        ("ru", "Клиенты стали рассказывать раза в два больше, чем раньше.", True),
        # how fast a result came
        ("en", "My recap said four, and that settled it in five minutes.", True),
        ("en", "I messaged their CEO and he replied within an hour.", True),
        ("en", "I'd say a third of my clients bought something extra each year.", True),
        ("ru", "Отчёт, на который раньше уходило два дня, я собрала за два часа.", True),
        # how often is no outcome: «два раза», "twice a day", «каждые две недели»
        ("ru", "Я два раза просила руководителя дать мне крупных клиентов.", False),
        ("ru", "Почту проверяю три раза в день.", False),
        ("ru", "Каждые две недели я отправляла клиенту отчёт.", False),
        ("en", "I've tried that before and ended up with two half-done things.", False),
    ],
)
def test_signals_metric_shares_durations_and_frequencies(lang, text, expected, rules):
    doc = get_nlp(lang)(text)
    hits = [f for f in detect_signals(doc, rules, lang, signals={"metric"}, weights=False) if f.score >= 0.5]
    assert bool(hits) == expected, hits


def test_signals_record_rule_id_offsets_and_score(rules):
    text = "Ну, например, клиент из ритейла."
    doc = get_nlp("ru")(text)
    hit = next(s for s in detect_signals(doc, rules, "ru") if s.signal == "example")
    assert hit.rule_id == "example.marker.v1"
    assert text[hit.start_char : hit.end_char] == "например"
    assert 0 < hit.score <= 1


def test_signals_ownership_one_vs_several_first_person_actions(rules, thresholds):
    one = found("I called the client.", "en", rules, thresholds)
    several = found("I called the client, I emailed the director and I visited their office.", "en", rules, thresholds)
    assert "ownership" not in one and "ownership" in several


@pytest.mark.parametrize("text", [
    "i rebuilt all our client dashboards and redid the weekly report",
    "I rewrote the proposal, then I retook the pitch meeting myself",
])
def test_signals_irregular_past_counts_as_an_action(text, rules):
    """English irregular pasts with a prefix ("rebuilt", "redid") are past actions too."""
    hits = detect_signals(get_nlp("en")(text), rules, "en", signals={"ownership"}, weights=False)
    assert any(h.rule_id.startswith("ownership.first_person_en") for h in hits)


def test_signals_persistence_counts_distinct_actions(rules):
    doc = get_nlp("ru")("Позвоню ему, напишу в мессенджер, потом приеду в офис и подключу руководителя.")
    hit = next(s for s in detect_signals(doc, rules, "ru", signals={"persistence"}))
    assert hit.value == 4


@pytest.mark.parametrize(
    "lang, text, value",
    [
        ("ru", "Да как кому, без фоллоуапов невозможно работать, а если клиент забудет, а если спорная ситуация?", "positive"),
        ("ru", "Да, самого бесят, если бы не было записано в регламенте компании, не писал бы.", "negative"),
        ("en", "Honestly they're tedious, and nobody reads them.", "negative"),
    ],
)
def test_signals_followup_attitude_polarity(lang, text, value, rules):
    hits = detect_signals(get_nlp(lang)(text), rules, lang, signals={"followup_attitude"})
    assert hits and hits[0].value == value


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"id": "x", "signal": "example", "lang": "ru", "phrases": ["a"]}, "id must look like"),
        ({"id": "example.x.v1", "signal": "charisma", "lang": "ru", "phrases": ["a"]}, "unknown signal"),
        ({"id": "example.x.v1", "signal": "example", "lang": "de", "phrases": ["a"]}, "lang must be"),
        ({"id": "example.x.v1", "signal": "example", "lang": "ru"}, "needs 'patterns'"),
        ({"id": "example.x.v1", "signal": "example", "lang": "ru", "kind": "magic", "phrases": ["a"]}, "unknown kind"),
    ],
)
def test_signals_invalid_rules_name_the_rule(tmp_path, rule, message):
    with pytest.raises(RubricError, match=message):
        parse_rules({"rules": [rule]}, tmp_path / "rules.yaml")


def test_signals_packaged_rules_cover_every_signal_in_both_languages(rules):
    from analyzer.rubric import ALL_SIGNALS

    for lang in ("ru", "en"):
        covered = {r.signal for r in rules.for_language(lang)}
        assert covered == set(ALL_SIGNALS), lang
    assert load_rules() is rules  # cached
