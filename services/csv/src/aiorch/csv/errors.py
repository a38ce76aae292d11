class CsvProblem(Exception):
    """Input the cleaner cannot work with; becomes a failed step with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
