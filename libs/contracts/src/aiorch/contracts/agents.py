"""The agents aiorch knows: what each accepts, produces and is for.

The gateway derives its accepted upload types from this catalog and the offline
planner its routing vocabulary, so a new agent is one entry here plus its output
model in `outputs.py`.
"""

from .base import Model


class AgentSpec(Model):
    name: str
    title: str
    description: str
    accepts: list[str]
    """Media types of files the agent reads."""
    consumes: list[str] = []
    """Output names of other agents it can take as input (e.g. `texts`)."""
    produces: list[str] = []
    """Output names it offers to later steps."""
    keywords: list[str] = []
    """Words (stems) that signal the agent is wanted; used by the offline planner."""
    examples: list[str] = []


CATALOG: dict[str, AgentSpec] = {
    spec.name: spec
    for spec in [
        AgentSpec(
            name="sentiment",
            title="Sentiment and emotion",
            description="Sentiment (positive/neutral/negative) and emotions of texts, reviews or a CSV column.",
            accepts=["text/plain", "text/csv", "text/tab-separated-values"],
            consumes=["texts", "files"],
            produces=["texts"],
            keywords=[
                "sentiment", "emotion", "feel", "mood", "tone", "positive", "negative",
                "opinion", "happy", "angry", "attitude", "polarity", "review",
            ],
            examples=[
                "what is the sentiment of 'I love this phone'",
                "are these reviews positive or negative?",
                "analyse the emotions in the comment column",
            ],
        ),
        AgentSpec(
            name="csv",
            title="CSV cleaning",
            description="Cleans CSV files with pandas: profile, missing values, duplicates, formats, typos, "
            "validation; returns the cleaned file, a change log and a report.",
            accepts=["text/csv", "text/tab-separated-values"],
            consumes=["files"],
            produces=["files"],
            keywords=[
                "clean", "dedup", "duplicat", "missing", "imput", "fill", "standardi", "normali", "validat",
                "csv", "spreadsheet", "typo", "profile", "tidy", "fix", "null", "format", "drop",
            ],
            examples=["clean this file", "impute missing ages with the median", "remove duplicate rows"],
        ),
        AgentSpec(
            name="browser",
            title="Web browser",
            description="Opens web pages in a headless browser: reads text, lists, tables and links, clicks, "
            "fills and submits forms, follows pages, takes screenshots.",
            accepts=[],
            consumes=[],
            produces=["texts", "files"],
            keywords=[
                "http", "www", "website", "web", "page", "url", "browse", "open", "visit", "scrape", "crawl",
                "click", "login", "screenshot", "extract", "navigate", "site",
            ],
            examples=["get the reviews from https://shop.example/p/7", "take a screenshot of https://example.org"],
        ),
        AgentSpec(
            name="medical",
            title="Skin-lesion photo classifier",
            description="Classifies photos of skin lesions (moles, spots) into 7 HAM10000 classes with a "
            "PyTorch model, with a Grad-CAM heatmap; optional age, sex and body site. Not a diagnosis.",
            accepts=["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"],
            consumes=[],
            produces=[],
            keywords=[
                "skin", "lesion", "mole", "melanoma", "nevus", "naevus", "spot", "freckle", "dermat", "rash",
                "cancer", "birthmark", "wart", "carcinoma", "keratosis", "growth",
            ],
            examples=["is this mole dangerous?", "classify this skin lesion, 54 year old male, on the back"],
        ),
    ]
}


def accepted_media_types() -> list[str]:
    return sorted({media_type for spec in CATALOG.values() for media_type in spec.accepts})
