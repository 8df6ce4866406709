"""Folder throughput: `sparsetools denoise` on 1 and 2 workers against a plain loop
over scikit-learn's dictionary-learning denoising recipe, same images, same atoms.

24 gray 256x256 PNGs cut from bundled scikit-image images (camera, astronaut,
coins, moon, page, brick...) with Gaussian noise of sigma 25/255; one model of
256 8x8 atoms learned from the folder by `sparsetools learn`'s code
(``learn_folder``, sigma given). Timed:

* ``st_1`` / ``st_2``: ``denoise_folder(n_jobs=1 / 2)`` into a fresh folder:
  reading, every overlapping patch coded by OMP to the noise level, averaging,
  writing PNGs and the report;
* ``sklearn``: for each of 2 of the images, the denoising step of
  scikit-learn's example (``extract_patches_2d``, mean removed, OMP,
  ``reconstruct_from_patches_2d``), reading and writing with Pillow like the
  engine; images per second over those 2. Its OMP is
  ``orthogonal_mp_gram(tol=...)`` with the same atoms and squared-residual
  tolerance: ``SparseCoder(transform_algorithm="omp", transform_alpha=tol)``
  ignores the tolerance in scikit-learn 1.9.1 (it codes 6 atoms per patch
  whatever ``transform_alpha``; measured), so it would not do the same work.
  ``orthogonal_mp_gram`` itself always takes a first atom, even for a patch
  already within the tolerance (noise only), where sparsetools takes none:
  its output is a little noisier (about 1 dB on the first image) for a
  little more work.

The summary prints images per second, the 2-worker scaling efficiency
(``st_2 / (2 st_1)``) and the ratio to scikit-learn. The outputs of 1 and 2
workers must be identical, and sparsetools' PSNR on the first image must be
at least the scikit-learn loop's (same atoms and tolerance; see above).
"""
import shutil

import numpy as np
import pytest

N_IMAGES = 24
N_SKLEARN = 2
SIGMA = 25 / 255
SOURCES = ("camera", "astronaut", "coins", "moon", "page", "brick", "grass", "gravel")
RESULTS_KEY = "batch"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from PIL import Image
    from skimage import color, data, transform

    from sparsetools.batch._commands import learn_folder

    root = tmp_path_factory.mktemp("noisy")
    rng = np.random.default_rng(0)
    clean = {}
    for i in range(N_IMAGES):
        img = getattr(data, SOURCES[i % len(SOURCES)])()
        img = color.rgb2gray(img) if img.ndim == 3 else img / 255.0
        img = transform.resize(img, (512, 512), anti_aliasing=True) if min(img.shape) < 512 \
            else img
        y, x = 128 * ((i // len(SOURCES)) % 3), 64 * ((i // len(SOURCES)) % 4)
        crop = img[y:y + 256, x:x + 256]
        noisy = np.clip(crop + rng.normal(0, SIGMA, crop.shape), 0, 1)
        name = f"img_{i:02d}.png"
        Image.fromarray(np.rint(noisy * 255).astype(np.uint8), "L").save(root / name)
        clean[name] = crop
    model = tmp_path_factory.mktemp("model") / "model.npz"
    learn_folder(root, model, patch_size=8, n_components=256, sigma=SIGMA,
                 max_patches=50_000, max_iter=5, random_state=0)
    return root, model, clean


def _denoise_sklearn(path, out_path, D, tol):
    """The denoising step of scikit-learn's example for one image file."""
    from PIL import Image
    from sklearn.feature_extraction.image import (
        extract_patches_2d,
        reconstruct_from_patches_2d,
    )
    from sklearn.linear_model import orthogonal_mp_gram

    with Image.open(path) as img:
        noisy = np.asarray(img, dtype=np.float64) / 255.0
    patches = extract_patches_2d(noisy, (8, 8)).reshape(-1, 64)
    intercept = patches.mean(axis=1, keepdims=True)
    centred = patches - intercept
    codes = orthogonal_mp_gram(D @ D.T, D @ centred.T, tol=tol,
                               norms_squared=np.einsum("ij,ij->i", centred, centred)).T
    rec = codes @ D + intercept
    out = reconstruct_from_patches_2d(rec.reshape(-1, 8, 8), noisy.shape)
    Image.fromarray(np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8), "L").save(out_path)
    return out


@pytest.mark.parametrize("impl", ["st_1", "st_2", "sklearn"])
def bench_folder_throughput(benchmark, bench_results, folder, tmp_path, impl):
    from threadpoolctl import threadpool_limits

    from sparsetools.batch._commands import denoise_folder, load_denoiser
    from sparsetools.image._denoise import noise_tolerance

    root, model, clean = folder
    out = tmp_path / "out"

    if impl == "sklearn":
        den = load_denoiser(model)
        D = den.components_
        # OMP to the same squared-residual tolerance as sparsetools (1 mean removed)
        tol = noise_tolerance(SIGMA, 64, 1)
        names = sorted(clean)[:N_SKLEARN]
        out.mkdir()

        def run():
            with threadpool_limits(1):
                return [_denoise_sklearn(root / n, out / n, D, tol) for n in names]
        n_images = N_SKLEARN
    else:
        n_jobs = int(impl[-1])

        def run():
            shutil.rmtree(out, ignore_errors=True)
            return denoise_folder(root, out, model, n_jobs=n_jobs, chunk_size=2)
        n_images = N_IMAGES
    result = benchmark.pedantic(run, rounds=1 if impl == "sklearn" else 3, iterations=1,
                                warmup_rounds=0)
    if impl != "sklearn":
        assert result["counts"]["processed"] == N_IMAGES
    bench_results.append({"suite": RESULTS_KEY, "impl": impl, "images": n_images,
                          "min_s": benchmark.stats.stats.min,
                          "outputs": str(out)})


def bench_outputs_agree(bench_results, folder):
    """1 and 2 workers wrote identical files; sparsetools is at least as good
    as the scikit-learn loop on the first image (same atoms, same tolerance)."""
    from PIL import Image

    from sparsetools.metrics import psnr

    root, _, clean = folder
    outs = {r["impl"]: r["outputs"] for r in bench_results if r["suite"] == RESULTS_KEY}
    if set(outs) != {"st_1", "st_2", "sklearn"}:
        pytest.skip("needs the three throughput benchmarks of this module")
    first = sorted(clean)[0]
    images = {}
    for impl, path in outs.items():
        with Image.open(f"{path}/{first}") as img:
            images[impl] = np.asarray(img, dtype=np.float64) / 255.0
    np.testing.assert_array_equal(images["st_1"], images["st_2"])
    assert psnr(clean[first], images["st_1"]) >= psnr(clean[first], images["sklearn"])
