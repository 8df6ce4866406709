"""Convolutional basis pursuit denoising (CBPDN) by ADMM in the Fourier domain.

The iteration's two fused steps are C kernels (``csrc/cbpdn.h`` says what
they compute, on the variable ``V = a X + (1 - a) Y + U``); this module holds
the loop, the FFTs (``scipy.fft``), the residuals, ``rho`` and the threads.
"""
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sparsetools.convolutional import _fft
from sparsetools.convolutional._layout import (check_boundary, check_filters, check_fits,
                                               check_images, codes_in, codes_out, common_dtype,
                                               padded_shape)
from sparsetools.utils._threads import effective_n_threads
from sparsetools.utils._validation import check_bool, check_float, check_int

__all__ = ["conv_bpdn", "conv_reconstruct", "conv_bpdn_objective"]

#: Bytes of code maps per task of the space-domain step (a few maps of a
#: large image, all maps of a small one): they stay in a core's cache between
#: the inverse FFT, the y-step and the forward FFT.
_CHUNK_BYTES = 1 << 20


#: Iterations during which rho is balanced; fixed afterwards, which keeps
#: ADMM's convergence guarantee (Boyd et al. 2010, sec. 3.4.1). SPORCO adapts
#: forever, and its residuals can grow again after a hundred iterations.
_ADAPT_ITER = 100


def _kernels():
    from sparsetools._lib import _cbpdn

    return _cbpdn


#: Bounds of the adaptive rho, relative to the scale of D^H D (OSQP bounds
#: its rho to [1e-6, 1e6] after scaling its data). SPORCO has none, and on rank-deficient
#: problems (alpha 0, or more unknowns than pixels) its residual balancing can
#: drive rho to 1e-28, where the iterates stop moving far from the optimum.
_RHO_RANGE = (1e-6, 1e6)


def _rsdl_target(alpha):
    """SPORCO's residual-ratio target xi for the adaptive rho (Wohlberg 2015,
    sec. VI.C): ``1 + 18.3^(log10(alpha) + 1)``."""
    return 1.0 + 18.3 ** (np.log10(alpha) + 1.0) if alpha > 0 else 1.0


class _Problem:
    """What every image of one call shares: filter spectra, hyper-parameters."""

    def __init__(self, filters, grid, *, alpha, rho, relaxation, adaptive_rho, positive,
                 max_iter, tol, workers):
        self.grid = grid
        self.df = _fft.filter_spectra(filters, grid, workers)
        n_ch, n_filters = self.df.shape[:2]
        self.n_freq = self.df.shape[2] * self.df.shape[3]
        self.df = self.df.reshape(n_ch, n_filters, self.n_freq)
        # D_f D_f^H per frequency, (n_freq, c, c)
        self.gram = np.ascontiguousarray(np.einsum("rmf,kmf->frk", self.df, self.df.conj()))
        # the scale of D^H D: trace(D_f D_f^H) per channel, averaged over the
        # frequencies (about the filters' summed squared norms); it bounds
        # the adaptive rho
        scale = float(np.einsum("fcc->f", self.gram).real.mean()) / n_ch
        self.rho_range = (_RHO_RANGE[0] * scale, _RHO_RANGE[1] * scale)
        self.alpha = alpha
        self.rho = rho
        self.relax = relaxation
        self.adaptive = adaptive_rho
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol

    def solve(self, image, workers, pool):
        """ADMM for one image ``(c, h, w)`` on the grid; returns the code maps
        ``(n_filters, h, w)`` and ``(n_iter, rho, r, s)``.

        Each iteration: the x-step over all frequencies (split over the
        pool's threads), then, for a few maps at a time (the pool's tasks),
        the inverse FFT of their ``V``, the y-step and the forward FFT of
        their new ``Y``, so that those maps stay in cache. The tasks' norms
        are added in map order: the result does not depend on the threads.
        """
        kern = _kernels()
        h, w = self.grid
        n_ch, n_filters, n_freq = self.df.shape
        dtype = image.dtype
        s = np.zeros((n_ch, h, w), dtype=dtype)
        s[:, :image.shape[1], :image.shape[2]] = image
        sf = np.ascontiguousarray(_fft.rfft2(s, workers).reshape(n_ch, n_freq))
        y = np.zeros((n_filters, h * w), dtype=dtype)
        alpha_s = self._scaled_alpha(s)
        rho = 50.0 * alpha_s + 1.0 if self.rho is None else self.rho
        if self._zero_is_optimal(sf, workers):
            return y.reshape(n_filters, h, w), (0, rho, 0.0, 0.0)
        v_prev = np.zeros((n_filters, h * w), dtype=dtype)
        yf = np.zeros((n_filters, n_freq), dtype=self.df.dtype)
        vf = np.zeros((n_filters, n_freq), dtype=self.df.dtype)
        # the kernels see complex arrays as interleaved real views
        df_r, gram_r, sf_r = self.df.view(dtype), self.gram.view(dtype), sf.view(dtype)
        yf_r, vf_r = yf.view(dtype), vf.view(dtype)
        wf = w // 2 + 1
        per = max(1, _CHUNK_BYTES // (h * w * dtype.itemsize))
        map_tasks = _chunks(n_filters, per)
        f_tasks = _chunks(n_freq, -(-n_freq // (1 if pool is None else workers)))
        xi = _rsdl_target(alpha_s)
        inv_rsf = 1.0
        r = s_ = np.inf

        def maps(m0, m1):
            v = _fft.irfft2(vf[m0:m1].reshape(m1 - m0, h, wf), (h, w)).reshape(m1 - m0, -1)
            v = np.ascontiguousarray(v, dtype=dtype)
            norms = kern.ystep(v, v_prev[m0:m1], y[m0:m1], self.alpha / rho, inv_rsf,
                               self.relax, self.positive)
            yf[m0:m1] = _fft.rfft2_sparse(y[m0:m1].reshape(m1 - m0, h, w)).reshape(
                m1 - m0, n_freq)
            return norms

        def xstep(f0, f1):
            work = np.empty(kern.work_size(n_ch), dtype=dtype)
            kern.xstep(df_r, gram_r, sf_r, yf_r, vf_r, rho, inv_rsf, self.relax, f0, f1,
                       work)

        k = 0
        for k in range(1, self.max_iter + 1):
            _run(pool, xstep, f_tasks)
            sx, sr, sy, ss, su = np.sum(_run(pool, maps, map_tasks), axis=0)
            # SPORCO's normalised residuals, rho of this iteration
            rn = max(np.sqrt(sx), np.sqrt(sy)) or 1.0
            sn = rho * np.sqrt(su) or 1.0
            r = np.sqrt(sr) / rn
            s_ = rho * np.sqrt(ss) / sn
            rsf = self._rho_factor(k - 1, r, s_, xi)
            if rsf != 1.0:
                rsf = min(max(rho * rsf, self.rho_range[0]), self.rho_range[1]) / rho
            rho *= rsf
            inv_rsf = 1.0 / rsf
            if r < self.tol and s_ < self.tol:
                break
        return y.reshape(n_filters, h, w), (k, rho, r, s_)

    def _scaled_alpha(self, s):
        """alpha relative to the image's peak when that exceeds 1: SPORCO's
        rules for rho (its start ``50 alpha + 1``, Wohlberg 2015 sec. VI, and
        its residual-ratio target) are meant for signals within [-1, 1], and
        this applies them to the signal scaled into that range (ADMM's
        iterates are otherwise scale-equivariant)."""
        return self.alpha / max(1.0, float(np.abs(s).max()))

    def _zero_is_optimal(self, sf, workers):
        """Whether all-zero codes solve the problem: every correlation of the
        image with a filter (``D^T s``, the negative gradient at zero) is
        within alpha (above -alpha not required with `positive`). ADMM would
        otherwise balance its residuals there by raising rho without bound."""
        h, w = self.grid
        corr = (self.df.conj() * sf[:, None, :]).sum(axis=0)
        corr = _fft.irfft2(corr.reshape(-1, h, w // 2 + 1), (h, w), workers)
        peak = corr.max() if self.positive else np.abs(corr).max()
        return bool(peak <= self.alpha)

    def _rho_factor(self, k, r, s, xi):
        """Residual balancing (Boyd et al. 2010 sec. 3.4.1, Wohlberg 2015),
        with SPORCO's defaults: every iteration, ratio 1.2, automatic scaling
        capped at 1000."""
        if not self.adaptive or k == 0 or k >= _ADAPT_ITER:
            return 1.0
        mu, tau = 1.2, 1000.0
        if s == 0.0 or r == 0.0:
            mult = tau
        else:
            mult = min(np.sqrt(r / (s * xi) if r > s * xi else (s * xi) / r), tau)
        if r > xi * mu * s:
            return mult
        if s > (mu / xi) * r:
            return 1.0 / mult
        return 1.0


def _chunks(n, size):
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _run(pool, fn, tasks):
    if pool is None or len(tasks) == 1:
        return [fn(a, b) for a, b in tasks]
    return list(pool.map(lambda t: fn(*t), tasks))


def conv_bpdn(images, filters, *, alpha, max_iter=500, tol=1e-3, rho=None, relaxation=1.8,
              adaptive_rho=True, positive=False, boundary="circular", n_jobs=None,
              return_info=False):
    r"""Convolutional basis pursuit denoising by ADMM.

    Solves, for every image ``s``,

    .. math:: \min_z \tfrac12 \Big\| \sum_i f_i * z_i - s \Big\|_2^2
              + \alpha \sum_i \|z_i\|_1

    with the ADMM of Wohlberg (2016): the x-update in the Fourier domain by
    the Sherman-Morrison formula at every frequency (Woodbury with a
    ``c x c`` solve for ``c``-channel filters), over-relaxation, soft
    thresholding, and SPORCO's residual balancing of ``rho``. The iterates
    are those of ``sporco.admm.cbpdn.ConvBPDN`` with its default options
    for images within [-1, 1]; each iteration takes one inverse real FFT of
    the maps and one forward FFT that skips their rows of zeros. Three
    safeguards differ from SPORCO, each for a case where its rule fails:
    when ``alpha`` is at least every correlation ``|D^T s|`` the zero codes
    are optimal and returned at once (``n_iter`` 0); ``rho``'s rules take
    ``alpha`` relative to the image's peak when that exceeds 1; and the
    adaptive ``rho`` stays within ``[1e-6, 1e6]`` times the mean over the
    frequencies of ``trace(D_f D_f^H)`` per channel (about the filters'
    summed squared norms).

    Parameters
    ----------
    images : array-like of shape (h, w), (n, h, w), (h, w, c) or (n, h, w, c)
        Single-channel images with filters ``(n_filters, fh, fw)``, or
        ``c``-channel images with filters ``(n_filters, fh, fw, c)``: one
        map per filter shared across the channels (eq. 2 of paper 004).
        Usually the high-pass part of images (:func:`tikhonov_split`).
    filters : array-like of shape (n_filters, fh, fw) or (n_filters, fh, fw, c)
        The filters; no larger than the images.
    alpha : float
        Weight of the l1 term, >= 0.
    max_iter : int, default=500
        Maximum number of ADMM iterations per image.
    tol : float, default=1e-3
        Stop an image when both its normalised primal and dual residuals
        (SPORCO's ``RelStopTol``) fall below `tol`; 0 runs `max_iter`
        iterations.
    rho : float or None, default=None
        Initial ADMM penalty; None gives SPORCO's ``50 alpha + 1`` for
        images within [-1, 1], and ``50 alpha / max|s| + 1`` for an image
        ``s`` beyond (the same rule on the image scaled into [-1, 1], as is
        the target ratio of the residual balancing).
    relaxation : float, default=1.8
        Over-relaxation parameter, in (0, 2).
    adaptive_rho : bool, default=True
        Balance the residuals by rescaling ``rho`` every iteration (SPORCO's
        rule) during the first 100 iterations; ``rho`` is fixed afterwards,
        which keeps ADMM's convergence guarantee. (SPORCO keeps adapting, and
        its residuals can grow again after about a hundred iterations: on
        8x8 digits they rise from 5e-3 at 50 iterations to 5e-2 at 1000.)
    positive : bool, default=False
        Constrain the codes to be non-negative.
    boundary : {"circular", "zero"}, default="circular"
        ``"circular"``: convolutions wrap around the image, as the DFT
        implies (SPORCO's convention); codes have the images' size.
        ``"zero"``: the images are padded at the bottom and right with
        ``fh - 1`` rows and ``fw - 1`` columns of zeros, so that no filter
        wraps into the image; codes then have shape ``(h + fh - 1, w + fw -
        1, n_filters)`` and :func:`conv_reconstruct` with the same boundary
        crops its result back to ``(h, w)``.
    n_jobs : int or None, default=None
        Threads: over images when there are several, otherwise inside the
        FFTs and the per-frequency and per-pixel loops. None means 1, -1
        all cores.
    return_info : bool, default=False
        Also return a dict of per-image arrays: ``n_iter``, ``rho`` (final),
        ``primal_residual``, ``dual_residual`` (normalised) and
        ``converged`` (``n_iter`` is 0, and ``converged`` True, where the
        zero codes are optimal).

    Returns
    -------
    codes : ndarray of shape (h, w, n_filters) or (n, h, w, n_filters)
        The sparse maps, channels last, in the images' float dtype
        (float32 kept, anything else float64).
    info : dict
        Only with ``return_info=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.convolutional import conv_bpdn, conv_reconstruct
    >>> rng = np.random.default_rng(0)
    >>> filters = rng.standard_normal((4, 5, 5))
    >>> filters /= np.linalg.norm(filters, axis=(1, 2), keepdims=True)
    >>> image = rng.standard_normal((32, 32))
    >>> codes = conv_bpdn(image, filters, alpha=0.5)
    >>> codes.shape
    (32, 32, 4)
    >>> approx = conv_reconstruct(codes, filters)
    >>> bool(np.linalg.norm(approx - image) < np.linalg.norm(image))
    True
    """
    alpha = check_float(alpha, "alpha", min_val=0.0)
    max_iter = check_int(max_iter, "max_iter", min_val=1)
    tol = check_float(tol, "tol", min_val=0.0)
    rho = check_float(rho, "rho", allow_none=True)
    if rho is not None and rho <= 0:
        raise ValueError(f"rho must be > 0 or None; got {rho!r}.")
    relaxation = check_float(relaxation, "relaxation")
    if not 0.0 < relaxation < 2.0:
        raise ValueError(f"relaxation must be in the open interval (0, 2); got {relaxation!r}.")
    adaptive_rho = check_bool(adaptive_rho, "adaptive_rho")
    positive = check_bool(positive, "positive")
    check_bool(return_info, "return_info")
    boundary = check_boundary(boundary)
    n_threads = effective_n_threads(n_jobs)

    f, color = check_filters(filters)
    s, single = check_images(images, f.shape[0], color)
    check_fits(s.shape[2:], f.shape[2:])
    s, f = common_dtype(s, f)
    grid = padded_shape(s.shape[2:], f.shape[2:], boundary)

    n_images = s.shape[0]
    across = n_images > 1 and n_threads > 1
    problem = _Problem(f, grid, alpha=alpha, rho=rho, relaxation=relaxation,
                       adaptive_rho=adaptive_rho, positive=positive,
                       max_iter=max_iter, tol=tol, workers=n_threads)
    codes = np.empty((n_images, f.shape[1]) + grid, dtype=s.dtype)
    stats = np.empty((n_images, 4))
    with ThreadPoolExecutor(n_threads) if n_threads > 1 else nullcontext() as pool:
        if across:
            def one(i):
                codes[i], stats[i] = problem.solve(s[i], 1, None)
            list(pool.map(one, range(n_images)))
        else:
            for i in range(n_images):
                codes[i], stats[i] = problem.solve(s[i], n_threads, pool)
    # n_iter 0: zero codes are the exact optimum, whatever tol
    converged = ((stats[:, 2] < tol) & (stats[:, 3] < tol)) | (stats[:, 0] == 0)
    if tol > 0 and not converged.all():
        bad = np.flatnonzero(~converged)
        warnings.warn(
            f"conv_bpdn did not converge in max_iter={max_iter} iterations for {bad.size} of "
            f"{n_images} image(s): largest normalised primal residual "
            f"{stats[bad, 2].max():.3g}, dual {stats[bad, 3].max():.3g} (tol={tol}). Raise "
            "max_iter or tol.", ConvergenceWarning, stacklevel=2)
    out = codes_out(codes, single)
    if not return_info:
        return out
    info = {"n_iter": stats[:, 0].astype(int), "rho": stats[:, 1],
            "primal_residual": stats[:, 2], "dual_residual": stats[:, 3],
            "converged": converged}
    return out, info


def conv_reconstruct(codes, filters, *, boundary="circular", n_jobs=None):
    """Images ``sum_i f_i * z_i`` from code maps (circular convolution).

    Parameters
    ----------
    codes : array-like of shape (h, w, n_filters) or (n, h, w, n_filters)
        Code maps, as returned by :func:`conv_bpdn`.
    filters : array-like of shape (n_filters, fh, fw) or (n_filters, fh, fw, c)
        The filters.
    boundary : {"circular", "zero"}, default="circular"
        As in :func:`conv_bpdn`: with ``"zero"`` the maps are on the padded
        grid and the result is cropped to ``(h - fh + 1, w - fw + 1)`` of the
        maps, the size of the images they came from.
    n_jobs : int or None, default=None
        FFT workers.

    Returns
    -------
    images : ndarray of shape (h, w), (n, h, w), (h, w, c) or (n, h, w, c)
        Single-channel for filters without a channel axis.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.convolutional import conv_reconstruct
    >>> codes = np.zeros((6, 6, 1)); codes[2, 3, 0] = 2.0
    >>> conv_reconstruct(codes, np.ones((1, 2, 2)))[2:4, 3:5]
    array([[2., 2.],
           [2., 2.]])
    """
    boundary = check_boundary(boundary)
    workers = effective_n_threads(n_jobs)
    f, color = check_filters(filters)
    z, single = codes_in(codes, f.shape[1])
    z, f = common_dtype(z, f)
    grid = z.shape[2:]
    check_fits(grid, f.shape[2:])
    df = _fft.filter_spectra(f, grid, workers)                    # (c, m, h, wf)
    zf = _fft.rfft2(z, workers)                                   # (n, m, h, wf)
    sf = np.einsum("cmhw,nmhw->nchw", df, zf)
    out = _fft.irfft2(sf, grid, workers).astype(z.dtype, copy=False)
    if boundary == "zero":
        out = out[:, :, :grid[0] - f.shape[2] + 1, :grid[1] - f.shape[3] + 1]
    out = np.ascontiguousarray(out.transpose(0, 2, 3, 1))
    if not color:
        out = out[..., 0]
    return out[0] if single else out


def conv_bpdn_objective(images, filters, codes, alpha, *, boundary="circular"):
    r"""The CBPDN objective ``½‖Σ f_i * z_i − s‖² + alpha Σ‖z_i‖₁`` per image,
    computed in float64.

    Parameters
    ----------
    images, filters : array-like
        As for :func:`conv_bpdn`.
    codes : array-like of shape (h, w, n_filters) or (n, h, w, n_filters)
        Code maps, as returned by :func:`conv_bpdn` with the same `boundary`.
    alpha : float
        Weight of the l1 term.
    boundary : {"circular", "zero"}, default="circular"

    Returns
    -------
    value : float or ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.convolutional import conv_bpdn_objective
    >>> float(conv_bpdn_objective(np.ones((4, 4)), np.ones((1, 2, 2)),
    ...                           np.zeros((4, 4, 1)), alpha=0.1))
    8.0
    """
    alpha = check_float(alpha, "alpha", min_val=0.0)
    f, color = check_filters(filters)
    s, single = check_images(images, f.shape[0], color)
    # filters with their channel axis, so the reconstruction is (n?, h, w, c)
    rec = conv_reconstruct(np.asarray(codes, dtype=np.float64), f.transpose(1, 2, 3, 0),
                           boundary=boundary)
    rec = rec[None] if single else rec
    if rec.shape[:3] != (s.shape[0],) + s.shape[2:]:
        raise ValueError(f"codes reconstruct images of shape {rec.shape[1:3]} but the images "
                         f"have shape {s.shape[2:]}; pass the codes conv_bpdn returned with "
                         f"boundary={boundary!r}.")
    resid = rec.transpose(0, 3, 1, 2) - s.astype(np.float64)
    z = np.asarray(codes, dtype=np.float64).reshape(s.shape[0], -1)
    val = 0.5 * (resid.reshape(s.shape[0], -1) ** 2).sum(1) + alpha * np.abs(z).sum(1)
    return float(val[0]) if single else val
