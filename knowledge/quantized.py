"""Unit vectors kept as 8-bit integers with one scale per row: the shipped questions' embeddings.

The probes and the questions no document answers number 8,200 since the dev sets' questions are
shipped with them (:mod:`knowledge.asked`): as float32 they took 12.6 MB of the long-running
process, whose bound is 150 MB. As int8 they take 3.2 MB, and a question's cosines are computed
a block of rows at a time (each block converted to float32, then one matrix-vector product),
which is faster than the float32 product over the whole matrix (0.5 ms against 1.3 ms for 7,000
rows, measured: the block stays in the cache). On the shipped probes and five questions the rounding
moved a cosine by 0.0002 on average, 0.0014 at most: under the gaps the engine reads (a hundredth
between close sections).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 512  # rows converted at a time (256-1024 equally fast; 2048 three times slower)
LEVELS = 127


@dataclass(frozen=True, slots=True)
class Quantized:
    """``codes[i] * scale[i]`` approximates row ``i``."""

    codes: np.ndarray  # int8, (rows, dim)
    scale: np.ndarray  # float32, (rows,)

    @classmethod
    def of(cls, vectors: np.ndarray) -> Quantized:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"expected rows of vectors, got shape {vectors.shape}")
        peak = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0, dtype=np.float32)
        scale = np.where(peak > 0, peak / LEVELS, 1.0).astype(np.float32)
        codes = np.rint(vectors / scale[:, None]).astype(np.int8)
        return cls(codes, scale)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.codes.shape)

    def __len__(self) -> int:
        return len(self.codes)

    def __matmul__(self, vector: np.ndarray) -> np.ndarray:
        """Every row's dot product with ``vector`` (float32)."""
        vector = np.asarray(vector, dtype=np.float32)
        out = np.empty(len(self.codes), dtype=np.float32)
        for start in range(0, len(self.codes), BLOCK):
            out[start : start + BLOCK] = self.codes[start : start + BLOCK].astype(np.float32) @ vector
        scaled: np.ndarray = out * self.scale
        return scaled

    def row(self, i: int) -> np.ndarray:
        restored: np.ndarray = self.codes[i].astype(np.float32) * self.scale[i]
        return restored

    def rows(self) -> np.ndarray:
        """All rows as float32 (for tests and offline tools, not per question)."""
        restored: np.ndarray = self.codes.astype(np.float32) * self.scale[:, None]
        return restored
