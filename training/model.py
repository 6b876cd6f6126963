"""The expression network: a small VGG-style CNN with two heads (7 emotions, smile)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (channels, convs) per stage; each stage ends in a 2x2 max-pool
DEFAULT_CFG = ((32, 1), (64, 2), (128, 2), (256, 1))


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ExpressionNet(nn.Module):
    """Input (N, 1, 48, 48) float in [0, 1]. Output (N, 8): 7 emotion logits, 1 smile logit."""

    def __init__(self, cfg=DEFAULT_CFG, dropout: float = 0.4):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for c, n in cfg:
            for _ in range(n):
                layers += _conv(cin, c)
                cin = c
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        # dropout only after the last BatchNorm: dropout in front of a BN layer shifts its
        # statistics between training and inference (seen here: PublicTest accuracy jumping
        # between 1% and 40% from one eval to the next)
        # keep the 3x3 layout (where the mouth is matters): flatten, no global pooling
        self.pool = nn.Identity()
        self.neck = nn.Sequential(nn.Flatten(), nn.Linear(cin * 9, 256),
                                  nn.BatchNorm1d(256), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.head = nn.Linear(256, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) / 0.25
        return self.head(self.neck(self.pool(self.features(x))))


# The FER2013 training images in ../shared/data are Gaussian-blurred (Laplacian variance ~6 vs
# ~2,200 for the test images; their spectrum matches a sharp image blurred with sigma ~2.8 px).
# So every input that is not one of those images (SMILEsmileD in training, FER test, every
# runtime face) goes through the same blur before the network: it is part of the ONNX model.
BLUR_SIGMA = 2.8


class GaussianBlur(nn.Module):
    def __init__(self, sigma: float = BLUR_SIGMA):
        super().__init__()
        r = int(math.ceil(3 * sigma))
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        k = torch.exp(-(t**2) / (2 * sigma**2))
        k = k / k.sum()
        self.r = r
        self.register_buffer("kx", k.view(1, 1, 1, -1))
        self.register_buffer("ky", k.view(1, 1, -1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.r, self.r, self.r, self.r), mode="replicate")
        return F.conv2d(F.conv2d(x, self.kx), self.ky)


class Exported(nn.Module):
    """What goes into the ONNX file: uint8-range float input -> probabilities (N, 8)."""

    def __init__(self, net: ExpressionNet, sigma: float = BLUR_SIGMA):
        super().__init__()
        self.net = net
        self.blur = GaussianBlur(sigma) if sigma > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(self.blur(x / 255.0))
        return torch.cat([torch.softmax(out[:, :7], dim=1), torch.sigmoid(out[:, 7:])], dim=1)
