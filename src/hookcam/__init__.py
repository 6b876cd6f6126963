"""hookcam: hook your webcam, edit each frame around the faces in it, publish a virtual camera."""

__version__ = "0.1.0"
