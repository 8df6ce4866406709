"""Throughput of sparsetools OMP/ORMP against SPAMS and scikit-learn, same process.

Grid: ``n_nonzero_coefs`` k in (5, 10, 20), float32 and float64, 1 and 2
threads. In each (k, dtype, threads) cell four coders are timed:

* ``st_ormp``: ``sparsetools.orthogonal_mp(method="ormp")`` on 100,000 patches;
* ``spams``: ``spams.omp`` (also ORMP) on the same 100,000 patches;
* ``st_omp``: ``sparsetools.orthogonal_mp(method="omp")`` on 100,000 patches;
* ``sklearn``: ``sklearn.linear_model.orthogonal_mp_gram`` (classic OMP, a
  Python loop per signal) on the first 5,000 patches only.

Each timed call covers the whole public call, Gram matrix and correlations
included, and each coder returns its native output (dense rows for
sparsetools, a CSC matrix for SPAMS, dense columns for scikit-learn). Every
BLAS/OpenMP pool is capped with ``threadpool_limits(threads)`` around the
timing. The output of the last timed round is checked against a reference so
that a broken coder cannot look fast.
"""
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

N_SKLEARN = 5_000  # sklearn's per-signal Python loop is timed on fewer signals
N_CHECK = 2_000  # signals whose supports are compared with the reference
MIN_AGREEMENT = 0.999  # fraction of N_CHECK supports that must match
ROUNDS = {"st_ormp": 3, "spams": 3, "st_omp": 3, "sklearn": 2}
REFERENCE = {"st_ormp": "spams", "spams": "spams", "st_omp": "sklearn",
             "sklearn": "sklearn"}

CASES = [(k, dtype, threads, impl)
         for k in (5, 10, 20)
         for dtype in ("float32", "float64")
         for threads in (1, 2)
         for impl in ("st_ormp", "spams", "st_omp", "sklearn")]


def make_coder(impl, X, D, k, threads):
    """A no-argument callable that codes `X` over `D` with one implementation.

    Parameters
    ----------
    impl : {"st_ormp", "st_omp", "spams", "sklearn"}
        Implementation.
    X : ndarray of shape (n_signals, n_features)
        Signals as rows, C-contiguous.
    D : ndarray of shape (n_components, n_features)
        Unit-norm atoms as rows, same dtype as `X`.
    k : int
        Number of non-zero coefficients per code.
    threads : int
        Threads passed to the implementation (SPAMS, sparsetools).

    Returns
    -------
    fn : callable
        Runs the coder and returns its native output.
    """
    if impl in ("st_ormp", "st_omp"):
        from sparsetools import orthogonal_mp

        method = impl[3:]
        return lambda: orthogonal_mp(X, D, n_nonzero_coefs=k, method=method,
                                     n_jobs=threads)
    if impl == "spams":
        spams = pytest.importorskip("spams")
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
        # eps and lambda1 must be given: without them the float32 path
        # returns all-zero codes.
        return lambda: spams.omp(Xf, Df, L=k, eps=0.0, lambda1=0.0,
                                 numThreads=threads)
    if impl == "sklearn":
        from sklearn.linear_model import orthogonal_mp_gram

        def fn():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # premature stop
                return orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=k,
                                          copy_Xy=False)
        return fn
    raise ValueError(f"unknown implementation {impl!r}")


def as_rows(impl, out, n=None):
    """Dense codes, one row per signal, of the first `n` signals of a native output."""
    if impl == "spams":
        out = out[:, :n] if n is not None else out
        return out.toarray().T
    if impl == "sklearn":
        return out[:, :n].T
    return out[:n]


def nnz_per_signal(impl, out):
    """Number of non-zero coefficients of each signal's code."""
    if impl == "spams":
        out = out.copy()
        out.eliminate_zeros()
        return np.diff(out.indptr)
    return np.count_nonzero(out, axis=0 if impl == "sklearn" else 1)


@pytest.fixture(scope="session")
def references(patches, dictionary):
    """Untimed reference codes of the first N_CHECK patches, built on demand.

    Returns
    -------
    get : callable
        ``get(impl, k, dtype)`` returns the dense codes of SPAMS (for
        ``impl="spams"``, ORMP) or scikit-learn (``"sklearn"``, OMP), on one
        thread, as rows.
    """
    cache = {}

    def get(impl, k, dtype):
        key = (impl, k, dtype)
        if key not in cache:
            X, D = patches[dtype][:N_CHECK], dictionary[dtype]
            with threadpool_limits(1):
                cache[key] = as_rows(impl, make_coder(impl, X, D, k, 1)())
        return cache[key]
    return get


def check_codes(codes, nnz, ref, X, D, k):
    """Assert that codes are valid: k non-zeros, reference supports, residual.

    Parameters
    ----------
    codes : ndarray of shape (N_CHECK, n_components)
        Codes of the first N_CHECK signals, as rows.
    nnz : ndarray of shape (n_signals,)
        Non-zeros per code over all the timed signals.
    ref : ndarray of shape (N_CHECK, n_components)
        Reference codes of the same signals.
    X : ndarray of shape (N_CHECK, n_features)
        The signals.
    D : ndarray of shape (n_components, n_features)
        The dictionary.
    k : int
        Requested number of non-zeros.
    """
    assert nnz.max() <= k, f"codes with more than {k} non-zeros"
    full = np.mean(nnz == k)
    assert full >= MIN_AGREEMENT, f"only {full:.4%} of codes have {k} non-zeros"
    same = np.mean(np.all((codes != 0) == (ref != 0), axis=1))
    assert same >= MIN_AGREEMENT, f"supports match the reference on only {same:.4%}"
    X, D = X.astype(np.float64), D.astype(np.float64)
    err = np.mean(np.sum((X - codes.astype(np.float64) @ D) ** 2, axis=1))
    err_ref = np.mean(np.sum((X - ref.astype(np.float64) @ D) ** 2, axis=1))
    assert np.isclose(err, err_ref, rtol=1e-3), f"residual {err:.6g} vs {err_ref:.6g}"


@pytest.mark.parametrize(
    ("k", "dtype", "threads", "impl"),
    [pytest.param(*c, id=f"k{c[0]}-{c[1]}-t{c[2]}-{c[3]}",
                  marks=pytest.mark.benchmark(group=f"k={c[0]} {c[1]} threads={c[2]}"))
     for c in CASES])
def bench_coder(benchmark, bench_results, patches, dictionary, references,
                k, dtype, threads, impl):
    """Time one coder in one (k, dtype, threads) cell, check its output, record it."""
    X, D = patches[dtype], dictionary[dtype]
    if impl == "sklearn":
        X = X[:N_SKLEARN]
    fn = make_coder(impl, X, D, k, threads)
    with threadpool_limits(threads):
        out = benchmark.pedantic(fn, rounds=ROUNDS[impl], iterations=1, warmup_rounds=1)

    ref = references(REFERENCE[impl], k, dtype)
    check_codes(as_rows(impl, out, N_CHECK), nnz_per_signal(impl, out), ref,
                X[:N_CHECK], D, k)

    n_signals = X.shape[0]
    benchmark.extra_info["n_signals"] = n_signals
    if benchmark.stats is None:  # --benchmark-disable: nothing was timed
        return
    stats = benchmark.stats.stats
    benchmark.extra_info["signals_per_s"] = n_signals / stats.min
    bench_results.append({"suite": "omp", "cell": k, "impl": impl, "dtype": dtype,
                          "threads": threads, "n_signals": n_signals,
                          "min_s": stats.min, "median_s": stats.median,
                          "rounds": stats.rounds})
