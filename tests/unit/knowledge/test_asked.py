"""The dev sets' questions shipped as probes: tied to the section holding their phrase, withheld
while their own file is measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from knowledge import asked
from knowledge.answers import prepare
from knowledge.probes import load_asked, load_negatives, load_probes
from knowledge.search import KnowledgeBase

DEV = Path("tests/data/dev")


def _write(path: Path, *items: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    return path


def test_an_answerable_question_becomes_a_probe_of_the_section_holding_its_phrase(tmp_path: Path) -> None:
    one = _write(
        tmp_path / "one.jsonl",
        {
            "q": "Le bureau doit-il donner son feu vert ?",
            "docs": ["fiche-1"],
            "any": ["ne peut en aucun cas être conditionnée"],
            "lang": "fr",
        },
        {"q": "Quel est le taux de TVA ?", "docs": [], "any": []},
        {
            "q1": "Delta G en panne",
            "q2": "et après ?",
            "docs": ["fiche-1"],
            "any": ["pour qu'il puisse clore la demande d'assistance"],
        },
    )
    rows = asked.rows([one])
    probe, negative, exchange = rows
    assert (probe["doc"], probe["section"]) == ("fiche-1", "rappels")
    assert "ne peut en aucun cas être conditionnée" in probe["answer"]
    assert probe["from"] == ["one.jsonl"]
    assert "doc" not in negative and negative["from"] == ["one.jsonl"]
    # a follow-up is shipped as the exchange the engine reads it in
    assert exchange["q"] == "Delta G en panne et après ?" and exchange["doc"] == "fiche-1"


def test_a_question_asked_in_two_files_is_one_row_withheld_from_both(tmp_path: Path) -> None:
    item = {"q": "Quel est le taux de TVA ?", "docs": [], "any": []}
    rows = asked.rows([_write(tmp_path / "a.jsonl", item), _write(tmp_path / "b.jsonl", item)])
    assert [r["from"] for r in rows] == [["a.jsonl", "b.jsonl"]]


def test_the_shared_dev_set_and_locked_sets_are_never_shipped(tmp_path: Path) -> None:
    item = {"q": "Quel est le taux de TVA ?", "docs": [], "any": []}
    locked = tmp_path / "locked"
    locked.mkdir()
    assert (
        asked.rows([_write(tmp_path / asked.SHARED, item), _write(locked / "questions-x.jsonl", item)]) == []
    )


def test_a_question_in_several_parts_or_declined_by_a_rule_is_not_shipped_as_unanswered(
    tmp_path: Path,
) -> None:
    # one part of "how long to reintegrate? and the fine if late?" is a core question: as a
    # question no section answers it would pull that core question toward declining; a fine is
    # declined by its rule without it. A follow-up's exchange stays: its fragment is what is out.
    out = {"docs": [], "any": []}
    rows = asked.rows(
        [
            _write(
                tmp_path / "one.jsonl",
                {"q": "En combien de temps réintégrer ? et si on dépasse, quelle amende ?", **out},
                {"q": "Quelle est l'amende si on réintègre en retard ?", **out},
                {"q": "Is there a maximum number of parcels per manifest?", **out},
                {"q": "Quel est le taux de TVA ?", **out},
                {"q1": "Quel délai pour réintégrer ?", "q2": "et l'amende ?", **out},
            )
        ]
    )
    assert [r["q"] for r in rows] == [
        "Quel est le taux de TVA ?",
        "Quel délai pour réintégrer ? et l'amende ?",
    ]
    # the operator's guesses are not parts of the question
    assert asked.teaches_negative("C'est quoi le délai d'anticipation max ? 48h ? 72h ?")
    assert asked.teaches_negative("Comment contester un contrôle physique ?")


def test_the_shipped_questions_are_those_of_the_dev_sets() -> None:
    # regenerate with `python -m knowledge.asked` (then the embeddings, probe words, weights)
    shipped = [
        json.loads(line) for line in Path("knowledge/index/asked.jsonl").read_text("utf-8").splitlines()
    ]
    assert shipped == asked.rows(sorted(DEV.glob("*.jsonl"))), "python -m knowledge.asked"


def test_a_dev_question_measured_with_its_file_withheld_does_not_find_itself() -> None:
    probes, _ = load_asked()
    kb = KnowledgeBase.load()
    written = len(kb.units.probes) - len(probes)
    probe = probes[0]
    seen = prepare(probe.question)
    unseen = prepare(probe.question, withheld=probe.origin[0])
    assert seen.found is not None and unseen.found is not None
    assert seen.found.probe_cosines is not None and unseen.found.probe_cosines is not None
    row = written  # the first asked probe follows the written ones
    assert kb.units.probes[row] == probe.question
    assert seen.found.probe_cosines[row] > 0.99
    assert unseen.found.probe_cosines[row] == -1.0
    hidden, _ = kb.withheld(probe.origin[0])
    assert hidden[row] and not hidden[:written].any()
    assert np.array_equal(seen.found.probe_cosines[~hidden], unseen.found.probe_cosines[~hidden])


def test_no_shipped_question_is_both_answered_and_unanswered() -> None:
    probes, negatives = load_asked()
    answered = {p.question.casefold() for p in (*load_probes(), *probes)}
    assert not answered & {q.casefold() for q, _ in negatives}
    assert not answered & {q.casefold() for q in load_negatives()}
