"""Convolutional BPDN: agreement with SPORCO, optimality, layouts and errors."""
import warnings

import numpy as np
import pytest
import skimage.data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from skimage.transform import downscale_local_mean

from sparsetools.convolutional import (conv_bpdn, conv_bpdn_objective, conv_reconstruct,
                                       tikhonov_split)
from sparsetools.metrics import psnr


def _sporco():
    return pytest.importorskip("sporco")


def _gray_filters(n=16):
    from sporco import util

    d = util.convdicts()["G:8x8x64"][:, :, :n]
    return np.ascontiguousarray(d.transpose(2, 0, 1))


def _color_filters(n=12):
    from sporco import util

    d = util.convdicts()["RGB:8x8x3x64"][..., :n]
    return np.ascontiguousarray(d.transpose(3, 0, 1, 2))


@pytest.fixture(scope="module")
def camera_hp():
    """48x48 high-pass crop of camera, downscaled as in the benchmark."""
    img = downscale_local_mean(skimage.data.camera() / 255.0, (4, 4))[40:88, 40:88]
    return tikhonov_split(img, 5.0, 16)[1]


def _sporco_solve(D, S, lam, iters, **opts):
    from sporco.admm import cbpdn

    opt = cbpdn.ConvBPDN.Options({"Verbose": False, "MaxMainIter": iters, "RelStopTol": 0.0,
                                  **opts})
    solver = cbpdn.ConvBPDN(D, S, lam, opt)
    solver.solve()
    return solver


def _np_reconstruct(codes, filters):
    """Plain circular convolution, filters anchored at the origin."""
    h, w, m = codes.shape
    out = np.zeros((h, w) + filters.shape[3:])
    for i in range(m):
        for a in range(filters.shape[1]):
            for b in range(filters.shape[2]):
                shifted = np.roll(codes[:, :, i], (a, b), axis=(0, 1))
                if filters.ndim == 4:
                    out += shifted[..., None] * filters[i, a, b]
                else:
                    out += shifted * filters[i, a, b]
    return out


@pytest.mark.parametrize("alpha", [0.2, 0.05])
def test_agrees_with_sporco_gray(camera_hp, alpha):
    _sporco()
    F = _gray_filters()
    solver = _sporco_solve(F.transpose(1, 2, 0), camera_hp, alpha, 40)
    ref = solver.Y.squeeze()
    z, info = conv_bpdn(camera_hp, F, alpha=alpha, max_iter=40, tol=0, return_info=True)
    np.testing.assert_allclose(z, ref, atol=1e-10)
    its = solver.getitstat()
    assert info["rho"][0] == pytest.approx(float(solver.rho), rel=1e-10)
    assert info["primal_residual"][0] == pytest.approx(its.PrimalRsdl[-1], rel=1e-8)
    assert info["dual_residual"][0] == pytest.approx(its.DualRsdl[-1], rel=1e-8)
    ours = conv_bpdn_objective(camera_hp, F, z, alpha)
    theirs = conv_bpdn_objective(camera_hp, F, ref, alpha)
    assert abs(ours - theirs) <= 1e-3 * theirs
    rec_ours = conv_reconstruct(z, F)
    rec_theirs = np.asarray(solver.reconstruct()).squeeze()
    rng = camera_hp.max() - camera_hp.min()
    assert abs(psnr(camera_hp, rec_ours, data_range=rng)
               - psnr(camera_hp, rec_theirs, data_range=rng)) < 0.05


def test_agrees_with_sporco_color():
    _sporco()
    F = _color_filters()
    img = skimage.data.astronaut()[::16, ::16] / 255.0
    S = tikhonov_split(img, 5.0, 16, color=True)[1]
    solver = _sporco_solve(F.transpose(1, 2, 3, 0), S, 0.1, 30)
    z = conv_bpdn(S, F, alpha=0.1, max_iter=30, tol=0)
    assert z.shape == S.shape[:2] + (F.shape[0],)
    np.testing.assert_allclose(z, solver.Y.squeeze(), atol=1e-10)


def test_positive_agrees_with_sporco(camera_hp):
    _sporco()
    F = _gray_filters(8)
    solver = _sporco_solve(F.transpose(1, 2, 0), camera_hp, 0.1, 25, NonNegCoef=True)
    z = conv_bpdn(camera_hp, F, alpha=0.1, max_iter=25, tol=0, positive=True)
    assert z.min() >= 0
    np.testing.assert_allclose(z, solver.Y.squeeze(), atol=1e-10)


def _random_filters(rng, n, size, channels=None):
    shape = (n, size, size) + (() if channels is None else (channels,))
    f = rng.standard_normal(shape)
    return f / np.linalg.norm(f.reshape(n, -1), axis=1).reshape((n,) + (1,) * (f.ndim - 1))


@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("rho_policy", [{}, {"rho": 1.0, "adaptive_rho": False}])
def test_optimality_conditions(channels, rho_policy):
    """At the solution, D^T (D z - s) = -alpha sign(z) on the support and
    |D^T (D z - s)| <= alpha off it (the lasso's KKT conditions)."""
    rng = np.random.default_rng(0)
    F = _random_filters(rng, 5, 4, channels)
    shape = (20, 24) + (() if channels is None else (channels,))
    s = rng.standard_normal(shape)
    alpha = 0.4
    # SPORCO's balancing of rho, kept on forever, stalls near 1e-1 here;
    # fixed after 100 iterations, it converges
    z, info = conv_bpdn(s, F, alpha=alpha, max_iter=3000, tol=1e-7, return_info=True,
                        **rho_policy)
    assert info["converged"].all()
    resid = _np_reconstruct(z, F) - s
    # correlation of the residual with each filter: the adjoint of the synthesis
    grad = np.zeros_like(z)
    for i in range(F.shape[0]):
        for a in range(F.shape[1]):
            for b in range(F.shape[2]):
                shifted = np.roll(resid, (-a, -b), axis=(0, 1))
                if channels is None:
                    grad[:, :, i] += shifted * F[i, a, b]
                else:
                    grad[:, :, i] += (shifted * F[i, a, b]).sum(-1)
    on = z != 0
    assert on.any()
    np.testing.assert_allclose(grad[on], -alpha * np.sign(z[on]), atol=2e-4)
    assert np.abs(grad[~on]).max() <= alpha + 2e-4


def test_reconstruct_is_circular_convolution():
    rng = np.random.default_rng(1)
    for channels in (None, 2):
        F = _random_filters(rng, 3, 3, channels)
        z = rng.standard_normal((2, 9, 7, 3))
        rec = conv_reconstruct(z, F)
        for k in range(2):
            np.testing.assert_allclose(rec[k], _np_reconstruct(z[k], F), atol=1e-12)


def test_batch_threads_and_single_image_agree(camera_hp):
    rng = np.random.default_rng(2)
    F = _random_filters(rng, 6, 5)
    batch = np.stack([camera_hp[:32, :32], camera_hp[16:, 16:], camera_hp[8:40, :32]])
    z1 = conv_bpdn(batch, F, alpha=0.05, max_iter=300, tol=1e-3, n_jobs=1)
    z2 = conv_bpdn(batch, F, alpha=0.05, max_iter=300, tol=1e-3, n_jobs=2)
    np.testing.assert_array_equal(z1, z2)
    for k in range(3):
        single = conv_bpdn(batch[k], F, alpha=0.05, max_iter=300, tol=1e-3, n_jobs=2)
        np.testing.assert_array_equal(single, z1[k])
    # one image split over two threads: the same iterates, the same codes
    big = conv_bpdn(camera_hp, F, alpha=0.05, max_iter=30, tol=0, n_jobs=1)
    np.testing.assert_array_equal(big, conv_bpdn(camera_hp, F, alpha=0.05, max_iter=30,
                                                 tol=0, n_jobs=2))


def test_float32_close_to_float64(camera_hp):
    rng = np.random.default_rng(3)
    F = _random_filters(rng, 8, 6)
    z64 = conv_bpdn(camera_hp, F, alpha=0.1, max_iter=100, tol=0)
    z32 = conv_bpdn(camera_hp.astype(np.float32), F.astype(np.float32), alpha=0.1,
                    max_iter=100, tol=0)
    assert z32.dtype == np.float32 and z64.dtype == np.float64
    f64 = conv_bpdn_objective(camera_hp, F, z64, 0.1)
    f32 = conv_bpdn_objective(camera_hp, F, z32, 0.1)
    assert abs(f32 - f64) <= 1e-3 * f64


def test_zero_boundary_pads_the_image():
    rng = np.random.default_rng(4)
    F = _random_filters(rng, 4, 3)
    s = rng.standard_normal((12, 10))
    z = conv_bpdn(s, F, alpha=0.1, max_iter=50, tol=0, boundary="zero")
    assert z.shape == (14, 12, 4)
    padded = np.zeros((14, 12))
    padded[:12, :10] = s
    np.testing.assert_array_equal(z, conv_bpdn(padded, F, alpha=0.1, max_iter=50, tol=0))
    rec = conv_reconstruct(z, F, boundary="zero")
    assert rec.shape == s.shape
    np.testing.assert_allclose(rec, conv_reconstruct(z, F)[:12, :10])
    assert conv_bpdn_objective(s, F, z, 0.1, boundary="zero") < 0.5 * (s ** 2).sum()


def test_convergence_warning_and_info():
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(5)
    F = _random_filters(rng, 4, 3)
    s = rng.standard_normal((2, 16, 16))
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        conv_bpdn(s, F, alpha=0.1, max_iter=2, tol=1e-6)
    z, info = conv_bpdn(s, F, alpha=0.1, max_iter=500, tol=1e-3, return_info=True)
    assert info["converged"].all() and (info["n_iter"] < 500).all()
    assert (info["primal_residual"] < 1e-3).all() and (info["dual_residual"] < 1e-3).all()


def test_tikhonov_split_matches_sporco():
    _sporco()
    from sporco import signal

    gray = skimage.data.camera()[:70, :90] / 255.0
    color = skimage.data.astronaut()[:40, :50].astype(np.float32) / 255
    for img, is_color in ((gray, False), (color, True)):
        low_ref, high_ref = signal.tikhonov_filter(img, 5.0, 16)
        low, high = tikhonov_split(img, 5.0, 16, color=is_color)
        assert low.dtype == img.dtype
        np.testing.assert_allclose(low, low_ref, atol=1e-5 if is_color else 1e-12)
        np.testing.assert_allclose(high, high_ref, atol=1e-5 if is_color else 1e-12)
    batch = np.stack([gray, gray[::-1]])
    low_b, _ = tikhonov_split(batch)
    np.testing.assert_allclose(low_b[1], tikhonov_split(gray[::-1])[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": -0.1}, "alpha must be >= 0"),
    ({"alpha": 0.1, "relaxation": 2.0}, "relaxation"),
    ({"alpha": 0.1, "rho": 0.0}, "rho must be > 0"),
    ({"alpha": 0.1, "max_iter": 0}, "max_iter"),
    ({"alpha": 0.1, "boundary": "reflect"}, "boundary"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_bpdn(np.zeros((8, 8)), np.ones((2, 3, 3)), **kwargs)


def test_bad_arrays():
    f = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="larger than the images"):
        conv_bpdn(np.zeros((2, 8)), f, alpha=0.1)
    with pytest.raises(ValueError, match="channels"):
        conv_bpdn(np.zeros((8, 8, 2)), np.ones((2, 3, 3, 3)), alpha=0.1)
    bad = np.zeros((8, 8))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="images contains NaN"):
        conv_bpdn(bad, f, alpha=0.1)
    with pytest.raises(ValueError, match="filters must have shape"):
        conv_bpdn(np.zeros((8, 8)), np.ones((3, 3)), alpha=0.1)
    with pytest.raises(ValueError, match="images must have shape"):
        conv_bpdn(np.zeros((2, 2, 8, 8)), f, alpha=0.1)
    with pytest.raises(TypeError, match="alpha must be a float"):
        conv_bpdn(np.zeros((8, 8)), f, alpha="0.1")
    with pytest.raises(ValueError, match="maps but there are"):
        conv_reconstruct(np.zeros((8, 8, 3)), f)


def _circulant(filters, grid):
    """The matrix of z -> sum_i f_i * z_i (circular), codes (h, w, m) flattened."""
    h, w = grid
    cols = []
    for idx in range(h * w * filters.shape[0]):
        z = np.zeros(h * w * filters.shape[0])
        z[idx] = 1.0
        cols.append(_np_reconstruct(z.reshape(h, w, -1), filters).ravel())
    return np.array(cols).T


def test_rank_deficient_nonnegative_least_squares():
    """alpha 0 with more unknowns than pixels (a case the fuzz test found):
    SPORCO's residual balancing drove rho to 1e-28 and stopped at 47x the
    optimum; bounded rho reaches scipy's NNLS optimum."""
    from scipy.optimize import nnls

    image = np.array([0.12573022, -0.13210486, 0.64042264, 0.10490011, -0.5356694])[:, None]
    filters = np.array([[0.36159506, 1.304, 0.94708097, -0.70373523, -1.2654215],
                        [-0.62327445, 0.04132598, -2.3250308, -0.21879166, -1.245911],
                        [-0.7322674, -0.544259, -0.31630015, 0.41163054, 1.0425134]])[..., None]
    _, residual = nnls(_circulant(filters, image.shape), image.ravel())
    for dtype in (np.float32, np.float64):
        codes = conv_bpdn(image.astype(dtype), filters.astype(dtype), alpha=0.0, positive=True,
                          max_iter=2000, tol=1e-6)
        assert codes.min() >= 0
        value = conv_bpdn_objective(image, filters, codes, 0.0)
        assert value <= 0.5 * residual ** 2 + 1e-4 * float((image ** 2).sum()), dtype


def test_zero_codes_when_alpha_exceeds_every_correlation(camera_hp):
    """alpha >= max |D^T s| makes zero the exact solution: returned at once
    (ADMM would raise rho without bound there); just below, codes appear."""
    f = _gray_filters(8)
    corr = _np_correlations(camera_hp, f)
    codes, info = conv_bpdn(camera_hp, f, alpha=np.abs(corr).max(), return_info=True)
    assert not codes.any() and info["n_iter"][0] == 0 and info["converged"][0]
    codes = conv_bpdn(camera_hp, f, alpha=0.99 * np.abs(corr).max(), max_iter=50, tol=0)
    assert codes.any()
    pos, info = conv_bpdn(camera_hp, f, alpha=corr.max(), positive=True, tol=0,
                          return_info=True)
    assert not pos.any() and info["n_iter"][0] == 0 and info["converged"][0]


def _np_correlations(image, filters):
    """D^T s: the correlation of the image with each filter (circular)."""
    out = np.zeros(image.shape + (filters.shape[0],))
    for i in range(filters.shape[0]):
        for a in range(filters.shape[1]):
            for b in range(filters.shape[2]):
                out[..., i] += filters[i, a, b] * np.roll(image, (-a, -b), axis=(0, 1))
    return out


def test_large_images_are_solved_as_if_scaled_into_unit_range(camera_hp):
    """SPORCO's rho rules assume signals within [-1, 1]; beyond, they apply to
    the image scaled into that range, so scaling image and alpha by 2^10
    scales the codes by 2^10 (bitwise: powers of two are exact)."""
    f = _gray_filters(8)
    s = camera_hp / np.abs(camera_hp).max()
    small, info_s = conv_bpdn(s, f, alpha=0.1, max_iter=60, tol=0, return_info=True)
    big, info_b = conv_bpdn(1024.0 * s, f, alpha=102.4, max_iter=60, tol=0, return_info=True)
    np.testing.assert_allclose(big, 1024.0 * small, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(info_b["rho"], info_s["rho"], rtol=1e-9)


@st.composite
def _cbpdn_problems(draw):
    """Small CBPDN problems of any layout the API takes, with values from
    1e-6 to 1e6 and degenerate filters (zero, constant, repeated)."""
    color = draw(st.booleans())
    n_ch = draw(st.integers(2, 3)) if color else 1
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    fh, fw = draw(st.integers(1, h)), draw(st.integers(1, w))
    n_filters = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([None, 1, 3]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    scale = 10.0 ** draw(st.integers(-6, 6))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    shape = ((batch,) if batch else ()) + (h, w) + ((n_ch,) if color else ())
    images = (scale * rng.standard_normal(shape)).astype(dtype)
    filters = rng.standard_normal((n_filters, fh, fw) + ((n_ch,) if color else ()))
    kind = draw(st.sampled_from(["random", "zero", "constant", "repeated"]))
    if kind == "zero":
        filters[0] = 0.0
    elif kind == "constant":
        filters[0] = 1.0
    elif kind == "repeated":
        filters[-1] = filters[0]
    alpha = draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0, 10.0])) * scale
    return (images, filters.astype(dtype), alpha, draw(st.booleans()),
            draw(st.sampled_from(["circular", "zero"])), draw(st.sampled_from([None, 2])))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cbpdn_problems())
def test_fuzz_codes_are_finite_and_shaped(problem):
    """The compiled steps on any valid problem: finite codes of the right
    shape and dtype, non-negative when asked, zero for zero images, and an
    objective no worse than the zero codes' once converged."""
    images, filters, alpha, positive, boundary, n_jobs = problem
    before = images.copy(), filters.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes, info = conv_bpdn(images, filters, alpha=alpha, positive=positive,
                                boundary=boundary, n_jobs=n_jobs, max_iter=300, tol=1e-4,
                                return_info=True)
    np.testing.assert_array_equal(images, before[0])
    np.testing.assert_array_equal(filters, before[1])
    color = filters.ndim == 4
    single = images.ndim == (3 if color else 2)
    grid = images.shape[-3:-1] if color else images.shape[-2:]
    if boundary == "zero":
        grid = (grid[0] + filters.shape[1] - 1, grid[1] + filters.shape[2] - 1)
    lead = () if single else images.shape[:1]
    assert codes.shape == lead + tuple(grid) + (filters.shape[0],)
    assert codes.dtype == images.dtype
    assert np.all(np.isfinite(codes))
    if positive:
        assert np.all(codes >= 0)
    zero = codes * 0
    f = np.atleast_1d(conv_bpdn_objective(images, filters, codes, alpha, boundary=boundary))
    f0 = np.atleast_1d(conv_bpdn_objective(images, filters, zero, alpha, boundary=boundary))
    done = info["converged"]
    # the stopping rule is relative: 1e-4 of the problem's own scale
    assert np.all(f[done] <= f0[done] * (1 + 1e-3) + 1e-12), (f, f0, info)


# --------------------------------------------------------------------------
# convolutional dictionary learning
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def training_hp():
    """High-pass parts of four bundled images, 64x64, float32."""
    import skimage.color

    imgs = [skimage.data.camera() / 255.0, skimage.color.rgb2gray(skimage.data.astronaut()),
            skimage.data.coins()[:256, :256] / 255.0, skimage.data.moon() / 255.0]
    imgs = np.stack([downscale_local_mean(i, (4, 4))[:64, :64] for i in imgs])
    return tikhonov_split(imgs.astype(np.float32), 5.0, 16)[1]


def test_filter_update_matches_sporco_ccmod():
    """With the codes fixed, the filter update reaches SPORCO's constrained
    MOD (ConvCnstrMOD) objective."""
    _sporco()
    from sporco.admm import ccmod

    from sparsetools.convolutional._learning import _FilterUpdate, _unit_filters

    rng = np.random.default_rng(0)
    k, m, size = 3, 4, 16
    tiles = rng.standard_normal((k, 1, size, size))
    codes = rng.standard_normal((k, m, size, size)) * (rng.random((k, m, size, size)) < 0.05)
    d0 = _unit_filters(rng.standard_normal((m, 1, 5, 5)), (5, 5))
    upd = _FilterUpdate(d0, (size, size))
    upd.accumulate(codes, tiles, 0.0)
    ours = upd.solve(500)

    opt = ccmod.ConvCnstrMOD_IterSM.Options({"Verbose": False, "MaxMainIter": 500,
                                             "RelStopTol": 0.0, "ZeroMean": False})
    Z = codes.transpose(2, 3, 0, 1)[:, :, None]          # (h, w, 1, k, m)
    S = tiles[:, 0].transpose(1, 2, 0)                   # (h, w, k)
    solver = ccmod.ConvCnstrMOD_IterSM(Z, S, (5, 5, m), opt, dimK=1)
    solver.solve()
    theirs = np.asarray(solver.getdict()).squeeze().transpose(2, 0, 1)[:, None]

    def data_term(filters):
        total = 0.0
        for j in range(k):
            rec = _np_reconstruct(codes[j].transpose(1, 2, 0), filters[:, 0])
            total += 0.5 * ((rec - tiles[j, 0]) ** 2).sum()
        return total

    np.testing.assert_allclose(np.linalg.norm(ours.reshape(m, -1), axis=1), 1.0)
    assert data_term(ours) <= data_term(theirs) * (1 + 1e-3)
    assert data_term(ours) < data_term(d0)


def test_learned_filters_code_held_out_image_better(training_hp):
    from sparsetools.convolutional import learn_conv_dictionary

    filters, info = learn_conv_dictionary(training_hp[1:], n_filters=12, filter_size=6,
                                          alpha=0.1, max_iter=30, batch_size=4, tile_size=32,
                                          coding_iter=20, random_state=0, return_info=True)
    assert filters.shape == (12, 6, 6)
    np.testing.assert_allclose(np.linalg.norm(filters.reshape(12, -1), axis=1), 1.0, rtol=1e-6)
    assert info["objective"][-10:].mean() < info["objective"][:5].mean()
    rng = np.random.default_rng(0)
    rand = _random_filters(rng, 12, 6)
    held = training_hp[0]

    def held_out(f):
        z = conv_bpdn(held, f.astype(np.float32), alpha=0.1, max_iter=80, tol=0)
        return conv_bpdn_objective(held, f, z, 0.1)

    assert held_out(filters) < 0.8 * held_out(rand)
    again = learn_conv_dictionary(training_hp[1:], n_filters=12, filter_size=6, alpha=0.1,
                                  max_iter=30, batch_size=4, tile_size=32, coding_iter=20,
                                  random_state=0)
    np.testing.assert_array_equal(filters, again)


def test_learn_color_filters():
    from sparsetools.convolutional import learn_conv_dictionary

    img = skimage.data.astronaut()[::8, ::8] / 255.0
    hp = tikhonov_split(img, 5.0, 16, color=True)[1]
    filters = learn_conv_dictionary(hp, n_filters=5, filter_size=(4, 3), alpha=0.05,
                                    max_iter=4, batch_size=2, tile_size=24, color=True,
                                    random_state=1)
    assert filters.shape == (5, 4, 3, 3)
    np.testing.assert_allclose(np.linalg.norm(filters.reshape(5, -1), axis=1), 1.0)


def test_learn_bad_input():
    from sparsetools.convolutional import learn_conv_dictionary

    with pytest.raises(ValueError, match="larger than the tiles"):
        learn_conv_dictionary(np.zeros((10, 10)), filter_size=12)
    with pytest.raises(ValueError, match="filters_init must have shape"):
        learn_conv_dictionary(np.zeros((10, 10)), n_filters=2, filter_size=3,
                              filters_init=np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="filter_size must be"):
        learn_conv_dictionary(np.zeros((10, 10)), filter_size=(3, 3, 3))
