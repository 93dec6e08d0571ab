"""Comment themes: feedback comments (English and Spanish) grouped by similarity with TF-IDF + NMF, named by top terms."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import ROOT

# Bump when the grouping changes: stored theme roll-ups (core.rollups) made by another method are redone.
METHOD_VERSION = 2
MIN_COMMENTS = 8
MERGE_SIMILARITY = 0.3   # word groups this alike (cosine of their term profiles) are one theme
MAX_COMMENTS = 5000  # the newest comments of the period; enough for themes, bounded in time
LEXICON_PATH = ROOT / "data" / "feedback" / "lexicon.txt"
TYPO_MIN_LENGTH = 5  # shorter words are too often another real word one edit away
# A comment's topic families ('~money') count twice a word: enough to hold 'charged twice' and 'wrong
# invoice' in one theme, not so much that every money comment is one theme whatever it says.
FAMILY_MARK = "~"
FAMILY_WEIGHT = 2.0

SPANISH_STOP_WORDS = frozenset("""
a al algo algun alguna algunas alguno algunos ante antes aqui asi aun aunque bien cada casi como con contra
cual cuando de del desde donde dos el ella ellas ello ellos en entre era eran es esa esas ese eso esos esta
estaba estado estamos estan estar este esto estos estoy fue fueron ha habia han hasta hay la las le les lo
los mas me mi mis mucho muchos muy nada ni no nos nosotros nuestra nuestro o os otra otro para pero poco por
porque que quien se sea ser si sin sobre solo son su sus tambien tan tanto te tenemos tener tengo ti tiene
tienen todo todos tu tus un una uno unos usted ustedes va vamos y ya yo
acabo ademas ahora alli ambos aquel aquella cosa cosas cual cuales cuanto cuantos debe deben deberia demasiado
dia dias durante ellas esas estais estaban estas este fin favor fue gran hace hacen hacer hacemos hago hemos
hoy ir lunes martes mejor menos mes meses mi mia mientras misma mismo mucha muchas muchisimo nadie nuestras
nuestros nunca otras otros parece podemos poder podeis podria podrian porfa pues puede pueden puedo quiere
quieren quisiera realmente sabe se semana semanas sea segun sido siempre sigo sigue siguen solamente tal
tampoco tanta tantas tantos teneis tenia tenian toda todas todavia tras vais van vez voy vuestra vuestro
ultimo ultima ultimos ultimas ayer anoche manana tarde tardes pasa pasan pasar pasado pasada paso pasos
forma formas entero entera
""".split())

# Words every comment here is about, or that say nothing about what it is about; they would only blur the themes.
DOMAIN_STOP_WORDS = frozenset("""
aftercare app apps application applications aplicacion aplicaciones plataforma platform tool herramienta
product producto please gracias thanks thank really just hola hello hi use using used usar uso usamos
need needs needed want wants would like add added adding missing necesitamos necesito necesita falta faltan
quiero queremos nos guys pls thing things stuff lot lots way keep keeps kept still always every today
yesterday day days week weeks month months get gets got getting make makes made also even ever since
work works worked working funciona funcionan funcionar funcionando funcionaba issue issues problem
problems problema problemas ok okay bueno buena vale sure maybe actually anymore
minute minutes hour hours second seconds minuto minutos hora horas segundo segundos
""".split())


@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | SPANISH_STOP_WORDS | DOMAIN_STOP_WORDS


_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1 << 16)
def _plain(word: str) -> str:
    """The word without accents (ñ becomes n), so 'exportación' and 'exportacion' are one word."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Lexicon:
    """The lexicon, indexed for lookups: exact words, word starts, phrases, one-letter slips and families."""

    exact: dict[str, tuple[str, ...]]
    prefixes: dict[str, tuple[str, ...]]
    # first word -> (phrase words, term) pairs, the longest phrase first
    phrases: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]
    exact_typos: dict[str, frozenset[str]]      # a known word and each one-letter deletion of it -> known words
    prefix_typos: dict[str, frozenset[str]]
    terms: frozenset[str]                       # every word of every term
    families: dict[str, str]                    # a term's word -> the family of terms (topic) it belongs to


@lru_cache(maxsize=1 << 16)
def _near_keys(word: str) -> frozenset[str]:
    """The word and each of its one-letter deletions: two words one edit apart share one of these."""
    return frozenset({word} | {word[:i] + word[i + 1:] for i in range(len(word))})


def parse_lexicon(lines) -> Lexicon:
    """Read `[family]` and `term: variant, variant*, multi word variant` lines (see data/feedback/lexicon.txt)."""
    exact: dict[str, tuple[str, ...]] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    phrases: dict[str, list] = defaultdict(list)
    families: dict[str, str] = {}
    family = None
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            family = None if line == "[-]" else line[1:-1].strip()
            continue
        term, sep, variants = line.partition(":")
        term_words = tuple(_WORD.findall(_plain(term.lower())))
        if not sep or not term_words:
            raise ValueError(f"lexicon line {number}: expected 'term: variant, ...'")
        if family:
            families.update((w, family) for w in term_words)
        for variant in [term, *variants.split(",")]:
            variant = _plain(variant.strip().lower())
            is_prefix = variant.endswith("*")
            words = tuple(_WORD.findall(variant))
            if not words:
                continue
            if is_prefix:
                prefixes[words[0]] = term_words
            elif len(words) == 1:
                exact[words[0]] = term_words
            else:
                phrases[words[0]].append((words, term_words))
    exact_typos: dict[str, set[str]] = defaultdict(set)
    for word in exact:
        if len(word) >= TYPO_MIN_LENGTH:
            for key in _near_keys(word):
                exact_typos[key].add(word)
    prefix_typos: dict[str, set[str]] = defaultdict(set)
    for prefix in prefixes:
        if len(prefix) >= TYPO_MIN_LENGTH:
            for key in _near_keys(prefix):
                prefix_typos[key].add(prefix)
    return Lexicon(exact=exact, prefixes=prefixes,
                   phrases={w: tuple(sorted(p, key=lambda x: -len(x[0]))) for w, p in phrases.items()},
                   exact_typos={k: frozenset(v) for k, v in exact_typos.items()},
                   prefix_typos={k: frozenset(v) for k, v in prefix_typos.items()},
                   terms=frozenset(w for t in (*exact.values(), *prefixes.values()) for w in t), families=families)


@cache
def lexicon() -> Lexicon:
    """The bilingual product-feedback lexicon shipped in data/feedback/lexicon.txt."""
    with open(LEXICON_PATH, encoding="utf-8") as f:
        return parse_lexicon(f)


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
                                            and a[i + 2:] == b[i + 2:])
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


@lru_cache(maxsize=1 << 16)
def _typo_of(word: str) -> tuple[str, ...] | None:
    """The term of the one known word (or word start) that `word` is a one-letter slip of, if exactly one."""
    lex = lexicon()
    found: set[tuple[str, ...]] = set()
    for key in _near_keys(word):
        found.update(lex.exact[w] for w in lex.exact_typos.get(key, ()) if _one_edit(word, w))
    if not found:
        for end in range(len(word), TYPO_MIN_LENGTH - 2, -1):
            start = word[:end]
            for key in _near_keys(start):
                found.update(lex.prefixes[p] for p in lex.prefix_typos.get(key, ()) if _one_edit(start, p))
            if found:
                break
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=1 << 16)
def _word_terms(word: str) -> tuple[str, ...]:
    """What one accent-free word counts as: its lexicon term, nothing (a stop word), or itself."""
    lex, stop = lexicon(), _stop_words()
    if word in lex.exact:
        terms = lex.exact[word]
    elif word in stop or len(word) < 3:
        return ()
    else:
        terms = None
        for end in range(len(word), 2, -1):
            terms = lex.prefixes.get(word[:end])
            if terms:
                break
        terms = terms or (word,)
    return tuple(t for t in terms if t not in stop)


def comment_terms(comment: str, surfaces: dict[str, Counter] | None = None) -> list[str]:
    """The comment as theme terms: lower case, accents stripped, phrases and words through the lexicon, stop words out.

    `surfaces`, when given, collects how each term that the lexicon does not know was written when it had
    accents, so a theme can be named the way people wrote it ('notificación', not 'notificacion').
    """
    lex = lexicon()
    written = _WORD.findall(comment.lower())
    words = [_plain(w) for w in written]
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase, term in lex.phrases.get(words[i], ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                out.extend(t for t in term if t not in _stop_words())
                i += len(phrase)
                break
        else:
            terms = _word_terms(words[i])
            out.extend(terms)
            if surfaces is not None and written[i] != words[i] and terms == (words[i],):
                surfaces[words[i]][written[i]] += 1
            i += 1
    return out


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


def _tfidf(counts, weights, n_docs: int, min_df: float, max_df: float):
    """TF-IDF (sublinear tf, smooth idf, rows of length 1) of distinct documents each standing for `weights` comments.

    The same numbers TfidfVectorizer gives on the comments with their repeats, for a fraction of the work.
    Returns the matrix and the kept columns.
    """
    import numpy as np
    from scipy import sparse
    from sklearn.preprocessing import normalize

    present = counts.copy()
    present.data[:] = 1
    df = np.asarray(present.T @ weights).ravel()
    keep = np.flatnonzero((df >= min_df) & (df <= max_df * n_docs))
    matrix = counts[:, keep].astype(np.float64)
    matrix.data = 1 + np.log(matrix.data)
    idf = np.log((1 + n_docs) / (1 + df[keep])) + 1
    return normalize(matrix @ sparse.diags(idf)), keep


def _name(profile, terms: list[str], surfaces: dict[str, Counter], size: int = 3) -> list[str]:
    """A theme's top terms, skipping plurals of ones already taken, as people wrote them."""
    taken: list[str] = []
    for i in profile.argsort()[::-1]:
        if profile[i] <= 0 or len(taken) == size:
            break
        term = terms[i]
        plural_of_taken = any(term in (t + "s", t + "es") or t in (term + "s", term + "es") for t in taken)
        if term.startswith(FAMILY_MARK) or plural_of_taken:
            continue
        taken.append(term)
    return [surfaces[t].most_common(1)[0][0] if surfaces.get(t) else t for t in taken]


def _fold_variants(freq: Counter, known: frozenset[str]) -> dict[str, str]:
    """Words the lexicon does not know, folded into a more common form of themselves in this batch of comments.

    A rare slip (seen at most twice) of a lexicon word into its term when the term is at least twice as
    common here ('exprotacion' into 'export'); a plural into its singular ('widgets' into 'widget',
    'espacios' into 'espacio'); a rare slip of another word into a word one edit away that is written at
    least three times as often ('wdiget' into 'widget'). Only rare words are taken for slips: a word many
    people write ('change', 'false') is a word, however close it is to 'charge' or 'fails'.
    """
    fold: dict[str, str] = {}
    for word, n in freq.items():
        if word in known or len(word) < TYPO_MIN_LENGTH or n > 2:
            continue
        terms = _typo_of(word)
        if terms and len(terms) == 1 and freq.get(terms[0], 0) >= 2 * n:
            fold[word] = terms[0]
    for word in freq:
        if word in known or word in fold or len(word) < 5:
            continue
        for cut in (1, 2):
            stem = word[:-cut]
            if word.endswith("s" if cut == 1 else "es") and stem in freq and stem not in known:
                fold[word] = stem
                break
    common: dict[str, set[str]] = defaultdict(set)
    for word, n in freq.items():
        if n >= 3 and len(word) >= TYPO_MIN_LENGTH and word not in known and word not in fold:
            for key in _near_keys(word):
                common[key].add(word)
    for word, n in freq.items():
        if word in known or word in fold or len(word) < TYPO_MIN_LENGTH:
            continue
        near = {w for key in _near_keys(word) for w in common.get(key, ())
                if w != word and freq[w] >= 3 * n and _one_edit(word, w)}
        if len(near) == 1:
            fold[word] = near.pop()
    return {word: fold.get(target, target) for word, target in fold.items()}


def group_comments(comments: list[str], *, max_themes: int = 8, seed: int = 0) -> tuple[list[int], list[list[str]]]:
    """Assign each comment a theme index (-1 when it fits none) and return each theme's top terms.

    Comments become lexicon terms (English and Spanish to one vocabulary); rare slips of lexicon words,
    other words' plurals and their rare slips are folded into their common form; each topic family the
    comment touches adds a term; then TF-IDF over the terms. NMF finds up to twice as many word groups as
    themes wanted (people say one thing in several ways); groups whose term profiles are alike (cosine
    similarity of at least MERGE_SIMILARITY) are then merged, and at most max_themes remain. Comments that
    read the same after all this are grouped once, weighted by how many there are.
    """
    import numpy as np
    from scipy import sparse
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    if len(comments) < MIN_COMMENTS:
        return [-1] * len(comments), []
    surfaces: dict[str, Counter] = defaultdict(Counter)
    text_terms: dict[str, tuple[str, ...]] = {}
    freq: Counter = Counter()
    for comment in comments:
        terms = text_terms.get(comment)
        if terms is None:
            terms = text_terms[comment] = tuple(comment_terms(comment, surfaces))
        freq.update(terms)
    fold = _fold_variants(freq, lexicon().terms)
    families = lexicon().families
    distinct: dict[str, int] = {}
    doc_of_text = {}
    for comment, terms in text_terms.items():
        terms = [fold.get(t, t) for t in terms]
        # One extra term per topic family the comment touches ('~money'), so comments about one topic in
        # different words ('charged twice', 'wrong invoice') share something; never part of a name.
        doc_of_text[comment] = " ".join(terms + sorted({FAMILY_MARK + families[t] for t in terms if t in families}))
    row_of = [distinct.setdefault(doc_of_text[c], len(distinct)) if doc_of_text[c] else -1 for c in comments]
    docs = list(distinct)
    if not docs:
        return [-1] * len(comments), []
    weights = np.bincount([r for r in row_of if r >= 0], minlength=len(docs)).astype(np.float64)
    n_docs = int(weights.sum())
    vectorizer = CountVectorizer(token_pattern=r"\S+", lowercase=False)
    matrix, kept = _tfidf(vectorizer.fit_transform(docs), weights, n_docs, 2, 0.5)
    terms = list(vectorizer.get_feature_names_out()[kept])
    family_columns = [i for i, term in enumerate(terms) if term.startswith(FAMILY_MARK)]
    if family_columns:
        scale = np.ones(len(terms))
        scale[family_columns] = FAMILY_WEIGHT
        matrix = normalize(matrix @ sparse.diags(scale))
    k = min(2 * max_themes, n_docs // 6, len(terms) - 1, len(docs))
    if k < 2:
        return [-1] * len(comments), []
    # A distinct text standing for c comments counts as c copies: scaling its row by sqrt(c) gives it the
    # same weight in NMF's squared error. A looser tolerance than the default: which group weighs most in
    # a comment settles long before the last decimals, and it keeps the page's live grouping as fast as before.
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=5e-4)
    doc_weights = model.fit_transform(sparse.diags(np.sqrt(weights)) @ matrix)
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
    merged_weights = np.zeros((doc_weights.shape[0], n_groups))
    merged_profiles = np.zeros((n_groups, profiles.shape[1]))
    for component, group in enumerate(groups):
        if group < 0:
            continue
        merged_weights[:, group] += doc_weights[:, component]
        merged_profiles[group] += profiles[component]
    top_terms = [_name(profile, terms, surfaces) for profile in merged_profiles]
    doc_labels = [int(row.argmax()) if row.max() > 1e-6 else -1 for row in merged_weights]
    return [doc_labels[r] if r >= 0 else -1 for r in row_of], top_terms


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
