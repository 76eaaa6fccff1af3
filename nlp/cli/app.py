"""The top-level command group and its error handling."""

from __future__ import annotations

import sys
from typing import Any

import click

from nlp import __version__
from nlp.errors import InovasiError


class _Group(click.Group):
    """A group that turns the library's typed errors into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InovasiError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing was published, the index is as it was before.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inovasi")
def main() -> None:
    """Search and label Indonesian reports on regional-government innovations.

    \b
    Quick start:
      inovasi index build corpora/sample --index indexes/sample
      inovasi search "layanan adminduk jemput bola" --index indexes/sample
    """


def _register() -> None:
    from nlp.cli.index_cmds import index_group
    from nlp.cli.label_cmds import evaluate_command, label_command, labels_command, report_command, train_command
    from nlp.cli.search_cmds import search_command, similar_command

    for command in (
        index_group,
        search_command,
        similar_command,
        label_command,
        labels_command,
        train_command,
        evaluate_command,
        report_command,
    ):
        main.add_command(command)


_register()
