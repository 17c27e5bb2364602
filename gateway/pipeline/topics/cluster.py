"""Join work orders about one matter at one place: sparse candidates, edges on matter and place, components.

Two work orders are joined when
- they are near duplicates (one issue: the atoms), or
- they name a common specific place (an estate, a village, a school, a
  company, that not a large share of the batch names) and their matter words
  are similar enough (cosine of TF-IDF ≥ `with_place`); a common road or
  street office, which holds many matters, needs ≥ `with_coarse_place`; or
- their matter words are very similar (≥ `without_place`) and nothing says
  they are at different places (different districts, or each names specific
  places and they share none).

Candidates come from inverted indexes (shared places, shared rare keywords),
never from a dense n×n matrix: a 100,000-record report costs a few sparse
products of chunks. The components of the graph are the topics; a component
grown larger than `max_size` is split again with stricter thresholds (one
generic word or place must not chain a hundred matters into one).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from gateway.pipeline.topics.text import Analysed, background_df, is_coarse, is_entity

ATOM, PLACE, COARSE, WORDS, ENTITY = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class ClusterSettings:
    with_place: float = 0.14
    with_coarse_place: float = 0.25
    with_entity: float = 0.22  # a proper name the tagger found (a company, a platform), no place suffix
    without_place: float = 0.5
    top_keywords: int = 8
    combination_keywords: int = 30  # words per text paired with each of its places for candidates
    shared_keywords: int = 3
    max_place_share: float = 0.02  # a place named by more of the batch than this is no place to join on
    min_place_df: int = 50  # … unless the batch is small
    max_keyword_share: float = 0.05
    max_keyword_df: int = 400  # a word in more texts than this finds no candidates alone (its pairs would be too many)
    max_combination_df: int = 2000  # … nor a (place, word) combination in more than this
    max_size: int = 25  # a bigger component is split again with thresholds raised by `stricter`
    stricter: float = 0.06
    chunk: int = 2000


@dataclass
class Clustering:
    labels: np.ndarray  # a topic label (0..k-1) per text
    matter: sparse.csr_matrix  # TF-IDF of the matter words, a row per text
    vocabulary: np.ndarray  # the word of each column

    def keywords(self, top: int = 8) -> dict[int, dict[str, float]]:
        """Each topic's strongest matter words with their summed weights (its centroid, unnormalized)."""
        n = len(self.labels)
        if n == 0:
            return {}
        k = int(self.labels.max()) + 1
        members = sparse.csr_matrix((np.ones(n, dtype=np.float32), (self.labels, np.arange(n))), shape=(k, n))
        sums = (members @ self.matter).tocsr()
        result: dict[int, dict[str, float]] = {}
        for label in range(k):
            start, end = sums.indptr[label], sums.indptr[label + 1]
            idx, weights = sums.indices[start:end], sums.data[start:end]
            order = np.argsort(-weights)[:top]
            result[label] = {str(self.vocabulary[idx[o]]): round(float(weights[o]), 4) for o in order}
        return result


def _binary(rows: list[list[int]], width: int) -> sparse.csr_matrix:
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
    return sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), width))


def _pairs(left: sparse.csr_matrix, at_least: float, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle pairs (i < j) whose row product is ≥ at_least, a chunk of rows at a time."""
    right = left.T.tocsr()
    rows, cols = [], []
    for start in range(0, left.shape[0], chunk):
        product = (left[start:start + chunk] @ right).tocoo()
        keep = (product.data >= at_least) & (product.row + start < product.col)
        rows.append(product.row[keep] + start)
        cols.append(product.col[keep])
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def _weights(texts: Sequence[Analysed]) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Sublinear tf × idf over this batch *and* a real board's counts (ops/train_word_df.py), rows L2-normalized,
    so that a small report still knows 搅拌站 from 问题. Returns (matrix, vocabulary, batch df)."""
    n = len(texts)
    vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True, use_idf=False, norm=None, dtype=np.float32)
    matter = vectorizer.fit_transform([t.words if t.words else ("",) for t in texts]).tocsr()
    df = np.asarray((matter > 0).sum(axis=0)).ravel()
    background_n, background = background_df()
    vocabulary = vectorizer.get_feature_names_out()
    prior = np.fromiter((background.get(w, 0) for w in vocabulary), dtype=np.float64, count=len(vocabulary))
    idf = np.log((1 + n + background_n) / (1 + df + prior)) + 1
    matter = (matter @ sparse.diags(idf.astype(np.float32))).tocsr()
    norms = np.sqrt(np.asarray(matter.multiply(matter).sum(axis=1)).ravel())
    matter = (sparse.diags((1 / np.where(norms > 0, norms, 1)).astype(np.float32)) @ matter).tocsr()
    return matter, vocabulary, df


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    graph = sparse.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def cluster(texts: Sequence[Analysed], atoms: Sequence[int | None] = (), settings: ClusterSettings = ClusterSettings()) -> Clustering:
    """Topics of a batch; texts with the same atom (near-duplicate issue) share one."""
    n = len(texts)
    if n == 0:
        return Clustering(np.empty(0, np.int64), sparse.csr_matrix((0, 1), dtype=np.float32), np.array([""]))
    s = settings
    matter, vocabulary, df = _weights(texts)

    # Places specific enough to join on, fine (estates, villages, schools …) and coarse (roads, street offices).
    place_ids: dict[str, int] = {}
    place_rows = [[place_ids.setdefault(p, len(place_ids)) for p in t.places] for t in texts]
    places = _binary(place_rows, max(1, len(place_ids)))
    place_df = np.asarray(places.sum(axis=0)).ravel()
    specific = (place_df >= 2) & (place_df <= max(s.min_place_df, s.max_place_share * n))
    coarse = np.zeros(max(1, len(place_ids)), dtype=bool)
    entity = np.zeros(max(1, len(place_ids)), dtype=bool)
    for name, column in place_ids.items():
        entity[column] = is_entity(name)
        coarse[column] = is_coarse(name) and not entity[column]
    fine_places = (places @ sparse.diags((specific & ~coarse & ~entity).astype(np.float32))).tocsr()
    coarse_places = (places @ sparse.diags((specific & coarse).astype(np.float32))).tocsr()
    entity_places = (places @ sparse.diags((specific & entity).astype(np.float32))).tocsr()
    for matrix in (fine_places, coarse_places, entity_places):
        matrix.eliminate_zeros()

    # Each text's strongest keywords (in ≥ 2 texts), and the rarer of them for candidates without a shared place.
    keyword_rows, rare_rows = [], []
    cap = min(max(20, s.max_keyword_share * n), s.max_keyword_df)
    for i in range(n):
        start, end = matter.indptr[i], matter.indptr[i + 1]
        idx, weights = matter.indices[start:end], matter.data[start:end]
        ok = df[idx] >= 2
        idx, weights = idx[ok], weights[ok]
        ranked = idx[np.argsort(-weights)]
        keyword_rows.append(ranked[: s.combination_keywords].tolist())
        rare_rows.append([k for k in ranked[: s.top_keywords].tolist() if df[k] <= cap])
    keywords = _binary(rare_rows, matter.shape[1])

    def combined(place_matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """(place, keyword) pairs of each text: texts that share one name a place and a matter word in common.
        Candidates through these instead of through the place alone, so that a community named by thousands of
        work orders costs pairs per matter, not all its pairs."""
        ids: dict[tuple[int, int], int] = {}
        rows = []
        for i in range(n):
            ps = place_matrix.indices[place_matrix.indptr[i]:place_matrix.indptr[i + 1]]
            rows.append([ids.setdefault((int(p), k), len(ids)) for p in ps for k in keyword_rows[i]])
        matrix = _binary(rows, max(1, len(ids)))
        frequent = np.asarray(matrix.sum(axis=0)).ravel() > s.max_combination_df
        if frequent.any():
            matrix = (matrix @ sparse.diags((~frequent).astype(np.float32))).tocsr()
            matrix.eliminate_zeros()
        return matrix

    def cosine(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if len(i) == 0:
            return np.empty(0, np.float32)
        return np.asarray(matter[i].multiply(matter[j]).sum(axis=1)).ravel()

    # Every candidate edge with its kind and cosine; thresholds are applied after, so that a component
    # can be split again with stricter ones without a second search.
    edge_i, edge_j, kinds = [], [], []
    fi, fj = _pairs(combined(fine_places), 1.0, s.chunk)
    ci, cj = _pairs(combined(coarse_places), 1.0, s.chunk)
    ei, ej = _pairs(combined(entity_places), 1.0, s.chunk)
    wi, wj = _pairs(keywords, float(s.shared_keywords), s.chunk)
    has_places = np.diff(fine_places.indptr) > 0
    if len(wi):
        shared = np.asarray(fine_places[wi].multiply(fine_places[wj]).sum(axis=1)).ravel() > 0
        district_ids: dict[str | None, int] = {None: -1}
        district = np.fromiter((district_ids.setdefault(t.district, len(district_ids)) if t.district else -1 for t in texts), dtype=np.int64, count=n)
        conflict = (has_places[wi] & has_places[wj] & ~shared) | ((district[wi] >= 0) & (district[wj] >= 0) & (district[wi] != district[wj]))
        wi, wj = wi[~conflict], wj[~conflict]
    for (a, b), kind in (((fi, fj), PLACE), ((ci, cj), COARSE), ((ei, ej), ENTITY), ((wi, wj), WORDS)):
        edge_i.append(a)
        edge_j.append(b)
        kinds.append(np.full(len(a), kind, np.int8))
    if atoms:
        first_of: dict[int, int] = {}
        ai, aj = [], []
        for position, atom in enumerate(atoms):
            if atom is None:
                continue
            if atom in first_of:
                ai.append(first_of[atom])
                aj.append(position)
            else:
                first_of[atom] = position
        edge_i.append(np.asarray(ai, np.int64))
        edge_j.append(np.asarray(aj, np.int64))
        kinds.append(np.full(len(ai), ATOM, np.int8))
    i, j, kind = np.concatenate(edge_i), np.concatenate(edge_j), np.concatenate(kinds)
    similarity = np.where(kind == ATOM, 1.0, cosine(i, j)) if len(i) else np.empty(0)

    def keep(extra: float) -> np.ndarray:
        return ((kind == ATOM) | ((kind == PLACE) & (similarity >= s.with_place + extra))
                | ((kind == COARSE) & (similarity >= s.with_coarse_place + extra)) | ((kind == ENTITY) & (similarity >= s.with_entity + extra))
                | ((kind == WORDS) & (similarity >= s.without_place + extra)))

    kept = keep(0.0)
    labels = _components(n, i[kept], j[kept])
    for round_ in range(1, 4):  # split what grew too big, with stricter thresholds each round
        sizes = np.bincount(labels)
        big = sizes[labels] > s.max_size
        if not big.any():
            break
        strict = keep(s.stricter * round_) & big[i] & big[j] & (labels[i] == labels[j])
        relabel = _components(n, np.concatenate([i[kept & ~big[i]], i[strict]]), np.concatenate([j[kept & ~big[i]], j[strict]]))
        labels = relabel
        kept = (kept & ~big[i]) | strict
    _, labels = np.unique(labels, return_inverse=True)
    return Clustering(labels.astype(np.int64), matter, vocabulary)
