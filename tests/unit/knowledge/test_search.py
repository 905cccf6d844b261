"""The index: headings weigh more, named téléservices steer, coverage measures what is known."""

from __future__ import annotations

from knowledge.search import KnowledgeBase
from knowledge.services import find_services
from knowledge.text import analyse_question


def _top(question: str) -> tuple[str, str]:
    kb = KnowledgeBase.load()
    hit = kb.search(analyse_question(question), find_services(question)).hits[0]
    return hit.document.id, hit.section.id


def test_the_index_is_built_once() -> None:
    assert KnowledgeBase.load() is KnowledgeBase.load()


def test_a_heading_outweighs_a_mention_in_a_body() -> None:
    # "Comment auto-déclencher" is étape 5's heading; other steps only mention auto-déclencher.
    assert _top("Comment auto-déclencher la procédure de secours ?") == ("fiche-1", "etape-5")


def test_a_named_service_steers_to_the_document_covering_it() -> None:
    assert _top("GAMMA : puis-je déclencher la procédure de secours ?")[0] == "gamma"
    assert _top("Puis-je déclencher la procédure de secours ?")[0] == "fiche-1"


def test_an_english_question_finds_the_french_step() -> None:
    assert _top("How long do I have to reintegrate declarations?") == ("fiche-4", "etape-4-delai")


def test_coverage_is_high_for_a_domain_question_and_low_for_another() -> None:
    kb = KnowledgeBase.load()
    inside = kb.search(analyse_question("Que mettre en case 44 du DAU ?"))
    outside = kb.search(analyse_question("Quel est le meilleur restaurant de Montreuil ?"))
    assert inside.vocab_coverage == 1.0 and inside.section_coverage == 1.0
    assert outside.section_coverage < 0.5


def test_a_question_of_unknown_words_finds_nothing() -> None:
    found = KnowledgeBase.load().search(analyse_question("How do I renew my passport?"))
    assert found.vocab_coverage == 0.0


def test_a_service_named_only_in_the_portals_catalogue_is_not_one_the_fiches_speak_of() -> None:
    # the GAMMA presentation lists NSTI (NCTS) among the portal's téléservices, one line, nothing
    # of its procedures: a question about NCTS is told the fiches do not cover it
    kb = KnowledgeBase.load()
    assert "NCTS" not in kb.mentioned_services
    assert "AUBETTE" in {s.upper() for s in kb.mentioned_services}


def test_sections_of_one_step_share_a_part_and_other_steps_do_not() -> None:
    kb = KnowledgeBase.load()
    where = {(d.id, s.id): i for i, (d, s) in enumerate(kb.entries)}
    part = kb.part
    assert part[where["fiche-4", "etape-4-delai"]] == part[where["fiche-4", "etape-4-conditions"]]
    assert part[where["gamma", "ii-compte"]] == part[where["gamma", "ii-activation"]]
    assert part[where["fiche-4", "etape-4-delai"]] != part[where["fiche-4", "etape-3-depot"]]
    assert part[where["note-2023-08", "consignes"]] != part[where["note-2023-08", "reprise"]]
    # the same label in two documents is two parts
    assert part[where["fiche-1", "etape-1"]] != part[where["fiche-4", "etape-1"]]
