"""The one error type business code raises: a code for machines, a Spanish message for people."""


class DomainError(Exception):
    """A refused business action.

    ``status`` tells the API how to answer: 400 for bad input, 409 for a state conflict.
    """

    def __init__(self, code: str, message: str, *, status: int = 400, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def __str__(self) -> str:
        return self.message
