"""The topt-digits preset: paper 003's top-T sign front end on digits."""
import time


from sparsetools.evaluation._common import digits_split, train_mlp, train_svm

__all__ = ["topt_digits"]

SUMMARY = ("paper 003: TopTFrontend (top-T sign codes) ahead of a LinearSVC "
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

    X_train, X_test, y_train, y_test = digits_split(quick, random_state)
    log(f"digits: {len(X_train)} training, {len(X_test)} test images")
    n_iter = 10 if quick else 40
    budgets = {"inf": [0.1, 0.2] if quick else [0.05, 0.1, 0.2, 0.3],
               "2": [1.0] if quick else [0.5, 1.0, 2.0],
               "1": [8.0] if quick else [4.0, 8.0, 16.0]}

    def attacks(suffix=""):
        return {f"PGD-L{norm}{suffix}": (pgd, {"epsilon": eps, "norm": norm, "n_iter": n_iter,
           "random_state": random_state})
                for norm, eps in budgets.items()}

    mlp = train_mlp(X_train, y_train, quick, random_state)
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
        pipe = Pipeline([("front", front), ("classifier", train_svm(codes, y_train))])
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
