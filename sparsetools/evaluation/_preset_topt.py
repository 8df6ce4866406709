"""The topt-digits preset: paper 003's top-T sign front end on digits."""
import time

import numpy as np

from sparsetools.evaluation._common import load_split, register_sizes

__all__ = ["topt_digits"]

#: Images drawn from a local MNIST folder given by ``data``: (training, test).
SIZES = register_sizes("topt-digits", {"mnist": {"full": (2000, 200), "quick": (300, 20)},
                                       "cifar10": {"full": (2000, 200), "quick": (300, 20)}})

SUMMARY = ("paper 003: TopTFrontend (top-T sign codes) + its decoder + a ConvNet "
           "on digits, white-box PGD with BPDA under L-inf, L2 and L1 for a sweep "
           "of T, PGD with 10 random restarts at the largest budgets, beside the "
           "undefended ConvNet")

#: PGD with random restarts at the largest L-inf budgets: (test images, restarts,
#: budgets), full and quick runs.
RESTARTS = {"full": (100, 10, [0.3, 0.5]), "quick": (10, 2, [0.2])}


def _convnet(input_shape):
    """Paper 002's ConvNet (Table 3; width 16, no input dropout) for
    ``(c, h, w)`` images, as ``classifiers/topt_decoder_convnet.py`` uses it."""
    from sparsetools.torch import ConvNet

    return ConvNet(input_shape, 10, width=16, dropout=(0.0, 0.25, 0.25, 0.5))


def topt_digits(quick=False, random_state=0, log=print, data=None):
    """Paper 003 on digits, or on a local copy of MNIST.

    A `TopTFrontend` (128 atoms of 4x4 patches learned from the clean
    training digits, stride 2, threshold ``beta * epsilon`` with beta 3 and
    epsilon 0.05) keeps the T largest correlations per position as
    ``sign * ||d||_1``. Behind it, as in the paper (A.1), the front end is
    frozen and its decoder (`TopTDecoder`: three transposed convolutions
    with ReLU back to the image size) and a ConvNet (paper 002's, width 16)
    are trained together on its codes (Adam, learning rate 1e-3, batches of
    32, 30 epochs, 5 with `quick`); the same ConvNet trained alone on the
    pixels is the undefended model. White-box PGD (40 steps, 10 with
    `quick`) attacks the whole pipeline through the front end's twin with
    BPDA: the smooth backward pass (steepness 4) through the top ``2T``
    coefficients (paper 003 A.4-A.5) and the identity one, under L-inf, L2
    and L1, for T in 5, 10, 20; the undefended ConvNet is attacked the same
    way (exact gradients). Grey-box rows attack the undefended ConvNet and
    feed the defended pipeline. The L-inf budgets go up to 0.5, where every
    image can be made a uniform grey, so that a working attack must leave
    about chance accuracy or less.

    Paper 003 (section 4) asks for attacks with many restarts: at the largest
    L-inf budgets, 0.3 and 0.5, "PGD-Linf x10" rows run PGD with 10 random
    restarts (40 steps each) through the smooth top-2T backward pass, and
    on the undefended ConvNet, on the first 100 test images only (10 images,
    2 restarts, budget 0.2 with `quick`), to keep the run within minutes.

    With `data`, a folder of MNIST-format IDX files (see
    :func:`~sparsetools.datasets.load_mnist`), the same models run on
    2000 training and 200 test images of 28x28 drawn (seeded by
    `random_state`) from its training and test files, 300 and 20 with
    `quick`; a folder of CIFAR-10 python batches
    (:func:`~sparsetools.datasets.load_cifar10`; paper 003's data) runs
    in color with as many images (32x32x3: color 4x4 patches, the decoder
    and the ConvNet on 3 channels).
    """
    import torch
    from sklearn.pipeline import Pipeline

    from sparsetools import TopTFrontend
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.torch import (ChannelsLast, ExportedClassifier, TopTDecoder,
                                   train_classifier)
    from sparsetools.torch.attacks import pgd

    split = load_split(data, sizes=SIZES, quick=quick, random_state=random_state,
                       preset="topt-digits")
    X_train, X_test, y_train, y_test = split
    image_shape = split.image_shape
    log(split.describe())
    n_iter = 10 if quick else 40
    budgets = {"inf": [0.1, 0.2] if quick else [0.05, 0.1, 0.2, 0.3, 0.5],
               "2": [1.0] if quick else [0.5, 1.0, 2.0],
               "1": [8.0] if quick else [4.0, 8.0, 16.0]}

    def attacks(suffix=""):
        return {f"PGD-L{norm}{suffix}": (pgd, {"epsilon": eps, "norm": norm, "n_iter": n_iter,
           "random_state": random_state})
                for norm, eps in budgets.items()}

    n_restart_images, n_restarts, restart_budgets = RESTARTS["quick" if quick else "full"]

    def restarts(suffix=""):
        return {f"PGD-Linf x{n_restarts}{suffix}": (pgd, {
            "epsilon": restart_budgets, "norm": "inf", "n_iter": n_iter,
            "n_restarts": n_restarts, "random_state": random_state})}

    def restarted(pipe, suffix="", **kwargs):
        """The adversarial records of PGD with restarts (white-box, on the
        first test images)."""
        part = evaluate(pipe, X_test[:n_restart_images], y_test[:n_restart_images],
                        attacks=restarts(suffix), threat_models=("white-box",),
                        image_shape=image_shape, lowpass_sigma=0.5,
                        random_state=random_state, **kwargs)
        return part.select(condition="adversarial")

    training = dict(epochs=5 if quick else 30, lr=1e-3, batch_size=32,
                    random_state=random_state)
    color = len(image_shape) == 3
    channels_first = ((image_shape[2],) + tuple(image_shape[:2]) if color
                      else (1,) + tuple(image_shape))
    t0 = time.perf_counter()
    if color:   # rows are channels-last images
        cnn = train_classifier(ChannelsLast(_convnet(channels_first)), X_train, y_train,
                               tuple(image_shape), **training)
    else:
        cnn = train_classifier(_convnet(channels_first), X_train, y_train, channels_first,
                               **training)
    log(f"  ConvNet (undefended): {time.perf_counter() - t0:.1f} s")
    report = evaluate(Pipeline([("classifier", cnn)]), X_test, y_test, attacks=attacks(),
                      threat_models=("white-box",), name="ConvNet (undefended)",
                      image_shape=image_shape, lowpass_sigma=0.5, random_state=random_state)
    report.records += restarted(Pipeline([("classifier", cnn)]), name="ConvNet (undefended)")
    fronts = {}
    for n_top in ([5, 10] if quick else [5, 10, 20]):
        t0 = time.perf_counter()
        front = TopTFrontend(n_components=128, patch_size=4, stride=2, n_top=n_top, beta=3.0,
                             epsilon=0.05, output="dense", image_shape=image_shape,
                             color=color,
                             max_iter=2 if quick else 5, random_state=random_state
                             ).fit(X_train)
        codes = front.transform(X_train).astype(np.float32)
        decoder = TopTDecoder.from_frontend(front)
        head = train_classifier(torch.nn.Sequential(decoder, _convnet(channels_first)), codes,
                                y_train, **training)
        head = ExportedClassifier(head.model, input_shape=(codes.shape[1],),
                                  classes=head.classes_).fit(codes[:2], y_train[:2])
        pipe = Pipeline([("front", front), ("net", head)])
        name = f"TopT(T={n_top})+decoder+ConvNet"
        for backward, top_u, suffix in (("smooth", 2 * n_top, " bpda=smooth"),
                                        ("identity", None, " bpda=identity")):
            threats = ("grey-box", "white-box") if backward == "smooth" else ("white-box",)
            part = evaluate(pipe, X_test, y_test, attacks=attacks(suffix),
                            threat_models=threats, undefended=cnn, name=name,
                            backward=backward, top_u=top_u, lowpass_sigma=0.5,
                            random_state=random_state)
            if backward != "smooth":  # clean and low-pass rows once per model
                part.records = [r for r in part.records if r["condition"] == "adversarial"]
            for r in part.records:
                if r["threat_model"] == "grey-box":
                    r["attack"] = r["attack"].replace(suffix, "")
            report += part
        report.records += restarted(pipe, " bpda=smooth", undefended=cnn, name=name,
                                    backward="smooth", top_u=2 * n_top)
        fronts[n_top] = front
        log(f"  {name}: {time.perf_counter() - t0:.1f} s")
    report.meta["data"] = split.meta

    def atoms(path):
        from sparsetools.evaluation._plots import plot_atoms

        plot_atoms(fronts[min(fronts)].components_, (4, 4) + tuple(image_shape[2:]), path)

    def examples(path):
        import torch

        from sparsetools.evaluation._plots import plot_examples
        from sparsetools.torch import torch_head

        front = fronts[10]
        x = torch.as_tensor(X_test[:10])
        y = torch.as_tensor(np.searchsorted(cnn.classes_, y_test[:10]))
        adv = pgd(torch_head(cnn), x, y, epsilon=0.1, n_iter=n_iter,
                  random_state=random_state).numpy()

        def decoded(A):  # the front end's reconstruction, each image scaled to [0, 1]
            R = front.inverse_transform(front.transform(A)).reshape(len(A), -1)
            R = R - R.min(axis=1, keepdims=True)
            return R / np.maximum(R.max(axis=1, keepdims=True), 1e-12)

        plot_examples({"clean": X_test[:10], "PGD 0.1": adv,
                       "T=10, clean": decoded(X_test[:10]),
                       "T=10, PGD": decoded(adv)},
                      image_shape, path, labels=y_test[:10])

    return report, {"atoms.png": atoms, "examples.png": examples}
