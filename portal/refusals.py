"""The refusal shared by the catalogue's and the staff accounts' operations.

A tiny module of its own, so that catalog/ and auth/ both raise it without importing
each other (or admin/, the screens that show it).
"""


class AdminError(Exception):
    """An administration action that cannot be done; ``message`` is translated.

    ``field`` names the form field the message belongs next to (None: the whole form).
    """

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        self.field = field
