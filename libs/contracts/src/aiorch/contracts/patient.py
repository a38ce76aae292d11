"""What a request says about the patient (age, sex, body site), shared by the planner,
which puts it in a medical step's parameters, and the medical agent, which reads it
from the text when no parameters came."""

import re

from .outputs import PatientInfo

# Words for each of the model's four body-site groups (HAM10000's sites, folded as sklesion does).
LOCATION_WORDS = {
    "head-or-neck": ["head", "face", "scalp", "neck", "ear", "nose", "cheek", "forehead", "lip", "chin", "temple",
                     "eyelid", "gesicht", "kopf", "hals", "visage", "tête", "tete", "cou", "cara", "cabeza", "cuello"],
    "arm": ["arm", "forearm", "hand", "finger", "wrist", "elbow", "shoulder", "palm", "armes", "bras",
            "brazo", "mano", "schulter", "hombro", "épaule", "epaule"],
    "leg-or-genital": ["leg", "thigh", "knee", "foot", "feet", "toe", "ankle", "calf", "shin", "sole", "genital",
                       "groin", "buttock", "bein", "fuß", "fuss", "knie", "jambe", "pied", "genou", "pierna",
                       "rodilla", "muslo", "cuisse", "oberschenkel"],
    "trunk": ["back", "chest", "abdomen", "trunk", "torso", "belly", "stomach", "breast", "hip", "waist",
              "rücken", "ruecken", "brust", "bauch", "poitrine", "ventre", "espalda", "pecho",
              "abdomen", "vientre"],
}
MALE = r"male|man|boy|gentleman|husband|father|he|his|him|mann|männlich|homme|masculin|hombre|varón|masculino"
FEMALE = r"female|woman|girl|lady|wife|mother|she|her|frau|weiblich|femme|féminin|mujer|femenino"
_AGE = re.compile(
    r"(?:\b(?:age[d]?|alter|âge|edad)\s*:?\s*(\d{1,3})\b)"
    r"|(?:\b(\d{1,3})\s*(?:-|\s)?\s*(?:years?|yrs?|y/?o|yo|jahre?n?|jährig\w*|ans?|años?|anos?)\b)",
    re.IGNORECASE,
)


def location_group(words: str) -> str | None:
    lowered = words.lower().replace("_", " ")
    if lowered in LOCATION_WORDS:
        return lowered
    tokens = re.findall(r"[\wäöüßéèêáíóúñ-]+", lowered)
    for group, names in LOCATION_WORDS.items():
        if any(token in names or token.rstrip("s") in names for token in tokens):
            return group
    return None


def from_text(text: str) -> PatientInfo:
    age_match = _AGE.search(text)
    age = float(next(group for group in age_match.groups() if group)) if age_match else None
    if age is not None and age > 120:
        age = None
    lowered = text.lower()
    sex = None
    if re.search(rf"\b(?:{FEMALE})\b", lowered):
        sex = "female"
    elif re.search(rf"\b(?:{MALE})\b", lowered):
        sex = "male"
    found = PatientInfo(age=age, sex=sex, location=location_group(text), source="text")
    return found if (age, sex, found.location) != (None, None, None) else PatientInfo()
