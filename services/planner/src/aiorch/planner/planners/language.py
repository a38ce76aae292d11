"""What can be read off a request without a model: addresses, quoted text, columns,
clauses (English, German, French, Spanish), and requests aiorch must not act on."""

import re

from aiorch.contracts.wording import QUOTED, quoted_texts

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'«»]*[^\s<>\"'«».,;:!?)]|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|io|de|fr|es|"
                 r"uk|eu|info|app|dev)(?:/[^\s<>\"'«»]*)?\b", re.IGNORECASE)
_COLUMN = re.compile(
    r"\b(?:the\s+)?[`'\"]?([\w-]+)[`'\"]?\s+(?:column|field)\b|\b(?:column|field|spalte|colonne|columna)\s+[`'\"]?([\w-]+)",
    re.IGNORECASE,
)
_NOT_COLUMNS = {"the", "a", "this", "that", "each", "every", "one", "which", "de", "la", "le", "der", "die"}
# Words that start a new intent; " and " only splits when each side has a verb of its own (see split_clauses).
_CONNECTORS = re.compile(
    r"\s*(?:(?:^|\s)\(?\d{1,2}[.)](?=\s)|[;!?]|\.(?=\s)|,?\s+(?:and\s+then|then|after\s+that|afterwards|next|finally|also|"
    r"und\s+dann|dann|danach|anschließend|außerdem|et\s+ensuite|puis|ensuite|après\s+cela|aussi|"
    r"y\s+luego|luego|después|y\s+después|también|además)\b|,\s*(?:and|und|et|y)?\s*)\s*",
    re.IGNORECASE,
)
_AND = re.compile(r"\s+(?:and|und|et|y)\s+", re.IGNORECASE)
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.]{0,40}\b(?:instructions?|rules|prompt|above|everything|"
    r"safety|previous|prior|guidelines|restrictions)\b|\bsystem\s*prompt\b|\byou\s+are\s+now\b|\bnew\s+instructions?\b|\bjailbreak\b|"
    r"\bDAN\b|\bpretend\b|\bno\s+(?:restrictions|limits|rules)\b|\b(?:libre\s+de\s+toute|sans)\s+r[eè]gles?\b|\bohne\s+(?:regeln|einschränkungen)\b|\bsin\s+(?:reglas|restricciones)\b|\bmalware\b|\bexploit\b|"
    r"\b(?:grant|give)\b[^.]{0,20}\badmin\b|\bvergiss\b[^.]{0,40}\banweisungen\b|\bignore[zr]?\b[^.]{0,30}\binstructions\b|"
    r"\bignora\b[^.]{0,30}\binstrucciones\b|\bprompt\s+syst[eè]me\b",
    re.IGNORECASE,
)
_DESTRUCTIVE = re.compile(
    r"\b(?:delete|remove|erase|wipe|destroy)\s+(?:all|every|the)\s+(?:files?|data|records|users|database|disk)|"
    r"\b(?:delete|erase|wipe|destroy)\s+(?:all|every|the|other)\b[^.]{0,30}\b(?:files|database|disk|storage|bucket)|"
    r"\b(?:post|send|upload|share|leak|forward|e-?mail|publish)\b[^.]{0,30}\b(?:(?:our|other|all)\s+)?"
    r"(?:users?|customers?|clients?|people)['’]?s?\s+(?:e-?mails?|data|files|passwords?|addresses|details|records)|"
    r"\brm\s+-rf\b|\bdrop\s+(?:all\s+)?(?:tables?|database)\b|\bformat\s+(?:the\s+)?(?:hard\s+)?(?:drive|disk)\b|"
    r"\b(?:reveal|print|show|leak)\b[^.]{0,30}\b(?:api\s+keys?|passwords?|secrets?|credentials)\b|"
    r"/etc/(?:passwd|shadow)|\bpasswords\b|\bstolen\b|\bhack\w*|\bcrack\w*|\bdisable\s+(?:auth\w*|security|logging)|"
    r"\benvironment\s+variables\b|\bdatabase\s+dump\b|\bexfiltrat\w*|\bcredit\s+card\b|\bbank\s+account\b|\b(?:buy|purchase|pay\s+for)\b|\bshell\s+command\b|\blösche\s+alle\b|\bsupprime[rz]?\s+tous\b|\beffacer?z?\s+tou(?:s|tes)\b|\bborra\s+todos\b",
    re.IGNORECASE,
)
# Kinds of work aiorch has no agent for, each named for the explanation of an empty plan.
# Out of scope: no agent serves this part even when a file is attached, but an agent the
# wording names outright may still serve the rest ("the sentiment of this translated text").
_OUT_OF_SCOPE_KINDS = {
    "medical imaging other than skin photos": r"x-?rays?|röntgen\w*|radiogra\w*|mri|irm|ct\s+scan|cat\s+scan|pet\s+scan|"
                                              r"tomogra\w*|kernspin\w*|ultrasound|ultraschall\w*|sonogra\w*|"
                                              r"[ée]chograph\w*|ecograf\w*|ecg|ekg|eeg|mammogra\w*",
    "lab results": r"blood\s+(?:test|work|count)\w*|lab\s+results?|urine|blutbild|blutwert\w*|"
                   r"análisis\s+de\s+sangre|prise\s+de\s+sang",
    "audio and video": r"transcri\w*|audio|podcast|video",
    "PDF documents": r"pdf",
    "translation": r"translat\w*|übersetz\w*|tradu\w*",
    "rewriting or summarising text": r"rewrite|rephrase|paraphras\w*|proofread\w*|summari[sz]\w*|summary|résum\w*|"
                                     r"zusammenfass\w*|resum[ea]\w*",
}
# Impossible: work no agent does on any input.
_IMPOSSIBLE_KINDS = {
    "file format conversion": r"(?:convert|export|save|turn)\b[^.]{0,30}\b(?:to|into|as)\s+(?:an?\s+)?"
                              r"(?:excel|xlsx|json|parquet|word|docx|pdf)",
    "charts": r"(?:bar\s+|pie\s+|line\s+)?chart|plot|graph|visuali[sz]\w*",
    "archives": r"zip(?!\s+codes?)|compress\w*",
    "word counts": r"word\s+count|count\s+the\s+words",
    "speech": r"out\s+loud|aloud|text\s+to\s+speech|speak",
    "reading text in images": r"ocr|handwrit\w*",
    "training models": r"(?:train|fit|build)\s+(?:a\s+|an\s+)?(?:\w+\s+)?(?:model|classifier|network)",
    "splitting, merging or renaming files": r"split\b[^.]{0,30}\b(?:into|in)\b[^.]{0,20}\b(?:files|parts|pieces|chunks)|"
                                            r"(?:merge|join|combine|concatenate|zusammenf\w*|fusionn\w*|combin[ae]r?)\b"
                                            r"[^.]{0,30}\b(?:files|spreadsheets|tables|csvs|sheets|datasets|dateien|"
                                            r"tabellen|fichiers|archivos|tablas)|rename\b[^.]{0,20}\bfiles",
    "calculations on tables (totals, averages, pivots, sorting)":
        r"(?:pivot|group\s+by|aggregate)\w*|sum\s+(?:up\s+)?(?:the|all|these)|"
        r"(?:calculate|compute|sum\s+up|add\s+up|work\s+out|berechne\w*|calcul\w*)\s+"
        r"(?:the\s+|den\s+|die\s+|la\s+|le\s+|el\s+)?"
        r"(?:total|sum|average|mean|median|revenue|profit|durchschnitt|summe|moyenne|somme|promedio|suma)|"
        r"sort\b(?!\s+(?:\w+\s+)?out\b)[^.]{0,30}\b(?:by|alphabetically|ascending|descending)",
    "encryption": r"(?:encrypt|decrypt|password[- ]protect)\w*",
    "writing code": r"(?:write|code|implement)\s+(?:me\s+)?(?:a|an|some)\s+(?:[\w-]+\s+){0,2}"
                    r"(?:script|scraper|program|function|code|class|bot)",
    "recognising faces or objects": r"(?:recogni[sz]e|identify|detect|count|tag)\b[^.]{0,20}\b"
                                    r"(?:faces?|people|persons?|objects?|animals?|cars?)",
    "photo editing": r"black\s+and\s+white|sepia|(?:remove|erase|blur|crop|resize|retouch|edit|enhance|sharpen|upscale|"
                     r"colou?ri[sz]e|brighten|whiten)\b[^.]{0,25}\b(?:background|photo|image|picture|pic|selfie|faces?)",
}


def _any_of(kinds: dict[str, str]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(f"(?:{pattern})" for pattern in kinds.values()) + r")\b", re.IGNORECASE)


_OUT_OF_SCOPE = _any_of(_OUT_OF_SCOPE_KINDS)
_IMPOSSIBLE = _any_of(_IMPOSSIBLE_KINDS)
_KINDS = {name: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
          for name, pattern in (_OUT_OF_SCOPE_KINDS | _IMPOSSIBLE_KINDS).items()}


def urls(text: str) -> list[str]:
    found = []
    for match in URL.findall(_without_quotes(text)):
        address = match.rstrip(".,;:!?)")
        if "@" in address:
            continue
        found.append(address if address.lower().startswith("http") else f"https://{address}")
    return found


def quoted(text: str) -> list[str]:
    return quoted_texts(text)


def columns(text: str) -> list[str]:
    names = []
    for match in _COLUMN.finditer(text):
        name = next(group for group in match.groups() if group)
        if name.lower() not in _NOT_COLUMNS and name not in names:
            names.append(name)
    return names


# A page action in the imperative: what a browser does on a page ("click the 2nd tab", "enter 'x' into the
# name field", "expand the section", "navigate to the folder"), as opposed to reading it.
_PAGE_ACTION = re.compile(
    r"^(?:please\s+)?(?:(?:double|right)[- ]?click|click|press|tap|hit|select|choose|pick|"
    r"check(?!\s+(?:what|whether|if|how|who|why|when|where|which|out|for|that)\b)|uncheck|tick|untick|"
    r"type|enter|fill|focus|expand|collapse|hover|scroll|submit|navigate|drag|drop|switch|toggle|close|copy|paste|"
    r"log\s*in|login|sign\s*in|find\s+and\s+click)\b",
    re.IGNORECASE,
)
_PAGE_ACTION_PIECES = re.compile(r"[.;:,!?]+(?=\s|$)|\s+(?:and\s+then|then|and|to)\s+", re.IGNORECASE)
# What asks another agent for work, beside the page's own words: an analysis of a text's tone, a table's cleaning.
_ANALYSIS = re.compile(
    r"\b(?:sentiments?|emotions?|emotional|mood|tone|feel(?:s|ings?)?|opinions?|positive(?:ly)?|negative(?:ly)?|"
    r"clean\w*|dedup\w*|duplicates?|missing\s+values|classify|analy[sz]\w*|tell\s+me|give\s+me|show\s+me|"
    r"summari[sz]\w*)\b",
    re.IGNORECASE,
)


def page_actions(text: str) -> bool:
    """Whether the request only asks for actions on a page: some sentence or clause starts with a page
    action ("click", "select", "enter ... into", "expand", "navigate"), and nothing asks for an analysis
    ("... and tell me whether the reviews are positive"). Quoted text and listed words are the page's
    own ("select words similar to angry, glad"), not requests to other agents."""
    bare = URL.sub(" ", _without_quotes(text))
    if _ANALYSIS.search(bare):
        return False
    pieces = [piece.strip(" \t\"'") for piece in _PAGE_ACTION_PIECES.split(bare)]
    return any(_PAGE_ACTION.match(piece) for piece in pieces if piece)


def _without_quotes(text: str) -> str:
    return QUOTED.sub(" QUOTED ", text)


def has_inline_text(text: str) -> bool:
    """Text to work on after a colon or a question: "analyse this: the food was cold",
    "how positive is this? We beat every target"."""
    bare = URL.sub(" ", _without_quotes(text))
    return bool(re.search(r":\s*(?:[^\W\d]|['\"«“„])", bare) or re.search(r"\?\s*\S+(?:\s+\S+){2,}", bare))


_VAGUE_WORDS = frozenset(
    "can could would will you please pls do something anything with this these that it them here is are what about "
    "of for me my look at check handle process take a an the one file files thing stuff go help see now just some to "
    "on want i need run your thing magic see attached attachment enclosed herewith anbei ci-joint adjunto analyse analyze review thoughts think say tell make sense how deal its what's whats "
    "kannst du bitte das dies damit etwas mal machen schau schauen dir an hier ist prüfen prüfe "
    "peux tu vous pouvez s'il te plaît plait ça cela ceci regarde regarder faire quelque chose avec de ce cette "
    "puedes por favor esto eso esta este algo con revisa revisar mira mirar hacer".split()
)


def is_vague(text: str) -> bool:
    """Nothing asked beyond "do something with this": the attached files say what is wanted."""
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", _without_quotes(text).lower())
    return all(word in _VAGUE_WORDS for word in words)


# What a page or file holds, as opposed to what is asked of it.
_MATERIAL_NOUNS = re.compile(r"\b(?:reviews?|comments?|bewertung\w*|kommentar\w*|avis|reseñas?|comentarios?|"
                             r"commentaires?|tweets?|posts?)\b", re.IGNORECASE)


def without_material_nouns(text: str) -> str:
    return _MATERIAL_NOUNS.sub(" ", text)


def without_out_of_scope(text: str) -> str:
    return _OUT_OF_SCOPE.sub(" ", _without_quotes(text))


def is_unsafe(text: str) -> bool:
    """Prompt injection or a destructive command outside quoted text (quoted text is data)."""
    bare = _without_quotes(text)
    return bool(_INJECTION.search(bare) or _DESTRUCTIVE.search(bare))


def out_of_scope(text: str) -> bool:
    return bool(_OUT_OF_SCOPE.search(_without_quotes(text)))


def impossible(text: str) -> bool:
    return bool(_IMPOSSIBLE.search(_without_quotes(text)))


def unserved_kind(text: str) -> str | None:
    """The kind of work the request asks for that no agent does ("charts"), if it names one."""
    bare = _without_quotes(text)
    return next((name for name, pattern in _KINDS.items() if pattern.search(bare)), None)


def split_clauses(text: str, has_verb) -> list[str]:
    """Clauses of a multi-intent request, quoted text kept whole. `has_verb(clause)` says
    whether a fragment asks for something; " and " splits only between two such fragments."""
    protected: list[str] = []

    def keep(match: re.Match) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    masked = URL.sub(keep, QUOTED.sub(keep, text))
    parts = [part for part in _CONNECTORS.split(masked) if part and part.strip()]
    clauses = []
    for part in parts:
        pieces = _AND.split(part)
        if len(pieces) > 1 and all(has_verb(_unmask(piece, protected)) for piece in pieces):
            clauses += pieces
        else:
            clauses.append(part)
    return [_unmask(clause, protected).strip() for clause in clauses if clause.strip()]


def _unmask(text: str, protected: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda match: protected[int(match.group(1))], text)
