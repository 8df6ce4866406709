"""StratifiedConvSparseCoder: routing, per-cluster projections, checks, errors."""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier
from test_coder import checks_by_width

from sparsetools.convolutional import ConvSparseCoder, StratifiedConvSparseCoder


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data / 16.0
    return X[:1000], X[1000:1400]


@pytest.fixture(scope="module")
def fitted(digits):
    train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return StratifiedConvSparseCoder(n_clusters=4, n_filters=6, filter_size=3, alpha=0.05,
                                         max_iter=4, batch_size=8, image_shape=(8, 8),
                                         random_state=0).fit(train)


def _dae_routing(train, test, noisy, n_clusters=4, sigma=0.2):
    """Routing agreement (clean vs noisy) when clustering and routing in the
    code space of a denoising autoencoder: a one-hidden-layer MLP (32 ReLU
    units) trained to map noisy training digits to clean ones, the kind of
    feature paper 004 uses."""
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(1)
    noisy_train = np.concatenate([train + rng.normal(scale=sigma, size=train.shape)
                                  for _ in range(3)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
        dae.fit(noisy_train, np.concatenate([train] * 3))

    def code(A):
        return np.maximum(A @ dae.coefs_[0] + dae.intercepts_[0], 0)

    labels = KMeans(n_clusters, n_init=10, random_state=0).fit(code(train)).labels_
    knn = KNeighborsClassifier(5).fit(code(train), labels)
    clean = knn.predict(code(test))
    return [np.mean(clean == knn.predict(code(n))) for n in noisy]


def test_routes_noisy_copies_like_a_denoising_autoencoder(fitted, digits):
    _, test = digits
    rng = np.random.default_rng(0)
    noisy = [test + rng.normal(scale=s, size=test.shape) for s in (0.1, 0.2, 0.3)]
    clean_routes = fitted.predict_cluster(test)
    ours = [np.mean(clean_routes == fitted.predict_cluster(n)) for n in noisy]
    dae = _dae_routing(digits[0], test, noisy)
    # measured: ours 0.970 / 0.948 / 0.928, the MLP autoencoder's codes
    # 0.972 / 0.952 / 0.918 (400 test digits: +-0.01 is sampling noise)
    assert np.mean(ours) >= np.mean(dae) - 0.01
    assert ours[0] > 0.95


def test_each_cluster_projects_with_its_own_filters(fitted, digits):
    _, test = digits
    routes = fitted.predict_cluster(test[:40])
    out = fitted.transform(test[:40])
    assert set(routes) == set(range(4)) or len(set(routes)) > 1
    for c in np.unique(routes):
        single = ConvSparseCoder(n_filters=6, filter_size=3, alpha=0.05, image_shape=(8, 8))
        single.filters_ = fitted.filters_[c]
        single.n_features_in_ = 64
        idx = routes == c
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            np.testing.assert_allclose(out[idx], single.transform(test[:40][idx]), atol=1e-12)
    assert fitted.cluster_sizes_.sum() == 1000 and (fitted.cluster_sizes_ > 0).all()
    assert all(f.shape == (6, 3, 3) for f in fitted.filters_)


def test_bad_parameters():
    with pytest.raises(ValueError, match="needs at least as many training images"):
        StratifiedConvSparseCoder(n_clusters=5, filter_size=2).fit(np.zeros((3, 6, 6)))
    with pytest.raises(ValueError, match="filter_size .* larger"):
        StratifiedConvSparseCoder(n_clusters=1, filter_size=9).fit(np.zeros((3, 6, 6)))
    with pytest.raises(TypeError, match="n_neighbors must be an int"):
        StratifiedConvSparseCoder(n_neighbors=2.5).fit(np.zeros((3, 6, 6)))


def _coder_for(width):
    return StratifiedConvSparseCoder(n_clusters=1, n_filters=2, filter_size=(1, min(2, width)),
                                     alpha=0.1, max_iter=2, batch_size=2, feature_size=2,
                                     image_shape=(1, width), transform_max_iter=20,
                                     random_state=0)


@pytest.mark.parametrize("estimator, check", list(checks_by_width(_coder_for)))
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(clone(estimator))


def test_restored_routing_equals_the_fitted_one(fitted, digits):
    """A model rebuilt from the saved arrays (routing features, labels,
    filters) routes and projects exactly as the fitted estimator."""
    from sparsetools.convolutional._stratified import restore_routing

    stl, X = fitted, digits[1][:40]
    copy = clone(stl)
    restore_routing(copy, stl.routing_features_, stl.labels_)
    copy.filters_ = list(stl.filters_)
    copy.n_features_in_ = stl.n_features_in_
    np.testing.assert_array_equal(copy.pca_.components_, stl.pca_.components_)
    np.testing.assert_array_equal(copy.predict_cluster(X), stl.predict_cluster(X))
    np.testing.assert_array_equal(copy.transform(X), stl.transform(X))
    with pytest.raises(ValueError, match="cluster labels"):
        restore_routing(clone(stl), stl.routing_features_, stl.labels_ + stl.n_clusters)
    with pytest.raises(ValueError, match="do not match"):
        restore_routing(clone(stl), stl.routing_features_, stl.labels_[:-1])
