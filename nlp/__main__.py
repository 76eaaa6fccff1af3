"""``python -m nlp``: the same as the ``inovasi`` command."""

from __future__ import annotations

from nlp.cli import main

if __name__ == "__main__":
    main()
