"""Churn models that explain themselves: every probability comes with per-feature contributions.

All models follow the lifelines convention: ``fit()`` returns self, learned values end in ``_``,
``summary`` is a frame. Each works on a frame of raw feature columns (numbers and text); the
preprocessing is part of the model, so cross-validation fits it inside each fold.

Contributions are on the log-odds scale and add up exactly: ``base + Σ contributions = logit(p)``.
- logistic: coefficient × standardized basis value, summed over the basis columns of a feature;
- gradient boosting: LightGBM's TreeSHAP values (``pred_contrib``), summed the same way;
- blend: the fixed-weight average of the two in log-odds, so its contributions are the same
  weighted average of theirs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler

from tenure.errors import InvalidInput
from tenure.risk.datasets import ColumnTypes

# Hyperparameters are fixed here, chosen once on public data and never per dataset (no tuning on
# the folds that report the score). Knots at quantiles let the logistic model bend where data is.
SPLINE_KNOTS = 5
SPLINE_MIN_DISTINCT = 10
LOGISTIC_C = 0.1
# Rare categories (fewer rows than this) share one "infrequent" column.
MIN_CATEGORY_ROWS = 10
LIGHTGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.02,
    "num_leaves": 8,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "reg_lambda": 5.0,
    "random_state": 0,
    "n_jobs": 1,
    "verbose": -1,
}
BLEND_WEIGHTS = {"logistic": 0.5, "gradient_boosting": 0.5}
# Detail features (usage by feature of the catalog: five metrics for each of twenty-odd features)
# count this much beside an account-level metric. Many weak, correlated columns let a model find
# a split or a coefficient in noise: with 67 churn observations to learn from, adding them moved
# the demo base's backtest from AUC 0.899 / lift 6.1 to 0.860 / 2.9. Weighed down, a detail
# column is chosen only when its gain is over three times an account-level metric's, and the
# figures with and without them agree (0.895 vs 0.899 there, 0.920 vs 0.920 on a second base;
# docs/churn-risk.md). Boosting multiplies their split gain by it (LightGBM's feature_penalty);
# the logistic model scales their standardized columns by it, a 1/w² heavier L2 penalty.
DETAIL_WEIGHT = 0.3


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return np.log(clipped / (1 - clipped))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class NumericBasis(TransformerMixin, BaseEstimator):
    """One numeric column → median-filled value as a natural spline basis, plus a missing flag.

    Columns with few distinct values (flags, small counts) stay linear. Between the boundary
    knots and the training range's ends the spline continues linearly; beyond the range seen in
    training a value is clamped to it, so a fold trained on a narrow slice of history cannot
    extrapolate a curve into extreme log-odds (one fold read AUC 0.42 that way, issue 21).
    """

    def __init__(self, n_knots: int = SPLINE_KNOTS, min_distinct: int = SPLINE_MIN_DISTINCT):
        self.n_knots = n_knots
        self.min_distinct = min_distinct

    def fit(self, x: Any, y: Any = None) -> NumericBasis:
        values = np.asarray(x, dtype=float).ravel()
        present = values[~np.isnan(values)]
        self.median_ = float(np.median(present)) if len(present) else 0.0
        self.low_ = float(present.min()) if len(present) else 0.0
        self.high_ = float(present.max()) if len(present) else 0.0
        self.has_missing_ = bool(np.isnan(values).any())
        # Boundary knots at the 5th/95th percentiles: beyond them the fit is a straight line, so
        # a handful of outliers cannot bend the curve into an extreme contribution.
        knots = (
            np.unique(np.quantile(present, np.linspace(0.05, 0.95, self.n_knots)))
            if len(present)
            else np.array([])
        )
        self.spline_: SplineTransformer | None = None
        if len(np.unique(present)) >= self.min_distinct and len(knots) >= 3:
            self.spline_ = SplineTransformer(
                knots=knots.reshape(-1, 1), degree=3, extrapolation="linear"
            ).fit(knots.reshape(-1, 1))
        return self

    def transform(self, x: Any) -> np.ndarray:
        values = np.asarray(x, dtype=float).reshape(-1, 1)
        missing = np.isnan(values)
        filled = np.where(missing, self.median_, values)
        if self.spline_ is not None:
            # Models saved before clamping have no range: they keep extrapolating.
            filled = np.clip(filled, getattr(self, "low_", -np.inf), getattr(self, "high_", np.inf))
        basis = self.spline_.transform(filled) if self.spline_ is not None else filled
        if self.has_missing_:
            basis = np.hstack([basis, missing.astype(float)])
        return np.asarray(basis, dtype=float)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        name = str(input_features[0]) if input_features is not None else "x"
        width = self.spline_.n_features_out_ if self.spline_ is not None else 1
        names = [name] if self.spline_ is None else [f"{name}_spline{k}" for k in range(width)]
        if self.has_missing_:
            names.append(f"{name}_missing")
        return np.asarray(names, dtype=object)


def _categories() -> Pipeline:
    return Pipeline(
        [
            ("fill", SimpleImputer(strategy="constant", fill_value="(missing)")),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=MIN_CATEGORY_ROWS,
                    sparse_output=False,
                ),
            ),
        ]
    )


def build_preprocessor(types: ColumnTypes, *, for_trees: bool) -> ColumnTransformer:
    """One transformer per input column, named ``c<i>``, so outputs map back to their column.

    Linear models get spline bases and standardized one-hot columns; trees get raw numbers
    (LightGBM handles missing values itself) and one-hot columns.
    """
    steps: list[tuple[str, Any, list[str]]] = []
    for i, name in enumerate(types.features):
        if name in types.numeric:
            transformer: Any = "passthrough" if for_trees else NumericBasis()
        else:
            transformer = _categories()
        steps.append((f"c{i}", transformer, [name]))
    return ColumnTransformer(steps, remainder="drop", verbose_feature_names_out=True)


def _output_owner(preprocessor: ColumnTransformer, features: tuple[str, ...]) -> np.ndarray:
    """For each output column of a fitted preprocessor, the index of the input column behind it."""
    width = max((s.stop for s in preprocessor.output_indices_.values()), default=0)
    owner = np.full(width, -1)
    for name, columns in preprocessor.output_indices_.items():
        if name.startswith("c"):
            owner[columns] = int(name[1:])
    if (owner < 0).any() or owner.max(initial=-1) >= len(features):
        raise AssertionError("preprocessor produced a column for an unknown feature")
    return owner


def _sum_by_owner(values: np.ndarray, owner: np.ndarray, n_features: int) -> np.ndarray:
    summed = np.zeros((values.shape[0], n_features))
    for j in range(n_features):
        summed[:, j] = values[:, owner == j].sum(axis=1)
    return summed


class ChurnModel(ABC):
    """A fitted-in-place churn classifier with exact additive explanations on the log-odds scale."""

    name: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, column_types: ColumnTypes) -> None:
        self.column_types = column_types

    @property
    def features(self) -> tuple[str, ...]:
        return self.column_types.features

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise InvalidInput(f"feature column(s) missing: {', '.join(missing)}")
        return frame.loc[:, list(self.features)]

    @abstractmethod
    def fit(self, frame: pd.DataFrame, churned: np.ndarray) -> ChurnModel: ...

    @abstractmethod
    def decision(self, frame: pd.DataFrame) -> np.ndarray:
        """The log-odds of churn for each row."""

    @abstractmethod
    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-row, per-feature log-odds contributions and a ``(base)``; each row sums to logit."""

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(churn) for each row."""
        return sigmoid(self.decision(frame))

    def _fit_preprocessor(self, frame: pd.DataFrame, *, for_trees: bool) -> np.ndarray:
        self.preprocessor_ = build_preprocessor(self.column_types, for_trees=for_trees)
        matrix = np.asarray(self.preprocessor_.fit_transform(self._frame(frame)), dtype=float)
        self.owner_ = _output_owner(self.preprocessor_, self.features)
        return matrix

    def _column_weights(self) -> np.ndarray:
        """Per output column of the preprocessor: DETAIL_WEIGHT for a detail feature, else 1."""
        # Column types saved before detail features existed have none.
        detail = set(getattr(self.column_types, "detail", ()))
        return np.array([DETAIL_WEIGHT if self.features[j] in detail else 1.0 for j in self.owner_])

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.preprocessor_.transform(self._frame(frame)), dtype=float)

    def _contribution_frame(self, values: np.ndarray, base: np.ndarray, index: Any) -> pd.DataFrame:
        out = pd.DataFrame(values, columns=list(self.features), index=index)
        out.insert(0, "(base)", base)
        return out


class LogisticChurnModel(ChurnModel):
    """L2-regularized logistic regression on standardized spline bases and one-hot categories."""

    name = "logistic"
    label = "Logistic regression (splines, standardized)"

    def fit(self, frame: pd.DataFrame, churned: np.ndarray) -> LogisticChurnModel:
        basis = self._fit_preprocessor(frame, for_trees=False)
        self.scaler_ = StandardScaler().fit(basis)
        weights = self._column_weights()
        self.classifier_ = LogisticRegression(C=LOGISTIC_C, max_iter=5000)
        self.classifier_.fit(self.scaler_.transform(basis) * weights, churned)
        # On the unweighted standardized columns: decision and contributions read those.
        self.coef_ = self.classifier_.coef_.ravel() * weights
        self.intercept_ = float(self.classifier_.intercept_[0])
        return self

    def _standardized(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.scaler_.transform(self._transform(frame)))

    def decision(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._standardized(frame) @ self.coef_ + self.intercept_)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        values = self._standardized(frame) * self.coef_
        summed = _sum_by_owner(values, self.owner_, len(self.features))
        return self._contribution_frame(summed, np.full(len(frame), self.intercept_), frame.index)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per basis column: the feature it belongs to and its coefficient."""
        names = self.preprocessor_.get_feature_names_out()
        rows = [
            {"feature": self.features[j], "column": names[k], "coef": float(self.coef_[k])}
            for k, j in enumerate(self.owner_)
        ]
        return pd.DataFrame(rows)


class GradientBoostingChurnModel(ChurnModel):
    """LightGBM with fixed, conservative parameters; explanations are its TreeSHAP values."""

    name = "gradient_boosting"
    label = "Gradient boosting (LightGBM)"

    def fit(self, frame: pd.DataFrame, churned: np.ndarray) -> GradientBoostingChurnModel:
        import lightgbm

        matrix = self._fit_preprocessor(frame, for_trees=True)
        self.classifier_ = lightgbm.LGBMClassifier(
            **LIGHTGBM_PARAMS, feature_penalty=self._column_weights().tolist()
        )
        self.classifier_.fit(matrix, churned)
        self.feature_importances_ = _sum_by_owner(
            self.classifier_.booster_.feature_importance("gain").reshape(1, -1),
            self.owner_,
            len(self.features),
        ).ravel()
        return self

    def decision(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classifier_.booster_.predict(self._transform(frame), raw_score=True))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        shap = np.asarray(
            self.classifier_.booster_.predict(self._transform(frame), pred_contrib=True)
        )
        summed = _sum_by_owner(shap[:, :-1], self.owner_, len(self.features))
        return self._contribution_frame(summed, shap[:, -1], frame.index)

    @property
    def summary(self) -> pd.DataFrame:
        """Per feature: total split gain, the usual tree-model importance."""
        return pd.DataFrame(
            {"feature": list(self.features), "gain": self.feature_importances_}
        ).sort_values("gain", ascending=False, ignore_index=True)


class BlendChurnModel(ChurnModel):
    """Fixed-weight average of the logistic and boosting models in log-odds.

    The two make different mistakes (smooth trends vs interactions), so the average ranks better
    than either; averaging log-odds instead of probabilities keeps explanations exact.
    """

    name = "blend"
    label = "Blend (logistic + boosting, log-odds average)"

    def fit(self, frame: pd.DataFrame, churned: np.ndarray) -> BlendChurnModel:
        self.members_: dict[str, ChurnModel] = {
            LogisticChurnModel.name: LogisticChurnModel(self.column_types).fit(frame, churned),
            GradientBoostingChurnModel.name: GradientBoostingChurnModel(self.column_types).fit(
                frame, churned
            ),
        }
        self.weights_ = dict(BLEND_WEIGHTS)
        return self

    def decision(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(
            sum(w * self.members_[n].decision(frame) for n, w in self.weights_.items())
        )

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = [w * self.members_[n].contributions(frame) for n, w in self.weights_.items()]
        return pd.DataFrame(sum(parts))

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"member": n, "weight": w} for n, w in self.weights_.items()])


MODELS: dict[str, type[ChurnModel]] = {
    model.name: model for model in (LogisticChurnModel, GradientBoostingChurnModel, BlendChurnModel)
}
DEFAULT_MODEL = BlendChurnModel.name


def make_model(name: str, column_types: ColumnTypes) -> ChurnModel:
    if name not in MODELS:
        raise InvalidInput(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](column_types)
