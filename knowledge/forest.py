"""The decline model's trees, evaluated with numpy: gradient-boosted, every split monotone.

Whether an answer is right is not a weighted sum of its evidence. A section that wins the ranking
by a wide margin is convincing when the question's words are the fiche's and its probes agree,
and much less so when the margin comes from a single rare word; a logistic regression over the
signals of :mod:`knowledge.decline` cannot say "this, but only when that". Boosted trees can. On
the 5,548 dev questions, each file answered by a model fitted on the others, they cut the cost the
threshold minimises (declined right answers + 2 × wrong answers given) from 404 to about 380,
mostly by declining fewer answerable questions (146 → 105).

Every split is constrained to be monotone increasing in its signal, as the logistic model's
coefficients were kept non-negative: more evidence never lowers the confidence, so correlated
signals cannot combine into a confident answer where the evidence is weak.

The forest is fitted offline by scikit-learn's ``HistGradientBoostingClassifier`` (a development
dependency, used by :mod:`knowledge.fitting` only) and shipped in ``weights.json`` as flat node
arrays; answering needs only numpy. :meth:`Forest.of_sklearn` reads the fitted trees, and a test
checks that :meth:`Forest.predict` gives scikit-learn's probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Forest"]


@dataclass(frozen=True, slots=True, eq=False)
class Forest:
    """Trees stored as flat node arrays (every tree's nodes one after another)."""

    #: the raw score before any tree (the log-odds of the training set's share of right answers)
    baseline: float
    #: the node each tree starts at
    roots: np.ndarray
    #: the signal a node splits on (0 at a leaf)
    feature: np.ndarray
    #: a value at or below it goes left
    threshold: np.ndarray
    #: where a missing value (NaN) goes
    missing_left: np.ndarray
    #: the nodes a split leads to (-1 at a leaf)
    left: np.ndarray
    right: np.ndarray
    #: a leaf's contribution to the raw score (learning rate included)
    value: np.ndarray
    #: the longest path from a root to a leaf
    depth: int

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The raw score (log-odds) of each row of ``x`` (questions × signals)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            inner = self.left[node] >= 0
            if not inner.any():
                break
            seen = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(seen), self.missing_left[node], seen <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return np.asarray(self.baseline + self.value[node].sum(axis=1), dtype=np.float64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The probability that each row's answer is right."""
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(self.raw(x), -50.0, 50.0))))

    def as_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "depth": self.depth,
            "roots": self.roots.tolist(),
            "feature": self.feature.tolist(),
            "threshold": [float(t) for t in self.threshold],
            "missing_left": [int(m) for m in self.missing_left],
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": [float(v) for v in self.value],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Forest:
        return cls(
            baseline=float(data["baseline"]),
            roots=np.asarray(data["roots"], dtype=np.int64),
            feature=np.asarray(data["feature"], dtype=np.int64),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            missing_left=np.asarray(data["missing_left"], dtype=bool),
            left=np.asarray(data["left"], dtype=np.int64),
            right=np.asarray(data["right"], dtype=np.int64),
            value=np.asarray(data["value"], dtype=np.float64),
            depth=int(data["depth"]),
        )

    @classmethod
    def of_sklearn(cls, model: Any) -> Forest:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (numerical signals).

        scikit-learn exposes no public export of these trees: their nodes are read from the
        fitted predictors, and the shipped version is pinned in ``constraints.txt``; the test
        comparing :meth:`predict` with ``predict_proba`` catches any change of that layout.
        """
        roots: list[int] = []
        parts: list[np.ndarray] = []
        offset = 0
        depth = 0
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            roots.append(offset)
            parts.append(nodes)
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)
        nodes = np.concatenate(parts)
        shift = np.repeat(np.array(roots), [len(p) for p in parts])
        leaf = nodes["is_leaf"].astype(bool)
        return cls(
            baseline=float(np.asarray(model._baseline_prediction).ravel()[0]),
            roots=np.array(roots, dtype=np.int64),
            feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64),
            threshold=nodes["num_threshold"].astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(leaf, -1, nodes["left"].astype(np.int64) + shift),
            right=np.where(leaf, -1, nodes["right"].astype(np.int64) + shift),
            value=np.where(leaf, nodes["value"], 0.0).astype(np.float64),
            depth=depth,
        )
