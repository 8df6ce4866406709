"""Convolutional dictionary learning: CBPDN codes, then a constrained filter
update in the Fourier domain, over mini-batches of image tiles."""
import numpy as np
import scipy.fft as sfft

from sparsetools._lib import _conv_dict
from sparsetools.convolutional._cbpdn import conv_bpdn, conv_bpdn_objective
from sparsetools.convolutional._layout import check_images
from sparsetools.image._patches import _pair
from sparsetools.utils._threads import effective_n_threads
from sparsetools.utils._validation import check_bool, check_float, check_int

__all__ = ["learn_conv_dictionary"]

#: Past mini-batches are down-weighted by (1 - 1/t)^_FORGET in the
#: frequency-domain statistics (Liu, Garcia-Cardona, Wohlberg & Yin 2018).
_FORGET = 10.0


def _unit_filters(g, support):
    """Project on the constraint set: zero outside the top-left support,
    every filter (all channels) of unit norm; zero filters stay zero."""
    fh, fw = support
    out = np.zeros_like(g)
    out[..., :fh, :fw] = g[..., :fh, :fw]
    norms = np.sqrt((out ** 2).sum(axis=(1, 2, 3), keepdims=True))
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class _FilterUpdate:
    """ADMM for ``min_d sum_f d_f^H A_f d_f / 2 - Re(d_f^H b_f)`` with ``d`` in
    the filter constraint set (SPORCO's CCMOD, on accumulated statistics).

    ``A_f = sum_k Z_kf^H Z_kf`` (``m x m`` per frequency) and ``b_f = sum_k
    Z_kf^H S_kf`` (``m x c``) summarise every tile seen, so memory does not
    grow with the number of images. Channels decouple: the codes are shared
    across them.

    The per-frequency linear algebra runs in C (csrc/conv_dict.c): the rank-k
    update of ``A_f`` and ``b_f``, one Cholesky factorisation of ``A_f +
    sigma I`` per batch and two triangular solves per ADMM iteration. ``A``
    and ``b`` are kept in its blocked layout (lower triangle of ``A_f`` only,
    frequencies innermost in blocks of ``_conv_dict.BLOCK``);
    :meth:`dense_statistics` returns them as plain complex arrays.
    """

    def __init__(self, filters, tile, n_threads=1):
        m, c = filters.shape[:2]
        self.tile = tile
        self.support = filters.shape[2:]
        self.n_freq = tile[0] * (tile[1] // 2 + 1)
        self.n_threads = n_threads
        block = _conv_dict.BLOCK
        n_blocks = -(-self.n_freq // block)
        self.A = np.zeros((n_blocks, m * (m + 1) // 2, 2, block))
        self.b = np.zeros((n_blocks, m, c, 2, block))
        self.L = np.empty_like(self.A)
        self._diag = np.arange(1, m + 1) * np.arange(2, m + 2) // 2 - 1   # (r, r) packed
        self.g = np.zeros((m, c) + tile)
        self.g[..., :self.support[0], :self.support[1]] = filters
        self.h = np.zeros_like(self.g)
        self.sigma = None

    def accumulate(self, codes, tiles, weight):
        """Add the statistics of a batch: codes ``(k, m, th, tw)``, tiles
        ``(k, c, th, tw)``; earlier statistics are scaled by `weight`."""
        k, m = codes.shape[:2]
        zf = sfft.rfft2(codes.astype(np.float64)).reshape(k, m, -1)
        sf = sfft.rfft2(tiles.astype(np.float64)).reshape(k, tiles.shape[1], -1)
        _conv_dict.accumulate(_real_view(zf), _real_view(sf), self.A, self.b, weight,
                              self.n_threads)

    def factor(self, sigma):
        """Cholesky factors of ``A_f + sigma I``, kept for :meth:`apply`."""
        if _conv_dict.factor(self.A, self.L, sigma, self.n_threads):
            raise np.linalg.LinAlgError(
                "the filter update's system A_f + sigma I is not positive definite "
                "(non-finite statistics?)")

    def apply(self, rhs):
        """``(A_f + sigma I)^-1 (b_f + sigma rhs_f)`` per frequency with the
        last :meth:`factor`; rhs ``(m, c, n_freq)`` complex, overwritten by
        the result (returned) when C-contiguous complex128."""
        rhs = np.ascontiguousarray(rhs, dtype=np.complex128)
        view = rhs.view(np.float64)
        _conv_dict.solve(self.L, self.b, view, view, self.sigma, self.n_threads)
        return rhs

    def dense_statistics(self):
        """``A`` ``(n_freq, m, m)`` (Hermitian, both triangles) and ``b``
        ``(n_freq, m, c)``, complex."""
        n_blocks, _, _, block = self.A.shape
        m, c = self.b.shape[1:3]
        packed = self.A[:, :, 0] + 1j * self.A[:, :, 1]              # (blocks, P, B)
        packed = packed.transpose(0, 2, 1).reshape(n_blocks * block, -1)[:self.n_freq]
        rows, cols = np.tril_indices(m)
        A = np.zeros((self.n_freq, m, m), dtype=np.complex128)
        A[:, rows, cols] = packed
        A[:, cols, rows] = np.conj(packed)
        b = self.b[:, :, :, 0] + 1j * self.b[:, :, :, 1]             # (blocks, m, c, B)
        b = b.transpose(0, 3, 1, 2).reshape(n_blocks * block, m, c)[:self.n_freq]
        return A, b

    def solve(self, n_iter):
        """`n_iter` ADMM iterations warm-started from the last filters; returns
        them, ``(m, c, fh, fw)``, unit norm."""
        m = self.b.shape[1]
        trace = float(self.A[:, self._diag, 0].sum())      # padded frequencies are 0
        sigma = max(trace / (m * self.n_freq), 1e-12)
        if self.sigma is not None:
            self.h *= self.sigma / sigma          # the scaled dual follows sigma
        self.sigma = sigma
        self.factor(sigma)
        shape = self.g.shape[:2] + (self.tile[0], self.tile[1] // 2 + 1)
        for _ in range(n_iter):
            rhs = sfft.rfft2(self.g - self.h).reshape(shape[0], shape[1], -1)
            xf = self.apply(rhs)                                           # (m, c, f)
            x = sfft.irfft2(xf.reshape(shape), s=self.tile)
            self.g = _unit_filters(x + self.h, self.support)
            self.h += x - self.g
        return np.ascontiguousarray(self.g[..., :self.support[0], :self.support[1]])


def _real_view(z):
    """A C-contiguous complex array as float64 with interleaved (re, im)."""
    z = np.ascontiguousarray(z, dtype=np.complex128)
    return z.view(np.float64)


def learn_conv_dictionary(images, *, n_filters=64, filter_size=8, alpha=0.2, max_iter=200,
                          batch_size=8, tile_size=64, coding_iter=30, dict_iter=10, color=False,
                          filters_init=None, random_state=None, n_jobs=None, verbose=False,
                          return_info=False):
    r"""Learn convolutional filters by alternating CBPDN and a filter update.

    Minimises, over filters of unit norm and support ``filter_size`` and
    over sparse maps,

    .. math:: \sum_k \tfrac12 \Big\| \sum_m d_m * z_{k,m} - s_k \Big\|_2^2
              + \alpha \sum_{k,m} \|z_{k,m}\|_1

    on tiles of the images, one mini-batch of tiles at a time: the maps of
    the batch by :func:`conv_bpdn`, then the filters by ADMM in the Fourier
    domain (the constrained MOD update, CCMOD, of Wohlberg 2016) on
    frequency-domain statistics that accumulate every tile seen with a
    forgetting factor (the surrogate of Liu et al. 2018's online
    convolutional dictionary learning). Memory holds the statistics (one
    ``n_filters x n_filters`` matrix per frequency of a tile) and one batch,
    whatever the number of images.

    Parameters
    ----------
    images : array-like of shape (h, w), (n, h, w), (h, w, c) or (n, h, w, c)
        Training images, channels last with ``color=True``; usually their
        high-pass part (:func:`tikhonov_split`), as convolutional sparse
        coding models it.
    n_filters : int, default=64
    filter_size : int or (int, int), default=8
    alpha : float, default=0.2
        Weight of the l1 term of the coding.
    max_iter : int, default=200
        Mini-batches.
    batch_size : int, default=8
        Tiles per mini-batch.
    tile_size : int or (int, int), default=64
        Side of the square (or ``(h, w)``) tiles cut at random from the
        images, at most the image size.
    coding_iter : int, default=30
        ADMM iterations of :func:`conv_bpdn` per batch.
    dict_iter : int, default=10
        ADMM iterations of the filter update per batch (warm-started).
    color : bool, default=False
        Whether the last axis of `images` holds channels; the filters then
        have them too.
    filters_init : array-like of shape (n_filters, fh, fw[, c]) or None
        Starting filters; None draws random tiles' patches.
    random_state : int, RandomState or None, default=None
    n_jobs : int or None, default=None
        Threads of the coding (over the tiles of a batch) and of the filter
        update (over frequencies, with results independent of the count).
    verbose : bool, default=False
        Print the mini-batch objective every 10 batches.
    return_info : bool, default=False
        Also return ``{"objective": ndarray (max_iter,)}``: the objective of
        each mini-batch, per tile, with the filters it was coded with.

    Returns
    -------
    filters : ndarray of shape (n_filters, fh, fw) or (n_filters, fh, fw, c)
        Unit-norm filters, float64.
    info : dict
        Only with ``return_info=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.convolutional import learn_conv_dictionary
    >>> rng = np.random.default_rng(0)
    >>> images = rng.standard_normal((2, 24, 24))
    >>> filters = learn_conv_dictionary(images, n_filters=4, filter_size=5, alpha=0.5,
    ...                                 max_iter=3, batch_size=2, tile_size=16,
    ...                                 random_state=0)
    >>> filters.shape
    (4, 5, 5)
    >>> bool(np.allclose(np.linalg.norm(filters.reshape(4, -1), axis=1), 1.0))
    True
    """
    from sklearn.utils import check_random_state

    n_filters = check_int(n_filters, "n_filters", min_val=1)
    fh, fw = _pair(filter_size, "filter_size")
    alpha = check_float(alpha, "alpha", min_val=0.0)
    max_iter = check_int(max_iter, "max_iter", min_val=1)
    batch_size = check_int(batch_size, "batch_size", min_val=1)
    th, tw = _pair(tile_size, "tile_size")
    coding_iter = check_int(coding_iter, "coding_iter", min_val=1)
    dict_iter = check_int(dict_iter, "dict_iter", min_val=1)
    color = check_bool(color, "color")
    check_bool(verbose, "verbose")
    check_bool(return_info, "return_info")
    n_threads = effective_n_threads(n_jobs)
    rng = check_random_state(random_state)

    n_ch = np.shape(images)[-1] if color and np.ndim(images) in (3, 4) else 1
    s, _ = check_images(images, n_ch, color)           # (n, c, h, w)
    h, w = s.shape[2:]
    th, tw = min(th, h), min(tw, w)
    if fh > th or fw > tw:
        raise ValueError(f"filter_size {(fh, fw)} is larger than the tiles {(th, tw)} "
                         "(tile_size, at most the image size).")

    def draw_tiles(k):
        idx = rng.randint(s.shape[0], size=k)
        ys = rng.randint(h - th + 1, size=k)
        xs = rng.randint(w - tw + 1, size=k)
        return np.stack([s[i, :, y:y + th, x:x + tw] for i, y, x in zip(idx, ys, xs)])

    if filters_init is None:
        sample = draw_tiles(n_filters)
        ys = rng.randint(th - fh + 1, size=n_filters)
        xs = rng.randint(tw - fw + 1, size=n_filters)
        d0 = np.stack([sample[i, :, y:y + fh, x:x + fw] for i, (y, x) in enumerate(zip(ys, xs))])
        d0 = d0.astype(np.float64) + 1e-3 * rng.standard_normal(d0.shape)
    else:
        d0 = np.asarray(filters_init, dtype=np.float64)
        expected = (n_filters, fh, fw) + ((n_ch,) if color else ())
        if d0.shape != expected:
            raise ValueError(f"filters_init must have shape {expected}; got {d0.shape}.")
        if not np.isfinite(d0).all():
            raise ValueError("filters_init contains NaN or infinity.")
        d0 = d0.reshape((n_filters, fh, fw, n_ch)).transpose(0, 3, 1, 2)
    filters = _unit_filters(d0, (fh, fw))                     # (m, c, fh, fw)
    update = _FilterUpdate(filters, (th, tw), n_threads)
    trace = np.empty(max_iter)
    dtype = s.dtype
    for t in range(1, max_iter + 1):
        tiles = draw_tiles(batch_size)                         # (k, c, th, tw)
        public = filters.transpose(0, 2, 3, 1) if color else filters[:, 0]
        imgs = tiles.transpose(0, 2, 3, 1) if color else tiles[:, 0]
        codes = conv_bpdn(imgs, public.astype(dtype), alpha=alpha, max_iter=coding_iter, tol=0,
                          n_jobs=n_jobs)                      # (k, th, tw, m)
        trace[t - 1] = conv_bpdn_objective(imgs, public, codes, alpha).sum() / batch_size
        update.accumulate(codes.transpose(0, 3, 1, 2), tiles, (1.0 - 1.0 / t) ** _FORGET)
        filters = update.solve(dict_iter)
        if verbose and (t % 10 == 0 or t == max_iter):
            print(f"[learn_conv_dictionary] batch {t}/{max_iter}: objective per tile "
                  f"{trace[t - 1]:.4f}", flush=True)
    out = filters.transpose(0, 2, 3, 1) if color else filters[:, 0]
    out = np.ascontiguousarray(out)
    return (out, {"objective": trace}) if return_info else out
