"""Feature typing and preprocessing for the lead-scoring models.

* :class:`FeatureSpec` says which columns are features and of which kind, inferred from a
  pyarrow schema: string/dictionary → categorical, bool → boolean, integer/float/decimal →
  numeric. Keys, timestamps, labels and split columns (``ALWAYS_EXCLUDED``) and the
  configured ``exclude_features`` are never features; columns of any other type (dates,
  lists, binary …) are listed in ``ignored`` with the reason.
* :class:`Preprocessor` turns a pyarrow Table into a numeric matrix. It is fitted on the
  train split only and its whole state is plain JSON (``to_dict``/``from_dict``; no pickle).
  Two layouts (``mode``):

  - ``linear`` (logistic regression): numeric → signed log1p when heavily skewed in train
    (|skewness| > 2), median imputation, standardisation with the train mean/std (std 0 →
    scale 1, so constant and all-NULL columns give zeros, never NaN), clipped to ±10, plus a
    missing indicator "<col> (missing)" when the column had NULLs in train; boolean → 0/1
    (NULL → 0) with the same kind of missing indicator.
  - ``tree`` (XGBoost): numeric and boolean as float with NaN for missing, so XGBoost's
    native missing-value handling learns where unknowns go.

  Categoricals are one-hot in both layouts (the simplest robust choice: it works with the
  sparse-aware hist algorithm, is identical for both models and keeps contributions
  readable per value): one column per category with at least ``min_category_count`` train
  rows (at most ``max_categories``, most frequent first), plus ``<col>=(rare)`` for the
  other values seen in train, ``<col> (missing)`` for NULL and ``<col>=(unknown)`` for values
  never seen in train. Unseen values never crash a prediction; their per-column row
  counts are returned in :attr:`Transformed.unknown_counts`.

NaN and ±inf in numeric columns count as missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ALWAYS_EXCLUDED: tuple[str, ...] = (
    "lead_id",
    "snapshot_at",
    "as_of",
    "snapshot_kind",
    "is_matured",
    "is_converted",
    "split",
    "lead_first_snapshot_at",
    "last_input_at",
)
MODES: tuple[str, ...] = ("linear", "tree")
# categories seen in train but bucketed as rare are remembered (to tell "rare" from
# "unknown" at predict time) up to this many per column; beyond it (an ID-like column)
# the remaining ones count as unknown.
MAX_RARE_VALUES_STORED = 10_000
LINEAR_CLIP = 10.0
SKEW_LOG_THRESHOLD = 2.0


# --------------------------------------------------------------------------------------
# feature typing


def column_kind(dtype: pa.DataType) -> str | None:
    """'categorical' | 'boolean' | 'numeric' for a supported Arrow type, else None."""
    if pa.types.is_dictionary(dtype):
        return "categorical"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "categorical"
    if pa.types.is_string_view(dtype):
        return "categorical"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "numeric"
    return None


@dataclass
class FeatureSpec:
    """The model's feature columns by kind (each list in schema order) and the columns that
    were left out for an unsupported type (name → reason)."""

    categorical: list[str] = field(default_factory=list)
    boolean: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)

    @classmethod
    def from_schema(cls, schema: pa.Schema, exclude: tuple[str, ...] = ()) -> FeatureSpec:
        """Infer the spec: every column except ``ALWAYS_EXCLUDED`` and ``exclude``."""
        skip = set(ALWAYS_EXCLUDED) | set(exclude)
        spec = cls()
        for f in schema:
            if f.name in skip:
                continue
            kind = column_kind(f.type)
            if kind is None:
                spec.ignored[f.name] = f"unsupported type {f.type}"
                continue
            getattr(spec, kind).append(f.name)
            spec.columns.append(f.name)
        return spec

    def kind_of(self, column: str) -> str:
        for kind in ("categorical", "boolean", "numeric"):
            if column in getattr(self, kind):
                return kind
        raise KeyError(column)

    def check_table(self, table: pa.Table) -> None:
        """Raise ValueError when feature columns are missing from ``table``."""
        present = set(table.column_names)
        missing = [c for c in self.columns if c not in present]
        if missing:
            raise ValueError(
                f"table lacks {len(missing)} feature column(s) the model was trained on: "
                f"{', '.join(missing)}; add them to the scoring table (NULL is fine) or retrain"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            categorical=list(data["categorical"]),
            boolean=list(data["boolean"]),
            numeric=list(data["numeric"]),
            ignored=dict(data.get("ignored", {})),
            columns=list(data["columns"]),
        )


# --------------------------------------------------------------------------------------
# column conversion


def _column(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    if not isinstance(col, pa.ChunkedArray):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _as_strings(arr: pa.Array, name: str) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_string(arr.type):
        return arr
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(
            f"categorical feature {name} has type {arr.type}, which cannot be read as text; "
            "fix the column type or retrain"
        ) from exc


def _as_float(arr: pa.Array, name: str) -> np.ndarray:
    """float64 numpy array with NaN for NULL, NaN and ±inf."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_floating(arr.type) or (pa.types.is_integer(arr.type) and arr.null_count == 0):
        # to_numpy gives NaN for a NULL float; the cast below would give the same values
        out = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
        out[~np.isfinite(out)] = np.nan
        return out
    try:
        arr = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(
            f"feature {name} has type {arr.type} with values that are not numbers; "
            "fix the column type or retrain"
        ) from exc
    out = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


# --- a few rows (leadscore serve scores one lead per request): the same conversions from
# Python values, without an Arrow compute call per column (each costs microseconds, a
# one-row transform of 70 columns was mostly those). Only for plain types; anything else
# (dictionary, decimal, string views) takes the Arrow path. ``converted['rows']`` may hold
# the table's rows already (leadscore serve builds them). test_ml_preprocess holds the two
# paths equal, tests/python/test_serve_e2e.py on every open lead of a build.
SMALL_TABLE_ROWS = 8


_PLAIN_TYPE_IDS = frozenset(
    t.id
    for t in (pa.string(), pa.large_string(), pa.bool_(), pa.float16(), pa.float32(),
              pa.float64(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(),
              pa.uint16(), pa.uint32(), pa.uint64())
)  # fmt: skip


def _values(table: pa.Table, col: str, converted: dict) -> list[Any]:
    """Column ``col`` as Python values, from one to_pylist of the whole table."""
    if "rows" not in converted:
        converted["rows"] = table.to_pylist()
    return [row[col] for row in converted["rows"]]


def _floats_of_rows(table: pa.Table, columns: list[str], converted: dict) -> np.ndarray:
    """_as_float of each of ``columns`` from Python values, as one [rows, columns] matrix:
    NULL, NaN and ±inf → NaN, booleans 1.0 / 0.0."""
    key = ("numbers", tuple(columns))
    if key not in converted:
        if "rows" not in converted:
            converted["rows"] = table.to_pylist()
        x = np.array(
            [[np.nan if r[c] is None else r[c] for c in columns] for r in converted["rows"]],
            dtype=np.float64,
        ).reshape(len(converted["rows"]), len(columns))
        x[~np.isfinite(x)] = np.nan
        converted[key] = x
    return converted[key]


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(x) · ln(1 + |x|): monotone, defined on all reals, tames heavy tails."""
    return np.sign(x) * np.log1p(np.abs(x))


def _skewness(x: np.ndarray) -> float:
    if x.size < 3:
        return 0.0
    sd = float(x.std())
    if sd == 0:
        return 0.0
    return float(np.mean(((x - x.mean()) / sd) ** 3))


# --------------------------------------------------------------------------------------
# fitted state


@dataclass
class CategoricalState:
    """One-hot layout of a categorical column: ``categories`` get their own column (most
    frequent first); ``rare_values`` were seen in train but bucketed as rare."""

    column: str
    categories: list[str]
    rare_values: list[str]

    def feature_names(self) -> list[str]:
        c = self.column
        return [f"{c}={v}" for v in self.categories] + [
            f"{c}=(rare)",
            f"{c} (missing)",
            f"{c}=(unknown)",
        ]

    def _value_set(self, name: str) -> pa.Array:
        """The Arrow array of ``categories`` or ``rare_values``, built once (a one-row table,
        as ``leadscore serve`` scores, would otherwise spend most of its time building them)."""
        cache = self.__dict__.setdefault("_value_sets", {})
        if name not in cache:
            cache[name] = pa.array(getattr(self, name), pa.string())
        return cache[name]

    def codes_of_values(self, values: list[str | None]) -> np.ndarray:
        """``codes`` of Python strings (the few-rows path of Preprocessor.transform)."""
        index = self.__dict__.get("_index")
        if index is None:
            index = self.__dict__["_index"] = {v: i for i, v in enumerate(self.categories)}
            self.__dict__["_rare"] = frozenset(self.rare_values)
        rare, k = self.__dict__["_rare"], len(self.categories)
        return np.array(
            [k + 1 if v is None else index.get(v, k if v in rare else k + 2) for v in values],
            dtype=np.int64,
        )

    def codes(self, arr: pa.Array) -> np.ndarray:
        """Per row: index into feature_names() (categories, then rare, missing, unknown)."""
        k = len(self.categories)
        strings = _as_strings(arr, self.column)
        kept = pc.index_in(strings, value_set=self._value_set("categories"))
        # NULL (not a category) comes out of to_numpy as NaN
        found = kept.to_numpy(zero_copy_only=False)
        codes = np.where(np.isnan(found), -1, found).astype(np.int64)
        if self.rare_values:
            rare = pc.is_in(strings, value_set=self._value_set("rare_values"))
            rare_np = rare.fill_null(False).to_numpy(zero_copy_only=False)
            codes[(codes < 0) & rare_np] = k
        is_null = strings.is_null().to_numpy(zero_copy_only=False)
        codes[is_null] = k + 1
        codes[codes < 0] = k + 2
        return codes


@dataclass
class NumericState:
    """Scaling of a numeric or boolean column (the linear layout uses all fields; the tree
    layout only passes values through). ``log1p``: signed log1p before standardising."""

    column: str
    kind: str
    median: float
    mean: float
    scale: float
    log1p: bool
    missing_indicator: bool


def fit_categorical(
    arr: pa.Array, column: str, min_category_count: int, max_categories: int
) -> CategoricalState:
    """Choose the categories of a column from its train values (ties in frequency are
    broken by value, so the layout is deterministic)."""
    strings = _as_strings(arr, column).drop_null()
    counts: list[tuple[str, int]] = []
    if len(strings):
        vc = pc.value_counts(strings)
        values = vc.field("values").to_pylist()
        ns = vc.field("counts").to_pylist()
        counts = sorted(zip(values, ns, strict=True), key=lambda t: (-t[1], t[0]))
    kept = [v for v, n in counts if n >= min_category_count][:max_categories]
    kept_set = set(kept)
    rare = [v for v, _ in counts if v not in kept_set][:MAX_RARE_VALUES_STORED]
    return CategoricalState(column=column, categories=kept, rare_values=rare)


def fit_numeric(values: np.ndarray, column: str, kind: str) -> NumericState:
    """Median, mean and scale of a column (NaN = missing) after the optional log1p."""
    present = values[~np.isnan(values)]
    log1p = kind == "numeric" and abs(_skewness(present)) > SKEW_LOG_THRESHOLD
    if log1p:
        present = signed_log1p(present)
    if kind == "boolean" or present.size == 0:  # booleans stay 0/1, NULL → 0
        median, mean, scale = 0.0, 0.0, 1.0
    else:
        median, mean = float(np.median(present)), float(present.mean())
        sd = float(present.std())
        scale = sd if sd > 1e-12 and np.isfinite(sd) else 1.0
    return NumericState(
        column=column,
        kind=kind,
        median=median,
        mean=mean,
        scale=scale,
        log1p=log1p,
        missing_indicator=bool(present.size < values.size),
    )


@dataclass
class Transformed:
    """A transformed table: the model matrix, its column names and, per categorical column,
    how many rows had a value never seen in train (0s included)."""

    matrix: np.ndarray
    feature_names: list[str]
    unknown_counts: dict[str, int]


@dataclass
class Preprocessor:
    """Fitted preprocessing of one model (see the module docstring for the layouts)."""

    mode: str
    spec: FeatureSpec
    categorical: dict[str, CategoricalState]
    numeric: dict[str, NumericState]

    def _memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """The layout (names, sources, positions) of a fitted preprocessor never changes:
        computed once (a one-row transform, as leadscore serve makes, would spend a third of
        its time rebuilding these lists)."""
        memo = self.__dict__.setdefault("_layout_memo", {})
        if name not in memo:
            memo[name] = compute()
        return memo[name]

    @property
    def feature_names(self) -> list[str]:
        return list(self._memo("feature_names", self._feature_names))

    def _feature_names(self) -> list[str]:
        names: list[str] = []
        for col in self.spec.columns:
            if col in self.categorical:
                names.extend(self.categorical[col].feature_names())
            else:
                st = self.numeric[col]
                names.append(col)
                if self.mode == "linear" and st.missing_indicator:
                    names.append(f"{col} (missing)")
        return names

    def source_columns(self) -> list[str]:
        """The input column behind each column of :attr:`feature_names` (a one-hot category,
        a missing indicator …), in the same order: contributions are summed per input column
        with it."""
        return list(self._memo("source_columns", self._source_columns))

    def _source_columns(self) -> list[str]:
        sources: list[str] = []
        for col in self.spec.columns:
            if col in self.categorical:
                sources.extend([col] * (len(self.categorical[col].categories) + 3))
            else:
                st = self.numeric[col]
                sources.append(col)
                if self.mode == "linear" and st.missing_indicator:
                    sources.append(col)
        return sources

    def unknown_positions(self) -> dict[str, int]:
        """Per categorical column, the index in :attr:`feature_names` of its ``=(unknown)``
        column (1 in a row of the matrix: a value never seen in train)."""
        return dict(self._memo("unknown_positions", self._unknown_positions))

    def _unknown_positions(self) -> dict[str, int]:
        positions: dict[str, int] = {}
        j = 0
        for col in self.spec.columns:
            if col in self.categorical:
                j += len(self.categorical[col].categories) + 3
                positions[col] = j - 1
            else:
                j += 2 if self.mode == "linear" and self.numeric[col].missing_indicator else 1
        return positions

    def transform(self, table: pa.Table, converted: dict | None = None) -> Transformed:
        """Matrix of ``table`` in this layout (float64 for linear, float32 for tree).
        ``converted``: a dict shared by the transforms of one table (a blend's parts), which
        then read and convert each column once."""
        converted = {} if converted is None else converted
        self.spec.check_table(table)
        names = self.feature_names
        n = table.num_rows
        dtype = np.float64 if self.mode == "linear" else np.float32
        # filled column by column: column-major for linear models (a matrix product takes it
        # as it is, 2-3x faster to fill at 1M rows); row-major for trees (XGBoost wants C
        # order and would copy anything else)
        order = "F" if self.mode == "linear" else "C"
        out = np.zeros((n, len(names)), dtype=dtype, order=order)
        unknown: dict[str, int] = {}
        numeric: list[tuple[int, NumericState, np.ndarray]] = []
        j = 0
        small = n <= SMALL_TABLE_ROWS and self._plain(table.schema)
        for col in self.spec.columns:
            if col in self.categorical:
                st = self.categorical[col]
                width = len(st.categories) + 3
                if small:
                    codes = st.codes_of_values(_values(table, col, converted))
                else:
                    if (col, "text") not in converted:
                        converted[(col, "text")] = _as_strings(_column(table, col), col)
                    codes = st.codes(converted[(col, "text")])
                out[np.arange(n), j + codes] = 1.0
                unknown[col] = int(np.sum(codes == width - 1))
                j += width
                continue
            st = self.numeric[col]
            if small:
                numeric.append((j, st, col))
            else:
                if (col, "number") not in converted:
                    converted[(col, "number")] = _as_float(_column(table, col), col)
                numeric.append((j, st, converted[(col, "number")]))
            j += 2 if self.mode == "linear" and st.missing_indicator else 1
        if numeric and small:
            columns = [col for _, _, col in numeric]
            x = _floats_of_rows(table, columns, converted)
            numeric = [(j, st, x[:, i]) for i, (j, st, _) in enumerate(numeric)]
        if numeric:
            self._fill_numeric(out, numeric)
        return Transformed(out, names, unknown)

    def _plain(self, schema: pa.Schema) -> bool:
        """Whether every feature column of ``schema`` has a plain type (strings, booleans,
        integers, floats): the few-rows path reads those as Python values."""
        types = dict(zip(schema.names, schema.types, strict=True))
        return all(types[c].id in _PLAIN_TYPE_IDS for c in self.spec.columns)

    def _fill_numeric(
        self, out: np.ndarray, numeric: list[tuple[int, NumericState, np.ndarray]]
    ) -> None:
        """The numeric columns, all at once (elementwise, so each value is what a column by
        column pass gives): as they are for trees; for linear models signed log1p where
        chosen, NULL → the train median, standardised and clipped, and the missing
        indicators."""
        at = np.array([j for j, _, _ in numeric])
        x = np.column_stack([values for _, _, values in numeric])
        if self.mode == "tree":
            out[:, at] = x
            return
        states = [st for _, st, _ in numeric]
        miss = np.isnan(x)
        logged = np.array([st.log1p for st in states])
        t = np.where(logged, signed_log1p(x), x)
        t = np.where(miss, np.array([st.median for st in states]), t)
        mean = np.array([st.mean for st in states])
        scale = np.array([st.scale for st in states])
        out[:, at] = np.clip((t - mean) / scale, -LINEAR_CLIP, LINEAR_CLIP)
        flagged = np.array([st.missing_indicator for st in states])
        out[:, at[flagged] + 1] = miss[:, flagged]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "spec": self.spec.to_dict(),
            "categorical": [asdict(s) for s in self.categorical.values()],
            "numeric": [asdict(s) for s in self.numeric.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        cats = [CategoricalState(**s) for s in data["categorical"]]
        nums = [NumericState(**s) for s in data["numeric"]]
        return cls(
            mode=data["mode"],
            spec=FeatureSpec.from_dict(data["spec"]),
            categorical={s.column: s for s in cats},
            numeric={s.column: s for s in nums},
        )


def fit_preprocessor(
    table: pa.Table,
    spec: FeatureSpec,
    mode: str,
    min_category_count: int = 20,
    max_categories: int = 50,
) -> Preprocessor:
    """Fit the preprocessing of ``spec``'s columns on ``table`` (the train split)."""
    if mode not in MODES:
        raise ValueError(f"preprocessing mode must be one of {', '.join(MODES)}, got {mode!r}")
    spec.check_table(table)
    categorical: dict[str, CategoricalState] = {}
    numeric: dict[str, NumericState] = {}
    for col in spec.columns:
        arr = _column(table, col)
        kind = spec.kind_of(col)
        if kind == "categorical":
            categorical[col] = fit_categorical(arr, col, min_category_count, max_categories)
        else:
            numeric[col] = fit_numeric(_as_float(arr, col), col, kind)
    return Preprocessor(mode=mode, spec=spec, categorical=categorical, numeric=numeric)
