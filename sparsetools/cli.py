"""The ``sparsetools`` command.

Subcommands:

``sparsetools demo``
    Sparse-codes real 8x8 patches of images bundled with scikit-image and
    scikit-learn with OMP and ORMP, reports signals per second (against
    scikit-learn's ``orthogonal_mp_gram`` in the same run) and the
    reconstruction error, and rebuilds a held-out image from the codes of
    all its overlapping patches (PSNR). Nothing is downloaded.

This module orchestrates public sparsetools functions; it holds no
numerical code of its own.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import sparsetools


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def build_parser():
    """The argument parser of the ``sparsetools`` command."""
    parser = argparse.ArgumentParser(
        prog="sparsetools",
        description="Sparse coding with a compiled core.")
    parser.add_argument("--version", action="version",
                        version=f"sparsetools {sparsetools.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo", help="code real image patches with OMP/ORMP on bundled data",
        description=("Sparse-code real 8x8 patches of bundled images with OMP and "
                     "ORMP over a 256-atom overcomplete DCT dictionary: speed "
                     "against scikit-learn, reconstruction error, and a held-out "
                     "image rebuilt from its patch codes."))
    demo.add_argument("--n-patches", type=_positive_int, default=100_000,
                      help="number of patches to code (default: 100000)")
    demo.add_argument("--n-nonzero-coefs", type=_positive_int, default=10,
                      help="atoms per patch (default: 10)")
    demo.add_argument("--n-jobs", type=int, default=None,
                      help="threads (default: 1; -1 for all cores)")
    demo.add_argument("--out", metavar="DIR", default=None,
                      help="also write demo.json and the rebuilt image here")
    demo.set_defaults(func=run_demo)
    return parser


def run_demo(args, stdout=sys.stdout):
    """Run the demo described by parsed `args`; returns the report as a dict."""
    from skimage.metrics import peak_signal_noise_ratio
    from sklearn.feature_extraction.image import (
        extract_patches_2d,
        reconstruct_from_patches_2d,
    )
    from sklearn.linear_model import orthogonal_mp_gram

    from sparsetools.datasets import load_gray_images, load_patches
    from sparsetools.dictionary import overcomplete_dct

    def say(*parts):
        print(*parts, file=stdout, flush=True)

    k = args.n_nonzero_coefs
    D = overcomplete_dct(8, 256)
    say(f"sparsetools {sparsetools.__version__}: {args.n_patches} real 8x8 patches "
        "(mean removed, unit norm) of scikit-image's astronaut and scikit-learn's "
        f"china and flower; 256-atom overcomplete DCT dictionary; k = {k}")
    X = load_patches(args.n_patches, images=("astronaut", "china", "flower"))
    report = {"n_patches": int(X.shape[0]), "n_nonzero_coefs": k,
              "n_jobs": args.n_jobs, "methods": {}}

    n_ref = min(2000, X.shape[0])
    G = D @ D.T
    t0 = time.perf_counter()
    orthogonal_mp_gram(G, D @ X[:n_ref].T, n_nonzero_coefs=k)
    sk_rate = n_ref / (time.perf_counter() - t0)
    report["sklearn_orthogonal_mp_gram_signals_per_s"] = sk_rate

    say(f"{'method':<8} {'signals/s':>12} {'x sklearn':>10} {'rel. error':>11}")
    for method in ("omp", "ormp"):
        t0 = time.perf_counter()
        codes = sparsetools.orthogonal_mp(X, D, n_nonzero_coefs=k, method=method,
                                          n_jobs=args.n_jobs)
        rate = X.shape[0] / (time.perf_counter() - t0)
        err = float(np.mean(np.sum((X - codes @ D) ** 2, axis=1)))
        report["methods"][method] = {"signals_per_s": rate, "relative_error": err}
        say(f"{method:<8} {rate:>12,.0f} {rate / sk_rate:>9.1f}x {err:>11.4f}")
    say(f"{'sklearn':<8} {sk_rate:>12,.0f} {'1.0x':>10} {'(omp)':>11}  "
        f"(orthogonal_mp_gram on {n_ref} patches)")

    # Held-out image: every overlapping patch coded, then averaged back.
    image = load_gray_images(["camera"])["camera"][128:384, 128:384]
    P = extract_patches_2d(image, (8, 8)).reshape(-1, 64)
    means = P.mean(axis=1, keepdims=True)
    t0 = time.perf_counter()
    codes = sparsetools.orthogonal_mp(P - means, D, n_nonzero_coefs=k, method="ormp",
                                      n_jobs=args.n_jobs)
    seconds = time.perf_counter() - t0
    rebuilt = reconstruct_from_patches_2d((codes @ D + means).reshape(-1, 8, 8),
                                          image.shape)
    psnr = peak_signal_noise_ratio(image, np.clip(rebuilt, 0, 1), data_range=1.0)
    report["camera_256"] = {"patches": int(P.shape[0]), "seconds": seconds,
                            "psnr_db": float(psnr)}
    say(f"camera (256x256, held out): {P.shape[0]} overlapping patches coded by "
        f"ORMP in {seconds:.2f} s; image rebuilt from k={k} codes: PSNR {psnr:.2f} dB")

    if args.out:
        from skimage.io import imsave

        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "demo.json"), "w") as f:
            json.dump(report, f, indent=2)
        imsave(os.path.join(args.out, "camera_rebuilt.png"),
               (np.clip(rebuilt, 0, 1) * 255).round().astype(np.uint8),
               check_contrast=False)
        say(f"wrote {os.path.join(args.out, 'demo.json')} and camera_rebuilt.png")
    return report


def main(argv=None):
    """Entry point of the ``sparsetools`` command."""
    args = build_parser().parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
