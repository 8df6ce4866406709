"""Real data that ships with the dependencies: images and patches, nothing downloaded."""
from sparsetools.datasets._images import load_gray_images, load_patches

__all__ = ["load_gray_images", "load_patches"]
