"""evaluate: accuracy of a Pipeline under attacks, threat model by threat model."""
import numpy as np
from scipy import sparse
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from sparsetools.convolutional import ConvSparseCoder, StratifiedConvSparseCoder
from sparsetools.evaluation._perturb import gaussian_noise_like, low_pass
from sparsetools.evaluation._report import Report
from sparsetools.image import DictionaryDenoiser
from sparsetools.metrics import psnr, representation_distance, ssim
from sparsetools.utils._validation import check_array, check_option

__all__ = ["evaluate", "GRADIENT_THREAT_MODELS", "THREAT_MODELS"]

_RECONSTRUCTING = (DictionaryDenoiser, ConvSparseCoder, StratifiedConvSparseCoder)

THREAT_MODELS = ("grey-box", "transfer", "white-box", "decision-based")

#: The threat models `evaluate` runs when none are named.
GRADIENT_THREAT_MODELS = ("grey-box", "transfer", "white-box")


def _check_attacks(attacks):
    if not isinstance(attacks, dict) or not attacks:
        raise TypeError("attacks must be a non-empty dict of name -> attack or "
                        f"(attack, params); got {type(attacks).__name__}.")
    out = []
    for name, spec in attacks.items():
        fn, params = (spec, {}) if callable(spec) else (tuple(spec) + ({},))[:2]
        if not callable(fn) or not isinstance(params, dict):
            raise TypeError(f"attacks[{name!r}] must be a callable or (callable, dict).")
        if not isinstance(params.get("relative", False), bool):
            raise TypeError(f"attacks[{name!r}]['relative'] must be a bool; got "
                            f"{params['relative']!r}.")
        eps = params.get("epsilon")
        if params.get("relative") and eps is None:
            raise ValueError(f"attacks[{name!r}]: 'relative' needs an 'epsilon'.")
        sweep = list(eps) if isinstance(eps, (list, tuple, np.ndarray)) else [eps]
        for e in sweep:
            p = dict(params)
            if e is not None:
                p["epsilon"] = float(e)
            out.append((str(name), fn, p))
    return out


def _image_shape(pipeline, image_shape):
    if image_shape is not None:
        return tuple(int(s) for s in image_shape)
    for _, step in pipeline.steps:
        shape = getattr(step, "image_shape", None)
        if shape is not None:
            return tuple(int(s) for s in shape)
    return None


def _predictor(model, classes):
    """Labels predicted by a fitted estimator or a torch module (scores over `classes`)."""
    if hasattr(model, "predict"):
        return model.predict

    def predict(X):
        import torch
        with torch.no_grad():
            scores = model(torch.as_tensor(X))
        return classes[scores.argmax(1).numpy()]
    return predict


def _attack_model(model, backward, steepness, top_u):
    from sparsetools.torch import pipeline_module, torch_head
    if isinstance(model, Pipeline):
        return pipeline_module(model, backward=backward, steepness=steepness, top_u=top_u)
    return torch_head(model)


def _decision_based(fn):
    """Whether the attack `fn` needs labels only (``fn.decision_based``)."""
    return bool(getattr(fn, "decision_based", False))


def _default_norm(fn):
    """The default of `fn`'s ``norm`` parameter, or "2"."""
    import inspect

    try:
        default = inspect.signature(fn).parameters["norm"].default
    except (TypeError, ValueError, KeyError):
        return "2"
    return "2" if default is inspect.Parameter.empty else str(default)


class _LabelOracle:
    """The pipeline as a decision-based attack sees it: a batch of inputs to
    one-hot scores of its predicted labels (no gradient, no score), counting
    the inputs it was asked about."""

    def __init__(self, pipeline, classes, n_features):
        self.pipeline, self.classes, self.n_features = pipeline, classes, n_features
        self.queries = 0

    def __call__(self, x):
        import torch

        rows = x.detach().cpu().numpy().reshape(x.shape[0], self.n_features)
        labels = np.searchsorted(self.classes, self.pipeline.predict(rows))
        self.queries += rows.shape[0]
        scores = torch.zeros((rows.shape[0], len(self.classes)), dtype=x.dtype)
        scores[torch.arange(rows.shape[0]), torch.as_tensor(labels)] = 1.0
        return scores


def _within_budget(X, A, epsilon, norm, relative):
    """`A` where each row's perturbation is at most its budget in `norm`
    (``epsilon``, times the row's norm when `relative`), `X` elsewhere."""
    if epsilon is None:
        return A
    order = np.inf if norm == "inf" else int(norm)
    flat_x = X.reshape(len(X), -1)
    size = np.linalg.norm((A - X).reshape(len(X), -1), ord=order, axis=1)
    budget = epsilon * (np.linalg.norm(flat_x, ord=order, axis=1) if relative else 1.0)
    keep = size <= budget * (1 + 1e-9) + 1e-12
    return np.where(keep[:, None], A.reshape(len(X), -1), flat_x).reshape(X.shape)


def evaluate(pipeline, X, y, *, attacks, threat_models=GRADIENT_THREAT_MODELS, surrogate=None,
             undefended=None, image_shape=None, lowpass_sigma=1.0, clip=(0.0, 1.0),
             backward="identity", steepness=4.0, top_u=None, name=None, random_state=0):
    """Accuracy of a fitted Pipeline on clean, low-pass, noisy and adversarial inputs.

    The pipeline is a front end (every step but the last) ahead of a
    classifier. Adversarial inputs are crafted, for each attack and epsilon,
    under each threat model, and always scored on the real pipeline:

    - ``"grey-box"``: the attacker knows the classifier but not the front
      end, and attacks `undefended` (the classifier without the front end);
    - ``"transfer"``: the attacker crafts on a `surrogate` model of their
      own;
    - ``"white-box"``: the attacker attacks the whole pipeline through its
      torch twin (:func:`sparsetools.torch.pipeline_module`): twins with the
      chosen BPDA `backward` pass for top-T front ends and LCA / deep
      sparse coders, exact gradients for the other sparse coders and
      scikit-learn heads, and the identity backward pass (BPDA) for
      denoisers and projections;
    - ``"decision-based"``: the attacker sees only the labels the pipeline
      predicts (no gradient, no score) and queries it directly, with the
      decision-based attacks of `attacks` (those with a true
      ``decision_based`` attribute, such as
      :func:`sparsetools.torch.attacks.hop_skip_jump`). Such an attack is a
      minimum-norm search: it runs once, without a budget, and each
      epsilon's record scores its points whose perturbation is within
      epsilon in the attack's ``norm``, the clean input elsewhere (accuracy
      at the budget); ``queries`` is the mean number of inputs the pipeline
      was asked about per sample.

    Decision-based attacks run under ``"decision-based"`` only and the other
    attacks under the other threat models only; a threat model left with no
    attack is skipped and listed in the report's ``meta["skipped"]``.

    Threat models whose model is missing (no `surrogate`; no `undefended`
    when the front end changes the width of the rows; for white-box, a
    front-end step that has no torch twin and changes the width of the
    rows, such as a `DeepSparseCoder` or a ``PCA``) are skipped and listed,
    with the reason, in the report's ``meta["skipped"]``.

    Each adversarial record has the pipeline's accuracy, the undefended
    classifier's on the same inputs, the pipeline's under Gaussian noise of
    the perturbation's standard deviation (per row), the mean L2 / L-inf
    size of the perturbation, and, when the front end returns rows of the
    input's width, the PSNR / SSIM of its output against the clean input
    (mean over images, PSNR capped at 100 dB) when the front end is made of
    image reconstructions (`DictionaryDenoiser`, `ConvSparseCoder`,
    `StratifiedConvSparseCoder`);
    ``distance`` is the representation distance
    (:func:`sparsetools.metrics.representation_distance`) between the front
    end's outputs on clean and perturbed inputs.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted; its last step a classifier that
        :func:`sparsetools.torch.torch_head` supports for white-box attacks.
    X : array-like of shape (n_samples, n_features)
        Inputs, in `clip`.
    y : array-like of shape (n_samples,)
        Labels, among the pipeline's ``classes_``.
    attacks : dict of str -> callable or (callable, dict)
        Attack functions with the signature of
        :func:`sparsetools.torch.attacks.pgd` (``attack(model, x, y,
        **params)``) and their parameters; a list or array as
        ``params["epsilon"]`` is a sweep, one record per value. With
        ``params["relative"] = True`` (not passed to the attack) each value
        is relative to each input's norm in the attack's ``norm``: sample
        ``i`` gets the budget ``epsilon * ||x_i||`` (paper 004's relative
        L2 budgets), and the record's ``epsilon`` is the relative value.
    threat_models : sequence of {"grey-box", "transfer", "white-box", "decision-based"}, \
default=("grey-box", "transfer", "white-box")
        Which to run.
    surrogate : estimator, Pipeline or torch.nn.Module, default=None
        The transfer attacker's model, over the same classes.
    undefended : estimator or torch.nn.Module, default=None
        The classifier without the front end, on raw inputs. None: the
        pipeline's last step, when the front end keeps the width of the rows.
    image_shape : tuple of int, default=None
        Shape of an image; None: the first `image_shape` of the pipeline's
        steps. Without one there are no low-pass rows nor SSIM.
    lowpass_sigma : float, default=1.0
        Gaussian blur of the low-pass rows, in pixels.
    clip : (float, float), default=(0.0, 1.0)
        The range of valid inputs (noisy inputs are clipped to it).
    backward : {"exact", "identity", "smooth"}, default="identity"
        BPDA backward pass of top-T twins in white-box attacks; for LCA and
        deep sparse coders, ``"exact"`` keeps their exact gradient and the
        others pass gradients through their thresholds as if they were the
        identity (see :func:`sparsetools.torch.pipeline_module`).
    steepness : float, default=4.0
        Of the smooth backward pass.
    top_u : int, default=None
        Surrogate gradients through the U largest top-T coefficients.
    name : str, default=None
        The report's ``model`` column; None: the names of the steps.
    random_state : int, default=0
        Seed of the Gaussian noise; attacks take their own in their params.

    Returns
    -------
    report : Report
        One clean record, one low-pass record, and one record per threat
        model, attack and epsilon.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sparsetools.evaluation import evaluate
    >>> from sparsetools.torch.attacks import fgsm
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    >>> clf = clf.fit(X[:1000], y[:1000])
    >>> report = evaluate(clf, X[1000:1200], y[1000:1200], image_shape=(8, 8),
    ...                   attacks={"FGSM": (fgsm, {"epsilon": [0.05, 0.1]})},
    ...                   threat_models=["white-box"])
    >>> [r["condition"] for r in report.records]
    ['clean', 'low-pass', 'adversarial', 'adversarial']
    >>> acc = [r["accuracy"] for r in report.records]
    >>> bool(acc[0] > 0.9 and acc[0] > acc[2] > acc[3])
    True
    """
    import torch

    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a scikit-learn Pipeline; got "
                        f"{type(pipeline).__name__}.")
    check_is_fitted(pipeline[-1])
    X = check_array(X, "X", ndim=2, shape_doc="(n_samples, n_features)")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}.")
    classes = np.asarray(pipeline.classes_)
    if not np.all(np.isin(y, classes)):
        raise ValueError("y has labels the pipeline was not fitted on.")
    if isinstance(threat_models, str):
        threat_models = [threat_models]
    threat_models = [check_option(t, "threat_models", THREAT_MODELS) for t in threat_models]
    specs = _check_attacks(attacks)
    if not (isinstance(clip, (tuple, list)) and len(clip) == 2 and clip[0] < clip[1]):
        raise ValueError(f"clip must be (low, high) with low < high; got {clip!r}.")
    image_shape = _image_shape(pipeline, image_shape)
    if image_shape is not None and int(np.prod(image_shape)) != X.shape[1]:
        raise ValueError(f"image_shape {image_shape} does not match the {X.shape[1]} "
                         "features of X.")
    name = name or "+".join(n for n, _ in pipeline.steps)
    rng = np.random.default_rng(random_state)

    front = pipeline[:-1] if len(pipeline.steps) > 1 else None
    front_of = (lambda A: _dense(front.transform(A))) if front is not None else (lambda A: A)
    F_clean = front_of(X)
    same_width = F_clean.shape == X.shape
    reconstructs = same_width and front is not None and all(
        isinstance(step, _RECONSTRUCTING) for _, step in front.steps)
    if undefended is None and same_width:
        undefended = pipeline[-1]
    predict_undefended = _predictor(undefended, classes) if undefended is not None else None

    def measures(A, F_A):
        out = {"accuracy": float(np.mean(pipeline[-1].predict(F_A) == y)), "n": len(y)}
        if predict_undefended is not None:
            out["undefended_accuracy"] = float(np.mean(predict_undefended(A) == y))
        if reconstructs:
            shape = (len(X),) + (image_shape or (1, X.shape[1]))
            color = image_shape is not None and len(image_shape) == 3
            ref, out_img = X.reshape(shape), F_A.reshape(shape)
            values = psnr(ref, out_img, data_range=clip[1] - clip[0], color=color)
            out["psnr"] = float(np.mean(np.minimum(values, 100.0)))
            if image_shape is not None:
                out["ssim"] = float(np.mean(ssim(ref, out_img, data_range=clip[1] - clip[0],
                                                 win_size=_win(image_shape), color=color)))
        if A is not X:
            if front is not None:
                out["distance"] = representation_distance(F_clean, F_A)
            d = (A - X).reshape(len(X), -1)
            out["l2"] = float(np.linalg.norm(d, axis=1).mean())
            out["linf"] = float(np.abs(d).max(axis=1).mean())
        return out

    report = Report(meta={"model": name, "n_samples": int(len(y)),
                          "random_state": random_state, "lowpass_sigma": lowpass_sigma,
                          "backward": backward, "skipped": {},
                          "attacks": {n: {k: _jsonable(v) for k, v in p.items()}
                                      for n, _, p in specs}})
    report.add(model=name, condition="clean", **measures(X, F_clean))
    if image_shape is not None:
        blurred = low_pass(X, image_shape, lowpass_sigma)
        report.add(model=name, condition="low-pass",
                   **measures(blurred, front_of(blurred)))

    y_idx = torch.as_tensor(np.searchsorted(classes, y))
    x_t = torch.as_tensor(X)
    for threat in threat_models:
        if threat == "decision-based":
            target, why = pipeline, None
        elif threat == "grey-box":
            target = undefended
            why = "no undefended classifier (the front end changes the width of the rows)"
        elif threat == "transfer":
            target, why = surrogate, "no surrogate"
        else:
            target, why = pipeline, None
        model = (None if target is None or threat == "decision-based"
                 else _attack_model(target, backward, steepness, top_u))
        if threat == "white-box":
            why = _missing_twin(pipeline, model, X)
            model = model if why is None else None
        if model is None and threat != "decision-based":
            report.meta["skipped"][threat] = why
            continue
        decision = threat == "decision-based"
        runs = [spec for spec in specs if _decision_based(spec[1]) == decision]
        if not runs:
            report.meta["skipped"][threat] = (
                "no decision-based attack in attacks" if decision
                else "only decision-based attacks in attacks")
            continue
        found = {}  # decision-based: one minimum-norm run per attack, scored per budget
        for attack_name, fn, params in runs:
            queries = None
            if decision:
                if attack_name not in found:
                    oracle = _LabelOracle(pipeline, classes, X.shape[1])
                    call = {k: v for k, v in params.items() if k not in ("epsilon", "relative")}
                    adv = fn(oracle, x_t, y_idx, **call)
                    found[attack_name] = (adv.detach().numpy().astype(np.float64)
                                          .reshape(X.shape), oracle.queries / len(X))
                A, queries = found[attack_name]
                A = _within_budget(X, A, params.get("epsilon"),
                                   params.get("norm", _default_norm(fn)),
                                   params.get("relative", False))
            else:
                adv = fn(model, x_t, y_idx, **_call_params(params, X))
                A = adv.detach().numpy().astype(np.float64).reshape(X.shape)
            row = measures(A, front_of(A))
            noisy = gaussian_noise_like(X, A - X, clip, rng)
            row["noise_accuracy"] = float(np.mean(pipeline.predict(noisy) == y))
            report.add(model=name, condition="adversarial", threat_model=threat,
                       attack=attack_name, epsilon=params.get("epsilon"), queries=queries,
                       **row)
    return report


def _call_params(params, X):
    """The attack's keyword arguments: a relative budget becomes one budget
    per sample, ``epsilon * ||x_i||`` in the attack's norm."""
    call = dict(params)
    if call.pop("relative", False):
        norm = call.get("norm", "inf")
        flat = X.reshape(len(X), -1)
        scale = (np.abs(flat).max(axis=1) if norm == "inf"
                 else np.linalg.norm(flat, ord=int(norm), axis=1))
        call["epsilon"] = call["epsilon"] * scale
    return call


def _missing_twin(pipeline, module, X):
    """Why `module` (the pipeline's :func:`pipeline_module`) cannot run the
    pipeline, or None: a front-end step without a torch twin stands in as a
    BPDA module (identity backward), which needs rows of unchanged width."""
    from sparsetools.torch import BPDA

    Z = X[:2]
    for (name, step), twin in zip(pipeline.steps[:-1], module):
        if step is None or step == "passthrough":
            continue
        out = _dense(step.transform(Z))
        if isinstance(twin, BPDA) and out.shape != Z.shape:
            return (f"no torch twin of step {name!r} ({type(step).__name__}), which maps "
                    f"rows of {Z.shape[1]} values to {out.shape[1]}: a BPDA identity "
                    "backward pass cannot stand in for it")
        Z = out
    return None


def _dense(A):
    return A.toarray() if sparse.issparse(A) else np.asarray(A)


def _win(image_shape):
    side = min(image_shape[:2])
    return 7 if side >= 7 else (side if side % 2 else side - 1)


def _jsonable(v):
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(u) for u in v]
    return repr(v)
