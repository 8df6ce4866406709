"""Reading and writing images for the batch engine, with a stated policy.

Reading (Pillow):

- formats: whatever Pillow opens; the engine looks for PNG, JPEG, TIFF and
  BMP by extension;
- EXIF orientation is applied (the image is turned as a viewer shows it);
- the alpha channel is dropped (``RGBA`` -> ``RGB``, ``LA`` -> ``L``): the
  color values are kept as stored, not composited over a background;
- palette and 1-bit images become ``RGB`` / ``L``; 16-bit gray images keep
  their depth (values / 65535; written back at 16 bits), 8-bit ones are
  / 255 (Pillow reads 16-bit color at 8 bits); images come out as float64 in
  [0, 1], ``(h, w)`` gray or ``(h, w, 3)`` color;
- images with more than `max_pixels` pixels are refused before they are
  decoded (decompression bombs); truncated, empty and non-image files raise
  :class:`ImageError` with the reason.

Writing: PNG, at the bit depth the image was read with, to a temporary file
in the destination folder that is renamed over the destination once complete
(so a killed run never leaves a partial output under the final name).
"""
import os
import tempfile
import warnings

import numpy as np

__all__ = ["ImageError", "read_image", "write_atomic", "write_png_atomic", "TEMP_PREFIX"]

#: Prefix of the temporary files of atomic writes; a run removes its own
#: leftovers (from a killed run) before it starts.
TEMP_PREFIX = ".sparsetools-tmp-"


class ImageError(Exception):
    """An input file that cannot be used as an image; the message says why."""


def read_image(path, *, max_pixels, mode=None):
    """An image file as float64 in [0, 1] and its bit depth.

    Parameters
    ----------
    path : str or path-like
        The file.
    max_pixels : int
        Refuse images with more pixels than this, before decoding them.
    mode : {"L", "RGB"} or None, default=None
        Convert to gray or color; None keeps gray images gray and makes the
        others RGB.

    Returns
    -------
    image : ndarray of shape (h, w) or (h, w, 3)
        float64 in [0, 1].
    bits : {8, 16}
        Bit depth of the stored samples.

    Raises
    ------
    ImageError
        Empty, unreadable, truncated, non-image or oversized files.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if os.path.getsize(path) == 0:
        raise ImageError("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageError(f"{w}x{h} = {w * h} pixels, more than max_pixels "
                                     f"{max_pixels}")
                img.load()
                img = ImageOps.exif_transpose(img)
                return _to_array(img, mode)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"unreadable or truncated image: {exc}") from None


def _to_array(img, mode):
    """float64 array in [0, 1] and bit depth of a loaded Pillow image."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        bits = 16
        arr = np.asarray(img, dtype=np.float64) / 65535.0
        if mode == "RGB":
            arr = np.repeat(arr[..., None], 3, axis=2)
        return np.clip(arr, 0.0, 1.0), bits
    if img.mode in ("RGBA", "LA", "PA"):
        img = img.convert(img.mode[:-1] if img.mode != "PA" else "RGB")
    if img.mode in ("P", "CMYK", "YCbCr", "HSV", "LAB", "RGBX"):
        img = img.convert("RGB")
    if img.mode == "1":
        img = img.convert("L")
    if img.mode not in ("L", "RGB"):
        raise ImageError(f"unsupported image mode {img.mode!r}")
    target = mode or img.mode
    if img.mode != target:
        img = img.convert(target)
    return np.asarray(img, dtype=np.float64) / 255.0, 8


def write_png_atomic(path, image, bits):
    """Write `image` (float in [0, 1], (h, w) or (h, w, 3)) as a PNG of `bits`
    bits per sample at `path`, through a temporary file and a rename."""
    from PIL import Image

    image = np.clip(image, 0.0, 1.0)
    if bits == 16:
        if image.ndim == 3:  # Pillow writes 16-bit gray only; keep 8-bit color
            pil = Image.fromarray(np.rint(image * 255.0).astype(np.uint8), "RGB")
        else:
            pil = Image.fromarray(np.rint(image * 65535.0).astype(np.uint16))
    else:
        pil = Image.fromarray(np.rint(image * 255.0).astype(np.uint8),
                              "RGB" if image.ndim == 3 else "L")
    write_atomic(path, lambda f: pil.save(f, format="PNG"), ".png")


def write_atomic(path, write, suffix):
    """Write a file through ``write(binary_file)`` into a temporary file in the
    destination folder, flushed to disk, then renamed over `path`; the
    temporary file is removed if anything fails."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
