"""Image tools: patches of image batches, and images back from patches."""
from sparsetools.image._patches import extract_patches, reconstruct_from_patches

__all__ = ["extract_patches", "reconstruct_from_patches"]
