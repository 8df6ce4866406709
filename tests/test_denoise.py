"""denoise_sparse and DictionaryDenoiser: references, real images, digits in a Pipeline,
the estimator contract and bad input."""
import numpy as np
import pytest
from skimage import data
from skimage.restoration import denoise_tv_chambolle
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.feature_extraction.image import extract_patches_2d, reconstruct_from_patches_2d
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from test_coder import checks_by_width

from sparsetools import DictionaryDenoiser, orthogonal_mp
from sparsetools.dictionary import overcomplete_dct
from sparsetools.image import _denoise, denoise_sparse, extract_patches
from sparsetools.metrics import psnr


def _noisy(img, sigma, seed=0):
    return img + np.random.default_rng(seed).normal(0.0, sigma, img.shape)


@pytest.fixture(scope="module")
def camera():
    clean = data.camera()[100:228, 200:328] / 255.0
    return clean, _noisy(clean, 25 / 255)


# --------------------------------------------------------------------------
# denoise_sparse against plain references
# --------------------------------------------------------------------------

def test_denoise_sparse_equals_extract_code_average_reference(camera):
    _, noisy = camera
    img = noisy[:40, :50]
    D = overcomplete_dct(6, 100)
    sigma = 0.1
    # 36 values, 1 mean removed: the noise energy's mean plus 1.82 deviations
    tol = sigma ** 2 * (35 + 0.3225 * 64 / np.sqrt(128) * np.sqrt(70))
    # scikit-learn's patches, sparsetools' OMP, scikit-learn's averaging
    P = extract_patches_2d(img, (6, 6)).reshape(-1, 36)
    means = P.mean(axis=1, keepdims=True)
    codes = orthogonal_mp(P - means, D, n_nonzero_coefs=18, tol=tol)
    expected = reconstruct_from_patches_2d((codes @ D + means).reshape(-1, 6, 6), img.shape)
    np.testing.assert_allclose(denoise_sparse(img, D, 6, sigma=sigma), expected, atol=1e-12)
    # no mean removal, a fixed number of atoms
    codes = orthogonal_mp(P, D, n_nonzero_coefs=3)
    expected = reconstruct_from_patches_2d((codes @ D).reshape(-1, 6, 6), img.shape)
    np.testing.assert_allclose(denoise_sparse(img, D, 6, n_nonzero_coefs=3, remove_mean=False),
                               expected, atol=1e-12)


@pytest.mark.parametrize("chunk", [7, 50, 400, 100_000])
def test_chunking_does_not_change_the_result(monkeypatch, chunk):
    rng = np.random.default_rng(1)
    images = rng.random((5, 13, 17, 2))
    D = rng.standard_normal((30, 4 * 3 * 2))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    expected = denoise_sparse(images, D, (4, 3), stride=(2, 2), color=True,
                              n_nonzero_coefs=3)
    monkeypatch.setattr(_denoise, "_CHUNK", chunk)
    got = denoise_sparse(images, D, (4, 3), stride=(2, 2), color=True, n_nonzero_coefs=3)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    # and each image alone gives its row of the batch
    np.testing.assert_allclose(
        denoise_sparse(images[3:4], D, (4, 3), stride=(2, 2), color=True,
                       n_nonzero_coefs=3)[0], expected[3], atol=1e-12)


def test_noise_tolerance_is_elad_aharon_for_8x8_gray_patches():
    from sparsetools.image._denoise import noise_tolerance

    assert noise_tolerance(0.1, 64) == pytest.approx(64 * (1.15 * 0.1) ** 2, rel=1e-12)
    # the same quantile of the noise energy for color patches, means removed
    rng = np.random.default_rng(0)
    for n_values, n_means in ((64, 0), (64, 1), (192, 3), (25, 1)):
        noise = rng.normal(0.0, 0.1, (200_000, n_values))
        noise.reshape(len(noise), -1, max(n_means, 1))[...] -= (
            noise.reshape(len(noise), -1, max(n_means, 1)).mean(axis=1, keepdims=True)
            if n_means else 0.0)
        below = np.mean(np.sum(noise ** 2, axis=1) <= noise_tolerance(0.1, n_values, n_means))
        assert 0.95 < below < 0.975   # about the 96th percentile each time


def test_denoise_sparse_with_strides_uses_grid_patches():
    rng = np.random.default_rng(2)
    img = rng.random((11, 14))
    D = rng.standard_normal((20, 9))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    P = extract_patches(img, 3, stride=2).reshape(-1, 9)
    means = P.mean(axis=1, keepdims=True)
    rec = (orthogonal_mp(P - means, D, n_nonzero_coefs=2) @ D + means).reshape(-1, 3, 3)
    from sparsetools.image import reconstruct_from_patches
    expected = reconstruct_from_patches(rec, img.shape, stride=2)
    np.testing.assert_allclose(denoise_sparse(img, D, 3, stride=2, n_nonzero_coefs=2),
                               expected, atol=1e-12)


def test_float32_is_kept_and_agrees(camera):
    _, noisy = camera
    D = overcomplete_dct(8, 256)
    out64 = denoise_sparse(noisy, D, 8, stride=2, n_nonzero_coefs=4)
    out32 = denoise_sparse(noisy.astype(np.float32), D.astype(np.float32), 8, stride=2,
                           n_nonzero_coefs=4)
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    # the same supports almost everywhere; a few patches may pick another atom
    assert np.mean(np.abs(out32 - out64) < 1e-4) > 0.99


# --------------------------------------------------------------------------
# DictionaryDenoiser on real images
# --------------------------------------------------------------------------

def test_denoiser_beats_dct_and_tv_on_camera(camera):
    clean, noisy = camera
    sigma = 25 / 255
    den = DictionaryDenoiser(n_components=128, sigma=sigma, algorithm="ksvd", max_iter=5,
                             random_state=0)
    out = den.fit_transform(noisy)
    assert out.shape == noisy.shape
    learned = psnr(clean, out)
    dct = psnr(clean, denoise_sparse(noisy, overcomplete_dct(8, 256), 8, sigma=sigma))
    tv = max(psnr(clean, denoise_tv_chambolle(noisy, weight=w)) for w in (0.05, 0.08, 0.12))
    # measured 28.41 (learned), 27.97 (DCT), 27.37 (best TV) dB; the noisy crop 20.21
    assert learned > psnr(clean, noisy) + 8
    assert learned > dct
    assert learned > tv + 0.5
    assert den.learner_.error_[-1] < den.learner_.error_[0]


@pytest.mark.parametrize("algorithm", ["online", "ksvd", "mod"])
def test_every_algorithm_denoises(camera, algorithm):
    clean, noisy = camera
    den = DictionaryDenoiser(n_components=64, sigma=25 / 255, algorithm=algorithm,
                             max_iter=2, max_patches=5000, stride=2, random_state=0)
    assert psnr(clean, den.fit_transform(noisy)) > psnr(clean, noisy) + 7


def test_color_images_keep_their_layout():
    clean = data.chelsea()[50:130, 100:196] / 255.0
    noisy = _noisy(clean, 20 / 255)
    den = DictionaryDenoiser(n_components=64, sigma=20 / 255, max_iter=2, stride=2,
                             color=True, random_state=0)
    out = den.fit_transform(noisy)
    assert out.shape == clean.shape
    assert den.components_.shape == (64, 8 * 8 * 3)
    assert psnr(clean, out, color=True) > psnr(clean, noisy, color=True) + 6
    batch = den.transform(np.stack([noisy, noisy]))
    assert batch.shape == (2,) + clean.shape
    np.testing.assert_allclose(batch[1], out, atol=1e-12)
    # rows of flattened color images with image_shape give the same numbers
    rows = DictionaryDenoiser(n_components=64, sigma=20 / 255, max_iter=2, stride=2,
                              image_shape=clean.shape, random_state=0)
    out_rows = rows.fit_transform(noisy.reshape(1, -1))
    assert out_rows.shape == (1, noisy.size)
    np.testing.assert_allclose(out_rows.reshape(clean.shape), out, atol=1e-12)
    # images with another number of channels are not accepted
    with pytest.raises(ValueError, match="channel"):
        den.transform(noisy[..., :2])
    with pytest.raises(ValueError, match="color=True needs image_shape"):
        DictionaryDenoiser(color=True, image_shape=(8, 8)).fit(np.zeros((2, 64)))


def test_gray_layouts(camera):
    _, noisy = camera
    den = DictionaryDenoiser(n_components=32, max_iter=1, stride=4, random_state=0)
    den.fit(noisy)
    single = den.transform(noisy)
    batch = den.transform(np.stack([noisy, noisy[::-1]]))
    assert single.shape == noisy.shape and batch.shape == (2,) + noisy.shape
    np.testing.assert_allclose(batch[0], single, atol=1e-12)
    # other image sizes are fine: the dictionary is of patches
    assert den.transform(noisy[:50, :70]).shape == (50, 70)


# --------------------------------------------------------------------------
# Digits: the paper's use in a Pipeline
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_pipeline_on_digits_cross_validates_and_recovers_noisy_accuracy(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                        stratify=y)
    den = DictionaryDenoiser(image_shape=(8, 8), n_components=128, n_nonzero_coefs=4,
                             random_state=0)
    clf = Pipeline([("dict", den), ("svm", LinearSVC())])
    scores = cross_val_score(clf, X, y, cv=3)
    # measured: 0.920 / 0.935 / 0.927 (LinearSVC alone: 0.918 / 0.953 / 0.917)
    assert scores.mean() > 0.9
    clf.fit(X_train, y_train)
    svm = LinearSVC().fit(X_train, y_train)
    noisy = X_test + np.random.default_rng(0).normal(0.0, 0.3, X_test.shape)
    clean_acc, noisy_acc = clf.score(X_test, y_test), clf.score(noisy, y_test)
    svm_noisy_acc = svm.score(noisy, y_test)
    # measured: 0.943 clean, 0.855 noisy; LinearSVC alone 0.960 clean, 0.780 noisy
    assert clean_acc > 0.92
    assert noisy_acc > svm_noisy_acc + 0.04


# --------------------------------------------------------------------------
# scikit-learn's estimator checks
# --------------------------------------------------------------------------

def _denoiser_for(width):
    return DictionaryDenoiser(image_shape=(1, width), patch_size=(1, min(2, width)),
                              n_components=3, max_iter=2, random_state=0)


@pytest.mark.parametrize("estimator, check", list(checks_by_width(_denoiser_for)))
def test_sklearn_estimator_checks(estimator, check):
    check(clone(estimator))


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("params, X, error, match", [
    (dict(), np.zeros((5, 5)), ValueError, "patch_size .* is larger than the images"),
    (dict(image_shape=(8, 8)), np.zeros((3, 60)), ValueError, "image_shape .* needs 64"),
    (dict(image_shape=(8, 8, 3, 1)), np.zeros((3, 64)), ValueError, "image_shape must be"),
    (dict(image_shape=(0, 8)), np.zeros((3, 64)), ValueError, "image_shape must be an int"),
    (dict(image_shape="8x8"), np.zeros((3, 64)), ValueError, "image_shape must be"),
    (dict(), np.full((3, 10, 10), np.nan), ValueError, "NaN"),
    (dict(), np.zeros((2, 2, 10, 10, 1)), ValueError, "images must have shape"),
    (dict(n_components=0), np.zeros((10, 10)), ValueError, "n_components must be an int"),
    (dict(sigma=0.1, tol=0.5), np.zeros((10, 10)), ValueError, "sigma or tol, not both"),
    (dict(sigma=-0.1), np.zeros((10, 10)), ValueError, "sigma must be >= 0"),
    (dict(stride=9), np.zeros((10, 10)), ValueError, "stride .* must be at most"),
    (dict(algorithm="sgd"), np.zeros((10, 10)), ValueError, "algorithm must be one of"),
    (dict(max_patches=0), np.zeros((10, 10)), ValueError, "max_patches must be an int"),
    (dict(remove_mean="yes"), np.zeros((10, 10)), TypeError, "remove_mean must be a bool"),
    (dict(color=1), np.zeros((10, 10)), TypeError, "color must be a bool"),
    (dict(color=True), np.zeros((10, 10)), ValueError, "images must have shape"),
    (dict(), np.zeros((10, 10), dtype=complex), TypeError, "complex"),
])
def test_bad_input_raises(params, X, error, match):
    with pytest.raises(error, match=match):
        DictionaryDenoiser(**{"patch_size": (8, 8), "max_iter": 1, **params}).fit(X)


def test_bad_input_to_denoise_sparse():
    D = overcomplete_dct(4, 16)
    img = np.zeros((10, 10))
    with pytest.raises(ValueError, match="dictionary atoms have 16 values"):
        denoise_sparse(img, D, 3)
    with pytest.raises(ValueError, match="larger than the images"):
        denoise_sparse(img[:3], D, 4)
    with pytest.raises(ValueError, match="NaN"):
        denoise_sparse(img, np.full((16, 16), np.nan), 4)
    with pytest.raises(TypeError, match="color must be a bool"):
        denoise_sparse(img, D, 4, color=1)
    with pytest.raises(ValueError, match="images must have shape"):
        denoise_sparse(np.zeros(10), D, 4)


def test_fit_patches_equals_fit_on_the_same_patches(camera):
    _, noisy = camera
    params = dict(n_components=32, max_iter=2, sigma=0.1, random_state=0)
    fitted = DictionaryDenoiser(**params).fit(noisy)   # all 14,641 patches, no sampling
    P = extract_patches(noisy, 8).reshape(-1, 64)
    from_patches = DictionaryDenoiser(**params).fit_patches(P)
    np.testing.assert_array_equal(from_patches.components_, fitted.components_)
    np.testing.assert_array_equal(from_patches.transform(noisy), fitted.transform(noisy))
    # the input is not modified
    np.testing.assert_array_equal(P, extract_patches(noisy, 8).reshape(-1, 64))
    with pytest.raises(ValueError, match="patches have 64 values but patch_size"):
        DictionaryDenoiser(**params).fit_patches(P, n_channels=3)
