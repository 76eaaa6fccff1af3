"""inovasi-nlp: search and label Indonesian reports on regional-government innovations."""

from __future__ import annotations

__version__ = "0.1.0"
