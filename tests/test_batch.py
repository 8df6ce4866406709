"""The image-folder engine and the `sparsetools learn` / `denoise` commands, on
generated folders with good, bad and hostile files."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from sparsetools.batch import (
    REPORT_NAME,
    ImageError,
    find_images,
    load_model,
    read_image,
    run_batch,
    save_model,
)
from sparsetools.batch._commands import denoise_folder, learn_folder, load_denoiser
from sparsetools.batch._io import TEMP_PREFIX
from sparsetools.cli import main
from sparsetools.metrics import psnr

SIGMA = 0.08
BAD = {"corrupt.png": "not an image", "truncated.png": "truncated",
       "empty.jpg": "empty file", "fake.png": "not an image",
       "huge.png": "more than max_pixels"}
MAX_PIXELS = 1_000_000


def _noisy(clean, seed):
    return np.clip(clean + np.random.default_rng(seed).normal(0, SIGMA, clean.shape), 0, 1)


def _save(path, image, bits=8, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if bits == 16:
        Image.fromarray(np.rint(image * 65535).astype(np.uint16)).save(path)
    else:
        mode = "RGB" if image.ndim == 3 else "L"
        Image.fromarray(np.rint(image * 255).astype(np.uint8), mode).save(path, format=fmt)


def _make_folder(root, n_good=24):
    """Good images (gray PNG 8/16-bit, JPEG, BMP, TIFF, RGBA, palette, nested,
    unicode names) cut from camera with noise, plus the bad files of BAD.
    Returns {relative path: clean gray image} of the good ones."""
    camera = data.camera() / 255.0
    clean = {}
    kinds = ["png", "png16", "jpg", "bmp", "tif", "rgba", "palette"]
    for i in range(n_good):
        y, x = 40 * (i % 10), 37 * (i // 10) + 100
        img = camera[y:y + 48, x:x + 56]
        kind = kinds[i % len(kinds)]
        folder = "" if i % 3 else "sub/deeper/"
        name = f"{folder}img_{i:02d}{'_café' if i == 5 else ''}"
        noisy = _noisy(img, i)
        if kind == "png16":
            rel = name + ".png"
            _save(root / rel, noisy, bits=16)
        elif kind == "rgba":
            rel = name + ".png"
            rgba = np.dstack([noisy] * 3 + [np.full_like(noisy, 0.5)])
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.rint(rgba * 255).astype(np.uint8), "RGBA").save(root / rel)
        elif kind == "palette":
            rel = name + ".png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.rint(noisy * 255).astype(np.uint8), "L").convert("P").save(
                root / rel)
        else:
            ext = {"png": ".png", "jpg": ".jpg", "bmp": ".bmp", "tif": ".tif"}[kind]
            rel = name + ext
            _save(root / rel, noisy)
        clean[rel] = img
    (root / "corrupt.png").write_bytes(os.urandom(500))
    good_png = (root / "img_01.png").read_bytes()
    (root / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    (root / "empty.jpg").write_bytes(b"")
    (root / "fake.png").write_text("this is not an image")
    (root / "notes.txt").write_text("ignored: not an image extension")
    # 2000 x 1000 pixels: refused before decoding with max_pixels = 1e6
    Image.new("1", (2000, 1000)).save(root / "huge.png")
    return clean


def _tree_digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("in")
    clean = _make_folder(root)
    model = tmp_path_factory.mktemp("model") / "model.npz"
    report = learn_folder(root, model, patch_size=6, n_components=32, sigma=SIGMA,
                          max_patches=4000, max_iter=2, recursive=True,
                          max_pixels=MAX_PIXELS, random_state=0)
    return root, clean, model, report


def test_learn_reports_bad_files_and_writes_a_plain_npz_model(folder):
    root, clean, model, report = folder
    assert report["counts"] == {"found": len(clean) + len(BAD), "used": len(clean),
                                "failed": len(BAD)}
    reasons = {f["file"]: f["reason"] for f in report["failures"]}
    for name, reason in BAD.items():
        assert reason in reasons[name], (name, reasons[name])
    with np.load(model, allow_pickle=False) as npz:   # no pickle inside
        assert npz["components"].shape == (32, 36)
    arrays, params = load_model(model)
    assert params["sigma"] == SIGMA and params["patch_size"] == [6, 6]
    assert report["objective"][-1] < report["objective"][0]


def test_denoise_folder_outputs_every_good_image_once_identically_across_threads(
        folder, tmp_path):
    root, clean, model, _ = folder
    before = _tree_digest(root)
    outputs = {}
    for n_jobs in (1, 2):
        out = tmp_path / f"out{n_jobs}"
        report = denoise_folder(root, out, model, n_jobs=n_jobs, chunk_size=3,
                                recursive=True, max_pixels=MAX_PIXELS)
        assert report["counts"]["processed"] == len(clean)
        assert report["counts"]["failed"] == len(BAD)
        reasons = {f["file"]: f["reason"] for f in report["failures"]}
        assert set(reasons) == set(BAD)
        for name, reason in BAD.items():
            assert reason in reasons[name]
        written = _tree_digest(out)
        written.pop(REPORT_NAME)
        assert sorted(written) == sorted(str(Path(r).with_suffix(".png").as_posix())
                                         for r in clean)
        outputs[n_jobs] = written
    assert outputs[1] == outputs[2]           # bit-identical PNGs
    assert _tree_digest(root) == before       # the input folder is untouched
    # the outputs are denoised: PSNR against the clean crops goes up
    gains = []
    for rel, img in clean.items():
        noisy, _ = read_image(root / rel, max_pixels=MAX_PIXELS, mode="L")
        out, _ = read_image(tmp_path / "out1" / Path(rel).with_suffix(".png"),
                            max_pixels=MAX_PIXELS)
        if not rel.endswith(".jpg"):   # JPEG adds its own artefacts
            gains.append(psnr(img, out) - psnr(img, noisy))
    assert np.median(gains) > 3.0


def test_sixteen_bit_images_stay_sixteen_bit(folder, tmp_path):
    root, clean, model, _ = folder
    rel = next(r for r in sorted(clean) if "img_01" in r)
    with Image.open(root / rel) as img:
        assert img.mode.startswith("I")
    denoise_folder(root, tmp_path / "o", model, max_pixels=MAX_PIXELS)
    with Image.open(tmp_path / "o" / Path(rel).with_suffix(".png").name) as out:
        assert out.mode.startswith("I")
        values = np.asarray(out)
    assert values.max() > 255   # really 16-bit samples


def test_resume_after_sigkill_finishes_without_redoing_or_leaving_temporaries(tmp_path):
    root = tmp_path / "in"
    camera = data.camera() / 255.0
    n = 60
    for i in range(n):
        _save(root / f"f{i:03d}.png", _noisy(camera[(i % 8) * 60:(i % 8) * 60 + 64,
                                                    (i // 8) * 60:(i // 8) * 60 + 64], i))
    model = tmp_path / "model.npz"
    learn_folder(root, model, patch_size=6, n_components=64, sigma=SIGMA,
                 max_patches=3000, max_iter=1)
    reference = tmp_path / "reference"
    denoise_folder(root, reference, model)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sparsetools", "denoise", str(root), str(out),
           "--model", str(model), "--no-progress"]
    # cwd elsewhere than the repository root: there, `-m sparsetools` would import
    # the source tree instead of the installed (compiled) package
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and len(list(out.glob("f*.png"))) >= 5:
            break
        time.sleep(0.01)
    exited = proc.poll()
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("f*.png")}
    assert exited is None, f"the run ended by itself ({exited}): {err.decode()[-2000:]}"
    assert 0 < len(done_before) < n, "the run was not killed mid-way"
    report = denoise_folder(root, out, model)
    assert report["counts"]["already_done"] == len(done_before)
    assert report["counts"]["processed"] == n - len(done_before)
    for name, mtime in done_before.items():   # finished images were not redone
        assert (out / name).stat().st_mtime_ns == mtime
    expected = _tree_digest(reference)
    got = _tree_digest(out)
    expected.pop(REPORT_NAME), got.pop(REPORT_NAME)
    assert got == expected
    assert not [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_output_inside_input_and_links_out_of_the_output_are_refused(folder, tmp_path):
    root, _, model, _ = folder
    with pytest.raises(ValueError, match="never writes into its input"):
        denoise_folder(root, root / "out", model)
    with pytest.raises(ValueError, match="never writes into its input"):
        denoise_folder(root, root, model)
    with pytest.raises(ValueError, match="input folder .* is inside the output folder"):
        denoise_folder(root, root.parent, model)
    with pytest.raises(ValueError, match="never writes into its input"):
        learn_folder(root, root / "sub" / "model.npz", max_pixels=MAX_PIXELS)
    # a link inside the output folder that points elsewhere
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    os.symlink(elsewhere, out / "sub")
    report = denoise_folder(root, out, model, recursive=True, max_pixels=MAX_PIXELS)
    reasons = [f["reason"] for f in report["failures"] if f["file"].startswith("sub/")]
    assert reasons and all("outside the output folder" in r for r in reasons)
    assert not list(elsewhere.rglob("*"))


def test_read_image_policy(tmp_path):
    rgba = np.zeros((5, 7, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img, bits = read_image(tmp_path / "a.png", max_pixels=100)
    assert img.shape == (5, 7, 3) and bits == 8
    np.testing.assert_allclose(img[..., 0], 200 / 255)   # alpha dropped, not composited
    # EXIF orientation 6 (rotate 90 degrees clockwise to view)
    tall = np.zeros((4, 9), dtype=np.uint8)
    tall[0, :] = 255
    pil = Image.fromarray(tall, "L")
    exif = pil.getexif()
    exif[0x0112] = 6
    pil.save(tmp_path / "r.jpg", exif=exif, quality=100)
    img, _ = read_image(tmp_path / "r.jpg", max_pixels=100)
    assert img.shape == (9, 4)
    assert img[:, -1].mean() > 0.8 and img[:, 0].mean() < 0.2   # first row became last col
    with pytest.raises(ImageError, match="more than max_pixels"):
        read_image(tmp_path / "a.png", max_pixels=34)


def test_find_images_filters_and_walks(tmp_path):
    for rel in ("a.PNG", "b.jpeg", "c.txt", ".hidden.png", "d/e.tif", ".git/f.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert find_images(tmp_path) == ["a.PNG", "b.jpeg"]
    assert find_images(tmp_path, recursive=True) == ["a.PNG", "b.jpeg", "d/e.tif"]


def test_models_are_checked_when_loaded(tmp_path):
    np.savez(tmp_path / "other.npz", components=np.ones((2, 4)))
    with pytest.raises(ValueError, match="not a sparsetools model file"):
        load_model(tmp_path / "other.npz")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a sparsetools model file"):
        load_model(tmp_path / "obj.npy")
    save_model(tmp_path / "m.npz", {"components": np.ones((3, 5))}, {"estimator": "X"})
    with pytest.raises(ValueError, match="not a DictionaryDenoiser model"):
        load_denoiser(tmp_path / "m.npz")
    with pytest.raises(TypeError, match="must hold numbers or text"):
        save_model(tmp_path / "bad.npz", {"c": np.array([{"a": 1}], dtype=object)}, {})


def test_run_batch_reports_processing_failures_and_output_collisions(tmp_path):
    root = tmp_path / "in"
    _save(root / "a.png", np.zeros((4, 4)))
    _save(root / "a.bmp", np.zeros((4, 4)))   # both would be a.png
    _save(root / "b.png", np.ones((4, 4)))

    def process(image):
        if image.mean() > 0.5:
            raise RuntimeError("boom")
        return image

    report = run_batch(root, tmp_path / "out", process)
    assert report["counts"]["processed"] == 1
    reasons = {f["file"]: f["reason"] for f in report["failures"]}
    assert "also the output of" in reasons["a.png"]
    assert reasons["b.png"] == "processing failed: RuntimeError: boom"


def test_command_line_learn_and_denoise(folder, tmp_path, capsys):
    root, clean, _, _ = folder
    model = tmp_path / "m.npz"
    assert main(["learn", str(root), "--out", str(model), "--patch-size", "6",
                 "--n-components", "16", "--max-patches", "2000", "--max-iter", "1",
                 "--sigma", str(SIGMA), "--max-pixels", str(MAX_PIXELS)]) == 0
    text = capsys.readouterr().out
    assert "learned 16 atoms" in text and "skipped huge.png" in text
    assert main(["denoise", str(root), str(tmp_path / "out"), "--model", str(model),
                 "--n-jobs", "2", "--no-progress", "--max-pixels", str(MAX_PIXELS)]) == 0
    text = capsys.readouterr().out
    top_level = [r for r in clean if "/" not in r]
    assert f"denoised {len(top_level)} images" in text
    assert main(["encode", str(root), str(tmp_path / "codes.npz"), "--model", str(model),
                 "--max-pixels", str(MAX_PIXELS)]) == 0
    assert f"encoded {len(top_level)} images" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["denoise", str(root), str(root / "x"), "--model", str(model)])
    assert "never writes into its input" in capsys.readouterr().err


def test_dask_cluster_gives_the_same_files(folder, tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    root, clean, model, _ = folder
    single = tmp_path / "single"
    denoise_folder(root, single, model, recursive=True, max_pixels=MAX_PIXELS)
    expected = _tree_digest(single)
    expected.pop(REPORT_NAME)
    # an existing cluster on loopback, by its scheduler address
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        out = tmp_path / "scheduler"
        report = denoise_folder(root, out, model, recursive=True, chunk_size=3,
                                max_pixels=MAX_PIXELS, scheduler=cluster.scheduler_address)
    assert report["dask"].startswith("tcp://127.0.0.1")
    assert report["counts"]["processed"] == len(clean)
    assert {f["file"] for f in report["failures"]} == set(BAD)
    got = _tree_digest(out)
    got.pop(REPORT_NAME)
    assert got == expected
    # a local cluster started by the run itself, from the command line
    out = tmp_path / "workers"
    assert main(["denoise", str(root), str(out), "--model", str(model), "--recursive",
                 "--dask-workers", "2", "--no-progress", "--max-pixels",
                 str(MAX_PIXELS)]) == 0
    got = _tree_digest(out)
    got.pop(REPORT_NAME)
    assert got == expected


def test_encode_folder_writes_sparse_codes_that_rebuild_the_images(folder, tmp_path):
    from sparsetools.batch._commands import encode_folder, load_codes
    from sparsetools.image import denoise_sparse, reconstruct_from_patches

    root, clean, model, _ = folder
    out = tmp_path / "codes.npz"
    report = encode_folder(root, out, model, recursive=True, max_pixels=MAX_PIXELS)
    assert report["counts"] == {"found": len(clean) + len(BAD), "encoded": len(clean),
                                "failed": len(BAD)}
    with np.load(out, allow_pickle=False) as npz:   # plain arrays only
        assert "data" in npz.files
    loaded = load_codes(out)
    codes, D = loaded["codes"], loaded["components"]
    assert codes.shape == (report["n_patches"], 32) and codes.nnz == report["nonzeros"]
    assert codes.nnz < 0.2 * codes.shape[0] * codes.shape[1]   # sparse
    # image i's patch codes, decoded and averaged, are the denoiser at stride 6
    den = load_denoiser(model)
    for i in (0, 3):
        rel = loaded["files"][i]
        lo, hi = loaded["offsets"][i], loaded["offsets"][i + 1]
        rec = codes[lo:hi].toarray() @ D + loaded["means"][lo:hi]
        h, w, _ = loaded["shapes"][i]
        image = reconstruct_from_patches(rec.reshape(-1, 6, 6), (h, w), stride=6)
        noisy, _ = read_image(root / rel, max_pixels=MAX_PIXELS, mode="L")
        expected = denoise_sparse(noisy, den.components_, 6, stride=6, sigma=den.sigma)
        np.testing.assert_allclose(image, expected, atol=1e-10)
    with pytest.raises(ValueError, match="not a codes file"):
        load_codes(model)


def test_a_few_hundred_small_images_in_nested_folders(tmp_path):
    """300 small images in 10 nested folders plus bad files: every good image gets
    exactly one output, identical for 1 and 2 threads."""
    root = tmp_path / "in"
    rng = np.random.default_rng(1)
    camera = data.camera() / 255.0
    names = []
    for i in range(300):
        rel = f"d{i % 10}/{'e/' if i % 3 == 0 else ''}p{i:03d}.png"
        y, x = rng.integers(0, 480, size=2)
        _save(root / rel, _noisy(camera[y:y + 20, x:x + 24], i))
        names.append(rel)
    (root / "d3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(40))
    (root / "d7" / "zero.bmp").write_bytes(b"")
    model = tmp_path / "model.npz"
    learn_folder(root, model, patch_size=5, n_components=24, sigma=SIGMA,
                 max_patches=3000, max_iter=1, recursive=True)
    digests = []
    for n_jobs in (1, 2):
        out = tmp_path / f"out{n_jobs}"
        report = denoise_folder(root, out, model, n_jobs=n_jobs, recursive=True)
        assert report["counts"]["processed"] == 300
        assert sorted(f["file"] for f in report["failures"]) == ["d3/broken.png",
                                                                 "d7/zero.bmp"]
        digest = _tree_digest(out)
        digest.pop(REPORT_NAME)
        assert sorted(digest) == sorted(names)
        digests.append(digest)
    assert digests[0] == digests[1]


def test_conv_learn_and_project_folder(folder, tmp_path, capsys):
    """learn --algorithm conv, then project: every good image once, identical
    across threads, equal to ConvSparseCoder.transform of the image read."""
    from sparsetools.batch._conv_commands import load_conv_coder
    from sparsetools.batch._io import read_image

    root, clean, _, _ = folder
    model = tmp_path / "conv.npz"
    assert main(["learn", str(root), "--out", str(model), "--algorithm", "conv",
                 "--patch-size", "5", "--n-components", "6", "--tile-size", "32",
                 "--max-tiles", "64", "--max-iter", "4", "--alpha", "0.05",
                 "--max-pixels", str(MAX_PIXELS)]) == 0
    text = capsys.readouterr().out
    assert "learned 6 convolutional filters" in text and "skipped huge.png" in text
    with np.load(model, allow_pickle=False) as npz:
        assert npz["filters"].shape == (6, 5, 5)
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"proj{jobs}"
        assert main(["project", str(root), str(out), "--model", str(model), "--recursive",
                     "--n-jobs", str(jobs), "--max-iter", "30", "--no-progress",
                     "--max-pixels", str(MAX_PIXELS)]) == 0
        assert f"projected {len(clean)} images" in capsys.readouterr().out
        outs[jobs] = _tree_digest(out)
        outs[jobs].pop(REPORT_NAME)
    assert outs[1] == outs[2] and len(outs[1]) == len(clean)
    stl = load_conv_coder(model, max_iter=30)
    rel = next(r for r in clean if r.endswith(".bmp"))
    image, _ = read_image(root / rel, max_pixels=MAX_PIXELS, mode="L")
    expected = np.clip(stl.transform(image), 0, 1)
    written, _ = read_image(tmp_path / "proj1" / (rel.rsplit(".", 1)[0] + ".png"),
                            max_pixels=MAX_PIXELS, mode="L")
    assert np.abs(written - expected).max() <= 0.5 / 255 + 1e-9
    with pytest.raises(SystemExit):
        main(["denoise", str(root), str(tmp_path / "d"), "--model", str(model)])
    assert "not a DictionaryDenoiser model" in capsys.readouterr().err


def _two_source_folder(root):
    """8 crops of camera's sky and 8 of coins (two kinds of scene), nested,
    plus a corrupt file; returns {relative path: source name}."""
    sources = {"camera": data.camera() / 255.0, "coins": data.coins() / 255.0}
    kinds = {}
    for name, image in sources.items():
        for i in range(8):
            y, x = 4 * i, 15 * i + 10
            rel = f"{name[:2]}/{name}_{i}.png" if i % 2 else f"{name}_{i}.png"
            _save(root / rel, image[y:y + 40, x:x + 44])
            kinds[rel] = name
    (root / "corrupt.png").write_bytes(os.urandom(300))
    return kinds


def test_stratified_conv_learn_and_project_folder(tmp_path, capsys):
    """learn --algorithm conv --n-clusters 2 clusters the two kinds of scene
    apart, saves filters per cluster plus the router in a plain .npz; project
    routes each image to its cluster and writes what the loaded
    StratifiedConvSparseCoder's transform gives, identically for 1 and 2 jobs."""
    from sparsetools.batch._conv_commands import load_conv_coder
    from sparsetools.convolutional import StratifiedConvSparseCoder

    root = tmp_path / "in"
    kinds = _two_source_folder(root)
    model = tmp_path / "strat.npz"
    assert main(["learn", str(root), "--out", str(model), "--algorithm", "conv",
                 "--n-clusters", "2", "--n-neighbors", "3", "--patch-size", "5",
                 "--n-components", "4", "--tile-size", "32", "--max-tiles", "64",
                 "--max-iter", "3", "--alpha", "0.05", "--recursive"]) == 0
    text = capsys.readouterr().out
    assert "per cluster for 2 clusters of 8/8 images" in text
    assert "skipped corrupt.png" in text
    with np.load(model, allow_pickle=False) as npz:
        assert npz["filters"].shape == (2, 4, 5, 5)
        assert npz["routing_features"].shape == (16, 64)
        labels = npz["labels"]
    # the clusters separate the two scenes: the model's file order is sorted paths
    order = sorted(kinds)
    by_kind = {k: {int(lab) for rel, lab in zip(order, labels) if kinds[rel] == k}
               for k in ("camera", "coins")}
    assert len(by_kind["camera"]) == 1 and len(by_kind["coins"]) == 1
    assert by_kind["camera"] != by_kind["coins"]

    stl = load_conv_coder(model, max_iter=20)
    assert isinstance(stl, StratifiedConvSparseCoder) and len(stl.filters_) == 2
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"proj{jobs}"
        assert main(["project", str(root), str(out), "--model", str(model), "--recursive",
                     "--n-jobs", str(jobs), "--max-iter", "20", "--no-progress"]) == 0
        assert "projected 16 images" in capsys.readouterr().out
        outs[jobs] = _tree_digest(out)
        outs[jobs].pop(REPORT_NAME)
    assert outs[1] == outs[2] and len(outs[1]) == 16
    for rel, lab in zip(order, labels):
        image, _ = read_image(root / rel, max_pixels=MAX_PIXELS, mode="L")
        assert stl.predict_cluster(image[None]) == lab     # each routed to its own cluster
    rel = order[3]
    image, _ = read_image(root / rel, max_pixels=MAX_PIXELS, mode="L")
    written, _ = read_image(tmp_path / "proj1" / rel, max_pixels=MAX_PIXELS, mode="L")
    expected = np.clip(stl.transform(image), 0, 1)
    assert np.abs(written - expected).max() <= 0.5 / 255 + 1e-9
    # the cluster's own filters make the projection: the other cluster's differ
    other = stl.filters_[1 - labels[3]]
    assert not np.allclose(other, stl.filters_[labels[3]])


def test_learn_n_clusters_needs_conv(tmp_path, capsys):
    root = tmp_path / "in"
    _two_source_folder(root)
    with pytest.raises(SystemExit):
        main(["learn", str(root), "--out", str(tmp_path / "m.npz"), "--n-clusters", "2"])
    assert "--n-clusters needs --algorithm conv" in capsys.readouterr().err
