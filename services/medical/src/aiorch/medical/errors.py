class ImageProblem(Exception):
    """An image that cannot be classified, with a code and a message for the person who sent it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
