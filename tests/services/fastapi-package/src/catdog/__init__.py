"""catdog: a small image classifier service."""

import logging

__version__ = "1.4.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
