"""Train paper 002's MLP or ConvNet, or a small ResNet, and export it.

Run from the repository root after ``pip install ".[torch]"`` (``.[torch,onnx]``
for ``.onnx`` files), e.g.::

    python classifiers/paper_networks.py --net convnet --out convnet.pt2 convnet.onnx
    python classifiers/paper_networks.py --net resnet --dataset lfw
    python classifiers/paper_networks.py --net mlp --dataset mnist --data ~/data/mnist

Data: scikit-learn's digits (8x8, default; half for training, stratified),
scikit-image's LFW subset (25x25, faces against non-faces, half for
training), or a local MNIST / CIFAR-10 copy given by ``--data`` (its
training and test files; ``--max-train`` / ``--max-test`` draw seeded
subsets). Images are floats in [0, 1]. The networks are those of
``sparsetools.torch`` (``MLP`` and ``ConvNet``: paper 002's Table 3;
``ResNet``: ResNet-``6n+2``), trained by ``sparsetools.torch.train_classifier``
(Adam, seeded). Each ``--out`` file (``.pt``: TorchScript, ``.pt2``:
``torch.export``, ``.onnx``: ONNX, all with a dynamic batch axis) is
loaded back through ``sparsetools.torch.ExportedClassifier`` and its test
predictions are compared with the trained network's.

The exported models take rows of the dataset's images flattened (``64`` values
for digits); ``input_shape`` for ``ExportedClassifier`` is printed:
``(n_pixels,)`` for the MLP, ``(1, h, w)`` for grey images and ``(h, w, 3)`` for
colour ones (the network then permutes to NCHW itself).
"""
import argparse
import time

import numpy as np

NETS = ("mlp", "convnet", "resnet")
DATASETS = ("digits", "lfw", "mnist", "cifar10")
#: Per network: epochs, learning rate (Adam), mini-batch size.
DEFAULTS = {"mlp": (30, 1e-3, 32), "convnet": (30, 1e-3, 32), "resnet": (20, 1e-2, 64)}


def load_data(dataset="digits", data=None, *, seed=0, max_train=None, max_test=None):
    """Training and test rows of a dataset, in [0, 1].

    Returns
    -------
    X_train, X_test : ndarray of shape (n, h * w * c)
    y_train, y_test : ndarray of shape (n,)
    image_shape : tuple of int
        ``(h, w)`` or ``(h, w, c)``.
    """
    from sklearn.model_selection import train_test_split

    if dataset in ("digits", "lfw"):
        if data is not None:
            raise SystemExit(f"--data is for mnist and cifar10; {dataset} ships with "
                             "the dependencies.")
        if dataset == "digits":
            from sklearn.datasets import load_digits

            images, y = load_digits(return_X_y=True)
            images = images.reshape(-1, 8, 8) / 16.0
        else:
            from skimage.data import lfw_subset

            images = lfw_subset()
            y = np.repeat([1, 0], len(images) // 2)  # faces first, then non-faces
        X_train, X_test, y_train, y_test = train_test_split(
            images.reshape(len(images), -1), y, test_size=0.5, random_state=seed, stratify=y)
        image_shape = images.shape[1:]
    else:
        if data is None:
            raise SystemExit(f"--dataset {dataset} needs --data PATH, a local copy "
                             "(nothing is downloaded).")
        if dataset == "mnist":
            from sparsetools.datasets import load_mnist as load
        else:
            from sparsetools.datasets import load_cifar10 as load
        train, test = load(data, subset="train"), load(data, subset="test")
        rng = np.random.default_rng(seed)
        parts = []
        for bunch, most in ((train, max_train), (test, max_test)):
            images, y = np.asarray(bunch.images), np.asarray(bunch.target)
            if most is not None and most < len(y):
                keep = np.sort(rng.choice(len(y), most, replace=False))
                images, y = images[keep], y[keep]
            parts.append((images.reshape(len(images), -1), y))
        (X_train, y_train), (X_test, y_test) = parts
        image_shape = tuple(train.images.shape[1:])
    return (X_train.astype(np.float32), X_test.astype(np.float32), y_train, y_test,
            tuple(image_shape))


def build(net, image_shape, n_classes, *, input_dropout=None, width=None, depth=20):
    """The network and the ``input_shape`` its rows reshape to.

    `input_dropout` replaces the first dropout rate of Table 3 (0.5 before
    the MLP's and the ConvNet's first layer); `width` the ConvNet's (32) or
    the ResNet's (16) first channels.
    """
    from sparsetools.torch import MLP, ChannelsLast, ConvNet, ResNet

    h, w = image_shape[:2]
    c = image_shape[2] if len(image_shape) == 3 else 1
    if net == "mlp":
        dropout = (0.5 if input_dropout is None else input_dropout, 0.2)
        return MLP((h * w * c,), n_classes, dropout=dropout), (h * w * c,)
    if net == "convnet":
        dropout = (0.5 if input_dropout is None else input_dropout, 0.25, 0.25, 0.5)
        module = ConvNet((c, h, w), n_classes, width=width or 32, dropout=dropout)
    else:
        module = ResNet((c, h, w), n_classes, depth=depth, width=width or 16)
    if c == 1:
        return module, (1, h, w)
    return ChannelsLast(module), (h, w, c)


def train(net, X_train, y_train, image_shape, *, epochs=None, lr=None, batch_size=None,
          seed=0, input_dropout=None, width=None, depth=20):
    """Build and train a network; returns the fitted ``ExportedClassifier``
    (its ``model`` the trained module) and the ``input_shape``."""
    from sparsetools.torch import train_classifier

    d_epochs, d_lr, d_batch = DEFAULTS[net]
    module, input_shape = build(net, image_shape, len(np.unique(y_train)),
                                input_dropout=input_dropout, width=width, depth=depth)
    clf = train_classifier(module, X_train, y_train, input_shape,
                           epochs=d_epochs if epochs is None else epochs,
                           lr=d_lr if lr is None else lr,
                           batch_size=d_batch if batch_size is None else batch_size,
                           random_state=seed)
    return clf, input_shape


def export(clf, paths, X_test, y_test, input_shape):
    """Write `clf.model` to each path and score the loaded files on the test
    rows: ``{path: (accuracy, fraction of predictions equal to clf's)}``."""
    from sparsetools.torch import ExportedClassifier, export_model

    direct = clf.predict(X_test)
    result = {}
    for path in paths:
        export_model(clf.model, path, input_shape=input_shape)
        loaded = ExportedClassifier(path, input_shape=input_shape,
                                    classes=clf.classes_).fit(X_test[:2], y_test[:2])
        pred = loaded.predict(X_test)
        result[path] = (float(np.mean(pred == y_test)), float(np.mean(pred == direct)))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=NETS, default="convnet")
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--data", default=None,
                        help="folder of a local MNIST (IDX files) or CIFAR-10 (python "
                             "batches) copy, for --dataset mnist / cifar10")
    parser.add_argument("--out", nargs="*", default=None,
                        help="files to export to (.pt TorchScript, .pt2 torch.export, "
                             ".onnx ONNX); default: NET_DATASET.pt2")
    parser.add_argument("--seed", type=int, default=0,
                        help="split, subsets, initialisation, order and dropout")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: %s" % {k: v[0] for k, v in DEFAULTS.items()})
    parser.add_argument("--lr", type=float, default=None,
                        help="Adam's learning rate; default: %s"
                             % {k: v[1] for k, v in DEFAULTS.items()})
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--input-dropout", type=float, default=None,
                        help="the first dropout rate of Table 3 (0.5) for mlp/convnet")
    parser.add_argument("--width", type=int, default=None,
                        help="first channels: convnet 32 (Table 3), resnet 16")
    parser.add_argument("--depth", type=int, default=20, help="ResNet depth, 6n+2")
    parser.add_argument("--max-train", type=int, default=None,
                        help="with --data: at most this many training images (seeded)")
    parser.add_argument("--max-test", type=int, default=None,
                        help="with --data: at most this many test images (seeded)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    X_train, X_test, y_train, y_test, image_shape = load_data(
        args.dataset, args.data, seed=args.seed, max_train=args.max_train,
        max_test=args.max_test)
    start = time.perf_counter()
    clf, input_shape = train(args.net, X_train, y_train, image_shape, epochs=args.epochs,
                             lr=args.lr, batch_size=args.batch_size, seed=args.seed,
                             input_dropout=args.input_dropout, width=args.width,
                             depth=args.depth)
    seconds = time.perf_counter() - start
    accuracy = float(clf.score(X_test, y_test))
    print(f"{args.net} on {args.dataset} ({len(y_train)} training, {len(y_test)} test "
          f"images {image_shape}): test accuracy {accuracy:.4f}, trained in "
          f"{seconds:.1f} s")
    paths = args.out if args.out is not None else [f"{args.net}_{args.dataset}.pt2"]
    exported = export(clf, paths, X_test, y_test, input_shape)
    for path, (acc, agree) in exported.items():
        print(f"  {path}: ExportedClassifier(input_shape={input_shape}) accuracy "
              f"{acc:.4f}, same prediction as the network on {agree:.2%} of the test set")
    return {"accuracy": accuracy, "seconds": seconds, "exported": exported,
            "input_shape": input_shape, "classifier": clf}


if __name__ == "__main__":
    main()
