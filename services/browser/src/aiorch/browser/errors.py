"""The browser agent's domain error; the service turns it into a failed step (app.py)."""


class BrowseError(Exception):
    """A task the browser could not carry out: no address, a refused or unreachable site, a timeout,
    an action not done. `result` holds the per-action outcomes when there are some."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable
        self.result = None
