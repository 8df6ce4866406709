"""Real data: images that ship with the dependencies and patches cut from them,
and loaders of local copies of MNIST and CIFAR-10 (nothing is downloaded)."""
from sparsetools.datasets._cifar import load_cifar10
from sparsetools.datasets._images import load_gray_images, load_patches
from sparsetools.datasets._mnist import load_mnist

__all__ = ["load_cifar10", "load_gray_images", "load_mnist", "load_patches"]
