"""Convolutional dictionary learning: sparsetools.learn_conv_dictionary against
sporco.dictlrn.cbpdndl.ConvBPDNDictLearn, same process.

The training set of ``../shared/bench/anchors/make_data.py``: SPORCO's five
bundled example images (barbara, kodim23, monarch, sail, tulips), gray,
zoomed by 0.25 and cropped to 128x128, high-pass (``tikhonov_split(s, 5,
16)``); 64 filters 8x8, ``alpha = 0.2``, float32, the same random start
(standard normal, seed 0).

* ``sporco``: ``ConvBPDNDictLearn`` with the anchor's options (100
  iterations, CBPDN ``rho = 50 alpha + 0.5``, CCMOD ``rho = 10``, zero-mean
  filters, ``dmethod="cns"``);
* ``st``: ``learn_conv_dictionary`` on 64x64 tiles, mini-batches of 8, 30
  ADMM iterations of CBPDN and 10 of the filter update per batch, for the
  number of batches in ``ST_BATCHES``.

Quality is measured on data neither saw: the CBPDN functional (200
iterations, ``alpha = 0.2``) of the high-pass part of scikit-image's
``camera`` (128x128) with each learned dictionary; lower is better. The
``cdl`` table of the session summary gives seconds and that functional.
"""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

ALPHA = 0.2
ST_BATCHES = (50, 150)
CASES = [("sporco", 100)] + [("st", b) for b in ST_BATCHES]


@pytest.fixture(scope="session")
def cdl_data():
    pytest.importorskip("sporco")
    import skimage.data
    from skimage.transform import downscale_local_mean
    from sporco import util

    from sparsetools.convolutional import tikhonov_split

    exim = util.ExampleImages(scaled=True, zoom=0.25, gray=True)
    crops = {"barbara.png": np.s_[10:522, 100:612], "kodim23.png": np.s_[:, 60:572],
             "monarch.png": np.s_[:, 160:672], "sail.png": np.s_[:, 210:722],
             "tulips.png": np.s_[:, 30:542]}
    train = np.stack([exim.image(name, idxexp=idx) for name, idx in crops.items()])
    train = tikhonov_split(train.astype(np.float32), 5.0, 16)[1]          # (5, 128, 128)
    held = downscale_local_mean(skimage.data.camera() / 255.0, (4, 4)).astype(np.float32)
    held = tikhonov_split(held, 5.0, 16)[1]
    d0 = np.random.default_rng(0).standard_normal((8, 8, 64)).astype(np.float32)
    return train, held, d0


def _learn(impl, n, train, d0, threads):
    if impl == "sporco":
        import sporco.fft
        from sporco.dictlrn import cbpdndl

        sporco.fft.pyfftw_threads = threads
        opt = cbpdndl.ConvBPDNDictLearn.Options(
            {"Verbose": False, "MaxMainIter": n, "CBPDN": {"rho": 50.0 * ALPHA + 0.5},
             "CCMOD": {"rho": 10.0, "ZeroMean": True}}, dmethod="cns")
        solver = cbpdndl.ConvBPDNDictLearn(d0, np.ascontiguousarray(train.transpose(1, 2, 0)),
                                           ALPHA, opt, dmethod="cns")
        return np.asarray(solver.solve()).squeeze().transpose(2, 0, 1)
    from sparsetools import learn_conv_dictionary

    init = d0.transpose(2, 0, 1)
    return learn_conv_dictionary(train, n_filters=64, filter_size=8, alpha=ALPHA, max_iter=n,
                                 batch_size=8, tile_size=64, filters_init=init,
                                 random_state=0, n_jobs=threads)


@pytest.mark.parametrize(("impl", "n"), CASES, ids=[f"{i}-{n}" for i, n in CASES])
def bench_cdl(benchmark, bench_results, cdl_data, impl, n):
    """Learn once (2 threads), time it, and score the dictionary on held-out camera."""
    from sparsetools import conv_bpdn
    from sparsetools.convolutional import conv_bpdn_objective

    train, held, d0 = cdl_data
    with threadpool_limits(2):
        filters = benchmark.pedantic(_learn, args=(impl, n, train, d0, 2), rounds=1,
                                     iterations=1)
        filters = np.ascontiguousarray(filters, dtype=np.float32)
        codes = conv_bpdn(held, filters, alpha=ALPHA, max_iter=200, tol=0, n_jobs=2)
    value = float(conv_bpdn_objective(held, filters, codes, ALPHA))
    assert np.isfinite(value)
    if benchmark.stats is None:
        return
    bench_results.append({"suite": "cdl", "impl": impl, "iterations": n,
                          "seconds": benchmark.stats.stats.min, "held_out": value})
