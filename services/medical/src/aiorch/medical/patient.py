"""Age, sex and body site: from the step's parameters, else read from the request text,
and the model's 10-number encoding of them."""

from dataclasses import dataclass

from aiorch.contracts import PatientInfo
from aiorch.contracts.patient import from_text as _contract_from_text

from .errors import ImageProblem
from .sites import group_of

__all__ = ["Encoding", "from_params", "from_text", "read_patient", "used_fields"]


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
        group = group_of(str(location))
        if group is None:
            raise ImageProblem("invalid_patient", f"unknown body site {location!r}: say e.g. back, face, arm or leg")
        location = group
    return PatientInfo(age=age, sex=sex, location=location, source="params")


def from_text(text: str) -> PatientInfo:
    """Age and sex as the planner reads them; the body site with HAM10000's wider vocabulary."""
    found = _contract_from_text(text)
    group = group_of(text)
    if group is None or group == found.location:
        return found
    return found.model_copy(update={"location": group, "source": "text"})


def read_patient(params: dict, instruction: str) -> PatientInfo:
    """The step's parameters, with what they leave out read from the request text (the planner's own
    reading misses sites such as "lower extremity")."""
    given, text = from_params(params), from_text(instruction)
    if given is None:
        return text
    missing = {key: getattr(text, key) for key in ("age", "sex", "location")
               if getattr(given, key) is None and getattr(text, key) is not None}
    return given.model_copy(update=missing)


def used_fields(patient: PatientInfo, uses_metadata: bool) -> str:
    """One line for the answer: which patient fields the model read."""
    if not uses_metadata:
        return "Patient details not used: this model reads the photo only"
    named = {"age": f"age {patient.age:g}" if patient.age is not None else None, "sex": patient.sex and f"sex {patient.sex}",
             "location": patient.location and f"body site {patient.location}"}
    used = [text for text in named.values() if text]
    missing = [key if key != "location" else "body site" for key, text in named.items() if not text]
    line = "Patient details used: " + (", ".join(used) if used else "none")
    return line + (f" (not given: {', '.join(missing)})" if missing and used else "")
