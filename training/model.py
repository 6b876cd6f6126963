"""The expression network: a small VGG-style CNN with three heads (FER2013 7 emotions, smile,
FER+ 8 emotions + not-a-face)."""

from __future__ import annotations

import torch
from torch import nn

# (channels, convs) per stage; each stage ends in a 2x2 max-pool
DEFAULT_CFG = ((32, 1), (64, 2), (128, 2), (256, 1))

# FER+ vote columns used as soft targets ("unknown" is dropped); NF = not a face
FERPLUS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "NF")
# hookcam.types.EMOTIONS order <- FER+ columns (contempt folded into disgust)
FOLD = {"angry": ("anger",), "disgust": ("disgust", "contempt"), "fear": ("fear",),
        "happy": ("happiness",), "sad": ("sadness",), "surprise": ("surprise",), "neutral": ("neutral",)}
N_FER, N_PLUS = 7, len(FERPLUS)
OUT = N_FER + 1 + N_PLUS  # logits: 7 FER2013, 1 smile, 9 FER+ (8 emotions + NF)


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ExpressionNet(nn.Module):
    """Input (N, 1, 48, 48) float in [0, 1]. Output (N, 17) logits: 7 FER2013 emotions
    (EMOTIONS order), smile, 9 FER+ classes (FERPLUS order)."""

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
        self.neck = nn.Sequential(nn.Flatten(), nn.Linear(cin * 9, 256),
                                  nn.BatchNorm1d(256), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.head = nn.Linear(256, OUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 0.5) / 0.25
        return self.head(self.neck(self.features(x)))


def fold_matrix() -> torch.Tensor:
    """(8, 7): FER+ emotion probabilities (NF left out) -> EMOTIONS order."""
    from hookcam.types import EMOTIONS

    m = torch.zeros(N_PLUS - 1, N_FER)
    for j, e in enumerate(EMOTIONS):
        for name in FOLD[e]:
            m[FERPLUS.index(name), j] = 1.0
    return m


MIXES = ("geometric", "linear")


def blend_logp(out: torch.Tensor, w: float, mix: str = "geometric") -> torch.Tensor:
    """Runtime emotion log-scores (EMOTIONS order) from the two emotion heads (FER+ softmax over
    its 8 emotions, contempt folded into disgust), weight w on FER2013:
    geometric: w * log p_FER2013 + (1 - w) * log p_FER+;
    linear: log(w * p_FER2013 + (1 - w) * p_FER+)."""
    pplus = torch.softmax(out[:, N_FER + 1 : N_FER + N_PLUS], dim=1) @ fold_matrix().to(out.dtype)
    if mix == "linear":
        return torch.log((w * torch.softmax(out[:, :N_FER], dim=1) + (1 - w) * pplus).clamp_min(1e-8))
    lp13 = torch.log_softmax(out[:, :N_FER], dim=1)
    return w * lp13 + (1 - w) * torch.log(pplus.clamp_min(1e-8))


class Exported(nn.Module):
    """What goes into the ONNX file: uint8-range float input -> `probs` (N, 8) = 7 calibrated
    emotion probabilities then smile probability, and `face` (N, 1) = 1 - P(not a face)."""

    def __init__(self, net: nn.Module, w: float = 0.5, temperature: float = 1.0, mix: str = "geometric"):
        super().__init__()
        self.net = net
        self.w, self.t, self.mix = float(w), float(temperature), mix

    def forward(self, x: torch.Tensor):
        out = self.net(x / 255.0)
        probs = torch.softmax(blend_logp(out, self.w, self.mix) / self.t, dim=1)
        face = 1 - torch.softmax(out[:, N_FER + 1 :], dim=1)[:, -1:]
        return torch.cat([probs, torch.sigmoid(out[:, N_FER : N_FER + 1])], dim=1), face
