import pytest

from aiorch.medical.errors import ImageProblem
from aiorch.medical.patient import from_params, from_text


@pytest.mark.parametrize(
    "text, age, sex, location",
    [
        ("54 year old male, lesion on the back", 54, "male", "trunk"),
        ("a 38-year-old woman with a mole on her left forearm", 38, "female", "arm"),
        ("Is this spot on my face dangerous? I'm 71", None, None, "head-or-neck"),
        ("patient aged 60, female, thigh", 60, "female", "leg-or-genital"),
        ("Mann, 45 Jahre, Leberfleck am Rücken", 45, "male", "trunk"),
        ("femme de 33 ans, grain de beauté sur la jambe", 33, "female", "leg-or-genital"),
        ("mujer de 29 años, lunar en el brazo", 29, "female", "arm"),
        ("what is this?", None, None, None),
    ],
)
def test_patient_details_are_read_from_the_request(text, age, sex, location):
    patient = from_text(text)
    assert (patient.age, patient.sex, patient.location) == (age, sex, location)


def test_structured_fields_win_and_are_validated():
    patient = from_params({"age": "54", "sex": "M", "location": "scalp"})
    assert (patient.age, patient.sex, patient.location, patient.source) == (54, "male", "head-or-neck", "params")
    assert from_params({"unrelated": 1}) is None
    for params, words in [({"age": 300}, "between 0 and 120"), ({"age": "old"}, "number of years"),
                          ({"sex": "x"}, "male, female or unknown"), ({"location": "spleen"}, "unknown body site")]:
        with pytest.raises(ImageProblem, match=words):
            from_params(params)
