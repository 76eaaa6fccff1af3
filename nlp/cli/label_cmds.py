"""``inovasi labels | label | train | evaluate | report``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from nlp.cli.index_cmds import check_sources_exist, model_option, read_sources, report_skip, source_options
from nlp.cli.render import ProgressBar, key_values, warn

classifier_option = click.option(
    "--classifier",
    "classifier_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="INOVASI_CLASSIFIER",
    help="Classifier folder from 'inovasi train' (default: the one shipped with inovasi). Env INOVASI_CLASSIFIER.",
)
labels_option = click.option(
    "--labels",
    "label_paths",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Gold label files (*.labels.jsonl) or folders of them; repeatable.",
)


engine_option = click.option(
    "--engine",
    type=click.Choice(("auto", "openvino", "onnx", "torch")),
    default="auto",
    show_default=True,
    envvar="INOVASI_ENGINE",
    help="How passages are embedded: auto (int8 OpenVINO on CPU, else int8 ONNX; torch on a GPU), "
    "openvino, onnx, or torch (float32). "
    "Env INOVASI_ENGINE.",
)


def _embedder_for(classifier: Any, model: str | None, engine: str = "auto") -> Any:
    """The classifier's embedder behind the vector cache (the model itself loads only if something needs embedding)."""
    from nlp.embed.cache import CachedEmbedder

    name = model or classifier.embedder["name"]
    embedder = CachedEmbedder(_LazyEmbedder(name, engine))
    classifier.check_embedder(embedder)
    return embedder


class _LazyEmbedder:
    """Loads the bulk engine on the first passage that really needs embedding."""

    def __init__(self, name: str, engine: str = "auto") -> None:
        from nlp.embed import load_embedder
        from nlp.embed.registry import engine_variant

        self._light = load_embedder(name, engine="nano") if name == "e5-small" else None
        self._name = name
        self._engine = engine
        self._full: Any = None
        # Known before the model loads: the vector cache is chosen by it.
        self.variant = engine_variant(name, engine)

    def _model(self) -> Any:
        if self._full is None:
            from nlp.embed import load_embedder

            self._full = load_embedder(self._name, engine=self._engine)
        return self._full

    def __getattr__(self, attribute: str) -> Any:
        if attribute in ("name", "dimension", "max_tokens", "fingerprint", "count_tokens") and self._light is not None:
            return getattr(self._light, attribute)
        return getattr(self._model(), attribute)


def _load_classifier(classifier_dir: Path | None) -> Any:
    from nlp.classify.model import Classifier

    return Classifier.load(classifier_dir)


@click.command("labels")
@click.option("--json", "as_json", is_flag=True, help="Print the scheme as JSON.")
@click.option("--lang", type=click.Choice(("id", "en")), default="id", show_default=True, help="Display language.")
def labels_command(as_json: bool, lang: str) -> None:
    """Show the label scheme: families, labels, definitions and evidence signals."""
    from nlp.classify.scheme import load_scheme

    scheme = load_scheme()
    if as_json:
        click.echo(json.dumps(scheme.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Label scheme {scheme.name} v{scheme.version}\n")
    for family in scheme.families:
        click.echo(click.style(f"{family.id} ({family.kind}): {getattr(family, 'name_' + lang)}", bold=True))
        for label in family.labels:
            name = getattr(label, "name_" + lang) or label.id
            definition = getattr(label, "definition_" + lang)
            click.echo(f"  {label.id:<26} {name}")
            if definition:
                click.echo(f"  {'':<26} {definition}")
        click.echo("")
    click.echo(click.style("signals", bold=True))
    for signal in scheme.signals:
        click.echo(f"  {signal.id:<26} {signal.polarity:<8} {signal.category:<13} {getattr(signal, 'name_' + lang)}")


@click.command("label")
@source_options
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Reuse the vectors of this index for documents it already holds (same id and text).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write records here (default: standard output).",
)
@click.option("--format", "fmt", type=click.Choice(("jsonl", "csv", "table")), default="jsonl", show_default=True)
@click.option("--resume", is_flag=True, help="Continue an interrupted run: skip documents already in --output.")
@classifier_option
@model_option
@engine_option
def label_command(
    sources: tuple[Path, ...],
    id_field: str,
    text_field: str,
    title_field: str,
    strict: bool,
    quiet: bool,
    index_dir: Path | None,
    output: Path | None,
    fmt: str,
    resume: bool,
    classifier_dir: Path | None,
    model: str | None,
    engine: str,
) -> None:
    """Label every document in SOURCES: trend, PP 38/2017 objective and form, sustainability with evidence.

    Reads the same sources as 'index build'. Streams in constant memory; bad
    files are reported and skipped. Output is one record per document.
    """
    from nlp.classify.labelling import SentenceEmbedding, completed_ids, csv_row, label_documents
    from nlp.index import Index

    check_sources_exist(sources)
    if resume and output is None:
        raise click.UsageError("--resume needs --output FILE (the file to continue)")
    if fmt == "table" and output is not None:
        raise click.UsageError("--format table prints to the terminal; use jsonl or csv with --output")
    classifier = _load_classifier(classifier_dir)
    embedder = _embedder_for(classifier, model, engine)
    sentences = SentenceEmbedding(embedder)
    index = None
    if index_dir is not None:
        index = Index.open(index_dir)
        if index.embedder_fingerprint != classifier.embedder["fingerprint"]:
            raise click.UsageError(
                f"--index {index_dir} was built with {index.embedder_name!r}, but the classifier "
                f"reads {classifier.embedder['name']!r} vectors; label without --index"
            )
    done = completed_ids(output, fmt) if resume and output is not None else set()
    if output is not None and output.exists() and not resume:
        raise click.UsageError(f"{output} exists; pass --resume to continue it, or choose another --output")
    skipped: list[Any] = []
    documents = (d for d in read_sources(sources, id_field, text_field, title_field, strict) if _keep(d, done, skipped))
    needs_header = output is None or not output.exists() or output.stat().st_size == 0
    handle = open(output, "a", encoding="utf-8", newline="") if output is not None else sys.stdout
    writer = csv.writer(handle) if fmt == "csv" else None
    if writer is not None and needs_header:
        from nlp.classify.labelling import CSV_COLUMNS

        writer.writerow(CSV_COLUMNS)
    progress = ProgressBar(enabled=not quiet and output is not None)
    progress.start("labelling", None)
    counts = {"documents": 0, "innovations": 0, "at_risk": 0}
    table_rows: list[dict[str, Any]] = []
    try:
        for records in label_documents(
            documents, classifier, embedder, index=index, progress=progress.advance, embed=sentences
        ):
            for record in records:
                counts["documents"] += 1
                counts["innovations"] += record["is_innovation"]
                counts["at_risk"] += record["sustainability"] == "at_risk"
                if fmt == "jsonl":
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                elif fmt == "csv":
                    writer.writerow(csv_row(record))
                else:
                    table_rows.append(record)
            handle.flush()
    finally:
        progress.finish()
        if output is not None:
            handle.close()
    if fmt == "table":
        from nlp.cli.render import labels_table

        labels_table(table_rows)
    where = f" to {output}" if output else ""
    warn(
        f"labelled {counts['documents']} documents{where} ({counts['innovations']} innovations, "
        f"{counts['at_risk']} at risk); {len(done)} already done; {len(skipped)} skipped; "
        f"{embedder.misses - sentences.embedded} passages embedded, {embedder.hits - sentences.cached} from cache; "
        f"{sentences.embedded} evidence sentences embedded, {sentences.cached} from cache"
    )


def _keep(item: Any, done: set[str], skipped: list[Any]) -> bool:
    from nlp.ingest import Skipped

    if isinstance(item, Skipped):
        report_skip(item)
        skipped.append(item)
        return False
    return item.id not in done


@click.command("train")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@labels_option
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Classifier folder to write.",
)
@model_option
@engine_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def train_command(
    sources: tuple[Path, ...],
    label_paths: tuple[Path, ...],
    output: Path,
    model: str | None,
    engine: str,
    quiet: bool,
) -> None:
    """Fit all label families on labelled documents and write a classifier folder.

    SOURCES are read like 'index build'; --labels gives the gold labels (matched
    by document id). Fitting uses the train split only; the dev split (one
    document in five, fixed by id) is measured and its metrics stored.
    """
    from nlp.classify.corpus import iter_labelled, read_gold
    from nlp.classify.scheme import load_scheme
    from nlp.classify.training import evaluate_results, fit_classifier

    check_sources_exist(sources)
    gold = read_gold(label_paths)
    labelled = list(iter_labelled(sources, gold))
    if not labelled:
        raise click.ClickException("no document in SOURCES has gold labels; check ids and --labels")
    name = model or "e5-small"
    embedder = _embedder_for_training(name, engine)
    analysed = _analyse(labelled, embedder, quiet)
    train = [(a, ld.gold) for a, ld in zip(analysed, labelled, strict=True) if not ld.dev]
    dev = [(a, ld.gold) for a, ld in zip(analysed, labelled, strict=True) if ld.dev]
    info = {"name": embedder.name, "fingerprint": embedder.fingerprint(), "dimension": int(embedder.dimension)}
    embed = embedder.embed_passages
    classifier = fit_classifier([a for a, _ in train], [g for _, g in train], load_scheme(), info, embed=embed)
    metrics = evaluate_results([a for a, _ in dev], classifier.predict([a for a, _ in dev], embed), [g for _, g in dev])
    classifier.metrics = {"split": "dev", **metrics}
    classifier.training.update({"train_documents": len(train), "dev_documents": len(dev)})
    classifier.save(output)
    click.echo(
        f"{output}: trained on {len(train)} documents; dev ({len(dev)}): "
        f"trends macro-F1 {metrics['trends']['macro_f1']:.3f}, objectives "
        f"{metrics['pp38_objectives']['macro_f1']:.3f}, form accuracy {metrics['pp38_form']['accuracy']:.3f}, "
        f"sustainability macro-F1 {metrics['sustainability']['macro_f1']:.3f}, "
        f"signals F1 {metrics['signals']['f1']:.3f} per sentence, "
        f"{metrics['signals']['by_document']['f1']:.3f} per document"
    )


def _embedder_for_training(name: str, engine: str = "auto") -> Any:
    from nlp.embed.cache import CachedEmbedder

    return CachedEmbedder(_LazyEmbedder(name, engine))


def _analyse(labelled: list[Any], embedder: Any, quiet: bool) -> list[Any]:
    from nlp.classify.features import analyse_documents

    progress = ProgressBar(enabled=not quiet)
    progress.start("analysing", len(labelled))
    try:
        return list(analyse_documents([ld.document for ld in labelled], embedder, progress=progress.advance))
    finally:
        progress.finish()


@click.command("evaluate")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@labels_option
@classifier_option
@click.option(
    "--split",
    type=click.Choice(("dev", "train", "all")),
    default="dev",
    show_default=True,
    help="Which documents to measure (the split is fixed by document id).",
)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@engine_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def evaluate_command(
    sources: tuple[Path, ...],
    label_paths: tuple[Path, ...],
    classifier_dir: Path | None,
    split: str,
    fmt: str,
    engine: str,
    quiet: bool,
) -> None:
    """Measure a classifier against gold labels: per-label P/R/F1, macro-F1, confusion, signals, calibration."""
    from nlp.classify.corpus import iter_labelled, read_gold
    from nlp.classify.training import evaluate_results

    check_sources_exist(sources)
    classifier = _load_classifier(classifier_dir)
    gold = read_gold(label_paths)
    labelled = [ld for ld in iter_labelled(sources, gold) if split == "all" or (split == "dev") == ld.dev]
    if not labelled:
        raise click.ClickException(f"no labelled documents in the {split} split of SOURCES")
    embedder = _embedder_for(classifier, None, engine)
    analysed = _analyse(labelled, embedder, quiet)
    metrics = evaluate_results(
        analysed, classifier.predict(analysed, embedder.embed_passages), [ld.gold for ld in labelled]
    )
    if fmt == "json":
        click.echo(json.dumps({"split": split, **metrics}, ensure_ascii=False, indent=2))
        return
    from nlp.cli.render import metrics_tables

    metrics_tables(metrics, title=f"{split} split, {metrics['documents']} documents")


@click.command("report")
@click.argument("labels_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="HTML file to write (one self-contained page).",
)
@click.option("--title", default=None, help="Page title.")
def report_command(labels_file: Path, output: Path, title: str | None) -> None:
    """Turn a labels JSONL file into one self-contained HTML page of charts and a filterable table."""
    from nlp.report import build_report, read_label_records, write_report

    kwargs = {"title": title} if title else {}
    html = build_report(read_label_records(labels_file), **kwargs)
    write_report(html, output)
    key_values([("report", str(output)), ("size", f"{len(html.encode()) / 1e3:.0f} kB")])
