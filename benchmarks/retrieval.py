"""Retrieval quality on an Indonesian query set: MRR@10, R@1, R@5 for dense, lexical and hybrid search.

Usage::

    python benchmarks/retrieval.py [../shared/dev-retrieval.jsonl] [--model e5-small] [--engines torch,onnx]
                                   [--sweep] [--json out.json]

The file holds {"type": "passage", "id", "text"} and {"type": "query", "qid",
"text", "relevant"} lines. Passages are indexed with the toolkit's own
``update_index`` (the same path as ``inovasi index build``) in a temporary
folder; queries go through ``nlp.index.searcher``, embedded by the nano engine
like ``inovasi search`` does. For e5-small the passages are embedded once per
engine in ``--engines`` (default ``torch,onnx``: float32 and the int8 engine
that index builds use on CPU), so each row is the exact combination users get.
``--sweep`` also scores the fusion variants the hybrid default was chosen from
(first engine).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SET = HERE.parent.parent / "shared" / "dev-retrieval.jsonl"


def metrics(ranked: list[list[str]], relevant: list[str]) -> dict[str, float]:
    """MRR@10, R@1, R@5 for ranked id lists against one relevant id per query."""
    mrr = r1 = r5 = 0.0
    for ids, rel in zip(ranked, relevant, strict=True):
        top = ids[:10]
        if rel in top:
            rank = top.index(rel) + 1
            mrr += 1 / rank
            r1 += rank == 1
            r5 += rank <= 5
    n = len(relevant)
    return {"mrr@10": round(mrr / n, 4), "r@1": round(r1 / n, 4), "r@5": round(r5 / n, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument("--model", default="e5-small")
    parser.add_argument(
        "--engines", default="torch,onnx", help="e5-small engines that embed the passages, comma-separated"
    )
    parser.add_argument("--sweep", action="store_true", help="also score fusion variants")
    parser.add_argument("--json", dest="json_out", help="write results as JSON here")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE.parent))
    from nlp.embed import load_embedder
    from nlp.index import Index, search, update_index

    search_module = importlib.import_module("nlp.index.searcher")
    from nlp.ingest import Document, content_hash

    rows = [json.loads(line) for line in open(args.dataset, encoding="utf-8") if line.strip()]
    passages = [r for r in rows if r["type"] == "passage"]
    queries = [r for r in rows if r["type"] == "query"]
    docs = [
        Document(
            id=p["id"],
            text=p["text"],
            title=None,
            source=args.dataset,
            meta={},
            content_hash=content_hash(None, p["text"]),
        )
        for p in passages
    ]
    results: dict[str, object] = {
        "dataset": args.dataset,
        "model": args.model,
        "passages": len(passages),
        "queries": len(queries),
    }
    engines = [e.strip() for e in args.engines.split(",") if e.strip()] if args.model == "e5-small" else ["auto"]
    query_embedder = load_embedder(args.model, engine="nano") if args.model == "e5-small" else load_embedder(args.model)
    relevant = [q["relevant"] for q in queries]
    results["by_engine"] = {}
    for number, engine in enumerate(engines):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            update_index(
                Path(tmp) / "idx",
                docs,
                embedder_factory=lambda engine=engine: load_embedder(args.model, engine=engine),
                embedder_name=args.model,
            )
            scores: dict[str, object] = {"index_seconds": round(time.perf_counter() - started, 2)}
            index = Index.open(Path(tmp) / "idx")
            scores["variant"] = index.manifest["embedder"].get("variant", "")
            k = len(passages)
            runs = {}
            for mode in ("dense", "lexical", "hybrid"):
                runs[mode] = [search(index, q["text"], embedder=query_embedder, k=k, mode=mode) for q in queries]
                scores[mode] = metrics([[h.id for h in hits] for hits in runs[mode]], relevant)
            index.close()
        results["by_engine"][engine] = scores
        if number > 0:
            continue
        # The first engine's scores stay at the top level, where earlier result files had them.
        results.update({key: scores[key] for key in ("index_seconds", "dense", "lexical", "hybrid")})
        if args.sweep:
            sweep = {}
            dense_ranks = [{h.id: h.rank for h in hits} for hits in runs["dense"]]
            lexical_ranks = [{h.id: h.rank for h in hits} for hits in runs["lexical"]]
            for rrf_k in (5, 10, 20, 30, 60):
                for w in (1.0, 1.5, 2.0, 3.0):
                    ranked = []
                    for d, lx in zip(dense_ranks, lexical_ranks, strict=True):
                        fused: dict[str, float] = {}
                        for ranks, weight in ((d, w), (lx, 1.0)):
                            for doc_id, rank in ranks.items():
                                fused[doc_id] = fused.get(doc_id, 0.0) + weight / (rrf_k + rank)
                        ranked.append(sorted(fused, key=lambda i: -fused[i]))
                    sweep[f"rrf k={rrf_k} dense_weight={w}"] = metrics(ranked, relevant)
            results["sweep"] = sweep
    results["defaults"] = {
        "rrf_k": search_module.RRF_K,
        "dense_weight": search_module.DENSE_WEIGHT,
        "lexical_weight": search_module.LEXICAL_WEIGHT,
    }
    print(f"{'mode (passages by engine; queries by nano)':<44} {'MRR@10':>7} {'R@1':>6} {'R@5':>6}")
    for engine, scores in results["by_engine"].items():
        for name in ("dense", "lexical", "hybrid"):
            m = scores[name]
            print(f"{name + ' (' + engine + ')':<44} {m['mrr@10']:>7.3f} {m['r@1']:>6.3f} {m['r@5']:>6.3f}")
    for name, m in results.get("sweep", {}).items():
        print(f"{name:<44} {m['mrr@10']:>7.3f} {m['r@1']:>6.3f} {m['r@5']:>6.3f}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
