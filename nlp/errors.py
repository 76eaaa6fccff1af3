"""Typed errors. Every message names what went wrong, where, and how to fix it.

The CLI turns :class:`InovasiError` into one line on stderr and exit code 1;
library code raises these and never prints or exits.
"""

from __future__ import annotations


class InovasiError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class SourceError(InovasiError):
    """A source file or folder cannot be read (missing, empty, binary, encrypted, scanned, corrupt)."""

    def __init__(self, path: str, reason: str, fix: str = "") -> None:
        self.path = path
        self.reason = reason
        self.fix = fix
        message = f"{path}: {reason}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class FieldMappingError(InovasiError):
    """A tabular or JSONL source lacks the field named for id/text/title."""


class EmbedderError(InovasiError):
    """The embedding model cannot be found, verified, converted or loaded."""


class UnknownComponentError(InovasiError):
    """A registry name (embedder, index structure) is not known; the message lists valid names."""


class IndexError_(InovasiError):
    """Base for index problems (named with a trailing underscore to avoid the builtin)."""


class IndexNotFoundError(IndexError_):
    """No index at the given folder."""


class IndexFormatError(IndexError_):
    """The index was written in a newer or unknown format."""


class IndexModelMismatchError(IndexError_):
    """The index was built with a different embedder than the one asked for."""


class IndexDamagedError(IndexError_):
    """Files of the index are missing, altered or disagree with each other."""


class IndexLockedError(IndexError_):
    """Another process is writing the index."""


class QueryError(InovasiError):
    """A search request is invalid (empty query, unknown filter field, bad value)."""


class ClassifierError(InovasiError):
    """A classifier folder is missing, damaged, newer than this version, or made for another embedder."""
