"""`python -m core classify [--local-only]` (JSONL on stdin -> JSONL on stdout), `classify train`, `classify evaluate`."""

from __future__ import annotations

import json
import sys
from itertools import islice

from core.cli import CLIError

# Lines categorised per vectorised call: large enough to amortise the model, small enough to stream.
CHUNK = 2000
MAX_SUBJECT = 200
MAX_DESCRIPTION = 20000


def register(sub) -> None:
    p = sub.add_parser(
        "classify", help="categorise tickets (JSONL on stdin), retrain or evaluate the model",
        description="Without a command: read JSONL tickets ({subject, description, reproducible?, plan?}) on stdin "
                    "and write one JSONL answer per line, in order, with category, confidence, priority, team "
                    "and source. A bad line gets {\"error\": ...} on its line.",
    )
    p.add_argument("--local-only", action="store_true", help="use only the local model; never touch the network")
    p.set_defaults(func=_run_stdin)
    cs = p.add_subparsers(dest="classify_command", metavar="<command>")
    t = cs.add_parser("train", help="retrain the local model on the corpus plus human corrections; write the artifact")
    t.add_argument("--no-db", action="store_true", help="do not read human corrections from the database")
    t.set_defaults(func=_train)
    e = cs.add_parser("evaluate", help="accuracy and per-category precision/recall on held-out tickets")
    e.add_argument("--show-mistakes", action="store_true", help="list the holdout tickets the model gets wrong")
    e.set_defaults(func=_evaluate)


def parse_line(line: str) -> dict:
    """One input line as {subject, description, reproducible, plan}; ValueError with a clear message otherwise."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    subject, description = obj.get("subject", ""), obj.get("description", "")
    if subject is None:
        subject = ""
    if description is None:
        description = ""
    if not isinstance(subject, str):
        raise ValueError("subject must be a string")
    if not isinstance(description, str):
        raise ValueError("description must be a string")
    if not subject.strip() and not description.strip():
        raise ValueError("subject and description are both empty")
    if len(subject) > MAX_SUBJECT:
        raise ValueError(f"subject is longer than {MAX_SUBJECT} characters")
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(f"description is longer than {MAX_DESCRIPTION} characters")
    reproducible = obj.get("reproducible")
    if reproducible is not None and not isinstance(reproducible, bool):
        raise ValueError("reproducible must be true, false or null")
    plan = obj.get("plan")
    if plan is not None and not isinstance(plan, str):
        raise ValueError("plan must be a string")
    return {"subject": subject, "description": description, "reproducible": reproducible, "plan": plan}


def _run_stdin(args) -> int:
    from core.tickets import classify as clf

    out = sys.stdout
    lines = iter(sys.stdin)
    while True:
        chunk = list(islice(lines, CHUNK))
        if not chunk:
            break
        parsed: list[dict | str] = []
        for line in chunk:
            if not line.strip():
                parsed.append("empty line")
                continue
            try:
                parsed.append(parse_line(line))
            except ValueError as exc:
                parsed.append(str(exc))
        good = [p for p in parsed if isinstance(p, dict)]
        decided = iter(clf.classify_many(good, local_only=args.local_only))
        buf = []
        for p in parsed:
            if isinstance(p, str):
                buf.append(json.dumps({"error": p}))
            else:
                buf.append(json.dumps(clf.route(next(decided), reproducible=p["reproducible"], plan=p["plan"])))
        out.write("\n".join(buf) + "\n")
        out.flush()
    return 0


def _print_report(title: str, rep: dict) -> None:
    print(f"{title}: accuracy {rep['accuracy']:.1%} on {rep['n']} tickets")
    print(f"  {'category':<12} {'precision':>9} {'recall':>7} {'support':>8}")
    for cat, m in rep["per_category"].items():
        print(f"  {cat:<12} {m['precision']:>9.1%} {m['recall']:>7.1%} {m['support']:>8}")


def _corrections(no_db: bool) -> list[dict]:
    if no_db:
        print("human corrections: skipped (--no-db)")
        return []
    try:
        from core.db import session_scope
        from core.tickets.classify import human_corrections

        with session_scope() as s:
            rows = human_corrections(session=s)
    except Exception as exc:  # no server, no schema yet, wrong credentials: train on the corpus alone
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"human corrections: skipped, database not reachable ({first[:200]})")
        return []
    print(f"human corrections: {len(rows)} from the database")
    return rows


def _train(args) -> int:
    from core.tickets import classify as clf

    result = clf.train(corrections=_corrections(args.no_db))
    print(f"trained on {result['examples']} tickets ({result['corrections']} human corrections); wrote {result['path']}")
    print(f"training accuracy {result['train']['accuracy']:.1%}")
    _print_report("holdout (hand-written, never trained on)", result["holdout"])
    return 0


def _evaluate(args) -> int:
    from core.tickets import classify as clf

    try:
        result = clf.evaluate()
    except FileNotFoundError as exc:
        raise CLIError(f"corpus file missing: {exc.filename}") from None
    _print_report("held-out 20% of the corpus (model fit on the other 80%)", result["split"])
    _print_report("holdout.jsonl (hand-written, different style; shipped model)", result["holdout"])
    if args.show_mistakes:
        for row, pred in result["holdout"]["mistakes"]:
            print(f"  {row['category']:>11} -> {pred:<11} {row['subject'][:70]}")
    return 0

