"""The stl-images preset: paper 004's sparse transformation layer on digits."""
import time
import warnings

import numpy as np

from sparsetools.evaluation._common import image_convnet, load_split, register_sizes

__all__ = ["stl_digits"]

#: Images drawn from a local folder given by ``data``: (training, test).
SIZES = register_sizes("stl-images", {
    "mnist": {"full": (2000, 100), "quick": (300, 10)},
    "cifar10": {"full": (5000, 100), "quick": (300, 10)}})

SUMMARY = ("paper 004: ConvSparseCoder and StratifiedConvSparseCoder projections ahead "
           "of a ConvNet on digits; FGSM and BIM at relative L2 0.04 and 0.08, C&W, "
           "grey-box and white-box (BPDA), and the PSNR-accuracy trade-off over alpha")


def stl_digits(quick=False, random_state=0, log=print, data=None):
    """Paper 004 on digits (the bundled image classification data), or on a
    local copy of CIFAR-10 (the paper's data) or MNIST.

    A `ConvSparseCoder` (16 filters of 4x4 learned from the clean training
    digits; 50 ADMM iterations per projection) projects each image onto
    its convolutional sparse code; a small ConvNet trained on clean digits
    classifies the projection. `alpha` sweeps the trade-off between
    fidelity (PSNR of the clean projection) and robustness; a
    `StratifiedConvSparseCoder` (3 clusters) is evaluated at alpha 0.1.

    Budgets are the paper's relative L2 sizes 0.04 and 0.08, and 0.3 to
    check that the attacks break the models at a large budget: as in the
    paper, each image gets its own budget ``rel * ||x_i||_2`` (the
    records' ``epsilon`` is the relative size).
    Attacks: FGSM and BIM (5 steps) under L2 on cross-entropy, and BIM on
    the Carlini-Wagner margin, grey-box (crafted on the ConvNet alone, as
    in the paper); FGSM and BIM also white-box through the projection by
    BPDA (identity backward pass).

    With `data`, a folder of CIFAR-10 python batches (see
    :func:`~sparsetools.datasets.load_cifar10`) or of MNIST-format IDX
    files (:func:`~sparsetools.datasets.load_mnist`), the preset runs on
    images drawn (seeded by `random_state`) from its training and test
    files: CIFAR-10 in color, 32x32x3 (the filters, projections and the
    ConvNet have 3 channels), 5000 training and 100 test images; MNIST,
    28x28, 2000 and 100; 300 and 10 of either with `quick`. The filters are
    then the paper's 8x8 (16 of them), learned on 16x16 tiles, and the
    ConvNet trains for 10 epochs (also with `quick`) at learning rate 3e-3.
    """
    from sklearn.pipeline import Pipeline

    from sparsetools import ConvSparseCoder, StratifiedConvSparseCoder
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.evaluation._models import train_classifier
    from sparsetools.torch.attacks import bim, fgsm

    split = load_split(data, sizes=SIZES, quick=quick, random_state=random_state,
                       preset="stl-images")
    X_train, X_test, y_train, y_test = split
    shape = split.image_shape
    digits = split.kind == "digits"
    if digits:
        n_test = 20 if quick else 100
        X_test, y_test = X_test[:n_test], y_test[:n_test]
        split.meta["n_test"] = len(X_test)
    log(split.describe())
    net, input_shape = image_convnet(shape, 10)
    epochs = (5 if quick else 30) if digits else 10
    cnn = train_classifier(net, X_train, y_train, input_shape, epochs=epochs,
                           lr=1e-2 if digits else 3e-3,
                           random_state=random_state)
    norms = np.linalg.norm(X_test, axis=1)
    rel = [0.08, 0.3] if quick else [0.04, 0.08, 0.3]
    log(f"relative L2 budgets {rel} of each test image's norm (mean norm "
        f"{norms.mean():.3f})")
    n_iter = 3 if quick else 5
    budget = {"epsilon": rel, "norm": "2", "relative": True}
    grey = {"FGSM-L2": (fgsm, dict(budget)),
            "BIM-L2": (bim, dict(budget, n_iter=n_iter)),
            "BIM-L2-CW": (bim, dict(budget, n_iter=n_iter, loss="cw"))}
    white = {k: grey[k] for k in (("FGSM-L2",) if quick else ("FGSM-L2", "BIM-L2"))}

    report = evaluate(Pipeline([("classifier", cnn)]), X_test, y_test, attacks=grey,
                      threat_models=("white-box",), name="ConvNet (undefended)",
                      image_shape=shape, lowpass_sigma=0.5, random_state=random_state)
    common = dict(image_shape=shape, color=len(shape) == 3, filter_size=4 if digits else 8,
                  max_iter=10 if quick else 50, tile_size=8 if digits else 16,
                  transform_max_iter=50, random_state=random_state)
    fronts = {f"STL(alpha={a})": ConvSparseCoder(n_filters=16, alpha=a, **common)
              for a in ([0.1] if quick else [0.05, 0.1, 0.2])}
    if not quick:
        fronts["SSTL(k=3,alpha=0.1)"] = StratifiedConvSparseCoder(
            n_clusters=3, n_filters=16, alpha=0.1, **common)
    for label, front in fronts.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # short ADMM runs: ConvergenceWarning by design
            warnings.simplefilter("ignore", _convergence_warning())
            front.fit(X_train)
            pipe = Pipeline([("projection", front), ("classifier", cnn)])
            name = f"{label}+ConvNet"
            part = evaluate(pipe, X_test, y_test, attacks=grey, threat_models=("grey-box",),
                            name=name, lowpass_sigma=0.5, random_state=random_state)
            wb = evaluate(pipe, X_test, y_test, attacks=white, threat_models=("white-box",),
                          name=name, lowpass_sigma=0.5, random_state=random_state)
        part.records += [r for r in wb.records if r["condition"] == "adversarial"]
        report += part
        log(f"  {name}: {time.perf_counter() - t0:.1f} s")
    report.meta["relative_l2"] = rel
    report.meta["data"] = split.meta

    def tradeoff(path):
        from sparsetools.evaluation._plots import plot_tradeoff

        plot_tradeoff(report, path, attack="FGSM-L2", epsilon=rel[-2],
                      threat_models=("grey-box", "white-box"))

    def examples(path):
        import torch

        from sparsetools.evaluation._plots import plot_examples
        from sparsetools.torch import torch_head

        x = torch.as_tensor(X_test[:10])
        y = torch.as_tensor(np.searchsorted(cnn.classes_, y_test[:10]))
        adv = fgsm(torch_head(cnn), x, y, epsilon=rel[-2] * norms[:10], norm="2").numpy()
        front = fronts[f"STL(alpha={0.1})"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _convergence_warning())
            rows = {"clean": X_test[:10], f"FGSM rel. L2 {rel[-2]}": adv,
                    "STL(0.1) of clean": front.transform(X_test[:10]),
                    "STL(0.1) of attacked": front.transform(adv)}
        plot_examples(rows, shape, path, labels=y_test[:10])

    return report, {"tradeoff.png": tradeoff, "examples.png": examples}


def _convergence_warning():
    from sklearn.exceptions import ConvergenceWarning

    return ConvergenceWarning
