"""Rendering for the CLI: tables, JSON/JSONL/CSV, progress bars and summaries."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")


def stderr_console() -> Any:
    """A rich console on stderr (progress and warnings never mix into results on stdout)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class ProgressBar:
    """A rich progress bar on stderr implementing the library's Progress protocol."""

    LABELS = {
        "reading": "Reading documents",
        "embedding": "Embedding passages",
        "lexical": "Writing BM25 and vectors",
        "labelling": "Labelling documents",
        "analysing": "Reading and embedding documents",
    }

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._unit = "docs"

    def start(self, phase: str, total: int | None) -> None:
        """Begin a phase; total None shows a count and rate without ETA."""
        if not self.enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._unit = "passages" if phase == "embedding" else "docs"
        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn(), TaskProgressColumn()]
        elif phase in ("reading", "labelling"):
            columns += [TextColumn("{task.completed}")]
        columns += [
            TextColumn("[cyan]{task.fields[rate]}"),
            TimeElapsedColumn(),
        ]
        if total is not None:
            columns += [TextColumn("ETA"), TimeRemainingColumn()]
        self._progress = Progress(*columns, console=stderr_console(), transient=False)
        self._progress.start()
        self._task = self._progress.add_task(self.LABELS.get(phase, phase), total=total, rate="")

    def advance(self, n: int = 1) -> None:
        """Count n more items done."""
        if self._progress is None:
            return
        self._progress.advance(self._task, n)
        task = self._progress.tasks[0]
        speed = task.speed
        if speed:
            self._progress.update(self._task, rate=f"{speed:,.1f} {self._unit}/s")

    def finish(self) -> None:
        """End the phase."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def warn(message: str) -> None:
    """One warning line on stderr."""
    click.echo(message, err=True)


def write_records(records: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str]) -> None:
    """Print records as json (one array), jsonl (a line each) or csv (columns, nested values as JSON)."""
    out = sys.stdout
    if fmt == "json":
        json.dump(list(records), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record.get(c)) for c in columns])
    else:  # pragma: no cover - click restricts choices
        raise ValueError(fmt)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def hits_table(hits: Iterable[Any], title: str) -> None:
    """Search hits as a table with query terms highlighted in the snippets."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=True, title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("document", overflow="fold", max_width=38)
    table.add_column("snippet", overflow="fold")
    for hit in hits:
        head = Text()
        head.append(hit.title or hit.id, style="bold")
        head.append(f"\n{hit.id}", style="dim")
        where = ", ".join(str(v) for v in (hit.meta.get("region"), hit.meta.get("year")) if v)
        if where:
            head.append(f"\n{where}", style="green")
        snippet = Text(hit.snippet)
        for start, end in hit.highlights:
            snippet.stylize("bold yellow", start, end)
        table.add_row(str(hit.rank), f"{hit.score:.3f}", head, snippet)
    Console().print(table)


def key_values(rows: Sequence[tuple[str, Any]]) -> None:
    """Two aligned columns of facts."""
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {value}")


def labels_table(records: Sequence[dict[str, Any]]) -> None:
    """Label records as a terminal table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("id", "innovation", "trends", "objectives", "form", "sustainability", "signals"):
        table.add_column(column, overflow="fold")
    for r in records:
        signals = ", ".join(sorted({s["signal"] for s in r["signals"]}))
        table.add_row(
            r["id"],
            f"{'yes' if r['is_innovation'] else 'no'} {r['innovation_score']:.2f}",
            ", ".join(r["trends"]) or "-",
            ", ".join(r["pp38_objectives"]) or "-",
            r["pp38_form"],
            r["sustainability"],
            signals or "-",
        )
    Console().print(table)


def metrics_tables(metrics: dict[str, Any], title: str) -> None:
    """Evaluation metrics as tables: per-label P/R/F1 per family, confusion matrices, signals, calibration."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{title}[/bold]")
    summary = Table(title="summary", title_justify="left")
    summary.add_column("family")
    summary.add_column("macro-F1", justify="right")
    summary.add_column("accuracy", justify="right")
    for family in ("is_innovation", "trends", "pp38_objectives", "pp38_form", "sustainability"):
        m = metrics[family]
        summary.add_row(family, f"{m['macro_f1']:.3f}", f"{m['accuracy']:.3f}" if "accuracy" in m else "-")
    s = metrics["signals"]
    summary.add_row("signals (micro, per sentence)", f"{s['f1']:.3f}", "-")
    summary.add_row("signals (micro, per document)", f"{s['by_document']['f1']:.3f}", "-")
    console.print(summary)
    for family in ("is_innovation", "trends", "pp38_objectives", "pp38_form", "sustainability"):
        table = Table(title=family, title_justify="left")
        for column in ("label", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="right" if column != "label" else "left")
        for label, v in metrics[family]["labels"].items():
            table.add_row(label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
        console.print(table)
        confusion = metrics[family].get("confusion")
        if confusion:
            matrix = Table(title=f"{family}: confusion (rows gold, columns predicted)", title_justify="left")
            labels = list(confusion)
            matrix.add_column("gold \\ predicted")
            for label in labels:
                matrix.add_column(label, justify="right")
            for gold_label in labels:
                matrix.add_row(gold_label, *[str(confusion[gold_label][p]) for p in labels])
            console.print(matrix)
    table = Table(title="signals", title_justify="left")
    for column in ("signal", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="right" if column != "signal" else "left")
    for name, v in s["signals"].items():
        table.add_row(name, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    console.print(table)
    console.print(
        f"calibration: expected calibration error {metrics['calibration']['ece']:.3f} "
        f"over {metrics['calibration']['probabilities']} probabilities"
    )
