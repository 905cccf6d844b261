"""Finding a section of the knowledge base by its document and section ids, for tests."""

from __future__ import annotations

from knowledge.search import KnowledgeBase


def section_index(doc: str, section: str) -> int:
    """The row of ``doc#section`` in :attr:`KnowledgeBase.entries` (the order of every signal)."""
    return next(i for i, (d, s) in enumerate(KnowledgeBase.load().entries) if (d.id, s.id) == (doc, section))
