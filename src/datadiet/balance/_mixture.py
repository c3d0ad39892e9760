"""Mixture laws: fit proxy runs (mixture -> loss) and propose the mixture with the lowest predicted loss."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from datadiet._core import Declared, Param, derived_seed, register, resolve_seed
from datadiet._core._allocate import round_preserving_sum
from datadiet._core._errors import DataError, MissingExtraError

__all__ = ["MixtureLaw", "capped_simplex"]


def capped_simplex(w: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Rescale rows of non-negative ``w`` to sum to 1 with ``w <= caps`` (water-filling the excess).

    Needs ``sum(caps) >= 1``; a row of zeros is spread evenly first.
    """
    w = np.atleast_2d(np.asarray(w, dtype=np.float64)).copy()
    caps = np.asarray(caps, dtype=np.float64)
    w[w.sum(axis=1) <= 0] = 1.0
    fixed = np.zeros(w.shape, dtype=bool)
    for _ in range(len(caps) + 1):
        rest = 1.0 - np.where(fixed, caps[None, :], 0.0).sum(axis=1, keepdims=True)
        free_sum = np.where(fixed, 0.0, w).sum(axis=1, keepdims=True)
        scaled = np.where(fixed, caps[None, :],
                          w * np.divide(rest, free_sum, out=np.zeros_like(rest), where=free_sum > 0))
        over = ~fixed & (scaled > caps[None, :])
        if not over.any():
            # rows whose free entries are all zero but still have room: spread it over the free room
            short = 1.0 - scaled.sum(axis=1)
            if (short > 1e-12).any():
                room = np.where(fixed, 0.0, caps[None, :] - scaled)
                share = np.divide(room, room.sum(axis=1, keepdims=True), out=np.zeros_like(room),
                                  where=room.sum(axis=1, keepdims=True) > 0)
                scaled += share * np.maximum(short, 0)[:, None]
            return scaled
        fixed |= over
    return scaled


@register("balance")
class MixtureLaw(Declared):
    """Fit a data mixing law to proxy runs and propose the mixture with the lowest predicted loss.

    The proxy runs are small models trained on mixtures ``r`` (one weight per
    domain, summing to 1) with their validation loss. Two laws:

    * ``exponential`` -- ``L(r) = c + k * exp(t . r)`` (the "Data Mixing Laws" form,
      Ye et al., 2024): ``D + 2`` parameters, needs at least ``D + 2`` runs. The
      best mixture under the limits is then found exactly: ``t . r`` is linear, so
      domains are filled in order of ``t_j`` up to their limits.
    * ``lightgbm`` -- a LightGBM regressor of the loss on the mixture (RegMix,
      Liu et al., 2024); the proposal averages the ``top_k`` of ``n_candidates``
      Dirichlet mixtures with the lowest predicted loss. Needs ``lightgbm``.

    Per-domain limits: ``available`` (tokens a domain has), ``total_tokens`` (the
    training budget) and ``max_epochs`` cap a domain's weight at
    ``available * max_epochs / total_tokens``; ``max_weight`` caps it directly.

    ``weights_`` (domain -> weight) is what a group-weighted sampler takes;
    :meth:`quotas` turns it into counts for
    :class:`~datadiet.GroupBalanceSelector` (``quotas=``). ``cv_`` holds the
    leave-one-out fit quality (Spearman correlation and mean absolute error on
    held-out runs). Python API only.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> R = rng.dirichlet(np.ones(3), size=12)
    >>> loss = 2.0 + 0.5 * np.exp(R @ np.array([-1.0, 0.5, -2.0]))
    >>> law = MixtureLaw(max_weight={"a": 1.0, "b": 1.0, "c": 0.6}).fit(R, loss, domains=["a", "b", "c"])
    >>> {k: round(v, 2) for k, v in law.weights_.items()}
    {'a': 0.4, 'b': 0.0, 'c': 0.6}
    """

    method = "mixture-law"
    summary = "fit proxy runs (mixture -> loss) with a mixing law and propose the best mixture under limits"
    example = "datadiet.balance.MixtureLaw(law='exponential').fit(mixtures, losses, domains=names).weights_"
    params = (
        Param("law", "choice", "exponential", "exponential (Data Mixing Laws) or lightgbm (RegMix)",
              choices=("exponential", "lightgbm"), cli=False),
        Param("available", "mapping", None, "tokens each domain has (with total_tokens: a cap on its weight)",
              none=True, cli=False),
        Param("total_tokens", "float", None, "tokens the model trains on", low=0, low_open=True, none=True,
              cli=False),
        Param("max_epochs", "float", 1.0, "most passes over a domain's tokens", low=0, low_open=True, cli=False),
        Param("max_weight", "mapping", None, "a cap on each named domain's weight", none=True, cli=False),
        Param("n_candidates", "int", 100_000, "lightgbm: random mixtures scored", low=1, cli=False),
        Param("top_k", "int", 100, "lightgbm: best candidates averaged into the proposal", low=1, cli=False),
        Param("seed", "seed", 0, "seed of the candidates and of LightGBM", cli=False),
    )

    def _caps(self, names: list[str]) -> np.ndarray:
        caps = np.ones(len(names))
        for what, d in (("available", self.available), ("max_weight", self.max_weight)):
            unknown = set(map(str, d or {})) - set(names)
            if unknown:
                raise DataError(f"{what} names domains {sorted(unknown)} not in the runs; domains: {names}")
        if self.available:
            if self.total_tokens is None:
                raise DataError("available needs total_tokens (the training budget) to turn tokens into weights")
            for i, g in enumerate(names):
                if g in self.available:
                    caps[i] = min(caps[i], float(self.available[g]) * self.max_epochs / float(self.total_tokens))
        for i, g in enumerate(names):
            if self.max_weight and g in self.max_weight:
                caps[i] = min(caps[i], float(self.max_weight[g]))
        if caps.sum() < 1 - 1e-9:
            raise DataError(f"the domain limits allow weights summing to {caps.sum():.3g} < 1; "
                            "raise available, max_epochs or max_weight")
        return caps

    def fit(self, mixtures: Any, losses: Any, domains: Sequence[str] | None = None,
            loss_weights: Any = None) -> MixtureLaw:
        """Fit the law to runs: ``mixtures`` (runs x domains, or a list of ``{domain: weight}``) and losses.

        ``losses`` is one value per run, or one column per validation part (runs x parts): the
        exponential law is then fitted per part and the target is their ``loss_weights``-weighted
        sum (equal weights by default), as "Data Mixing Laws" does for a multi-domain validation set.
        """
        self.validate_params()
        R, names = _as_matrix(mixtures, domains)
        y = np.asarray(losses, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] != R.shape[0]:
            raise DataError(f"losses must hold one value (or one row of parts) per run ({R.shape[0]}); "
                            f"got shape {np.shape(losses)}")
        if not np.isfinite(R).all() or not np.isfinite(y).all() or (R < 0).any():
            raise DataError("mixtures must be non-negative and losses finite")
        v = np.ones(y.shape[1]) / y.shape[1] if loss_weights is None else np.asarray(loss_weights, np.float64)
        if v.shape != (y.shape[1],) or (v < 0).any() or v.sum() <= 0:
            raise DataError(f"loss_weights must hold one non-negative weight per loss column ({y.shape[1]})")
        v = v / v.sum()
        R = R / R.sum(axis=1, keepdims=True)
        need = R.shape[1] + 2 if self.law == "exponential" else 3
        if R.shape[0] < need:
            raise DataError(f"the {self.law} law needs at least {need} runs for {R.shape[1]} domains; "
                            f"got {R.shape[0]}")
        seed = resolve_seed(self.seed)
        caps = self._caps(names)
        self.domains_ = names
        self.seed_ = seed
        self.loss_weights_ = v
        self.model_ = self._fit_model(R, y, seed)
        self.cv_ = self._loo(R, y, seed)
        w = self._propose(caps, seed)
        self.mixture_ = w
        self.weights_ = {g: float(x) for g, x in zip(names, w, strict=True)}
        self.predicted_loss_ = float(self.predict(w[None, :])[0])
        return self

    def fit_runs(self, run: Callable[[dict[str, float]], Any], domains: Sequence[str], n_runs: int,
                 loss_weights: Any = None) -> MixtureLaw:
        """Make ``n_runs`` proxy runs with ``run({domain: weight}) -> loss(es)`` (Dirichlet mixtures), then fit."""
        seed = resolve_seed(self.seed)
        rng = np.random.default_rng(derived_seed(seed, "proxy-runs"))
        names = [str(d) for d in domains]
        R = rng.dirichlet(np.ones(len(names)), size=int(n_runs))
        losses = np.asarray([run(dict(zip(names, map(float, r), strict=True))) for r in R], dtype=np.float64)
        self.runs_ = (R, losses)
        return self.fit(R, losses, names, loss_weights)

    # --- the two laws ------------------------------------------------------
    def _fit_model(self, R: np.ndarray, y: np.ndarray, seed: int, start: Any = None) -> Any:
        if self.law == "exponential":
            return [_fit_exponential(R, y[:, j], None if start is None else start[j]) for j in range(y.shape[1])]
        try:
            import lightgbm as lgb
        except ImportError:
            raise MissingExtraError("the lightgbm mixture law needs LightGBM: pip install 'datadiet[balance]' "
                                    "(or lightgbm)") from None
        model = lgb.LGBMRegressor(n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=2,
                                  random_state=seed % (2**31), verbose=-1, n_jobs=1)
        return model.fit(R, y @ self.loss_weights_)

    def predict(self, mixtures: Any) -> np.ndarray:
        """Predicted (weighted) loss of mixtures (rows in the order of ``domains_``)."""
        return self._predict(self.model_, np.atleast_2d(np.asarray(mixtures, dtype=np.float64)))

    def _predict(self, model: Any, R: np.ndarray) -> np.ndarray:
        if self.law == "exponential":
            return sum(v * (c + k * np.exp(np.clip(R @ t, -50, 50)))
                       for v, (c, k, t) in zip(self.loss_weights_, model, strict=True))  # type: ignore[return-value]
        return np.asarray(model.predict(R), dtype=np.float64)

    def _loo(self, R: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
        from scipy.stats import spearmanr

        total = y @ self.loss_weights_
        pred = np.empty(len(total))
        for i in range(len(total)):
            m = np.ones(len(total), dtype=bool)
            m[i] = False
            model = self._fit_model(R[m], y[m], seed, start=self.model_ if self.law == "exponential" else None)
            pred[i] = self._predict(model, R[i:i + 1])[0]
        rho = spearmanr(pred, total).statistic if len(np.unique(total)) > 1 else float("nan")
        return {"spearman": float(rho), "mae": float(np.abs(pred - total).mean()), "runs": len(total)}

    def _propose(self, caps: np.ndarray, seed: int) -> np.ndarray:
        if self.law == "exponential" and len(self.model_) == 1:
            _, k, t = self.model_[0]
            order = np.argsort(t if k >= 0 else -t, kind="stable")  # exact: fill by t, smallest first (k > 0)
            w = np.zeros(len(t))
            left = 1.0
            for j in order:
                w[j] = min(caps[j], left)
                left -= w[j]
            return w
        rng = np.random.default_rng(derived_seed(seed, "candidates"))
        cand = capped_simplex(rng.dirichlet(np.ones(len(caps)), size=self.n_candidates), caps)
        pred = self.predict(cand)
        if self.law == "lightgbm":
            best = cand[np.argsort(pred, kind="stable")[: self.top_k]].mean(axis=0)
            return capped_simplex(best[None, :], caps)[0]
        # a sum of exponentials: polish the best candidate with SLSQP on the capped simplex
        from scipy.optimize import minimize

        x0 = cand[int(np.argmin(pred))]
        r = minimize(lambda w: float(self.predict(w[None, :])[0]), x0, method="SLSQP",
                     bounds=[(0.0, float(c)) for c in caps],
                     constraints=[{"type": "eq", "fun": lambda w: float(w.sum() - 1.0)}])
        w = capped_simplex(np.clip(r.x, 0, None)[None, :], caps)[0] if r.success else x0
        return w if self.predict(w[None, :])[0] <= pred.min() else x0

    def quotas(self, budget: int) -> dict[str, int]:
        """Counts per domain for ``budget`` examples (sum exactly ``budget``), for ``GroupBalanceSelector``."""
        q = round_preserving_sum(np.asarray(self.mixture_) * int(budget), np.full(len(self.mixture_), np.inf))
        return {g: int(v) for g, v in zip(self.domains_, q, strict=True)}


def _as_matrix(mixtures: Any, domains: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if isinstance(mixtures, Sequence) and mixtures and isinstance(mixtures[0], Mapping):
        names = [str(d) for d in domains] if domains is not None else sorted({str(k) for m in mixtures for k in m})
        R = np.array([[float(m.get(g, 0.0)) for g in names] for m in mixtures])
        return R, names
    R = np.asarray(mixtures, dtype=np.float64)
    if R.ndim != 2:
        raise DataError(f"mixtures must be a (runs, domains) array or a list of mappings; got shape {R.shape}")
    names = [str(d) for d in domains] if domains is not None else [f"d{i}" for i in range(R.shape[1])]
    if len(names) != R.shape[1]:
        raise DataError(f"{len(names)} domain names for {R.shape[1]} mixture columns")
    return R, names


def _fit_exponential(R: np.ndarray, y: np.ndarray, start: Any = None) -> tuple[float, float, np.ndarray]:
    """Least squares of ``y = c + k exp(R t)``; several starts (or one given ``start``), the best kept."""
    from scipy.optimize import least_squares

    D = R.shape[1]
    spread = float(y.max() - y.min()) or 1.0

    def resid(p: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * np.exp(np.clip(R @ p[2:], -50, 50)) - y

    best = None
    if start is not None:
        starts = [np.r_[start[0], start[1], start[2]]]
    else:
        # from a linear fit of y on R (for small t, exp(R t) ~ 1 + R t), both signs of k
        coef, *_ = np.linalg.lstsq(np.c_[np.ones(len(y)), R], y, rcond=None)
        starts = []
        for scale in (0.5, 2.0):
            for sign in (1.0, -1.0):
                k0 = sign * spread * scale
                starts.append(np.r_[float(y.min()) - abs(k0), k0, coef[1:] / k0])
    for p0 in starts:
        # |t| <= 10: a mixture moves exp(t . r) by at most e^10, which keeps held-out predictions sane
        lo = np.r_[-np.inf, -np.inf, np.full(D, -10.0)]
        hi = np.r_[np.inf, np.inf, np.full(D, 10.0)]
        r = least_squares(resid, np.clip(p0, lo + 1e-9, hi - 1e-9), bounds=(lo, hi), max_nfev=500)
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    return float(best.x[0]), float(best.x[1]), np.asarray(best.x[2:], dtype=np.float64)
