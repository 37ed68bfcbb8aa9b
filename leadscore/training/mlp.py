"""The neural-network candidate: a small ReLU network on the logistic-regression layout.

Fitting uses scikit-learn's ``MLPClassifier`` (adam, early stopping on a random tenth of the
rows it is given — those rows are train rows, so nothing crosses a split); what is kept is
plain JSON (weights and biases per layer), and prediction is numpy here, so no pickle and no
scikit-learn object at scoring time.

Contributions (for reasons) are **integrated gradients** from the all-zero input: on the
linear layout zero is the train mean of every numeric feature and "no indicator set" for the
one-hot columns, the same reference logistic regression's ``coef x value`` contributions use,
so the reasons of both models read alike. The integral is a midpoint sum over
``IG_STEPS`` points; its small error is folded into the bias column, so a row's contributions
still sum exactly to its margin (the bias column then varies slightly by row). Why not a
linear surrogate: it explains the surrogate, not the network, and its error is unbounded;
why not gradient x input: it does not add up to the margin.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

IG_STEPS = 16
MLP_MAX_ITER = 200
MLP_DEFAULT: dict[str, Any] = {"hidden": [32], "alpha": 1e-3, "class_weighting": False}
MLP_GRID: tuple[dict[str, Any], ...] = (
    MLP_DEFAULT,
    {"hidden": [64], "alpha": 1e-3, "class_weighting": False},
    {"hidden": [32], "alpha": 1e-2, "class_weighting": False},
    {"hidden": [32, 16], "alpha": 1e-3, "class_weighting": False},
    {"hidden": [16], "alpha": 1e-4, "class_weighting": False},
)


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    params: Mapping[str, Any],
    seed: int,
    weight: np.ndarray | None = None,
) -> dict:
    """Fit the network and return its JSON payload ``{"weights": [...], "biases": [...]}``."""
    model = MLPClassifier(
        hidden_layer_sizes=tuple(int(h) for h in params["hidden"]),
        alpha=float(params["alpha"]),
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=8,
        max_iter=MLP_MAX_ITER,
        batch_size=min(256, max(1, x.shape[0])),
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y.astype(int), sample_weight=weight)
    return {
        "weights": [w.tolist() for w in model.coefs_],
        "biases": [b.tolist() for b in model.intercepts_],
        "n_iter": int(model.n_iter_),
    }


def _layers(payload: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
        for w, b in zip(payload["weights"], payload["biases"], strict=True)
    ]


def margin(x: np.ndarray, payload: Mapping[str, Any]) -> np.ndarray:
    """The network's logit for every row of ``x``."""
    h = np.asarray(x, dtype=np.float64)
    layers = _layers(payload)
    for w, b in layers[:-1]:
        h = np.maximum(h @ w + b, 0.0)
    w, b = layers[-1]
    return (h @ w + b)[:, 0]


def _gradient(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """d logit / d x for every row (ReLU: the gradient passes where the unit is active)."""
    activations = [x]
    h = x
    for w, b in layers[:-1]:
        h = np.maximum(h @ w + b, 0.0)
        activations.append(h)
    grad = np.broadcast_to(layers[-1][0][:, 0], (x.shape[0], layers[-1][0].shape[0])).copy()
    for i in range(len(layers) - 2, -1, -1):
        grad = grad * (activations[i + 1] > 0)
        grad = grad @ layers[i][0].T
    return grad


def contributions(x: np.ndarray, payload: Mapping[str, Any]) -> np.ndarray:
    """Integrated-gradient contributions [n, d + 1] (bias last); rows sum to :func:`margin`."""
    x = np.asarray(x, dtype=np.float64)
    layers = _layers(payload)
    total = np.zeros_like(x)
    for k in range(IG_STEPS):
        total += _gradient(x * ((k + 0.5) / IG_STEPS), layers)
    contrib = np.empty((x.shape[0], x.shape[1] + 1))
    contrib[:, :-1] = x * (total / IG_STEPS)
    full = margin(x, payload)
    contrib[:, -1] = full - contrib[:, :-1].sum(axis=1)
    return contrib


def importance(payload: Mapping[str, Any]) -> np.ndarray:
    """Per input feature, the summed magnitude of its weight paths to the output (|W1| |W2| …):
    how much the network can move the logit through that input, on the standardised scale."""
    layers = _layers(payload)
    path = np.abs(layers[-1][0])
    for w, _ in reversed(layers[:-1]):
        path = np.abs(w) @ path
    return path[:, 0]
