"""Presets: the papers' robustness experiments, scaled to data that ships with
the dependencies, run by `run_preset` and ``sparsetools evaluate PRESET``."""
import os
import platform
import time

import numpy as np

from sparsetools.evaluation._report import Report

__all__ = ["PRESETS", "run_preset"]

PRESETS = {}


def _preset(name, summary):
    def register(fn):
        fn.summary = summary
        PRESETS[name] = fn
        return fn
    return register


def _digits(quick, random_state):
    """scikit-learn's digits in [0, 1], half for training (stratified), and
    300 test images (40 with `quick`)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.5, random_state=random_state, stratify=y)
    n_test = 40 if quick else 300
    return X_train, X_test[:n_test], y_train, y_test[:n_test]


def _mlp(X, y, quick, random_state, hidden=64):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # quick runs stop early
        return MLPClassifier((hidden,), max_iter=200 if quick else 1000,
                             random_state=random_state).fit(X, y)


def _svm(X, y):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=1.0).fit(X, y)


@_preset("ddl-digits", "paper 002: DictionaryDenoiser ahead of an MLP, a ConvNet and a "
                       "LinearSVC on scikit-learn's digits; FGSM, PGD and JSMA, grey-box "
                       "and white-box (BPDA)")
def ddl_digits(quick=False, random_state=0, log=print):
    """Paper 002 on digits.

    A dictionary of 128 atoms of 8x8 patches (a patch is a whole digit here)
    is learned from the clean training digits; the denoiser codes each test
    digit with 8 atoms (OMP) and the classifier sees the reconstruction.
    The classifiers, trained on clean digits: an MLP (64 hidden units), a
    small ConvNet and a LinearSVC. Attacks: FGSM (the paper's, epsilon up
    to its 0.3), PGD (40 steps, the stronger check) and JSMA (gamma 0.1),
    grey-box (crafted on the classifier alone, as in the paper) and
    white-box (through the denoiser by BPDA, identity backward pass).
    """
    from sklearn.pipeline import Pipeline

    from sparsetools import DictionaryDenoiser
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.evaluation._models import convnet, train_classifier
    from sparsetools.torch.attacks import fgsm, jsma, pgd

    X_train, X_test, y_train, y_test = _digits(quick, random_state)
    log(f"digits: {len(X_train)} training, {len(X_test)} test images")
    den = DictionaryDenoiser(image_shape=(8, 8), patch_size=8, n_components=128,
                             n_nonzero_coefs=8, max_iter=3 if quick else 10,
                             random_state=random_state).fit(X_train)
    heads = {
        "MLP": _mlp(X_train, y_train, quick, random_state),
        "ConvNet": train_classifier(convnet((8, 8), 10), X_train, y_train, (1, 8, 8),
                                    epochs=5 if quick else 30, random_state=random_state),
        "LinearSVC": _svm(X_train, y_train),
    }
    eps = [0.1, 0.3] if quick else [0.05, 0.1, 0.2, 0.3]
    attacks = {"FGSM": (fgsm, {"epsilon": eps}),
               "PGD": (pgd, {"epsilon": eps, "n_iter": 10 if quick else 40,
                             "random_state": random_state}),
               "JSMA": (jsma, {"gamma": 0.1})}
    report = Report()
    for name, head in heads.items():
        t0 = time.perf_counter()
        pipe = Pipeline([("denoiser", den), ("classifier", head)])
        report += evaluate(pipe, X_test, y_test, attacks=attacks,
                           threat_models=("grey-box", "white-box"), name=f"DDL+{name}",
                           lowpass_sigma=0.5, random_state=random_state)
        log(f"  DDL+{name}: {time.perf_counter() - t0:.1f} s")

    def examples(path):
        import torch

        from sparsetools.evaluation._plots import plot_examples
        from sparsetools.torch import torch_head

        x = torch.as_tensor(X_test[:10])
        y = torch.as_tensor(np.searchsorted(heads["MLP"].classes_, y_test[:10]))
        adv = fgsm(torch_head(heads["MLP"]), x, y, epsilon=0.3).numpy()
        plot_examples({"clean": X_test[:10], "FGSM 0.3 (MLP)": adv,
                       "denoised": den.transform(adv)}, (8, 8), path, labels=y_test[:10])

    def atoms(path):
        from sparsetools.evaluation._plots import plot_atoms

        plot_atoms(den.components_, (8, 8), path)

    return report, {"examples.png": examples, "atoms.png": atoms}


@_preset("topt-digits", "paper 003: TopTFrontend (top-T sign codes) ahead of a LinearSVC "
                        "on digits, white-box PGD with BPDA under L-inf, L2 and L1 for a "
                        "sweep of T, beside an undefended MLP")
def topt_digits(quick=False, random_state=0, log=print):
    """Paper 003 on digits.

    A `TopTFrontend` (128 atoms of 4x4 patches learned from the clean
    training digits, stride 2, threshold ``beta * epsilon`` with beta 3 and
    epsilon 0.05) keeps the T largest correlations per position as
    ``sign * ||d||_1``; a LinearSVC classifies the codes. White-box PGD
    attacks the whole pipeline through the front end's twin with BPDA: the
    smooth backward pass (steepness 4) through the top ``2T`` coefficients
    (paper 003 A.4-A.5) and the identity one, under L-inf, L2 and L1,
    for T in 5, 10, 20; beside an MLP on raw pixels, attacked the same way
    (exact gradients). Grey-box rows attack that MLP and feed the defended
    pipeline.
    """
    from sklearn.pipeline import Pipeline

    from sparsetools import TopTFrontend
    from sparsetools.evaluation._evaluate import evaluate
    from sparsetools.torch.attacks import pgd

    X_train, X_test, y_train, y_test = _digits(quick, random_state)
    log(f"digits: {len(X_train)} training, {len(X_test)} test images")
    n_iter = 10 if quick else 40
    budgets = {"inf": [0.1, 0.2] if quick else [0.05, 0.1, 0.2, 0.3],
               "2": [1.0] if quick else [0.5, 1.0, 2.0],
               "1": [8.0] if quick else [4.0, 8.0, 16.0]}

    def attacks(suffix=""):
        return {f"PGD-L{norm}{suffix}": (pgd, {"epsilon": eps, "norm": norm, "n_iter": n_iter,
                                              "random_state": random_state})
                for norm, eps in budgets.items()}

    mlp = _mlp(X_train, y_train, quick, random_state)
    report = evaluate(Pipeline([("classifier", mlp)]), X_test, y_test, attacks=attacks(),
                      threat_models=("white-box",), name="MLP (undefended)",
                      image_shape=(8, 8), lowpass_sigma=0.5, random_state=random_state)
    fronts = {}
    for n_top in ([5, 10] if quick else [5, 10, 20]):
        t0 = time.perf_counter()
        front = TopTFrontend(n_components=128, patch_size=4, stride=2, n_top=n_top, beta=3.0,
                             epsilon=0.05, image_shape=(8, 8), max_iter=2 if quick else 5,
                             random_state=random_state).fit(X_train)
        codes = front.transform(X_train)
        pipe = Pipeline([("front", front), ("classifier", _svm(codes, y_train))])
        name = f"TopT(T={n_top})+LinearSVC"
        for backward, top_u, suffix in (("smooth", 2 * n_top, " bpda=smooth"),
                                        ("identity", None, " bpda=identity")):
            threats = ("grey-box", "white-box") if backward == "smooth" else ("white-box",)
            part = evaluate(pipe, X_test, y_test, attacks=attacks(suffix),
                            threat_models=threats, undefended=mlp, name=name,
                            backward=backward, top_u=top_u, lowpass_sigma=0.5,
                            random_state=random_state)
            if backward != "smooth":  # clean and low-pass rows once per model
                part.records = [r for r in part.records if r["condition"] == "adversarial"]
            for r in part.records:
                if r["threat_model"] == "grey-box":
                    r["attack"] = r["attack"].replace(suffix, "")
            report += part
        fronts[n_top] = front
        log(f"  {name}: {time.perf_counter() - t0:.1f} s")

    def atoms(path):
        from sparsetools.evaluation._plots import plot_atoms

        plot_atoms(fronts[min(fronts)].components_, (4, 4), path)

    return report, {"atoms.png": atoms}


def run_preset(name, *, out=None, quick=False, random_state=0, log=print):
    """Run a preset: evaluate its pipelines, write its table and plots.

    Parameters
    ----------
    name : str
        A key of `PRESETS`.
    out : str or path-like, default=None
        Folder for ``report.json``, ``report.csv`` and the PNG plots
        (``accuracy.png`` and the preset's own); created if missing. None
        writes nothing.
    quick : bool, default=False
        A smoke run: a handful of test images, fewer epochs, iterations and
        epsilons. Its numbers mean little.
    random_state : int, default=0
        Seed of the data split, the models, the noise and the attacks.
    log : callable, default=print
        Receives progress lines.

    Returns
    -------
    report : Report
        The table; ``meta`` says the preset, the seed, the run time and the
        versions.
    """
    from sparsetools import __version__
    from sparsetools.evaluation._plots import plot_accuracy
    from sparsetools.utils._validation import check_bool, check_option

    check_option(name, "name", tuple(PRESETS))
    quick = check_bool(quick, "quick")
    t0 = time.perf_counter()
    log(f"preset {name}{' (quick)' if quick else ''}: {PRESETS[name].summary}")
    import sklearn
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the models are tiny: one thread is several times faster
    try:
        report, figures = PRESETS[name](quick=quick, random_state=random_state, log=log)
    finally:
        torch.set_num_threads(threads)
    report.meta = {"preset": name, "quick": quick, "random_state": random_state,
                   "seconds": round(time.perf_counter() - t0, 2),
                   "versions": {"sparsetools": __version__, "torch": torch.__version__,
                                "scikit-learn": sklearn.__version__,
                                "numpy": np.__version__, "python": platform.python_version()},
                   "skipped": report.meta.get("skipped", {})}
    if out is not None:
        out = os.fspath(out)
        os.makedirs(out, exist_ok=True)
        report.to_json(os.path.join(out, "report.json"))
        report.to_csv(os.path.join(out, "report.csv"))
        plot_accuracy(report, os.path.join(out, "accuracy.png"), title=name)
        for filename, draw in figures.items():
            draw(os.path.join(out, filename))
        with open(os.path.join(out, "table.txt"), "w", encoding="utf-8") as fh:
            fh.write(report.table() + "\n")
        log(f"wrote {', '.join(['report.json', 'report.csv', 'table.txt', 'accuracy.png'] + list(figures))} "
            f"into {out}")
    return report
