"""sparsetools.metrics against scikit-image's PSNR and SSIM on real images."""
import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from sparsetools.metrics import psnr, ssim


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    cam = data.camera()[:200, :240] / 255.0
    ast = data.astronaut()[:200, :240] / 255.0
    noisy_cam = np.clip(cam + 0.1 * rng.standard_normal(cam.shape), 0, 1)
    noisy_ast = np.clip(ast + 0.1 * rng.standard_normal(ast.shape), 0, 1)
    return cam, noisy_cam, ast, noisy_ast


def test_gray_psnr_and_ssim_equal_scikit_image(images):
    cam, noisy, _, _ = images
    assert psnr(cam, noisy) == pytest.approx(
        peak_signal_noise_ratio(cam, noisy, data_range=1.0), abs=1e-9)
    assert ssim(cam, noisy) == pytest.approx(
        structural_similarity(cam, noisy, data_range=1.0), abs=1e-6)


def test_color_psnr_and_ssim_equal_scikit_image(images):
    _, _, ast, noisy = images
    assert psnr(ast, noisy, color=True) == pytest.approx(
        peak_signal_noise_ratio(ast, noisy, data_range=1.0), abs=1e-9)
    assert ssim(ast, noisy, color=True) == pytest.approx(
        structural_similarity(ast, noisy, data_range=1.0, channel_axis=-1), abs=1e-6)


@pytest.mark.parametrize("win_size, data_range", [(3, 1.0), (11, 2.0)])
def test_ssim_options_equal_scikit_image(images, win_size, data_range):
    cam, noisy, _, _ = images
    assert ssim(cam, noisy, win_size=win_size, data_range=data_range) == pytest.approx(
        structural_similarity(cam, noisy, win_size=win_size, data_range=data_range),
        abs=1e-6)


def test_batches_give_one_value_per_image(images):
    cam, noisy, ast, noisy_ast = images
    rng = np.random.default_rng(1)
    batch = np.stack([cam, noisy, np.clip(cam + 0.05 * rng.standard_normal(cam.shape), 0, 1)])
    ref = np.stack([cam, cam, cam])
    got_p, got_s = psnr(ref, batch), ssim(ref, batch)
    assert got_p.shape == got_s.shape == (3,)
    for i in range(3):
        assert got_s[i] == pytest.approx(ssim(cam, batch[i]), abs=1e-12)
        assert got_p[i] == pytest.approx(psnr(cam, batch[i]), abs=1e-12)
    assert got_p[0] == np.inf and got_s[0] == pytest.approx(1.0)
    color = ssim(np.stack([ast, ast]), np.stack([noisy_ast, ast]), color=True)
    assert color[0] == pytest.approx(ssim(ast, noisy_ast, color=True), abs=1e-12)
    assert color[1] == pytest.approx(1.0)


def test_more_noise_scores_lower(images):
    cam = images[0]
    rng = np.random.default_rng(2)
    scores = [ssim(cam, np.clip(cam + s * rng.standard_normal(cam.shape), 0, 1))
              for s in (0.02, 0.05, 0.1, 0.2)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(data_range=0.0), ValueError, "data_range must be > 0"),
    (dict(data_range=-1.0), ValueError, "data_range must be >= 0"),
    (dict(win_size=4), ValueError, "win_size must be odd"),
    (dict(win_size=301), ValueError, "win_size .301. exceeds the image size"),
    (dict(color="yes"), TypeError, "color must be a bool"),
])
def test_bad_parameters_raise(images, kwargs, error, match):
    cam, noisy, _, _ = images
    with pytest.raises(error, match=match):
        ssim(cam, noisy, **kwargs)


def test_bad_images_raise():
    a = np.zeros((8, 8))
    with pytest.raises(ValueError, match="same shape"):
        psnr(a, np.zeros((8, 9)))
    with pytest.raises(ValueError, match="test contains NaN"):
        psnr(a, np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match=r"shape \(h, w\) or \(n, h, w\)"):
        psnr(np.zeros(8), np.zeros(8))
    with pytest.raises(ValueError, match=r"\(h, w, c\) or \(n, h, w, c\)"):
        psnr(a, a, color=True)
    with pytest.raises(TypeError, match="reference must hold real numbers"):
        psnr(a.astype(complex), a)
