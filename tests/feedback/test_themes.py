"""Comment themes: English and Spanish comments about the same thing land together, named by top terms, with trends."""

from __future__ import annotations

from datetime import timedelta

from core.feedback.models import FeedbackItem
from core.feedback.themes import comment_themes, group_comments
from tests.feedback.conftest import utc

SLOW = ["The dashboard is slow to load", "Dashboard very slow today, takes ages to load",
        "El panel tarda mucho en cargar", "El panel va muy lento al cargar"]
EXPORT = ["Please add CSV export for reports", "Export of reports to CSV is broken",
          "Necesitamos exportar los informes a CSV", "Exportar informes a CSV no funciona"]


def test_group_comments_merges_languages_and_names_themes():
    comments = SLOW * 3 + EXPORT * 3
    labels, terms = group_comments(comments, max_themes=2)
    slow_labels = {labels[i] for i in range(len(comments)) if comments[i] in SLOW}
    export_labels = {labels[i] for i in range(len(comments)) if comments[i] in EXPORT}
    assert len(slow_labels) == 1 and len(export_labels) == 1 and slow_labels != export_labels
    names = {" ".join(terms[next(iter(slow_labels))]), " ".join(terms[next(iter(export_labels))])}
    assert any("dashboard" in n or "slow" in n for n in names)
    assert any("csv" in n or "export" in n for n in names)


def test_too_few_comments_give_no_themes():
    assert group_comments(["slow", "slow dashboard"]) == ([-1, -1], [])


def test_comment_themes_counts_and_trend(session, make_account):
    acc = make_account("acme")
    jan, feb = utc(2026, 1, 10), utc(2026, 2, 10)
    rows = [(c, jan) for c in EXPORT * 3] + [(c, jan) for c in SLOW[:1]] + [(c, feb) for c in SLOW * 3] + \
        [(c, feb) for c in EXPORT[:1]] + [("", feb)]
    for i, (comment, at) in enumerate(rows):
        session.add(FeedbackItem(kind="rating", score=2, comment=comment, account_id=acc.id,
                                 created_at=at + timedelta(minutes=i), updated_at=at, source="import"))
    session.flush()
    themes = comment_themes(session=session, start=utc(2026, 1, 1), end=utc(2026, 3, 1), max_themes=2)
    assert sum(t["count"] for t in themes) == len(rows) - 1          # the empty comment is in no theme
    slow = next(t for t in themes if "dashboard" in t["terms"] or "slow" in t["terms"])
    export = next(t for t in themes if t is not slow)
    assert slow["by_month"] == {"2026-01": 1, "2026-02": 12} and slow["trend"] == "rising"
    assert export["by_month"] == {"2026-01": 12, "2026-02": 1} and export["trend"] == "falling"
    assert slow["negative_share"] == 1.0 and all(isinstance(e, str) for e in slow["examples"])


def test_few_distinct_comments_repeated_many_times_still_group():
    from core.feedback.bench import COMMENTS

    labels, terms = group_comments([c for c in COMMENTS if c] * 100)
    assert terms and all(label >= 0 for label in labels)
