"""The project's typed errors.

Every rejection of user input raises :class:`InputError`. It subclasses
``ValueError`` so callers that only know the standard library still catch it,
and its message is written for the person who uploaded the file: what is
wrong, and what to upload instead.
"""


class InputError(ValueError):
    """User input that the dashboard cannot use, with an actionable message."""
