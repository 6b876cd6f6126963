"""The expression network: a small VGG-style CNN with two heads (7 emotions, smile)."""

from __future__ import annotations

import torch
from torch import nn

# (channels, convs) per stage; each stage ends in a 2x2 max-pool
DEFAULT_CFG = ((32, 1), (64, 2), (128, 2), (256, 1))


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ExpressionNet(nn.Module):
    """Input (N, 1, S, S) float in [0, 1]. Output (N, 8): 7 emotion logits, 1 smile logit."""

    def __init__(self, cfg=DEFAULT_CFG, dropout: float = 0.4):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for i, (c, n) in enumerate(cfg):
            for _ in range(n):
                layers += _conv(cin, c)
                cin = c
            layers.append(nn.MaxPool2d(2))
            if i >= 1:
                layers.append(nn.Dropout2d(0.1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.neck = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, 256),
                                  nn.BatchNorm1d(256), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.head = nn.Linear(256, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) / 0.25
        return self.head(self.neck(self.pool(self.features(x))))


class Exported(nn.Module):
    """What goes into the ONNX file: uint8-range float input -> probabilities (N, 8)."""

    def __init__(self, net: ExpressionNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x / 255.0)
        return torch.cat([torch.softmax(out[:, :7], dim=1), torch.sigmoid(out[:, 7:])], dim=1)
