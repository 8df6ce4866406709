"""Small torch classifiers that the presets train on bundled data (torch extra)."""
import numpy as np

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


def train_classifier(net, X, y, input_shape, *, epochs=30, batch_size=64, lr=1e-2,
                     random_state=0):
    """Train `net` by Adam on cross-entropy over mini-batches, seeded, and wrap it.

    Parameters
    ----------
    net : torch.nn.Module
        Takes ``(n, *input_shape)`` float32 batches (channels first).
    X : ndarray of shape (n_samples, n_features)
        Rows; images are rows ``(h, w)`` or ``(h, w, c)`` flattened, and are
        reshaped to `input_shape` (a channels-last image shape is permuted).
    y : ndarray of shape (n_samples,)
        Labels.
    input_shape : tuple of int
        What `net` takes per sample, e.g. ``(1, 8, 8)``.

    Returns
    -------
    clf : ExportedClassifier
        Fitted, on rows of `X`'s layout, with the trained `net` in eval mode.
    """
    import torch

    from sparsetools.torch import ExportedClassifier

    classes, y_idx = np.unique(y, return_inverse=True)
    gen = torch.Generator().manual_seed(int(random_state))
    torch.manual_seed(int(random_state))
    for p in net.parameters():  # a seeded initialisation whatever torch's global state
        if p.ndim > 1:
            torch.nn.init.kaiming_uniform_(p, a=5 ** 0.5, generator=gen)
        else:
            torch.nn.init.zeros_(p)
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape((-1,) + tuple(input_shape))
    yt = torch.as_tensor(y_idx, dtype=torch.long)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(int(epochs)):
        order = torch.randperm(len(yt), generator=gen)
        for start in range(0, len(yt), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    return ExportedClassifier(net, input_shape=tuple(input_shape), classes=classes).fit(X, y)
