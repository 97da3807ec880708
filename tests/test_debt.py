"""Tests of utils.debt: counting logical lines, and the debt demonstrations of notebook 02."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils import debt, service
from utils.service import config, data, evaluation, features, model, resources

SMALL = config.ServiceConfig(n_per_period=400)

# --- counting logical lines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", 0),
        ("\n\n   \n", 0),
        ("# only a comment\n# and another\n", 0),
        ("x = 1\n", 1),
        ("x = 1", 1),  # no newline at the end
        ("x = 1  # with a comment\n", 1),
        ("x = [1,\n     2,\n     3]\n", 1),  # brackets: one statement over three lines
        ("x = 1 + \\\n    2\n", 1),  # backslash continuation
        ("a = 1; b = 2\n", 1),  # one logical line, two statements
        ("if a:\n    b = 1\nelse:\n    b = 2\n", 4),  # clause headers count
        ("for i in range(3): print(i)\n", 1),
        ("@decorator\ndef f():\n    pass\n", 3),
        ('"""Module docstring."""\nimport os\n', 1),
        ('def f():\n    """Docstring."""\n    return 1\n', 2),
        ('def f():\n    """A docstring\n    over lines.\n    """\n    return 1\n', 2),
        ('class A:\n    """Doc."""\n\n    def m(self):\n        """Doc."""\n', 2),
        ('async def f():\n    """Doc."""\n    await g()\n', 2),
        ('def f(): """Doc on the def line."""\n', 1),  # one logical line: the def
        ('x = 1\n"""not a docstring: a second statement"""\n', 2),
        ('s = """a string\n# that looks like a comment\n"""\n', 1),
    ],
)
def test_count_logical_lines_on_known_snippets(source: str, expected: int) -> None:
    assert debt.count_logical_lines(source) == expected


def test_line_breakdown_splits_the_lines() -> None:
    source = (
        '"""Module."""\n'
        "\n"
        "# a comment\n"
        "def f(x):\n"
        '    """Doc."""\n'
        "    return [x,\n"
        "            x]  # trailing comment\n"
    )
    assert debt.line_breakdown(source) == debt.LineBreakdown(
        physical=7, blank=1, comment=1, docstring=2, logical=2
    )


def test_counting_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Not valid Python"):
        debt.count_logical_lines("def f(:\n")
    with pytest.raises(ValueError, match="Not valid Python"):
        debt.count_logical_lines("x = (1,\n")
    with pytest.raises(TypeError):
        debt.count_logical_lines(b"x = 1")


def test_count_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text('"""Doc."""\n\nimport os\n\n\ndef f():\n    return os.sep\n')
    assert debt.count_file_lines(path) == 3
    (tmp_path / "bad.py").write_text("def (\n")
    with pytest.raises(ValueError, match="bad.py"):
        debt.count_file_lines(tmp_path / "bad.py")
    with pytest.raises(FileNotFoundError):
        debt.count_file_lines(tmp_path / "missing.py")


def test_measure_components(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\nz = 3\n")
    (tmp_path / "b.py").write_text("# nothing but a comment\nw = 4\n")
    (tmp_path / "c.py").write_text("v = 5\n")
    table = debt.measure_components(
        {"ML code": [tmp_path / "b.py"], "Serving": [tmp_path / "a.py", str(tmp_path / "c.py")]}
    )
    assert table["component"].tolist() == ["Serving", "ML code"]  # largest first
    assert table["logical_lines"].tolist() == [4, 1]
    assert table["share"].tolist() == pytest.approx([0.8, 0.2])
    assert table.loc[0, "files"] == "a.py, c.py"
    with pytest.raises(TypeError):
        debt.measure_components([tmp_path / "a.py"])
    with pytest.raises(TypeError):
        debt.measure_components({"x": tmp_path / "a.py"})
    (tmp_path / "empty.py").write_text("# nothing\n")
    with pytest.raises(ValueError, match="No line of code"):
        debt.measure_components({"x": [tmp_path / "empty.py"]})


def test_the_service_is_measured_component_by_component() -> None:
    table = debt.measure_components(service.component_files()).set_index("component")
    assert len(table) == 10 and abs(table["share"].sum() - 1) < 1e-12
    assert table["logical_lines"].min() > 0
    assert table.loc["ML code", "files"] == "model.py"
    assert table.loc["ML code", "logical_lines"] == debt.count_file_lines(
        Path(service.__file__).parent / "model.py"
    )


def test_count_definition_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        '"""Doc."""\n\nimport os\n\n\n@wrap\ndef f():\n    """Doc."""\n    return os.sep\n\n\n'
        "class A:\n    x = 1\n\n    def g(self):\n        return 2\n"
    )
    assert debt.count_definition_lines(path, ["f"]) == 3  # decorator, def, return
    assert debt.count_definition_lines(path, ["A"]) == 4
    assert debt.count_definition_lines(path, ["f", "A", "f"]) == 7  # each name once
    with pytest.raises(ValueError, match="no top-level"):
        debt.count_definition_lines(path, ["os"])


def test_the_http_server_is_part_of_serving() -> None:
    serving_py = Path(service.__file__).parent / "serving.py"
    http = debt.count_definition_lines(serving_py, ["ServiceServer", "serve"])
    assert 0 < http < debt.count_file_lines(serving_py)


def test_ml_share_readings() -> None:
    lines = pd.DataFrame(
        {"component": ["Serving", "ML code", "Features"], "logical_lines": [70, 10, 20]}
    )
    table = debt.ml_share_readings(
        lines,
        {
            "strict": (["ML code"], 0),
            "+ features": (["ML code", "Features"], 0),
            "strict, serving from a library": (["ML code"], 50),
        },
    )
    assert table["reading"].tolist() == ["strict", "+ features", "strict, serving from a library"]
    assert table["ml_lines"].tolist() == [10, 30, 10]
    assert table["all_lines"].tolist() == [100, 100, 50]
    assert table["ml_share"].tolist() == pytest.approx([0.1, 0.3, 0.2])
    with pytest.raises(ValueError, match="no component"):
        debt.ml_share_readings(lines, {"x": (["Model"], 0)})
    with pytest.raises(ValueError, match="cannot take out"):
        debt.ml_share_readings(lines, {"x": (["ML code"], 95)})
    with pytest.raises(ValueError, match="cannot take out"):
        debt.ml_share_readings(lines, {"x": (["ML code"], -1)})


# --- entanglement -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weeks() -> tuple[pd.DataFrame, pd.DataFrame]:
    history = data.collect(SMALL, range(12))
    return history[history["period"] < 8], history[history["period"] >= 8]


def test_model_weights_are_relative_to_the_first_level(weeks: tuple) -> None:
    train, _ = weeks
    fitted = model.ChurnModel().fit(features.build_features(train, SMALL), train["churned"])
    weights = debt.model_weights(fitted)
    assert "contract=one-year" in weights and "contract=month-to-month" not in weights
    assert weights["contract=two-year"] < weights["contract=one-year"] < 0  # longer binds more
    assert weights["support_calls"] > 0 and weights["tenure_months"] < 0
    raw = fitted.pipeline[-1].coef_[0]
    names = list(fitted.pipeline[0].get_feature_names_out())
    contrast = (
        raw[names.index("categorical__plan_premium")] - raw[names.index("categorical__plan_basic")]
    )
    assert weights["plan=premium"] == pytest.approx(contrast)
    with pytest.raises(ValueError):
        debt.model_weights(model.ChurnModel())


def test_cace_a_change_of_units_moves_nothing(weeks: tuple) -> None:
    result = debt.cace_experiment(*weeks, SMALL, "charges_in_cents")
    assert result.weights_changed == 0 and result.decisions_flipped == 0
    assert result.predictions_moved == 0 and "monthly_charges" not in result.weights.index


@pytest.mark.parametrize("change", ["cap_usage", "add_total_charges"])
def test_cace_one_change_moves_every_other_weight(weeks: tuple, change: str) -> None:
    result = debt.cace_experiment(*weeks, SMALL, change)
    touched = debt.CACE_CHANGES[change][1]
    assert not set(touched) & set(result.weights.index)
    assert result.other_weights == len(result.weights) >= 11
    assert result.weights_changed == result.other_weights
    assert result.predictions_moved > 0.02 and result.decisions_flipped > 0
    assert 0 < result.flipped_with_same_data <= result.decisions_flipped
    assert result.largest_move[1] == result.weights["relative_change"].max()
    if change == "add_total_charges":  # everybody's data is the same, only the model changed
        assert result.flipped_with_same_data == result.decisions_flipped


def test_cace_rejects_bad_arguments(weeks: tuple) -> None:
    with pytest.raises(ValueError, match="Unknown change"):
        debt.cace_experiment(*weeks, SMALL, "drop_everything")
    with pytest.raises(ValueError, match="logistic_regression"):
        debt.cace_experiment(*weeks, SMALL.replace(model="gradient_boosting"), "cap_usage")


# --- glue code --------------------------------------------------------------------------------


def test_glued_reasons_break_when_the_estimator_is_swapped(weeks: tuple) -> None:
    train, test = weeks
    X_train, X = features.build_features(train, SMALL), features.build_features(test.head(5), SMALL)
    linear = model.ChurnModel().fit(X_train, train["churned"])
    glued = debt.glued_reasons(linear, X)
    assert len(glued) == 5 and all(1 <= len(r) <= 2 for r in glued)
    with resources.limit_threads(1):
        boosted = model.ChurnModel("gradient_boosting").fit(X_train, train["churned"])
        with pytest.raises(AttributeError, match="coef_"):
            debt.glued_reasons(boosted, X)
        assert len(evaluation.reasons(boosted, X, X_train)) == 5  # the wrapped way works


# --- pipeline jungles -------------------------------------------------------------------------


def test_the_jungle_serves_last_weeks_data(tmp_path: Path) -> None:
    batches = data.collect(SMALL, [12, 13])
    week_12, week_13 = (batches[batches["period"] == w] for w in (12, 13))
    first = debt.jungle_prepare(week_12, tmp_path / "jungle")
    second = debt.jungle_prepare(week_13, tmp_path / "jungle")
    assert sorted(p.name for p in (tmp_path / "jungle").iterdir()) == sorted(debt.JUNGLE_FILES)
    assert set(first["period"]) == set(second["period"]) == {12}  # stale
    assert first["customer_id"].tolist() == week_12["customer_id"].tolist()
    assert "log_usage" in first.columns and first["contract"].dtype != "category"
    fresh = debt.jungle_prepare(week_13, tmp_path / "fresh")  # an empty folder works once
    assert set(fresh["period"]) == {13}


# --- dead experimental codepaths --------------------------------------------------------------


def test_routers() -> None:
    shares = np.array([100, 200])
    assert debt.router_v2({}, shares, {}) == (2, pytest.approx(0.6))
    assert debt.router_v2({"flag_7": True}, shares, {}) == (2, pytest.approx(0.9))
    assert debt.router_v1({}, shares, {}) == (2, pytest.approx(0.6))
    state: dict[str, int] = {}
    children, profit = debt.router_v1({"flag_7": True}, shares, state)
    assert state == {"open": 2} and children == 2 * debt.SWEEP_CHILDREN and profit < 0
    children, _ = debt.router_v1({"flag_7": True}, shares, state)
    assert state == {"open": 4} and children == 4 * debt.SWEEP_CHILDREN  # orders never close
    assert debt.router_v1_cleaned({"flag_7": False}, shares, {}) == (2, pytest.approx(0.6))
    with pytest.raises(ValueError, match="flag_7"):
        debt.router_v1_cleaned({"flag_7": True}, shares, {})


def test_the_stale_server_loses_money_every_minute() -> None:
    result = debt.simulate_trading()
    server_8 = result.profit["server 8"]
    assert result.profit.shape == (45, 8) and result.events == ()
    assert (server_8 < 0).all() and (server_8.diff().dropna() < 0).all()  # losses accelerate
    assert (result.profit.drop(columns="server 8") > 0).all().all()
    assert result.total < 0 and result.cumulative.iloc[-1] == pytest.approx(result.total)
    assert result.total == debt.simulate_trading().total  # seeded: the same every time
    assert result.total != debt.simulate_trading(seed=1).total


@pytest.mark.parametrize("guard", ["remove_dead_code", "action_limit"])
def test_either_guard_keeps_every_server_profitable(guard: str) -> None:
    result = debt.simulate_trading(guard=guard)
    assert result.total > 0 and (result.profit.sum() >= 0).all()
    assert result.profit["server 8"].eq(0).all()
    assert len(result.events) == 1 and result.events[0].startswith("server 8")
    assert result.total == pytest.approx(
        debt.simulate_trading(stale_servers=()).total * 7 / 8, rel=0.1
    )


def test_trading_without_the_flag_or_stale_servers_makes_money() -> None:
    assert debt.simulate_trading(flags={}).total > 0
    assert debt.simulate_trading(stale_servers=()).total > 0
    limited = debt.simulate_trading(guard="action_limit", action_limit=10)  # too tight a limit
    assert len(limited.events) == 8  # every server halts: a limit must be broad enough
    with pytest.raises(ValueError):
        debt.simulate_trading(guard="pray")
    with pytest.raises(ValueError):
        debt.simulate_trading(stale_servers=(9,))


# --- configuration debt -----------------------------------------------------------------------


def test_loose_settings_swallow_a_typo() -> None:
    assert debt.loose_settings({"treshold": 0.2})["threshold"] == 0.5
    assert debt.loose_settings({"threshold": "0.2"})["threshold"] == "0.2"  # no type check
    assert debt.loose_settings({}) == {
        "model": "logistic_regression",
        "threshold": 0.5,
        "max_offer_rate": 0.6,
    }


# --- direct feedback loops --------------------------------------------------------------------


def test_the_feedback_loop_drifts_and_a_control_group_stops_it() -> None:
    cfg = config.ServiceConfig()
    seen: list[int] = []
    loop = debt.feedback_loop(cfg, rounds=6, on_round=seen.append)
    control = debt.feedback_loop(cfg, rounds=6, control_share=0.2)
    assert seen == [1, 2, 3, 4, 5, 6] and list(loop["round"]) == seen
    first, last = loop.iloc[0], loop.iloc[-1]
    assert last["offer_rate"] < first["offer_rate"] - 0.05
    assert last["gap"] < -0.02
    assert abs(last["mean_predicted"] - last["recorded_churn"]) < 0.01
    assert control["gap"].abs().max() < 0.015
    # round 1 is trained on the same history in both: same model, same true risk
    assert first["mean_predicted"] == pytest.approx(control.iloc[0]["mean_predicted"])
    assert (loop["true_risk"] == control["true_risk"]).all()
    assert (loop["recorded_churn"] <= loop["true_risk"] + 0.03).all()


def test_feedback_loop_without_effective_offers_does_not_drift() -> None:
    loop = debt.feedback_loop(
        config.ServiceConfig(), rounds=3, customers=1000, offer_success_rate=0.0
    )
    assert loop["gap"].abs().max() < 0.02


def test_feedback_loop_rejects_bad_arguments() -> None:
    cfg = config.ServiceConfig()
    for kwargs in (
        {"rounds": 0},
        {"customers": 5},
        {"control_share": 1.0},
        {"offer_success_rate": 2},
    ):
        with pytest.raises(ValueError):
            debt.feedback_loop(cfg, **kwargs)
