"""Torch twins of LCACoder and DeepSparseCoder: the estimators' dynamics, unrolled."""
import numpy as np
import torch

from sparsetools.torch._images import check_backward, float_input, numpy_dtype

__all__ = ["DeepSparseCoderModule", "LCACoderModule"]

#: Steps that the search for the estimator's stopping step runs past the last
#: step at which the twin's own stopping rule fired (see `unroll`).
_MARGIN = 8


def _transfer(u, c, positive, hard):
    """The LCA transfer function, as the C kernel's (see `sparsetools.coding.lca`)."""
    zero = torch.zeros_like(u)
    if hard:
        return torch.where((u if positive else u.abs()) > c, u, zero)
    if positive:
        return torch.where(u > c, u - c, zero)
    return u - torch.clamp(u, -c, c)


def _activation(u, c, positive, hard, identity):
    """The transfer function; with `identity`, BPDA's straight-through pass:
    its value forward, the identity backward (every potential, active or
    not, passes its gradient on)."""
    a = _transfer(u, c, positive, hard)
    return a.detach() + u - u.detach() if identity else a


def _relative_change(du2, u2, eta):
    """``||du|| / (eta ||u||)`` per signal; 0 where nothing moved (the kernels' rule)."""
    rel = torch.sqrt(du2 / u2) / eta
    return torch.where(du2 > 0, rel, torch.zeros_like(rel))


def unroll(state, step, compare, reference, max_iter, tol, *, need_grad):
    """Run a batch of dynamics for as many steps as the estimator ran on each signal.

    The estimator stops each signal at the first step where its relative
    change is at most `tol`; rounding can make that test come out
    differently in torch on a borderline step, so the step count is not
    taken from the torch test alone. A first pass, without gradients, runs
    every signal until the torch test has fired for all of them, plus
    ``_MARGIN`` steps (or `max_iter`), and picks for each signal the step
    whose state (``compare(state)``) is closest to the estimator's result
    `reference`: the estimator's own step count. A second pass, with
    gradients when `need_grad`, reruns the dynamics and freezes each signal
    after that step.

    Parameters
    ----------
    state : tuple of tensors
        Initial state, each ``(N, ...)``.
    step : callable
        ``step(state) -> (new_state, rel)``, `rel` ``(N,)`` the relative
        change that the stopping rule compares with `tol`.
    compare : callable
        ``compare(state) -> (N, m)`` tensor compared with `reference`.
    reference : tensor of shape (N, m)
    max_iter : int
    tol : float
    need_grad : bool

    Returns
    -------
    state : tuple of tensors
        Each signal's state after the estimator's number of steps.
    n_steps : ndarray of shape (N,)
        Those numbers of steps.
    """
    n = reference.shape[0]
    device = reference.device
    with torch.no_grad():
        current = tuple(s.detach() for s in state)
        best = current
        best_dist = torch.full((n,), float("inf"), dtype=torch.float64, device=device)
        best_k = torch.zeros(n, dtype=torch.long, device=device)
        fired = torch.zeros(n, dtype=torch.bool, device=device)
        last_fire = 0
        for k in range(1, max_iter + 1):
            current, rel = step(current)
            dist = (compare(current) - reference).abs().amax(dim=1).to(torch.float64)
            better = dist < best_dist
            best_dist = torch.where(better, dist, best_dist)
            best_k = torch.where(better, torch.full_like(best_k, k), best_k)
            best = tuple(torch.where(better.reshape((-1,) + (1,) * (b.ndim - 1)), c, b)
                         for c, b in zip(current, best))
            newly = ~fired & (rel <= tol)
            if bool(newly.any()):
                fired |= newly
                last_fire = k
            if bool(fired.all()) and k >= last_fire + _MARGIN:
                break
    n_steps = best_k.cpu().numpy()
    if not need_grad:
        return best, n_steps
    stop = best_k
    current = state
    for k in range(1, int(n_steps.max(initial=0)) + 1):
        new, _ = step(current)
        running = stop >= k
        current = tuple(torch.where(running.reshape((-1,) + (1,) * (c.ndim - 1)), nw, c)
                        for nw, c in zip(new, current))
    return current, n_steps


def _needs_grad(x, module):
    return torch.is_grad_enabled() and (x.requires_grad or any(
        p.requires_grad for p in module.parameters()))


class LCACoderModule(torch.nn.Module):
    """LCA codes of rows ``(N, n_features)``, as a fitted `LCACoder` computes them.

    The forward pass runs the estimator's dynamics in torch, with its
    integrator (Euler, or Nesterov with gradient restart), its step ``dt /
    tau`` (resolved from the dictionary's spectrum as the estimator does),
    its transfer function and threshold, all signals from ``u = 0``, and
    returns ``T(u)`` after each signal's last step. The estimator stops a
    signal once its potentials change by at most `tol` of their norm per
    unit of ``tau``; the twin reproduces that exactly by running, for each
    signal, the number of steps the estimator ran (found by comparing the
    twin's trajectory with ``LCACoder.transform``, which the forward pass
    calls; see `unroll`), so the outputs agree to rounding (about ``1e-12``
    in float64, ``1e-6`` in float32), not merely to the tolerance.

    With ``backward="exact"`` the backward pass is autograd through the
    unrolled steps, for the fixed number of steps of each signal. It is the
    gradient of the estimator's map wherever that map is differentiable,
    i.e. where a small change of the input changes neither the number of
    steps nor which potentials cross the threshold at each step. With
    ``backward="identity"`` (BPDA for the threshold) the transfer
    function's backward pass is the identity at every step, so units below
    the threshold pass gradients on too; the forward values do not change.

    Parameters
    ----------
    coder : LCACoder
        Fitted (or not: its dictionary is fixed).
    backward : {"exact", "identity"}, default="exact"
        The backward pass (the identity replaces the transfer function's,
        not the whole coder's: the codes do not have the input's shape).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sparsetools.coding import LCACoder
    >>> from sparsetools.torch import to_torch
    >>> rng = np.random.default_rng(0)
    >>> D = rng.standard_normal((12, 8))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> X = rng.standard_normal((4, 8))
    >>> coder = LCACoder(D, threshold=0.3, integrator="nesterov").fit(X)
    >>> module = to_torch(coder)
    >>> x = torch.tensor(X, requires_grad=True)
    >>> codes = module(x)
    >>> bool(np.abs(codes.detach().numpy() - coder.transform(X)).max() < 1e-10)
    True
    >>> codes.sum().backward(); x.grad.shape
    torch.Size([4, 8])
    """

    def __init__(self, coder, *, backward="exact"):
        super().__init__()
        from sparsetools.coding._lca import check_lca_params

        check_backward(backward, ("exact", "identity"), "LCACoder")
        D = np.asarray(coder._dictionary(), dtype=np.float64)
        (self.threshold, transfer, self.positive, self.tau, self.dt, self.max_iter,
         self.tol, self.integrator, _) = check_lca_params(
            coder.threshold, coder.transfer, coder.positive, coder.tau, coder.dt,
            coder.transform_max_iter, coder.tol, coder.integrator, coder.n_jobs)
        self.hard = transfer == "hard"
        self.coder = coder
        self.backward_mode = backward
        self.register_buffer("D", torch.as_tensor(D))
        self._resolved = {}

    def _dynamics(self, dtype):
        """(eta, max_iter, tol) as the estimator resolves them for `dtype`."""
        if dtype not in self._resolved:
            from sparsetools.coding._lca import (_DEFAULT_NESTEROV_ITER, _DEFAULT_TIME,
                                                 _MAX_DEFAULT_EULER_ITER, _step,
                                                 attainable_tol, largest_gram_eigenvalue)

            L = largest_gram_eigenvalue(self.D.cpu().numpy().astype(dtype))
            eta = _step(L, self.tau, self.dt, self.integrator)
            max_iter = self.max_iter
            if max_iter is None:
                max_iter = (int(min(np.ceil(_DEFAULT_TIME / eta), _MAX_DEFAULT_EULER_ITER))
                            if self.integrator == "euler" else _DEFAULT_NESTEROV_ITER)
            tol = max(self.tol, attainable_tol(np.dtype(dtype), L))
            self._resolved[dtype] = (float(dtype(eta)), max_iter, tol)
        return self._resolved[dtype]

    def forward(self, x):
        """Codes ``(N, n_components)`` of rows `x` ``(N, n_features)``."""
        x = float_input(x)
        if x.ndim != 2 or x.shape[1] != self.D.shape[1]:
            raise ValueError(f"x must have shape (N, {self.D.shape[1]}); got "
                             f"{tuple(x.shape)}.")
        dtype = numpy_dtype(x)
        reference = torch.as_tensor(self.coder.transform(x.detach().cpu().numpy().astype(dtype)),
                                    device=x.device)
        eta, max_iter, tol = self._dynamics(dtype)
        D = self.D.to(x.dtype)
        return lca_unrolled(x @ D.T, D @ D.T, self.threshold, self.positive, self.hard,
                            self.integrator, eta, max_iter, tol, reference,
                            need_grad=_needs_grad(x, self),
                            identity=self.backward_mode == "identity")


def lca_unrolled(b, G, c, positive, hard, integrator, eta, max_iter, tol, reference, *,
                 need_grad, identity=False):
    """Activations of the LCA dynamics with drive `b` ``(N, K)`` and Gram
    matrix `G`, after the estimator's number of steps for each signal
    (`identity`: the thresholds' backward pass is the identity)."""
    zeros = torch.zeros_like(b)
    if integrator == "euler":
        def step(state):
            u, a = state
            du = eta * (b - u - a @ G + a)
            u = u + du
            rel = _relative_change((du * du).sum(1), (u * u).sum(1), eta)
            return (u, _activation(u, c, positive, hard, identity)), rel

        state = (zeros, zeros)
    else:
        def step(state):
            u, v, a, t = state
            r = b - v - a @ G + a
            w = v + eta * r
            s = w - u
            rel = _relative_change((s * s).sum(1), (w * w).sum(1), eta)
            with torch.no_grad():
                t_next = (1 + torch.sqrt(1 + 4 * t * t)) / 2
                restart = (r * s).sum(1) < 0
                beta = torch.where(restart, torch.zeros_like(t), (t - 1) / t_next)
                t = torch.where(restart, torch.ones_like(t), t_next)
            v = w + beta[:, None] * s
            return (w, v, _activation(v, c, positive, hard, identity), t), rel

        state = (zeros, zeros, zeros, torch.ones(b.shape[0], dtype=b.dtype, device=b.device))
    state, _ = unroll(state, step, lambda st: _transfer(st[0], c, positive, hard), reference,
                      max_iter, tol, need_grad=need_grad)
    return _activation(state[0], c, positive, hard, identity)


class DeepSparseCoderModule(torch.nn.Module):
    """Top-layer codes of rows ``(N, n_features)``, as a fitted `DeepSparseCoder`
    computes them.

    The forward pass runs the estimator's dynamics in torch: with
    ``feedback=0`` (or one layer) each layer is an Euler LCA over the
    activations of the layer below (as :class:`LCACoderModule`), otherwise
    the coupled Euler steps of :func:`~sparsetools.coding.deep_lca` (every
    layer's velocity from the current state, feedback ``-f (u_l - D_{l+1}^T
    a_{l+1})`` below the top), with the estimator's step, thresholds and
    stopping rule. As in :class:`LCACoderModule`, each signal runs the
    number of steps the estimator ran (found by comparing with
    ``transform_all``, which the forward pass calls), so the outputs agree
    with `transform` to rounding.

    The backward pass is chosen by `backward`:

    - ``"exact"``: autograd through the unrolled steps, the gradient of the
      estimator's map wherever the step counts and the thresholded sets do
      not change. A unit below its threshold passes no gradient on, so the
      gradient cannot see the inputs that would switch units on: it can
      mask the directions an attack needs;
    - ``"identity"``: BPDA (Athalye, Carlini & Wagner 2018) for the
      thresholds: the same unrolled steps, each threshold's backward pass
      the identity (as if every unit were active and unshrunk), so that
      every unit passes gradients on. The forward values are unchanged.

    Parameters
    ----------
    coder : DeepSparseCoder
        Fitted.
    backward : {"exact", "identity"}, default="exact"
        The backward pass.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sparsetools import DeepSparseCoder
    >>> from sparsetools.torch import to_torch
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((40, 10))
    >>> X /= np.linalg.norm(X, axis=1, keepdims=True)
    >>> dsc = DeepSparseCoder((12, 6), threshold=[0.05, 0.02], n_epochs=1,
    ...                       pretrain_epochs=1, random_state=0).fit(X)
    >>> codes = to_torch(dsc)(torch.as_tensor(X[:3]))
    >>> bool(np.abs(codes.numpy() - dsc.transform(X[:3])).max() < 1e-10)
    True
    """

    def __init__(self, coder, *, backward="exact"):
        super().__init__()
        from sklearn.utils.validation import check_is_fitted

        check_backward(backward, ("exact", "identity"), "DeepSparseCoder")
        check_is_fitted(coder)
        _, dyn = coder._check_params()
        (self.thresholds, self.feedback, self.positive, self.tau, self.dt, self.max_iter,
         self.tol, _) = dyn
        self.coder = coder
        self.backward_mode = backward
        self.n_layers = len(coder.components_)
        for i, D in enumerate(coder.components_):
            self.register_buffer(f"D{i}", torch.as_tensor(np.asarray(D, dtype=np.float64)))
        self._resolved = {}

    def _dictionaries(self, dtype):
        return [getattr(self, f"D{i}").to(dtype) for i in range(self.n_layers)]

    def _dynamics(self, dtype):
        """Per-layer (eta, max_iter, tol) of stacked LCA, or those of the coupled
        dynamics, as the estimator resolves them for `dtype`."""
        if dtype not in self._resolved:
            from sparsetools.coding._deep_lca import coupled_step
            from sparsetools.coding._lca import (_DEFAULT_TIME, _MAX_DEFAULT_EULER_ITER, _step,
                                                 attainable_tol, largest_gram_eigenvalue)

            Ls = [largest_gram_eigenvalue(getattr(self, f"D{i}").cpu().numpy().astype(dtype))
                  for i in range(self.n_layers)]
            if self._coupled:
                etas = [coupled_step(Ls, self.feedback, self.tau, self.dt)]
                Ls = [max(Ls)]
            else:
                etas = [_step(L, self.tau, self.dt, "euler") for L in Ls]
            out = []
            for eta, L in zip(etas, Ls):
                max_iter = self.max_iter
                if max_iter is None:
                    max_iter = int(min(np.ceil(_DEFAULT_TIME / eta), _MAX_DEFAULT_EULER_ITER))
                out.append((float(dtype(eta)), max_iter,
                            max(self.tol, attainable_tol(np.dtype(dtype), L))))
            self._resolved[dtype] = out
        return self._resolved[dtype]

    @property
    def _coupled(self):
        return self.feedback != 0.0 and self.n_layers > 1

    def forward(self, x):
        """Top-layer codes ``(N, layers[-1])`` of rows `x` ``(N, n_features)``."""
        x = float_input(x)
        width = self.D0.shape[1]
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(f"x must have shape (N, {width}); got {tuple(x.shape)}.")
        dtype = numpy_dtype(x)
        refs = [torch.as_tensor(r, device=x.device)
                for r in self.coder.transform_all(x.detach().cpu().numpy().astype(dtype))]
        Ds = self._dictionaries(x.dtype)
        need_grad = _needs_grad(x, self)
        identity = self.backward_mode == "identity"
        if not self._coupled:
            a = x
            for D, c, ref, (eta, max_iter, tol) in zip(Ds, self.thresholds, refs,
                                                      self._dynamics(dtype)):
                a = lca_unrolled(a @ D.T, D @ D.T, c, self.positive, False, "euler", eta,
                                 max_iter, tol, ref, need_grad=need_grad, identity=identity)
            return a
        (eta, max_iter, tol), = self._dynamics(dtype)
        return self._coupled_forward(x, Ds, refs, eta, max_iter, tol, need_grad)

    def _coupled_forward(self, x, Ds, refs, eta, max_iter, tol, need_grad):
        n_layers, f = self.n_layers, self.feedback
        grams = [D @ D.T for D in Ds]
        drive0 = x @ Ds[0].T
        cs, positive = self.thresholds, self.positive
        identity = self.backward_mode == "identity"

        def step(state):
            U, A = state[:n_layers], state[n_layers:]
            V = []
            for i in range(n_layers):
                v = (drive0 if i == 0 else A[i - 1] @ Ds[i].T) - A[i] @ grams[i] + A[i] - U[i]
                if i < n_layers - 1:
                    v = v - f * (U[i] - A[i + 1] @ Ds[i + 1])
                V.append(eta * v)
            U = [u + v for u, v in zip(U, V)]
            A = [_activation(u, c, positive, False, identity) for u, c in zip(U, cs)]
            change = sum((v * v).sum(1) for v in V)
            norm = sum((u * u).sum(1) for u in U)
            return tuple(U) + tuple(A), _relative_change(change, norm, eta)

        zeros = [torch.zeros(x.shape[0], D.shape[0], dtype=x.dtype, device=x.device)
                 for D in Ds]
        reference = torch.cat(refs, dim=1)
        state, _ = unroll(tuple(zeros) * 2, step,
                          lambda st: torch.cat(st[n_layers:], dim=1), reference, max_iter,
                          tol, need_grad=need_grad)
        return state[-1]
