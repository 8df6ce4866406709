"""Image tools: patches of image batches and back, and sparse-coding denoising."""
from sparsetools.image._denoise import denoise_sparse
from sparsetools.image._denoiser import DictionaryDenoiser
from sparsetools.image._frontend import TopTFrontend
from sparsetools.image._patches import extract_patches, reconstruct_from_patches

__all__ = ["DictionaryDenoiser", "TopTFrontend", "denoise_sparse", "extract_patches", "reconstruct_from_patches"]
