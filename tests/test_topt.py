"""topt_codes and TopTFrontend: eq. 3 of paper 003 against plain NumPy, digits in a
Pipeline, the estimator contract and bad input."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from test_coder import checks_by_width

from sparsetools import TopTFrontend
from sparsetools.coding import topt_codes
from sparsetools.image import extract_patches, reconstruct_from_patches


def _reference(X, D, n_top, beta, epsilon):
    """Eq. 3 written plainly: top-T by magnitude (stable: lower index first on
    ties), then sign * ||d_l||_1 above beta * epsilon * ||d_l||_1."""
    C = X @ D.T
    l1 = np.abs(D).sum(axis=1)
    beta, epsilon = C.dtype.type(beta), C.dtype.type(epsilon)
    out = np.zeros_like(C)
    for i, c in enumerate(C):
        top = np.argsort(-np.abs(c), kind="stable")[:n_top]
        for l in top:
            if abs(c[l]) > 0 and abs(c[l]) >= beta * epsilon * l1[l]:
                out[i, l] = np.sign(c[l]) * l1[l]
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_top", [1, 3, 7, 20])
def test_topt_codes_equal_eq3_in_numpy(dtype, n_top):
    rng = np.random.default_rng(n_top)
    X = rng.standard_normal((60, 12)).astype(dtype)
    D = rng.standard_normal((20, 12))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    D = D.astype(dtype)
    codes = topt_codes(X, D, n_top=n_top, beta=1.5, epsilon=0.2)
    assert codes.dtype == dtype
    expected = _reference(X, D, n_top, 1.5, 0.2)   # in the same dtype
    np.testing.assert_array_equal(codes.toarray(), expected)
    dense = codes.toarray()
    assert np.all((dense != 0).sum(axis=1) <= n_top)
    l1 = np.abs(D).sum(axis=1)
    nz = dense != 0
    np.testing.assert_array_equal(np.abs(dense)[nz], np.broadcast_to(l1, dense.shape)[nz])


def test_ties_keep_the_lower_atom_index():
    D = np.eye(5)
    X = np.array([[0.5, -0.5, 0.5, 0.1, -0.5]])
    np.testing.assert_array_equal(topt_codes(X, D, n_top=2, beta=0, epsilon=0).toarray(),
                                  [[1, -1, 0, 0, 0]])
    np.testing.assert_array_equal(topt_codes(X, D, n_top=3, beta=0, epsilon=0).toarray(),
                                  [[1, -1, 1, 0, 0]])


def test_threads_give_identical_codes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 16))
    D = rng.standard_normal((64, 16))
    one = topt_codes(X, D, n_top=5, n_jobs=1)
    two = topt_codes(X, D, n_top=5, n_jobs=2)
    assert (one != two).nnz == 0


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_frontend_equals_patches_then_eq3(digits):
    X, _ = digits
    front = TopTFrontend(n_components=40, patch_size=4, stride=2, n_top=4, epsilon=0.05,
                         image_shape=(8, 8), max_iter=1, random_state=0).fit(X[:300])
    codes = front.transform(X[:7])
    D = front.components_
    P = extract_patches(X[:7].reshape(7, 8, 8), 4, stride=2).reshape(-1, 16)
    expected = _reference(P, D, 4, 3.0, 0.05).reshape(7, -1)   # position, then atom
    np.testing.assert_array_equal(codes.toarray(), expected)
    assert codes.shape == (7, 9 * 40) and front.n_positions_ == 9
    # the same images as arrays, and dense output
    arrays = TopTFrontend(D, patch_size=4, stride=2, n_top=4, epsilon=0.05,
                          output="dense").fit(X[:7].reshape(7, 8, 8))
    np.testing.assert_array_equal(arrays.transform(X[:7].reshape(7, 8, 8)), expected)
    # inverse_transform: each position's code times the atoms, averaged
    rebuilt = front.inverse_transform(codes)
    rec = (expected.reshape(-1, 40) @ D).reshape(-1, 4, 4)
    np.testing.assert_allclose(rebuilt, reconstruct_from_patches(
        rec, (7, 8, 8), stride=2).reshape(7, 64), atol=1e-12)


def test_color_images(digits):
    rng = np.random.default_rng(0)
    images = rng.random((4, 10, 12, 3))
    front = TopTFrontend(n_components=30, patch_size=(4, 3), stride=2, n_top=3,
                         color=True, max_iter=1, random_state=0).fit(images)
    assert front.components_.shape == (30, 36)
    codes = front.transform(images[:2])
    assert codes.shape == (2, front.n_positions_ * 30)
    P = extract_patches(images[:2], (4, 3), stride=2, color=True).reshape(-1, 36)
    np.testing.assert_array_equal(
        codes.toarray(), _reference(P, front.components_, 3, 3.0, 8 / 255).reshape(2, -1))
    with pytest.raises(ValueError, match="channel"):
        front.transform(images[..., :2])


def test_pipeline_with_linear_svc_on_digits(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                        stratify=y)
    front = TopTFrontend(n_components=128, patch_size=4, stride=2, n_top=10, epsilon=0.05,
                         image_shape=(8, 8), max_iter=3, random_state=0)
    clf = Pipeline([("front", front), ("svm", LinearSVC())]).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    # measured: 0.981, 89 non-zeros of 1152 per image (LinearSVC on the pixels: 0.960)
    assert accuracy > 0.95


# --------------------------------------------------------------------------
# scikit-learn's estimator checks, and bad input
# --------------------------------------------------------------------------

def _frontend_for(width):
    return TopTFrontend(n_components=3, patch_size=(1, min(2, width)), stride=1, n_top=1,
                        image_shape=(1, width), max_iter=1, epsilon=0.01, random_state=0)


@pytest.mark.parametrize("estimator, check", list(checks_by_width(_frontend_for)))
def test_sklearn_estimator_checks(estimator, check):
    check(clone(estimator))


@pytest.mark.parametrize("params, X, error, match", [
    (dict(n_top=50), np.zeros((3, 64)), ValueError, "n_top must be an int in the range"),
    (dict(beta=-1.0), np.zeros((3, 64)), ValueError, "beta must be >= 0"),
    (dict(epsilon=float("nan")), np.zeros((3, 64)), ValueError, "epsilon must be finite"),
    (dict(output="coo"), np.zeros((3, 64)), ValueError, "output must be one of"),
    (dict(patch_size=9), np.zeros((3, 64)), ValueError, "larger than the images"),
    (dict(stride=5), np.zeros((3, 64)), ValueError, "stride .* must be at most"),
    (dict(dictionary=np.ones((5, 9))), np.zeros((3, 64)), ValueError,
     "dictionary atoms have 9 values"),
    (dict(n_components=0), np.zeros((3, 64)), ValueError, "n_components must be an int"),
    (dict(), np.full((3, 64), np.nan), ValueError, "NaN"),
    (dict(), np.zeros((3, 60)), ValueError, "image_shape .* needs 64"),
])
def test_bad_input_raises(params, X, error, match):
    base = dict(n_components=20, image_shape=(8, 8), max_iter=1)
    with pytest.raises(error, match=match):
        TopTFrontend(**{**base, **params}).fit(X)


def test_topt_codes_bad_input():
    D = np.eye(4)
    with pytest.raises(ValueError, match="n_top must be an int in the range"):
        topt_codes(np.ones((2, 4)), D, n_top=5)
    with pytest.raises(ValueError, match="features"):
        topt_codes(np.ones((2, 3)), D)
    with pytest.raises(ValueError, match="NaN"):
        topt_codes(np.full((2, 4), np.inf), D)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_topt_codes_fuzz(data):
    n = data.draw(st.integers(0, 6))
    f = data.draw(st.integers(1, 5))
    k = data.draw(st.integers(1, 8))
    values = st.floats(-1e3, 1e3, allow_nan=False, width=64)
    X = data.draw(arrays(np.float64, (n, f), elements=values))
    D = data.draw(arrays(np.float64, (k, f), elements=values))
    n_top = data.draw(st.integers(1, k))
    beta = data.draw(st.floats(0, 5))
    epsilon = data.draw(st.floats(0, 1))
    if n == 0:
        with pytest.raises(ValueError, match="empty"):
            topt_codes(X, D, n_top=n_top, beta=beta, epsilon=epsilon)
        return
    codes = topt_codes(X, D, n_top=n_top, beta=beta, epsilon=epsilon).toarray()
    np.testing.assert_array_equal(codes, _reference(X, D, n_top, beta, epsilon))
    assert np.all((codes != 0).sum(axis=1) <= n_top)
