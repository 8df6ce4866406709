"""What the presets share: data splits (bundled digits, or local MNIST / CIFAR-10
given by ``--data``) and quickly trained classifiers."""
import functools
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Split", "data_help", "detect_data", "digits_split", "load_split", "train_mlp",
           "train_svm"]

#: Display names of the local data kinds that `detect_data` recognises.
KINDS = {"mnist": "MNIST", "cifar10": "CIFAR-10"}


def digits_split(quick, random_state):
    """scikit-learn's digits in [0, 1], half for training (stratified), and
    300 test images (40 with `quick`)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.5, random_state=random_state, stratify=y)
    n_test = 40 if quick else 300
    return X_train, X_test[:n_test], y_train, y_test[:n_test]


@dataclass
class Split:
    """A preset's data: rows of flattened images (channels last) in [0, 1],
    their labels, the image shape and a description for the report's meta."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    kind: str = "digits"
    meta: dict = field(default_factory=dict)

    def __iter__(self):  # X_train, X_test, y_train, y_test = split
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def describe(self):
        """One line for the log: what data, how many images, which shape."""
        side = "x".join(map(str, self.image_shape))
        return (f"{self.meta['name']}: {len(self.X_train)} training, {len(self.X_test)} "
                f"test images {side}")


def detect_data(path):
    """The kind of local data in the folder `path`: ``"mnist"`` when it holds
    MNIST-format IDX files of both subsets (see `load_mnist`), ``"cifar10"``
    when it holds CIFAR-10 python batches (see `load_cifar10`); ValueError
    naming `data` and what was looked for otherwise."""
    from sparsetools.datasets._cifar import cifar10_folder
    from sparsetools.datasets._mnist import check_folder, mnist_files

    try:
        folder = check_folder(path, "MNIST IDX files or CIFAR-10 python batches")
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"data: {exc}") from None
    try:
        mnist_files(folder, "train")
        mnist_files(folder, "test")
        return "mnist"
    except ValueError as exc:
        mnist_error = str(exc)
    if cifar10_folder(folder) is not None:
        return "cifar10"
    raise ValueError(
        f"data: {folder!r} holds neither MNIST nor CIFAR-10. MNIST needs the IDX files "
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
        f"t10k-labels-idx1-ubyte, plain or .gz ({mnist_error}) CIFAR-10 needs the "
        "python batches batches.meta, data_batch_1 to data_batch_5 and test_batch, in "
        "the folder or in its cifar-10-batches-py sub-folder.")


def _draw(n_total, n, rng):
    """Sorted indices of `n` of `n_total` items drawn without replacement
    (all of them when there are not more)."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, n, replace=False))


def load_split(data, *, sizes, quick, random_state, preset):
    """A preset's data: the bundled digits when `data` is None, otherwise
    the local MNIST or CIFAR-10 folder `data`, subsampled.

    Parameters
    ----------
    data : str, path-like or None
        None: :func:`digits_split`. A folder: its kind is detected
        (`detect_data`) and must be a key of `sizes`.
    sizes : dict
        ``kind -> {"full": (n_train, n_test), "quick": (n_train, n_test)}``:
        how many training images (drawn from the training files) and test
        images (drawn from the test files) the preset uses, seeded by
        `random_state`.
    quick : bool
    random_state : int
    preset : str
        For the messages.

    Returns
    -------
    split : Split
        ``meta`` says the data's name, source, folder, files, image shape,
        numbers of images, and how they were drawn.
    """
    if data is None:
        X_train, X_test, y_train, y_test = digits_split(quick, random_state)
        meta = {"name": "scikit-learn digits", "source": "sklearn.datasets.load_digits "
                "(bundled): a stratified half for training, test images from the other half",
                "image_shape": [8, 8], "n_train": len(X_train), "n_test": len(X_test)}
        return Split(X_train, X_test, y_train, y_test, (8, 8), "digits", meta)
    kind = detect_data(data)
    if kind not in sizes:
        takes = " or ".join(KINDS[k] for k in sizes)
        others = [n for n, ks in _LOCAL_SUPPORT.items() if kind in ks]
        raise ValueError(f"data: preset {preset} runs on {takes}; {os.fspath(data)!r} "
                         f"holds {KINDS[kind]}"
                         + (f" (which {', '.join(others)} takes)." if others else "."))
    n_train, n_test = sizes[kind]["quick" if quick else "full"]
    rng = np.random.default_rng(random_state)
    folder = os.path.abspath(os.fsdecode(os.fspath(data)))
    if kind == "mnist":
        from sparsetools.datasets._mnist import read_mnist

        parts = [read_mnist(folder, s) for s in ("train", "test")]
        rows = [p[0].reshape(len(p[0]), -1) for p in parts]
        image_shape = parts[0][0].shape[1:]
        if parts[1][0].shape[1:] != image_shape:
            raise ValueError(f"data: the training images are {image_shape} but the test "
                             f"images {parts[1][0].shape[1:]} in {folder!r}.")
        labels = [p[1].astype(np.int64) for p in parts]
        files = [f for p in parts for f in p[2]]
        name, source = "MNIST", "local MNIST-format IDX files (MNIST or Fashion-MNIST)"

        def to_float(r):
            return r.astype(np.float64) / 255.0
    else:
        from sparsetools.datasets._cifar import read_cifar10, rows_to_images

        parts = [read_cifar10(folder, s) for s in ("train", "test")]
        rows = [p[0] for p in parts]
        labels = [p[1] for p in parts]
        files = [f for p in parts for f in p[3]]
        image_shape = (32, 32, 3)
        name, source = "CIFAR-10", "local CIFAR-10 python batches, RGB channels last"

        def to_float(r):
            return rows_to_images(r).reshape(len(r), -1)
    picks = [_draw(len(rows[0]), n_train, rng), _draw(len(rows[1]), n_test, rng)]
    X_train, X_test = (to_float(r[i]) for r, i in zip(rows, picks))
    y_train, y_test = (lab[i] for lab, i in zip(labels, picks))
    if len(np.unique(y_train)) < 2:
        raise ValueError(f"data: the {len(y_train)} training images drawn from {folder!r} "
                         "have a single class; a classifier needs two or more.")
    meta = {"name": name, "source": source, "path": folder, "files": files,
            "image_shape": list(image_shape), "n_train": len(X_train), "n_test": len(X_test),
            "n_train_available": len(rows[0]), "n_test_available": len(rows[1]),
            "draw": f"seeded (random_state={random_state}) draw without replacement"}
    return Split(X_train, X_test, y_train, y_test, tuple(image_shape), kind, meta)


#: preset -> the local data kinds it takes with ``--data`` (filled by the presets'
#: `register_sizes`), and their numbers of images.
_LOCAL_SUPPORT = {}
_LOCAL_SIZES = {}


def register_sizes(preset, sizes):
    """Record which local data `preset` takes and how many images (for
    messages and the command's help); returns `sizes`."""
    _LOCAL_SUPPORT[preset] = tuple(sizes)
    _LOCAL_SIZES[preset] = sizes
    return sizes


def data_help(preset):
    """A phrase for the help: what ``--data`` does for `preset`."""
    sizes = _LOCAL_SIZES.get(preset)
    if not sizes:
        return "takes no --data: its data ships with the dependencies"
    parts = []
    for kind, s in sizes.items():
        (tr, te), (qtr, qte) = s["full"], s["quick"]
        parts.append(f"{KINDS[kind]}, {tr} training / {te} test images, "
                     f"{qtr} / {qte} with --quick")
    return "--data: " + "; or ".join(parts)


def train_mlp(X, y, quick, random_state, hidden=64, max_iter=None):
    """An MLPClassifier of one hidden layer; `max_iter` epochs at most
    (None: 200 with `quick`, 1000 otherwise)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    if max_iter is None:
        max_iter = 200 if quick else 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # quick runs stop early
        return MLPClassifier((hidden,), max_iter=max_iter,
                             random_state=random_state).fit(X, y)


def train_svm(X, y):
    """A LinearSVC (C=1); on MNIST's 784 pixels liblinear may stop at its
    5000 iterations before its tolerance, which is not worth a warning."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LinearSVC(C=1.0, max_iter=5000).fit(X, y)


@functools.cache
def _channels_first():
    """A torch module from channels-last image batches ``(n, h, w, c)`` to
    NCHW (built on first use: torch is optional)."""
    import torch

    class ChannelsFirst(torch.nn.Module):
        def forward(self, x):
            return x.permute(0, 3, 1, 2)

    return ChannelsFirst


def image_convnet(image_shape, n_classes, width=16):
    """:func:`~sparsetools.evaluation._models.convnet` for rows of images of
    `image_shape`, and the input shape to train it with: ``(1, h, w)`` for
    gray images; for color ones ``(h, w, c)``, the rows' own layout, with a
    first layer that permutes it to channels first."""
    import torch

    from sparsetools.evaluation._models import convnet

    net = convnet(image_shape, n_classes, width=width)
    if len(image_shape) == 2:
        return net, (1,) + tuple(image_shape)
    return torch.nn.Sequential(_channels_first()(), *net), tuple(image_shape)
