"""Small torch classifiers that the presets train on bundled data (torch extra).

The papers' networks and the training loop live in :mod:`sparsetools.torch`.
"""

__all__ = ["convnet", "mlp", "train_classifier"]


def convnet(image_shape, n_classes, width=16):
    """A small ConvNet for images of `image_shape` ``(h, w)`` or ``(h, w, c)``:
    two 3x3 convolutions (`width`, ``2 width`` channels, ReLU, the second
    followed by 2x2 max pooling), dropout-free, then a linear layer."""
    import torch.nn as nn

    h, w = image_shape[:2]
    c = image_shape[2] if len(image_shape) == 3 else 1
    return nn.Sequential(
        nn.Conv2d(c, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * (h // 2) * (w // 2), n_classes))


def mlp(n_features, n_classes, hidden=64):
    """Linear-ReLU-Linear."""
    import torch.nn as nn

    return nn.Sequential(nn.Flatten(), nn.Linear(n_features, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_classes))


def train_classifier(net, X, y, input_shape, **kwargs):
    """:func:`sparsetools.torch.train_classifier` with torch's default
    initialisation rule, as the presets were measured with (imported when
    called, so this module loads without torch)."""
    from sparsetools.torch import train_classifier

    kwargs.setdefault("init", "torch")
    return train_classifier(net, X, y, input_shape, **kwargs)
