"""The cell-by-cell scorer of the csv evaluation, on a tiny pair checked by hand."""

from aiorch.csv.scoring import kind_of, norm, score_cells

DIRTY = [
    ["1", "Boston", "MA", "800", "97%", "12"],
    ["2", "Bostn", "MA", "1,000", "50", "N/A"],
    ["3", "Salem", "AK-*", "x", "10", "7"],
    ["4", "Salem", "OR", "5", "10", ""],
]
CLEAN = [
    ["1", "Boston", "MA", "800.0", "97", "12"],   # representation only: nothing needed
    ["2", "Boston", "MA", "1000", "50", ""],     # Bostn needs a change; 1,000 and N/A do not
    ["3", "Salem", "AK", "3", "10", "7"],        # AK-* and x need a change
    ["4", "Salem", "MA", "5", "10", ""],         # OR needs a change
]


def test_representation_only_differences_are_not_errors():
    assert norm("800") == norm("800.0") == norm(" 800 ") and norm("1,000") == norm("1000")
    assert norm("97%") == norm("97") and norm("N/A") == norm("") == norm("null")
    assert norm("New  York") == norm("New York") and norm("Boston") != norm("boston")


def test_precision_recall_and_kinds_on_a_hand_checked_pair():
    cleaned = [
        ["1", "Boston", "MA", "800", "97", "12"],       # a representation change: not a change
        ["2", "Boston", "MA", "1000", "50", ""],        # Bostn repaired: correct
        ["3", "Salem", "AK", "4", "10", "7"],           # AK-* correct; x -> 4 wrong
        ["4", "Salem", "OR", "5", "10", "9"],           # OR missed; 9 invented where nothing was needed
    ]
    score = score_cells(DIRTY, CLEAN, cleaned)
    assert (score.needed, score.made, score.correct) == (4, 4, 2)
    assert score.precision == 0.5 and score.recall == 0.5 and score.f1 == 0.5
    assert score.needed_by_kind == {"corrupted": 3, "replaced": 1}
    assert score.correct_by_kind == {"corrupted": 2}
    assert {(row, column) for row, column, *_ in score.wrong_examples} == {(3, 3), (4, 5)}


def test_leaving_the_file_alone_is_precise_but_finds_nothing():
    score = score_cells(DIRTY, CLEAN, DIRTY)
    assert score.made == 0 and score.precision == 1.0 and score.recall == 0.0 and score.f1 == 0.0


def test_error_kinds():
    assert kind_of("", "5") == "missing"
    assert kind_of("usa", "USA") == "format"
    assert kind_of("Waldherr", "Kolvik") == "replaced"
    assert kind_of("2O11", "2011") == "corrupted"
