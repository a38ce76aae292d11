import pytest

from aiorch.sentiment.errors import SentimentError
from aiorch.sentiment.inputs import TextFile, select_texts


def pick(instruction: str, files=(), params=None, upstream=()):
    return select_texts(instruction, params or {}, list(files), list(upstream))


@pytest.mark.parametrize(
    "instruction, texts, source",
    [
        ('What is the sentiment of "I love it" and "this is awful"?', ["I love it", "this is awful"], "quoted"),
        ("Sentiment of “Ça me plaît beaucoup”", ["Ça me plaît beaucoup"], "quoted"),
        ("Analyse the sentiment of this review: the hotel was dirty and loud", ["the hotel was dirty and loud"], "inline"),
        ("How positive is: great value for money", ["great value for money"], "inline"),
        ("analyze the sentiment of the movie was fantastic", ["the movie was fantastic"], "inline"),
        ("I can't believe how good this phone is", ["I can't believe how good this phone is"], "inline"),
    ],
)
def test_text_from_the_instruction(instruction, texts, source):
    batch = pick(instruction)
    assert (batch.texts, batch.source) == (texts, source)


@pytest.mark.parametrize("instruction", ["", "analyze the sentiment", "What is the sentiment of this text: \"\"", "sentiment:"])
def test_no_text_fails_the_step_and_says_why(instruction):
    with pytest.raises(SentimentError) as caught:
        pick(instruction)
    assert caught.value.code == "empty_input" and "no text to analyse" in caught.value.message


def test_a_text_file_is_one_document_unless_lines_are_asked_for():
    file = TextFile("notes.txt", "text/plain", "Great day.\nAwful night.\n".encode())
    assert pick("sentiment of the file", [file]).texts == ["Great day.\nAwful night."]
    assert pick("sentiment of each line", [file]).texts == ["Great day.", "Awful night."]


def test_text_files_in_latin1_and_utf16_are_read():
    assert pick("tone", [TextFile("a.txt", "text/plain", "très bien".encode("cp1252"))]).texts == ["très bien"]
    assert pick("tone", [TextFile("a.txt", "text/plain", "good".encode("utf-16"))]).texts == ["good"]


CSV = b"id,comment,stars\n1,Loved the staff,5\n2,Room was filthy,1\n3,,3\n"


def test_a_csv_column_named_in_the_instruction_or_params():
    file = TextFile("r.csv", "text/csv", CSV)
    batch = pick("sentiment of the comment column", [file])
    assert batch.texts == ["Loved the staff", "Room was filthy"] and "`comment`" in batch.note
    assert pick("sentiment", [file], params={"column": "Comment"}).texts == batch.texts


def test_without_a_column_name_the_longest_text_column_is_used():
    batch = pick("how do people feel", [TextFile("r.csv", "text/csv", CSV.replace(b",", b";"))])
    assert batch.texts[0] == "Loved the staff" and "longest text column" in batch.note


def test_unknown_columns_and_empty_files_fail_clearly():
    with pytest.raises(SentimentError, match="no column 'review'"):
        pick("x", [TextFile("r.csv", "text/csv", CSV)], params={"column": "review"})
    with pytest.raises(SentimentError, match="header but no rows"):
        pick("x", [TextFile("r.csv", "text/csv", b"a,b\n")])
    with pytest.raises(SentimentError, match="empty"):
        pick("x", [TextFile("e.txt", "text/plain", b"  \n")])
    with pytest.raises(SentimentError, match="binary"):
        pick("x", [TextFile("b.txt", "text/plain", b"\x00\x01\x02")])


def test_texts_from_an_earlier_step_win():
    batch = pick("overall sentiment of the reviews", upstream=[["good", "bad", " "]])
    assert (batch.texts, batch.source) == (["good", "bad"], "upstream")
    with pytest.raises(SentimentError, match="earlier step produced no text"):
        pick("sentiment", upstream=[[]])


def test_params_texts_are_scored_one_by_one_and_text_still_works():
    instruction = 'What is the sentiment of "I love this phone" and "the battery is awful"?'
    batch = pick(instruction, params={"texts": ["I love this phone", " the battery is awful ", ""]})
    assert (batch.texts, batch.source) == (["I love this phone", "the battery is awful"], "inline")
    assert pick(instruction, params={"text": "I love this phone"}).texts == ["I love this phone"]
    # Both, as a planner moving from `text` to `texts` may send them: `text` is not counted twice.
    both = {"text": "I love this phone", "texts": ["I love this phone", "the battery is awful"]}
    assert pick(instruction, params=both).texts == ["I love this phone", "the battery is awful"]
    assert pick("x", params={"text": "new", "texts": ["old"]}).texts == ["new", "old"]
    assert pick("x", params={"texts": "just one"}).texts == ["just one"]
    # Repeats are kept: each text is one result.
    assert pick("x", params={"texts": ["good", "good"]}).texts == ["good", "good"]


def test_blank_params_fall_back_to_the_instruction_and_bad_ones_fail():
    assert pick('sentiment of "fine"', params={"texts": [" "], "text": ""}).texts == ["fine"]
    with pytest.raises(SentimentError, match="params.texts must be a list of strings") as caught:
        pick("x", params={"texts": ["ok", 3]})
    assert caught.value.code == "invalid_params"
    with pytest.raises(SentimentError, match="params.text must be a string"):
        pick("x", params={"text": ["a list"]})


def test_texts_from_an_earlier_step_win_over_params():
    assert pick("x", params={"texts": ["mine"]}, upstream=[["theirs"]]).texts == ["theirs"]
