"""Gradient attacks on any differentiable torch model: FGSM, BIM and PGD
under the L-infinity, L2 and L1 norms, with random restarts.

Every attack takes a model mapping a batch of inputs to logits, inputs ``x``
(any shape, first axis the samples, values in ``clip``), integer labels
``y``, and returns adversarial inputs of the shape of ``x`` whose distance
to ``x`` in the attack's norm is at most ``epsilon`` per sample and whose
values stay in ``clip``. The loss is the cross-entropy, with
``loss="cw"`` the Carlini-Wagner margin ``max_{j != y} z_j - z_y``, or a
callable ``loss(logits, y)`` returning the sum over the batch; the attacks
ascend it. Randomness (random starts) comes from
``random_state`` only, so a run is reproducible.

:func:`linear_head` turns a fitted scikit-learn linear classifier
(``LogisticRegression``, ``LinearSVC``, ...) into an equivalent torch module,
so such models are attacked with exact gradients.
"""
import numpy as np
import torch

__all__ = ["fgsm", "bim", "pgd", "jsma", "linear_head", "project_l1"]

NORMS = ("inf", "2", "1")


def linear_head(estimator):
    """A ``torch.nn.Module`` computing the decision function of a fitted
    linear scikit-learn classifier as logits ``(n, n_classes)``.

    Binary models (one coefficient row) give the two logits ``(0, f(x))``,
    whose difference is the decision function, so cross-entropy and margin
    losses mean the same as for multi-class models. The module works on
    float64 copies of ``coef_`` and ``intercept_`` and flattens its input.
    """
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    return _Linear(torch.from_numpy(coef.copy()), torch.from_numpy(intercept.copy()))


class _Linear(torch.nn.Module):
    def __init__(self, coef, intercept):
        super().__init__()
        self.register_buffer("coef", coef)
        self.register_buffer("intercept", intercept)

    def forward(self, x):
        z = x.reshape(x.shape[0], -1).to(self.coef.dtype) @ self.coef.T + self.intercept
        if z.shape[1] == 1:
            z = torch.cat([torch.zeros_like(z), z], dim=1)
        return z


def _losses(logits, y, loss):
    """The loss of each sample (a callable `loss` gives sums: one call each)."""
    if callable(loss):
        return torch.stack([torch.as_tensor(loss(logits[i:i + 1], y[i:i + 1]))
                            for i in range(logits.shape[0])])
    if loss == "ce":
        return torch.nn.functional.cross_entropy(logits, y, reduction="none")
    if loss == "cw":
        true = logits.gather(1, y[:, None])[:, 0]
        other = logits.clone()
        other.scatter_(1, y[:, None], -torch.inf)
        return other.max(dim=1).values - true
    raise ValueError(f"loss must be 'ce', 'cw' or a callable; got {loss!r}.")


def _loss(logits, y, loss):
    return loss(logits, y) if callable(loss) else _losses(logits, y, loss).sum()


def _check(x, y, epsilon, norm, clip):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}.")
    if not (isinstance(epsilon, (int, float)) and np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a finite number >= 0; got {epsilon!r}.")
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        raise TypeError(f"x must hold floats; got {x.dtype}.")
    y = torch.as_tensor(y, dtype=torch.long)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape ({x.shape[0]},); got {tuple(y.shape)}.")
    lo, hi = clip
    if not lo < hi:
        raise ValueError(f"clip must be (low, high) with low < high; got {clip!r}.")
    return x.detach(), y


def _grad(model, x, y, loss):
    x = x.clone().requires_grad_(True)
    value = _loss(model(x), y, loss)
    (g,) = torch.autograd.grad(value, x)
    return g


def _flat_norm(v, norm):
    flat = v.reshape(v.shape[0], -1)
    if norm == "inf":
        return flat.abs().amax(dim=1)
    return flat.norm(p=int(norm), dim=1)


def _per_sample(t, like):
    return t.reshape((-1,) + (1,) * (like.ndim - 1))


def project_l1(delta, epsilon):
    """Euclidean projection of each sample of `delta` onto the L1 ball of
    radius `epsilon` (Duchi, Shalev-Shwartz, Singer & Chandra 2008)."""
    flat = delta.reshape(delta.shape[0], -1)
    absd = flat.abs()
    inside = absd.sum(dim=1) <= epsilon
    mu = torch.sort(absd, dim=1, descending=True).values
    cums = mu.cumsum(dim=1)
    k = torch.arange(1, flat.shape[1] + 1, dtype=flat.dtype, device=flat.device)
    ok = mu - (cums - epsilon) / k > 0
    rho = ok.to(flat.dtype).mul(k).amax(dim=1).clamp(min=1).long()
    theta = (cums.gather(1, (rho - 1)[:, None])[:, 0] - epsilon) / rho.to(flat.dtype)
    proj = torch.sign(flat) * (absd - theta[:, None]).clamp(min=0)
    out = torch.where(inside[:, None], flat, proj)
    return out.reshape(delta.shape)


def _project(delta, epsilon, norm):
    if norm == "inf":
        return delta.clamp(-epsilon, epsilon)
    if norm == "2":
        n = _flat_norm(delta, "2")
        scale = torch.where(n > epsilon, epsilon / n.clamp(min=1e-30), torch.ones_like(n))
        return delta * _per_sample(scale, delta)
    return project_l1(delta, epsilon)


def _step(g, norm, l1_sparsity):
    """The steepest-ascent direction of unit norm for gradient `g`."""
    if norm == "inf":
        return torch.sign(g)
    if norm == "2":
        return g / _per_sample(_flat_norm(g, "2").clamp(min=1e-30), g)
    # L1: spread the step over the largest gradient coordinates (Tramer &
    # Boneh 2019's sparse L1 descent), unit L1 norm
    flat = g.reshape(g.shape[0], -1)
    k = max(1, int(round((1.0 - l1_sparsity) * flat.shape[1])))
    thresh = flat.abs().topk(k, dim=1).values[:, -1:]
    mask = (flat.abs() >= thresh) & (flat != 0)
    d = torch.sign(flat) * mask
    d = d / d.abs().sum(dim=1, keepdim=True).clamp(min=1)
    return d.reshape(g.shape)


def _free(g, adv, clip):
    """`g` with the coordinates that the box stops zeroed: those at a bound
    that the ascent direction pushes through. The L1 and L2 steps then spend
    their budget where the input can move."""
    lo, hi = clip
    blocked = ((adv <= lo) & (g < 0)) | ((adv >= hi) & (g > 0))
    return torch.where(blocked, torch.zeros_like(g), g)


def _random_start(x, epsilon, norm, gen):
    shape = x.shape
    if norm == "inf":
        noise = (torch.rand(shape, generator=gen, dtype=x.dtype) * 2 - 1) * epsilon
    else:
        noise = torch.randn(shape, generator=gen, dtype=x.dtype)
        noise = noise / _per_sample(_flat_norm(noise, norm).clamp(min=1e-30), noise)
        radius = torch.rand(shape[0], generator=gen, dtype=x.dtype) * epsilon
        noise = noise * _per_sample(radius, noise)
    return noise


def fgsm(model, x, y, *, epsilon, norm="inf", loss="ce", clip=(0.0, 1.0)):
    """Fast gradient (sign) method: one step of size `epsilon` along the
    steepest-ascent direction of the loss in `norm` (Goodfellow et al. 2015
    for ``"inf"``), clipped to `clip`.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs to logits ``(n, n_classes)``.
    x : tensor or array of shape (n, ...)
        Clean inputs, in `clip`.
    y : tensor or array of shape (n,)
        Their labels.
    epsilon : float
        Budget in `norm`.
    norm : {"inf", "2", "1"}, default="inf"
    loss : {"ce", "cw"} or callable, default="ce"
    clip : (float, float), default=(0.0, 1.0)

    Returns
    -------
    x_adv : tensor of the shape and dtype of `x`

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import fgsm
    >>> model = torch.nn.Linear(4, 2).double()
    >>> x = torch.full((3, 4), 0.5, dtype=torch.float64)
    >>> x_adv = fgsm(model, x, torch.tensor([0, 1, 0]), epsilon=0.1)
    >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-12)
    True
    """
    x, y = _check(x, y, epsilon, norm, clip)
    g = _free(_grad(model, x, y, loss), x, clip)
    delta = _project(epsilon * _step(g, norm, 0.99), epsilon, norm)
    return (x + delta).clamp(*clip).detach()


def pgd(model, x, y, *, epsilon, norm="inf", step_size=None, n_iter=40, n_restarts=1,
        random_start=True, loss="ce", clip=(0.0, 1.0), l1_sparsity=0.99,
        random_state=None):
    """Projected gradient descent (Madry et al. 2018) on the loss, in `norm`.

    Each restart starts at a random point of the ball (or at `x` without
    `random_start`), takes `n_iter` steps of `step_size` along the
    steepest-ascent direction (over the coordinates the box lets move),
    each followed by projection on the ball and clipping; per sample, the restart with the highest final loss wins (a
    misclassified point is kept as soon as one is found).

    Parameters
    ----------
    model, x, y, epsilon, norm, loss, clip
        As in :func:`fgsm`.
    step_size : float or None, default=None
        None: ``2.5 epsilon / n_iter`` (Madry et al.'s rule).
    n_iter : int, default=40
    n_restarts : int, default=1
    random_start : bool, default=True
    l1_sparsity : float, default=0.99
        L1 only: each step moves the top ``1 - l1_sparsity`` fraction of
        coordinates (by gradient magnitude).
    random_state : int or None, default=None
        Seed of the random starts.

    Returns
    -------
    x_adv : tensor of the shape and dtype of `x`

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import pgd
    >>> model = torch.nn.Linear(4, 2).double()
    >>> x = torch.full((3, 4), 0.5, dtype=torch.float64)
    >>> x_adv = pgd(model, x, torch.tensor([0, 1, 0]), epsilon=0.3, norm="2",
    ...             random_state=0)
    >>> bool(((x_adv - x).norm(dim=1) <= 0.3 + 1e-9).all())
    True
    """
    x, y = _check(x, y, epsilon, norm, clip)
    if not (isinstance(n_iter, int) and n_iter >= 1):
        raise ValueError(f"n_iter must be an int >= 1; got {n_iter!r}.")
    if not (isinstance(n_restarts, int) and n_restarts >= 1):
        raise ValueError(f"n_restarts must be an int >= 1; got {n_restarts!r}.")
    step = 2.5 * epsilon / n_iter if step_size is None else float(step_size)
    gen = torch.Generator().manual_seed(0 if random_state is None else int(random_state))
    best = x.clone()
    best_loss = torch.full((x.shape[0],), -torch.inf, dtype=torch.float64)
    for _ in range(n_restarts):
        delta = _random_start(x, epsilon, norm, gen) if random_start else torch.zeros_like(x)
        adv = (x + _project(delta, epsilon, norm)).clamp(*clip)
        for _ in range(n_iter):
            g = _free(_grad(model, adv, y, loss), adv, clip)
            delta = _project(adv + step * _step(g, norm, l1_sparsity) - x, epsilon, norm)
            adv = (x + delta).clamp(*clip).detach()
        with torch.no_grad():
            logits = model(adv)
            per = _losses(logits, y, loss).to(torch.float64)
            wrong = logits.argmax(dim=1) != y
            per = torch.where(wrong, torch.full_like(per, torch.inf), per)
        better = per > best_loss
        best[better] = adv[better]
        best_loss = torch.maximum(best_loss, per)
    return best.detach()


def bim(model, x, y, *, epsilon, step_size=None, n_iter=10, norm="inf", loss="ce",
        clip=(0.0, 1.0)):
    """Basic iterative method / iterative FGSM (Kurakin et al. 2017; paper
    001, eq. 7): :func:`pgd` from `x` itself, no random start, one run;
    ``step_size`` None is ``epsilon / n_iter``.

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import bim
    >>> model = torch.nn.Linear(4, 2).double()
    >>> x = torch.full((2, 4), 0.5, dtype=torch.float64)
    >>> x_adv = bim(model, x, torch.tensor([0, 1]), epsilon=0.05)
    >>> bool((x_adv - x).abs().max() <= 0.05 + 1e-12)
    True
    """
    step = epsilon / n_iter if step_size is None else step_size
    return pgd(model, x, y, epsilon=epsilon, norm=norm, step_size=step, n_iter=n_iter,
               n_restarts=1, random_start=False, loss=loss, clip=clip)


def jsma(model, x, y, *, target=None, theta=1.0, gamma=0.1, clip=(0.0, 1.0)):
    """Jacobian-based saliency map attack (Papernot et al. 2016; paper 002),
    targeted, on pairs of features.

    For each sample, repeatedly: the Jacobian of the logits gives, per
    feature ``i``, ``a_i = dZ_t / dx_i`` and ``b_i = sum_{j != t} dZ_j /
    dx_i``; among pairs of features still free to move in the direction of
    `theta`, the pair with ``a_p + a_q > 0`` (``< 0`` for a negative
    `theta`), ``b_p + b_q`` of the opposite sign and the largest ``|(a_p +
    a_q)(b_p + b_q)|`` moves by `theta` (clipped); until the model predicts
    the target, or ``gamma`` of the features have changed, or no pair
    qualifies. At most ``max(2, floor(gamma * n_features))`` features of a
    sample change.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs to logits.
    x : tensor or array of shape (n, ...)
    y : tensor or array of shape (n,)
        True labels (used to pick targets when `target` is None).
    target : tensor, array or None, default=None
        Target class per sample; None takes, per sample, the most likely
        class other than `y`.
    theta : float, default=1.0
        Change per selected feature (positive: increase).
    gamma : float, default=0.1
        Largest fraction of features changed, in (0, 1].
    clip : (float, float), default=(0.0, 1.0)

    Returns
    -------
    x_adv : tensor of the shape and dtype of `x`

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import jsma
    >>> model = torch.nn.Linear(6, 3).double()
    >>> x = torch.zeros((2, 6), dtype=torch.float64)
    >>> x_adv = jsma(model, x, torch.tensor([0, 1]), gamma=0.5)
    >>> bool(((x_adv != x).sum(dim=1) <= 3).all())
    True
    """
    x, y = _check(x, y, 0.0, "inf", clip)
    if not (isinstance(theta, (int, float)) and theta != 0 and np.isfinite(theta)):
        raise ValueError(f"theta must be a non-zero finite number; got {theta!r}.")
    if not (isinstance(gamma, (int, float)) and 0 < gamma <= 1):
        raise ValueError(f"gamma must be in (0, 1]; got {gamma!r}.")
    lo, hi = clip
    with torch.no_grad():
        logits = model(x)
    if target is None:
        masked = logits.clone()
        masked.scatter_(1, y[:, None], -torch.inf)
        target = masked.argmax(dim=1)
    target = torch.as_tensor(target, dtype=torch.long)
    if target.shape != y.shape:
        raise ValueError(f"target must have shape {tuple(y.shape)}; got {tuple(target.shape)}.")
    n_features = x[0].numel()
    budget = max(2, int(np.floor(gamma * n_features)))
    out = x.clone()
    for i in range(x.shape[0]):
        out[i] = _jsma_one(model, x[i], int(target[i]), theta, budget, lo, hi)
    return out.detach()


def _jsma_one(model, x0, t, theta, budget, lo, hi):
    shape = x0.shape
    adv = x0.reshape(-1).clone()
    n = adv.numel()
    changed = torch.zeros(n, dtype=torch.bool)
    up = theta > 0

    def logits_of(v):
        return model(v.reshape((1,) + tuple(shape)))[0]

    while int(changed.sum()) + 2 <= budget:
        with torch.no_grad():
            if int(logits_of(adv).argmax()) == t:
                break
        jac = torch.autograd.functional.jacobian(logits_of, adv)      # (n_classes, n)
        a = jac[t]
        b = jac.sum(dim=0) - a
        free = (adv < hi) if up else (adv > lo)
        if int(free.sum()) < 2:
            break
        A = a[:, None] + a[None, :]
        B = b[:, None] + b[None, :]
        ok = (A > 0) & (B < 0) if up else (A < 0) & (B > 0)
        ok &= free[:, None] & free[None, :]
        ok.fill_diagonal_(False)
        if not ok.any():
            break
        score = torch.where(ok, (A * B).abs(), torch.full_like(A, -1.0))
        p, q = divmod(int(score.argmax()), n)
        for j in (p, q):
            adv[j] = (adv[j] + theta).clamp(lo, hi)
            changed[j] = True
    return adv.reshape(shape)
