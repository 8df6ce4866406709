"""DictionaryLearner: online (Mairal et al.), K-SVD and MOD dictionary learning on the
compiled coders."""
import logging

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsetools._lib import _learning
from sparsetools.coding._dispatch import check_coder, decode, run_coder
from sparsetools.coding._lasso import LarsBatchCoder
from sparsetools.utils._threads import blas_threads, effective_n_threads
from sparsetools.utils._validation import check_float, check_int, check_option

__all__ = ["DictionaryLearner"]

logger = logging.getLogger(__name__)

_ALGORITHMS = ("online", "ksvd", "mod")
_CODINGS = ("omp", "ormp", "lasso", "lca")
#: Codings whose objective carries the l1 penalty alpha ||a||_1.
_L1_CODINGS = ("lasso", "lca")


class DictionaryLearner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learn a dictionary whose atoms sparse-code the data, with the compiled coders.

    Finds a dictionary ``D`` (atoms as rows, unit norm) and codes ``A`` with
    ``X ~= A @ D``, the codes computed by OMP / ORMP (`n_nonzero_coefs`
    atoms, or until the squared residual is at most `coding_tol`) or by the
    lasso (weight `alpha`, exact LARS path).

    - ``"online"``: online dictionary learning (Mairal, Bach, Ponce & Sapiro,
      2009/2010). Mini-batches are coded against the current dictionary and
      folded into the sufficient statistics ``A = sum a^T a`` and
      ``B = sum a^T x`` with the usual forgetting factor; after each batch
      one pass of block-coordinate descent over the atoms, warm-started from
      the previous dictionary, projects every atom onto the unit ball. Atoms
      that no code uses are resampled from the batch.
    - ``"ksvd"``: approximate K-SVD (Aharon, Elad & Bruckstein, 2006, in the
      form of Rubinstein, Zibulevsky & Elad, 2008): code all the data with
      OMP, then update the atoms one after the other, each with its
      coefficients, by one power-method step on the residual of the signals
      that use it (``d = E^T g / ||E^T g||``, ``g = E d``), in C. Atoms that
      no code uses, or that nearly repeat another atom (``|<d_i, d_j>| >
      0.99``), are replaced by the worst-represented signals.
    - ``"mod"``: the method of optimal directions (Engan, Aase & Husoy,
      1999): code all the data, then set ``D`` to the least-squares
      dictionary for those codes, rows renormalised.

    Parameters
    ----------
    n_components : int, default=256
        Number of atoms.
    algorithm : {"online", "ksvd", "mod"}, default="online"
        Learning algorithm.
    coding : {"omp", "ormp", "lasso", "lca"}, default="omp"
        Coder used in learning and in `transform`; ``"ksvd"`` needs
        ``"omp"`` or ``"ormp"``. ``"lca"``: the Locally Competitive
        Algorithm with the soft threshold `alpha` (whose fixed point is the
        lasso code) and its fast integrator, see
        :func:`sparsetools.coding.lca`.
    n_nonzero_coefs : int, default=None
        ``"omp"``, ``"ormp"``: atoms per code; None: ``max(int(0.1 *
        n_features), 1)``, or no limit but the width of the data when
        `coding_tol` is set.
    coding_tol : float, default=None
        ``"omp"``, ``"ormp"``: also stop adding atoms to a code once the
        squared norm of its residual is at most `coding_tol` (the error-
        constrained coding of K-SVD denoising). None: `n_nonzero_coefs`
        alone.
    alpha : float, default=None
        ``"lasso"``, ``"lca"``: weight of the l1 penalty (the LCA
        threshold); None means 1.0.
    batch_size : int, default=256
        ``"online"``: samples per mini-batch.
    max_iter : int, default=10
        Epochs (``"online"``: passes over the data), or ``"ksvd"`` /
        ``"mod"`` iterations.
    tol : float, default=1e-4
        Stop when the mean objective of an epoch improves on the previous
        one by less than ``tol`` times it; 0 runs all `max_iter` epochs.
    random_state : int, RandomState instance or None, default=None
        Initial atoms (drawn from the data), batch order, resampling.
    n_jobs : int, default=None
        Threads for coding and BLAS; None means 1, -1 all cores.
    verbose : bool, default=False
        Log one line per epoch (``logging`` at INFO, logger
        ``sparsetools.dictionary._learner``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The learned atoms, unit norm.
    n_iter_ : int
        Epochs run.
    error_ : list of float
        Mean objective per sample of each epoch: ``0.5 ||x - a D||^2`` (plus
        ``alpha ||a||_1`` for the lasso), measured on the codes of the epoch.
    n_steps_ : int
        ``"online"``: mini-batches processed, over all `fit` / `partial_fit`.
    n_features_in_ : int
        Number of features seen during `fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools import DictionaryLearner
    >>> from sparsetools.datasets import load_patches
    >>> X = load_patches(4000, images=["camera"])
    >>> dl = DictionaryLearner(64, coding="omp", n_nonzero_coefs=5, max_iter=3,
    ...                        random_state=0).fit(X)
    >>> dl.components_.shape
    (64, 64)
    >>> bool(dl.error_[-1] < dl.error_[0])
    True
    """

    def __init__(self, n_components=256, *, algorithm="online", coding="omp",
                 n_nonzero_coefs=None, coding_tol=None, alpha=None, batch_size=256,
                 max_iter=10, tol=1e-4, random_state=None, n_jobs=None, verbose=False):
        self.n_components = n_components
        self.algorithm = algorithm
        self.coding = coding
        self.n_nonzero_coefs = n_nonzero_coefs
        self.coding_tol = coding_tol
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- public API ------------------------------------------------------
    def fit(self, X, y=None):
        """Learn the dictionary from the rows of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DictionaryLearner
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        self._check_params(X.shape[1])
        self._rng = check_random_state(self.random_state)
        self._init(X, self._rng)
        if self.algorithm == "online":
            self._fit_online(X, self._rng, self.max_iter)
        elif self.algorithm == "ksvd":
            self._fit_ksvd(X, self._rng)
        else:
            self._fit_mod(X, self._rng)
        return self

    @available_if(lambda self: self.algorithm == "online")
    def partial_fit(self, X, y=None):
        """One online pass over the rows of `X`, in mini-batches.

        The first call initialises the dictionary from `X`; later calls
        continue from the current dictionary and sufficient statistics.
        Only with ``algorithm="online"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DictionaryLearner
            The updated estimator.
        """
        first = not hasattr(self, "components_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=first)
        self._check_params(X.shape[1])
        if first:
            self._rng = check_random_state(self.random_state)
            self._init(X, self._rng)
        self._fit_online(X, self._rng, 1)
        return self

    def transform(self, X):
        """Sparse codes of the rows of `X` over the learned atoms.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; float32 and float64 are kept.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Codes in the dtype of `X`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], order="C")
        return self._code(X, self.components_)

    def inverse_transform(self, X):
        """Data from codes: ``X @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions in the dtype of the codes.
        """
        check_is_fitted(self)
        return decode(X, self.components_)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- internals -------------------------------------------------------
    def _check_params(self, n_features):
        check_int(self.n_components, "n_components", min_val=1)
        check_option(self.algorithm, "algorithm", _ALGORITHMS)
        check_option(self.coding, "coding", _CODINGS)
        check_int(self.batch_size, "batch_size", min_val=1)
        check_int(self.max_iter, "max_iter", min_val=1)
        check_float(self.tol, "tol", min_val=0.0)
        if not isinstance(self.verbose, (bool, np.bool_, int)):
            raise TypeError(f"verbose must be a bool; got {self.verbose!r}.")
        if self.coding in _L1_CODINGS and self.coding_tol is not None:
            raise ValueError("coding_tol applies to coding='omp' or 'ormp'; got "
                             f"coding={self.coding!r} with coding_tol={self.coding_tol!r}.")
        if self.algorithm == "ksvd" and self.coding in _L1_CODINGS:
            raise ValueError("algorithm='ksvd' codes with coding='omp' or 'ormp'; got "
                             f"coding={self.coding!r}.")
        self._coder_params(self.n_components, n_features)

    def _coder_params(self, n_components, n_features):
        """The checked coding plan (see sparsetools.coding._dispatch)."""
        return check_coder("lasso_lars" if self.coding == "lasso" else self.coding,
                           n_components, n_features,
                           n_nonzero_coefs=self.n_nonzero_coefs, tol=self.coding_tol,
                           alpha=self.alpha, n_jobs=self.n_jobs)

    def _code(self, X, D, plan=None):
        """Codes of X over D; `plan` (from _coder_params) saves re-checking
        the hyper-parameters batch after batch."""
        D = D.astype(X.dtype, copy=False)
        if plan is None:
            plan = self._coder_params(D.shape[0], D.shape[1])
        return run_coder(plan, X, D)

    def _objective(self, X, codes, D):
        """Sum over the rows of 0.5 ||x - a D||^2 (+ alpha ||a||_1)."""
        residual = X - codes @ D
        value = 0.5 * float(np.einsum("ij,ij->", residual, residual))
        if self.coding in _L1_CODINGS:
            value += (1.0 if self.alpha is None else self.alpha) * float(np.abs(codes).sum())
        return value

    def _init(self, X, rng):
        n_samples, n_features = X.shape
        idx = rng.choice(n_samples, self.n_components,
                         replace=n_samples < self.n_components)
        D = X[idx].astype(np.float64)
        D += 1e-3 * rng.standard_normal(D.shape) * np.abs(D).max(initial=1.0)
        D /= np.linalg.norm(D, axis=1, keepdims=True)
        self.components_ = np.ascontiguousarray(D, dtype=X.dtype)
        self._A = np.zeros((self.n_components, self.n_components))
        self._B = np.zeros((self.n_components, n_features))
        self.n_steps_ = 0
        self.n_iter_ = 0
        self.error_ = []

    def _fit_online(self, X, rng, n_epochs):
        n_samples = X.shape[0]
        batch = min(self.batch_size, n_samples)
        previous = None
        plan = self._coder_params(*self.components_.shape)
        # lasso: one coder per batch size, its buffers allocated once (the
        # same codes as self._code)
        coders = {}
        steps = {}  # the statistics and atom updates, per batch size
        # BLAS on one thread throughout: its products here are small, and its
        # idle workers would spin beside the coders' threads
        with blas_threads(1):
            for epoch in range(n_epochs):
                order = rng.permutation(n_samples)
                total = 0.0
                for start in range(0, n_samples, batch):
                    rows = X[np.sort(order[start:start + batch])]
                    if plan[0] == "lasso_lars":
                        coder = coders.get(rows.shape[0])
                        if coder is None:
                            alpha, _, positive, max_iter, _, n_threads = plan[1]
                            coder = coders[rows.shape[0]] = LarsBatchCoder(
                                rows.shape[0], *self.components_.shape, rows.dtype,
                                alpha, positive, max_iter, n_threads)
                        codes = coder(rows, self.components_.astype(rows.dtype,
                                                                    copy=False))
                    else:
                        codes = self._code(rows, self.components_, plan)
                    step = steps.get(rows.shape[0])
                    if step is None:
                        step = steps[rows.shape[0]] = _learning.OnlineStep(
                            rows.shape[0], *self.components_.shape,
                            effective_n_threads(self.n_jobs))
                    total += self._online_step(rows, codes, rng, step)
                self.n_iter_ += 1
                mean = total / n_samples
                self.error_.append(mean)
                if self.verbose:
                    logger.info("DictionaryLearner epoch %d: mean objective %.6g",
                                self.n_iter_, mean)
                if previous is not None and previous - mean < self.tol * abs(previous):
                    break
                previous = mean

    def _online_step(self, rows, codes, rng, step):
        """Fold a coded mini-batch into A and B, then update every atom once
        (`step`, an OnlineStep for this batch size); returns the batch's
        objective before the update."""
        m = rows.shape[0]
        codes64 = np.ascontiguousarray(codes, dtype=np.float64)
        rows64 = np.ascontiguousarray(rows, dtype=np.float64)
        # D is a fresh copy: float64 rows keep it as the new components_
        D = np.array(self.components_, dtype=np.float64, order="C")
        # forgetting factor of Mairal et al. (2010), as scikit-learn applies it
        t = self.n_steps_
        theta = (t + 1) * m if t < m - 1 else m * m + t + 1 - m
        beta = (theta + 1 - m) / (theta + 1)
        # A <- beta A + codes^T codes / m, B <- beta B + codes^T rows / m over
        # the non-zeros of the codes, the batch's objective under the
        # dictionary that coded it, then one pass of block-coordinate descent
        # over the atoms (Mairal et al., Alg. 2): d_j <- d_j + (B_j - A_j D) /
        # A_jj, projected onto the unit ball
        half_sqerr, l1, unused = step(self._A, self._B, codes64, rows64, D, beta,
                                      1.0 / m)
        objective = half_sqerr
        if self.coding in _L1_CODINGS:
            objective += (1.0 if self.alpha is None else self.alpha) * l1
        _resample_atoms(D, unused, rows64, rng)
        self.components_ = D.astype(rows.dtype, copy=False)
        self.n_steps_ += 1
        return objective

    def _fit_ksvd(self, X, rng):
        D = self.components_.astype(np.float64)
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        previous = None
        with blas_threads(1 if self.n_jobs is None else max(1, abs(self.n_jobs))):
            for _ in range(self.max_iter):
                row_ptr, atoms, coefs = self._code_csr(X, D.astype(X.dtype))
                codes = sp.csr_array((coefs, atoms, row_ptr), shape=(X.shape[0], D.shape[0]))
                mean = 0.5 * _row_sqnorms(X64 - codes @ D).sum() / X.shape[0]
                self.error_.append(mean)
                self.n_iter_ += 1
                if self.verbose:
                    logger.info("DictionaryLearner K-SVD iteration %d: mean objective %.6g",
                                self.n_iter_, mean)
                signal = np.repeat(np.arange(X.shape[0]), np.diff(row_ptr))
                col_pos = np.argsort(atoms, kind="stable")
                col_ptr = np.zeros(D.shape[0] + 1, dtype=np.intp)
                np.cumsum(np.bincount(atoms, minlength=D.shape[0]), out=col_ptr[1:])
                unused = _learning.ksvd_update(D, X64, row_ptr, atoms, coefs, col_ptr,
                                               signal[col_pos], col_pos)
                # coefs now hold the updated coefficients
                residual = _row_sqnorms(X64 - codes @ D)
                _replace_atoms(D, X64, residual, unused)
                self.components_ = D.astype(X.dtype)
                if previous is not None and previous - mean < self.tol * abs(previous):
                    break
                previous = mean

    def _code_csr(self, X, D):
        """Codes of the rows of X over D as CSR arrays (row_ptr, atoms, coefs
        in float64), computed chunk by chunk so that the dense codes of all of
        X never exist at once."""
        plan = self._coder_params(D.shape[0], D.shape[1])
        row_ptr = np.zeros(X.shape[0] + 1, dtype=np.intp)
        atoms, coefs = [], []
        for start in range(0, X.shape[0], _CODE_CHUNK):
            chunk = run_coder(plan, X[start:start + _CODE_CHUNK], D)
            rows, cols = np.nonzero(chunk)
            counts = np.bincount(rows, minlength=chunk.shape[0])
            np.cumsum(counts, out=row_ptr[start + 1:start + 1 + chunk.shape[0]])
            row_ptr[start + 1:start + 1 + chunk.shape[0]] += row_ptr[start]
            atoms.append(cols.astype(np.intp))
            coefs.append(chunk[rows, cols].astype(np.float64))
        return row_ptr, np.concatenate(atoms), np.concatenate(coefs)

    def _fit_mod(self, X, rng):
        D = self.components_.astype(np.float64)
        X64 = X.astype(np.float64)
        previous = None
        for _ in range(self.max_iter):
            codes = self._code(X, D.astype(X.dtype)).astype(np.float64)
            mean = self._objective(X64, codes, D) / X.shape[0]
            self.error_.append(mean)
            self.n_iter_ += 1
            if self.verbose:
                logger.info("DictionaryLearner MOD iteration %d: mean objective %.6g",
                            self.n_iter_, mean)
            gram = codes.T @ codes
            used = np.diagonal(gram) > 0
            new = D.copy()
            if used.any():
                g = gram[np.ix_(used, used)]
                g[np.diag_indices_from(g)] += 1e-10 * max(np.trace(g), 1.0)
                new[used] = np.linalg.solve(g, codes[:, used].T @ X64)
            norms = np.linalg.norm(new, axis=1)
            dead = ~used | (norms == 0)
            if dead.any():
                new[dead] = X64[rng.choice(X.shape[0], int(dead.sum()))]
                norms = np.linalg.norm(new, axis=1)
            D = new / np.where(norms > 0, norms, 1.0)[:, None]
            self.components_ = D.astype(X.dtype)
            if previous is not None and previous - mean < self.tol * abs(previous):
                break
            previous = mean


#: Signals coded at once by K-SVD before their codes are made sparse.
_CODE_CHUNK = 8192
#: K-SVD replaces an atom whose inner product with an earlier one exceeds this.
_MAX_COHERENCE = 0.99


def _row_sqnorms(R):
    return np.einsum("ij,ij->i", R, R)


def _replace_atoms(D, X, residual, unused):
    """K-SVD's dictionary clean-up, in place: the atoms in `unused`, and atoms
    nearly equal (up to sign) to an earlier atom, become the worst-represented
    signals (largest `residual`), normalised, each signal used once."""
    G = np.abs(D @ D.T)
    np.fill_diagonal(G, 0.0)
    repeated = np.flatnonzero(np.tril(G).max(axis=1) > _MAX_COHERENCE)
    replace = np.union1d(np.asarray(unused, dtype=np.intp), repeated)
    if replace.size == 0:
        return
    norms = np.sqrt(_row_sqnorms(X))
    candidates = np.argsort(-np.where(norms > 0, residual, -np.inf), kind="stable")
    candidates = candidates[norms[candidates] > 0][:replace.size]
    for j, i in zip(replace, candidates):
        D[j] = X[i] / norms[i]


def _resample_atoms(D, unused, rows, rng):
    """Atoms left alone by the update (A_jj ~ 0: unused), in place: each
    becomes a random row of the batch, slightly perturbed, normalised."""
    for j in unused:
        new = rows[rng.randint(rows.shape[0])].copy()
        new += 1e-3 * rng.standard_normal(new.shape) * (np.abs(new).max() or 1.0)
        D[j] = new / np.linalg.norm(new)
