"""The quality / robustness trade-off of the Sparse Transformation Layer
(paper 004, Fig. 5-6), on bundled images.

A :class:`sparsetools.ConvSparseCoder` (32 filters 8x8) is learned once, at
``alpha=0.1``, on the high-pass parts of three bundled images (astronaut in
gray, coins, moon; 128x128), and then projects held-out images (camera,
chelsea in gray, and the text image; 128x128) with ``alpha`` from 0.01 to
0.5. Per ``alpha``:

* ``psnr_clean``: PSNR of the projection of a clean image against it (how
  much of the image the projection keeps);
* ``distance_ratio``: ``‖P(x + n) − P(x)‖ / ‖n‖`` for Gaussian noise ``n`` of
  standard deviation 0.05 (how much closer the projections of an image and
  of its noisy copy are than the images themselves; < 1 is closer);
* ``psnr_noisy``: PSNR of the projection of the noisy copy against the
  clean image.

Means over the three held-out images go to the ``stl`` table of the session
summary. This module times nothing worth a ratio; it is here because it
needs the same data and the same session summary as the other suites.
"""
import numpy as np
import pytest

ALPHAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
SIGMA = 0.05
SIDE = 128


@pytest.fixture(scope="session")
def stl_setup():
    import skimage.color
    import skimage.data
    from skimage.transform import resize

    from sparsetools import ConvSparseCoder

    def gray(img):
        img = img / 255.0 if img.dtype == np.uint8 else img
        return skimage.color.rgb2gray(img) if img.ndim == 3 else img

    def prep(img):
        return resize(gray(img), (SIDE, SIDE), anti_aliasing=True)

    train = np.stack([prep(skimage.data.astronaut()), prep(skimage.data.coins()),
                      prep(skimage.data.moon())])
    test = np.stack([prep(skimage.data.camera()), prep(skimage.data.chelsea()),
                     prep(skimage.data.text())])
    stl = ConvSparseCoder(n_filters=32, filter_size=8, alpha=0.1, max_iter=150, batch_size=8,
                          tile_size=64, random_state=0, n_jobs=2).fit(train)
    return stl, test


@pytest.mark.parametrize("alpha", ALPHAS)
def bench_stl_tradeoff(benchmark, bench_results, stl_setup, alpha):
    """Project clean and noisy held-out images at one alpha; record the table row."""
    from sklearn.base import clone

    from sparsetools.metrics import psnr

    stl, test = stl_setup
    proj = clone(stl).set_params(alpha=alpha)
    proj.filters_ = stl.filters_
    rng = np.random.default_rng(0)
    noisy = test + rng.normal(scale=SIGMA, size=test.shape)
    p_clean = benchmark.pedantic(proj.transform, args=(test,), rounds=1, iterations=1)
    p_noisy = proj.transform(noisy)
    psnr_clean = np.asarray(psnr(test, p_clean, data_range=1.0))
    psnr_noisy = np.asarray(psnr(test, p_noisy, data_range=1.0))
    ratio = (np.linalg.norm((p_noisy - p_clean).reshape(3, -1), axis=1)
             / np.linalg.norm((noisy - test).reshape(3, -1), axis=1))
    assert np.all(ratio < 1.0)
    bench_results.append({"suite": "stl", "alpha": alpha,
                          "psnr_clean": float(psnr_clean.mean()),
                          "psnr_noisy": float(psnr_noisy.mean()),
                          "psnr_noisy_input": float(np.mean(psnr(test, noisy, data_range=1.0))),
                          "distance_ratio": float(ratio.mean())})
