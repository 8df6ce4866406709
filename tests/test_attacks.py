"""Gradient attacks: budgets, projections, reproducibility, strength, and
agreement with the adversarial-robustness-toolbox on linear models."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from sparsetools.torch.attacks import bim, fgsm, jsma, linear_head, pgd, project_l1  # noqa: E402


def _mlp(seed=0, n_in=64, n_out=10):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(n_in, 32), torch.nn.ReLU(),
                               torch.nn.Linear(32, n_out)).double()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:1200], y[:1200], X[1200:1500], y[1200:1500]


@pytest.fixture(scope="module")
def trained_mlp(digits):
    Xtr, ytr, _, _ = digits
    model = _mlp(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model


def _accuracy(model, X, y):
    with torch.no_grad():
        return float((model(torch.as_tensor(X)).argmax(1).numpy() == np.asarray(y)).mean())


@pytest.mark.parametrize("norm", ["inf", "2", "1"])
@pytest.mark.parametrize("attack", ["fgsm", "pgd", "bim"])
def test_budget_and_box_respected(norm, attack):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((16, 64)))
    y = torch.from_numpy(rng.integers(0, 10, 16))
    eps = {"inf": 0.1, "2": 1.0, "1": 4.0}[norm]
    model = _mlp()
    if attack == "fgsm":
        adv = fgsm(model, x, y, epsilon=eps, norm=norm)
    elif attack == "pgd":
        adv = pgd(model, x, y, epsilon=eps, norm=norm, n_iter=10, n_restarts=2,
                  random_state=0)
    else:
        adv = bim(model, x, y, epsilon=eps, norm=norm, n_iter=5)
    assert adv.shape == x.shape and adv.dtype == x.dtype
    dist = (adv - x).reshape(16, -1)
    d = dist.abs().amax(1) if norm == "inf" else dist.norm(p=int(norm), dim=1)
    assert (d <= eps * (1 + 1e-9)).all()
    assert adv.min() >= 0 and adv.max() <= 1
    assert (d > 0).any()


def test_seeds_reproducible():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.random((8, 64)))
    y = torch.from_numpy(rng.integers(0, 10, 8))
    model = _mlp()
    a = pgd(model, x, y, epsilon=0.1, n_iter=3, random_state=5)
    b = pgd(model, x, y, epsilon=0.1, n_iter=3, random_state=5)
    c = pgd(model, x, y, epsilon=0.1, n_iter=3, random_state=6)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_project_l1_matches_bisection():
    rng = np.random.default_rng(2)
    v = rng.standard_normal((5, 30))
    eps = 3.0
    out = project_l1(torch.from_numpy(v), eps).numpy()
    for row, got in zip(v, out):
        if np.abs(row).sum() <= eps:
            np.testing.assert_allclose(got, row)
            continue
        lo, hi = 0.0, np.abs(row).max()
        for _ in range(200):   # theta with sum(max(|v| - theta, 0)) = eps
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.maximum(np.abs(row) - mid, 0).sum() > eps else (lo, mid)
        ref = np.sign(row) * np.maximum(np.abs(row) - hi, 0)
        np.testing.assert_allclose(got, ref, atol=1e-10)
        assert np.abs(got).sum() == pytest.approx(eps)


def test_pgd_stronger_than_fgsm_and_reaches_zero(trained_mlp, digits):
    _, _, X, y = digits
    x, t = torch.from_numpy(X), torch.from_numpy(y)
    clean = _accuracy(trained_mlp, X, y)
    assert clean > 0.9
    for eps in (0.02, 0.05, 0.1, 0.2):
        acc_f = _accuracy(trained_mlp, fgsm(trained_mlp, x, t, epsilon=eps), y)
        acc_p = _accuracy(trained_mlp, pgd(trained_mlp, x, t, epsilon=eps, n_iter=20,
                                           random_state=0), y)
        assert acc_p <= acc_f
    assert _accuracy(trained_mlp, pgd(trained_mlp, x, t, epsilon=0.5, n_iter=20,
                                      random_state=0), y) == 0.0
    for norm, eps in (("2", 6.0), ("1", 40.0)):
        adv = pgd(trained_mlp, x, t, epsilon=eps, norm=norm, n_iter=30, random_state=0)
        assert _accuracy(trained_mlp, adv, y) < 0.05


def _true_score_loss(logits, y):
    """ART's loss for LinearSVC: the gradient of -z_y (its loss_gradient)."""
    return -logits.gather(1, y[:, None]).sum()


@pytest.mark.parametrize("estimator, loss", [(LogisticRegression(max_iter=2000), "ce"),
                                             (LinearSVC(max_iter=5000), _true_score_loss)])
def test_agrees_with_art_on_linear_models(digits, estimator, loss):
    """FGSM and PGD (L-inf) through linear_head against ART's attacks on the
    same fitted model and loss: accuracy under attack within 1 point. (For
    LinearSVC ART ascends -z_y; the default cross-entropy on the decision
    function is stronger: 0.817 against ART's 0.847 at epsilon 0.05.)"""
    art = pytest.importorskip("art")  # noqa: F841
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification.scikitlearn import SklearnClassifier

    Xtr, ytr, X, y = digits
    clf = estimator.fit(Xtr, ytr)
    head = linear_head(clf)
    np.testing.assert_allclose(head(torch.from_numpy(X)).detach().numpy(),
                               clf.decision_function(X), atol=1e-10)
    x, t = torch.from_numpy(X), torch.from_numpy(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = SklearnClassifier(model=clf, clip_values=(0.0, 1.0))
        for eps in (0.05, 0.1):
            art_f = FastGradientMethod(wrapped, norm=np.inf, eps=eps).generate(X, y=y)
            ours_f = fgsm(head, x, t, epsilon=eps, loss=loss).numpy()
            assert abs(clf.score(ours_f, y) - clf.score(art_f, y)) <= 0.01
            art_p = ProjectedGradientDescent(wrapped, norm=np.inf, eps=eps, eps_step=eps / 8,
                                             max_iter=20, num_random_init=0,
                                             verbose=False).generate(X, y=y)
            ours_p = pgd(head, x, t, epsilon=eps, step_size=eps / 8, n_iter=20,
                         random_start=False, loss=loss).numpy()
            assert abs(clf.score(ours_p, y) - clf.score(art_p, y)) <= 0.01


def test_bad_arguments():
    model = _mlp()
    x = torch.zeros((2, 64), dtype=torch.float64)
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="norm must be"):
        fgsm(model, x, y, epsilon=0.1, norm="3")
    with pytest.raises(ValueError, match="epsilon must be"):
        pgd(model, x, y, epsilon=-1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        pgd(model, x, torch.tensor([0]), epsilon=0.1)
    with pytest.raises(ValueError, match="loss must be"):
        fgsm(model, x, y, epsilon=0.1, loss="hinge")
    with pytest.raises(TypeError, match="x must hold floats"):
        fgsm(model, torch.zeros((2, 64), dtype=torch.long), y, epsilon=0.1)


def test_docstring_examples_run():
    import doctest

    import sparsetools.torch.attacks as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_jsma_reaches_targets_within_its_budget(trained_mlp, digits):
    _, _, X, y = digits
    x, t = torch.from_numpy(X[:40]), torch.from_numpy(y[:40])
    adv = jsma(trained_mlp, x, t, gamma=0.2)
    changed = (adv != x).sum(dim=1)
    assert (changed <= int(0.2 * 64)).all()
    assert ((adv - x) >= 0).all() and adv.max() <= 1        # theta > 0 only increases
    with torch.no_grad():
        logits = trained_mlp(x)
        logits.scatter_(1, t[:, None], -torch.inf)
        targets = logits.argmax(1)
        reached = (trained_mlp(adv).argmax(1) == targets).double().mean()
    assert reached > 0.8
    explicit = jsma(trained_mlp, x[:5], t[:5], target=targets[:5], gamma=0.2)
    assert torch.equal(explicit, adv[:5])
    with pytest.raises(ValueError, match="gamma must be"):
        jsma(trained_mlp, x, t, gamma=0.0)
