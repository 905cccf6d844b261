"""Fitting the answer engine's numbers on the dev question sets: ``python -m knowledge.fitting``.

Three small models: the ranker and the sentence model plain numpy, the decline model boosted trees
fitted by scikit-learn (a development dependency; answering reads the trees with numpy):

1. **The ranker** (:mod:`knowledge.ranking`): a softmax over the sections of a linear score of
   their signals. A section is right for a question when its document is one the question accepts
   and it holds one of the phrases the answer must quote; the fit maximises the probability given
   to the right sections (L2-regularised gradient descent).
2. **The decline model** (:mod:`knowledge.decline`, :mod:`knowledge.forest`): gradient-boosted
   trees, monotone in every signal, giving the probability that "the answer the
   engine would give is right" (the checker's verdict: right document first, a required phrase
   quoted) on the evidence about the chosen section. Its rows are *cross-fitted*: the evidence for
   the questions of one dev file comes from a ranker fitted on the other files, so the decline
   model learns how the ranker behaves on questions it has not seen — as on an operator's.
   The logistic regression it replaced is still fitted, for the report: its cross-validated cost
   beside the trees' says what the trees earn.

The threshold is the one that minimises, over the out-of-fold probabilities, the in-scope questions
declined plus :data:`WRONG_COST` times the wrong answers given (an answer out of scope is wrong),
among the thresholds at which the shipped model still meets the contracts of :data:`FLOORS` (the
shared dev set's 0.95 that ``shared/checks/qa_eval.py`` enforces). The cost curve is nearly flat
over a wide range, so the contract decides between thresholds the cost cannot tell apart; the fit
prints when it did.

Only dev sets are read (``tests/data/dev/*.jsonl`` by default): the locked sets are measured by
``bench/answers.py`` and never fitted on. The result goes to ``knowledge/index/weights.json``
with the cross-validated figures and a calibration table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge import decline, quoting, ranking
from knowledge.answers import CONTEXT_MARGIN, Prepared, decide, prepare
from knowledge.embeddings import digest, units
from knowledge.evaluation import is_followup, norm, verdict
from knowledge.forest import Forest
from knowledge.search import KnowledgeBase
from knowledge.weights import Weights, save

WRONG_COST = 2.0  # a wrong answer given costs this many answerable questions declined
#: dev files whose accuracy is a contract the shipped model must keep (in sample)
FLOORS: Mapping[str, float] = {"dev_questions.jsonl": 0.95}
#: how far under the last confidence a floor needs the threshold stays: the contract's checker may
#: run on another CPU, whose kernels round the question's embedding differently in the last digits
FLOOR_MARGIN = 0.02
RANKER_L2 = 0.01
DECLINE_L2 = 0.01
#: the boosted trees' settings: shallow trees, many examples per leaf, a slow learning rate (on the
#: dev questions, 150 trees of depth 4 cost 378 where the logistic model costs 404; deeper, wider or
#: more trees do no better). No early stopping: the fit is deterministic.
FOREST = {
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    data: Mapping[str, Any]
    prepared: Prepared
    #: 1 for each section that holds a required phrase in an accepted document (in-scope only)
    right_sections: np.ndarray
    #: for each right section holding the phrase in one of its sentences: (signals, 0/1 per sentence)
    sentences: tuple[tuple[np.ndarray, np.ndarray], ...]


def load_items(paths: Sequence[Path]) -> list[Item]:
    kb = KnowledgeBase.load()
    texts = [norm(f"{s.heading} {s.body}") for _, s in kb.entries]
    items = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            if is_followup(data):
                prepared = prepare(str(data["q2"]), previous=str(data["q1"]), withheld=path.name)
            else:
                prepared = prepare(str(data["q"]), withheld=path.name)
            phrases = [norm(p) for p in data.get("any") or []]
            right = np.array(
                [
                    float(doc.id in data["docs"] and any(p in text for p in phrases))
                    for (doc, _), text in zip(kb.entries, texts, strict=True)
                ]
            )
            items.append(Item(path.name, data, prepared, right, _sentence_rows(kb, prepared, right, phrases)))
    return items


def _sentence_rows(
    kb: KnowledgeBase, prepared: Prepared, right: np.ndarray, phrases: Sequence[str]
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    if prepared.found is None:
        return ()
    rows = []
    for section in np.nonzero(right)[0]:
        indices, x = quoting.sentence_features(
            kb, prepared.found, prepared.asked.query, int(section), prepared.intent.time
        )
        y = np.array([float(any(p in norm(kb.units.sentence_quote[j]) for p in phrases)) for j in indices])
        if y.any():
            rows.append((x, y))
    return tuple(rows)


def fit_ranker(
    features: np.ndarray, right: np.ndarray, l2: float = RANKER_L2, steps: int = 3000
) -> np.ndarray:
    """Weights maximising the softmax probability of the right sections.

    ``features`` is (questions, sections, signals), ``right`` (questions, sections) of 0/1, each
    question having at least one right section.
    """
    return _softmax_fit(features, right, None, l2, steps)


def fit_sentences(
    rows: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = RANKER_L2, steps: int = 3000
) -> np.ndarray:
    """Weights maximising the softmax probability, among a section's sentences, of those quoting
    a required phrase (sections padded to one length, the padding masked out)."""
    width = max(len(y) for _, y in rows)
    n_features = rows[0][0].shape[1]
    x = np.zeros((len(rows), width, n_features))
    right = np.zeros((len(rows), width))
    mask = np.full((len(rows), width), -np.inf)
    for i, (xi, yi) in enumerate(rows):
        x[i, : len(yi)] = xi
        right[i, : len(yi)] = yi
        mask[i, : len(yi)] = 0.0
    return _softmax_fit(x, right, mask, l2, steps)


def _softmax_fit(
    features: np.ndarray, right: np.ndarray, mask: np.ndarray | None, l2: float, steps: int
) -> np.ndarray:
    """Gradient descent on the mean negative log of the softmax mass of the right options.

    Run in float32 on a (signals, questions × options) copy: both products of a step are then one
    contiguous matrix-vector product, two to three times faster than float64 ``einsum`` on the
    5,500 dev questions (the cross-fit runs this once per dev file, and took 40 minutes). The
    weights differ from float64's by about float32's rounding (2e-7 relative).
    """
    n, width, n_features = features.shape
    flat = np.ascontiguousarray(features.reshape(n * width, n_features).T, dtype=np.float32)
    right32 = right.astype(np.float32)
    w = np.zeros(n_features, dtype=np.float32)
    for _ in range(steps):
        z = (w @ flat).reshape(n, width)
        if mask is not None:
            z += mask
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        q = p * right32
        q /= q.sum(axis=1, keepdims=True)
        grad = flat @ (p - q).reshape(-1) / n + np.float32(l2) * w
        w -= np.float32(0.1) * grad
    return w.astype(np.float64)


@dataclass(frozen=True, slots=True)
class Logistic:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = DECLINE_L2, steps: int = 5000, monotone: bool = True
) -> Logistic:
    """Logistic regression on standardised signals; with ``monotone``, every coefficient is kept
    non-negative: more evidence never lowers the confidence (correlated signals cannot cancel
    each other into a confident answer where the evidence is weak)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    coef = np.zeros(x.shape[1])
    bias = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ coef + bias)))
        coef -= 0.5 * (z.T @ (p - y) / len(y) + l2 * coef)
        if monotone:
            np.maximum(coef, 0.0, out=coef)
        bias -= 0.5 * float((p - y).mean())
    return Logistic(mean, scale, coef, bias)


class DeclineModel(Protocol):
    def predict(self, x: np.ndarray) -> np.ndarray: ...


def fit_forest(x: np.ndarray, y: np.ndarray) -> Forest:
    """Boosted trees (:data:`FOREST`), every split monotone increasing in its signal: more evidence
    never lowers the confidence."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # fit time only: a dev dependency

    model = HistGradientBoostingClassifier(monotonic_cst=[1] * x.shape[1], **FOREST)
    model.fit(x, y.astype(int))
    return Forest.of_sklearn(model)


def _weights(
    ranker: np.ndarray,
    sentence: np.ndarray,
    model: Forest | Logistic | None,
    threshold: float,
    embeddings: str,
) -> Weights:
    def floats(values: Sequence[float] | np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in values)

    n = len(decline.FEATURES)
    if model is None:  # answer everything: to see what the engine would say
        return Weights(
            floats(ranker), floats(sentence), (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, -1.0, embeddings
        )
    if isinstance(model, Forest):
        return Weights(floats(ranker), floats(sentence), (), (), (), 0.0, threshold, embeddings, forest=model)
    return Weights(
        floats(ranker),
        floats(sentence),
        floats(model.mean),
        floats(model.scale),
        floats(model.coef),
        float(model.bias),
        threshold,
        embeddings,
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One question as the decline model sees it: evidence, whether the answer is right, in scope.

    ``evidence`` is None when a rule declined the question before any section was weighed.
    """

    file: str
    evidence: np.ndarray | None
    right: bool
    in_scope: bool
    #: whether the ranker's first section holds a required phrase (None: out of scope or unreachable)
    ranked_right: bool | None = None
    #: a complete question asked after another, read in that question's context: the engine keeps
    #: that reading when its probability beats this one's by :data:`CONTEXT_MARGIN`
    context: Row | None = None


def cross_fitted_rows(items: Sequence[Item], embeddings: str) -> list[Row]:
    """Evidence for each question from a ranker and a sentence model fitted without its file."""
    rows: list[Row] = []
    trainable = [it for it in items if it.prepared.found is not None and it.right_sections.any()]
    for name in sorted({it.file for it in items}):
        train = [it for it in trainable if it.file != name]
        w = fit_ranker(
            np.stack([_found(it).features for it in train]), np.stack([it.right_sections for it in train])
        )
        sentence = fit_sentences([row for it in train for row in it.sentences])
        answering = _weights(w, sentence, None, -1.0, embeddings)
        for it in items:
            if it.file != name:
                continue
            row = _row(it, replace(it.prepared, in_context=None), answering, w)
            if it.prepared.in_context is not None:
                row = replace(row, context=_row(it, it.prepared.in_context, answering, w))
            rows.append(row)
    return rows


def _row(it: Item, prepared: Prepared, answering: Weights, ranker: np.ndarray) -> Row:
    """One reading of a question as the decline model sees it."""
    in_scope = bool(it.data["docs"])
    considered = decide(prepared, answering)
    if considered.candidate is None or considered.evidence is None or prepared.found is None:
        return Row(it.file, None, False, in_scope)  # declined by a rule
    ranked = None
    if it.right_sections.any():
        ranked = bool(it.right_sections[int(np.argmax(prepared.found.features @ ranker))] > 0)
    ok = verdict(it.data, considered.candidate) == "right"
    return Row(it.file, considered.evidence, ok, in_scope, ranked)


def readings(rows: Sequence[Row]) -> list[Row]:
    """Every weighed reading: each question's own, and a complete follow-up's in context."""
    out = []
    for r in rows:
        out += [x for x in (r, r.context) if x is not None and x.evidence is not None]
    return out


def _found(it: Item) -> ranking.Signals:
    assert it.prepared.found is not None
    return it.prepared.found


def _predicted(model: DeclineModel, row: Row) -> float:
    return 0.0 if row.evidence is None else float(model.predict(row.evidence[None, :])[0])


def _evidence(rows: Sequence[Row]) -> np.ndarray:
    return np.stack([r.evidence for r in rows if r.evidence is not None])


def out_of_fold(
    rows: Sequence[Row], fit_model: Callable[[np.ndarray, np.ndarray], DeclineModel] = fit_forest
) -> tuple[list[Row], np.ndarray]:
    """Each question's reading and its probability from a decline model fitted without its file
    (0 for one declined by a rule): of a complete follow-up's two readings, the one the engine
    keeps (:data:`knowledge.answers.CONTEXT_MARGIN`)."""
    kept = list(rows)
    probs = np.zeros(len(rows))
    for name in sorted({r.file for r in rows}):
        train = [r for r in readings(rows) if r.file != name]
        model = fit_model(_evidence(train), np.array([float(r.right) for r in train]))
        for i, r in enumerate(rows):
            if r.file != name:
                continue
            probs[i] = _predicted(model, r)
            together = _predicted(model, r.context) if r.context is not None else 0.0
            if r.context is not None and together > probs[i] + CONTEXT_MARGIN:
                kept[i], probs[i] = r.context, together
    return kept, probs


#: the cost is averaged over thresholds this many hundredths either side. On dev (8,068 questions,
#: cross-validated) the cost stays within 5 % of its lowest from 0.55 to 0.79, and the threshold a
#: 3-hundredths window chose wandered with each refit (0.67, 0.61, 0.59, 0.71, 0.74); over 30
#: bootstrap resamples of the same rows it ranged 0.57-0.76 (10th-90th percentile, std 0.085) with
#: 3, 0.65-0.70 (std 0.036) with 12, at the same cost (450 vs 453)
THRESHOLD_WINDOW = 12


def cost(rows: Sequence[Row], probs: np.ndarray, threshold: float) -> float:
    """Answerable questions declined + :data:`WRONG_COST` × wrong answers given, at ``threshold``."""
    weighed = np.array([r.evidence is not None for r in rows])
    right = np.array([r.right for r in rows])
    answered = (probs >= threshold) & weighed
    return float(np.sum(right & ~answered) + WRONG_COST * np.sum(answered & ~right))


def choose_threshold(rows: Sequence[Row], probs: np.ndarray, highest: float = 1.0) -> float:
    """The threshold minimising declined-right answers + WRONG_COST × wrong answers given.

    The cost curve is flat over a wide range (each step trades about one right answer for one
    wrong one), so it is averaged over a wide window first (:data:`THRESHOLD_WINDOW`): the
    threshold then sits in the middle of the low stretch rather than on whichever few questions
    tip it, and does not jump between fits.
    """
    grid = [round(0.05 + 0.01 * k, 2) for k in range(91)]
    costs = [cost(rows, probs, t) for t in grid]
    smooth = [
        sum(costs[max(0, i - THRESHOLD_WINDOW) : i + THRESHOLD_WINDOW + 1])
        / len(costs[max(0, i - THRESHOLD_WINDOW) : i + THRESHOLD_WINDOW + 1])
        for i in range(len(grid))
    ]
    allowed = [i for i, t in enumerate(grid) if t <= highest] or [0]
    return grid[min(allowed, key=lambda i: smooth[i])]


def keeping(
    floor: float, total: int, fixed: int, right_at: Sequence[float], wrong_out: Sequence[float]
) -> float:
    """The highest threshold (less :data:`FLOOR_MARGIN`) that keeps a file of ``total`` questions at
    ``floor``: ``fixed`` are right whatever the threshold, ``right_at`` are right when answered
    (their confidences), ``wrong_out`` are right when declined.

    A floor no threshold reaches (the ranking misses too many) still bounds the threshold, at the
    best score any threshold gives, rather than not at all.
    """
    grid = sorted({round(0.05 + 0.01 * k, 2) for k in range(91)}, reverse=True)
    scores = [fixed + sum(c >= t for c in right_at) + sum(c < t for c in wrong_out) for t in grid]
    need = min(int(np.ceil(floor * total - 1e-9)), max(scores))
    return next(round(t - FLOOR_MARGIN, 2) for t, score in zip(grid, scores, strict=True) if score >= need)


def highest_threshold(items: Sequence[Item], weights: Weights) -> float:
    """The highest threshold at which ``weights`` keep every file of :data:`FLOORS` at its floor,
    less :data:`FLOOR_MARGIN`.

    Each question of those files is answered by the shipped model (in sample, as the contract's
    checker will ask it); a threshold above the confidence of a right answer declines it.
    """
    answering = replace(weights, threshold=-1.0)
    highest = 1.0
    for name, floor in FLOORS.items():
        mine = [it for it in items if it.file == name]
        if not mine:
            continue
        fixed = 0  # right whatever the threshold: declined by a rule out of scope
        right_at: list[float] = []  # confidences of answers right only when given
        wrong_out: list[float] = []  # out of scope: right only when declined
        for it in mine:
            considered = decide(it.prepared, answering)
            candidate = considered.candidate
            if candidate is None:
                fixed += not it.data["docs"]
            elif it.data["docs"]:
                if verdict(it.data, candidate) == "right":
                    right_at.append(candidate.confidence)
            else:
                wrong_out.append(candidate.confidence)
        highest = min(highest, keeping(floor, len(mine), fixed, right_at, wrong_out))
    return highest


def calibration(probs: np.ndarray, right: Sequence[bool]) -> list[dict[str, Any]]:
    """Per confidence bin: how many answers, and the share that were right."""
    table = []
    flags = np.array(right, dtype=bool)
    for lo, hi in zip(CALIBRATION_BINS, CALIBRATION_BINS[1:], strict=False):
        inside = (probs >= lo) & (probs < hi)
        n = int(inside.sum())
        table.append(
            {
                "bin": f"{lo:.1f}-{min(hi, 1.0):.1f}",
                "n": n,
                "right": round(float(flags[inside].mean()), 3) if n else None,
                "mean_confidence": round(float(probs[inside].mean()), 3) if n else None,
            }
        )
    return table


def figures(rows: Sequence[Row], probs: np.ndarray, threshold: float) -> dict[str, Any]:
    """Accuracy as the checker counts it, when each row's answer is given at ``probs >= threshold``."""
    answered = [r.evidence is not None and p >= threshold for r, p in zip(rows, probs, strict=True)]
    in_scope = [(r, a) for r, a in zip(rows, answered, strict=True) if r.in_scope]
    out = [(r, a) for r, a in zip(rows, answered, strict=True) if not r.in_scope]
    right = sum(1 for r, a in in_scope if a and r.right) + sum(1 for _, a in out if not a)
    ranked = [r.ranked_right for r in rows if r.ranked_right is not None]
    return {
        "accuracy": round(right / len(rows), 4) if rows else None,
        "in_scope": f"{sum(1 for r, a in in_scope if a and r.right)}/{len(in_scope)}",
        "out_of_scope": f"{sum(1 for _, a in out if not a)}/{len(out)}",
        "wrong_answers_given": sum(1 for r, a in zip(rows, answered, strict=True) if a and not r.right),
        "right_if_never_declined": f"{sum(1 for r, _ in in_scope if r.right)}/{len(in_scope)}",
        "ranker_first_section_right": f"{sum(ranked)}/{len(ranked)}",
    }


def summary(rows: Sequence[Row], probs: np.ndarray, threshold: float) -> dict[str, Any]:
    weighed = [i for i, r in enumerate(rows) if r.evidence is not None]
    wrong = [float(probs[i]) for i in weighed if not rows[i].right and probs[i] >= threshold]
    return {
        **figures(rows, probs, threshold),
        "max_wrong_confidence": round(max(wrong, default=0.0), 3),
        "files": {
            name: figures(
                [r for r in rows if r.file == name], probs[[r.file == name for r in rows]], threshold
            )
            for name in sorted({r.file for r in rows})
        },
        "calibration": calibration(probs[weighed], [rows[i].right for i in weighed]),
    }


def fit(paths: Sequence[Path]) -> Weights:
    kb = KnowledgeBase.load()
    embeddings = digest(units(kb.documents))
    items = load_items(paths)
    every = cross_fitted_rows(items, embeddings)
    rows, probs = out_of_fold(every)
    trainable = [it for it in items if it.prepared.found is not None and it.right_sections.any()]
    ranker = fit_ranker(
        np.stack([_found(it).features for it in trainable]), np.stack([it.right_sections for it in trainable])
    )
    sentence = fit_sentences([row for it in trainable for row in it.sentences])
    weighed = readings(every)
    model = fit_forest(_evidence(weighed), np.array([float(r.right) for r in weighed]))
    linear_rows, linear_probs = out_of_fold(every, fit_logistic)
    linear_threshold = choose_threshold(linear_rows, linear_probs)
    unconstrained = choose_threshold(rows, probs)
    highest = highest_threshold(items, _weights(ranker, sentence, model, unconstrained, embeddings))
    threshold = choose_threshold(rows, probs, highest)
    report = {
        "fitted": dt.date.today().isoformat(),
        "dev_files": sorted({it.file for it in items}),
        "ranker_features": list(ranking.FEATURES),
        "sentence_features": list(quoting.FEATURES),
        "decline_features": list(decline.FEATURES),
        "wrong_cost": WRONG_COST,
        "threshold_by_cost_alone": unconstrained,
        "highest_threshold_keeping_floors": highest,
        "cross_validated": {**summary(rows, probs, threshold), "cost": cost(rows, probs, threshold)},
        # the logistic model the trees replaced, cross-validated the same way, at its own threshold
        "linear_model": {
            "threshold": linear_threshold,
            "cost": cost(linear_rows, linear_probs, linear_threshold),
            **figures(linear_rows, linear_probs, linear_threshold),
        },
    }
    fitted = _weights(ranker, sentence, model, threshold, embeddings)
    return replace(fitted, report=report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the ranker and the decline model on dev question sets.")
    parser.add_argument(
        "files", nargs="*", type=Path, help="dev JSONL files (default: tests/data/dev/*.jsonl)"
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: the shipped file)")
    args = parser.parse_args(argv)
    files = args.files or sorted(Path("tests/data/dev").glob("*.jsonl"))
    if not files or any("locked" in p.parts for p in files):
        parser.error("give dev question files (never tests/data/locked)")
    weights = fit(files)
    target = save(weights, args.out)
    cv = weights.report["cross_validated"]
    print("cross-validated (each file answered by models fitted on the others):")
    for name, fig in [("all", cv), *cv["files"].items()]:
        print(
            f"  {name:<28} accuracy {fig['accuracy']:.3f}  in {fig['in_scope']:>8}"
            f"  out {fig['out_of_scope']:>7}"
            f"  wrong {fig['wrong_answers_given']:>3}  never-declined {fig['right_if_never_declined']:>8}"
            f"  ranker {fig['ranker_first_section_right']:>8}"
        )
    print(f"  threshold {weights.threshold}, max wrong confidence {cv['max_wrong_confidence']}")
    linear = weights.report["linear_model"]
    print(
        f"  cost {cv['cost']:.0f} (declined right + {WRONG_COST:g} x wrong); the logistic model"
        f" {linear['cost']:.0f} at {linear['threshold']} (accuracy {linear['accuracy']:.3f},"
        f" wrong {linear['wrong_answers_given']})"
    )
    alone = weights.report["threshold_by_cost_alone"]
    if alone != weights.threshold:
        print(f"  (the cost alone chose {alone}; {weights.threshold} keeps {dict(FLOORS)})")
    print("  calibration: " + "  ".join(f"{b['bin']}: {b['n']} ({b['right']})" for b in cv["calibration"]))
    print(f"written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
