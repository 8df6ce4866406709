"""ExportedClassifier: a scikit-learn classifier around an exported torch model."""
import os
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsetools.utils._validation import check_int

__all__ = ["ExportedClassifier"]


def _load(model):
    """A callable torch model from a module, a TorchScript file (``torch.jit.save``)
    or a ``torch.export`` program file (``.pt2``)."""
    if isinstance(model, torch.nn.Module):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("model must be a torch.nn.Module or the path of a TorchScript "
                        f"or torch.export file; got {type(model).__name__}.")
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist.")
    if path.endswith(".pt2"):
        try:
            return torch.export.load(path).module()
        except Exception as exc:  # torch raises several types for a bad file
            raise ValueError(f"{path!r} is not a torch.export program: {exc}") from None
    try:
        with warnings.catch_warnings():
            # torch 2.13 deprecates TorchScript; its files still load
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=".*torch.jit")
            return torch.jit.load(path, map_location="cpu")
    except RuntimeError as exc:
        raise ValueError(f"{path!r} is not a TorchScript file: {exc}") from None


class ExportedClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier that runs an exported, already trained torch model.

    The model maps a float32 batch of shape ``(n, *input_shape)`` to class
    scores ``(n, n_classes)``. `fit` trains nothing: it records the classes
    (from `classes`, or the sorted labels of `y`) and the input width, and
    checks that the model gives one score per class. Rows are fed in
    batches of `batch_size` under ``torch.no_grad()``, so it can end a
    `Pipeline` after a front end.

    Parameters
    ----------
    model : str, path-like or torch.nn.Module
        A ``torch.export`` program file (``.pt2``, ``torch.export.save``; its
        batch axis must be dynamic), a TorchScript file (``torch.jit.save``;
        torch 2.13 deprecates TorchScript but its files still load), or a
        module.
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(1, 8, 8)``; rows
        of ``prod(input_shape)`` values are reshaped to it (row-major).
    classes : array-like, default=None
        The label of each score column; None: the sorted labels of `y`.
    batch_size : int, default=256
        Rows per forward call.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels of the score columns.
    n_features_in_ : int
        Values per row.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sparsetools.torch import ExportedClassifier
    >>> net = torch.nn.Linear(4, 2, dtype=torch.float32)
    >>> clf = ExportedClassifier(net, input_shape=(4,)).fit(np.zeros((2, 4)), [0, 1])
    >>> clf.predict(np.ones((3, 4))).shape
    (3,)
    """

    def __init__(self, model, *, input_shape, classes=None, batch_size=256):
        self.model = model
        self.input_shape = input_shape
        self.classes = classes
        self.batch_size = batch_size

    def fit(self, X, y):
        """Record the classes and the input width; the model is not trained.

        Parameters
        ----------
        X : array-like of shape (n_samples, prod(input_shape))
            Rows the model will see.
        y : array-like of shape (n_samples,)
            Labels (their sorted unique values are the classes when
            `classes` is None).

        Returns
        -------
        self : ExportedClassifier
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float32)
        shape = self._input_shape()
        if X.shape[1] != int(np.prod(shape)):
            raise ValueError(f"X has {X.shape[1]} features but input_shape {shape} needs "
                             f"{int(np.prod(shape))}.")
        self.classes_ = np.unique(y) if self.classes is None else np.asarray(self.classes)
        self._net = _load(self.model)
        scores = self._scores(X[:1])
        if scores.shape[1] != len(self.classes_):
            raise ValueError(f"the model gives {scores.shape[1]} scores per row but there "
                             f"are {len(self.classes_)} classes.")
        return self

    def decision_function(self, X):
        """Class scores (the model's outputs), shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self._scores(X)

    def predict_proba(self, X):
        """Softmax of the scores, shape (n_samples, n_classes)."""
        scores = self.decision_function(X)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The class of the largest score, shape (n_samples,)."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def _input_shape(self):
        shape = self.input_shape
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"input_shape must be a tuple of ints; got {shape!r}.")
        return tuple(check_int(s, "input_shape", min_val=1) for s in shape)

    def _scores(self, X):
        batch = check_int(self.batch_size, "batch_size", min_val=1)
        shape = self._input_shape()
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], batch):
                chunk = torch.from_numpy(np.ascontiguousarray(X[start:start + batch]))
                out.append(self._net(chunk.reshape((-1,) + shape)).detach().numpy())
        return np.concatenate(out).astype(np.float64)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_net", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "classes_" in state:
            self._net = _load(self.model)
