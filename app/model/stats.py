"""Honest statistics over the stored per-sample scores of a run (issue 17, point 4).

The unit is the sample, not the sample-epoch: epochs of one sample are averaged first (Inspect's
default "mean" reducer), because epochs of one sample are not independent draws and counting them
separately would make every interval look tighter than it is. Samples without a score (errored,
unscored) are left out and counted, never silently treated as 0.

Proportions (every per-sample score is 0 or 1) get a Wilson score interval; anything else a
percentile bootstrap. Two runs on the same samples are compared pairwise: McNemar's exact test for
binary scores, a paired bootstrap of the mean difference otherwise, always with the bootstrap
interval of the difference. Bootstraps are seeded, so a figure printed today is printed again tomorrow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 20260601  # fixed: the same data always prints the same interval
# Resampling n values that take only k distinct values is a multinomial draw over those k values:
# the same distribution at a fraction of the cost. Above this many distinct values, resample indices.
_MULTINOMIAL_MAX_DISTINCT = 256
_CHUNK_DRAWS = 4_000_000  # index draws per chunk (bounded memory: about 32 MB of int64)
# Index resampling costs n draws per resample: above this many draws in all, fewer resamples are
# taken (never under 1,000) and the method text says how many, e.g. 1,250 for 40,000 distinct values.
_MAX_DRAWS = 50_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval, the n it rests on and how it was computed."""

    estimate: float
    low: float
    high: float
    n: int
    method: str  # e.g. "Wilson score", "percentile bootstrap, 10,000 resamples"
    confidence: float = DEFAULT_CONFIDENCE

    def bound(self, which: str) -> float:
        return {"lower": self.low, "upper": self.high}.get(which, self.estimate)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def text(self) -> str:
        return (f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}] "
                f"({self.confidence:.0%} CI, n={self.n:,}, {self.method})")


@dataclass(frozen=True)
class RunStatistics:
    """The interval of one run's mean per-sample score, with what was left out."""

    interval: Interval | None  # None when no sample has a score
    samples: int  # distinct sample ids
    scored: int  # distinct samples with at least one scored epoch (= interval.n)
    unscored: int  # samples whose every epoch lacks a score (errored / unscored): excluded
    epochs: int  # most epochs seen for one sample
    binary: bool

    @property
    def text(self) -> str:
        if self.interval is None:
            return f"no scored samples ({self.samples} samples, {self.unscored} without a score)"
        extra = f"; {self.unscored} sample(s) without a score excluded" if self.unscored else ""
        per = f"; epochs averaged per sample (up to {self.epochs})" if self.epochs > 1 else ""
        return self.interval.text + extra + per


@dataclass(frozen=True)
class PairedComparison:
    """Run B minus run A over the samples both scored."""

    n: int  # paired samples
    mean_a: float
    mean_b: float
    difference: Interval  # B - A with its bootstrap interval
    method: str  # "McNemar exact" or "paired bootstrap"
    p_value: float | None  # McNemar (binary); None for the bootstrap (the interval decides)
    distinguishable: bool
    only_a: int = 0  # samples scored in A only (not paired)
    only_b: int = 0
    discordant: tuple[int, int] | None = None  # McNemar (A right & B wrong, A wrong & B right)
    alpha: float = 1 - DEFAULT_CONFIDENCE

    @property
    def verdict(self) -> str:
        if self.distinguishable:
            direction = "higher" if self.difference.estimate > 0 else "lower"
            return f"B is {direction} than A beyond noise"
        return "not distinguishable from noise"

    @property
    def text(self) -> str:
        test = (f"McNemar exact p = {self.p_value:.4g} (discordant {self.discordant[0]}/{self.discordant[1]})"
                if self.p_value is not None and self.discordant is not None else self.method)
        unpaired = (f"; unpaired samples left out: {self.only_a} only in A, {self.only_b} only in B"
                    if self.only_a or self.only_b else "")
        return (f"difference B - A = {self.difference.estimate:+.3f} [{self.difference.low:+.3f}, "
                f"{self.difference.high:+.3f}] ({self.difference.confidence:.0%} CI, n={self.n:,} paired, "
                f"{self.difference.method}); {test}: {self.verdict}{unpaired}")


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3)."""
    if n <= 0:
        raise ValueError("a proportion needs at least one trial")
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} trials")
    z = _z(confidence)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, "Wilson score", confidence)


def _bootstrap_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = len(values)
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= _MULTINOMIAL_MAX_DISTINCT:
        draws = rng.multinomial(n, counts / n, size=resamples)
        return np.asarray(draws @ distinct / n, dtype=np.float64)
    out = np.empty(resamples, dtype=np.float64)
    per_chunk = max(1, _CHUNK_DRAWS // n)
    for start in range(0, resamples, per_chunk):
        k = min(per_chunk, resamples - start)
        # the narrowest index type draws fastest (uint16 up to 65,536 values)
        idx = rng.integers(0, n, size=(k, n), dtype=np.uint16 if n <= 2**16 else np.int32 if n < 2**31 else np.int64)
        out[start:start + k] = values[idx].mean(axis=1)
    return out


def bootstrap_mean(values: Iterable[float], confidence: float = DEFAULT_CONFIDENCE,
                   resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Interval:
    """Percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13)."""
    arr = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("a bootstrap needs at least one value")
    if resamples < 100:
        raise ValueError("a bootstrap needs at least 100 resamples")
    _z(confidence)
    if len(np.unique(arr)) > _MULTINOMIAL_MAX_DISTINCT:
        resamples = min(resamples, max(1_000, _MAX_DRAWS // arr.size))
    means = _bootstrap_means(arr, resamples, np.random.default_rng(seed))
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(arr.mean()), float(low), float(high), int(arr.size),
                    f"percentile bootstrap, {resamples:,} resamples", confidence)


def per_sample_means(scores: Mapping[tuple[str, int], float | None]) -> tuple[dict[str, float | None], int]:
    """{(sample id, epoch): score} -> ({sample id: mean over scored epochs, None if none}, most epochs)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    epochs: dict[str, int] = {}
    for (sid, _epoch), score in scores.items():
        epochs[sid] = epochs.get(sid, 0) + 1
        if score is None or not math.isfinite(score):
            continue
        sums[sid] = sums.get(sid, 0.0) + score
        counts[sid] = counts.get(sid, 0) + 1
    means: dict[str, float | None] = {sid: (sums[sid] / counts[sid] if sid in sums else None) for sid in epochs}
    return means, max(epochs.values(), default=0)


def _scored(means: Mapping[str, float | None]) -> dict[str, float]:
    return {k: v for k, v in means.items() if v is not None and math.isfinite(v)}


def _is_binary(arr: np.ndarray) -> bool:
    return bool(np.all((arr == 0.0) | (arr == 1.0)))


def summarize(means: Mapping[str, float | None] | Iterable[float | None], epochs: int = 1,
              confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED) -> RunStatistics:
    """Interval of the mean over samples, from per-sample means (None: the sample has no score);
    a mapping by sample id or just the values."""
    values = list(means.values()) if isinstance(means, Mapping) else list(means)
    arr = np.array([v if v is not None else np.nan for v in values], dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    unscored = len(values) - int(arr.size)
    if not arr.size:
        return RunStatistics(None, len(values), 0, unscored, epochs, False)
    binary = _is_binary(arr)
    if binary:
        interval = wilson(int(arr.sum()), int(arr.size), confidence)
    else:
        interval = bootstrap_mean(arr, confidence, resamples, seed)
    return RunStatistics(interval, len(values), int(arr.size), unscored, epochs, binary)


def run_statistics(scores: Mapping[tuple[str, int], float | None], confidence: float = DEFAULT_CONFIDENCE,
                   resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> RunStatistics:
    """Interval of a run's mean score from its per-sample, per-epoch scores (see the module docstring)."""
    means, epochs = per_sample_means(scores)
    return summarize(means, epochs, confidence, resamples, seed)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of b against b + c discordant pairs at 1/2."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    # log-space sum keeps large n (thousands of discordant pairs) exact enough and fast
    log_half_n = -n * math.log(2)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n for i in range(k + 1)]
    top = max(terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in terms)
    return min(1.0, 2 * tail)


def paired_bootstrap(differences: np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
                     resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Interval:
    """Percentile bootstrap interval of the mean paired difference (pairs are resampled together)."""
    iv = bootstrap_mean(differences, confidence, resamples, seed)
    return Interval(iv.estimate, iv.low, iv.high, iv.n, f"paired bootstrap, {resamples:,} resamples", confidence)


def compare_runs(a: Mapping[tuple[str, int], float | None], b: Mapping[tuple[str, int], float | None],
                 confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> PairedComparison | None:
    """B minus A over the samples both runs scored; None when no sample is shared."""
    return compare_means(per_sample_means(a)[0], per_sample_means(b)[0], confidence, resamples, seed)


def compare_means(a: Mapping[str, float | None], b: Mapping[str, float | None],
                  confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED) -> PairedComparison | None:
    """compare_runs over per-sample means (None: the sample has no score in that run)."""
    ma, mb = _scored(a), _scored(b)
    shared = sorted(ma.keys() & mb.keys())
    if not shared:
        return None
    va = np.fromiter((ma[s] for s in shared), dtype=np.float64, count=len(shared))
    vb = np.fromiter((mb[s] for s in shared), dtype=np.float64, count=len(shared))
    diff = paired_bootstrap(vb - va, confidence, resamples, seed)
    only_a, only_b = len(ma.keys() - mb.keys()), len(mb.keys() - ma.keys())
    alpha = 1 - confidence
    if _is_binary(va) and _is_binary(vb):
        a_only = int(np.sum((va == 1) & (vb == 0)))
        b_only = int(np.sum((va == 0) & (vb == 1)))
        p = mcnemar_exact(a_only, b_only)
        return PairedComparison(len(shared), float(va.mean()), float(vb.mean()), diff, "McNemar exact", p,
                                p < alpha, only_a, only_b, (a_only, b_only), alpha)
    distinguishable = not diff.contains(0.0)
    return PairedComparison(len(shared), float(va.mean()), float(vb.mean()), diff, "paired bootstrap", None,
                            distinguishable, only_a, only_b, None, alpha)
