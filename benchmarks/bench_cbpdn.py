"""CBPDN: sparsetools.conv_bpdn against sporco.admm.cbpdn.ConvBPDN, same process.

The problem of ``../shared/bench/anchors/bench_cbpdn.py``: the high-pass part
(``tikhonov_split(s, 5, 16)``, equal to SPORCO's ``tikhonov_filter``) of
scikit-image's ``camera`` downscaled by 2x2 averaging to 256x256, SPORCO's
bundled 64-filter 8x8 gray dictionary (``util.convdicts()["G:8x8x64"]``),
float32, a fixed number of iterations (``tol=0`` / ``RelStopTol=0``), the
default ``rho = 50 alpha + 1`` with SPORCO's residual balancing and
relaxation 1.8 on both sides. Cases: ``alpha`` 0.2 and 0.05 at 256x256; 0.2
at 128x128 and 512x512 (how time grows with the image) and on a batch of
16 tiles 64x64 (the 256x256 image cut 4x4). SPORCO runs with its default
options (iteration statistics on) and, in the main case, ``FastSolve``.
FFT threads = BLAS threads = 1 or 2.

Each cell checks what the timed solvers computed: the functional
``½‖Σ d_m * y_m − s‖² + alpha ‖y‖₁`` at the codes, in float64, within 1e-3
relative of SPORCO's, and the reconstruction PSNR within 0.05 dB. SPORCO
solves a batch as one problem with one ``rho``; sparsetools solves each
image on its own, so there the functional check is looser (1 %; measured
1e-4) and the PSNR is that of the whole batch (a flat tile's PSNR differs
by 1.4 dB on errors that small).

Per-iteration times (ms) and the SPORCO / sparsetools ratios go to the
``cbpdn`` table of the session summary.
"""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

#: case name -> (image side, alpha, iterations, rounds, batch)
CASES = {
    "camera128": (128, 0.2, 100, 3, False),
    "camera256": (256, 0.2, 100, 3, False),
    "camera256-a0.05": (256, 0.05, 100, 2, False),
    "camera512": (512, 0.2, 20, 1, False),
    "batch16x64": (256, 0.2, 100, 2, True),
}
IMPLS = ("st", "sporco", "sporco_fast")
FUNCTIONAL_RTOL = {False: 1e-3, True: 1e-2}
PSNR_DB = 0.05


def _cases():
    for case in CASES:
        for threads in (1, 2):
            for impl in IMPLS:
                if impl == "sporco_fast" and case != "camera256":
                    continue
                yield pytest.param(case, threads, impl, id=f"{case}-t{threads}-{impl}",
                                   marks=pytest.mark.benchmark(group=f"cbpdn {case} t{threads}"))


@pytest.fixture(scope="session")
def cbpdn_data():
    """High-pass camera images by side, the batch of tiles, and the filters (float32)."""
    pytest.importorskip("sporco")
    import skimage.data
    from skimage.transform import downscale_local_mean
    from sporco import util

    from sparsetools.convolutional import tikhonov_split

    cam = skimage.data.camera().astype(np.float64) / 255.0
    images = {512: cam, 256: downscale_local_mean(cam, (2, 2)),
              128: downscale_local_mean(cam, (4, 4))}
    high = {side: tikhonov_split(img.astype(np.float32), 5.0, 16)[1]
            for side, img in images.items()}
    tiles = images[256].astype(np.float32).reshape(4, 64, 4, 64).transpose(0, 2, 1, 3)
    high["batch"] = tikhonov_split(tiles.reshape(16, 64, 64), 5.0, 16)[1]
    filters = util.convdicts()["G:8x8x64"].astype(np.float32)      # (8, 8, 64)
    return high, filters


def _solver(impl, S, D, alpha, iters, threads, batch):
    """A no-argument callable that returns codes (n, h, w, 64) or (h, w, 64)."""
    if impl == "st":
        from sparsetools import conv_bpdn

        F = np.ascontiguousarray(D.transpose(2, 0, 1))
        return lambda: conv_bpdn(S, F, alpha=alpha, max_iter=iters, tol=0, n_jobs=threads)
    import sporco.fft
    from sporco.admm import cbpdn

    sporco.fft.pyfftw_threads = threads
    signal = np.ascontiguousarray(S.transpose(1, 2, 0)) if batch else S
    opt = {"Verbose": False, "MaxMainIter": iters, "RelStopTol": 0.0,
           "FastSolve": impl == "sporco_fast"}

    def fn():
        solver = cbpdn.ConvBPDN(D, signal, alpha, cbpdn.ConvBPDN.Options(opt),
                                dimK=1 if batch else None)
        solver.solve()
        y = np.asarray(solver.Y)      # (h, w, 1, K, M)
        return y[:, :, 0].transpose(2, 0, 1, 3) if batch else y[:, :, 0, 0]
    return fn


@pytest.mark.parametrize(("case", "threads", "impl"), list(_cases()))
def bench_cbpdn(benchmark, bench_results, cbpdn_data, case, threads, impl):
    """Time one solver on one case, check its functional, record ms/iteration."""
    from sparsetools.convolutional import conv_bpdn_objective, conv_reconstruct
    from sparsetools.metrics import psnr

    side, alpha, iters, rounds, batch = CASES[case]
    high, D = cbpdn_data
    S = high["batch"] if batch else high[side]
    F = np.ascontiguousarray(D.transpose(2, 0, 1))
    with threadpool_limits(threads):
        _solver(impl, S, D, alpha, 3, threads, batch)()      # FFTW plans, Numba cache
        fn = _solver(impl, S, D, alpha, iters, threads, batch)
        codes = benchmark.pedantic(fn, rounds=rounds, iterations=1)
        ref = _solver("st", S, D, alpha, iters, threads, batch)() if impl != "st" else codes

    f_impl = np.sum(conv_bpdn_objective(S, F, codes, alpha))
    f_st = np.sum(conv_bpdn_objective(S, F, ref, alpha))
    assert abs(f_impl - f_st) <= FUNCTIONAL_RTOL[batch] * f_impl, (f_impl, f_st)
    rng = float(S.max() - S.min())
    # a batch is scored as one image: a flat tile's PSNR swings on tiny errors
    flat = S.reshape(-1, S.shape[-1])
    p_impl = psnr(flat, conv_reconstruct(codes, F).reshape(flat.shape), data_range=rng)
    p_st = psnr(flat, conv_reconstruct(ref, F).reshape(flat.shape), data_range=rng)
    assert abs(p_impl - p_st) < PSNR_DB, (p_impl, p_st)

    benchmark.extra_info.update(functional=float(f_impl), functional_st=float(f_st),
                                nnz=int(np.count_nonzero(codes)), iterations=iters)
    if benchmark.stats is None:
        return
    stats = benchmark.stats.stats
    bench_results.append({"suite": "cbpdn", "cell": case, "impl": impl, "dtype": "float32",
                          "threads": threads, "iterations": iters,
                          "min_s": stats.min, "median_s": stats.median,
                          "rounds": stats.rounds, "functional": float(f_impl)})
