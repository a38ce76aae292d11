"""Sentiment (VADER) and emotions (NRC lexicon) of texts. No transport code here."""

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from nltk.sentiment import SentimentIntensityAnalyzer
from nrclex import NRCLex

from aiorch.contracts import SentenceSentiment, SentimentItem, SentimentOutput

from .lexicon import ensure_vader_lexicon

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# NRC's "positive"/"negative" are sentiment, not emotions; VADER covers those.
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
DOCUMENT_MODE_MAX_TEXTS = 20
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

Progress = Callable[[float, str], None]


def label_for(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def split_sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


class EmotionScorer:
    """Share of each NRC emotion among a text's emotion words."""

    def __init__(self) -> None:
        lexicon = NRCLex(None).__lexicon__
        self._lexicon = {
            word: tuple(affect for affect in affects if affect in EMOTIONS) for word, affects in lexicon.items()
        }

    def score(self, text: str) -> dict[str, float]:
        counts: Counter[str] = Counter()
        lexicon = self._lexicon
        for word in _WORD.findall(text.lower()):
            affects = lexicon.get(word)
            if affects is None and word.endswith("s"):
                affects = lexicon.get(word[:-1])
            if affects:
                counts.update(affects)
        total = sum(counts.values())
        return {emotion: round(count / total, 4) for emotion, count in counts.most_common()} if total else {}


def top_of(scores: dict[str, float], limit: int = 3) -> list[str]:
    if not scores:
        return []
    best = max(scores.values())
    return [emotion for emotion, value in scores.items() if value >= best * 0.75][:limit]


class SentimentAnalyzer:
    def __init__(self, nltk_data: Path, emotions: bool = True) -> None:
        ensure_vader_lexicon(nltk_data)
        self._vader = SentimentIntensityAnalyzer()
        self._emotions = EmotionScorer() if emotions else None

    def analyze_text(self, text: str, per_sentence: bool = True) -> SentimentItem:
        scores = self._vader.polarity_scores(text)
        sentences = split_sentences(text) if per_sentence else []
        sentence_scores = []
        if len(sentences) > 1:
            for sentence in sentences:
                compound = self._vader.polarity_scores(sentence)["compound"]
                sentence_scores.append(
                    SentenceSentiment.model_construct(text=sentence, label=label_for(compound), compound=compound)
                )
        emotions = self._emotions.score(text) if self._emotions else {}
        # model_construct: the values are ours and already valid; validation would cost 10%.
        return SentimentItem.model_construct(
            text=text,
            label=label_for(scores["compound"]),
            compound=scores["compound"],
            positive=scores["pos"],
            neutral=scores["neu"],
            negative=scores["neg"],
            sentences=sentence_scores,
            emotions=emotions,
            top_emotions=top_of(emotions),
        )

    def analyze(self, texts: Sequence[str], progress: Progress | None = None) -> list[SentimentItem]:
        """Scores per text; per-sentence detail only for a few documents, not for batches."""
        items = []
        step = max(len(texts) // 100, 1000)
        per_sentence = len(texts) <= DOCUMENT_MODE_MAX_TEXTS
        for index, text in enumerate(texts):
            items.append(self.analyze_text(text, per_sentence))
            if progress and index and index % step == 0:
                progress(index / len(texts), f"{index:,} of {len(texts):,} texts analysed")
        return items


def summarize(items: list[SentimentItem], source: str, mode: str = "vader") -> SentimentOutput:
    distribution = Counter(item.label for item in items)
    mean = sum(item.compound for item in items) / len(items)
    emotion_totals: Counter[str] = Counter()
    for item in items:
        emotion_totals.update(item.emotions)
    return SentimentOutput(
        mode=mode,
        source=source,
        items=items,
        distribution={label: distribution.get(label, 0) for label in ("positive", "neutral", "negative")},
        overall_label=label_for(mean),
        mean_compound=round(mean, 4),
        top_emotions=[emotion for emotion, _ in emotion_totals.most_common(3)],
    )


def report(output: SentimentOutput, note: str | None = None, max_rows: int = 10) -> str:
    """Markdown summary for people."""
    total = len(output.items)
    shares = ", ".join(
        f"{count / total:.0%} {label}" for label, count in output.distribution.items() if count
    )
    noun = "text" if total == 1 else "texts"
    lines = [f"**Sentiment: {output.overall_label}** (mean compound {output.mean_compound:+.2f}) over {total:,} {noun}: {shares}."]
    if output.top_emotions:
        lines.append(f"Top emotions: {', '.join(output.top_emotions)}.")
    if note:
        lines.append(note)
    lines += ["", "| text | label | compound |", "|---|---|---|"]
    for item in output.items[:max_rows]:
        text = item.text if len(item.text) <= 80 else item.text[:77] + "..."
        lines.append(f"| {text.replace('|', '/').replace(chr(10), ' ')} | {item.label} | {item.compound:+.3f} |")
    if total > max_rows:
        lines.append(f"| … {total - max_rows:,} more | | |")
    return "\n".join(lines)


def items_csv(output: SentimentOutput) -> bytes:
    """Per-item results as CSV; cells that a spreadsheet would run as formulas are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "compound", "positive", "neutral", "negative", "top_emotions"])
    for item in output.items:
        text = "'" + item.text if item.text[:1] in ("=", "+", "-", "@", "\t", "\r") else item.text
        writer.writerow([text, item.label, item.compound, item.positive, item.neutral, item.negative,
                         " ".join(item.top_emotions)])
    return buffer.getvalue().encode()
