"""The fitted numbers of the answer engine, read from ``knowledge/index/weights.json``.

``python -m knowledge.fitting`` writes that file from the dev question sets (never the locked
ones): the ranker's weights over :data:`knowledge.ranking.FEATURES`, the sentence model's weights
(which sentences to quote), the decline model over :data:`knowledge.decline.FEATURES` (boosted
trees, :mod:`knowledge.forest`; a file written before them holds a logistic model's
standardisation, coefficients and bias), the threshold below which the engine declines, the
digest of the embeddings they were fitted with, and the cross-validated figures of the fit.
Nothing here is tuned by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.forest import Forest

WEIGHTS_FILE = "index/weights.json"  # inside the knowledge package


@dataclass(frozen=True, slots=True)
class Weights:
    ranker: tuple[float, ...]
    #: the sentence model's weights over :data:`knowledge.quoting.FEATURES`
    sentence: tuple[float, ...]
    decline_mean: tuple[float, ...]
    decline_scale: tuple[float, ...]
    decline_coef: tuple[float, ...]
    decline_bias: float
    threshold: float
    #: the digest of the embeddings (``knowledge.embeddings.digest``) the weights were fitted with
    embeddings: str = ""
    report: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the decline model's trees; when present they give the probability, and the logistic
    #: fields above are empty
    forest: Forest | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        decline: dict[str, Any] = (
            {"forest": self.forest.as_json()}
            if self.forest is not None
            else {
                "mean": list(self.decline_mean),
                "scale": list(self.decline_scale),
                "coef": list(self.decline_coef),
                "bias": self.decline_bias,
            }
        )
        return {
            "ranker": list(self.ranker),
            "sentence": list(self.sentence),
            "decline": {**decline, "threshold": self.threshold},
            "embeddings": self.embeddings,
            "report": self.report,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Weights:
        decline = data["decline"]
        forest = Forest.from_json(decline["forest"]) if "forest" in decline else None
        return cls(
            ranker=tuple(float(x) for x in data["ranker"]),
            sentence=tuple(float(x) for x in data["sentence"]),
            decline_mean=tuple(float(x) for x in decline.get("mean", ())),
            decline_scale=tuple(float(x) for x in decline.get("scale", ())),
            decline_coef=tuple(float(x) for x in decline.get("coef", ())),
            decline_bias=float(decline.get("bias", 0.0)),
            threshold=float(decline["threshold"]),
            embeddings=str(data.get("embeddings") or ""),
            report=dict(data.get("report") or {}),
            forest=forest,
        )


def weights_path() -> Path:
    return Path(str(resources.files("knowledge") / WEIGHTS_FILE))


@lru_cache(maxsize=1)
def shipped() -> Weights:
    """The weights shipped with the package (read once per process)."""
    return Weights.from_json(json.loads(weights_path().read_text(encoding="utf-8")))


def save(weights: Weights, path: Path | None = None) -> Path:
    target = path or weights_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(weights.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
