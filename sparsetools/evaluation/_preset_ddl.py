"""The ddl-digits preset: paper 002's dictionary-learning denoiser on digits."""
import time

import numpy as np

from sparsetools.evaluation._common import (image_convnet, load_split, register_sizes,
                                            train_mlp, train_svm)
from sparsetools.evaluation._report import Report

__all__ = ["ddl_digits"]

#: Images drawn from a local MNIST folder given by ``data``: (training, test).
SIZES = register_sizes("ddl-digits", {"mnist": {"full": (5000, 200), "quick": (300, 20)},
                                      "cifar10": {"full": (5000, 200), "quick": (300, 20)}})

SUMMARY = ("paper 002: DictionaryDenoiser ahead of an MLP, a ConvNet and a "
           "LinearSVC on scikit-learn's digits; FGSM, PGD and JSMA, grey-box "
           "and white-box (BPDA, and the denoiser's exact gradient), and the "
           "decision-based HopSkipJump on a subset")

#: Decision-based rows: (test images, label queries per image), full and quick runs.
DECISION = {"full": (30, 5000), "quick": (10, 300)}


def ddl_digits(quick=False, random_state=0, log=print, data=None):
    """Paper 002 on digits, or on a local copy of MNIST.

    A dictionary of 128 atoms of 8x8 patches (a patch is a whole digit here)
    is learned from the clean training digits; the denoiser codes each test
    digit with 8 atoms (OMP) and the classifier sees the reconstruction.
    With `data`, a folder of MNIST-format IDX files (see
    :func:`~sparsetools.datasets.load_mnist`; Fashion-MNIST works too), the
    preset runs on 5000 training and 200 test images drawn (seeded by
    `random_state`) from its training and test files, 300 and 20 with
    `quick`; the denoiser then codes every overlapping 8x8 patch of the
    28x28 images (paper 002's setting) with 4 atoms each, the ConvNet
    takes 28x28 images and trains for 10 epochs (also with `quick`) at
    learning rate 3e-3, the MLP for 200 epochs at most (50 with `quick`).
    A quick run leaves JSMA out on MNIST (its search over pairs of 784
    pixels takes seconds per image). A folder of CIFAR-10 python batches
    (:func:`~sparsetools.datasets.load_cifar10`; paper 002's other data
    set) runs the same way in color (32x32x3: color 8x8 patches, the
    ConvNet on 3 channels), 5000 and 200 images (300 and 20 with `quick`),
    without JSMA (its pair search over 3072 values is out of reach here).

    The classifiers, trained on clean digits: an MLP (64 hidden units), a
    small ConvNet and a LinearSVC. Attacks: FGSM (the paper's, epsilon up
    to its 0.3), PGD (40 steps, the stronger check) and JSMA (gamma 0.1),
    grey-box (crafted on the classifier alone, as in the paper) and
    white-box, through the denoiser by BPDA (identity backward pass) and,
    for FGSM and PGD, by the denoiser's exact gradient (its torch twin:
    least squares on each patch's OMP support; attacks named "(exact)").

    Decision-based rows (paper 003's no-gradient threat model): HopSkipJump
    under L-inf (`hop_skip_jump`, at most 5000 label queries per image)
    queries each pipeline's predicted labels only, and each classifier alone
    (models named "(undefended)"), on the first 30 test images (10 images
    and 300 queries with `quick`); its accuracy at each epsilon counts an
    image as broken when the closest adversarial point found is within
    epsilon (``queries``: label queries spent per image). They run on the
    bundled digits only: on MNIST and CIFAR-10 the denoiser codes every
    overlapping patch, and thousands of queries per image would take hours.
    """
    from sklearn.pipeline import Pipeline

    from sparsetools import DictionaryDenoiser
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.evaluation._models import train_classifier
    from sparsetools.torch.attacks import fgsm, hop_skip_jump, jsma, pgd

    split = load_split(data, sizes=SIZES, quick=quick, random_state=random_state,
                       preset="ddl-digits")
    X_train, X_test, y_train, y_test = split
    shape = split.image_shape
    log(split.describe())
    digits = split.kind == "digits"
    den = DictionaryDenoiser(image_shape=shape, color=len(shape) == 3, patch_size=8,
                             n_components=128,
                             n_nonzero_coefs=8 if digits else 4, max_iter=3 if quick else 10,
                             random_state=random_state).fit(X_train)
    net, input_shape = image_convnet(shape, 10)
    epochs = (5 if quick else 30) if digits else 10
    heads = {
        "MLP": train_mlp(X_train, y_train, quick, random_state,
                         max_iter=None if digits else (50 if quick else 200)),
        "ConvNet": train_classifier(net, X_train, y_train, input_shape, epochs=epochs,
                                    lr=1e-2 if digits else 3e-3,
                                    random_state=random_state),
        "LinearSVC": train_svm(X_train, y_train),
    }
    eps = [0.1, 0.3] if quick else [0.05, 0.1, 0.2, 0.3]
    attacks = {"FGSM": (fgsm, {"epsilon": eps}),
               "PGD": (pgd, {"epsilon": eps, "n_iter": 10 if quick else 40,
           "random_state": random_state}),
               "JSMA": (jsma, {"gamma": 0.1})}
    if (quick and not digits) or split.kind == "cifar10":  # JSMA's pair search: seconds
        del attacks["JSMA"]                                  # an image on 784 values
    report = Report()
    for name, head in heads.items():
        t0 = time.perf_counter()
        pipe = Pipeline([("denoiser", den), ("classifier", head)])
        report += evaluate(pipe, X_test, y_test, attacks=attacks,
                           threat_models=("grey-box", "white-box"), name=f"DDL+{name}",
                           lowpass_sigma=0.5, random_state=random_state)
        # the denoiser's true gradient (its twin: least squares on each patch's
        # OMP support), beside BPDA's identity
        exact = evaluate(pipe, X_test, y_test, threat_models=("white-box",),
                         attacks={f"{k} (exact)": attacks[k] for k in ("FGSM", "PGD")},
                         name=f"DDL+{name}", backward="exact", lowpass_sigma=0.5,
                         random_state=random_state)
        report.records += [r for r in exact.records if r["condition"] == "adversarial"]
        if digits:  # no gradient: label queries to the pipeline and the classifier alone
            n_dec, queries = DECISION["quick" if quick else "full"]
            decision = {"HopSkipJump": (hop_skip_jump, {
                "epsilon": eps, "norm": "inf", "max_queries": queries,
                "random_state": random_state})}
            report.records += evaluate(
                pipe, X_test[:n_dec], y_test[:n_dec], threat_models=("decision-based",),
                attacks=decision, name=f"DDL+{name}", lowpass_sigma=0.5,
                random_state=random_state).select(condition="adversarial")
            report += evaluate(Pipeline([("classifier", head)]), X_test[:n_dec],
                               y_test[:n_dec], threat_models=("decision-based",),
                               attacks=decision, name=f"{name} (undefended)",
                               image_shape=shape, lowpass_sigma=0.5,
                               random_state=random_state)
        log(f"  DDL+{name}: {time.perf_counter() - t0:.1f} s")
    report.meta["data"] = split.meta

    def examples(path):
        import torch

        from sparsetools.evaluation._plots import plot_examples
        from sparsetools.torch import torch_head

        x = torch.as_tensor(X_test[:10])
        y = torch.as_tensor(np.searchsorted(heads["MLP"].classes_, y_test[:10]))
        adv = fgsm(torch_head(heads["MLP"]), x, y, epsilon=0.3).numpy()
        plot_examples({"clean": X_test[:10], "FGSM 0.3 (MLP)": adv,
           "denoised": den.transform(adv)}, shape, path, labels=y_test[:10])

    def atoms(path):
        from sparsetools.evaluation._plots import plot_atoms

        plot_atoms(den.components_, (8, 8) + tuple(shape[2:]), path)  # 8x8 patches

    return report, {"examples.png": examples, "atoms.png": atoms}
