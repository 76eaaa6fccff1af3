"""``inovasi index ...``: build, add, remove, info, verify."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nlp.cli.render import ProgressBar, key_values, warn

DEFAULT_INDEX = "indexes/default"

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX,
    envvar="INOVASI_INDEX",
    show_default=True,
    help="Index folder (env INOVASI_INDEX).",
)
model_option = click.option(
    "--model",
    default=None,
    envvar="INOVASI_MODEL",
    help="Embedder: e5-small (default), st:<local sentence-transformers folder or cached hub name>, "
    "or hash-test.v1 (tests only). An existing index keeps the model it was built with. Env INOVASI_MODEL.",
)


def source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that reads sources."""
    options = [
        click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--id-field", default="id", show_default=True, help="Record field holding the document id."),
        click.option(
            "--text-field",
            default="text",
            show_default=True,
            help="Record field(s) holding the text; several joined with commas, e.g. rancang_bangun,tujuan,hasil.",
        ),
        click.option("--title-field", default="title", show_default=True, help="Record field holding the title."),
        click.option(
            "--strict", is_flag=True, help="Stop at the first unreadable file or record instead of skipping it."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def read_sources(sources: tuple[Path, ...], id_field: str, text_field: str, title_field: str, strict: bool) -> Any:
    """The documents of the named sources (a generator; nothing is read yet)."""
    from nlp.ingest import FieldMap, iter_documents

    return iter_documents(list(sources), FieldMap(id=id_field, text=text_field, title=title_field), strict=strict)


def check_sources_exist(sources: tuple[Path, ...]) -> None:
    """A missing source is a usage error: say which one, before any work starts."""
    for source in sources:
        if not source.exists():
            raise click.BadParameter(f"{source}: no such file or folder; check the path", param_hint="SOURCES")


def embedder_name_for(index_dir: Path, model: str | None) -> str:
    """The embedder to use: the one an existing index was built with, else --model, else the default."""
    from nlp.embed.registry import DEFAULT_EMBEDDER

    manifest_path = index_dir / "manifest.json"
    if manifest_path.exists():
        from nlp.index.manifest import read_manifest

        built_with = read_manifest(index_dir)["embedder"]["name"]
        return model or built_with
    return model or DEFAULT_EMBEDDER


def bulk_engine_for(index_dir: Path, name: str) -> str:
    """The engine to embed passages with: the one that made an existing index's vectors, else the bulk default."""
    from nlp.embed.registry import engine_for_variant

    manifest_path = index_dir / "manifest.json"
    if manifest_path.exists():
        from nlp.index.manifest import read_manifest

        built = read_manifest(index_dir)["embedder"]
        if built["name"] == name:
            return engine_for_variant(name, str(built.get("variant", "")))
    return "auto"


def report_skip(item: Any) -> None:
    """One line per skipped file or record."""
    warn(f"skipped {item.path}: {item.reason}")


def _run_update(
    index_dir: Path,
    sources: tuple[Path, ...],
    *,
    model: str | None,
    fields: tuple[str, str, str],
    strict: bool,
    quiet: bool,
    prune: bool,
    must_exist: bool,
) -> None:
    from nlp.embed import load_embedder
    from nlp.embed.cache import CachedEmbedder
    from nlp.index import update_index

    check_sources_exist(sources)
    name = embedder_name_for(index_dir, model)
    engine = bulk_engine_for(index_dir, name)
    documents = read_sources(sources, *fields, strict=strict)
    report = update_index(
        index_dir,
        documents,
        # Through the vector cache, so 'inovasi label' and 'train' never embed these passages again.
        embedder_factory=lambda: CachedEmbedder(load_embedder(name, engine=engine)),
        embedder_name=name,
        prune=prune,
        must_exist=must_exist,
        progress=ProgressBar(enabled=not quiet),
        on_skip=report_skip,
    )
    if report.documents == 0 and not report.skipped:
        raise click.ClickException(
            f"no documents found in {', '.join(map(str, sources))}; "
            "give folders or files of .txt .md .pdf .docx .jsonl .csv .xlsx"
        )
    state = "updated" if report.published else "unchanged, nothing written"
    click.echo(
        f"{index_dir}: {state}. {report.added} added, {report.replaced} changed, {report.unchanged} unchanged, "
        f"{report.removed} removed; {report.passages_embedded} passages embedded; "
        f"now {report.documents} documents, {report.passages} passages ({report.structure}); "
        f"{len(report.skipped)} skipped; {report.seconds:.1f} s"
    )
    if report.skipped:
        warn(
            f"{len(report.skipped)} files or records were skipped (listed above); fix them and run again, "
            "or use --strict to stop at the first one"
        )


@click.group("index")
def index_group() -> None:
    """Build and maintain a search index (SQLite store + FAISS vectors + BM25)."""


@index_group.command("build")
@source_options
@index_option
@model_option
@click.option("--prune", is_flag=True, help="Remove documents that are no longer in the sources.")
def build_command(
    sources: tuple[Path, ...],
    id_field: str,
    text_field: str,
    title_field: str,
    strict: bool,
    quiet: bool,
    index_dir: Path,
    model: str | None,
    prune: bool,
) -> None:
    """Create or update an index from files and folders.

    SOURCES are files or folders (read recursively) of .txt, .md, .pdf, .docx,
    .jsonl, .csv and .xlsx. Unchanged documents are never embedded again;
    changed ones are replaced. Bad files are reported and skipped.
    """
    _run_update(
        index_dir,
        sources,
        model=model,
        fields=(id_field, text_field, title_field),
        strict=strict,
        quiet=quiet,
        prune=prune,
        must_exist=False,
    )


@index_group.command("add")
@source_options
@index_option
def add_command(
    sources: tuple[Path, ...],
    id_field: str,
    text_field: str,
    title_field: str,
    strict: bool,
    quiet: bool,
    index_dir: Path,
) -> None:
    """Add (or update) documents in an existing index."""
    _run_update(
        index_dir,
        sources,
        model=None,
        fields=(id_field, text_field, title_field),
        strict=strict,
        quiet=quiet,
        prune=False,
        must_exist=True,
    )


@index_group.command("remove")
@click.argument("ids", nargs=-1, required=True)
@index_option
@click.option("--missing-ok", is_flag=True, help="Ignore ids that are not in the index.")
def remove_command(ids: tuple[str, ...], index_dir: Path, missing_ok: bool) -> None:
    """Remove documents by id."""
    from nlp.errors import QueryError
    from nlp.index import Index, update_index

    index = Index.open(index_dir)
    found = index.store.seqs_for_ids(ids)
    index.close()
    missing = [i for i in ids if i not in found]
    if missing and not missing_ok:
        raise QueryError(
            f"{index_dir}: no document with id {', '.join(map(repr, missing))}; nothing removed "
            "(check the ids, or pass --missing-ok to remove the others)"
        )
    name = index.embedder_name
    report = update_index(
        index_dir, [], embedder_factory=lambda: None, embedder_name=name, remove_ids=list(ids), must_exist=True
    )
    click.echo(
        f"{index_dir}: removed {report.removed} documents; now {report.documents} documents, {report.passages} passages"
    )


@index_group.command("info")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def info_command(index_dir: Path, as_json: bool) -> None:
    """Show what an index holds (reads only the manifest and file sizes)."""
    from nlp.index import Index

    info = Index.open(index_dir).info()
    if as_json:
        click.echo(json.dumps(info.__dict__, ensure_ascii=False, indent=2))
        return
    vectors = info.vectors
    params = ", ".join(f"{k}={v}" for k, v in vectors.get("params", {}).items())
    key_values(
        [
            ("index", info.path),
            ("format", f"inovasi-index v{info.format_version}, generation {info.generation}"),
            ("documents", f"{info.documents:,}"),
            ("passages", f"{info.passages:,}"),
            (
                "embedder",
                f"{info.embedder['name']} (dim {info.embedder['dimension']}, "
                f"weights {info.embedder['fingerprint'][:12]}, "
                f"vectors {info.embedder.get('variant') or 'float32'})",
            ),
            ("vectors", vectors["structure"] + (f" ({params})" if params else "")),
            (
                "lexical",
                f"BM25 {info.lexical.get('method', '')} k1={info.lexical.get('k1')} b={info.lexical.get('b')}, "
                f"{info.lexical.get('stemmer', '')} stems",
            ),
            ("metadata fields", ", ".join(info.meta_fields) or "-"),
            ("size on disk", f"{info.bytes_on_disk / 1e6:.1f} MB"),
            ("created", info.created_at),
            ("updated", info.updated_at),
        ]
    )


@index_group.command("verify")
@index_option
def verify_command(index_dir: Path) -> None:
    """Check checksums, counts and that store, vectors and BM25 agree; exit 1 on any damage."""
    from nlp.index import Index

    index = Index.open(index_dir)
    problems = index.verify()
    if problems:
        for problem in problems:
            click.echo(f"damaged: {problem}", err=True)
        click.echo(
            f"Error: {index_dir}: {len(problems)} problem(s) found; rebuild the index with "
            "'inovasi index build SOURCES --index DIR' into a new folder, or restore a backup",
            err=True,
        )
        sys.exit(1)
    m = index.manifest
    click.echo(
        f"{index_dir}: OK ({m['counts']['documents']} documents, {m['counts']['passages']} passages, "
        f"{len(m['checksums'])} files checked)"
    )
