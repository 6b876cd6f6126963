"""Writes docs/background_astronaut.jpg: the NASA astronaut (public domain, shipped with
scikit-image) as she is, with --background blur, and with a colour behind her (with the general
segmentation model, the better one for a square picture; the landscape default is for 16:9).

    python tools/make_background_sheet.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from hookcam.effects.background import BackgroundStage


def main(out: str = "docs/background_astronaut.jpg") -> None:
    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    panels = [img]
    for spec, model in (("blur", "landscape"), ("#1e90ff", "general")):
        stage = BackgroundStage(spec, strength=12.0, model=model)
        stage.sync = True
        try:
            panels.append(stage.process(img, [])[0])
        finally:
            stage.close()
    row = np.hstack([cv2.resize(p, (384, 384), interpolation=cv2.INTER_AREA) for p in panels])
    band = np.full((30, row.shape[1], 3), 30, np.uint8)
    for i, text in enumerate(("camera", "--background blur", "'#1e90ff' --background-model general")):
        cv2.putText(band, text, (384 * i + 8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    row = np.vstack([row, band])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(out, row, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
