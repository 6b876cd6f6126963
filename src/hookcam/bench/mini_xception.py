"""The 2020 tool's emotion classifier architecture, re-created for timing only: mini-Xception
(Arriaga et al. 2017, the Keras model of the `fer` package), 64x64 gray in, 7 emotions out.
Random weights: its speed does not depend on their values. Needs torch (bench extra)."""

from __future__ import annotations


def build():
    import torch
    from torch import nn

    def sep(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                             nn.Conv2d(cin, cout, 1, bias=False))

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.res = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout))
            self.main = nn.Sequential(sep(cin, cout), nn.BatchNorm2d(cout), nn.ReLU(),
                                      sep(cout, cout), nn.BatchNorm2d(cout),
                                      nn.MaxPool2d(3, stride=2, padding=1))

        def forward(self, x):
            return self.main(x) + self.res(x)

    class MiniXception(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())
            self.blocks = nn.Sequential(Block(8, 16), Block(16, 32), Block(32, 64), Block(64, 128))
            self.head = nn.Conv2d(128, 7, 3, padding=1)

        def forward(self, x):
            x = self.head(self.blocks(self.stem(x)))
            return torch.softmax(x.mean(dim=(2, 3)), dim=1)

    return MiniXception().eval()
