"""A section holding a sentence that says yes or no to a yes/no question is a ranking signal."""

from __future__ import annotations

import numpy as np

from knowledge.answers import prepare
from knowledge.ranking import FEATURES
from knowledge.search import KnowledgeBase
from knowledge.verdicts import verdict

SIGNAL = FEATURES.index("says_yes_or_no")


def _signal(question: str) -> dict[str, float]:
    found = prepare(question).found
    assert found is not None
    kb = KnowledgeBase.load()
    return {f"{d.id}#{s.id}": float(v) for (d, s), v in zip(kb.entries, found.features[:, SIGNAL], strict=True)}


def test_the_reminder_that_denies_the_bureau_a_say_answers_a_must_question() -> None:
    signal = _signal("Le bureau doit-il m'autoriser à passer en procédure de secours ?")
    assert signal["fiche-1#rappels"] > 0.3  # "ne peut en aucun cas être conditionnée à l'autorisation…"
    assert signal["fiche-1#etape-5"] == 0  # informs the bureau, says neither yes nor no to "must it authorise"


def test_a_question_that_asks_for_no_yes_or_no_gets_no_such_signal() -> None:
    signal = _signal("Quand puis-je auto-déclencher la procédure de secours ?")
    assert not np.any(list(signal.values()))


OEA_NOTICE = (
    "Bien qu'aucune autorisation ne soit requise pour en bénéficier, le bureau de douane doit en outre "
    "être préalablement informé du recours à cette facilité."
)
EVN = (
    "Les déclarations liées à des envois de valeur négligeable (EVN) dont la valeur n'excède pas 22 euros "
    "ne doivent pas faire l'objet d'une réintégration mais doivent être conservées dans la comptabilité "
    "matière de l'opérateur."
)


def test_a_sentence_lifting_one_obligation_says_no_only_to_that_one() -> None:
    # it lifts the authorisation and imposes informing the bureau
    assert verdict(OEA_NOTICE, "Faut-il une autorisation ?") == "no"
    assert verdict(OEA_NOTICE, "Is an authorisation required?") == "no"
    assert verdict(OEA_NOTICE, "Do we need to inform the customs office?") is None
    assert verdict(OEA_NOTICE, "Doit-on informer le bureau avant d'utiliser la facilité ?") is None
    assert verdict(OEA_NOTICE, "Faut-il une autorisation pour utiliser la facilité ?") == "no"


def test_the_obligation_lifted_is_read_in_either_language() -> None:
    assert verdict(EVN, "Faut-il réintégrer les EVN ?") == "no"
    assert verdict(EVN, "Must EVN declarations be reintegrated?") == "no"
    # the sentence's subject is in the clause that lifts; what is asked is in the one that imposes
    assert verdict(EVN, "Doit-on conserver les déclarations EVN ?") is None
