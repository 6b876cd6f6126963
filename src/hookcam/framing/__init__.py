"""Framing: one transform (crop + resize) applied once to the output frame; faces are found on
the whole camera frame and mapped through the same transform for the face effects."""

from hookcam.framing.camera import AutoFraming, Transform

__all__ = ["AutoFraming", "Transform"]
