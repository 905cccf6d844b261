"""The decline model's boosted trees: read from scikit-learn, evaluated with numpy, shipped as JSON."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier

from knowledge.decline import probability
from knowledge.fitting import fit_forest
from knowledge.forest import Forest
from knowledge.weights import Weights, shipped


def _data(seed: int, n: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    # an interaction a linear model cannot express: the second signal counts only with the first
    y = (x[:, 0] + 2 * x[:, 1] * (x[:, 0] > 0) + rng.normal(scale=0.5, size=n) > 0.5).astype(float)
    return x, y


def test_the_numpy_trees_give_scikit_learns_probabilities() -> None:
    x, y = _data(0)
    x[np.random.default_rng(1).random(x.shape) < 0.05] = np.nan  # missing values take their side
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=4, random_state=0).fit(x, y)
    probe = np.random.default_rng(2).normal(size=(400, 4))
    probe[np.random.default_rng(3).random(probe.shape) < 0.1] = np.nan
    forest = Forest.of_sklearn(model)
    assert np.allclose(forest.predict(probe), model.predict_proba(probe)[:, 1], rtol=0, atol=1e-12)


def test_the_trees_survive_the_weights_file() -> None:
    x, y = _data(4)
    forest = fit_forest(x, y)
    again = Forest.from_json(json.loads(json.dumps(forest.as_json())))
    probe = np.random.default_rng(5).normal(size=(200, 4))
    assert np.array_equal(forest.predict(probe), again.predict(probe))
    weights = Weights((0.0,), (0.0,), (), (), (), 0.0, 0.5, "digest", forest=forest)
    read = Weights.from_json(json.loads(json.dumps(weights.as_json())))
    assert read.forest is not None and read.threshold == 0.5
    assert probability(probe[0], read) == float(forest.predict(probe[:1])[0])


_FITTED = fit_forest(*_data(6))


@given(
    st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    st.integers(0, 3),
    st.floats(0, 3),
)
def test_more_evidence_never_lowers_the_confidence(point: list[float], signal: int, more: float) -> None:
    x = np.array([point])
    raised = x.copy()
    raised[0, signal] += more
    assert _FITTED.predict(raised)[0] >= _FITTED.predict(x)[0] - 1e-12


def test_the_trees_learn_what_a_sum_of_signals_cannot() -> None:
    forest = _FITTED
    # the second signal raises the confidence when the first is positive, barely otherwise
    with_first = forest.predict(np.array([[1.0, 1.5, 0, 0], [1.0, -1.5, 0, 0]]))
    without = forest.predict(np.array([[-1.0, 1.5, 0, 0], [-1.0, -1.5, 0, 0]]))
    assert with_first[0] - with_first[1] > 0.5
    assert without[0] - without[1] < 0.3


def test_the_shipped_decline_model_is_the_trees() -> None:
    weights = shipped()
    assert weights.forest is not None
    assert weights.report["cross_validated"]["cost"] <= weights.report["linear_model"]["cost"]
