"""The sentiment agent's domain error; the service turns it into a failed step (app.py)."""


class SentimentError(Exception):
    """Input the analyser cannot work with: no text, an unreadable file, an unknown column."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable
