"""Attacks on classifiers: gradient attacks on any differentiable torch
model (FGSM, BIM and PGD under the L-infinity, L2 and L1 norms, with random
restarts; JSMA), the decision-based HopSkipJump attack for models that only
answer labels, expectation over transformation for randomized defenses, and
transfer from a surrogate.

Every gradient attack takes a model mapping a batch of inputs to logits,
inputs ``x`` (any shape, first axis the samples, values in ``clip``),
integer labels ``y``, and returns adversarial inputs of the shape of ``x``
whose distance to ``x`` in the attack's norm is at most ``epsilon`` per
sample and whose values stay in ``clip``. The loss is the cross-entropy,
with ``loss="cw"`` the Carlini-Wagner margin ``max_{j != y} z_j - z_y``, or
a callable ``loss(logits, y)`` returning the sum over the batch; the attacks
ascend it. Randomness (random starts, random draws) comes from
``random_state`` only, so a run is reproducible.

:func:`hop_skip_jump` needs no gradient and no score: it queries the
model's predicted labels only, within a budget of queries per sample, and
returns the closest adversarial points it finds in L2 or L-infinity.

:func:`eot` wraps a model behind a random transformation (a randomized
defense) into a module averaging over seeded draws, which the gradient
attacks then attack. :func:`transfer` crafts adversarial inputs on a
surrogate model, to be given to a target the attack cannot see.

:func:`linear_head` turns a fitted scikit-learn linear classifier
(``LogisticRegression``, ``LinearSVC``, ...) into an equivalent torch module,
so such models are attacked with exact gradients.
"""
import numpy as np
import torch

__all__ = ["fgsm", "bim", "pgd", "jsma", "hop_skip_jump", "eot", "transfer", "linear_head",
           "project_l1"]

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


def _budget(value, name, x):
    """A budget as a float, or a per-sample tensor ``(n,)`` in x's dtype."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number or an array of shape (n,); got a bool.")
    try:
        arr = np.asarray(value.detach().cpu() if torch.is_tensor(value) else value,
                         dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of shape (n,); got "
                        f"{type(value).__name__}.") from None
    if arr.ndim == 0:
        if not (np.isfinite(arr) and arr >= 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        return float(arr)
    if arr.shape != (x.shape[0],):
        raise ValueError(f"{name} must be a number or have shape ({x.shape[0]},), one per "
                         f"sample; got shape {arr.shape}.")
    if not (np.all(np.isfinite(arr)) and np.all(arr >= 0)):
        raise ValueError(f"{name} must hold finite numbers >= 0.")
    return torch.as_tensor(arr, dtype=x.dtype)


def _b(eps, like):
    """`eps` (float or per-sample tensor) broadcast against `like`."""
    return eps if isinstance(eps, float) else _per_sample(eps, like)


def _check(x, y, epsilon, norm, clip):
    """(x, y, epsilon) validated; epsilon a float or a tensor ``(n,)``."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}.")
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        raise TypeError(f"x must hold floats; got {x.dtype}.")
    epsilon = _budget(epsilon, "epsilon", x)
    y = torch.as_tensor(y, dtype=torch.long)
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape ({x.shape[0]},); got {tuple(y.shape)}.")
    try:
        lo, hi = (float(c) for c in clip)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not lo < hi:
        raise ValueError(f"clip must be (low, high) with low < high; got {clip!r}.")
    return x.detach(), y, epsilon


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
    radius `epsilon` (Duchi, Shalev-Shwartz, Singer & Chandra 2008); `epsilon`
    a float or a tensor ``(n,)``, one radius per sample."""
    flat = delta.reshape(delta.shape[0], -1)
    absd = flat.abs()
    inside = absd.sum(dim=1) <= epsilon
    mu = torch.sort(absd, dim=1, descending=True).values
    cums = mu.cumsum(dim=1)
    k = torch.arange(1, flat.shape[1] + 1, dtype=flat.dtype, device=flat.device)
    ok = mu - (cums - _b(epsilon, cums)) / k > 0
    rho = ok.to(flat.dtype).mul(k).amax(dim=1).clamp(min=1).long()
    theta = (cums.gather(1, (rho - 1)[:, None])[:, 0] - epsilon) / rho.to(flat.dtype)
    proj = torch.sign(flat) * (absd - theta[:, None]).clamp(min=0)
    out = torch.where(inside[:, None], flat, proj)
    return out.reshape(delta.shape)


def _project(delta, epsilon, norm):
    if norm == "inf":
        e = _b(epsilon, delta)
        return delta.clamp(-e, e)
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
        noise = (torch.rand(shape, generator=gen, dtype=x.dtype) * 2 - 1) * _b(epsilon, x)
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
    epsilon : float or array-like of shape (n,)
        Budget in `norm`, one for all samples or one per sample (e.g.
        ``rel * ||x_i||`` for budgets relative to each input's norm, as in
        paper 004).
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
    x, y, epsilon = _check(x, y, epsilon, norm, clip)
    g = _free(_grad(model, x, y, loss), x, clip)
    delta = _project(_b(epsilon, x) * _step(g, norm, 0.99), epsilon, norm)
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
    step_size : float, array-like of shape (n,) or None, default=None
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
    x, y, epsilon = _check(x, y, epsilon, norm, clip)
    if not (isinstance(n_iter, int) and n_iter >= 1):
        raise ValueError(f"n_iter must be an int >= 1; got {n_iter!r}.")
    if not (isinstance(n_restarts, int) and n_restarts >= 1):
        raise ValueError(f"n_restarts must be an int >= 1; got {n_restarts!r}.")
    step = _b(2.5 * epsilon / n_iter if step_size is None
              else _budget(step_size, "step_size", x), x)
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
    if not (isinstance(n_iter, int) and n_iter >= 1):
        raise ValueError(f"n_iter must be an int >= 1; got {n_iter!r}.")
    if step_size is None:
        step_size = np.asarray(epsilon.detach().cpu() if torch.is_tensor(epsilon) else epsilon,
                               dtype=np.float64) / n_iter
    return pgd(model, x, y, epsilon=epsilon, norm=norm, step_size=step_size, n_iter=n_iter,
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
    x, y, _ = _check(x, y, 0.0, "inf", clip)
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


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)


class _LabelOracle:
    """Says, from the model's predicted labels only, which query points are
    adversarial for the sample that owns them, and counts the queries of
    each sample."""

    def __init__(self, model, x, y, target, batch_size):
        self.model = model
        self.shape = tuple(x.shape[1:])
        self.y = y
        self.target = target
        self.batch_size = batch_size
        self.used = torch.zeros(x.shape[0], dtype=torch.long)

    def __call__(self, points, owners):
        labels = [torch.zeros(0, dtype=torch.long)]
        with torch.no_grad():
            for start in range(0, points.shape[0], self.batch_size):
                chunk = points[start:start + self.batch_size].reshape((-1,) + self.shape)
                scores = torch.as_tensor(self.model(chunk))
                if scores.ndim != 2 or scores.shape[0] != chunk.shape[0]:
                    raise ValueError(f"model must return scores of shape ({chunk.shape[0]}, "
                                     f"n_classes); got {tuple(scores.shape)}.")
                labels.append(scores.argmax(dim=1).cpu())
        labels = torch.cat(labels)
        self.used += torch.bincount(owners, minlength=self.used.shape[0])
        if self.target is not None:
            return labels == self.target[owners]
        return labels != self.y[owners]


def _toward(x0, adv, alpha, norm):
    """Points between clean `x0` and adversarial `adv` (rows), at fraction
    `alpha` of the way: the blend for L2, for L-inf `adv` clipped to the cube
    around `x0` of ``alpha`` times its L-inf distance."""
    if norm == "2":
        return x0 + alpha[:, None] * (adv - x0)
    r = alpha[:, None] * (adv - x0).abs().amax(dim=1, keepdim=True)
    return torch.minimum(torch.maximum(adv, x0 - r), x0 + r)


def _to_boundary(oracle, x0, adv, idx, norm, n_steps, max_queries):
    """Bisection, for the samples `idx`, between `x0` and the adversarial
    points `adv` (rows of those samples), in `n_steps` halvings of the
    fraction; returns the adversarial end. A sample stops when its queries
    run out."""
    low = torch.zeros(idx.shape[0], dtype=x0.dtype)
    high = torch.ones(idx.shape[0], dtype=x0.dtype)
    x0 = x0[idx]
    for _ in range(n_steps):
        live = oracle.used[idx] < max_queries
        if not live.any():
            break
        mid = 0.5 * (low[live] + high[live])
        hit = oracle(_toward(x0[live], adv[live], mid, norm), idx[live])
        high[live] = torch.where(hit, mid, high[live])
        low[live] = torch.where(hit, low[live], mid)
    return _toward(x0, adv, high, norm)


def _distance(v, norm):
    return v.abs().amax(dim=1) if norm == "inf" else v.norm(dim=1)


def _sign_gradient(oracle, points, idx, counts, deltas, gens, clip, batch_size):
    """Monte-Carlo estimate of the direction in which the adversarial region
    grows, at each boundary point: ``mean_b (phi_b - mean phi) u_b`` over
    random unit directions ``u_b`` (the actual, box-clipped displacements),
    ``phi_b = +-1`` the decision at ``point + delta u_b``; when all
    decisions agree, ``mean phi * mean u``."""
    lo, hi = clip
    d = points.shape[1]
    out = torch.zeros_like(points)
    start = 0
    while start < idx.shape[0]:
        stop, rows = start, 0
        while stop < idx.shape[0] and (stop == start or rows + counts[stop] <= batch_size):
            rows += counts[stop]
            stop += 1
        us, probes = [], []
        for k in range(start, stop):
            u = torch.randn((counts[k], d), generator=gens[int(idx[k])], dtype=points.dtype)
            u = u / u.norm(dim=1, keepdim=True).clamp(min=1e-30)
            p = (points[k] + deltas[k] * u).clamp(lo, hi)
            us.append((p - points[k]) / deltas[k])
            probes.append(p)
        owners = torch.repeat_interleave(idx[start:stop], torch.tensor(counts[start:stop]))
        phi = oracle(torch.cat(probes), owners).to(points.dtype) * 2 - 1
        for k, (u, f) in enumerate(zip(us, torch.split(phi, counts[start:stop])), start):
            mean = f.mean()
            if abs(float(mean)) == 1.0:
                out[k] = mean * u.mean(dim=0)
            else:
                out[k] = ((f - mean)[:, None] * u).mean(dim=0)
        start = stop
    return out


def hop_skip_jump(model, x, y, *, norm="2", max_queries=10000, n_iter=40, init_evals=100,
                  max_evals=1000, target=None, x_init=None, init_trials=100,
                  clip=(0.0, 1.0), random_state=None, batch_size=1024, return_info=False):
    """HopSkipJump (Chen, Jordan & Wainwright 2020), a decision-based attack:
    it sees only the labels the model predicts, never scores or gradients,
    and looks for the adversarial point closest to `x` in `norm`.

    Per sample: a starting adversarial point (`x_init` where given and
    adversarial, else uniform noise in `clip`, up to `init_trials` draws),
    bisection on the segment to `x` to reach the decision boundary; then
    `n_iter` times: estimate, from the model's decisions at ``B_t = min(
    init_evals sqrt(t), max_evals)`` random points at distance ``delta_t``
    around the boundary point, the direction in which the adversarial
    region grows (sign queries, mean subtracted as a baseline); step along
    it (L2: the unit direction; L-inf: its sign), the step
    ``dist / sqrt(t)`` halved until the model still errs; bisect back to the
    boundary. The bisection resolves the fraction of the way to ``theta =
    d^(-3/2)`` (L2) or ``d^(-2)`` (L-inf), ``d`` the number of features, and
    ``delta_t = sqrt(d) theta dist`` (L2) or ``d theta dist`` (L-inf), as in
    the paper. All samples advance together; the model sees batches of up to
    `batch_size` points.

    A sample stops when its queries reach `max_queries` (including the one
    that classifies `x`), keeping the closest adversarial point found so far.
    Samples that are already adversarial (misclassified, or predicted as
    their target) and samples for which no adversarial point was found
    (every initial draw classified correctly) are returned unchanged;
    ``return_info=True`` tells them apart.

    The function has the attribute ``decision_based = True``, by which
    :func:`sparsetools.evaluation.evaluate` runs it under its
    ``"decision-based"`` threat model (label queries to the pipeline) and
    scores it at each budget.

    Parameters
    ----------
    model : callable
        Maps a batch of inputs (a tensor shaped like `x`) to scores ``(n,
        n_classes)``; only their argmax is used, under ``torch.no_grad()``.
    x : tensor or array of shape (n, ...)
        Clean inputs, in `clip`.
    y : tensor or array of shape (n,)
        Their labels.
    norm : {"2", "inf"}, default="2"
    max_queries : int, default=10000
        Most model evaluations per sample.
    n_iter : int, default=40
        Most gradient-estimate-and-step iterations.
    init_evals : int, default=100
        Evaluations of the first gradient estimate.
    max_evals : int, default=1000
        Most evaluations of one gradient estimate.
    target : tensor, array or None, default=None
        Target class per sample (targeted attack: adversarial means
        predicted as the target); None: untargeted (predicted as anything
        but `y`).
    x_init : tensor, array or None, default=None
        Starting points shaped like `x` (for example images of the target
        classes); those the model does not find adversarial are replaced
        by random draws.
    init_trials : int, default=100
        Most uniform-noise draws per sample when looking for a start.
    clip : (float, float), default=(0.0, 1.0)
    random_state : int or None, default=None
        Seed (None: 0). Each sample draws from its own stream, so a
        result does not depend on `batch_size`.
    batch_size : int, default=1024
        Most points per model call.
    return_info : bool, default=False

    Returns
    -------
    x_adv : tensor of the shape and dtype of `x`
    info : dict, only with ``return_info=True``
        ``"success"`` (bool, per sample: `x_adv` is adversarial, or `x`
        already was), ``"queries"`` (int64, model evaluations spent),
        ``"distance"`` (float, ``||x_adv - x||`` in `norm`; 0 where
        unchanged).

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import hop_skip_jump
    >>> def model(x):            # class 1 where the features sum to more than 4
    ...     s = x.sum(dim=1)
    ...     return torch.stack([4 - s, s - 4], dim=1)
    >>> x = torch.full((2, 8), 0.4, dtype=torch.float64)
    >>> x_adv, info = hop_skip_jump(model, x, torch.tensor([0, 0]), max_queries=1000,
    ...                             return_info=True)
    >>> model(x_adv).argmax(dim=1), info["success"], info["queries"]
    (tensor([1, 1]), tensor([True, True]), tensor([1000, 1000]))
    >>> bool((info["distance"] < 1.05 * 0.8 / 8 ** 0.5).all())    # the closest is 0.8 / sqrt(8)
    True
    """
    if norm not in ("2", "inf"):
        raise ValueError(f"norm must be '2' or 'inf'; got {norm!r}.")
    x, y, _ = _check(x, y, 0.0, norm, clip)
    max_queries = _check_int("max_queries", max_queries, 1)
    n_iter = _check_int("n_iter", n_iter, 0)
    init_evals = _check_int("init_evals", init_evals, 1)
    max_evals = _check_int("max_evals", max_evals, init_evals)
    init_trials = _check_int("init_trials", init_trials, 0)
    batch_size = _check_int("batch_size", batch_size, 1)
    if not callable(model):
        raise TypeError(f"model must be callable; got {type(model).__name__}.")
    n = x.shape[0]
    if target is not None:
        target = torch.as_tensor(target, dtype=torch.long)
        if target.shape != y.shape:
            raise ValueError(f"target must have shape {tuple(y.shape)}; "
                             f"got {tuple(target.shape)}.")
    if x_init is not None:
        x_init = torch.as_tensor(x_init, dtype=x.dtype)
        if x_init.shape != x.shape:
            raise ValueError(f"x_init must have the shape of x, {tuple(x.shape)}; "
                             f"got {tuple(x_init.shape)}.")
    lo, hi = (float(c) for c in clip)
    d = int(np.prod(x.shape[1:]))
    x0 = x.reshape(n, d)
    theta = d ** -1.5 if norm == "2" else d ** -2.0
    n_bisect = int(np.ceil(np.log2(1.0 / theta)))
    seed = 0 if random_state is None else int(random_state)
    gens = [torch.Generator().manual_seed(int(s.generate_state(1, np.uint64)[0]))
            for s in np.random.SeedSequence(seed).spawn(n)]
    oracle = _LabelOracle(model, x, y, target, batch_size)
    everyone = torch.arange(n)

    already = oracle(x0, everyone)
    adv = x0.clone()
    found = already.clone()
    if x_init is not None and (~found).any():
        idx = everyone[~found]
        start = x_init.reshape(n, -1)[idx].clamp(lo, hi)
        hit = oracle(start, idx)
        adv[idx[hit]] = start[hit]
        found[idx[hit]] = True
    for _ in range(init_trials):
        idx = everyone[~found & (oracle.used < max_queries)]
        if idx.shape[0] == 0:
            break
        noise = torch.stack([torch.rand(d, generator=gens[int(i)], dtype=x.dtype)
                             for i in idx]) * (hi - lo) + lo
        hit = oracle(noise, idx)
        adv[idx[hit]] = noise[hit]
        found[idx[hit]] = True
    attack = found & ~already
    idx = everyone[attack]
    if idx.shape[0]:
        # the first bisection blends with the noise in both norms
        adv[idx] = _to_boundary(oracle, x0, adv[idx], idx, "2", n_bisect, max_queries)
    best = adv.clone()
    best_dist = _distance(best - x0, norm)

    reserve = 1 + n_bisect          # one step query and a bisection after the estimate
    for t in range(1, n_iter + 1):
        counts = torch.clamp(max_queries - oracle.used - reserve,
                             max=min(int(init_evals * np.sqrt(t)), max_evals))
        idx = everyone[attack & (counts >= 1)]
        if idx.shape[0] == 0:
            break
        point = adv[idx]
        dist = _distance(point - x0[idx], norm)
        deltas = (np.sqrt(d) if norm == "2" else d) * theta * dist
        grad = _sign_gradient(oracle, point, idx, counts[idx].tolist(), deltas, gens,
                              (lo, hi), batch_size)
        if norm == "2":
            step = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-30)
        else:
            step = torch.sign(grad)
        # geometric search for a step size that stays adversarial
        size = dist / np.sqrt(t)
        moved = torch.zeros(idx.shape[0], dtype=torch.bool)
        new = point.clone()
        for _ in range(30):
            live = ~moved & (oracle.used[idx] < max_queries) & (size > 0)
            if not live.any():
                break
            cand = (point[live] + size[live, None] * step[live]).clamp(lo, hi)
            hit = oracle(cand, idx[live])
            where = live.nonzero()[:, 0]
            new[where[hit]] = cand[hit]
            moved[where[hit]] = True
            size[where[~hit]] *= 0.5
        if moved.any():
            new[moved] = _to_boundary(oracle, x0, new[moved], idx[moved], norm, n_bisect,
                                      max_queries)
        adv[idx] = new
        new_dist = _distance(new - x0[idx], norm)
        closer = new_dist < best_dist[idx]
        best[idx[closer]] = new[closer]
        best_dist[idx[closer]] = new_dist[closer]

    x_adv = best.reshape(x.shape)
    if not return_info:
        return x_adv
    success = already | found
    return x_adv, {"success": success, "queries": oracle.used.clone(),
                   "distance": torch.where(attack, best_dist, torch.zeros_like(best_dist))}


#: Marks the attack as decision-based (it queries predicted labels only), for
#: :func:`sparsetools.evaluation.evaluate`'s "decision-based" threat model.
hop_skip_jump.decision_based = True


class _EOT(torch.nn.Module):
    def __init__(self, model, transform, n_samples, seed):
        super().__init__()
        self.model = model        # registered as a submodule when it is one
        self.transform = transform
        self.n_samples = n_samples
        self.seed = seed

    def forward(self, x):
        gen = torch.Generator(device=x.device).manual_seed(self.seed)
        total = 0
        for _ in range(self.n_samples):
            total = total + self.model(self.transform(x, gen))
        return total / self.n_samples


def eot(model, transform, n_samples=10, random_state=None):
    """Expectation over transformation (Athalye et al. 2018): a module whose
    output is the mean of ``model(transform(x, generator))`` over
    `n_samples` random draws of the transformation, so that the gradient
    attacks (:func:`fgsm`, :func:`bim`, :func:`pgd`) aim at a randomized
    defense's average behaviour instead of one draw of it.

    The generator is seeded from `random_state` at every forward pass, so
    each call sees the same `n_samples` draws (the draws within a call
    differ) and repeated calls, hence attacks, are deterministic. The
    gradient of any loss linear in the outputs is the mean of the gradients
    through the single draws.

    Parameters
    ----------
    model : callable
        Maps inputs to logits (a ``torch.nn.Module`` is registered as a
        submodule).
    transform : callable
        ``transform(x, generator) -> x'``: the random, differentiable (or
        BPDA-wrapped) transformation, drawing its randomness from the
        ``torch.Generator`` it is given only.
    n_samples : int, default=10
        Draws averaged per forward pass.
    random_state : int or None, default=None
        Seed of the draws (None: 0).

    Returns
    -------
    module : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import eot, pgd
    >>> model = torch.nn.Linear(4, 2).double()
    >>> def noisy(x, gen):
    ...     return x + 0.1 * torch.randn(x.shape, generator=gen, dtype=x.dtype)
    >>> smoothed = eot(model, noisy, n_samples=5, random_state=0)
    >>> x = torch.full((3, 4), 0.5, dtype=torch.float64)
    >>> torch.equal(smoothed(x), smoothed(x))
    True
    >>> x_adv = pgd(smoothed, x, torch.tensor([0, 1, 0]), epsilon=0.1, n_iter=5)
    """
    if not callable(model):
        raise TypeError(f"model must be callable; got {type(model).__name__}.")
    if not callable(transform):
        raise TypeError(f"transform must be callable; got {type(transform).__name__}.")
    n_samples = _check_int("n_samples", n_samples, 1)
    return _EOT(model, transform, n_samples, 0 if random_state is None else int(random_state))


def transfer(attack, surrogate, x, y, **kwargs):
    """Transfer attack: adversarial inputs crafted with `attack` on the
    `surrogate` model, to be given to any target model (one that `attack`
    cannot see, such as a non-differentiable pipeline or a remote service).

    The result is exactly ``attack(surrogate, x, y, **kwargs)``; how well it
    transfers is measured on the target.

    Parameters
    ----------
    attack : callable or {"fgsm", "bim", "pgd", "jsma", "hop_skip_jump"}
        An attack of this module, or any callable with their signature
        ``attack(model, x, y, **kwargs)``.
    surrogate : callable
        The model attacked in place of the target (for example
        :func:`linear_head` of a scikit-learn classifier trained on the
        same task).
    x, y
        Inputs and labels, as the attack takes them.
    **kwargs
        Passed to `attack` (``epsilon``, ``norm``, ``random_state``, ...).

    Returns
    -------
    x_adv : tensor of the shape and dtype of `x`

    Examples
    --------
    >>> import torch
    >>> from sparsetools.torch.attacks import fgsm, transfer
    >>> surrogate = torch.nn.Linear(4, 2).double()
    >>> x = torch.full((3, 4), 0.5, dtype=torch.float64)
    >>> y = torch.tensor([0, 1, 0])
    >>> torch.equal(transfer(fgsm, surrogate, x, y, epsilon=0.1),
    ...             fgsm(surrogate, x, y, epsilon=0.1))
    True
    """
    attacks = {"fgsm": fgsm, "bim": bim, "pgd": pgd, "jsma": jsma,
               "hop_skip_jump": hop_skip_jump}
    if isinstance(attack, str):
        if attack not in attacks:
            raise ValueError(f"attack must be a callable or one of {sorted(attacks)}; "
                             f"got {attack!r}.")
        attack = attacks[attack]
    if not callable(attack):
        raise TypeError(f"attack must be callable; got {type(attack).__name__}.")
    if not callable(surrogate):
        raise TypeError(f"surrogate must be callable; got {type(surrogate).__name__}.")
    return attack(surrogate, x, y, **kwargs)
