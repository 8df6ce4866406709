"""Throughput of sparsetools.lasso (LARS) against SPAMS and scikit-learn, same process.

The lasso min_a 0.5 ||x - a D||^2 + alpha ||a||_1 on the OMP benchmark's
100,000 real patches and 256-atom dictionary, with ``alpha`` set once per
session (by bisection on 2,000 patches) so that the codes have 10 non-zeros
on average. Grid: float32 and float64, 1 and 2 threads. In each cell:

* ``st_lars``: ``sparsetools.lasso(method="lars")`` on 100,000 patches;
* ``st_cd``: ``sparsetools.lasso(method="cd")`` on the first 20,000;
* ``st_fista``: ``sparsetools.lasso(method="fista")`` on the first 2,000;
* ``spams``: ``spams.lasso(mode=2)`` (LARS) on the 100,000 patches;
* ``sk_cd``: ``sklearn.decomposition.sparse_encode(algorithm="lasso_cd")``
  on the first 5,000 patches (``n_jobs`` = threads);
* ``sk_lars``: the same with ``algorithm="lasso_lars"`` on the first 1,000.

scikit-learn's ``sparse_encode`` takes the same ``alpha`` (it divides by
``n_features`` for its ``Lasso``). Each timed call is the whole public call.
The output of the last round is checked against SPAMS (objective per signal,
supports) so that a broken coder cannot look fast.
"""
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

N_SIGNALS = {"st_lars": 100_000, "st_cd": 20_000, "st_fista": 2_000, "spams": 100_000,
             "sk_cd": 5_000, "sk_lars": 1_000}
ROUNDS = {"st_lars": 3, "st_cd": 2, "st_fista": 2, "spams": 3, "sk_cd": 2, "sk_lars": 2}
N_CHECK = 1_000
TARGET_NNZ = 10.0
#: per-signal objective, relative to SPAMS's (float64 / float32 runs)
OBJECTIVE_RTOL = {"st_lars": {"float64": 1e-9, "float32": 1e-4},
                  "st_cd": {"float64": 1e-6, "float32": 1e-4},
                  "st_fista": {"float64": 1e-6, "float32": 1e-4},
                  "spams": {"float64": 1e-9, "float32": 1e-4},  # threads vs 1
                  "sk_cd": {"float64": 1e-6, "float32": 1e-4},
                  "sk_lars": {"float64": 1e-6, "float32": 1e-4}}

CASES = [(dtype, threads, impl)
         for dtype in ("float32", "float64")
         for threads in (1, 2)
         for impl in ("st_lars", "st_cd", "st_fista", "spams", "sk_cd", "sk_lars")]


@pytest.fixture(scope="session")
def alpha(patches, dictionary):
    """The alpha giving codes with TARGET_NNZ non-zeros on average (bisection).

    Returns
    -------
    alpha : float
        Found on the first 2,000 patches with sparsetools' LARS, float64.
    """
    from sparsetools import lasso

    X, D = patches["float64"][:2000], dictionary["float64"]
    lo, hi = 0.0, float(np.abs(X @ D.T).max())
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        nnz = np.count_nonzero(lasso(X, D, alpha=mid), axis=1).mean()
        lo, hi = (mid, hi) if nnz > TARGET_NNZ else (lo, mid)
    return hi


def make_coder(impl, X, D, alpha, threads):
    """A no-argument callable that returns the codes of `X` as rows (dense)."""
    if impl in ("st_lars", "st_cd", "st_fista"):
        from sparsetools import lasso

        method = impl[3:]
        return lambda: lasso(X, D, alpha=alpha, method=method, n_jobs=threads)
    if impl == "spams":
        spams = pytest.importorskip("spams")
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
        return lambda: spams.lasso(Xf, D=Df, lambda1=alpha, mode=2, numThreads=threads)
    if impl in ("sk_cd", "sk_lars"):
        from sklearn.decomposition import sparse_encode
        from sklearn.exceptions import ConvergenceWarning

        algorithm = "lasso_cd" if impl == "sk_cd" else "lasso_lars"

        def fn():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return sparse_encode(X, D, algorithm=algorithm, alpha=alpha,
                                     n_jobs=threads)
        return fn
    raise ValueError(f"unknown implementation {impl!r}")


def as_rows(impl, out, n):
    """Dense codes of the first `n` signals, one row per signal."""
    if impl == "spams":
        return out[:, :n].toarray().T
    return np.asarray(out[:n])


def objective(X, D, A, alpha):
    """0.5 ||x - a D||^2 + alpha ||a||_1 per row, in float64."""
    X, D, A = (np.asarray(M, dtype=np.float64) for M in (X, D, A))
    return 0.5 * np.sum((X - A @ D) ** 2, axis=1) + alpha * np.abs(A).sum(axis=1)


@pytest.mark.parametrize(
    ("dtype", "threads", "impl"),
    [pytest.param(*c, id=f"{c[0]}-t{c[1]}-{c[2]}",
                  marks=pytest.mark.benchmark(group=f"lasso {c[0]} threads={c[1]}"))
     for c in CASES])
def bench_lasso(benchmark, bench_results, patches, dictionary, alpha, dtype, threads,
                impl):
    """Time one lasso coder in one (dtype, threads) cell, check it, record it."""
    X, D = patches[dtype][:N_SIGNALS[impl]], dictionary[dtype]
    fn = make_coder(impl, X, D, alpha, threads)
    with threadpool_limits(threads):
        out = benchmark.pedantic(fn, rounds=ROUNDS[impl], iterations=1, warmup_rounds=1)

    codes = as_rows(impl, out, N_CHECK)
    ref_fn = make_coder("spams", X[:N_CHECK], D, alpha, 1)
    with threadpool_limits(1):
        ref = as_rows("spams", ref_fn(), N_CHECK)
    f, f_ref = objective(X[:N_CHECK], D, codes, alpha), objective(X[:N_CHECK], D, ref, alpha)
    rtol = OBJECTIVE_RTOL[impl][dtype]
    worst = float(np.max((f - f_ref) / f_ref))
    assert worst <= rtol + 1e-15, f"objective {worst:.2e} above SPAMS's (allowed {rtol})"
    if impl == "st_lars":
        same = np.mean(np.all((codes != 0) == (ref != 0), axis=1))
        assert same >= 0.99, f"supports equal SPAMS's on only {same:.2%}"

    benchmark.extra_info.update(n_signals=X.shape[0], alpha=alpha,
                                nnz=float(np.count_nonzero(codes, axis=1).mean()))
    if benchmark.stats is None:  # --benchmark-disable: nothing was timed
        return
    stats = benchmark.stats.stats
    bench_results.append({"suite": "lasso", "cell": alpha, "impl": impl, "dtype": dtype,
                          "threads": threads, "n_signals": X.shape[0],
                          "min_s": stats.min, "median_s": stats.median,
                          "rounds": stats.rounds})
