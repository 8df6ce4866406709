"""The filter update of convolutional dictionary learning: its C kernels
(csrc/conv_dict.c) against plain NumPy linear algebra."""
import numpy as np
import pytest
import scipy.fft as sfft

from sparsetools._lib import _conv_dict
from sparsetools.convolutional._learning import _FilterUpdate, _unit_filters


def _batches(rng, n_batches, k, m, c, tile):
    out = []
    for t in range(1, n_batches + 1):
        tiles = rng.standard_normal((k, c) + tile)
        codes = rng.standard_normal((k, m) + tile) * (rng.random((k, m) + tile) < 0.1)
        out.append((codes, tiles, (1.0 - 1.0 / t) ** 10))
    return out


def _numpy_filter_update(d0, tile, batches, n_iter):
    """The filter update with dense statistics and np.linalg.solve: the
    reference the C kernels must reproduce."""
    m, c = d0.shape[:2]
    n_freq = tile[0] * (tile[1] // 2 + 1)
    A = np.zeros((n_freq, m, m), dtype=np.complex128)
    b = np.zeros((n_freq, m, c), dtype=np.complex128)
    g = np.zeros((m, c) + tile)
    g[..., :d0.shape[2], :d0.shape[3]] = d0
    h = np.zeros_like(g)
    shape = (m, c, tile[0], tile[1] // 2 + 1)
    sigma_prev = None
    for codes, tiles, w in batches:
        k = codes.shape[0]
        zf = sfft.rfft2(codes).reshape(k, m, -1).transpose(2, 0, 1)            # (f, k, m)
        sf = sfft.rfft2(tiles).reshape(k, c, -1).transpose(2, 0, 1)            # (f, k, c)
        zh = np.conj(zf).transpose(0, 2, 1)
        A = w * A + zh @ zf
        b = w * b + zh @ sf
        sigma = max(np.einsum("fii->", A).real / (m * n_freq), 1e-12)
        if sigma_prev is not None:
            h *= sigma_prev / sigma
        sigma_prev = sigma
        system = A + sigma * np.eye(m)
        for _ in range(n_iter):
            rhs = sfft.rfft2(g - h).reshape(m, c, -1).transpose(2, 0, 1)
            xf = np.linalg.solve(system, b + sigma * rhs)                       # (f, m, c)
            x = sfft.irfft2(xf.transpose(1, 2, 0).reshape(shape), s=tile)
            g = _unit_filters(x + h, d0.shape[2:])
            h += x - g
    return A, b, sigma_prev, g[..., :d0.shape[2], :d0.shape[3]]


@pytest.mark.parametrize("n_ch", [1, 3])
def test_filter_update_matches_numpy_solve(n_ch):
    rng = np.random.default_rng(0)
    k, m, tile = 3, 5, (10, 12)                     # 70 frequencies: a partial last block
    d0 = _unit_filters(rng.standard_normal((m, n_ch, 4, 3)), (4, 3))
    batches = _batches(rng, 3, k, m, n_ch, tile)
    A_ref, b_ref, sigma_ref, g_ref = _numpy_filter_update(d0, tile, batches, n_iter=4)

    upd = _FilterUpdate(d0, tile)
    for codes, tiles, w in batches:
        upd.accumulate(codes, tiles, w)
        g = upd.solve(4)
    A, b = upd.dense_statistics()
    scale = np.abs(A_ref).max()
    np.testing.assert_allclose(A, A_ref, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-13 * np.abs(b_ref).max())
    assert upd.sigma == pytest.approx(sigma_ref, rel=1e-13)
    np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-10)

    # one solve with the factors of A + sigma I against np.linalg.solve
    sigma = 0.3 * sigma_ref
    upd.sigma = sigma
    upd.factor(sigma)
    rhs = rng.standard_normal((m, n_ch, upd.n_freq)) + 1j * rng.standard_normal(
        (m, n_ch, upd.n_freq))
    want = np.linalg.solve(A_ref + sigma * np.eye(m), b_ref + sigma * rhs.transpose(2, 0, 1))
    got = upd.apply(rhs.copy())
    np.testing.assert_allclose(got.transpose(2, 0, 1), want, rtol=0,
                               atol=1e-10 * np.abs(want).max())


def test_filter_update_threads_same_result():
    rng = np.random.default_rng(1)
    d0 = _unit_filters(rng.standard_normal((6, 2, 3, 3)), (3, 3))
    batches = _batches(rng, 2, 2, 6, 2, (16, 18))
    out = []
    for n_threads in (1, 3):
        upd = _FilterUpdate(d0, (16, 18), n_threads)
        for codes, tiles, w in batches:
            upd.accumulate(codes, tiles, w)
            g = upd.solve(3)
        out.append((upd.A.copy(), g))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def _statistics(m=3, c=2, n_freq=20):
    block = _conv_dict.BLOCK
    n_blocks = -(-n_freq // block)
    A = np.zeros((n_blocks, m * (m + 1) // 2, 2, block))
    b = np.zeros((n_blocks, m, c, 2, block))
    return A, b


def test_kernel_rejects_bad_arguments():
    A, b = _statistics()
    L = np.empty_like(A)
    zf = np.zeros((2, 3, 40))
    sf = np.zeros((2, 2, 40))
    rhs = np.zeros((3, 2, 40))
    with pytest.raises(ValueError, match="rejected its arguments"):
        _conv_dict.factor(A, L, 0.0)
    with pytest.raises(ValueError, match="rejected its arguments"):
        _conv_dict.factor(A, L, np.inf)
    with pytest.raises(ValueError, match="rejected its arguments"):
        _conv_dict.solve(L, b, rhs, rhs, -1.0)
    with pytest.raises(ValueError, match="rejected its arguments"):
        _conv_dict.accumulate(zf, sf, A, b, 2.0)
    with pytest.raises(ValueError, match="rejected its arguments"):   # 12 frequencies, 3 blocks
        _conv_dict.accumulate(zf[..., :24].copy(), sf[..., :24].copy(), A, b, 0.5)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        _conv_dict.accumulate(zf, sf[:1], A, b, 0.5)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        _conv_dict.solve(L, b, rhs, rhs[:2], 1.0)
    with pytest.raises(ValueError, match="must end with axes"):
        _conv_dict.factor(A[..., :4].copy(), L[..., :4].copy(), 1.0)


def test_factor_reports_non_positive_definite():
    rng = np.random.default_rng(2)
    d0 = _unit_filters(rng.standard_normal((3, 1, 3, 3)), (3, 3))
    upd = _FilterUpdate(d0, (8, 8))
    upd.A[1, 0, 0, 2] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        upd.factor(1.0)
    upd.A[1, 0, 0, 2] = -5.0                       # A_f + sigma I with a negative pivot
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        upd.factor(1.0)
