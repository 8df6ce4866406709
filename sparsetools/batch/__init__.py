"""The image-folder engine behind the ``sparsetools`` command: read, process and
write every image of a folder safely, resumably, in parallel, with a report."""
from sparsetools.batch._commands import load_codes
from sparsetools.batch._engine import REPORT_NAME, run_batch
from sparsetools.batch._files import IMAGE_EXTENSIONS, find_images
from sparsetools.batch._io import ImageError, read_image, write_png_atomic
from sparsetools.batch._model import load_model, save_model

__all__ = ["IMAGE_EXTENSIONS", "REPORT_NAME", "ImageError", "find_images", "load_codes",
           "load_model",
           "read_image", "run_batch", "save_model", "write_png_atomic"]
