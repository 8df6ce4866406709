"""ExportedClassifier: a scikit-learn classifier around an exported torch or ONNX
model, and export_model, which writes one."""
import os
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsetools.utils._validation import check_int, check_option

__all__ = ["ExportedClassifier", "export_model"]


_FORMATS = {".pt": "torchscript", ".ts": "torchscript", ".torchscript": "torchscript",
            ".pt2": "export", ".onnx": "onnx"}


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("ONNX models need onnxruntime: pip install "
                          "'sparsetools[onnx]'") from exc
    return onnxruntime


class _OnnxModel:
    """An ONNX file run by onnxruntime, called like a torch module on float32
    tensors (no gradients: white-box attacks need a torch model)."""

    def __init__(self, path):
        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(path, options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise ValueError(f"{path!r} is not an ONNX model: {exc}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"the ONNX model {path!r} takes {len(inputs)} inputs; "
                             "ExportedClassifier feeds one.")
        self.input_name = inputs[0].name

    def __call__(self, x):
        if x.requires_grad:
            raise TypeError("an ONNX model gives no gradients; white-box attacks need "
                            "a torch module, a TorchScript or a .pt2 file.")
        x = np.ascontiguousarray(x.detach().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {self.input_name: x})[0])


def _load(model, format=None):
    """A callable model from a module, a TorchScript file (``torch.jit.save``),
    a ``torch.export`` program file (``.pt2``) or an ONNX file (``.onnx``);
    `format` overrides the suffix."""
    if isinstance(model, torch.nn.Module):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("model must be a torch.nn.Module or the path of a TorchScript, "
                        f"torch.export or ONNX file; got {type(model).__name__}.")
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist.")
    if format is None:
        format = {".onnx": "onnx", ".pt2": "export"}.get(os.path.splitext(path)[1],
                                                         "torchscript")
    if format == "onnx":
        return _OnnxModel(path)
    if format == "export":
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


def export_model(net, path, *, input_shape, format=None):
    """Save a trained torch model as TorchScript, a ``torch.export`` program
    or ONNX, with a dynamic batch axis.

    The model is put in eval mode (dropout off, batch norm on its running
    statistics) and traced or exported on a float32 example of shape
    ``(2, *input_shape)``; the file is then loaded back and run on batches of
    1 and 3 rows to check that its batch axis is dynamic and that it gives
    the model's number of scores. Other axes keep the sizes of
    `input_shape`. :class:`ExportedClassifier` loads all three.

    Parameters
    ----------
    net : torch.nn.Module
        The model, float32, on the CPU.
    path : str or path-like
        The file to write.
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(1, 8, 8)``.
    format : {"torchscript", "export", "onnx"}, default=None
        None: from the suffix of `path`: ``.pt``, ``.ts`` or ``.torchscript``
        for TorchScript (``torch.jit.trace``; torch 2.13 deprecates
        TorchScript but its files still load), ``.pt2`` for ``torch.export``,
        ``.onnx`` for ONNX (torch's exporter; needs the ``onnx`` extra:
        ``onnx``, ``onnxscript``, and ``onnxruntime`` to load it back).

    Returns
    -------
    path : str
        The file written.

    Examples
    --------
    >>> import os, tempfile, numpy as np, torch
    >>> from sparsetools.torch import ExportedClassifier, export_model
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> path = export_model(net, os.path.join(tempfile.mkdtemp(), "net.pt2"),
    ...                     input_shape=(1, 4, 4))
    >>> clf = ExportedClassifier(path, input_shape=(1, 4, 4)).fit(np.zeros((3, 16)), [0, 1, 2])
    >>> clf.predict(np.ones((5, 16))).shape
    (5,)
    """
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module; got {type(net).__name__}.")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like; got {type(path).__name__}.")
    path = os.fspath(path)
    if format is None:
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in _FORMATS:
            raise ValueError(f"path {path!r} has no known suffix ({', '.join(_FORMATS)}); "
                             "pass format='torchscript', 'export' or 'onnx'.")
        format = _FORMATS[suffix]
    format = check_option(format, "format", ("torchscript", "export", "onnx"))
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise ValueError(f"input_shape must be a tuple of ints; got {input_shape!r}.")
    shape = tuple(check_int(s, "input_shape", min_val=1) for s in input_shape)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"the folder of path {path!r} does not exist.")
    net = net.eval()
    example = torch.rand((2,) + shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        n_scores = net(example).shape[1]
    if format == "torchscript":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=".*torch.jit")
            # values computed from fixed image sizes become constants: intended
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.jit.save(torch.jit.trace(net, example), path)
    elif format == "export":
        program = torch.export.export(
            net, (example,), dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
        torch.export.save(program, path)
    else:
        _export_onnx(net, example, path)
    loaded = _load(path, format)
    with torch.no_grad():
        for n in (1, 3):
            out = loaded(torch.rand((n,) + shape, generator=torch.Generator().manual_seed(n)))
            if tuple(out.shape) != (n, n_scores):
                raise RuntimeError(f"the exported model gives shape {tuple(out.shape)} for "
                                   f"{n} input(s) instead of {(n, n_scores)}.")
    return path


def _export_onnx(net, example, path):
    """torch's ONNX exporter (torch.export based), batch axis dynamic."""
    import logging

    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError("exporting to ONNX needs onnx and onnxscript: pip install "
                          "'sparsetools[onnx]'") from exc
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # notes about torchvision's operators
    try:
        with warnings.catch_warnings():
            # torch 2.13's decompositions use a deprecated pytree spelling
            warnings.filterwarnings("ignore", category=FutureWarning,
                                    message=".*treespec")
            torch.onnx.export(net, (example,), path, input_names=["input"],
                              output_names=["scores"],
                              dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                              verbose=False)
    finally:
        quiet.setLevel(level)


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
        batch axis must be dynamic), an ONNX file (``.onnx``, run by
        onnxruntime on the CPU with torch's number of threads: ``pip install
        'sparsetools[onnx]'``; batch axis dynamic, one float32 input), a
        TorchScript file (any other name, ``torch.jit.save``; torch 2.13
        deprecates TorchScript but its files still load), or a module.
        :func:`export_model` writes all three files.
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
