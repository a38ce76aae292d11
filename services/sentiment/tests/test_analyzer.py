
import pytest
from nltk.sentiment import SentimentIntensityAnalyzer

from aiorch.sentiment.analyzer import SentimentAnalyzer, label_for, report, split_sentences, summarize
from aiorch.sentiment.lexicon import ensure_vader_lexicon


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> SentimentAnalyzer:
    return SentimentAnalyzer(tmp_path_factory.mktemp("nltk"))


def test_lexicon_is_built_from_the_vadersentiment_package(tmp_path):
    target = ensure_vader_lexicon(tmp_path)
    assert target == tmp_path.resolve() / "sentiment" / "vader_lexicon.zip"
    scores = SentimentIntensityAnalyzer().polarity_scores("great")
    assert scores["compound"] > 0.5


@pytest.mark.parametrize("compound, label", [(0.05, "positive"), (0.049, "neutral"), (-0.049, "neutral"), (-0.05, "negative")])
def test_labels_use_the_vader_thresholds(compound, label):
    assert label_for(compound) == label


def test_clear_texts_get_the_right_label(analyzer):
    assert analyzer.analyze_text("I absolutely love this, it is wonderful!").label == "positive"
    assert analyzer.analyze_text("This is the worst, most horrible experience.").label == "negative"
    assert analyzer.analyze_text("The package arrived on Tuesday.").label == "neutral"


def test_scores_match_nltk_vader_directly(analyzer):
    text = "The food was great but the service was really slow."
    item = analyzer.analyze_text(text)
    direct = SentimentIntensityAnalyzer().polarity_scores(text)
    assert (item.compound, item.positive, item.neutral, item.negative) == (
        direct["compound"], direct["pos"], direct["neu"], direct["neg"])


def test_documents_get_per_sentence_scores(analyzer):
    item = analyzer.analyze_text("I love the screen. The battery is terrible.")
    assert [s.label for s in item.sentences] == ["positive", "negative"]
    assert analyzer.analyze_text("Just one sentence here.").sentences == []


def test_emotions_come_from_the_nrc_lexicon_and_can_be_switched_off(analyzer, tmp_path):
    item = analyzer.analyze_text("I was so happy and full of joy, a wonderful gift")
    assert item.top_emotions[0] == "joy" and abs(sum(item.emotions.values()) - 1) < 0.01
    assert "positive" not in item.emotions
    plain = SentimentAnalyzer(tmp_path, emotions=False).analyze_text("I was so happy")
    assert plain.emotions == {} and plain.top_emotions == []


def test_summary_distribution_and_report(analyzer):
    items = analyzer.analyze(["I love it", "I hate it", "It is a chair", "Great stuff!"])
    output = summarize(items, "quoted")
    assert output.distribution == {"positive": 2, "neutral": 1, "negative": 1}
    assert output.overall_label == label_for(output.mean_compound)
    text = report(output)
    assert "**Sentiment:" in text and "50% positive" in text and "| I hate it | negative |" in text


def test_progress_is_reported_on_large_batches(analyzer):
    seen = []
    analyzer.analyze(["fine"] * 3000, progress=lambda fraction, message: seen.append(fraction))
    assert seen and all(0 < f < 1 for f in seen)


def test_sentence_split():
    assert split_sentences("One. Two! Three? ") == ["One.", "Two!", "Three?"]


def test_items_csv_neutralises_formulas(analyzer):
    from aiorch.sentiment.analyzer import items_csv

    output = summarize(analyzer.analyze(["=HYPERLINK(\"x\")", "fine day"]), "quoted")
    lines = items_csv(output).decode().splitlines()
    assert lines[0].startswith("text,label,compound") and lines[1].startswith("\"'=HYPERLINK")


def test_batches_skip_per_sentence_detail(analyzer):
    items = analyzer.analyze(["Good. Bad."] * 21)
    assert all(item.sentences == [] for item in items)
    assert len(analyzer.analyze(["Good. Bad."])[0].sentences) == 2
