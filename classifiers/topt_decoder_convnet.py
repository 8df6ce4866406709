"""Paper 003's front end with its decoder and a ConvNet, trained jointly on digits.

Run from the repository root after ``pip install ".[torch]"`` (``.[torch,onnx]``
for ``.onnx`` files)::

    python classifiers/topt_decoder_convnet.py --out topt_convnet.pt2

As in paper 003 (appendix A.1), a ``TopTFrontend`` (4x4 patches, stride 2,
L atoms learned from the clean training digits, the T largest correlations
per position kept as ``sign * ||d_l||_1`` above ``beta * epsilon *
||d_l||_1``) is fitted first and frozen; then a ``TopTDecoder`` (three
transposed convolutions with ReLU, from the 3 x 3 x L codes back to 8 x 8)
and paper 002's ``ConvNet`` are trained together by cross-entropy on its
codes. The script prints the clean test accuracy of front end + decoder +
ConvNet beside the same ConvNet trained alone on the pixels of the same
split (half of scikit-learn's digits each, stratified), and exports the
whole chain (the front end's torch twin, the decoder and the ConvNet) as
one model on images: ``ExportedClassifier(path, input_shape=(1, 8, 8))``
on rows of 64 pixels in [0, 1].
"""
import argparse
import time

import numpy as np


def digits_split(seed=0):
    """Half of scikit-learn's digits for training, half for testing, in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split((X / 16.0).astype(np.float32), y, test_size=0.5,
                            random_state=seed, stratify=y)


def fit_frontend(X_train, *, n_components=128, n_top=10, beta=3.0, epsilon=0.05,
                 max_iter=5, seed=0):
    """A TopTFrontend on 8x8 rows, its dictionary learned from `X_train`."""
    from sparsetools import TopTFrontend

    return TopTFrontend(n_components=n_components, patch_size=4, stride=2, n_top=n_top,
                        beta=beta, epsilon=epsilon, output="dense", image_shape=(8, 8),
                        max_iter=max_iter, random_state=seed).fit(X_train)


def convnet(*, width=16, input_dropout=0.0):
    """Paper 002's ConvNet for 8x8 grey images (Table 3's other dropout rates)."""
    from sparsetools.torch import ConvNet

    return ConvNet((1, 8, 8), 10, width=width, dropout=(input_dropout, 0.25, 0.25, 0.5))


def train_joint(front, X_train, y_train, *, width=16, input_dropout=0.0, hidden=(64, 32),
                epochs=30, lr=1e-3, batch_size=32, seed=0):
    """Decoder + ConvNet trained on the frozen front end's codes of `X_train`.

    Returns
    -------
    model : ExportedClassifier
        On rows of 64 pixels: the ``TopTClassifier`` (front end's twin,
        decoder, ConvNet).
    on_codes : ExportedClassifier
        The trained decoder + ConvNet on rows of codes (``front.transform``).
    """
    import torch

    from sparsetools.torch import ExportedClassifier, TopTClassifier, TopTDecoder
    from sparsetools.torch import train_classifier

    codes = np.asarray(front.transform(X_train), dtype=np.float32)
    decoder = TopTDecoder.from_frontend(front, hidden=hidden)
    classifier = convnet(width=width, input_dropout=input_dropout)
    on_codes = train_classifier(torch.nn.Sequential(decoder, classifier), codes, y_train,
                                epochs=epochs, lr=lr, batch_size=batch_size,
                                random_state=seed)
    chain = TopTClassifier(front, decoder, classifier).eval()
    model = ExportedClassifier(chain, input_shape=(1, 8, 8), classes=on_codes.classes_)
    return model.fit(X_train[:2], y_train[:2]), on_codes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", nargs="*", default=["topt_convnet.pt2"],
                        help="files to export the front end + decoder + ConvNet to (.pt "
                             "TorchScript, .pt2 torch.export, .onnx ONNX)")
    parser.add_argument("--seed", type=int, default=0,
                        help="split, dictionary, initialisation, order and dropout")
    parser.add_argument("--n-components", type=int, default=128, help="L, atoms")
    parser.add_argument("--n-top", type=int, default=10, help="T, kept per position")
    parser.add_argument("--beta", type=float, default=3.0)
    parser.add_argument("--epsilon", type=float, default=0.05,
                        help="the L-inf budget the threshold is set against")
    parser.add_argument("--width", type=int, default=16, help="ConvNet's first channels")
    parser.add_argument("--input-dropout", type=float, default=0.0,
                        help="ConvNet's first dropout (Table 3 of paper 002: 0.5)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)

    import torch

    from sparsetools.torch import ExportedClassifier, export_model, train_classifier

    if args.threads:
        torch.set_num_threads(args.threads)
    X_train, X_test, y_train, y_test = digits_split(args.seed)
    t0 = time.perf_counter()
    front = fit_frontend(X_train, n_components=args.n_components, n_top=args.n_top,
                         beta=args.beta, epsilon=args.epsilon, seed=args.seed)
    t1 = time.perf_counter()
    model, on_codes = train_joint(front, X_train, y_train, width=args.width,
                                  input_dropout=args.input_dropout, epochs=args.epochs,
                                  lr=args.lr, batch_size=args.batch_size, seed=args.seed)
    t2 = time.perf_counter()
    alone = train_classifier(convnet(width=args.width, input_dropout=args.input_dropout),
                             X_train, y_train, (1, 8, 8), epochs=args.epochs, lr=args.lr,
                             batch_size=args.batch_size, random_state=args.seed)
    t3 = time.perf_counter()

    pred = model.predict(X_test)
    codes_test = np.asarray(front.transform(X_test), dtype=np.float32)
    result = {
        "accuracy": float(np.mean(pred == y_test)),
        "accuracy_convnet_alone": float(alone.score(X_test, y_test)),
        # the twin's codes against the C kernel's (ties may pick other atoms)
        "twin_agreement": float(np.mean(pred == on_codes.predict(codes_test))),
        "seconds_frontend": t1 - t0, "seconds_joint": t2 - t1, "seconds_alone": t3 - t2,
        "exported": {}, "model": model, "frontend": front,
    }
    print(f"digits, {len(y_train)} training / {len(y_test)} test images, seed {args.seed}")
    print(f"  TopTFrontend (L={args.n_components}, T={args.n_top}, beta={args.beta}, "
          f"epsilon={args.epsilon}) fitted in {t1 - t0:.1f} s")
    print(f"  front end + decoder + ConvNet: clean test accuracy {result['accuracy']:.4f} "
          f"(decoder + ConvNet trained in {t2 - t1:.1f} s)")
    print(f"  ConvNet alone:                 clean test accuracy "
          f"{result['accuracy_convnet_alone']:.4f} (trained in {t3 - t2:.1f} s)")
    print(f"  the twin's chain and the C front end's codes give the same prediction on "
          f"{result['twin_agreement']:.2%} of the test set")
    for path in args.out:
        export_model(model.model, path, input_shape=(1, 8, 8))
        loaded = ExportedClassifier(path, input_shape=(1, 8, 8),
                                    classes=model.classes_).fit(X_test[:2], y_test[:2])
        got = loaded.predict(X_test)
        acc, agree = float(np.mean(got == y_test)), float(np.mean(got == pred))
        result["exported"][path] = (acc, agree)
        print(f"  {path}: accuracy {acc:.4f}, same prediction as the torch model on "
              f"{agree:.2%} of the test set")
    return result


if __name__ == "__main__":
    main()
