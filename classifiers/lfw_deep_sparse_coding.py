"""Deep sparse coding on scikit-image's LFW subset: the experiment of papers/001, scaled down.

scikit-image bundles 200 grey 25x25 images from Labeled Faces in the Wild:
the first 100 are faces, the last 100 non-faces. This script

1. cross-validates (stratified k-fold) a ``LinearSVC`` on the top layer of
   a ``DeepSparseCoder`` (learned on each training fold, without labels)
   and a ``LinearSVC`` on raw pixels;
2. on all 200 images, learns the coder (and a PCA baseline with as many
   components as the coder's top layer) and measures the representation
   distance of Table 1 of the paper (``sparsetools.metrics.representation_
   distance``) between the clean images and (a) Gaussian-noised copies, (b)
   low-pass (Gaussian blur) copies, for the coder's top layer and for the
   PCA features.

Each image is centred and scaled to unit norm before coding (PCA sees the
same rows). Run from the repository root::

    python classifiers/lfw_deep_sparse_coding.py
"""
import argparse
import json
import time

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.data import lfw_subset
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from sparsetools import DeepSparseCoder
from sparsetools.metrics import representation_distance


def load():
    """(images in [0, 1] of shape (200, 25, 25), labels: 1 face, 0 non-face)."""
    images = lfw_subset()
    y = np.r_[np.ones(100, dtype=int), np.zeros(100, dtype=int)]
    return images, y


def rows(images):
    """Centred, unit-norm rows of the flattened images."""
    X = images.reshape(len(images), -1).astype(np.float64)
    X = X - X.mean(axis=1, keepdims=True)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def make_coder(layers, n_epochs, pretrain_epochs, feedback, random_state=0):
    return DeepSparseCoder(layers, threshold=[0.05] + [0.02] * (len(layers) - 1),
                           feedback=feedback, n_epochs=n_epochs,
                           pretrain_epochs=pretrain_epochs, batch_size=64,
                           random_state=random_state)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--feedback", type=float, default=1.0)
    parser.add_argument("--n-epochs", type=int, default=5)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--noise", type=float, default=0.05,
                        help="std of the Gaussian noise, on images in [0, 1]")
    parser.add_argument("--blur", type=float, default=1.0,
                        help="sigma (pixels) of the Gaussian low-pass filter")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    images, y = load()
    X = rows(images)
    rng = np.random.default_rng(0)
    noisy = rows(np.clip(images + args.noise * rng.standard_normal(images.shape), 0, 1))
    blurred = rows(np.stack([gaussian_filter(im, args.blur) for im in images]))

    layers = tuple(args.layers)
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    coder = make_coder(layers, args.n_epochs, args.pretrain_epochs, args.feedback)
    dsc_acc = cross_val_score(Pipeline([("dsc", coder), ("svm", LinearSVC())]), X, y, cv=cv)
    raw_acc = cross_val_score(LinearSVC(), X, y, cv=cv)

    coder = make_coder(layers, args.n_epochs, args.pretrain_epochs, args.feedback).fit(X)
    pca = PCA(n_components=min(layers[-1], X.shape[0], X.shape[1]), random_state=0).fit(X)
    results = {
        "dsc_cv_accuracy": float(dsc_acc.mean()), "dsc_cv_std": float(dsc_acc.std()),
        "raw_cv_accuracy": float(raw_acc.mean()), "raw_cv_std": float(raw_acc.std()),
    }
    for name, model in (("dsc", coder), ("pca", pca)):
        clean = model.transform(X)
        results[f"{name}_distance_noise"] = representation_distance(clean,
                                                                    model.transform(noisy))
        results[f"{name}_distance_lowpass"] = representation_distance(
            clean, model.transform(blurred))
    results["dsc_active_fraction"] = float(np.mean(coder.transform(X) > 0))
    results["seconds"] = time.perf_counter() - start

    print(f"LFW subset (200 images 25x25, faces vs non-faces), layers {layers}, "
          f"feedback {args.feedback}, noise std {args.noise}, blur sigma {args.blur}")
    print(f"{'':30s} {'accuracy (CV)':>14s} {'delta noise':>12s} {'delta low-pass':>15s}")
    print(f"{'DeepSparseCoder + LinearSVC':30s} "
          f"{results['dsc_cv_accuracy']:>8.3f} +- {results['dsc_cv_std']:.3f} "
          f"{results['dsc_distance_noise']:>12.3f} {results['dsc_distance_lowpass']:>15.3f}")
    print(f"{'PCA features':30s} {'':>14s} "
          f"{results['pca_distance_noise']:>12.3f} {results['pca_distance_lowpass']:>15.3f}")
    print(f"{'LinearSVC on raw pixels':30s} "
          f"{results['raw_cv_accuracy']:>8.3f} +- {results['raw_cv_std']:.3f}")
    print(f"top layer active fraction {results['dsc_active_fraction']:.3f}; "
          f"{results['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
