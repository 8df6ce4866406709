"""MNIST and Fashion-MNIST from local IDX files (nothing is downloaded)."""
import gzip
import os

import numpy as np

from sparsetools.utils._validation import check_bool, check_option

__all__ = ["load_mnist"]

_PREFIX = {"train": "train", "test": "t10k"}
# IDX type codes -> (numpy big-endian dtype); MNIST files hold unsigned bytes.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _candidates(subset, kind):
    """File names tried, in order, for the images (``kind="images"``, idx3)
    or labels (``kind="labels"``, idx1) of a subset."""
    prefix = _PREFIX[subset]
    ndim = 3 if kind == "images" else 1
    names = []
    for stem in (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"):
        names += [stem, stem + ".gz"]
    return names


def _find(folder, names):
    """The first of `names` that is a file in `folder` (or in its ``raw``
    sub-folder, torchvision's layout); None when none is."""
    for where in (folder, os.path.join(folder, "raw")):
        for name in names:
            candidate = os.path.join(where, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def check_folder(path, what):
    """`path` as a str naming an existing folder; TypeError / ValueError
    naming the parameter otherwise (`what` says what the folder holds)."""
    try:
        folder = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a str or path-like naming a folder; got "
                        f"{type(path).__name__}.") from None
    if not os.path.isdir(folder):
        raise ValueError(f"path must be a folder holding {what}; got {folder!r}, which "
                         f"is not a folder.")
    return folder


def mnist_files(path, subset="train"):
    """Paths of the images and labels files of `subset` in the folder `path`.

    Raises ValueError listing the names looked for when either is missing.
    """
    folder = check_folder(path, "the MNIST IDX files")
    found = []
    for kind in ("images", "labels"):
        names = _candidates(subset, kind)
        hit = _find(folder, names)
        if hit is None:
            raise ValueError(f"no MNIST {subset} {kind} file in {folder!r} (nor in its "
                             f"'raw' sub-folder); looked for {', '.join(names)}.")
        found.append(hit)
    return tuple(found)


def read_idx(filename, *, ndim, magic_name):
    """Read one IDX file of unsigned bytes (plain or gzip) into a uint8 array.

    Checks the two zero bytes of the magic number, the type code (0x08,
    unsigned byte), the number of dimensions (`ndim`), that no dimension
    is zero, and that the file holds exactly the values its header
    announces. Raises ValueError naming the file otherwise.
    """
    name = os.fspath(filename)
    try:
        if name.endswith(".gz"):
            with gzip.open(name, "rb") as fh:
                raw = fh.read()
        else:
            with open(name, "rb") as fh:
                raw = fh.read()
    except (OSError, EOFError) as exc:  # gzip's BadGzipFile is an OSError
        raise ValueError(f"{name}: cannot be read as an IDX {magic_name} file "
                         f"({type(exc).__name__}: {exc}).") from None
    if len(raw) < 4:
        raise ValueError(f"{name}: truncated: {len(raw)} bytes, shorter than the 4-byte "
                         "IDX magic number.")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{name}: bad magic number 0x{raw[:4].hex()}: an IDX file starts "
                         f"with two zero bytes (MNIST {magic_name}: "
                         f"0x0000080{ndim}).")
    code, file_ndim = raw[2], raw[3]
    if code != 0x08:
        kind = _IDX_TYPES.get(code, "unknown")
        raise ValueError(f"{name}: bad magic number 0x{raw[:4].hex()}: type code "
                         f"0x{code:02x} ({kind}), expected 0x08 (unsigned byte).")
    if file_ndim != ndim:
        raise ValueError(f"{name}: bad magic number 0x{raw[:4].hex()}: {file_ndim} "
                         f"dimension(s), expected {ndim} for {magic_name}.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated: {len(raw)} bytes, shorter than its "
                         f"{header}-byte header.")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if any(d == 0 for d in dims):
        raise ValueError(f"{name}: bad dimensions {dims}: a dimension is zero.")
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "too long"
        raise ValueError(f"{name}: {what}: the header announces dimensions {dims}, "
                         f"{expected} bytes in all, but the file has {len(raw)}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_mnist(path, subset="train"):
    """uint8 images ``(n, h, w)``, uint8 labels ``(n,)`` and the two file
    paths of `subset` in the folder `path`, validated (see `load_mnist`)."""
    subset = check_option(subset, "subset", ("train", "test"))
    images_file, labels_file = mnist_files(path, subset)
    images = read_idx(images_file, ndim=3, magic_name="images")
    labels = read_idx(labels_file, ndim=1, magic_name="labels")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_file} holds {images.shape[0]} images but "
                         f"{labels_file} holds {labels.shape[0]} labels; the counts "
                         "must agree.")
    return images, labels, (images_file, labels_file)


def load_mnist(path, *, subset="train", return_X_y=False):
    """Load MNIST (or Fashion-MNIST) from its IDX files in a local folder.

    Nothing is downloaded: the folder `path` must hold the files of
    `subset`, ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``,
    or ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each
    plain or gzipped (``.gz``), also under the names with a dot
    (``train-images.idx3-ubyte``) found in some copies, and also in a
    ``raw`` sub-folder (torchvision's layout). Fashion-MNIST and other
    copies in the same format load the same way.

    Every file is checked: its magic number (two zero bytes, type code 0x08
    for unsigned bytes, 3 dimensions for images, 1 for labels), that its
    size is what its header announces, and that images and labels are as
    many.

    Parameters
    ----------
    path : str or path-like
        Folder holding the IDX files.
    subset : {"train", "test"}, default="train"
        The 60,000 training images (``train-*``) or the 10,000 test images
        (``t10k-*``).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With

        - ``images``: ndarray of shape (n_samples, 28, 28), float64 in
          [0, 1] (bytes divided by 255);
        - ``data``: ndarray of shape (n_samples, 784), the same pixels, a
          view of ``images`` with each image flattened row by row;
        - ``target``: ndarray of shape (n_samples,), int64 labels;
        - ``filenames``: the paths of the images and labels files read;
        - ``DESCR``: a short description.

        Images of other sizes in IDX files (``(n, h, w)``) load the same way.
    (data, target) : tuple of ndarray
        With `return_X_y`: ``data`` of shape (n_samples, 784) and
        ``target`` of shape (n_samples,).

    Raises
    ------
    ValueError
        When `subset` is not one of its values, a file is missing (the
        message lists the names looked for) or malformed (the message names
        the file and what is wrong).

    See Also
    --------
    load_cifar10 : CIFAR-10 from its local python batches.

    Examples
    --------
    Two 28x28 images written in the IDX format into a temporary folder, as
    MNIST's training files:

    >>> import gzip, os, tempfile
    >>> import numpy as np
    >>> from sparsetools.datasets import load_mnist
    >>> folder = tempfile.mkdtemp()
    >>> pixels = np.zeros((2, 28, 28), dtype=np.uint8)
    >>> pixels[1, 10:18, 12:16] = 255
    >>> with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 3]) + np.array([2, 28, 28], ">u4").tobytes()
    ...                 + pixels.tobytes())
    >>> with open(os.path.join(folder, "train-labels-idx1-ubyte"), "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1]) + np.array([2], ">u4").tobytes() + bytes([7, 3]))
    >>> mnist = load_mnist(folder)
    >>> mnist.images.shape, mnist.data.shape, mnist.target
    ((2, 28, 28), (2, 784), array([7, 3]))
    >>> float(mnist.images[1].max()), float(mnist.images[1].sum())
    (1.0, 32.0)
    >>> import shutil; shutil.rmtree(folder)
    """
    from sklearn.utils import Bunch

    return_X_y = check_bool(return_X_y, "return_X_y")
    raw_images, raw_labels, files = read_mnist(path, subset)
    images = raw_images.astype(np.float64) / 255.0
    data = images.reshape(len(images), -1)
    target = raw_labels.astype(np.int64)
    if return_X_y:
        return data, target
    n, h, w = images.shape
    descr = (f"MNIST-format IDX files ({subset} subset) read from {os.fspath(path)}: "
             f"{n} gray images of {h}x{w} pixels in [0, 1] (bytes / 255), labels "
             f"{sorted(int(v) for v in np.unique(target))}.")
    return Bunch(images=images, data=data, target=target, filenames=files, DESCR=descr)
