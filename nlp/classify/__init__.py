"""Label Indonesian innovation reports: the label scheme, evidence signals and classifiers.

Submodules are imported by name (``nlp.classify.scheme``, ``nlp.classify.signals``)
so that importing this package stays free of spaCy and other heavy libraries.
"""

from __future__ import annotations
