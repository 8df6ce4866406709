"""Tests of the local MNIST (IDX) and CIFAR-10 (python batches) loaders, on tiny
files written here: exact pixels, labels and layouts, and every malformed case."""
import doctest
import gzip
import os
import pickle

import numpy as np
import pytest

from sparsetools.datasets import load_cifar10, load_mnist
from sparsetools.datasets import _cifar, _mnist

# ------------------------------------------------------------------ MNIST


def idx_bytes(array, *, code=0x08, ndim=None, dims=None):
    """An IDX file's bytes for a uint8 array (header fields overridable)."""
    array = np.asarray(array, dtype=np.uint8)
    ndim = array.ndim if ndim is None else ndim
    dims = array.shape if dims is None else dims
    return (bytes([0, 0, code, ndim]) + np.asarray(dims, dtype=">u4").tobytes()
            + array.tobytes())


def write(path, content, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wb") as fh:
        fh.write(content)
    return path


def mnist_arrays(n, seed, side=28):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, side, side), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.uint8))


@pytest.fixture
def mnist_dir(tmp_path):
    """Training files gzipped with the usual names, test files plain with the
    dotted names."""
    train, test = mnist_arrays(5, 0), mnist_arrays(3, 1)
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(train[0]), gz=True)
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(train[1]), gz=True)
    write(tmp_path / "t10k-images.idx3-ubyte", idx_bytes(test[0]))
    write(tmp_path / "t10k-labels.idx1-ubyte", idx_bytes(test[1]))
    return tmp_path, train, test


def test_load_mnist_reads_exact_pixels_and_labels(mnist_dir):
    folder, (X, y), (Xt, yt) = mnist_dir
    bunch = load_mnist(folder)
    assert bunch.images.shape == (5, 28, 28) and bunch.images.dtype == np.float64
    np.testing.assert_array_equal(bunch.images * 255.0, X.astype(np.float64))
    np.testing.assert_array_equal(bunch.data, bunch.images.reshape(5, 784))
    assert np.shares_memory(bunch.data, bunch.images)
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(bunch.target, y)
    assert bunch.images.min() >= 0.0 and bunch.images.max() <= 1.0
    assert bunch.filenames[0].endswith("train-images-idx3-ubyte.gz")
    assert "28x28" in bunch.DESCR and "train" in bunch.DESCR
    data, target = load_mnist(str(folder), subset="test", return_X_y=True)
    np.testing.assert_array_equal(data, Xt.reshape(3, 784) / 255.0)
    np.testing.assert_array_equal(target, yt)
    assert data[0, 28] == Xt[0, 1, 0] / 255.0   # row-major: pixel (1, 0) is feature 28


def test_load_mnist_prefers_plain_files_and_reads_torchvision_raw_folder(tmp_path):
    X, y = mnist_arrays(4, 2)
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw / "train-images-idx3-ubyte", idx_bytes(X))
    write(raw / "train-images-idx3-ubyte.gz", idx_bytes(X[:2]), gz=True)
    write(raw / "train-labels-idx1-ubyte", idx_bytes(y))
    bunch = load_mnist(tmp_path)
    assert bunch.images.shape == (4, 28, 28)
    np.testing.assert_array_equal(bunch.target, y)


def test_load_mnist_reads_other_image_sizes(tmp_path):
    X, y = mnist_arrays(2, 3, side=5)
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(X[:, :, :4]))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(y))
    bunch = load_mnist(tmp_path, subset="test")
    assert bunch.images.shape == (2, 5, 4) and bunch.data.shape == (2, 20)
    np.testing.assert_array_equal(bunch.images * 255, X[:, :, :4])


def _mnist_error(tmp_path, images=None, labels=None, gz=False):
    X, y = mnist_arrays(3, 4)
    suffix = ".gz" if gz else ""
    write(tmp_path / f"train-images-idx3-ubyte{suffix}",
          idx_bytes(X) if images is None else images, gz=gz)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(y) if labels is None else labels)
    with pytest.raises(ValueError) as exc:
        load_mnist(tmp_path)
    return str(exc.value)


@pytest.mark.parametrize("case, words", [
    ("labels-as-images", ["train-images-idx3-ubyte", "bad magic number 0x00000801",
                          "1 dimension(s), expected 3"]),
    ("not-idx", ["train-images-idx3-ubyte", "bad magic number 0x89504e47",
                 "two zero bytes"]),
    ("int-type", ["bad magic number 0x00000c03", "type code 0x0c", "unsigned byte"]),
    ("truncated", ["train-images-idx3-ubyte", "truncated", "dimensions (3, 28, 28)",
                   "2368 bytes", "has 2367"]),
    ("too-long", ["too long", "has 2369"]),
    ("short-header", ["truncated", "16-byte header"]),
    ("tiny", ["truncated", "4-byte IDX magic number"]),
    ("zero-dim", ["bad dimensions (3, 0, 28)"]),
])
def test_load_mnist_rejects_malformed_images_files(tmp_path, case, words):
    X, y = mnist_arrays(3, 4)
    good = idx_bytes(X)
    images = {"labels-as-images": idx_bytes(y),
              "not-idx": b"\x89PNG\r\n\x1a\n" + good[8:],
              "int-type": idx_bytes(X, code=0x0C),
              "truncated": good[:-1],
              "too-long": good + b"\x00",
              "short-header": good[:10],
              "tiny": good[:3],
              "zero-dim": idx_bytes(np.zeros((3, 0, 28)), dims=(3, 0, 28))}[case]
    message = _mnist_error(tmp_path, images=images)
    for w in words:
        assert w in message


def test_load_mnist_rejects_count_mismatch_and_bad_gzip(tmp_path):
    X, y = mnist_arrays(3, 5)
    message = _mnist_error(tmp_path, labels=idx_bytes(y[:2]))
    assert "holds 3 images" in message and "2 labels" in message
    assert "counts must agree" in message
    # a gzip file cut short: named, and said to be unreadable
    (tmp_path / "train-images-idx3-ubyte").unlink()
    blob = gzip.compress(idx_bytes(X))
    write(tmp_path / "train-images-idx3-ubyte.gz", blob[:len(blob) // 2])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: cannot be read"):
        load_mnist(tmp_path)
    # a truncated file inside an intact gzip stream: the size check still applies
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(X)[:-28], gz=True)
    with pytest.raises(ValueError, match=r"\.gz: truncated"):
        load_mnist(tmp_path)


def test_load_mnist_lists_the_names_it_looked_for(tmp_path):
    X, y = mnist_arrays(2, 6)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(X))
    with pytest.raises(ValueError) as exc:
        load_mnist(tmp_path)
    message = str(exc.value)
    for name in ("train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz",
                 "train-labels.idx1-ubyte", "train-labels.idx1-ubyte.gz"):
        assert name in message
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(tmp_path, subset="test")


def test_load_mnist_validates_its_parameters(tmp_path):
    with pytest.raises(ValueError, match="subset must be one of 'train', 'test'; got 'val'"):
        load_mnist(tmp_path, subset="val")
    with pytest.raises(ValueError, match="path must be a folder.*not a folder"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="path must be a str or path-like"):
        load_mnist(3)
    with pytest.raises(TypeError, match="return_X_y must be a bool"):
        load_mnist(tmp_path, return_X_y="yes")


# --------------------------------------------------------------- CIFAR-10

NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
         b"ship", b"truck"]


def pickle_to(path, obj, protocol=2):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)
    return path


def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            [int(v) for v in rng.integers(0, 10, n)])


@pytest.fixture
def cifar_dir(tmp_path):
    """Five training batches of 2-3 images and a test batch, in the archive's
    sub-folder, pickled at protocols 2 (as the Python 2 originals) to 5."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = []
    for i in range(1, 6):
        data, labels = cifar_batch(2 + i % 2, i)
        pickle_to(folder / f"data_batch_{i}",
                  {b"batch_label": f"training batch {i} of 5".encode(), b"data": data,
                   b"labels": labels, b"filenames": [b"x.png"] * len(labels)},
                  protocol=2 + (i % 4))
        batches.append((data, labels))
    test = cifar_batch(4, 9)
    pickle_to(folder / "test_batch", {b"batch_label": b"testing batch 1 of 1",
                                      b"data": test[0], b"labels": test[1]})
    pickle_to(folder / "batches.meta", {b"label_names": NAMES, b"num_cases_per_batch": 3,
                                        b"num_vis": 3072})
    return tmp_path, batches, test


def test_load_cifar10_reads_exact_pixels_channels_last(cifar_dir):
    root, batches, (Xt, yt) = cifar_dir
    bunch = load_cifar10(root)
    rows = np.concatenate([b[0] for b in batches])
    n = len(rows)
    assert n == 3 + 2 + 3 + 2 + 3
    assert bunch.images.shape == (n, 32, 32, 3) and bunch.images.dtype == np.float64
    # stored channel-major: value c*1024 + i*32 + j is channel c of pixel (i, j)
    for k, (c, i, j) in enumerate([(0, 0, 0), (1, 0, 0), (2, 31, 31), (1, 5, 17)]):
        assert bunch.images[k, i, j, c] * 255 == rows[k, c * 1024 + i * 32 + j]
    np.testing.assert_array_equal(bunch.images * 255,
                                  rows.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(bunch.data, bunch.images.reshape(n, -1))
    assert bunch.data[0, :3].tolist() == [rows[0, 0] / 255, rows[0, 1024] / 255,
                                          rows[0, 2048] / 255]  # R, G, B of pixel (0, 0)
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(bunch.target, sum((b[1] for b in batches), []))
    assert list(bunch.target_names) == [s.decode() for s in NAMES]
    assert len(bunch.filenames) == 6 and bunch.filenames[-1].endswith("batches.meta")
    assert "10 classes" in bunch.DESCR
    data, target = load_cifar10(root / "cifar-10-batches-py", subset="test",
                                return_X_y=True)
    np.testing.assert_array_equal(data * 255, Xt.reshape(4, 3, 32, 32)
                                  .transpose(0, 2, 3, 1).reshape(4, -1))
    np.testing.assert_array_equal(target, yt)


def test_load_cifar10_accepts_str_keys_and_numpy_labels(tmp_path):
    data, labels = cifar_batch(3, 1)
    pickle_to(tmp_path / "test_batch", {"data": data, "labels": np.asarray(labels)},
              protocol=4)
    pickle_to(tmp_path / "batches.meta", {"label_names": [s.decode() for s in NAMES]})
    bunch = load_cifar10(tmp_path, subset="test")
    np.testing.assert_array_equal(bunch.target, labels)


class _Evil:
    """Pickles to a call of os.system: the attack a restricted unpickler stops."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_load_cifar10_refuses_a_malicious_pickle(tmp_path):
    marker = tmp_path / "pwned"
    data, labels = cifar_batch(2, 0)
    pickle_to(tmp_path / "test_batch", {b"data": data, b"labels": labels,
                                        b"batch_label": _Evil(marker)})
    pickle_to(tmp_path / "batches.meta", {b"label_names": NAMES})
    with pytest.raises(ValueError, match=r"test_batch: refused to unpickle (posix|nt)\.system"):
        load_cifar10(tmp_path, subset="test")
    assert not marker.exists()
    # the plain unpickler would have run it: the test's pickle is a real attack
    with open(tmp_path / "test_batch", "rb") as fh:
        pickle.load(fh)
    assert marker.exists()
    # a class that is no numpy array, even a harmless one, is refused as well
    pickle_to(tmp_path / "batches.meta", {b"label_names": NAMES,
                                          b"extra": __import__("collections").OrderedDict()})
    with pytest.raises(ValueError, match=r"batches.meta: refused to unpickle "
                                         r"collections.OrderedDict"):
        load_cifar10(tmp_path, subset="test")


@pytest.mark.parametrize("case, words", [
    ("truncated", ["test_batch", "truncated or malformed"]),
    ("not-a-pickle", ["test_batch", "truncated or malformed"]),
    ("no-data", ["test_batch", "needs 'data' and 'labels'"]),
    ("float-data", ["'data' must be a uint8 array of shape (n, 3072)", "float64"]),
    ("wrong-width", ["'data' must be a uint8 array", "shape (2, 1024)"]),
    ("count", ["holds 2 images but 3 labels", "counts must agree"]),
    ("label-range", ["labels must be in [0, 9]", "[0, 10]"]),
    ("text-labels", ["'labels' must be a list of integers"]),
])
def test_load_cifar10_rejects_malformed_batches(tmp_path, case, words):
    data, labels = cifar_batch(2, 3)
    good = {b"data": data, b"labels": labels}
    path = tmp_path / "test_batch"
    if case == "truncated":
        blob = pickle.dumps(good, protocol=2)
        path.write_bytes(blob[:len(blob) // 2])
    elif case == "not-a-pickle":
        path.write_bytes(b"\x00\x01 not a pickle")
    else:
        pickle_to(path, {"no-data": {b"labels": labels},
                         "float-data": {b"data": data / 255.0, b"labels": labels},
                         "wrong-width": {b"data": data[:, :1024], b"labels": labels},
                         "count": {b"data": data, b"labels": labels + [1]},
                         "label-range": {b"data": data, b"labels": [0, 10]},
                         "text-labels": {b"data": data, b"labels": [b"cat", b"dog"]},
                         }[case])
    pickle_to(tmp_path / "batches.meta", {b"label_names": NAMES})
    with pytest.raises(ValueError) as exc:
        load_cifar10(tmp_path, subset="test")
    for w in words:
        assert w in str(exc.value)


def test_load_cifar10_missing_files_and_parameters(tmp_path):
    data, labels = cifar_batch(2, 3)
    pickle_to(tmp_path / "data_batch_1", {b"data": data, b"labels": labels})
    pickle_to(tmp_path / "batches.meta", {b"label_names": NAMES})
    with pytest.raises(ValueError) as exc:
        load_cifar10(tmp_path)
    message = str(exc.value)
    assert "looked for data_batch_1, data_batch_2" in message and "batches.meta" in message
    assert "missing data_batch_2, data_batch_3, data_batch_4, data_batch_5" in message
    with pytest.raises(ValueError, match="missing test_batch"):
        load_cifar10(tmp_path, subset="test")
    pickle_to(tmp_path / "test_batch", {b"data": data, b"labels": labels})
    pickle_to(tmp_path / "batches.meta", {b"names": NAMES})
    with pytest.raises(ValueError, match="batches.meta file: no 'label_names'"):
        load_cifar10(tmp_path, subset="test")
    with pytest.raises(ValueError, match="subset must be one of 'train', 'test'; got 'all'"):
        load_cifar10(tmp_path, subset="all")
    with pytest.raises(ValueError, match="path must be a folder"):
        load_cifar10(tmp_path / "test_batch")
    with pytest.raises(TypeError, match="return_X_y must be a bool"):
        load_cifar10(tmp_path, subset="test", return_X_y=1)


@pytest.mark.parametrize("module", [_mnist, _cifar])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0
