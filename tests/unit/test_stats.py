"""app.model.stats against values computed independently: statsmodels / scipy (dev extras only) and
published worked examples.

The references are imported inside the tests that use them: scipy and statsmodels (with pandas) cost
~2.5 s of CPU to import and every xdist worker collects every file, while only one runs this one."""

from __future__ import annotations

import numpy as np
import pytest

from app.model import stats


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 2), (2, 2), (0, 10), (7, 10), (81, 263), (39_000, 40_000)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    from statsmodels.stats.proportion import proportion_confint
    iv = stats.wilson(k, n)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert iv.low == pytest.approx(low, abs=1e-12)
    assert iv.high == pytest.approx(high, abs=1e-12)
    assert iv.estimate == k / n and iv.n == n and iv.method == "Wilson score"


def test_wilson_published_example() -> None:
    from statsmodels.stats.proportion import proportion_confint
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I: 81/263 -> 0.2553 to 0.3662 (method 3).
    iv = stats.wilson(81, 263)
    assert (round(iv.low, 4), round(iv.high, 4)) == (0.2553, 0.3662)
    # 99% as well (statsmodels)
    low, high = proportion_confint(81, 263, alpha=0.01, method="wilson")
    iv99 = stats.wilson(81, 263, confidence=0.99)
    assert (iv99.low, iv99.high) == pytest.approx((low, high), abs=1e-12)


def test_wilson_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        stats.wilson(3, 2)
    with pytest.raises(ValueError):
        stats.wilson(0, 0)


def test_bootstrap_matches_scipy_percentile() -> None:
    from scipy import stats as sps
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 0.2, size=400)  # continuous: index resampling path
    ours = stats.bootstrap_mean(values.tolist(), resamples=10_000)
    ref = sps.bootstrap((values,), np.mean, n_resamples=10_000, method="percentile", confidence_level=0.95,
                        random_state=np.random.default_rng(1)).confidence_interval
    width = ref.high - ref.low
    assert ours.low == pytest.approx(ref.low, abs=0.05 * width)
    assert ours.high == pytest.approx(ref.high, abs=0.05 * width)
    assert ours.estimate == pytest.approx(values.mean())
    assert "bootstrap" in ours.method and ours.n == 400


def test_bootstrap_few_distinct_values_matches_scipy() -> None:
    from scipy import stats as sps
    # partial credit scores 0 / 0.5 / 1: the multinomial path must give the same distribution
    rng = np.random.default_rng(3)
    values = rng.choice([0.0, 0.5, 1.0], p=[0.5, 0.2, 0.3], size=300)
    ours = stats.bootstrap_mean(values.tolist())
    ref = sps.bootstrap((values,), np.mean, n_resamples=10_000, method="percentile",
                        random_state=np.random.default_rng(2)).confidence_interval
    width = ref.high - ref.low
    assert ours.low == pytest.approx(ref.low, abs=0.05 * width)
    assert ours.high == pytest.approx(ref.high, abs=0.05 * width)


def test_bootstrap_is_reproducible() -> None:
    values = [0.1 * i for i in range(300)]
    assert stats.bootstrap_mean(values) == stats.bootstrap_mean(values)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (1, 0), (3, 9), (10, 10), (25, 40), (400, 470), (2000, 2150)])
def test_mcnemar_exact_matches_statsmodels(b: int, c: int) -> None:
    from scipy import stats as sps
    from statsmodels.stats.contingency_tables import mcnemar
    table = [[50, b], [c, 50]]
    ref = mcnemar(table, exact=True).pvalue
    assert stats.mcnemar_exact(b, c) == pytest.approx(ref, rel=1e-9, abs=1e-300)
    if b + c:
        assert stats.mcnemar_exact(b, c) == pytest.approx(sps.binomtest(min(b, c), b + c, 0.5).pvalue, rel=1e-9)


def test_run_statistics_averages_epochs_and_excludes_unscored() -> None:
    from statsmodels.stats.proportion import proportion_confint
    scores = {("a", 1): 1.0, ("a", 2): 1.0, ("b", 1): 0.0, ("b", 2): 0.0, ("c", 1): None, ("c", 2): None,
              ("d", 1): 1.0, ("d", 2): 1.0}
    st = stats.run_statistics(scores)
    assert (st.samples, st.scored, st.unscored, st.epochs, st.binary) == (4, 3, 1, 2, True)
    assert st.interval is not None and st.interval.n == 3  # samples, not sample-epochs
    ref = proportion_confint(2, 3, method="wilson")
    assert (st.interval.low, st.interval.high) == pytest.approx(ref)
    assert "1 sample(s) without a score excluded" in st.text and "n=3" in st.text


def test_run_statistics_non_binary_uses_bootstrap() -> None:
    # epochs disagree -> per-sample means of 0.5 -> not a proportion any more
    scores = {(f"s{i}", e): float((i + e) % 2) for i in range(50) for e in (1, 2)} | {("x", 1): 1.0}
    st = stats.run_statistics(scores)
    assert not st.binary and st.interval is not None and "bootstrap" in st.interval.method


def test_compare_runs_binary_uses_mcnemar() -> None:
    from statsmodels.stats.contingency_tables import mcnemar
    a = {(f"s{i}", 1): 1.0 if i < 40 else 0.0 for i in range(100)}
    b = {(f"s{i}", 1): 1.0 if i < 60 else 0.0 for i in range(100)} | {("extra", 1): 1.0}
    cmp = stats.compare_runs(a, b)
    assert cmp is not None and cmp.method == "McNemar exact"
    assert cmp.discordant == (0, 20)
    assert cmp.p_value == pytest.approx(mcnemar([[40, 0], [20, 40]], exact=True).pvalue)
    assert cmp.distinguishable and cmp.only_b == 1 and cmp.n == 100
    assert cmp.difference.estimate == pytest.approx(0.2)
    assert cmp.difference.low > 0


def test_compare_runs_small_difference_is_noise() -> None:
    a = {(f"s{i}", 1): 1.0 if i % 2 else 0.0 for i in range(40)}
    b = dict(a) | {("s0", 1): 1.0}  # one sample flipped
    cmp = stats.compare_runs(a, b)
    assert cmp is not None and not cmp.distinguishable
    assert "not distinguishable from noise" in cmp.text


def test_compare_runs_continuous_uses_paired_bootstrap() -> None:
    from scipy import stats as sps
    rng = np.random.default_rng(11)
    base = rng.random(500)
    a = {(f"s{i}", 1): float(v) for i, v in enumerate(base)}
    b = {(f"s{i}", 1): float(v + 0.05 + rng.normal(0, 0.01)) for i, v in enumerate(base)}
    cmp = stats.compare_runs(a, b)
    assert cmp is not None and cmp.method == "paired bootstrap" and cmp.p_value is None
    diffs = np.array([b[k] - a[k] for k in a])
    ref = sps.bootstrap((diffs,), np.mean, method="percentile",
                        random_state=np.random.default_rng(5)).confidence_interval
    width = ref.high - ref.low
    assert cmp.difference.low == pytest.approx(ref.low, abs=0.05 * width)
    assert cmp.difference.high == pytest.approx(ref.high, abs=0.05 * width)
    assert cmp.distinguishable


def test_compare_runs_without_shared_samples() -> None:
    assert stats.compare_runs({("a", 1): 1.0}, {("b", 1): 1.0}) is None
