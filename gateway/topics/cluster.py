"""Join work orders about one matter at one place: sparse candidates, edges on matter and place, components.

Two work orders are joined when
- they are near duplicates (one issue: the atoms), or
- they name a common specific place (an estate, a village, a road, a school, a
  company: not one that a large share of the batch names) and their matter
  words are similar enough (cosine of TF-IDF ≥ `with_place`), or
- their matter words are very similar (≥ `without_place`) and nothing says
  they are at different places (different districts, or each names specific
  places and they share none).

Candidates come from an inverted index (shared places, shared rare keywords),
never from a dense n×n matrix: a 100,000-record report costs a few sparse
products of chunks. The components of the graph are the topics.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from gateway.topics.text import Analysed, background_df


@dataclass(frozen=True)
class ClusterSettings:
    with_place: float = 0.14
    without_place: float = 0.5
    top_keywords: int = 8
    shared_keywords: int = 3
    max_place_share: float = 0.02  # a place named by more of the batch than this is no place to join on
    min_place_df: int = 50  # … unless the batch is small
    max_keyword_share: float = 0.05
    chunk: int = 2000


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


def cluster(texts: Sequence[Analysed], atoms: Sequence[int | None] = (), settings: ClusterSettings = ClusterSettings()) -> Clustering:
    """Topics of a batch; texts with the same atom (near-duplicate issue) share one."""
    n = len(texts)
    if n == 0:
        return Clustering(np.empty(0, np.int64), sparse.csr_matrix((0, 1), dtype=np.float32), np.array([""]))
    s = settings
    # Word weights: sublinear tf × idf over this report *and* a real board's counts (ops/train_word_df.py), so
    # that a small report still knows 搅拌站 from 问题.
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

    # Places specific enough to join on.
    place_ids: dict[str, int] = {}
    place_rows = [[place_ids.setdefault(p, len(place_ids)) for p in t.places] for t in texts]
    places = _binary(place_rows, max(1, len(place_ids)))
    place_df = np.asarray(places.sum(axis=0)).ravel()
    specific = (place_df >= 2) & (place_df <= max(s.min_place_df, s.max_place_share * n))
    places = places @ sparse.diags(specific.astype(np.float32))
    places.eliminate_zeros()

    # Each text's rarest strong keywords, for candidates without a shared place.
    keyword_rows = []
    cap = max(20, s.max_keyword_share * n)
    for i in range(n):
        start, end = matter.indptr[i], matter.indptr[i + 1]
        idx, weights = matter.indices[start:end], matter.data[start:end]
        ok = (df[idx] >= 2) & (df[idx] <= cap)
        idx, weights = idx[ok], weights[ok]
        keyword_rows.append(idx[np.argsort(-weights)[: s.top_keywords]].tolist())
    keywords = _binary(keyword_rows, matter.shape[1])

    place_i, place_j = _pairs(places, 1.0, s.chunk)
    word_i, word_j = _pairs(keywords, float(s.shared_keywords), s.chunk)

    def cosine(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if len(i) == 0:
            return np.empty(0, np.float32)
        return np.asarray(matter[i].multiply(matter[j]).sum(axis=1)).ravel()

    has_places = np.diff(places.indptr) > 0
    district = [t.district for t in texts]
    edges_i = [place_i[cosine(place_i, place_j) >= s.with_place]]
    edges_j = [place_j[cosine(place_i, place_j) >= s.with_place]]
    if len(word_i):
        strong = cosine(word_i, word_j) >= s.without_place
        wi, wj = word_i[strong], word_j[strong]
        shared_place = np.asarray(places[wi].multiply(places[wj]).sum(axis=1)).ravel() > 0
        conflict = (has_places[wi] & has_places[wj] & ~shared_place) | np.array(
            [district[a] is not None and district[b] is not None and district[a] != district[b] for a, b in zip(wi, wj)], dtype=bool)
        edges_i.append(wi[~conflict])
        edges_j.append(wj[~conflict])
    # Near duplicates are one matter already: chain each atom's members.
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
        edges_i.append(np.asarray(ai, np.int64))
        edges_j.append(np.asarray(aj, np.int64))
    i = np.concatenate(edges_i)
    j = np.concatenate(edges_j)
    graph = sparse.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return Clustering(labels.astype(np.int64), matter, vocabulary)
