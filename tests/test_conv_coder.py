"""ConvSparseCoder: projection quality, layouts, estimator checks, errors."""
import numpy as np
import pytest
import skimage.data
from sklearn.base import clone
from test_coder import checks_by_width

from sparsetools.convolutional import ConvSparseCoder, conv_bpdn, tikhonov_split
from sparsetools.metrics import psnr


@pytest.fixture(scope="module")
def fitted():
    """A coder learned on three bundled images (64x64), and a held-out one."""
    import skimage.color
    from skimage.transform import downscale_local_mean

    imgs = [skimage.data.camera() / 255.0, skimage.color.rgb2gray(skimage.data.astronaut()),
            skimage.data.coins()[:256, :256] / 255.0, skimage.data.moon() / 255.0]
    imgs = np.stack([downscale_local_mean(i, (4, 4))[:64, :64] for i in imgs])
    stl = ConvSparseCoder(n_filters=12, filter_size=6, alpha=0.05, max_iter=20, batch_size=4,
                          tile_size=32, random_state=0).fit(imgs[1:])
    return stl, imgs[0]


def test_projection_keeps_the_image_and_removes_noise(fitted):
    stl, held = fitted
    proj = stl.transform(held)
    assert proj.shape == held.shape and proj.dtype == held.dtype
    # the projection is close to a clean image ...
    assert psnr(held, proj, data_range=1.0) > 27.0
    # ... it equals low-pass + the CBPDN synthesis of the high-pass part
    low, high = tikhonov_split(held, 5.0)
    from sparsetools.convolutional import conv_reconstruct

    codes = conv_bpdn(high, stl.filters_, alpha=0.05, max_iter=200, tol=1e-3)
    np.testing.assert_allclose(proj, low + conv_reconstruct(codes, stl.filters_), atol=1e-12)
    np.testing.assert_allclose(stl.encode(held[None])[0], codes)
    # and brings a noisy copy closer to the clean image than the noise left it
    rng = np.random.default_rng(0)
    noisy = held + rng.normal(scale=0.05, size=held.shape)
    assert psnr(held, stl.transform(noisy), data_range=1.0) > psnr(held, noisy, data_range=1.0) + 2


def test_rows_with_image_shape_and_float32(fitted):
    stl, held = fitted
    rows = ConvSparseCoder(**{**stl.get_params(), "image_shape": held.shape})
    rows.filters_ = stl.filters_
    rows.n_features_in_ = held.size
    out = rows.transform(held.reshape(1, -1))
    np.testing.assert_allclose(out.reshape(held.shape), stl.transform(held), atol=1e-12)
    out32 = stl.transform(held.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, stl.transform(held), atol=2e-3)


def test_color_images():
    img = skimage.data.astronaut()[::8, ::8][:48, :48] / 255.0
    stl = ConvSparseCoder(n_filters=6, filter_size=4, alpha=0.02, max_iter=3, batch_size=2,
                          tile_size=24, color=True, random_state=0).fit(img[None])
    assert stl.filters_.shape == (6, 4, 4, 3)
    assert stl.transform(img).shape == img.shape
    assert stl.encode(img[None]).shape == (1, 48, 48, 6)


def test_digits_pipeline_runs():
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    pipe = make_pipeline(ConvSparseCoder(n_filters=8, filter_size=3, alpha=0.02, max_iter=10,
                                         batch_size=8, image_shape=(8, 8), random_state=0,
                                         transform_max_iter=50, transform_tol=0.0),
                         LinearSVC())
    pipe.fit(X[:600], y[:600])
    assert pipe.score(X[600:900], y[600:900]) > 0.85


def test_bad_parameters():
    with pytest.raises(ValueError, match="filter_size .* larger than the images"):
        ConvSparseCoder(filter_size=9).fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        ConvSparseCoder(alpha=-1.0, filter_size=3, max_iter=1).fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="channels"):
        stl = ConvSparseCoder(filter_size=3, n_filters=2, max_iter=1, color=True,
                              random_state=0).fit(np.random.rand(1, 8, 8, 3))
        stl.transform(np.zeros((1, 8, 8, 2)))


def _coder_for(width):
    return ConvSparseCoder(n_filters=2, filter_size=(1, min(2, width)), alpha=0.1, max_iter=2,
                           batch_size=2, image_shape=(1, width), transform_max_iter=20,
                           random_state=0)


@pytest.mark.parametrize("estimator, check", list(checks_by_width(_coder_for)))
def test_sklearn_estimator_checks(estimator, check):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # constant and random tiny rows stop CBPDN early or not at all
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(clone(estimator))
