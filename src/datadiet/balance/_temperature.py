"""Group balancing by temperature sampling, with quotas, caps and three modes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datadiet._core import Param, ParamError, register
from datadiet._core._allocate import round_preserving_sum, temperature_proportions, water_fill
from datadiet._core._errors import DataError
from datadiet._core._hashing import hash_ids
from datadiet.select._base import BUDGETED, BaseSelector, Picked, Target
from datadiet.signals._table import Signals

__all__ = ["GroupBalanceSelector"]

_MODES = ("downsample", "upsample", "upweight")


@register("select")
class GroupBalanceSelector(BaseSelector):
    """Rebalance a group column (class, domain, language, cluster) to a budget.

    Each group ``g`` of size ``n_g`` gets a share ``p_g ∝ n_g ** alpha`` of the
    budget (``alpha=1`` keeps the natural mix, ``alpha=0`` makes groups equal;
    ``alpha = 1 / T`` for a sampling temperature ``T``). Explicit ``quotas`` fix
    the count of named groups; ``caps`` bound them. Whatever a group cannot take
    is shared by the others in proportion to ``p_g``. Within a group, rows are
    chosen by their ``(seed, id)`` key.

    Modes decide what happens to a group whose share exceeds its size:

    * ``downsample``: keep at most ``n_g`` rows (no repeats); the budget is met
      exactly while the groups can hold it.
    * ``upsample``: repeat rows (repeat counts differ by at most one within a
      group), at most ``max_repeats`` times each.
    * ``upweight``: keep each row once and give it weight ``share_g / kept_g``,
      like loss upweighting; weights sum to the budget.

    Examples
    --------
    >>> groups = ["a"] * 90 + ["b"] * 10
    >>> sel = GroupBalanceSelector(budget=20, alpha=0.0, seed=0).fit(groups=groups)
    >>> sel.selection_.metrics["groups"]["b"]["kept"]
    10
    """

    method = "balance"
    requires = ("groups",)

    params = (
        *BUDGETED,
        Param("budget", "budget", None, "examples, fraction or (downsample only) tokens; may exceed the input "
              "when upsampling or upweighting; omit it only when quotas name every group", none=True,
              aliases=("-b",)),
        Param("alpha", "float", 1.0, "group share ∝ size^alpha (1: natural mix, 0: equal groups)", low=0),
        Param("mode", "choice", "downsample", "downsample, upsample (repeat rare groups) or upweight (weights)",
              choices=_MODES),
        Param("max_repeats", "int", None, "upsample: most copies of one example; upweight: the largest weight",
              low=1, none=True),
        Param("quotas", "mapping", None, "exact counts for named groups", none=True, value_type=int,
              metavar="G=N,..."),
        Param("caps", "mapping", None, "most examples a (named) group may contribute, repeats included; "
              "one number caps every group", none=True, value_type=int, also=(int,), metavar="G=N,...|N"),
    )

    def repeats_allowed(self) -> bool:
        return self.mode in ("upsample", "upweight")

    def _check_params(self) -> None:
        if self.budget is None and not self.quotas:
            raise ParamError("budget", "given unless quotas name every group", None, type(self).__name__)
        if isinstance(self.caps, (int, np.integer)) and self.caps < 0:
            raise ParamError("caps", "a count >= 0 or a mapping of group names to counts", self.caps,
                             type(self).__name__)

    def _target(self, sig: Signals) -> Target:
        if self.budget is None:
            return Target()
        t = super()._target(sig)
        if t.tokens is not None and self.mode != "downsample":
            raise DataError(f"mode={self.mode!r} takes an example or fraction budget, not tokens")
        return t

    def _group_index(self, names: list[str], d: Mapping[str, int], what: str) -> dict[int, int]:
        out = {}
        for g, v in d.items():
            if str(g) not in names:
                raise DataError(f"{what} names group {g!r}, which is not in the data; groups: {', '.join(names)}")
            out[names.index(str(g))] = int(v)
        return out

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.groups is not None
        names = sig.group_names
        codes = sig.groups
        G = len(names)
        sizes = np.bincount(codes, minlength=G).astype(np.int64)
        use_tokens = target.tokens is not None
        mass = np.bincount(codes, weights=sig.tokens, minlength=G) if use_tokens else sizes.astype(np.float64)

        upper: np.ndarray = mass.astype(np.float64)
        if self.mode == "upsample":
            upper = sizes * float(self.max_repeats) if self.max_repeats else np.full(G, np.inf)
        elif self.mode == "upweight":
            upper = sizes * float(self.max_repeats) if self.max_repeats else np.full(G, np.inf)
        if isinstance(self.caps, (int, np.integer)):
            upper = np.minimum(upper, float(self.caps))
        elif self.caps:
            for gi, v in self._group_index(names, self.caps, "caps").items():
                upper[gi] = min(upper[gi], v)

        fixed = self._group_index(names, self.quotas or {}, "quotas")
        for gi, v in fixed.items():
            if v > upper[gi]:
                raise DataError(f"quota {v} for group {names[gi]!r} is more than it can give ({int(upper[gi])} "
                                 f"in mode {self.mode!r}); lower it or use mode='upsample'")
        if target.examples is None and not use_tokens:
            total = float(sum(fixed.values()))
            if len(fixed) < G:
                missing = [names[i] for i in range(G) if i not in fixed]
                raise DataError(f"without a budget, quotas must name every group; missing {missing}")
        else:
            total = float(target.tokens if use_tokens else target.examples)  # type: ignore[arg-type]
        free = np.array([i not in fixed for i in range(G)])
        rest = total - sum(fixed.values())
        if rest < -1e-9:
            raise DataError(f"quotas add up to {sum(fixed.values())}, more than the budget {int(total)}")
        p = temperature_proportions(sizes, self.alpha) * free
        share = np.zeros(G)
        for gi, v in fixed.items():
            share[gi] = v
        if free.any() and p.sum() > 0:
            share += water_fill(p, np.where(free, upper, 0), rest)
        if share.sum() < total - 1e-6 and not self.allow_all:
            raise DataError(f"the groups can give at most {int(share.sum())} of the budget {int(total)} "
                             f"in mode {self.mode!r} with these caps; lower the budget, raise the caps "
                             "or pass --allow-all")
        h = hash_ids(sig.ids, seed)
        if use_tokens:
            order = np.lexsort((h, codes))
            chosen = self._token_prefix(sig.tokens, codes, order, share)  # type: ignore[arg-type]
            reps = np.ones(len(chosen), dtype=np.int64)
            weights = None
        else:
            q = round_preserving_sum(share, upper)
            if self.mode == "upweight":
                # every group with a share keeps at least one row, so no share is lost to rounding
                k = np.where(share > 0, np.minimum(np.maximum(q, 1), sizes), 0)
                chosen = np.flatnonzero(_smallest_per_group(h, codes, k))
                reps = np.ones(len(chosen), dtype=np.int64)
                w_g = np.divide(share, k, out=np.zeros(G), where=k > 0)
                weights = w_g[codes[chosen]]
            else:
                base, rem = np.divmod(q, np.maximum(sizes, 1))
                chosen, reps = _repeat_counts(h, codes, base, rem)
                weights = None
        kept_g = np.bincount(codes[chosen], minlength=G)
        rep_g = np.bincount(codes[chosen], weights=reps, minlength=G)
        w_sum = np.bincount(codes[chosen], weights=weights if weights is not None else reps * 0 + 1.0, minlength=G)
        metrics = {
            "groups": {
                names[g]: {"input": int(sizes[g]), "target_share": float(share[g]), "kept": int(kept_g[g]),
                           "repeats": int(rep_g[g]), "weight": float(w_sum[g])}
                for g in range(G)
            },
            "alpha": self.alpha,
            "mode": self.mode,
        }
        return Picked(chosen, reps, weights, drop_reason="over_quota", metrics=metrics)

    @staticmethod
    def _token_prefix(tokens: np.ndarray, codes: np.ndarray, order: np.ndarray, share: np.ndarray) -> np.ndarray:
        """Interleave groups by how much of their token share each row would use; cut at the total."""
        tok_sorted = tokens[order].astype(np.float64)
        group_sorted = codes[order]
        csum = np.cumsum(tok_sorted)
        group_start = np.zeros(len(share))
        first = np.flatnonzero(np.r_[True, group_sorted[1:] != group_sorted[:-1]])
        before = np.r_[0.0, csum][first]
        group_start[group_sorted[first]] = before
        used_before = csum - tok_sorted - group_start[group_sorted]
        progress = np.divide(used_before + tok_sorted, share[group_sorted],
                             out=np.full(len(order), np.inf), where=share[group_sorted] > 0)
        glob = order[np.argsort(progress, kind="stable")]
        prefix = np.cumsum(tokens[glob])
        cut = int(np.searchsorted(prefix, share.sum(), side="right"))
        return np.sort(glob[:cut])


#: Rows handled at once by the per-row passes below (bounds their temporaries to a few MB).
_BLOCK = 1 << 20
#: Up to this many groups to cut, each is cut by one masked pass over the rows instead of a sort.
_FEW_GROUPS = 64


def _thresholds(h: np.ndarray, codes: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per group ``g``, the ``k[g]``-th smallest hash (all rows when ``k[g]`` >= the group's size)."""
    G = len(k)
    sizes = np.bincount(codes, minlength=G)
    thr = np.zeros(G, dtype=np.uint64)
    full = k >= sizes
    thr[full] = np.iinfo(np.uint64).max
    partial = np.flatnonzero((k > 0) & ~full)
    if partial.size == 0:
        return thr
    if partial.size <= _FEW_GROUPS:
        # one boolean pass per group: 1 byte per row plus the group's own hashes, no sort of all rows
        for g in partial:
            seg = h[codes == g]
            thr[g] = np.partition(seg, k[g] - 1)[k[g] - 1]
        return thr
    order = np.argsort(codes.astype(np.uint16) if G <= 65536 else codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    hs = h[order]
    del order
    for g in partial:
        seg = hs[starts[g] : starts[g + 1]]
        thr[g] = np.partition(seg, k[g] - 1)[k[g] - 1]
    return thr


def _smallest_per_group(h: np.ndarray, codes: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mask of the ``k[g]`` rows with the smallest hash in each group ``g`` (linear time, no full sort)."""
    thr = _thresholds(h, codes, k)
    out = np.empty(len(h), dtype=bool)
    for s in range(0, len(h), _BLOCK):
        c = codes[s:s + _BLOCK]
        np.less_equal(h[s:s + _BLOCK], thr[c], out=out[s:s + _BLOCK])
        out[s:s + _BLOCK] &= k[c] > 0
    return out


def _repeat_counts(h: np.ndarray, codes: np.ndarray, base: np.ndarray, rem: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a positive count ``base[g] + (row among the rem[g] smallest hashes of g)`` and those counts.

    Computed in blocks of rows, so only the kept rows' arrays grow with the input.
    """
    thr = _thresholds(h, codes, rem)
    rows, reps = [], []
    for s in range(0, len(h), _BLOCK):
        c = codes[s:s + _BLOCK]
        r = base[c] + ((h[s:s + _BLOCK] <= thr[c]) & (rem[c] > 0))
        idx = np.flatnonzero(r)
        rows.append(idx + s)
        reps.append(r[idx].astype(np.int64))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(reps)
