"""User-facing errors: one line that says what went wrong and what to do."""


class HookcamError(Exception):
    """A problem the user can fix. The CLI prints `hookcam: <message>` and exits non-zero."""

    exit_code = 2


class SourceError(HookcamError):
    """The input cannot be opened or read."""


class SinkError(HookcamError):
    """An output cannot be opened or written."""


class ModelError(HookcamError):
    """A model file is missing, corrupt or fails its checksum."""


class SourceLost(Exception):
    """A live source (camera) stopped delivering; the pipeline keeps the output going and retries."""
