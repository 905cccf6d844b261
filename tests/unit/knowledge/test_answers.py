"""answer(): a cited passage in the question's language, context-aware, or a plain abstention."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.answers import SAU_EMAIL, SAU_PHONE, Answer, Source, answer, consider
from knowledge.evaluation import load
from knowledge.intents import instructs
from knowledge.search import KnowledgeBase
from knowledge.verdicts import verdict

DEV_QUESTIONS = Path(__file__).parents[2] / "data" / "dev" / "dev_questions.jsonl"


def test_an_answer_quotes_a_passage_and_cites_it() -> None:
    result = answer("Que mettre en case 44 du DAU ?")
    assert not result.abstained and result.lang == "fr"
    assert "50000" in result.text
    first = result.sources[0]
    assert (first.doc, first.section) == ("fiche-4", "etape-2-dau")
    assert first.ref.startswith("DGDDI, Fiche 4 – Opérateurs, Étape 2")
    assert 0 < result.confidence <= 1


def test_answer_and_source_are_frozen() -> None:
    result = answer("Que mettre en case 44 du DAU ?")
    assert isinstance(result, Answer) and isinstance(result.sources[0], Source)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]


def test_an_english_question_gets_an_english_lead_and_the_official_french_text() -> None:
    result = answer("Can I trigger the fallback procedure at night?")
    assert result.lang == "en"
    first, lead = result.text.splitlines()[:2]
    assert first.startswith("Yes: « Vous pouvez déclencher la procédure de secours 24 heures sur 24")
    assert lead.startswith("According to DGDDI")


@pytest.mark.parametrize(
    "question",
    [
        "Quelle est la météo à Lyon ce week-end ?",
        "How do I renew my passport?",
        "Recette de la tarte aux pommes",
        "Who won the football match last night?",
        "",
    ],
)
def test_out_of_scope_questions_abstain_with_the_sau_contact(question: str) -> None:
    result = answer(question)
    assert result.abstained and result.sources == []
    assert SAU_PHONE in result.text and SAU_EMAIL in result.text


def test_an_abstention_speaks_the_question_language() -> None:
    assert answer("How do I renew my passport?").text.startswith("The DGDDI fiches")
    assert answer("Comment renouveler mon passeport ?").text.startswith("Les fiches")


def test_answers_are_passages_not_documents() -> None:
    for question in (
        "Facilité OEA-F pendant la procédure de secours",
        "Comment auto-déclencher la procédure de secours ?",
        "Comment créer un compte sur Prodouane ?",
        "Puis-je auto-déclencher la procédure de secours ?",
    ):
        assert len(answer(question).text) <= 1500, question


def test_the_general_self_trigger_answer_says_where_gamma_differs() -> None:
    result = answer("Puis-je auto-déclencher la procédure de secours ?")
    assert result.sources[0].doc == "fiche-1"
    assert "Pour GAMMA" in result.text and "service des douanes qui décide" in result.text
    assert any(s.doc == "gamma" and s.section == "iv-1" for s in result.sources)


@pytest.mark.xfail(
    strict=True,
    reason="known limit (docs/ask.md, eighteenth pass): since bc-be moved to dev, step 5's probes "
    "('comment auto-déclencher…') are closer to the bare 'Puis-je auto-déclencher ?' than those of the "
    "reminders and step 3 (by 0.005-0.012 of cosine): the answer says yes and how (DA, then inform "
    "the office) and quotes step 4 (24/7), not the two cases in which it is of right",
)
def test_may_i_self_trigger_is_answered_with_the_right_and_its_two_cases() -> None:
    result = answer("Puis-je auto-déclencher la procédure de secours ?")
    assert "est de droit" in result.text or "auto-déclenchée dans deux cas" in result.text


@pytest.mark.xfail(
    strict=True,
    reason="known limit (docs/ask.md, twentieth pass): since bi-bk moved to dev, the bare 'puis-je "
    "auto-déclencher ?' (one topic word) is ranked to step 3, the right section, but declined: 0.706 "
    "against 0.71 on the session-start fit, 0.54-0.58 against 0.67 after; with 'la procédure de secours' "
    "it is answered at 0.92",
)
def test_the_bare_may_i_self_trigger_is_answered() -> None:
    assert not answer("puis-je auto-déclencher ?").abstained


def test_a_question_naming_gamma_is_answered_for_gamma() -> None:
    result = answer("GAMMA is down, can I self-trigger the fallback procedure?")
    assert result.sources[0].doc == "gamma"
    assert any(line.startswith("For GAMMA") for line in result.text.splitlines())
    assert "service douanier qui décide" in result.text


ALERT = {
    "services": ["DELTA G"],
    "modes": ["EDI", "DTI"],
    "level": "red",
    "published_at": "2024-05-02T10:15:00+02:00",
    "title": "Dysfonctionnement Delta G",
}


def test_an_open_alert_for_the_service_asked_about_comes_first() -> None:
    result = answer("Delta G ne répond plus, puis-je auto-déclencher ?", live=[ALERT])
    first_line = result.text.splitlines()[0]
    assert first_line.startswith("Une alerte est en cours pour DELTA G")
    assert "niveau rouge" in first_line and "2024-05-02 10:15" in first_line
    assert "BIP" in first_line


def test_an_alert_accepts_a_datetime_and_speaks_english() -> None:
    alert = dict(ALERT, published_at=datetime(2024, 5, 2, 8, 15, tzinfo=UTC), level=None)
    result = answer("Delta G is down, can I self-trigger?", live=[alert])
    assert result.text.startswith("An alert is open for DELTA G (EDI, DTI), published 2024-05-02 08:15")


def test_an_alert_for_another_service_is_not_mentioned() -> None:
    result = answer("GAMMA : quand la procédure de secours s'applique-t-elle ?", live=[ALERT])
    assert "alerte est en cours" not in result.text


DENIES_AUTHORISATION = [
    "Le bureau doit-il autoriser l'auto-déclenchement de la procédure de secours ?",
    "Must the customs office authorise me to switch to the fallback procedure?",
    # a known limit until the tenth pass (Étape 5 ranked first): the probes' words now find the denial
    "Le bureau doit-il m'autoriser à passer en procédure de secours ?",
]


@pytest.mark.parametrize("question", DENIES_AUTHORISATION)
def test_a_yes_no_question_the_fiche_denies_gets_no_first(question: str) -> None:
    result = answer(question)
    assert result.text.startswith(("Non : « Elle ne peut en aucun cas", "No: « Elle ne peut en aucun cas"))
    assert result.sources[0].doc == "fiche-1"


@pytest.mark.parametrize("question", [getattr(q, "values", (q,))[0] for q in DENIES_AUTHORISATION])
def test_the_sentence_that_denies_is_quoted_whatever_the_phrasing(question: str) -> None:
    assert "Elle ne peut en aucun cas être conditionnée à l'autorisation du bureau" in answer(question).text


def test_everyday_words_and_details_do_not_make_the_engine_decline() -> None:
    result = answer(
        "Il est 2h du matin un dimanche, je peux auto-déclencher la procédure de secours ou je dois attendre lundi ?"
    )
    assert not result.abstained and result.sources[0].doc == "fiche-1"


def test_a_service_no_fiche_covers_is_an_abstention_that_names_those_covered() -> None:
    result = answer("DELTA IE ne répond plus depuis 10h, je fais quoi ?")
    assert result.abstained and result.sources == []
    assert "ne traitent pas de DELTA IE" in result.text and "DELTA G" in result.text
    assert SAU_PHONE in result.text


def test_with_an_alert_open_a_question_naming_no_service_follows_it() -> None:
    result = answer("tout est planté depuis 10h, on fait quoi ?", live=[ALERT])
    assert result.text.startswith("Une alerte est en cours pour DELTA G")
    assert "suivez-la ainsi que les BIP" in result.text


def test_a_may_i_question_granted_by_the_fiche_gets_yes_first() -> None:
    result = answer("Can I trigger the fallback procedure at night?")
    assert result.text.startswith("Yes: « Vous pouvez déclencher la procédure de secours 24 heures sur 24")


def test_a_question_asking_when_gets_no_yes_or_no() -> None:
    first = answer("Quand puis-je auto-déclencher la procédure de secours ?").text.splitlines()[0]
    assert first.startswith("En bref : ")


def test_only_the_cid_publishes_alerts_reads_as_no() -> None:
    # what the engine would say, whatever the threshold makes of its confidence
    result = consider(
        "Notre transitaire peut publier lui-même une alerte sur la météo des téléservices ?"
    ).candidate
    assert result is not None
    assert result.text.startswith(
        "Non : « La publication d'une alerte sur la météo informatique ne peut être effectuée que par le CID."
    )


def test_a_how_long_question_leads_with_the_delay() -> None:
    first = answer("How long do I have to reintegrate declarations into Delta X?").text.splitlines()[0]
    assert "sous 24 heures après le message de fin d'alerte" in first


def test_a_box_is_answered_with_what_to_write_in_it() -> None:
    first = answer("What goes in box 31 of the SAD during the fallback procedure?").text.splitlines()[0]
    assert first.startswith("In short: « en case 31 du DAU E/S : le numéro de la demande d'assistance")
    assert "cachet spécial" in first


def test_an_answer_stays_within_about_1200_characters() -> None:
    for question in (
        "Que mettre en case 31 du DAU ?",
        "Comment créer un compte sur Prodouane ?",
        "GAMMA : formulaire d'adhésion ?",
    ):
        assert len(answer(question).text) <= 1250, question


def test_a_yes_no_question_leads_with_the_sentence_that_says_no() -> None:
    result = answer("Faut-il une autorisation du bureau pour la facilité OEA ?")
    assert result.text.startswith("Non : « Bien qu'aucune autorisation ne soit requise pour en bénéficier")


@pytest.mark.parametrize(
    ("sentence", "question", "said"),
    [
        (
            "La publication d'une alerte ne peut être effectuée que par le CID.",
            "Notre transitaire peut publier une alerte ?",
            "no",
        ),
        (
            "Vous pouvez déclencher la procédure de secours 24 heures sur 24.",
            "Can I trigger it at night?",
            "yes",
        ),
        (
            "Elle ne peut en aucun cas être conditionnée à l'autorisation du bureau.",
            "Le bureau doit-il m'autoriser ?",
            "no",
        ),
        # a sentence that lifts an obligation does not forbid: no "non" to a "may I" question
        (
            "Elle ne peut en aucun cas être conditionnée à l'autorisation du bureau.",
            "Puis-je auto-déclencher ?",
            None,
        ),
        (
            "Le passage en procédure de secours n'est pas nécessaire.",
            "Je dois quand même passer en secours ?",
            "no",
        ),
        ("Vous pouvez déclencher la procédure de secours.", "Quand puis-je déclencher ?", None),
        (
            "Les déclarations doivent être réintégrées sous 24 heures.",
            "Dois-je réintégrer mes déclarations ?",
            None,
        ),
        # "aucun X ne doit" lifts the obligation as "ne doit pas" does
        ("Aucun message de « scan » ne doit être transmis.", "Doit-on envoyer des messages de scan ?", "no"),
        # "en tant qu'OEA" is a conjunction, not "qu'est-ce que": still a yes/no question
        ("Aucune autorisation n'est pas nécessaire.", "En tant qu'OEA, faut-il une autorisation ?", "no"),
        ("Aucune autorisation n'est pas nécessaire.", "Qu'est-ce qu'il faut comme autorisation ?", None),
    ],
)
def test_what_a_sentence_says_to_a_yes_no_question(sentence: str, question: str, said: str | None) -> None:
    assert verdict(sentence, question) == said


def test_a_may_i_question_is_not_answered_no_by_a_sentence_about_something_else() -> None:
    first = answer("Delta X export en panne, puis-je auto-déclencher ?").text.splitlines()[0]
    assert not first.startswith("Non")


def test_a_yes_no_question_leads_with_the_sentence_that_says_no_even_if_ranked_low() -> None:
    question = "Pour l'inscription dans nos écritures en tant qu'OEA pendant la panne, faut-il une autorisation du bureau ?"
    assert answer(question).text.startswith("Non : « Bien qu'aucune autorisation ne soit requise")


def test_a_fragment_is_read_in_the_language_of_its_exchange() -> None:
    result = answer("and by phone?", previous="Where do I check whether customs has published an alert?")
    assert not result.abstained and result.lang == "en"
    assert "09 702 80 100" in result.text.splitlines()[0]


def test_a_fragment_naming_the_other_flow_switches_the_service() -> None:
    # what the fragment is read as, whether or not the evidence is strong enough to answer
    considered = consider("same for export", previous="Delta X import en panne, que faire ?")
    assert considered.candidate is not None
    text = considered.candidate.text
    assert "DELTA X Export" in text and "DELTA X Import" not in text


def test_a_what_to_do_question_is_given_the_section_that_gives_instructions() -> None:
    # the note's opening describes the interruption; its next section says what to do during it
    considered = consider("On fait quoi pendant la coupure programmée des téléservices ?")
    assert considered.candidate is not None
    source = considered.candidate.sources[0]
    assert (source.doc, source.section) == ("note-2023-08", "consignes")


@pytest.mark.xfail(
    strict=True,
    reason="known limit (docs/ask.md): since the twelfth pass the right section is chosen but declined "
    "(0.30 against 0.64 with the fourteenth pass's trees, 0.56 against 0.70 before): 'la coupure "
    "programmée' names no date, and the dev sets' questions about "
    "other planned cuts, shipped as near-domain questions, sit close to it",
)
def test_a_what_to_do_question_about_the_planned_interruption_is_answered() -> None:
    assert not answer("On fait quoi pendant la coupure programmée des téléservices ?").abstained


def test_a_follow_up_asks_something_new_about_the_same_subject() -> None:
    # a known limit from the tenth pass to the thirteenth (declined at 0.43, then 0.64-0.69 against
    # 0.70: the two cases that give a mention split the ranking); the fourteenth pass's trees answer
    # it at 0.72 against 0.64
    # "which mention?" after a question on the reintegration delay: the mention, not the delay again
    result = answer(
        "avec quelle mention ?", previous="Dans quel délai faut-il réintégrer les déclarations de secours ?"
    )
    first = result.text.splitlines()[0]
    assert not result.abstained and "mention spéciale" in first and "24 heures" not in first
    # which mention (50000, or 52000 after a physical check) depends on the case the fragment does
    # not name; the fitted ranking has chosen either over the refits
    assert "50000" in result.text or "52000" in result.text


def test_instructions_are_told_from_descriptions() -> None:
    assert instructs("Déposez une demande d'assistance (DA) sur le site Prodouane")
    assert instructs("Pour cela, cliquez sur l'onglet « météo des téléservices »")
    assert instructs("Vous êtes invités à reporter au maximum vos opérations de dédouanement.")
    assert not instructs("Les services en ligne seront interrompus durant cette plage horaire.")
    assert not instructs("Nous vous informons qu'une opération de maintenance est prévue le 8 août.")


def test_a_price_asked_of_a_section_that_names_none_is_missing_evidence() -> None:
    from knowledge.decline import value_missing
    from knowledge.intents import Intent

    assert value_missing(Intent(amount=True), "Les adhésions sont instruites par le bureau.") == 1.0
    assert value_missing(Intent(amount=True), "dont la valeur n'excède pas 22 euros") == 0.0
    assert value_missing(Intent(contact=True), "appelez le SAU du CID (09 702 80 100)") == 0.0
    assert value_missing(Intent(), "Les adhésions sont instruites par le bureau.") == 0.0
    assert value_missing(None, "") == 0.0


@pytest.mark.parametrize(
    "question",
    ["Y a-t-il des frais pour déposer une demande d'assistance ?", "Is there a fee to join GAMMA?"],
)
def test_a_question_about_a_fee_the_fiches_never_name_is_declined(question: str) -> None:
    assert answer(question).abstained


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("One assistance request for both Delta G and Delta X Import is fine, right?", "etape-5"),
        (
            "Our declarations went through fine but no BAE for two hours, none under control: can we self-trigger?",
            "etape-3",
        ),
    ],
)
def test_fine_the_adjective_does_not_make_a_question_ask_for_a_fine(question: str, section: str) -> None:
    # "fine" read as a penalty made the engine decline outright: no section names an amount
    result = answer(question)
    assert not result.abstained
    assert (result.sources[0].doc, result.sources[0].section) == ("fiche-1", section)


def test_a_question_typed_without_accents_finds_the_section_headed_by_its_words() -> None:
    # "mainlevee" read as the stem "mainleve" matched no heading, and the "how do I obtain X" rule
    # declined the question; with the fiches' accents restored it is « mainlevée »
    result = answer("comment obtenir la mainlevee si la marchandise n est pas dans des locaux agrees ?")
    assert not result.abstained
    assert (result.sources[0].doc, result.sources[0].section) == ("fiche-4", "etape-3-mainlevee")


def test_when_a_principle_and_its_scenario_are_close_both_answering_sentences_are_quoted() -> None:
    # fiche 9: the principle ("the provider tells customs through OLGA") and the scenario that
    # details it ("…and gives the full list of its clients") sit close; the operator reads both
    result = answer(
        "Le système de notre client transporteur est en panne, que doit faire le prestataire ICS ?"
    )
    assert not result.abstained
    assert {s.section for s in result.sources[:2]} == {"scenario-1", "principes"}
    assert "Voir aussi" in result.text


def test_see_also_never_repeats_what_the_chosen_section_says() -> None:
    kb = KnowledgeBase.load()
    seen = 0
    for item in load(DEV_QUESTIONS):
        result = consider(item["q"]).candidate
        if result is None or not ("Voir aussi" in result.text or "See also" in result.text):
            continue
        seen += 1
        chosen = kb.by_doc[result.sources[0].doc].section(result.sources[0].section)
        line = next(x for x in result.text.splitlines() if x.startswith(("Voir aussi", "See also")))
        also = line.split("« ", 1)[1].rsplit(" »", 1)[0]
        assert also not in chosen.body, item["q"]
        assert len(result.text) <= 1200, item["q"]
    assert seen  # the dev questions do exercise it


@pytest.mark.parametrize(
    "question",
    [
        "Quel est le numéro du SAU ?",
        "What is the CID helpdesk phone number?",
        "numéro de téléphone du SAU du CID ?",
    ],
)
def test_the_helpdesk_number_is_given_whichever_step_holds_it(question: str) -> None:
    # three steps of fiche 1 give it: the ranking splits between them, and they agree
    result = answer(question)
    assert not result.abstained and result.sources[0].doc == "fiche-1"
    assert SAU_PHONE in result.text
