"""The one type of refusal a person should read, below every feature (it imports nothing).

An operation that refuses (a rule not met, a state that does not allow it) raises a
``UserError`` or one of its subclasses, named for the feature (AccountError, SeatsFull,
...). ``portal.transaction.attempt`` turns it into a message next to the form field it is
about, or a flashed message; one that escapes a view gets a readable error page
(``portal.errors``), never a 500.
"""


class UserError(Exception):
    """A refusal to show: ``message`` (a lazy translation) and the form ``field`` it is about.

    The message stays lazy: it is translated where it is shown, in the reader's language;
    operations also run outside a request (workers, CLI commands), where no locale exists.
    ``field`` is None when the message is about the whole form or action.
    """

    # The flash category when the message is not shown next to a field.
    category = "warning"

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self):
        return str(self.message)
