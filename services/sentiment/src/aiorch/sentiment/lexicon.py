"""VADER's lexicon as NLTK data.

NLTK's downloader cannot reach its servers here and NLTK only reads lexicons from its
data folders, so we build `sentiment/vader_lexicon.zip` from the copy of
`vader_lexicon.txt` that the vaderSentiment package ships.
"""

import zipfile
from importlib import resources
from pathlib import Path

import nltk

LEXICON_ZIP = Path("sentiment") / "vader_lexicon.zip"


def ensure_vader_lexicon(data_dir: Path) -> Path:
    """Create the NLTK data folder if needed and put it first on NLTK's search path."""
    data_dir = data_dir.resolve()
    target = data_dir / LEXICON_ZIP
    if not target.exists():
        source = resources.files("vaderSentiment") / "vader_lexicon.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("vader_lexicon/vader_lexicon.txt", source.read_bytes())
        partial.replace(target)
    if str(data_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(data_dir))
    return target


if __name__ == "__main__":
    import sys

    print(ensure_vader_lexicon(Path(sys.argv[1] if len(sys.argv) > 1 else ".data/nltk_data")))
