"""Image quality measures, batch-aware: PSNR and SSIM; the representation distance."""
from sparsetools.metrics._quality import psnr, ssim
from sparsetools.metrics._representation import representation_distance

__all__ = ["psnr", "representation_distance", "ssim"]
