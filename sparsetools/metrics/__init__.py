"""Image quality measures, batch-aware: PSNR and SSIM."""
from sparsetools.metrics._quality import psnr, ssim

__all__ = ["psnr", "ssim"]
