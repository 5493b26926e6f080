"""Logging filters named in ``settings.LOGGING``.

Kept apart from the modules they describe so that configuring logging, which happens before
the apps load, imports nothing but the standard library.
"""

from __future__ import annotations

import logging


class ClientFaultFilter(logging.Filter):
    """Logs a request the client got wrong as one warning line, without a traceback.

    Django's ``django.security.*`` loggers report a host this site does not serve, a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or too many form fields as an error with the traceback of
    the exception. The client answered a 400 or 413 is at fault, and nothing needs fixing on
    the server; the line still says what was refused.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        return True
