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


@pytest.mark.parametrize(
    "text, site, group",
    [
        ("lesion on the lower extremity", "lower extremity", "leg-or-genital"),
        ("upper extremity", "upper extremity", "arm"),
        ("a spot on my shin", "lower extremity", "leg-or-genital"),
        ("mole on the sole of the foot", "acral", "unknown"),
        ("on her palm", "acral", "unknown"),
        ("red spot on the cheek", "face", "head-or-neck"),
        ("behind the ear", "ear", "head-or-neck"),
        ("scalp", "scalp", "head-or-neck"),
        ("Leberfleck am Schienbein", "lower extremity", "leg-or-genital"),
        ("Fleck an der Wange", "face", "head-or-neck"),
        ("Muttermal am Unterarm", "upper extremity", "arm"),
        ("grain de beauté sur la cuisse", "lower extremity", "leg-or-genital"),
        ("tache sur le dos de la main", "hand", "arm"),
        ("tache sur la main droite", "hand", "arm"),
        ("lunar en la planta del pie", "acral", "unknown"),
        ("dos lunares en la espalda", "back", "trunk"),
        ("mancha en el abdomen", "abdomen", "trunk"),
        ("my main worry is this one", None, None),
    ],
)
def test_body_sites_in_four_languages(text, site, group):
    from aiorch.medical.sites import group_of, site_of

    assert (site_of(text), group_of(text)) == (site, group)


def test_parameters_are_completed_from_the_text_and_the_answer_says_what_was_used():
    from aiorch.medical.patient import read_patient, used_fields

    # The planner's reading left the site out; the medical agent reads HAM10000's wording.
    patient = read_patient({"age": 62, "sex": "female"}, "62 year old woman, lesion on the lower extremity")
    assert (patient.age, patient.sex, patient.location, patient.source) == (62, "female", "leg-or-genital", "params")
    assert from_params({"location": "lower extremity"}).location == "leg-or-genital"
    assert used_fields(patient, True) == "Patient details used: age 62, sex female, body site leg-or-genital"
    assert used_fields(from_text("what is this?"), True) == "Patient details used: none"
    assert "(not given: age, sex)" in used_fields(from_text("on the shin"), True)
    assert "not used" in used_fields(patient, False)
