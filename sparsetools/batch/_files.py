"""Finding input images and placing outputs safely.

Outputs mirror the input tree inside the output folder and can never land
outside it: the output folder may not be the input folder or inside it,
relative paths with ``..`` or absolute parts are refused, and a destination
whose resolved folder leaves the output folder (a symlink pointing out) is
refused too.
"""
import os
from pathlib import Path, PurePosixPath

__all__ = ["IMAGE_EXTENSIONS", "UnsafePathError", "find_images", "check_folders",
           "check_output_file", "output_path"]

#: Extensions looked for by default (case-insensitive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class UnsafePathError(Exception):
    """An output path that would leave the output folder."""


def find_images(in_dir, *, recursive=False, extensions=IMAGE_EXTENSIONS):
    """Relative POSIX paths of the files under `in_dir` with one of the
    `extensions`, sorted; hidden files and folders are skipped."""
    in_dir = Path(in_dir)
    exts = tuple(e.lower() for e in extensions)
    found = []
    for root, dirs, files in os.walk(in_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in files:
            if name.startswith(".") or not name.lower().endswith(exts):
                continue
            found.append((Path(root) / name).relative_to(in_dir).as_posix())
    return sorted(found)


def check_folders(in_dir, out_dir):
    """Resolved (in_dir, out_dir); ValueError when the input is missing, or the
    output folder is the input folder, inside it, or contains it."""
    src = Path(in_dir).resolve()
    if not src.is_dir():
        raise ValueError(f"input folder {str(in_dir)!r} does not exist or is not a folder.")
    dst = Path(out_dir).resolve()
    if dst == src or src in dst.parents:
        raise ValueError(f"output folder {str(out_dir)!r} is the input folder or inside it; "
                         "sparsetools never writes into its input.")
    if dst in src.parents:
        # outputs mirror the input tree: some could land on the input itself
        raise ValueError(f"input folder {str(in_dir)!r} is inside the output folder "
                         f"{str(out_dir)!r}; sparsetools never writes into its input.")
    return src, dst


def check_output_file(in_dir, path):
    """Resolved in_dir; ValueError when the input is missing or the single
    output file `path` would be written inside the input folder."""
    src = Path(in_dir).resolve()
    if not src.is_dir():
        raise ValueError(f"input folder {str(in_dir)!r} does not exist or is not a folder.")
    parent = Path(path).resolve().parent
    if parent == src or src in parent.parents:
        raise ValueError(f"{str(path)!r} is inside the input folder {str(in_dir)!r}; "
                         "sparsetools never writes into its input.")
    return src


def output_path(out_dir, relative, suffix):
    """The output of the input `relative` (a POSIX path) in `out_dir`, with
    `suffix`; its parent folders are created. Raises UnsafePathError if it
    would leave `out_dir`."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UnsafePathError(f"unsafe relative path {relative!r}")
    out_dir = Path(out_dir)
    target = out_dir.joinpath(*rel.parts).with_suffix(suffix)
    # the deepest folder that exists must resolve inside out_dir before any
    # folder is created under it (a link there could point anywhere)
    existing = target.parent
    while not existing.exists() and existing != out_dir:
        existing = existing.parent
    _check_inside(existing, out_dir, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    _check_inside(target.parent, out_dir, relative)
    if target.is_symlink():
        raise UnsafePathError(f"the output of {relative!r} is a symbolic link")
    return target


def _check_inside(folder, out_dir, relative):
    resolved = folder.resolve()
    if resolved != out_dir and out_dir not in resolved.parents:
        raise UnsafePathError(f"{relative!r} would be written outside the output folder "
                              f"(through a link to {resolved})")
