"""Torch twins of LCACoder, DeepSparseCoder, DictionaryDenoiser, ConvSparseCoder and
StratifiedConvSparseCoder (to_torch): forward equal to `transform` in float32 and
float64, exact backward checked by gradcheck, BPDA identity backward, bad input.
Skipped without torch.

gradcheck compares the analytic gradient with central differences of the twin's
forward, which calls the estimator at every perturbed point. The twins' maps are
piecewise smooth: the LCA twins change where a step count or a threshold crossing
changes, the support-based twins (OMP patches, CBPDN) where a support or a sign
changes. gradcheck's steps (1e-6 or less) at fixed, generic data points cross none
of these (the probability is of the order of the step over the distance to the
nearest change); the tests that need it say why their point is safe.
"""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_digits  # noqa: E402

from sparsetools import DeepSparseCoder, DictionaryDenoiser, LCACoder  # noqa: E402
from sparsetools.convolutional import (ConvSparseCoder,  # noqa: E402
                                       StratifiedConvSparseCoder)
from sparsetools.torch import (ConvSparseCoderModule, DeepSparseCoderModule,  # noqa: E402
                               DictionaryDenoiserModule, LCACoderModule,
                               StratifiedConvSparseCoderModule, to_torch)

F64, F32 = torch.float64, torch.float32
# (torch dtype, numpy dtype, forward tolerance against transform)
DTYPES = [(F64, np.float64, 1e-10), (F32, np.float32, 1e-5)]


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _max_diff(out, expected):
    return float(np.abs(np.asarray(out, dtype=np.float64) - expected).max())


def _nchw(rows, shape):
    return torch.as_tensor(rows.reshape((-1,) + shape)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def digits():
    return load_digits().data / 16.0


# --------------------------------------------------------------------------
# LCACoder
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lca_data():
    rng = np.random.default_rng(0)
    D = rng.standard_normal((16, 8))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.standard_normal((6, 8))
    return D, X


LCA_VARIANTS = [
    dict(integrator="euler"),
    dict(integrator="nesterov"),
    dict(integrator="euler", transfer="hard", threshold=0.5),
    dict(integrator="nesterov", positive=True),
    dict(integrator="euler", transfer="hard", positive=True, threshold=0.4, dt=0.1),
]


@pytest.mark.parametrize("params", LCA_VARIANTS)
@pytest.mark.parametrize("dtype, np_dtype, atol", DTYPES)
def test_lca_forward_equals_transform(lca_data, params, dtype, np_dtype, atol):
    D, X = lca_data
    coder = LCACoder(D, **{"threshold": 0.3, **params}).fit(X)
    module = to_torch(coder)
    assert isinstance(module, LCACoderModule)
    out = module(torch.as_tensor(X, dtype=dtype))
    assert out.dtype == dtype
    expected = coder.transform(X.astype(np_dtype))
    # the default tol (1e-2) stops the dynamics far from the fixed point: the
    # twin runs each signal's own number of steps, so the codes agree to
    # rounding, not to the tolerance
    assert _max_diff(out.numpy(), expected) < atol
    assert np.count_nonzero(expected) > 0


@pytest.mark.parametrize("params", [dict(integrator="euler", dt=0.15),
                                    dict(integrator="nesterov")])
def test_lca_gradcheck(lca_data, params):
    D, X = lca_data
    coder = LCACoder(D, threshold=0.3, **params).fit(X)
    module = to_torch(coder)
    x = torch.tensor(X[:2], requires_grad=True)
    # the gradient is not trivially zero
    module(x).sum().backward()
    assert float(x.grad.abs().max()) > 0.1
    # with the estimator's tolerance stop: at these points no step count
    # and no threshold crossing changes under 1e-6 perturbations
    assert torch.autograd.gradcheck(module, (x.detach().requires_grad_(True),), eps=1e-6,
                                    atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lca_fixed_steps_gradcheck(lca_data):
    # tol=0: every signal runs max_iter steps (the estimator warns that it
    # reached them), so only threshold crossings can break differentiability
    D, X = lca_data
    coder = LCACoder(D, threshold=0.3, tol=0.0, transform_max_iter=40).fit(X)
    module = to_torch(coder)
    x = torch.tensor(X[:4], requires_grad=True)
    np.testing.assert_allclose(module(x).detach().numpy(), coder.transform(X[:4]),
                               atol=1e-12)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lca_step_counts_come_from_the_estimator(lca_data):
    # each row's reference ran a different number of steps (2, 5, 9) while the
    # twin's own stopping rule (tol=1e9) fires after one: the twin follows
    # the reference, row by row
    from sparsetools.torch._lca import lca_unrolled

    D, X = lca_data
    params = dict(threshold=0.05, tol=0.0, dt=0.15)
    ref = np.vstack([LCACoder(D, transform_max_iter=k, **params).transform(X[i:i + 1])
                     for i, k in enumerate((2, 5, 9))])
    # neighbouring steps give different codes, so matching is not trivial
    for i, k in enumerate((2, 5, 9)):
        for other in (k - 1, k + 1):
            near = LCACoder(D, transform_max_iter=other, **params).transform(X[i:i + 1])
            assert np.abs(near - ref[i]).max() > 1e-3
    Dt, x = torch.as_tensor(D), torch.as_tensor(X[:3])
    out = lca_unrolled(x @ Dt.T, Dt @ Dt.T, 0.05, False, False, "euler", 0.15, 100, 1e9,
                       torch.as_tensor(ref), need_grad=True)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-13)


def test_lca_gradient_at_fixed_point_matches_lasso(lca_data):
    # near the fixed point the soft LCA is the lasso, whose gradient on the
    # support S is (D_S D_S^T)^{-1} D_S: the unrolled gradient converges to it
    D, X = lca_data
    coder = LCACoder(D, threshold=0.3, tol=1e-9, integrator="nesterov",
                     transform_max_iter=5000).fit(X)
    x = torch.tensor(X[:1], requires_grad=True)
    codes = to_torch(coder)(x)
    S = np.flatnonzero(codes.detach().numpy()[0])
    jac = torch.autograd.functional.jacobian(lambda v: to_torch(coder)(v), x)[0, :, 0]
    DS = D[S]
    expected = np.linalg.solve(DS @ DS.T, DS)
    np.testing.assert_allclose(jac.numpy()[S], expected, atol=1e-6)


# 4 steps with tol=0 stop every signal at max_iter, on purpose
@pytest.mark.filterwarnings("ignore:LCA .* reached max_iter:sklearn.exceptions.ConvergenceWarning")
def test_lca_identity_backward_is_the_linear_dynamics(lca_data):
    """BPDA's identity for the threshold: the forward values are the
    estimator's, and the backward pass is that of the dynamics without
    threshold, ``u_k = u_{k-1} (I - eta G) + eta x D^T`` from ``u_0 = 0``,
    whose gradient after K steps is ``D^T S w`` for the loss ``codes @ w``,
    ``S = eta sum_{j<K} (I - eta G)^j``; every unit passes gradients on,
    also those below the threshold, where the exact gradient is zero."""
    D, X = lca_data
    n_steps = 4   # a few steps with tol=0: every signal runs all of them, and its
    # codes change at each (so the twin's step count is the estimator's)
    coder = LCACoder(D, threshold=0.3, integrator="euler", dt=0.3, transform_max_iter=n_steps,
                     tol=0.0).fit(X)
    assert np.count_nonzero(coder.transform(X)) > 20
    exact, ident = to_torch(coder), to_torch(coder, backward="identity")
    w = torch.as_tensor(np.random.default_rng(1).standard_normal(D.shape[0]))
    grads = {}
    for name, module in (("exact", exact), ("identity", ident)):
        x = torch.tensor(X, requires_grad=True)
        out = module(x)
        assert _max_diff(out.detach().numpy(), coder.transform(X)) < 1e-10
        (out @ w).sum().backward()
        grads[name] = x.grad.numpy()
    eta = ident._dynamics(np.float64)[0]
    G = D @ D.T
    step = np.eye(len(G)) - eta * G
    S = eta * sum(np.linalg.matrix_power(step, j) for j in range(n_steps))
    expected = D.T @ S @ w.numpy()
    np.testing.assert_allclose(grads["identity"], np.tile(expected, (len(X), 1)),
                               rtol=1e-10, atol=1e-12)
    assert np.abs(grads["identity"] - grads["exact"]).max() > 1e-2
    # a threshold that no potential reaches: no code, no exact gradient
    silent = LCACoder(D, threshold=50.0, dt=0.3, transform_max_iter=n_steps, tol=0.0).fit(X)
    for backward, nonzero in (("exact", False), ("identity", True)):
        x = torch.tensor(X, requires_grad=True)
        out = to_torch(silent, backward=backward)(x)
        assert not out.detach().numpy().any()
        (out @ w).sum().backward()
        assert bool(np.abs(x.grad.numpy()).max() > 1e-3) is nonzero


# --------------------------------------------------------------------------
# DeepSparseCoder
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deep_data(digits):
    X = digits[:80] / np.linalg.norm(digits[:80], axis=1, keepdims=True)
    return X


@pytest.mark.parametrize("feedback", [0.0, 1.0])
@pytest.mark.parametrize("dtype, np_dtype, atol", DTYPES)
def test_deep_forward_equals_transform(deep_data, feedback, dtype, np_dtype, atol):
    X = deep_data
    dsc = DeepSparseCoder((24, 12), feedback=feedback, threshold=[0.05, 0.02], n_epochs=1,
                          pretrain_epochs=1, random_state=0).fit(X[:60].astype(np_dtype))
    module = to_torch(dsc)
    assert isinstance(module, DeepSparseCoderModule)
    out = module(torch.as_tensor(X[60:70], dtype=dtype))
    assert out.dtype == dtype
    expected = dsc.transform(X[60:70].astype(np_dtype))
    assert _max_diff(out.numpy(), expected) < atol
    assert np.count_nonzero(expected) > 0


@pytest.mark.parametrize("feedback", [0.0, 1.0])
def test_deep_gradcheck(feedback):
    # small enough for gradcheck's one forward pass per input value
    rng = np.random.default_rng(4)
    X = rng.random((30, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    dsc = DeepSparseCoder((8, 5), feedback=feedback, threshold=[0.05, 0.02], dt=0.15,
                          n_epochs=1, pretrain_epochs=1, random_state=0).fit(X)
    module = to_torch(dsc)
    x = torch.tensor(X[:2], requires_grad=True)
    np.testing.assert_allclose(module(x).detach().numpy(), dsc.transform(X[:2]), atol=1e-12)
    module(x).sum().backward()
    assert float(x.grad.abs().max()) > 0
    assert torch.autograd.gradcheck(module, (x.detach().requires_grad_(True),), eps=1e-6,
                                    atol=1e-6)


@pytest.mark.parametrize("feedback", [0.0, 1.0])
def test_deep_identity_backward_reaches_inactive_units(deep_data, feedback):
    """With BPDA's identity for the thresholds the forward values stay the
    estimator's, and a coder whose top layer is silent (all codes zero, so
    the exact gradient is zero) still passes gradients to the input."""
    X = deep_data
    dsc = DeepSparseCoder((24, 12), feedback=feedback, threshold=[0.05, 0.02], n_epochs=1,
                          pretrain_epochs=1, random_state=0).fit(X[:60])
    w = torch.as_tensor(np.random.default_rng(2).standard_normal(12))
    grads = {}
    for backward in ("exact", "identity"):
        module = to_torch(dsc, backward=backward)
        x = torch.tensor(X[60:66], requires_grad=True)
        out = module(x)
        assert _max_diff(out.detach().numpy(), dsc.transform(X[60:66])) < 1e-10
        (out @ w).sum().backward()
        grads[backward] = x.grad.numpy()
    assert np.abs(grads["identity"] - grads["exact"]).max() > 1e-3
    dsc.set_params(threshold=[0.05, 5.0])       # nothing reaches the top layer
    for backward, nonzero in (("exact", False), ("identity", True)):
        x = torch.tensor(X[60:66], requires_grad=True)
        out = to_torch(dsc, backward=backward)(x)
        assert not out.detach().numpy().any()
        (out @ w).sum().backward()
        assert bool(np.abs(x.grad.numpy()).max() > 1e-4) is nonzero


# --------------------------------------------------------------------------
# DictionaryDenoiser
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def denoiser(digits):
    return DictionaryDenoiser(image_shape=(8, 8), patch_size=4, stride=2, n_components=24,
                              n_nonzero_coefs=3, max_iter=1, random_state=0).fit(digits[:200])


@pytest.mark.parametrize("dtype, np_dtype, atol", DTYPES)
def test_denoiser_forward_equals_transform(denoiser, digits, dtype, np_dtype, atol):
    X = digits[200:220]
    module = to_torch(denoiser)
    assert isinstance(module, DictionaryDenoiserModule)
    expected = denoiser.transform(X.astype(np_dtype))
    # rows, as transform takes them with image_shape
    out = module(torch.as_tensor(X, dtype=dtype))
    assert out.dtype == dtype and out.shape == (20, 64)
    assert _max_diff(out.numpy(), expected) < atol
    # NCHW images
    out = module(_nchw(X, (8, 8, 1)).to(dtype))
    assert out.shape == (20, 1, 8, 8)
    assert _max_diff(out.permute(0, 2, 3, 1).reshape(20, 64).numpy(), expected) < atol
    # the denoiser changes the images (the test is not of an identity)
    assert np.abs(expected - X).max() > 0.1


@pytest.mark.parametrize("dtype, np_dtype, atol", DTYPES)
def test_denoiser_color_images_with_sigma(dtype, np_dtype, atol):
    rng = np.random.default_rng(1)
    images = rng.random((3, 10, 9, 3))
    den = DictionaryDenoiser(patch_size=(3, 4), stride=(2, 3), n_components=20, sigma=0.1,
                             color=True, max_iter=1, random_state=0).fit(images)
    module = to_torch(den)
    x = torch.as_tensor(images, dtype=dtype).permute(0, 3, 1, 2)
    out = module(x).permute(0, 2, 3, 1).numpy()
    assert _max_diff(out, den.transform(images.astype(np_dtype))) < atol


def test_denoiser_without_mean_removal(digits):
    den = DictionaryDenoiser(image_shape=(8, 8), patch_size=3, n_components=16, tol=0.05,
                             remove_mean=False, max_iter=1, random_state=0).fit(digits[:100])
    X = digits[100:105]
    out = to_torch(den)(torch.as_tensor(X)).numpy()
    assert _max_diff(out, den.transform(X)) < 1e-10


def test_denoiser_gradcheck(denoiser, digits):
    module = to_torch(denoiser)
    x = torch.tensor(digits[200:202], requires_grad=True)
    # OMP's supports are stable under gradcheck's steps at these images
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-7)
    # NCHW input too
    assert torch.autograd.gradcheck(module, (_nchw(digits[202:203], (8, 8, 1))
                                             .requires_grad_(True),), eps=1e-6, atol=1e-7)


def test_denoiser_exact_gradient_is_the_patch_projection(digits):
    # one patch covering the image, no mean removal: the map is the
    # projection on the span of the atoms OMP selects, D_S^T (D_S D_S^T)^-1 D_S
    from sparsetools import orthogonal_mp

    den = DictionaryDenoiser(image_shape=(8, 8), patch_size=8, n_components=20,
                             n_nonzero_coefs=4, remove_mean=False, max_iter=1,
                             random_state=0).fit(digits[:100])
    X = digits[150:151]
    jac = torch.autograd.functional.jacobian(to_torch(den), torch.as_tensor(X))[0, :, 0]
    S = np.flatnonzero(orthogonal_mp(X, den.components_, n_nonzero_coefs=4)[0])
    assert S.size == 4
    DS = den.components_[S]
    np.testing.assert_allclose(jac.numpy(), DS.T @ np.linalg.solve(DS @ DS.T, DS),
                               atol=1e-10)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_denoiser_identity_backward(denoiser, digits, dtype):
    module = to_torch(denoiser, backward="identity")
    X = digits[200:205]
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    out = module(x)
    np.testing.assert_array_equal(out.detach().numpy(), denoiser.transform(
        X.astype(np.float64 if dtype == F64 else np.float32)))
    upstream = torch.randn(out.shape, dtype=dtype, generator=torch.Generator().manual_seed(0))
    (grad,) = torch.autograd.grad(out, x, upstream)
    assert torch.equal(grad, upstream)


# --------------------------------------------------------------------------
# ConvSparseCoder and StratifiedConvSparseCoder
# --------------------------------------------------------------------------

def _stl(X, **params):
    # tight CBPDN tolerance: the twin's codes are the exact optimum on the
    # solver's support, the solver's are within its tolerance of it
    defaults = dict(n_filters=4, filter_size=3, alpha=0.1, max_iter=3, batch_size=4,
                    transform_tol=1e-8, transform_max_iter=3000, image_shape=(8, 8),
                    random_state=0)
    return ConvSparseCoder(**{**defaults, **params}).fit(X)


@pytest.fixture(scope="module")
def stl(digits):
    return _stl(digits[:40])


@pytest.mark.parametrize("boundary", ["circular", "zero"])
def test_conv_forward_equals_transform_float64(digits, boundary):
    stl = _stl(digits[:40], boundary=boundary)
    module = to_torch(stl)
    assert isinstance(module, ConvSparseCoderModule)
    X = digits[40:46]
    expected = stl.transform(X)
    out = module(torch.as_tensor(X))
    assert out.dtype == F64 and out.shape == (6, 64)
    assert _max_diff(out.numpy(), expected) < 1e-6
    out = module(_nchw(X, (8, 8, 1)))
    assert _max_diff(out.permute(0, 2, 3, 1).reshape(6, 64).numpy(), expected) < 1e-6
    # the projection is not the identity, and the codes are sparse
    assert np.abs(expected - X).max() > 0.05
    codes = stl.encode(X)
    assert 0 < np.count_nonzero(codes) < codes.size // 2


def test_conv_forward_equals_transform_float32(digits):
    # float32 CBPDN converges to about 1e-6
    stl = _stl(digits[:40], transform_tol=1e-6)
    X = digits[40:46].astype(np.float32)
    out = to_torch(stl)(torch.as_tensor(X))
    assert out.dtype == F32
    assert _max_diff(out.numpy(), stl.transform(X)) < 1e-5


def test_conv_color_forward_equals_transform():
    rng = np.random.default_rng(2)
    images = rng.random((2, 9, 10, 3))
    stl = ConvSparseCoder(n_filters=3, filter_size=(3, 2), alpha=0.1, max_iter=2,
                          batch_size=2, tile_size=8, transform_tol=1e-9,
                          transform_max_iter=3000, color=True, random_state=0).fit(images)
    out = to_torch(stl)(torch.as_tensor(images).permute(0, 3, 1, 2))
    assert out.shape == (2, 3, 9, 10)
    assert _max_diff(out.permute(0, 2, 3, 1).numpy(), stl.transform(images)) < 1e-6


@pytest.mark.parametrize("boundary", ["circular", "zero"])
def test_conv_gradcheck(digits, boundary):
    # 6x6 crops of the digits keep gradcheck's 36 perturbations cheap
    crops = digits.reshape(-1, 8, 8)[:41, 1:7, 1:7].reshape(41, 36)
    stl = _stl(crops[:40], boundary=boundary, image_shape=(6, 6))
    module = to_torch(stl)
    x = torch.tensor(crops[40:41], requires_grad=True)
    np.testing.assert_allclose(module(x).detach().numpy(), stl.transform(crops[40:41]),
                               atol=1e-6)
    # supports and signs of the CBPDN codes are stable under 1e-6 steps at
    # this image; the codes' values are the exact optimum on them, so the
    # numerical derivative sees the implicit gradient
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-6)


def test_conv_exact_gradient_is_lowpass_plus_support_projection(digits, stl):
    # the twin's map is L s + F_S (F_S^T F_S)^{-1} (F_S^T (I - L) s - alpha sign):
    # its Jacobian is L + P_S (I - L), P_S the orthogonal projection on the
    # span of the shifted filters of the support, built here densely from
    # conv_reconstruct of one-hot code maps
    from sparsetools.convolutional import conv_reconstruct, tikhonov_split

    X = digits[41:42]
    jac = torch.autograd.functional.jacobian(to_torch(stl), torch.as_tensor(X))[0, :, 0]
    codes = stl.encode(X)[0]                              # (8, 8, n_filters)
    columns = []
    for y, x, m in zip(*np.nonzero(codes)):
        one = np.zeros_like(codes)
        one[y, x, m] = 1.0
        columns.append(conv_reconstruct(one, stl.filters_).ravel())
    F_S = np.array(columns).T
    P = F_S @ np.linalg.solve(F_S.T @ F_S, F_S.T)
    L = np.array([tikhonov_split(e.reshape(8, 8), 5.0)[0].ravel() for e in np.eye(64)]).T
    np.testing.assert_allclose(jac.numpy(), L + P @ (np.eye(64) - L), atol=1e-8)


def test_lowpass_matches_tikhonov_split():
    from sparsetools.convolutional import tikhonov_split
    from sparsetools.torch._conv import _tikhonov_low

    rng = np.random.default_rng(3)
    images = rng.random((2, 7, 5, 2))     # smaller than the padding: repeated mirrors
    low, _ = tikhonov_split(images, reg=3.0, color=True)
    out = _tikhonov_low(torch.as_tensor(images).permute(0, 3, 1, 2), 3.0, 16)
    np.testing.assert_allclose(out.permute(0, 2, 3, 1).numpy(), low, atol=1e-12)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_conv_identity_backward(stl, digits, dtype):
    module = to_torch(stl, backward="identity")
    np_dtype = np.float64 if dtype == F64 else np.float32
    X = digits[40:43]
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():   # float32 CBPDN stops short of tol 1e-8
        warnings.simplefilter("ignore")
        out = module(x)
        expected = stl.transform(X.astype(np_dtype))
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    upstream = torch.randn(out.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (grad,) = torch.autograd.grad(out, x, upstream)
    assert torch.equal(grad, upstream)


@pytest.fixture(scope="module")
def stratified(digits):
    return StratifiedConvSparseCoder(n_clusters=2, n_filters=4, filter_size=3, alpha=0.1,
                                     max_iter=3, batch_size=4, transform_tol=1e-8,
                                     transform_max_iter=3000, image_shape=(8, 8),
                                     random_state=0).fit(digits[:60])


def test_stratified_forward_gradcheck_and_identity(stratified, digits):
    module = to_torch(stratified)
    assert isinstance(module, StratifiedConvSparseCoderModule)
    X = digits[60:68]
    routes = stratified.predict_cluster(X)
    assert len(np.unique(routes)) == 2          # both clusters' twins are used
    out = module(torch.as_tensor(X))
    assert _max_diff(out.numpy(), stratified.transform(X)) < 1e-6
    # gradcheck's fast mode (a random projection of the Jacobian): each
    # image's gradient is its cluster's ConvSparseCoder twin's, which
    # test_conv_gradcheck checks in full
    x = torch.tensor(X[:2], requires_grad=True)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-6, fast_mode=True)
    ident = to_torch(stratified, backward="identity")
    x = torch.tensor(X[:3], requires_grad=True)
    out = ident(x)
    np.testing.assert_array_equal(out.detach().numpy(), stratified.transform(X[:3]))
    upstream = torch.randn(out.shape, dtype=F64, generator=torch.Generator().manual_seed(2))
    assert torch.equal(torch.autograd.grad(out, x, upstream)[0], upstream)


# --------------------------------------------------------------------------
# a twin in a torch pipeline; bad arguments; docstring examples
# --------------------------------------------------------------------------

def test_denoiser_twin_ahead_of_a_linear_head(denoiser, digits):
    from sklearn.datasets import load_digits as load
    from sklearn.svm import LinearSVC

    from sparsetools.torch import torch_head

    y = load().target
    svm = LinearSVC().fit(denoiser.transform(digits[:300]), y[:300])
    model = torch.nn.Sequential(to_torch(denoiser), torch_head(svm))
    logits = model(torch.as_tensor(digits[300:320]))
    np.testing.assert_allclose(logits.detach().numpy(), svm.decision_function(
        denoiser.transform(digits[300:320])), atol=1e-8)


def test_bad_arguments(lca_data, denoiser, stl, stratified):
    D, X = lca_data
    lca = LCACoder(D, threshold=0.3)
    with pytest.raises(ValueError, match=r"one of \('exact', 'identity'\) for LCACoder; "
                                         "got 'smooth'"):
        to_torch(lca, backward="smooth")
    with pytest.raises(ValueError, match="backward must be one of.*'identity'.*got 'smooth'"):
        to_torch(denoiser, backward="smooth")
    for est in (stl, stratified):
        with pytest.raises(ValueError, match="backward must be one of"):
            to_torch(est, backward="straight")
    with pytest.raises(ValueError, match="top_u applies to TopTFrontend"):
        to_torch(denoiser, top_u=3)
    with pytest.raises(TypeError, match="supports TopTFrontend"):
        to_torch(object())
    # shapes
    with pytest.raises(ValueError, match=r"x must have shape \(N, 8\)"):
        to_torch(lca)(torch.zeros(2, 9, dtype=F64))
    with pytest.raises(ValueError, match=r"x must have shape images \(N, 1, H, W\) or rows "
                                         r"\(N, 64\)"):
        to_torch(denoiser)(torch.zeros(2, 63, dtype=F64))
    with pytest.raises(ValueError, match="x must have shape"):
        to_torch(denoiser)(torch.zeros(1, 3, 8, 8, dtype=F64))
    with pytest.raises(ValueError, match="image_shape"):
        to_torch(stl)(torch.zeros(1, 1, 9, 8, dtype=F64))
    with pytest.raises(ValueError, match="x must have shape"):
        to_torch(stratified, backward="identity")(torch.zeros(64, dtype=F64))
    deep = DeepSparseCoder(4, n_epochs=0, pretrain_epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 8\)"):
        to_torch(deep)(torch.zeros(2, 3, dtype=F64))
    # images smaller than the patches / filters
    den = DictionaryDenoiser(patch_size=4, n_components=8, max_iter=1,
                             random_state=0).fit(np.random.default_rng(0).random((2, 8, 8)))
    with pytest.raises(ValueError, match="smaller than the patch_size"):
        to_torch(den)(torch.zeros(1, 1, 3, 8, dtype=F64))
    # NaN is refused by the estimator's own validation
    with pytest.raises(ValueError):
        to_torch(denoiser)(torch.full((1, 64), float("nan"), dtype=F64))


@pytest.mark.parametrize("name", ["sparsetools.torch._lca", "sparsetools.torch._denoiser",
                                  "sparsetools.torch._conv", "sparsetools.torch._twins"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
