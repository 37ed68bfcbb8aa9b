"""Calibration of a raw margin: Platt and isotonic calibrators (JSON state) and the choice
between them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

CALIBRATION_EPS = 1e-4


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass
class Calibrator:
    """Maps a raw margin (logit) to a calibrated probability.

    method 'isotonic': ``np.interp(margin, x, y)`` (flat beyond the ends);
    method 'platt': ``sigmoid(a · margin + b)``."""

    method: str
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    a: float = 1.0
    b: float = 0.0

    def apply(self, margin: np.ndarray) -> np.ndarray:
        z = np.asarray(margin, dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(z, np.asarray(self.x), np.asarray(self.y))
        return _sigmoid(self.a * z + self.b)

    def to_dict(self) -> dict[str, Any]:
        if self.method == "isotonic":
            return {"method": "isotonic", "x": self.x, "y": self.y}
        return {"method": "platt", "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        if data["method"] == "isotonic":
            return cls("isotonic", x=list(data["x"]), y=list(data["y"]))
        return cls("platt", a=float(data["a"]), b=float(data["b"]))


def fit_platt(score: np.ndarray, y: np.ndarray, max_iter: int = 100) -> Calibrator:
    """Platt scaling by Newton's method on Platt's smoothed targets
    ((N+ + 1)/(N+ + 2) and 1/(N- + 2)), which keeps the fit finite on separable data."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_pos, n_neg = float(y.sum()), float(y.size - y.sum())
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    mu, sd = (float(s.mean()), float(s.std())) if s.size else (0.0, 1.0)
    sd = sd if sd > 1e-12 else 1.0
    x = np.column_stack([(s - mu) / sd, np.ones_like(s)])

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float(np.sum(np.logaddexp(0, z) - t * z))

    w = np.array([1.0, math.log((n_pos + 1) / (n_neg + 1))])
    current = loss(w)
    for _ in range(max_iter):
        p = _sigmoid(x @ w)
        grad = x.T @ (p - t)
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-8:
            candidate = w - scale * step
            new = loss(candidate)
            if new <= current:
                break
            scale /= 2
        else:
            break
        w, improvement, current = candidate, current - new, new
        if improvement < 1e-12 * max(1.0, abs(current)):
            break
    a = w[0] / sd
    return Calibrator("platt", a=float(a), b=float(w[1] - a * mu))


def fit_isotonic(score: np.ndarray, y: np.ndarray) -> Calibrator:
    """Isotonic regression of the label on the score, stored as interpolation thresholds."""
    iso = IsotonicRegression(out_of_bounds="clip", y_min=CALIBRATION_EPS, y_max=1 - CALIBRATION_EPS)
    iso.fit(np.asarray(score, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return Calibrator(
        "isotonic",
        x=[float(v) for v in iso.X_thresholds_],
        y=[float(v) for v in iso.y_thresholds_],
    )


def choose_calibration(method: str, y: np.ndarray, min_rows: int, min_positives: int) -> str:
    """'auto' → isotonic when there are at least min_rows rows and min_positives positives
    (isotonic overfits small sets), else platt."""
    if method != "auto":
        return method
    enough = y.size >= min_rows and y.sum() >= min_positives
    return "isotonic" if enough else "platt"


def fit_calibrator(score: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    return fit_isotonic(score, y) if method == "isotonic" else fit_platt(score, y)


# --------------------------------------------------------------------------------------
# the artifact
