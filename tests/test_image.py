"""sparsetools.image: patches with strides, and images back from patches."""
import numpy as np
import pytest
from skimage import data
from sklearn.feature_extraction.image import extract_patches_2d, reconstruct_from_patches_2d

from sparsetools.image import extract_patches, reconstruct_from_patches


def _naive_reconstruction(patches, n, h, w, ph, pw, ys, xs):
    """Average of overlapping patches, one patch at a time (the test's reference)."""
    out = np.zeros((n, h, w) + patches.shape[3:])
    count = np.zeros((h, w))
    k = 0
    for i in range(n):
        for y in ys:
            for x in xs:
                out[i, y:y + ph, x:x + pw] += patches[k]
                if i == 0:
                    count[y:y + ph, x:x + pw] += 1
                k += 1
    return out / count.reshape((h, w) + (1,) * (patches.ndim - 3))


def _grid(size, patch, step):
    pos = list(range(0, size - patch + 1, step))
    if pos[-1] != size - patch:
        pos.append(size - patch)
    return pos


@pytest.fixture(scope="module")
def camera():
    return data.camera()[100:228, 150:278] / 255.0


def test_stride_one_equals_scikit_learn(camera):
    P = extract_patches(camera, (8, 6))
    np.testing.assert_array_equal(P, extract_patches_2d(camera, (8, 6)))
    noisy = P + np.random.default_rng(0).normal(0, 0.1, P.shape)
    np.testing.assert_allclose(reconstruct_from_patches(noisy, camera.shape),
                               reconstruct_from_patches_2d(noisy, camera.shape),
                               rtol=0, atol=1e-12)


def test_color_stride_one_equals_scikit_learn():
    img = data.astronaut()[:64, :80] / 255.0
    P = extract_patches(img, 5, color=True)
    np.testing.assert_array_equal(P, extract_patches_2d(img, (5, 5)))
    np.testing.assert_allclose(reconstruct_from_patches(P, img.shape, color=True), img,
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("h, w, ph, pw, sy, sx", [
    (9, 7, 4, 3, 2, 2), (10, 10, 3, 3, 3, 2), (5, 5, 5, 5, 1, 1), (6, 9, 2, 2, 2, 1),
    (17, 13, 8, 8, 8, 4), (16, 16, 8, 8, 4, 4)])
def test_strided_patches_and_averaging_match_a_naive_loop(h, w, ph, pw, sy, sx):
    rng = np.random.default_rng(h * w)
    images = rng.random((3, h, w))
    P = extract_patches(images, (ph, pw), stride=(sy, sx))
    ys, xs = _grid(h, ph, sy), _grid(w, pw, sx)
    assert P.shape == (3 * len(ys) * len(xs), ph, pw)
    k = 0
    for i in range(3):
        for y in ys:
            for x in xs:
                np.testing.assert_array_equal(P[k], images[i, y:y + ph, x:x + pw])
                k += 1
    changed = P * rng.random(P.shape)  # patches that no longer agree on overlaps
    expected = _naive_reconstruction(changed, 3, h, w, ph, pw, ys, xs)
    np.testing.assert_allclose(reconstruct_from_patches(changed, images.shape,
                                                        stride=(sy, sx)),
                               expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2, 3, 5, 8])
def test_round_trip_is_exact_for_every_stride_gray_and_color(camera, stride):
    P = extract_patches(camera, 8, stride=stride)
    np.testing.assert_allclose(reconstruct_from_patches(P, camera.shape, stride=stride),
                               camera, rtol=0, atol=1e-12)
    rgb = np.stack([camera, camera[::-1], camera.T], axis=-1)[None]
    Pc = extract_patches(rgb, 8, stride=stride, color=True)
    assert Pc.shape[1:] == (8, 8, 3)
    np.testing.assert_allclose(
        reconstruct_from_patches(Pc, rgb.shape, stride=stride, color=True), rgb,
        rtol=0, atol=1e-12)


def test_dtypes(camera):
    assert extract_patches(camera.astype(np.float32), 4).dtype == np.float32
    assert extract_patches((camera * 255).astype(np.uint8), 4).dtype == np.float64
    P32 = extract_patches(camera.astype(np.float32), 4, stride=2)
    assert reconstruct_from_patches(P32, camera.shape, stride=2).dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda: extract_patches(np.zeros((5, 5)), 6), ValueError, "larger than the images"),
    (lambda: extract_patches(np.zeros((5, 5)), 3, stride=4), ValueError,
     "stride .* must be at most patch_size"),
    (lambda: extract_patches(np.zeros((5, 5)), 0), ValueError, "patch_size must be an int"),
    (lambda: extract_patches(np.zeros((5, 5)), (2, 2, 2)), ValueError, "pair of ints"),
    (lambda: extract_patches(np.zeros(5), 2), ValueError, r"shape \(h, w\) or \(n, h, w\)"),
    (lambda: extract_patches(np.zeros((5, 5)), 2, color=True), ValueError,
     r"\(h, w, c\) or \(n, h, w, c\)"),
    (lambda: extract_patches(np.zeros((5, 5), complex), 2), TypeError, "real numbers"),
    (lambda: reconstruct_from_patches(np.zeros((8, 3, 3)), (5, 5)), ValueError,
     "8 patches do not match"),
    (lambda: reconstruct_from_patches(np.zeros((9, 6, 6)), (5, 5)), ValueError,
     "do not fit images"),
    (lambda: reconstruct_from_patches(np.zeros((9, 3, 3, 2)), (5, 5, 3), color=True),
     ValueError, "2 channels but image_shape has 3"),
    (lambda: reconstruct_from_patches(np.zeros((9, 3)), (5, 5)), ValueError,
     "patches must have 3 dimensions"),
])
def test_bad_input_raises_naming_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()
