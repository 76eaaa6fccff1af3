"""The ``inovasi`` command line: parses options, calls the library, renders results.

Only modules in this package print or exit. Library modules are imported
inside the commands so that ``inovasi --help`` starts in a blink.
"""

from __future__ import annotations

from nlp.cli.app import main

__all__ = ["main"]
