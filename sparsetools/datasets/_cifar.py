"""CIFAR-10 from its local "python version" batches (nothing is downloaded).

The batches are Python pickles. They are read with a restricted unpickler
that can build numpy arrays and builtin containers and nothing else, so a
file that would call any other function is refused, never run.
"""
import os
import pickle

import numpy as np

from sparsetools.datasets._mnist import check_folder
from sparsetools.utils._validation import check_bool, check_option

__all__ = ["load_cifar10"]

SUBFOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
META = "batches.meta"
_SIDE, _CHANNELS = 32, 3
_ROW = _SIDE * _SIDE * _CHANNELS


def _allowed_globals():
    """(module, name) -> object that the restricted unpickler may load: what
    numpy's arrays, dtypes and scalars pickle to (under numpy 1 and 2
    module names, taken from numpy's own reductions rather than imported
    from its private modules), the builtin containers, and the bytes
    encoder that Python 3 uses for bytes at pickle protocol 2."""
    import builtins
    import codecs

    zeros = np.zeros(1)
    reconstruct = zeros.__reduce__()[0]
    frombuffer = zeros.__reduce_ex__(5)[0]
    scalar = np.float64(0.0).__reduce__()[0]
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): codecs.encode}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    for name in ("list", "dict", "tuple", "set", "frozenset", "bytearray"):
        allowed[("builtins", name)] = getattr(builtins, name)
    return allowed


class _Refused(ValueError):
    """A pickle asked for a global that is not allowed."""


class _RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler whose `find_class` gives only `_allowed_globals`."""

    def __init__(self, file, filename):
        super().__init__(file, encoding="bytes")  # the files come from Python 2
        self._filename = filename
        self._allowed = _allowed_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise _Refused(
                f"{self._filename}: refused to unpickle {module}.{name}: a CIFAR-10 "
                "python batch holds only numpy arrays and builtin containers, and "
                "nothing else is loaded from a pickle.") from None

    def persistent_load(self, pid):
        raise _Refused(f"{self._filename}: refused a persistent id in the pickle.")


def safe_unpickle(filename):
    """The object pickled in `filename`, if it is made of numpy arrays, numpy
    dtypes and scalars and builtin containers only; ValueError naming the
    file otherwise (never calls what the pickle names)."""
    name = os.fspath(filename)
    try:
        with open(name, "rb") as fh:
            return _RestrictedUnpickler(fh, name).load()
    except _Refused:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OverflowError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: not a readable CIFAR-10 python batch: the pickle is "
                         f"truncated or malformed ({type(exc).__name__}: {exc}).") from None


def _get(batch, key):
    """`batch[key]` with the key as bytes (Python 2 files) or as str."""
    if not isinstance(batch, dict):
        raise KeyError(key)
    for k in (key.encode(), key):
        if k in batch:
            return batch[k]
    raise KeyError(key)


def cifar10_folder(path):
    """The folder of `path` that holds the CIFAR-10 batches (`path` itself or
    its ``cifar-10-batches-py`` sub-folder), or None."""
    folder = os.fsdecode(os.fspath(path))
    for where in (folder, os.path.join(folder, SUBFOLDER)):
        if os.path.isfile(os.path.join(where, META)) and any(
                os.path.isfile(os.path.join(where, b)) for b in TRAIN_BATCHES + TEST_BATCHES):
            return where
    return None


def _files(folder, names):
    """Paths of `names` in `folder` or in its sub-folder; ValueError listing
    the names looked for when any is missing."""
    for where in (folder, os.path.join(folder, SUBFOLDER)):
        paths = [os.path.join(where, n) for n in names]
        if all(os.path.isfile(p) for p in paths):
            return paths
    missing = [n for n in names if not any(
        os.path.isfile(os.path.join(w, n)) for w in (folder, os.path.join(folder, SUBFOLDER)))]
    raise ValueError(f"CIFAR-10 files missing in {folder!r} (and in its {SUBFOLDER!r} "
                     f"sub-folder): looked for {', '.join(names)}; missing "
                     f"{', '.join(missing) or 'none alone, but they are not together'}.")


def read_label_names(filename):
    """The class names (``label_names``) of a ``batches.meta`` file, as str."""
    meta = safe_unpickle(filename)
    try:
        names = _get(meta, "label_names")
    except (KeyError, TypeError):
        raise ValueError(f"{filename}: not a CIFAR-10 batches.meta file: no "
                         "'label_names' entry.") from None
    if not isinstance(names, (list, tuple)) or not names or not all(
            isinstance(n, (bytes, str)) for n in names):
        raise ValueError(f"{filename}: 'label_names' must be a list of strings; got "
                         f"{type(names).__name__}.")
    return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]


def read_batch(filename, n_classes):
    """uint8 rows ``(n, 3072)`` (channel-major 3x32x32, as stored) and int64
    labels ``(n,)`` of one batch file, validated."""
    batch = safe_unpickle(filename)
    try:
        data, labels = _get(batch, "data"), _get(batch, "labels")
    except (KeyError, TypeError):
        raise ValueError(f"{filename}: not a CIFAR-10 batch: it needs 'data' and 'labels' "
                         "entries.") from None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != _ROW:
        got = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
               else type(data).__name__)
        raise ValueError(f"{filename}: 'data' must be a uint8 array of shape (n, {_ROW}); "
                         f"got {got}.")
    try:
        labels = np.asarray(labels)
    except (TypeError, ValueError):
        labels = np.asarray([], dtype=object)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{filename}: 'labels' must be a list of integers; got "
                         f"{labels.dtype} values of shape {labels.shape}.")
    if len(labels) != len(data):
        raise ValueError(f"{filename} holds {len(data)} images but {len(labels)} labels; "
                         "the counts must agree.")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{filename}: labels must be in [0, {n_classes - 1}] "
                         f"({n_classes} label_names); got values in "
                         f"[{labels.min()}, {labels.max()}].")
    return data, labels.astype(np.int64)


def read_cifar10(path, subset="train"):
    """uint8 rows ``(n, 3072)`` as stored (channel-major), int64 labels, the
    class names and the batch files read, for `subset`."""
    subset = check_option(subset, "subset", ("train", "test"))
    folder = check_folder(path, "the CIFAR-10 python batches")
    names = TRAIN_BATCHES if subset == "train" else TEST_BATCHES
    files = _files(folder, names + (META,))
    label_names = read_label_names(files[-1])
    parts = [read_batch(f, len(label_names)) for f in files[:-1]]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return data, labels, label_names, tuple(files)


def rows_to_images(rows):
    """Stored CIFAR rows ``(n, 3072)`` (channel-major) to float64 images
    ``(n, 32, 32, 3)`` in [0, 1], channels last, C-contiguous."""
    images = rows.reshape(-1, _CHANNELS, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images, dtype=np.float64) / 255.0


def load_cifar10(path, *, subset="train", return_X_y=False):
    """Load CIFAR-10 from its "python version" batches in a local folder.

    Nothing is downloaded: `path` (or its ``cifar-10-batches-py``
    sub-folder, as the archive unpacks) must hold ``batches.meta`` and
    ``data_batch_1`` to ``data_batch_5`` (training) or ``test_batch``.
    These files are Python pickles; they are read with a restricted
    unpickler that builds numpy arrays and builtin containers only and
    refuses, with a ValueError, a file that asks for any other function or
    class (so an untrusted file cannot run code).

    Parameters
    ----------
    path : str or path-like
        Folder holding the batches, or the folder above
        ``cifar-10-batches-py``.
    subset : {"train", "test"}, default="train"
        The 50,000 training images (five batches) or the 10,000 test images.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With

        - ``images``: ndarray of shape (n_samples, 32, 32, 3), float64 in
          [0, 1] (bytes divided by 255), channels last (RGB);
        - ``data``: ndarray of shape (n_samples, 3072), the same pixels in
          the same order, ``images.reshape(n_samples, -1)`` (a view; the
          files store each image channel by channel, this is pixel by
          pixel);
        - ``target``: ndarray of shape (n_samples,), int64 labels;
        - ``target_names``: ndarray of shape (n_classes,), the class names
          of ``batches.meta``;
        - ``filenames``: the paths of the files read (the batches, then
          ``batches.meta``);
        - ``DESCR``: a short description.
    (data, target) : tuple of ndarray
        With `return_X_y`: ``data`` of shape (n_samples, 3072) and
        ``target`` of shape (n_samples,).

    Raises
    ------
    ValueError
        When `subset` is not one of its values, a file is missing (the
        message lists the names looked for), malformed, or asks the
        unpickler for anything but numpy arrays and builtin containers (the
        message names the file).

    See Also
    --------
    load_mnist : MNIST from its local IDX files.

    Examples
    --------
    A test batch of two images and its meta file written in a temporary
    folder, in the format of the CIFAR-10 python batches:

    >>> import os, pickle, tempfile
    >>> import numpy as np
    >>> from sparsetools.datasets import load_cifar10
    >>> folder = tempfile.mkdtemp()
    >>> rows = np.zeros((2, 3072), dtype=np.uint8)
    >>> rows[1, :1024] = 255  # the red plane of the second image
    >>> with open(os.path.join(folder, "test_batch"), "wb") as f:
    ...     pickle.dump({b"data": rows, b"labels": [3, 8], b"batch_label": b"test"}, f)
    >>> names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog",
    ...          b"horse", b"ship", b"truck"]
    >>> with open(os.path.join(folder, "batches.meta"), "wb") as f:
    ...     pickle.dump({b"label_names": names}, f)
    >>> cifar = load_cifar10(folder, subset="test")
    >>> cifar.images.shape, cifar.data.shape, cifar.target
    ((2, 32, 32, 3), (2, 3072), array([3, 8]))
    >>> cifar.images[1, 0, 0], str(cifar.target_names[cifar.target[1]])
    (array([1., 0., 0.]), 'ship')
    >>> import shutil; shutil.rmtree(folder)
    """
    from sklearn.utils import Bunch

    return_X_y = check_bool(return_X_y, "return_X_y")
    rows, target, label_names, files = read_cifar10(path, subset)
    images = rows_to_images(rows)
    data = images.reshape(len(images), -1)
    if return_X_y:
        return data, target
    descr = (f"CIFAR-10 python batches ({subset} subset) read from {os.fspath(path)}: "
             f"{len(images)} color images of 32x32 pixels, RGB channels last, in [0, 1] "
             f"(bytes / 255), {len(label_names)} classes: {', '.join(label_names)}.")
    return Bunch(images=images, data=data, target=target,
                 target_names=np.asarray(label_names), filenames=files, DESCR=descr)
