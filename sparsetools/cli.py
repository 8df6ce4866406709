"""The ``sparsetools`` command.

Subcommands:

``sparsetools learn IN_DIR --out MODEL.npz``
    Learns a patch dictionary from a folder of images (``sparsetools.batch``).

``sparsetools denoise IN_DIR OUT_DIR --model MODEL.npz``
    Denoises every image of a folder with it, safely and resumably.

``sparsetools encode IN_DIR OUT_FILE --model MODEL.npz``
    Writes the sparse codes of every image's patches into one ``.npz``.

``sparsetools evaluate PRESET --out DIR``
    Runs a robustness preset (``sparsetools.evaluation``): its table as
    JSON, CSV and text, and PNG plots (torch and matplotlib needed).

``sparsetools demo``
    Sparse-codes real 8x8 patches of images bundled with scikit-image and
    scikit-learn with OMP and ORMP, reports signals per second (against
    scikit-learn's ``orthogonal_mp_gram`` in the same run) and the
    reconstruction error, and rebuilds a held-out image from the codes of
    all its overlapping patches (PSNR); then writes noisy copies of bundled
    images into a folder, learns a dictionary from them and denoises the
    folder as ``learn`` and ``denoise`` do, with a PSNR / SSIM table next to
    scikit-image's classic denoisers. Nothing is downloaded.

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
                     "image rebuilt from its patch codes. Then a folder job: noisy "
                     "copies of bundled images are written, a dictionary is learned "
                     "from them and every image denoised (as `sparsetools learn` "
                     "and `sparsetools denoise` do), with PSNR / SSIM next to "
                     "scikit-image's TV, wavelet and NL-means denoisers. Everything "
                     "goes into --out."),
        epilog="example: sparsetools demo --out demo-output")
    demo.add_argument("--n-patches", type=_positive_int, default=100_000,
                      help="number of patches to code (default: 100000)")
    demo.add_argument("--n-nonzero-coefs", type=_positive_int, default=10,
                      help="atoms per patch (default: 10)")
    demo.add_argument("--n-jobs", type=int, default=None,
                      help="threads (default: 1; -1 for all cores)")
    demo.add_argument("--out", metavar="DIR", default="sparsetools-demo",
                      help="folder for everything the demo writes (default: "
                           "./sparsetools-demo)")
    demo.add_argument("--skip-denoise", action="store_true",
                      help="only the coding part: no folder denoising")
    demo.add_argument("--skip-robustness", action="store_true",
                      help="no robustness preset, even with torch installed")
    demo.set_defaults(func=run_demo)

    learn = sub.add_parser(
        "learn", help="learn a patch dictionary from a folder of images",
        description=("Learn a dictionary of image patches from the images of IN_DIR "
                     "(PNG, JPEG, TIFF, BMP), drawing at most --max-patches patches "
                     "at random, one image in memory at a time, and save it as a "
                     "model file (.npz with JSON parameters). Unreadable files are "
                     "skipped and listed."),
        epilog="example: sparsetools learn photos/ --out model.npz --sigma 0.1")
    learn.add_argument("in_dir", metavar="IN_DIR", help="folder of training images")
    learn.add_argument("--out", metavar="MODEL.npz", required=True,
                       help="model file to write (not inside IN_DIR)")
    learn.add_argument("--patch-size", type=_positive_int, default=8,
                       help="patch side in pixels (default: 8)")
    learn.add_argument("--n-components", type=_positive_int, default=None,
                       help="atoms, or filters with --algorithm conv (default: 256 atoms, "
                            "64 filters)")
    learn.add_argument("--algorithm", choices=("online", "ksvd", "mod", "conv"),
                       default="online",
                       help="dictionary learning algorithm (default: online); conv learns "
                            "convolutional filters for `sparsetools project`")
    learn.add_argument("--alpha", type=_nonnegative_float, default=0.2,
                       help="conv: weight of the l1 term (default: 0.2)")
    learn.add_argument("--tile-size", type=_positive_int, default=64,
                       help="conv: side of the training tiles (default: 64)")
    learn.add_argument("--max-tiles", type=_positive_int, default=2048,
                       help="conv: training tiles at most (default: 2048)")
    learn.add_argument("--n-clusters", type=_positive_int, default=1,
                       help="conv: above 1, a stratified model (paper 004): the images are "
                            "clustered, one set of filters is learned per cluster, and "
                            "`sparsetools project` routes each image to its cluster "
                            "(default: 1)")
    learn.add_argument("--n-neighbors", type=_positive_int, default=5,
                       help="conv, stratified: training images that vote on a new image's "
                            "cluster (default: 5)")
    learn.add_argument("--sigma", type=_nonnegative_float, default=None,
                       help="noise level of the images, as a fraction of the full "
                            "range (e.g. 0.1); codes stop at the noise level")
    learn.add_argument("--max-patches", type=_positive_int, default=100_000,
                       help="training patches (default: 100000)")
    learn.add_argument("--max-iter", type=_positive_int, default=None,
                       help="epochs or iterations of learning (default: 10; conv: 200 "
                            "mini-batches)")
    learn.add_argument("--color", action="store_true",
                       help="learn color patches (default: gray)")
    _add_folder_options(learn)
    learn.add_argument("--random-state", type=int, default=0,
                       help="seed of the patch draw and the learning (default: 0)")
    learn.set_defaults(func=run_learn)

    denoise = sub.add_parser(
        "denoise", help="denoise every image of a folder with a learned model",
        description=("Denoise every image of IN_DIR with the dictionary of MODEL.npz "
                     "(from `sparsetools learn`) and write PNGs mirroring IN_DIR into "
                     "OUT_DIR, each through a temporary file and a rename. Images "
                     "already done are skipped, so an interrupted run is finished by "
                     "running it again. Unreadable, truncated, empty, non-image and "
                     "oversized files are skipped and listed in "
                     "OUT_DIR/sparsetools-report.json."),
        epilog="example: sparsetools denoise noisy/ clean/ --model model.npz --n-jobs 2")
    denoise.add_argument("in_dir", metavar="IN_DIR", help="folder of images to denoise")
    denoise.add_argument("out_dir", metavar="OUT_DIR",
                         help="output folder (created; not IN_DIR or inside it)")
    denoise.add_argument("--model", metavar="MODEL.npz", required=True,
                         help="model file written by `sparsetools learn`")
    denoise.add_argument("--sigma", type=_nonnegative_float, default=None,
                         help="noise level (fraction of the full range); default: the "
                              "model's")
    denoise.add_argument("--stride", type=_positive_int, default=1,
                         help="pixels between patches (default: 1, every patch)")
    _add_engine_options(denoise)
    _add_folder_options(denoise)
    denoise.set_defaults(func=run_denoise)

    project = sub.add_parser(
        "project", help="project every image of a folder with a convolutional model",
        description=("Project every image of IN_DIR with the filters of MODEL.npz (from "
                     "`sparsetools learn --algorithm conv`): its low-pass part plus the "
                     "convolutional sparse (CBPDN) synthesis of the rest, the Sparse "
                     "Transformation Layer of paper 004; with a stratified model "
                     "(`--n-clusters`), each image first goes to the filters of the "
                     "cluster its nearest training images belong to. PNGs mirroring IN_DIR go into "
                     "OUT_DIR with the safety rules of `sparsetools denoise` (atomic "
                     "writes, resume, skipped files listed in the report)."),
        epilog="example: sparsetools project photos/ projected/ --model conv.npz")
    project.add_argument("in_dir", metavar="IN_DIR", help="folder of images to project")
    project.add_argument("out_dir", metavar="OUT_DIR",
                         help="output folder (created; not IN_DIR or inside it)")
    project.add_argument("--model", metavar="MODEL.npz", required=True,
                         help="model file written by `sparsetools learn --algorithm conv`")
    project.add_argument("--alpha", type=_nonnegative_float, default=None,
                         help="weight of the l1 term; default: the model's")
    project.add_argument("--max-iter", type=_positive_int, default=100,
                         help="ADMM iterations per image (default: 100)")
    _add_engine_options(project)
    _add_folder_options(project)
    project.set_defaults(func=run_project)

    encode = sub.add_parser(
        "encode", help="sparse codes of every image of a folder into one .npz",
        description=("Code the patches of every image of IN_DIR (a grid of --stride, "
                     "default the patch size, so patches tile each image) by OMP over "
                     "the atoms of MODEL.npz, and write the codes as one sparse (CSR) "
                     "matrix with each patch's means and each image's path, shape and "
                     "first patch row into the compressed OUT_FILE (.npz, no pickle; "
                     "sparsetools.batch.load_codes reads it)."),
        epilog="example: sparsetools encode photos/ codes.npz --model model.npz")
    encode.add_argument("in_dir", metavar="IN_DIR", help="folder of images")
    encode.add_argument("out_file", metavar="OUT_FILE", help="codes file to write (.npz)")
    encode.add_argument("--model", metavar="MODEL.npz", required=True,
                        help="model file written by `sparsetools learn`")
    encode.add_argument("--sigma", type=_nonnegative_float, default=None,
                        help="code to this noise level; default: the model's")
    encode.add_argument("--stride", type=_positive_int, default=None,
                        help="pixels between patches (default: the patch size)")
    encode.add_argument("--n-jobs", type=_positive_int, default=1,
                        help="threads for coding (default: 1)")
    _add_folder_options(encode)
    encode.set_defaults(func=run_encode)

    from sparsetools.evaluation._common import data_help
    from sparsetools.evaluation._presets import PRESETS
    lines = "\n".join(f"  {name}: {summary}\n    ({data_help(name)})"
                      for name, (_, summary) in PRESETS.items())
    evaluate = sub.add_parser(
        "evaluate", help="run a robustness preset (the papers' experiments on bundled data)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=("Evaluate defended pipelines against attacks as one of the papers "
                     "does, on data bundled with scikit-learn: clean, low-pass, noisy "
                     "and adversarial accuracy under grey-box and white-box (BPDA) "
                     "threat models. Writes report.json, report.csv, table.txt and PNG "
                     "plots into --out. Needs the torch extra and matplotlib "
                     "(pip install 'sparsetools[evaluate]'). With --data PATH, a preset "
                     "runs on a local copy of MNIST (IDX files) or CIFAR-10 (python "
                     "batches) instead, on a seeded draw of a fixed number of its training "
                     "and test images; nothing is downloaded.\n\npresets:\n" + lines),
        epilog="examples:\n  sparsetools evaluate ddl-digits --out ddl --quick\n"
               "  sparsetools evaluate stl-images --data ~/data/cifar-10-batches-py "
               "--out stl-cifar")
    evaluate.add_argument("preset", choices=sorted(PRESETS), metavar="PRESET",
                          help="one of: " + ", ".join(sorted(PRESETS)))
    evaluate.add_argument("--out", metavar="DIR", default=None,
                          help="output folder (default: ./sparsetools-PRESET)")
    evaluate.add_argument("--quick", action="store_true",
                          help="smoke run: a handful of images, fewer iterations (seconds; "
                               "its numbers mean little)")
    evaluate.add_argument("--seed", type=int, default=0,
                          help="seed of the split, the models and the attacks (default: 0)")
    evaluate.add_argument("--data", metavar="PATH", default=None,
                          help="a local folder of MNIST-format IDX files "
                               "(train-images-idx3-ubyte, ..., t10k-labels-idx1-ubyte, plain "
                               "or .gz; Fashion-MNIST too) or CIFAR-10 python batches "
                               "(batches.meta, data_batch_1..5, test_batch) to run the preset "
                               "on instead of its bundled data; the kind is detected. "
                               "ddl-digits and topt-digits take MNIST, stl-images MNIST or "
                               "CIFAR-10 (in color), dsc-faces none; the numbers of images "
                               "drawn are listed with each preset above")
    evaluate.set_defaults(func=run_evaluate)
    return parser


def _nonnegative_float(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; got {text}")
    return value


def _add_engine_options(parser):
    """Options of the image-folder engine: threads, chunks, progress, Dask."""
    parser.add_argument("--n-jobs", type=_positive_int, default=1,
                        help="threads over chunks of images (default: 1)")
    parser.add_argument("--chunk-size", type=_positive_int, default=8,
                        help="images per task (default: 8)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                        help="run the chunks on this Dask distributed scheduler's "
                             "workers (they must see IN_DIR and OUT_DIR at the same "
                             "paths; needs the dask extra)")
    parser.add_argument("--dask-workers", type=_positive_int, default=None,
                        help="start a local Dask cluster of this many worker "
                             "processes and run the chunks on it")


def _add_folder_options(parser):
    parser.add_argument("--recursive", action="store_true",
                        help="also read the subfolders")
    parser.add_argument("--max-pixels", type=_positive_int, default=89_478_485,
                        help="skip images with more pixels (default: 89478485)")


def _print_failures(report, stdout):
    """One line per skipped file of a folder command's report."""
    for failure in report["failures"]:
        print(f"skipped {failure['file']}: {failure['reason']}", file=stdout)


def run_learn(args, stdout=None):
    """`sparsetools learn`: returns the report as a dict."""
    stdout = stdout or sys.stdout
    from sparsetools.batch._commands import learn_folder

    if args.algorithm != "conv" and args.n_clusters != 1:
        raise ValueError("--n-clusters needs --algorithm conv (a stratified convolutional "
                         f"model); got --algorithm {args.algorithm}.")
    if args.algorithm == "conv":
        from sparsetools.batch._conv_commands import learn_conv_folder

        n_filters = args.n_components or 64
        report = learn_conv_folder(args.in_dir, args.out, filter_size=args.patch_size,
                                   n_filters=n_filters, alpha=args.alpha,
                                   tile_size=args.tile_size, max_tiles=args.max_tiles,
                                   max_iter=args.max_iter or 200, color=args.color,
                                   n_clusters=args.n_clusters, n_neighbors=args.n_neighbors,
                                   recursive=args.recursive, max_pixels=args.max_pixels,
                                   random_state=args.random_state)
        clusters = ("" if args.n_clusters == 1 else
                    f" per cluster for {args.n_clusters} clusters of "
                    f"{'/'.join(map(str, report['images_per_cluster']))} images")
        print(f"learned {n_filters} convolutional filters{clusters} from {report['n_tiles']} "
              f"tiles of {report['counts']['used']} images in {report['seconds']:.1f} s; wrote "
              f"{report['model']}", file=stdout)
        _print_failures(report, stdout)
        return report
    n_components = args.n_components or 256
    report = learn_folder(args.in_dir, args.out, patch_size=args.patch_size,
                          n_components=n_components, algorithm=args.algorithm,
                          sigma=args.sigma, max_patches=args.max_patches,
                          max_iter=args.max_iter or 10, color=args.color,
                          recursive=args.recursive, max_pixels=args.max_pixels,
                          random_state=args.random_state)
    counts = report["counts"]
    print(f"learned {n_components} atoms from {report['n_patches']} patches of "
          f"{counts['used']} images in {report['seconds']:.1f} s; wrote {report['model']}",
          file=stdout)
    _print_failures(report, stdout)
    return report


def run_encode(args, stdout=None):
    """`sparsetools encode`: returns the report as a dict."""
    from sparsetools.batch._commands import encode_folder

    stdout = stdout or sys.stdout
    report = encode_folder(args.in_dir, args.out_file, args.model, sigma=args.sigma,
                           stride=args.stride, n_jobs=args.n_jobs,
                           recursive=args.recursive, max_pixels=args.max_pixels)
    print(f"encoded {report['counts']['encoded']} images ({report['n_patches']} patches, "
          f"{report['nonzeros']} non-zeros) in {report['seconds']:.1f} s; wrote "
          f"{report['output']}", file=stdout)
    _print_failures(report, stdout)
    return report


def _run_folder_job(verb, job, args, stdout, **options):
    """Run an image-folder job of the engine (denoise, project) with the
    engine options of `args`, print its summary line and skipped files."""
    from sparsetools.batch import REPORT_NAME

    stdout = stdout or sys.stdout
    report = job(args.in_dir, args.out_dir, args.model, n_jobs=args.n_jobs,
                 recursive=args.recursive, chunk_size=args.chunk_size,
                 max_pixels=args.max_pixels,
                 progress=not args.no_progress and sys.stderr.isatty(),
                 scheduler=args.scheduler, dask_workers=args.dask_workers, **options)
    counts = report["counts"]
    print(f"{verb} {counts['processed']} images ({counts['already_done']} already done, "
          f"{counts['failed']} skipped) in {report['seconds']:.1f} s; report: "
          f"{os.path.join(report['output'], REPORT_NAME)}", file=stdout)
    _print_failures(report, stdout)
    return report


def run_denoise(args, stdout=None):
    """`sparsetools denoise`: returns the report as a dict."""
    from sparsetools.batch._commands import denoise_folder

    return _run_folder_job("denoised", denoise_folder, args, stdout, sigma=args.sigma,
                           stride=args.stride)


def run_project(args, stdout=None):
    """`sparsetools project`: returns the report as a dict."""
    from sparsetools.batch._conv_commands import project_folder

    return _run_folder_job("projected", project_folder, args, stdout, alpha=args.alpha,
                           max_iter=args.max_iter)


def run_evaluate(args, stdout=None):
    """`sparsetools evaluate`: runs the preset; returns its Report."""
    stdout = sys.stdout if stdout is None else stdout
    if not _has_evaluate_extra():
        raise ValueError("evaluate needs torch and matplotlib: "
                         "pip install 'sparsetools[evaluate]'")
    from sparsetools.evaluation import run_preset

    def say(line):
        print(line, file=stdout, flush=True)

    out = os.path.abspath(args.out or f"sparsetools-{args.preset}")
    report = run_preset(args.preset, out=out, quick=args.quick, random_state=args.seed,
                        log=say, data=args.data)
    say(report.table(["model", "condition", "threat_model", "attack", "epsilon",
                      "accuracy", "undefended_accuracy", "noise_accuracy"]))
    return report


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

    from skimage.io import imsave

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    imsave(os.path.join(out, "camera_rebuilt.png"),
           (np.clip(rebuilt, 0, 1) * 255).round().astype(np.uint8), check_contrast=False)
    if not args.skip_denoise:
        report["denoise"] = _demo_denoise(out, say, args.n_jobs)
    robustness = not args.skip_robustness and _has_evaluate_extra()
    if robustness:
        report["robustness"] = _demo_robustness(out, say)
    elif not args.skip_robustness:
        say("\n(robustness preset skipped: pip install 'sparsetools[evaluate]' for torch "
            "and matplotlib)")
    with open(os.path.join(out, "demo.json"), "w") as f:
        json.dump(report, f, indent=2)
    say(f"everything is in {out}: demo.json, camera_rebuilt.png"
        + ("" if args.skip_denoise else ", noisy/, model.npz, denoised/")
        + (", robustness/" if robustness else ""))
    return report


def _has_evaluate_extra():
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "matplotlib"))


def _demo_robustness(out, say):
    """The ddl-digits preset (paper 002 on digits), with its grey-box FGSM rows printed."""
    from sparsetools.evaluation import run_preset

    folder = os.path.join(out, "robustness")
    say("\nrobustness (torch installed): `sparsetools evaluate ddl-digits`")
    report = run_preset("ddl-digits", out=folder, log=say)
    say("accuracy under FGSM crafted on the classifier alone (grey-box, as in paper 002), "
        "and through the denoiser (white-box, BPDA):")
    say(f"{'pipeline':<15}{'epsilon':>8}{'undefended':>12}{'grey-box':>10}{'white-box':>11}")
    for r in report.select(condition="adversarial", threat_model="grey-box", attack="FGSM"):
        white = report.select(condition="adversarial", threat_model="white-box",
                              attack="FGSM", model=r["model"], epsilon=r["epsilon"])
        say(f"{r['model']:<15}{r['epsilon']:>8}{r['undefended_accuracy']:>12.3f}"
            f"{r['accuracy']:>10.3f}{white[0]['accuracy']:>11.3f}")
    return {"folder": folder, "seconds": report.meta["seconds"], "records": report.records}


#: Bundled gray images of the demo's folder, and the noise added to them.
_DEMO_IMAGES = ("camera", "astronaut", "coins", "moon")
_DEMO_SIGMA = 25 / 255


def _demo_denoise(out, say, n_jobs):
    """The demo's folder job: noisy copies of bundled images written as PNGs,
    a dictionary learned from them and every image denoised, as `sparsetools
    learn` and `sparsetools denoise` do; PSNR / SSIM next to scikit-image's
    classic denoisers (their defaults, told the true sigma where they take one)."""
    from PIL import Image
    from skimage import color, data
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    from sparsetools.batch._commands import denoise_folder, learn_folder
    from sparsetools.batch._io import read_image
    from sparsetools.metrics import psnr, ssim

    sigma = _DEMO_SIGMA
    noisy_dir = os.path.join(out, "noisy")
    os.makedirs(noisy_dir, exist_ok=True)
    clean = {}
    rng = np.random.default_rng(0)
    for name in _DEMO_IMAGES:
        img = getattr(data, name)()
        img = color.rgb2gray(img) if img.ndim == 3 else img / 255.0
        crop = img[:256, :256]
        noisy = np.clip(crop + rng.normal(0.0, sigma, crop.shape), 0.0, 1.0)
        Image.fromarray(np.rint(noisy * 255).astype(np.uint8), "L").save(
            os.path.join(noisy_dir, f"{name}.png"))
        clean[name] = crop
    say(f"\ndenoising a folder: {len(clean)} bundled images (256x256 crops) with "
        f"Gaussian noise of sigma {sigma * 255:.0f}/255 in {noisy_dir}")
    model = os.path.join(out, "model.npz")
    t0 = time.perf_counter()
    learn = learn_folder(noisy_dir, model, sigma=sigma, algorithm="ksvd",
                         max_patches=60_000, max_iter=5, random_state=0)
    t_learn = time.perf_counter() - t0
    say(f"sparsetools learn: 256 atoms of 8x8 from {learn['n_patches']} patches "
        f"(K-SVD) in {t_learn:.1f} s -> {model}")
    den = denoise_folder(noisy_dir, os.path.join(out, "denoised"), model,
                         n_jobs=n_jobs or 1, progress=sys.stderr.isatty())
    say(f"sparsetools denoise: {den['counts']['processed']} images in "
        f"{den['seconds']:.1f} s -> {den['output']}")
    methods = {
        "noisy": None,
        "sparsetools": lambda name, x: read_image(
            os.path.join(out, "denoised", f"{name}.png"), max_pixels=10**8)[0],
        "tv": lambda name, x: denoise_tv_chambolle(x),
        "wavelet": lambda name, x: denoise_wavelet(x, sigma=sigma, rescale_sigma=True),
        "nl_means": lambda name, x: denoise_nl_means(x, h=0.8 * sigma, sigma=sigma,
                                                     fast_mode=True),
    }
    table = {}
    say(f"{'image':<10}" + "".join(f"{m:>20}" for m in methods)
        + "   (PSNR dB / SSIM)")
    for name, img in clean.items():
        noisy, _ = read_image(os.path.join(noisy_dir, f"{name}.png"), max_pixels=10**8)
        row = {}
        for method, fn in methods.items():
            result = noisy if fn is None else np.clip(fn(name, noisy), 0.0, 1.0)
            row[method] = {"psnr": float(psnr(img, result)), "ssim": float(ssim(img, result))}
        table[name] = row
        say(f"{name:<10}" + "".join(f"{r['psnr']:>13.2f} / {r['ssim']:.2f}"
                                    for r in row.values()))
    say("tv: denoise_tv_chambolle (default weight); wavelet: denoise_wavelet "
        "(BayesShrink, true sigma); nl_means: denoise_nl_means (h = 0.8 sigma)")
    return {"sigma": sigma, "learn_seconds": t_learn, "denoise": den["counts"],
            "denoise_seconds": den["seconds"], "table": table}


def main(argv=None):
    """Entry point of the ``sparsetools`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"sparsetools {args.command}: error: {exc}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
