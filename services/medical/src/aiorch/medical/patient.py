"""Age, sex and body site: from the step's parameters, else read from the request text,
and the model's 10-number encoding of them."""

import re
from dataclasses import dataclass

from aiorch.contracts import PatientInfo

from .errors import ImageProblem

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


@dataclass(frozen=True)
class Encoding:
    sex: list[str]
    locations: list[str]
    age_mean: float
    age_max: float

    def vector(self, patient: PatientInfo) -> list[float]:
        """[sex one-hot(3), location one-hot(5), age/age_max, age_missing], as the model was trained."""
        sex = [1.0 if value == (patient.sex or "unknown") else 0.0 for value in self.sex]
        location = [1.0 if value == (patient.location or "unknown") else 0.0 for value in self.locations]
        age = self.age_mean if patient.age is None else patient.age
        return sex + location + [age / self.age_max, 1.0 if patient.age is None else 0.0]


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


def from_params(params: dict) -> PatientInfo | None:
    """Structured fields win over the text; a value that makes no sense is an error, not a guess."""
    given = {key: params[key] for key in ("age", "sex", "location") if params.get(key) not in (None, "")}
    if not given:
        return None
    age = given.get("age")
    if age is not None:
        try:
            age = float(age)
        except (TypeError, ValueError):
            raise ImageProblem("invalid_patient", f"age must be a number of years, got {age!r}") from None
        if not 0 <= age <= 120:
            raise ImageProblem("invalid_patient", f"age must be between 0 and 120, got {age:g}")
    sex = given.get("sex")
    if sex is not None:
        sex = str(sex).lower()
        sex = {"m": "male", "f": "female", "man": "male", "woman": "female"}.get(sex, sex)
        if sex not in ("male", "female", "unknown"):
            raise ImageProblem("invalid_patient", f"sex must be male, female or unknown, got {given['sex']!r}")
    location = given.get("location")
    if location is not None:
        group = location_group(str(location))
        if group is None:
            raise ImageProblem("invalid_patient", f"unknown body site {location!r}: say e.g. back, face, arm or leg")
        location = group
    return PatientInfo(age=age, sex=sex, location=location, source="params")
