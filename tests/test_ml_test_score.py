"""Tests of utils.ml_test_score: the rubric, the 2017 scoring, the bands and the form."""

from __future__ import annotations

import math

import pytest

from utils import ml_test_score
from utils.figures import CourseFigure
from utils.ml_test_score import AUTOMATED, MANUAL, NOT_DONE, RUBRIC, SECTIONS

ALL_IDS = [test.id for test in RUBRIC]


def _all(level: str) -> dict[str, str]:
    return dict.fromkeys(ALL_IDS, level)


def test_the_rubric_has_28_tests_in_four_sections_of_seven() -> None:
    assert len(RUBRIC) == 28
    assert len(set(ALL_IDS)) == 28
    for section, prefix in SECTIONS.items():
        tests = [t for t in RUBRIC if t.section == section]
        assert [t.number for t in tests] == list(range(1, 8))
        assert [t.id for t in tests] == [f"{prefix} {i}" for i in range(1, 8)]
    assert list(SECTIONS) == ["Data", "Model", "Infrastructure", "Monitoring"]
    assert all(t.title and t.meaning for t in RUBRIC)


def test_rubric_table_lists_every_test() -> None:
    table = ml_test_score.rubric_table()
    assert table.shape == (28, 3)
    assert list(table.index) == ALL_IDS
    assert table.loc["Infra 1", "test"] == "Training is reproducible"


def test_everything_automated_scores_seven() -> None:
    report = ml_test_score.score(_all(AUTOMATED))
    assert report.sections == dict.fromkeys(SECTIONS, 7.0)
    assert report.final == 7.0
    assert report.band.label == "> 5"
    assert "exceptional" in report.band.meaning


def test_everything_by_hand_scores_half_points() -> None:
    report = ml_test_score.score(_all(MANUAL))
    assert report.sections == dict.fromkeys(SECTIONS, 3.5)
    assert report.final == 3.5
    assert report.band.label == "(3, 5]"


def test_one_empty_section_makes_the_final_score_zero() -> None:
    answers = {k: v for k, v in _all(AUTOMATED).items() if not k.startswith("Monitor")}
    report = ml_test_score.score(answers)
    assert report.sections["Monitoring"] == 0.0
    assert report.sections["Data"] == 7.0
    assert report.final == 0.0
    assert report.weakest == ["Monitoring"]
    assert report.band.label == "0"
    assert "research project" in report.band.meaning


def test_halves_and_wholes_add_up_per_section_and_the_minimum_wins() -> None:
    answers = _all(AUTOMATED)
    # Data: 3 automated, 2 manual, 2 not done -> 4.0; the other sections stay at 7.
    answers.update({"Data 4": MANUAL, "Data 5": MANUAL, "Data 6": NOT_DONE, "Data 7": NOT_DONE})
    report = ml_test_score.score(answers)
    assert report.sections["Data"] == 4.0
    assert report.final == 4.0
    assert report.points["Data 4"] == 0.5 and report.points["Data 7"] == 0.0
    assert report.weakest == ["Data"]


def test_missing_answers_count_as_not_done() -> None:
    report = ml_test_score.score({"Data 1": AUTOMATED, "Model 2": MANUAL})
    assert report.answers["Infra 3"] == NOT_DONE
    assert report.sections == {"Data": 1.0, "Model": 0.5, "Infrastructure": 0.0, "Monitoring": 0.0}
    assert report.final == 0.0
    assert ml_test_score.score({}).final == 0.0


def test_the_report_reads_as_one_sentence() -> None:
    text = str(ml_test_score.score(ml_test_score.course_answers()))
    assert "final score 1.5" in text and "weakest: Monitoring" in text and "(1, 2]" in text


@pytest.mark.parametrize(
    ("answers", "error", "words"),
    [
        ({"Data 9": AUTOMATED}, ValueError, "'Data 9' is not a test"),
        ({"data 1": AUTOMATED}, ValueError, "Ids look like 'Data 1'"),
        ({"Data 1": "done"}, ValueError, "must be one of"),
        ({"Data 1": 1}, ValueError, "must be one of"),
        (["Data 1"], TypeError, "dict of test id -> level"),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message(
    answers: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        ml_test_score.score(answers)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("final", "label"),
    [
        (0, "0"),
        (0.5, "(0, 1]"),
        (1, "(0, 1]"),
        (1.5, "(1, 2]"),
        (2, "(1, 2]"),
        (2.5, "(2, 3]"),
        (3, "(2, 3]"),
        (4, "(3, 5]"),
        (5, "(3, 5]"),
        (5.5, "> 5"),
        (7, "> 5"),
    ],
)
def test_bands_follow_the_paper(final: float, label: str) -> None:
    assert ml_test_score.band_for(final).label == label


def test_middle_bands_are_rising_levels_of_readiness() -> None:
    middle = ml_test_score.BANDS[1:5]
    assert [band.label for band in middle] == ["(0, 1]", "(1, 2]", "(2, 3]", "(3, 5]"]
    assert all("rising level of production readiness" in band.meaning for band in middle)
    assert [f"step {k} of the 4" in band.meaning for k, band in enumerate(middle, 1)] == [True] * 4


@pytest.mark.parametrize("bad", [-0.5, 7.5, math.nan])
def test_band_for_refuses_impossible_scores(bad: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 7"):
        ml_test_score.band_for(bad)


def test_band_for_refuses_non_numbers() -> None:
    with pytest.raises(TypeError):
        ml_test_score.band_for(True)
    with pytest.raises(TypeError):
        ml_test_score.band_for("2")  # type: ignore[arg-type]


def test_the_course_assessment_is_complete_and_justified() -> None:
    assert list(ml_test_score.COURSE_ASSESSMENT) == ALL_IDS
    for key, (level, why) in ml_test_score.COURSE_ASSESSMENT.items():
        assert level in ml_test_score.LEVELS, key
        assert why.strip() and "\n" not in why and len(why) <= 100, key
    report = ml_test_score.score(ml_test_score.course_answers())
    assert report.sections == {
        "Data": 2.5,
        "Model": 2.0,
        "Infrastructure": 6.0,
        "Monitoring": 1.5,
    }
    assert report.final == 1.5
    assert report.weakest == ["Monitoring"]
    # The feature without effect (region) is still an input: Data 2 cannot be claimed.
    assert ml_test_score.COURSE_ASSESSMENT["Data 2"][0] == NOT_DONE


def test_the_course_assessment_scores_as_the_paper_means() -> None:
    assessment = ml_test_score.COURSE_ASSESSMENT
    assert set(ml_test_score.ASSESSMENT_RULES) == set(ml_test_score.LEVELS)
    # A constant (dummy) baseline is not "a simpler model": the comparison with a simpler model
    # was made once, by hand, in notebook 07.
    assert assessment["Model 5"][0] == MANUAL
    # A canary split made once in a notebook is not a canary process every release goes through.
    assert assessment["Infra 6"][0] == MANUAL
    # Monitoring a simulation in a notebook is documented work, not an automated monitor.
    for key, (level, why) in assessment.items():
        if "simulat" in why:
            assert level != AUTOMATED, key
    monitoring = {key: level for key, (level, _) in assessment.items() if key.startswith("Monitor")}
    assert AUTOMATED not in monitoring.values()
    # "Offline and online metrics correlate" needs online metrics, which a simulation has not.
    assert assessment["Model 2"][0] == NOT_DONE
    # What is automated runs by itself: in CI or in every run of the delivery pipeline.
    for key, (level, why) in assessment.items():
        if level == AUTOMATED:
            assert "CI" in why or "pipeline" in why, key


def test_the_form_starts_from_its_answers_and_scores_live() -> None:
    form = ml_test_score.SelfAssessment(ml_test_score.course_answers(), title="Course")
    assert form.answers == ml_test_score.course_answers()
    assert form.report().final == 1.5
    assert "1.5" in form.summary.value and "(1, 2]" in form.summary.value
    assert form.tabs.get_title(0) == "Data: 2.5/7"

    form.set("Data 2", AUTOMATED)  # as choosing it in the dropdown
    assert form.dropdowns["Data 2"].value == AUTOMATED
    assert form.report().sections["Data"] == 3.5
    assert form.report().final == 1.5  # the minimum: monitoring is still the weakest
    assert form.tabs.get_title(0) == "Data: 3.5/7"

    form.set("Monitor 7", AUTOMATED)
    assert form.report().final == 2.0
    assert "<b style='font-size:1.2em'>2</b>" in form.summary.value

    form.dropdowns["Monitor 2"].value = NOT_DONE  # a change in the widget itself
    assert form.report().final == 1.5
    assert form.tabs.get_title(3) == "Monitor: 1.5/7"


def test_an_empty_form_scores_zero_and_shows_the_notes() -> None:
    form = ml_test_score.SelfAssessment(notes={"Data 1": "a note of mine"})
    assert set(form.answers.values()) == {NOT_DONE}
    assert form.report().final == 0.0
    assert "research project" in form.summary.value
    assert len(form.tabs.children) == 4
    first_row = form.tabs.children[0].children[0]
    assert "a note of mine" in first_row.children[1].value
    assert len(form.dropdowns) == 28
    assert form.tabs.children[0].layout.height is None  # as tall as its seven tests


def test_the_form_can_scroll_inside_a_fixed_height() -> None:
    form = ml_test_score.SelfAssessment(height="220px")
    assert {panel.layout.height for panel in form.tabs.children} == {"220px"}
    assert form.tabs.children[0].layout.overflow == "auto"
    with pytest.raises(TypeError, match="CSS length"):
        ml_test_score.SelfAssessment(height=220)  # type: ignore[arg-type]


def test_the_form_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown test ids"):
        ml_test_score.SelfAssessment(notes={"Data 8": "x"})
    with pytest.raises(ValueError, match="must be one of"):
        ml_test_score.SelfAssessment({"Data 1": "sometimes"})
    form = ml_test_score.SelfAssessment()
    with pytest.raises(ValueError, match="not a test"):
        form.set("Data 0", MANUAL)


def test_score_figure_draws_the_sections_and_the_minimum() -> None:
    report = ml_test_score.score(ml_test_score.course_answers())
    fig = ml_test_score.score_figure(report)
    assert isinstance(fig, CourseFigure)
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [2.5, 2.0, 6.0, 1.5]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(SECTIONS)
    assert ax.get_ylabel() and ax.get_xlabel()
    assert "1.5" in ax.get_title()
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [1.5]
    with pytest.raises(TypeError):
        ml_test_score.score_figure({"Data": 1})  # type: ignore[arg-type]
