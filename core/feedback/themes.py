"""Comment themes: feedback comments (English and Spanish) grouped by similarity with TF-IDF + NMF, named by top terms."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

MIN_COMMENTS = 8
MERGE_SIMILARITY = 0.3   # word groups this alike (cosine of their term profiles) are one theme
MAX_COMMENTS = 5000  # the newest comments of the period; enough for themes, bounded in time

SPANISH_STOP_WORDS = frozenset("""
a al algo algun alguna algunas alguno algunos ante antes aqui asi aun aunque bien cada casi como con contra
cual cuando de del desde donde dos el ella ellas ello ellos en entre era eran es esa esas ese eso esos esta
estaba estado estamos estan estar este esto estos estoy fue fueron ha habia han hasta hay la las le les lo
los mas me mi mis mucho muchos muy nada ni no nos nosotros nuestra nuestro o os otra otro para pero poco por
porque que quien se sea ser si sin sobre solo son su sus tambien tan tanto te tenemos tener tengo ti tiene
tienen todo todos tu tus un una uno unos usted ustedes va vamos y ya yo
""".split())

# Words every comment here is about; they would only blur the themes.
DOMAIN_STOP_WORDS = frozenset("""
aftercare app product producto please gracias thanks thank really just hola hello hi use using usar
need needs want would like add missing necesitamos necesito falta quiero nos
""".split())

# Spanish domain words mapped to their English counterparts so both languages land in the same theme.
GLOSSARY = {
    "panel": "dashboard", "lento": "slow", "lenta": "slow", "lentitud": "slow", "tarda": "slow", "tardan": "slow",
    "cargar": "load", "carga": "load", "soporte": "support", "rapido": "quickly", "rapida": "quickly",
    "amable": "friendly", "exportar": "export", "exportacion": "export", "informes": "reports",
    "factura": "invoice", "facturas": "invoice", "facturacion": "billing", "cobraron": "charged",
    "precio": "price", "constructor": "builder", "agentes": "agents", "agente": "agent",
    "documentacion": "documentation", "docs": "documentation", "ejemplos": "examples", "sesion": "login",
    "inicio": "login", "imprescindible": "must", "flujo": "workflow", "flujos": "workflows",
    "errores": "errors", "error": "errors", "caro": "expensive", "integracion": "integration",
    "resolvieron": "solved", "resuelto": "solved", "resolver": "solve", "enseguida": "quickly",
    "invoices": "invoice", "graficos": "charts", "lentos": "slow", "lentas": "slow",
    "confusa": "confusing", "confuso": "confusing", "incorrecto": "wrong", "incorrecta": "wrong",
    "muestra": "shows", "veces": "twice", "caida": "outage", "caidas": "outages",
    "excelente": "excellent", "atencion": "help", "ayuda": "help", "equipo": "team", "cobro": "charged",
    "resolvio": "solved", "desactualizada": "outdated", "desactualizado": "outdated", "slowly": "slow",
}


def _normalise(comment: str) -> str:
    """Lower-case, accents stripped, Spanish domain words replaced by their English counterparts."""
    import unicodedata

    plain = "".join(ch for ch in unicodedata.normalize("NFKD", comment.lower()) if not unicodedata.combining(ch))
    return " ".join(GLOSSARY.get(word.strip(".,;:!?¡¿()\"'"), word) for word in plain.split())


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | SPANISH_STOP_WORDS | DOMAIN_STOP_WORDS)


def _comments(session: Session, start: datetime, end: datetime, filters: dict | None) -> list:
    where, params = ["char_length(btrim(f.comment)) > 0", "f.created_at >= :start", "f.created_at < :end"], {
        "start": start, "end": end}
    for key in ("kind", "plan"):
        if filters and filters.get(key):
            where.append(f"{'f.kind' if key == 'kind' else 'a.plan'} = ANY(:{key})")
            params[key] = list(filters[key])
    sql = f"""SELECT f.id, f.comment, f.score, f.kind, f.created_at,
                     to_char(date_trunc('month', f.created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month
                FROM feedback_items f JOIN accounts a ON a.id = f.account_id
               WHERE {' AND '.join(where)} ORDER BY f.created_at DESC LIMIT :limit"""
    params["limit"] = MAX_COMMENTS
    return list(reversed(session.execute(text(sql), params).all()))


def group_comments(comments: list[str], *, max_themes: int = 8, seed: int = 0) -> tuple[list[int], list[list[str]]]:
    """Assign each comment a theme index (-1 when it fits none) and return each theme's top terms.

    NMF finds up to twice as many word groups as themes wanted (people say one thing in several ways);
    groups whose term profiles are alike (average cosine similarity of at least MERGE_SIMILARITY) are
    then merged, and at most max_themes remain.
    """
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(comments) < MIN_COMMENTS:
        return [-1] * len(comments), []
    vectorizer = TfidfVectorizer(preprocessor=_normalise, stop_words=_stop_words(),
                                 ngram_range=(1, 1), min_df=2, max_df=0.5, sublinear_tf=True,
                                 token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    try:
        matrix = vectorizer.fit_transform(comments)
    except ValueError:  # every word was a stop word or too rare
        return [-1] * len(comments), []
    terms = vectorizer.get_feature_names_out()
    k = min(2 * max_themes, len(comments) // 6, len(terms) - 1)
    if k < 2:
        return [-1] * len(comments), []
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
    weights = model.fit_transform(matrix)
    profiles = model.components_
    norms = np.linalg.norm(profiles, axis=1)
    live = np.flatnonzero(norms > 0)             # NMF may leave a component empty
    if len(live) == 0:
        return [-1] * len(comments), []
    groups = np.full(len(profiles), -1)
    unit = profiles[live] / norms[live, None]
    if len(live) == 1:
        groups[live] = 0
    else:
        found = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                        distance_threshold=1 - MERGE_SIMILARITY).fit_predict(unit)
        if found.max() + 1 > max_themes:
            found = AgglomerativeClustering(n_clusters=max_themes, metric="cosine", linkage="average").fit_predict(unit)
        groups[live] = found
    n_groups = int(groups.max()) + 1
    merged_weights = np.zeros((weights.shape[0], n_groups))
    merged_profiles = np.zeros((n_groups, profiles.shape[1]))
    for component, group in enumerate(groups):
        if group < 0:
            continue
        merged_weights[:, group] += weights[:, component]
        merged_profiles[group] += profiles[component]
    top_terms = [[terms[i] for i in profile.argsort()[::-1][:3]] for profile in merged_profiles]
    labels = [int(row.argmax()) if row.max() > 1e-6 else -1 for row in merged_weights]
    return labels, top_terms


def comment_themes(*, session: Session, start: datetime, end: datetime, max_themes: int = 8,
                   filters: dict | None = None) -> list[dict]:
    """Themes of the period's comments: name (top terms), count, negative share, counts per month and trend."""
    rows = _comments(session, start, end, filters)
    labels, top_terms = group_comments([r.comment for r in rows], max_themes=max_themes)
    if not top_terms:
        return []
    months = sorted({r.month for r in rows})
    members: dict[int, list] = defaultdict(list)
    for row, label in zip(rows, labels):
        if label >= 0:
            members[label].append(row)
    themes = []
    for label, items in members.items():
        by_month = Counter(r.month for r in items)
        themes.append({
            "name": " · ".join(top_terms[label]),
            "terms": top_terms[label],
            "count": len(items),
            "negative_share": round(sum(1 for r in items if _negative(r.kind, r.score)) / len(items), 3),
            "by_month": {m: by_month.get(m, 0) for m in months},
            "trend": _trend([by_month.get(m, 0) for m in months], [sum(1 for r in rows if r.month == m) for m in months]),
            "examples": [r.comment for r in items[-3:]],
            "feedback_ids": [r.id for r in items],
        })
    themes.sort(key=lambda t: -t["count"])
    return themes


def _negative(kind: str, score: int) -> bool:
    """A detractor (NPS 0-6) or a rating of 1-2 stars."""
    return score <= 6 if kind == "nps" else score <= 2


def _trend(counts: list[int], totals: list[int]) -> str:
    """rising / falling / steady: the theme's share of comments in the last month against the months before."""
    if len(counts) < 2 or totals[-1] == 0 or sum(totals[:-1]) == 0:
        return "new" if len(counts) >= 1 and sum(counts[:-1]) == 0 and counts[-1] > 0 and len(counts) > 1 else "steady"
    last = counts[-1] / totals[-1]
    before = sum(counts[:-1]) / sum(totals[:-1])
    if before == 0:
        return "new" if counts[-1] else "steady"
    if last >= before * 1.3 and counts[-1] >= 2:
        return "rising"
    if last <= before * 0.7:
        return "falling"
    return "steady"
