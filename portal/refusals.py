"""The refusal shared by the catalogue's and the staff accounts' operations.

A tiny module of its own, so that catalog/ and auth/ both raise it without importing
each other (or admin/, the screens that show it).
"""

from portal.usererror import UserError


class AdminError(UserError):
    """An administration action that cannot be done; ``message`` is translated.

    ``field`` names the form field the message belongs next to (None: the whole form).
    """
