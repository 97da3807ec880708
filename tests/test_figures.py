"""Tests of utils.figures: each diagram has its title, texts and shapes; bad input errors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from utils import figures


def _texts(fig: Figure) -> list[str]:
    """All text drawn on the figure (suptitle, axes texts, legends, tick labels)."""
    found = [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]
    return [t for t in found if t]


def _joined(fig: Figure) -> str:
    return " ".join(" ".join(_texts(fig)).split())


def _by_gid(fig: Figure, prefix: str) -> dict[str, object]:
    return {
        a.get_gid(): a
        for a in fig.findobj(match=lambda a: (a.get_gid() or "").startswith(prefix))
        if not a.get_gid().endswith(":label")
    }


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


# --- lifecycle_diagram -------------------------------------------------------------------


def test_lifecycle_has_title_all_stages_and_a_closed_loop_of_arrows():
    fig = figures.lifecycle_diagram()
    assert fig.get_suptitle() == "The ML lifecycle"
    text = _joined(fig)
    for label in figures.LIFECYCLE_STAGES.values():
        assert " ".join(label.split()) in text
    stages = _by_gid(fig, "stage:")
    assert set(stages) == {f"stage:{k}" for k in figures.LIFECYCLE_STAGES}
    arrows = _by_gid(fig, "loop-arrow:")
    assert len(arrows) == len(figures.LIFECYCLE_STAGES)  # one arrow per stage: a loop
    w, h = fig.get_size_inches()
    assert (w, h) == (6.0, 2.5)


def test_lifecycle_highlight_changes_only_that_stage_colour():
    plain = {
        gid: to_hex(p.get_facecolor())
        for gid, p in _by_gid(figures.lifecycle_diagram(), "stage:").items()
    }
    assert len(set(plain.values())) == 1  # nothing emphasised
    for key in figures.LIFECYCLE_STAGES:
        fig = figures.lifecycle_diagram(highlight=key)
        colours = {gid: to_hex(p.get_facecolor()) for gid, p in _by_gid(fig, "stage:").items()}
        changed = {gid for gid in colours if colours[gid] != plain[gid]}
        assert changed == {f"stage:{key}"}
        assert "you are here" in fig.get_suptitle()


def test_lifecycle_unknown_stage_lists_the_keys():
    with pytest.raises(ValueError, match="'design'.*'monitor'"):
        figures.lifecycle_diagram("training")
    with pytest.raises(TypeError, match="string or None"):
        figures.lifecycle_diagram(3)  # type: ignore[arg-type]


def test_figures_display_once_as_crisp_png_and_stay_out_of_pyplot():
    fig = figures.lifecycle_diagram("model")
    data, meta = fig._repr_mimebundle_()
    assert data["image/png"].startswith(b"\x89PNG")
    assert meta["image/png"] == {"width": 600, "height": 250}
    assert "The ML lifecycle" in data["text/plain"]
    assert plt.get_fignums() == []  # not registered with pyplot: plt.show() will not repeat it


# --- the other diagrams ----------------------------------------------------------------------


def test_linear_vs_cycle_shows_a_three_step_line_and_the_six_stage_loop():
    fig = figures.linear_vs_cycle()
    assert "line" in fig.get_suptitle() and "cycle" in fig.get_suptitle()
    assert len(_by_gid(fig, "line:")) == 3
    assert len(_by_gid(fig, "line-arrow:")) == 2  # a line: no arrow back to the start
    assert len(_by_gid(fig, "stage:")) == 6
    assert len(_by_gid(fig, "loop-arrow:")) == 6
    text = _joined(fig)
    for word in ("Data", "Model", "Report", "Monitoring"):
        assert word in text


def _component_areas(fig: Figure) -> dict[str, float]:
    return {
        gid.removeprefix("component:"): p.get_width() * p.get_height()
        for gid, p in _by_gid(fig, "component:").items()
    }


def test_ml_code_box_default_is_the_papers_components_and_says_it_is_illustrative():
    fig = figures.ml_code_box()
    areas = _component_areas(fig)
    assert set(areas) == set(figures.SCULLEY_COMPONENTS)
    assert areas["ML code"] == pytest.approx(0.05, rel=1e-6)  # the treemap's unit square
    assert sum(areas.values()) == pytest.approx(1.0)
    text = _joined(fig)
    assert "Illustrative" in text and "Sculley" in text
    ml_patch = _by_gid(fig, "component:ML code")["component:ML code"]
    assert to_hex(ml_patch.get_facecolor()) == "#000000"


def test_ml_code_box_areas_are_proportional_to_the_given_shares():
    shares = {"ML code": 50, "Serving": 150, "Tests": 300, "Unused": 0}
    fig = figures.ml_code_box(shares, source="lines of code, counted")
    areas = _component_areas(fig)
    assert set(areas) == {"ML code", "Serving", "Tests"}  # zero-sized parts get no box
    assert areas["ML code"] == pytest.approx(0.1)
    assert areas["Serving"] == pytest.approx(0.3)
    assert areas["Tests"] == pytest.approx(0.6)
    text = _joined(fig)
    assert "lines of code, counted" in text
    assert "Illustrative" not in text
    assert "Unused" in text  # still listed, at 0%


@pytest.mark.parametrize(
    ("shares", "error", "message"),
    [
        ({"Serving": 10}, ValueError, "ML code"),
        ({"ML code": -1, "Serving": 10}, ValueError, ">= 0"),
        ({"ML code": float("nan")}, ValueError, "finite"),
        ({"ML code": 0, "Serving": 3}, ValueError, "greater than 0"),
        ({"ML code": "ten"}, TypeError, "number"),
        ([("ML code", 1)], TypeError, "dict"),
    ],
)
def test_ml_code_box_rejects_bad_shares(shares, error, message):
    with pytest.raises(error, match=message):
        figures.ml_code_box(shares)


def test_devops_loop_names_all_eight_stages_on_both_halves():
    fig = figures.devops_loop()
    assert "DevOps" in fig.get_suptitle()
    labels = _by_gid(fig, "devops:")
    assert set(labels) == {f"devops:{s}" for s in figures.DEVOPS_STAGES}
    dev = {s for s in figures.DEVOPS_STAGES if labels[f"devops:{s}"].get_position()[0] < 0}
    assert dev == {"plan", "code", "build", "test"}
    assert "Dev" in _texts(fig) and "Ops" in _texts(fig)


def test_mlops_phases_lists_the_lectures_contents_and_highlights_one_phase():
    fig = figures.mlops_phases()
    text = _joined(fig)
    for title, items in figures.MLOPS_PHASES.values():
        assert title in text
        for item in items:
            assert " ".join(item.split()) in text
    plain = {g: to_hex(p.get_facecolor()) for g, p in _by_gid(fig, "phase:").items()}
    assert len(plain) == 3 and len(set(plain.values())) == 1
    lit = figures.mlops_phases("operations")
    colours = {g: to_hex(p.get_facecolor()) for g, p in _by_gid(lit, "phase:").items()}
    assert {g for g in colours if colours[g] != plain[g]} == {"phase:operations"}
    with pytest.raises(ValueError, match="'data', 'model', 'operations'"):
        figures.mlops_phases("deploy")


def test_skills_venn_has_three_overlapping_circles():
    fig = figures.skills_venn()
    circles = list(_by_gid(fig, "skill:").values())
    assert len(circles) == 3
    for i, a in enumerate(circles):
        for b in circles[i + 1 :]:
            (ax, ay), (bx, by) = a.center, b.center
            assert ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 < a.radius + b.radius  # they overlap
    text = _joined(fig)
    for skill in ("Software development", "Machine learning", "Data engineering", "MLOps engineer"):
        assert skill in text


def test_four_c_radar_plots_the_given_scores_and_labels_defaults_as_illustrative():
    default = figures.four_c_radar()
    assert "illustrative" in default.get_suptitle()
    scores = {"MLflow": {"Cost": 5, "Coverage": 3, "Complexity": 4, "Community": 5}}
    fig = figures.four_c_radar(scores)
    assert "illustrative" not in fig.get_suptitle()
    (line,) = _by_gid(fig, "tool:").values()
    radii = list(line.get_ydata())
    assert radii == [5.0, 3.0, 4.0, 5.0, 5.0]  # Cost, Coverage, Complexity, Community, closed
    for criterion in figures.FOUR_CS:
        assert criterion in _texts(fig)


def test_four_c_radar_keeps_long_tool_names_inside_the_figure():
    names = ["Hand-written JSON-lines log", "MLflow (course server)", "Weights & Biases hosted"]
    row = {"Cost": 3, "Coverage": 3, "Complexity": 3, "Community": 3}
    fig = figures.four_c_radar({name: row for name in names})
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    fig.draw_without_rendering()
    legend = fig.axes[0].get_legend()
    page = fig.bbox
    for artist in [legend, *fig.axes[0].get_xticklabels()]:  # the legend and the 4 criteria
        box = artist.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1, artist
        assert page.y0 <= box.y0 and box.y1 <= page.y1, artist
    shown = [t.get_text().replace("\n", " ") for t in legend.get_texts()]
    assert shown == names  # wrapped, not cut
    assert sorted(_by_gid(fig, "tool:")) == sorted(f"tool:{n}" for n in names)


@pytest.mark.parametrize(
    ("scores", "error", "message"),
    [
        (
            {"A": {"Cost": 1, "Coverage": 2, "Complexity": 3}},
            ValueError,
            "missing \\['Community'\\]",
        ),
        ({"A": {"Cost": 1, "Coverage": 2, "Complexity": 3, "Community": 9}}, ValueError, "0..5"),
        (
            {"A": {"Cost": "low", "Coverage": 2, "Complexity": 3, "Community": 4}},
            TypeError,
            "number",
        ),
        ({}, TypeError, "non-empty"),
    ],
)
def test_four_c_radar_rejects_bad_scores(scores, error, message):
    with pytest.raises(error, match=message):
        figures.four_c_radar(scores)


@pytest.mark.slow
def test_every_figure_has_a_title_and_renders_to_png(tmp_path):
    makers = [
        figures.lifecycle_diagram,
        figures.linear_vs_cycle,
        figures.ml_code_box,
        figures.devops_loop,
        figures.mlops_phases,
        figures.skills_venn,
        figures.four_c_radar,
    ]
    for make in makers:
        fig = make()
        assert fig.get_suptitle(), make.__name__
        out = tmp_path / f"{make.__name__}.png"
        fig.savefig(out)
        assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 10_000


def test_at_width_scales_the_displayed_size_and_rejects_silly_widths():
    fig = figures.lifecycle_diagram().at_width(1200)
    data, meta = fig._repr_mimebundle_()
    assert meta["image/png"] == {"width": 1200, "height": 500}
    png_width = int.from_bytes(data["image/png"][16:20], "big")  # IHDR width
    assert png_width == 2400  # rendered at twice the shown size: sharp on a projector
    for bad in (0, 50, 10_000, 12.5, True):
        with pytest.raises(ValueError, match="100 to 4000"):
            figures.lifecycle_diagram().at_width(bad)


# --- ml_test_pyramid -------------------------------------------------------------------------


def test_ml_test_pyramid_stacks_four_layers_and_says_where_each_runs():
    fig = figures.ml_test_pyramid()
    assert fig.get_suptitle() == "The ML test pyramid: what runs where"
    layers = _by_gid(fig, "pyramid:")
    names = [name for name, _, _ in figures.ML_TEST_LAYERS]
    assert names == [
        "unit tests of code",
        "data tests",
        "model tests",
        "integration and serving tests",
    ]
    assert set(layers) == {f"pyramid:{name}" for name in names}
    # A pyramid: each layer sits above the one before it and is narrower.
    boxes = [layers[f"pyramid:{name}"].get_path().get_extents() for name in names]
    for lower, upper in zip(boxes, boxes[1:], strict=False):
        assert upper.y0 >= lower.y1 and upper.width < lower.width
    text = _joined(fig)
    for place in figures.TEST_PLACES:
        assert place in text
    # Each layer has a box in every place it runs, and only there; unit tests run only in CI.
    runs = set(_by_gid(fig, "runs:"))
    expected = {
        f"runs:{name}:{place}"
        for name, _, where in figures.ML_TEST_LAYERS
        for place, what in zip(figures.TEST_PLACES, where, strict=True)
        if what is not None
    }
    assert runs == expected and len(runs) == 10
    assert {r for r in runs if r.startswith("runs:unit")} == {
        "runs:unit tests of code:on each commit (CI)"
    }
    assert text.count("does not run here") == 2
    for _name, example, where in figures.ML_TEST_LAYERS:
        assert " ".join(example.split()) in text
        for what in where:
            assert what is None or " ".join(what.split()) in text
