"""The dsc-faces preset: paper 001's deep sparse coding against transferred IFGSM on faces."""
import functools
import time

import numpy as np

from sparsetools.evaluation._report import Report

__all__ = ["dsc_faces"]

SUMMARY = ("paper 001: DeepSparseCoder (top-down feedback) ahead of a LinearSVC on "
           "scikit-image's LFW subset (faces vs non-faces), beside two ConvNets, an MLP, "
           "PCA and raw pixels; IFGSM crafted on one ConvNet and transferred, white-box "
           "IFGSM and PGD (BPDA through the coder's thresholds, and its exact gradient), "
           "Gaussian noise, low-pass, and Table 1's representation distances")

IMAGE_SHAPE = (25, 25)


def faces_split(quick, random_state):
    """scikit-image's LFW subset (200 grey 25x25 images in [0, 1]; label 1 for
    the first 100, faces, 0 for the non-faces), half for training
    (stratified), and the 100 others for testing (40 with `quick`)."""
    from skimage.data import lfw_subset
    from sklearn.model_selection import train_test_split

    images = lfw_subset()
    X = images.reshape(len(images), -1).astype(np.float64)
    y = np.r_[np.ones(100, dtype=int), np.zeros(len(images) - 100, dtype=int)]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=random_state, stratify=y)
    n_test = 40 if quick else len(y_test)
    return X_train, X_test[:n_test], y_train, y_test[:n_test]


@functools.cache
def _steps():
    """Pipeline steps that are also torch modules (so that `pipeline_module`
    uses them as their own twins, with exact gradients); built on first use
    because torch is optional."""
    import torch
    from sklearn.base import BaseEstimator, TransformerMixin

    class _Step(TransformerMixin, BaseEstimator, torch.nn.Module):
        def __init__(self):  # no varargs: scikit-learn reads the parameters here
            super().__init__()

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            with torch.no_grad():
                return self(torch.as_tensor(np.asarray(X, dtype=np.float64))).numpy()

        def __sklearn_is_fitted__(self):
            return True

    class UnitRows(_Step):
        """Each row centred and scaled to unit L2 norm (the coder's input, as
        in classifiers/lfw_deep_sparse_coding.py)."""

        def forward(self, x):
            x = x - x.mean(dim=1, keepdim=True)
            return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)

    class Features(_Step):
        """A trained network without its last layer: rows to its penultimate
        activations (flattened), where paper 001 measures the networks'
        representation distance."""

        def __init__(self, body, input_shape):
            super().__init__()
            self.body = body
            self.input_shape = tuple(input_shape)

        def forward(self, x):
            z = self.body(x.reshape((x.shape[0],) + self.input_shape).to(torch.float32))
            return z.reshape(x.shape[0], -1).to(x.dtype)

    return UnitRows, Features


def _split_network(clf, X_train, y_train):
    """A trained `ExportedClassifier` as a Pipeline of its penultimate
    features (a torch-module step) and its last linear layer; the same
    predictions, and `evaluate`'s ``distance`` column is that of the features."""
    from sklearn.pipeline import Pipeline

    from sparsetools.torch import ExportedClassifier

    _, Features = _steps()
    net = clf.model  # the trained module (train_classifier passes one)
    features = Features(net[:-1], clf.input_shape).eval()
    F_train = features.transform(X_train)
    head = ExportedClassifier(net[-1], input_shape=(F_train.shape[1],),
                              classes=clf.classes_).fit(F_train, y_train)
    return Pipeline([("features", features), ("head", head)])


def dsc_faces(quick=False, random_state=0, log=print, data=None):
    """Paper 001 on scikit-image's LFW subset, scaled down.

    It takes no local `data` (a ValueError says so): faces against
    non-faces need the LFW subset, not MNIST or CIFAR-10.

    Faces against non-faces, 100 training images (stratified half) and 100
    test images. The sparse model is that of
    ``classifiers/lfw_deep_sparse_coding.py``: rows centred and scaled to
    unit norm, a `DeepSparseCoder` (layers 128 and 64, thresholds 0.05 and
    0.02, feedback 1, 10 warm-start epochs per layer and 5 joint epochs,
    learned on the training images without labels), and a LinearSVC on its
    top layer. Beside it, trained on the same images: ConvNet-A (width 8,
    the attacker's surrogate), ConvNet-B (width 16, another seed) and an
    MLP (64 hidden units), on the images in [0, 1] (Adam, learning rate
    3e-3, 20 epochs, 40 for the MLP); a LinearSVC on the unit-norm pixels
    and one on PCA features with as many components as the coder's top
    layer.

    IFGSM (`bim`, 20 steps of epsilon / 20 under L-inf, paper 001 eq. 7) is
    crafted on ConvNet-A for a sweep of epsilons: white-box rows for
    ConvNet-A itself (the paper's DenseNet121), transfer rows for every
    other model. Also white-box rows for ConvNet-B, the MLP and the pixel
    LinearSVC; grey-box rows for the PCA and sparse models (crafted on the
    pixel LinearSVC, their classifier without the front end, whose accuracy
    on the same inputs is their ``undefended_accuracy``; the pixel model's
    is its own, its unit-norm step being no defence). White-box rows for
    the sparse model go through the coder's torch twin (the unrolled deep
    LCA dynamics) with BPDA's identity as the backward pass of every
    threshold, so that units below their threshold pass gradients on; rows
    named "IFGSM (exact)" follow the twin's exact gradient instead, which
    is zero through inactive units and can mask the attack. White-box
    rows for the PCA model go through its affine map.

    The budgets go up to 0.5: the unit-norm step removes each image's mean
    and contrast, so at L-inf 0.5 an attack can replace an image by a
    faint copy of any other image (``0.5 + s (z - 0.5)`` for a small
    ``s``, but for pixels that are exactly 0 or 1), and a working attack
    must reach about 0 % there. The adaptive
    rows run at the two largest budgets, 0.2 and 0.5, on the first 50 test
    images only (the coder's twin costs about a second per attack step):
    white-box PGD (20 steps, Madry et al.'s step ``2.5 epsilon / 20``, a
    random start) on every model, and "IFGSM (exact)" on the sparse model
    (with `quick`: 20 images, 5 steps, 0.2 only). Every
    adversarial row has the accuracy under Gaussian noise of the
    perturbation's standard deviation (paper 001's control), and low-pass
    rows blur by 1 pixel. ``distance`` (Table 1's delta_alpha on adversarial
    rows, delta_l on low-pass rows; its delta_eta under noise is not
    measured) is that of the coder's top layer, the PCA features, the
    networks' penultimate layers and the unit-norm pixels.
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline

    from sparsetools import DeepSparseCoder
    from sparsetools.evaluation._common import train_svm
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.evaluation._models import convnet, mlp, train_classifier
    from sparsetools.torch.attacks import bim, pgd

    if data is not None:
        raise ValueError(f"data: preset dsc-faces runs on scikit-image's LFW subset (faces "
                         f"against non-faces, bundled with scikit-image) and takes no local "
                         f"data folder; got {data!r}. --data works with ddl-digits, "
                         f"topt-digits (MNIST) and stl-images (MNIST or CIFAR-10).")
    X_train, X_test, y_train, y_test = faces_split(quick, random_state)
    log(f"LFW subset: {len(X_train)} training, {len(X_test)} test images "
        f"{IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}, faces vs non-faces")
    UnitRows, _ = _steps()
    unit = UnitRows()
    R_train = unit.transform(X_train)

    t0 = time.perf_counter()
    coder = DeepSparseCoder((128, 64), threshold=[0.05, 0.02], feedback=1.0,
                            n_epochs=1 if quick else 5, pretrain_epochs=3 if quick else 10,
                            batch_size=64, random_state=random_state).fit(R_train)
    codes = coder.transform(R_train)
    log(f"  DeepSparseCoder (128, 64): {time.perf_counter() - t0:.1f} s, "
        f"{np.mean(codes > 0):.2f} of the top layer active")
    pca = PCA(n_components=coder.n_components_, random_state=random_state).fit(R_train)
    pixels = Pipeline([("unit", unit), ("svm", train_svm(R_train, y_train))])
    sparse = Pipeline([("unit", unit), ("dsc", coder), ("svm", train_svm(codes, y_train))])
    pca_svm = Pipeline([("unit", unit), ("pca", pca),
                        ("svm", train_svm(pca.transform(R_train), y_train))])

    t0 = time.perf_counter()
    epochs, lr = (12 if quick else 20), 3e-3
    nets = {
        "ConvNet-A": train_classifier(convnet(IMAGE_SHAPE, 2, width=8), X_train, y_train,
                                      (1,) + IMAGE_SHAPE, epochs=epochs, lr=lr,
                                      random_state=random_state),
        "ConvNet-B": train_classifier(convnet(IMAGE_SHAPE, 2, width=16), X_train, y_train,
                                      (1,) + IMAGE_SHAPE, epochs=epochs, lr=lr,
                                      random_state=random_state + 1),
        "MLP": train_classifier(mlp(X_train.shape[1], 2, hidden=64), X_train, y_train,
                                (X_train.shape[1],), epochs=2 * epochs, lr=lr,
                                random_state=random_state + 2),
    }
    log(f"  networks: {time.perf_counter() - t0:.1f} s")
    surrogate = nets["ConvNet-A"]

    eps = [0.1, 0.2] if quick else [0.02, 0.05, 0.1, 0.2, 0.5]
    largest = [0.2] if quick else [0.2, 0.5]
    ifgsm = (bim, {"epsilon": eps, "n_iter": 10 if quick else 20})
    attacks = {"IFGSM": ifgsm}
    strong = {"PGD": (pgd, {"epsilon": largest, "n_iter": 5 if quick else 20,
                            "random_state": random_state})}
    exact = {"IFGSM (exact)": (bim, {"epsilon": largest, "n_iter": 5 if quick else 20})}
    n_adaptive = 20 if quick else 50      # the adaptive rows' test images (the first)
    models = [("ConvNet-A (surrogate)", _split_network(surrogate, X_train, y_train),
               ("white-box",), None),
              ("ConvNet-B", _split_network(nets["ConvNet-B"], X_train, y_train),
               ("transfer", "white-box"), None),
              ("MLP", _split_network(nets["MLP"], X_train, y_train),
               ("transfer", "white-box"), None),
              ("LinearSVC (pixels)", pixels, ("transfer", "white-box"), pixels),
              (f"PCA({pca.n_components_})+LinearSVC", pca_svm,
               ("transfer", "grey-box", "white-box"), pixels),
              ("DSC+LinearSVC", sparse, ("transfer", "grey-box", "white-box"), pixels)]
    report, skipped = Report(), {}
    for name, pipe, threats, undefended in models:
        t0 = time.perf_counter()
        part = evaluate(pipe, X_test, y_test, attacks=attacks, threat_models=threats,
                        surrogate=surrogate, undefended=undefended, name=name,
                        image_shape=IMAGE_SHAPE, lowpass_sigma=1.0,
                        random_state=random_state)
        if part.meta["skipped"]:
            skipped[name] = part.meta["skipped"]
        report += part
        # the adaptive white-box attacks: PGD at the largest budgets, and for
        # the sparse model the exact gradient beside BPDA's identity
        extra = [(strong, "identity")] + ([(exact, "exact")] if pipe is sparse else [])
        for more, backward in extra:
            report.records += evaluate(
                pipe, X_test[:n_adaptive], y_test[:n_adaptive], attacks=more,
                threat_models=("white-box",),
                undefended=undefended, name=name, image_shape=IMAGE_SHAPE,
                backward=backward, random_state=random_state).select(condition="adversarial")
        log(f"  {name}: {time.perf_counter() - t0:.1f} s")
    report.meta["skipped"] = skipped
    report.meta["data"] = {"name": "LFW subset", "source": "skimage.data.lfw_subset "
                           "(bundled): 100 faces and 100 non-faces, a stratified half for "
                           "training", "image_shape": list(IMAGE_SHAPE),
                           "n_train": len(X_train), "n_test": len(X_test)}

    def examples(path):
        import torch

        from sparsetools.evaluation._perturb import gaussian_noise_like, low_pass
        from sparsetools.evaluation._plots import plot_examples
        from sparsetools.torch import torch_head

        pick = np.r_[np.flatnonzero(y_test == 1)[:5], np.flatnonzero(y_test == 0)[:3]]
        x, labels = X_test[pick], y_test[pick]
        e = 0.1
        adv = bim(torch_head(surrogate), torch.as_tensor(x),
                  torch.as_tensor(np.searchsorted(surrogate.classes_, labels)),
                  epsilon=e, n_iter=20).numpy()
        noisy = gaussian_noise_like(x, adv - x, (0.0, 1.0), np.random.default_rng(random_state))

        def recon(A):  # the coder's reconstruction, each image scaled to [0, 1]
            R = coder.inverse_transform(coder.transform(unit.transform(A)))
            R = R - R.min(axis=1, keepdims=True)
            return R / np.maximum(R.max(axis=1, keepdims=True), 1e-12)

        plot_examples({"clean": x, f"IFGSM {e} (ConvNet-A)": adv,
                       "Gaussian noise": noisy,
                       "low-pass 1 px": low_pass(x, IMAGE_SHAPE, 1.0),
                       "DSC recon. clean": recon(x), "DSC recon. IFGSM": recon(adv)},
                      IMAGE_SHAPE, path, labels=["face" if v else "other" for v in labels])

    def atoms(path):
        from sparsetools.evaluation._plots import plot_atoms

        plot_atoms(coder.components_[0], IMAGE_SHAPE, path)

    return report, {"examples.png": examples, "atoms.png": atoms}
