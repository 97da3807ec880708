"""Tests of the exercise checks of notebook 06 (utils/exercises/nb06.py), against the test
session's tracking server: each check reads the registry, says "not attempted" for the
placeholder, gives a useful hint for the typical wrong answers, and accepts the solution."""

from __future__ import annotations

import uuid

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from utils import checks, datasets, registry, tracking, training

FEATURES = list(datasets.CHURN_FEATURES)


@pytest.fixture(scope="module")
def logged() -> dict[str, tuple[object, training.TrainResult]]:
    """The notebook's three candidates, small: old data, all data, a baseline."""
    tracking.connect(quiet=True)
    tracking.use_experiment("test-exercises-nb06")
    data = datasets.make_churn(n_per_period=150, periods=4, seed=6)
    candidates = {
        "old": (training.TrainConfig("logistic_regression", seed=6), data[data["period"] < 2]),
        "new": (training.TrainConfig("logistic_regression", seed=6), data),
        "base": (training.TrainConfig("dummy", seed=6), data),
    }
    out = {}
    for key, (config, frame) in candidates.items():
        result = training.train(config, frame)
        with mlflow.start_run(run_name=f"nb06-{key}"):
            mlflow.set_tags(registry.lineage_tags(result, code="git:feedfacecafe"))
            info = tracking.log_sklearn_model(result.model)
        out[key] = (info, result)
    return out


@pytest.fixture()
def model(logged: dict[str, tuple[object, training.TrainResult]]) -> tuple[str, dict[str, str]]:
    """A registered model set up as in the notebook's section 4: champion old, challenger new."""
    name = f"test-nb06-{uuid.uuid4().hex[:10]}"
    versions = {key: registry.register(info, name).version for key, (info, _) in logged.items()}
    registry.promote(name, versions["old"], "champion", reason="first model")
    registry.promote(name, versions["new"], "challenger", reason="candidate")
    return name, versions


def test_notebook_06_has_three_exercises() -> None:
    exercises = checks.exercises("06")
    assert [e.id for e in exercises] == ["06.1", "06.2", "06.3"]
    assert {e.notebook for e in exercises} == {"06_model_registry"}


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder: object, model) -> None:
    name, versions = model
    contexts = {
        "06.1": {"name": name},
        "06.2": {"name": name},
        "06.3": {"name": name, "bad_version": versions["base"]},
    }
    for exercise, context in contexts.items():
        result = checks.check(exercise, placeholder, **context)
        assert result.status == "not attempted"
        assert not result.passed


def test_checks_need_their_context(model) -> None:
    name, _ = model
    with pytest.raises(TypeError, match="needs the keyword arguments"):
        checks.check("06.1", "x")
    with pytest.raises(TypeError, match="registered model's name"):
        checks.check("06.1", "x", name=None)
    with pytest.raises(TypeError, match="bad_version"):
        checks.check("06.3", "1", name=name, bad_version="baseline")


# --- 06.1 the run behind the champion --------------------------------------------------------


def test_06_1_solution_is_correct(model) -> None:
    name, _ = model
    run_id = MlflowClient().get_model_version_by_alias(name, "champion").run_id
    result = checks.check("06.1", run_id, name=name)
    assert result.passed, result.message
    assert "nb06-old" in result.message


def test_06_1_hints(model) -> None:
    name, versions = model
    client = MlflowClient()
    champion = client.get_model_version_by_alias(name, "champion")
    challenger = client.get_model_version_by_alias(name, "challenger")
    hints = {
        versions["old"]: "champion's version number",
        champion.source: "identifies the logged model",
        challenger.run_id: "run of the challenger",
        "0" * 32: "not the champion's run",
    }
    for answer, hint in hints.items():
        result = checks.check("06.1", answer, name=name)
        assert result.status == "incorrect"
        assert hint in result.message, (answer, result.message)
    assert "the model version itself" in checks.check("06.1", champion, name=name).message
    run = client.get_run(champion.run_id)
    assert "run.info.run_id" in checks.check("06.1", run, name=name).message
    assert "a string of 32 hex digits" in checks.check("06.1", 42, name=name).message


def test_06_1_without_a_champion_says_what_to_run(model) -> None:
    name, _ = model
    MlflowClient().delete_registered_model_alias(name, "champion")
    result = checks.check("06.1", "0" * 32, name=name)
    assert result.status == "incorrect"
    assert "no champion" in result.message and "section 4" in result.message


# --- 06.2 the data behind the challenger -----------------------------------------------------


def test_06_2_solution_is_correct(model, logged) -> None:
    name, _ = model
    answer = MlflowClient().get_model_version_by_alias(name, "challenger").tags["data_fingerprint"]
    assert answer == logged["new"][1].data_fingerprint
    result = checks.check("06.2", answer, name=name)
    assert result.passed, result.message


def test_06_2_hints(model, logged) -> None:
    name, versions = model
    new, old = logged["new"][1], logged["old"][1]
    challenger = MlflowClient().get_model_version_by_alias(name, "challenger")
    hints = {
        new.train_fingerprint: "training split only",
        old.data_fingerprint: "data of the champion",
        challenger.run_id: "identifies the run or the version",
        versions["new"]: "identifies the run or the version",
        "0123456789abcdef": "not the challenger's data fingerprint",
    }
    for answer, hint in hints.items():
        result = checks.check("06.2", answer, name=name)
        assert result.status == "incorrect"
        assert hint in result.message, (answer, result.message)
    frame = pd.DataFrame({"a": [1]})
    assert "a string of 16 hex" in checks.check("06.2", frame, name=name).message


def test_06_2_without_a_challenger_says_what_to_run(model) -> None:
    name, _ = model
    MlflowClient().delete_registered_model_alias(name, "challenger")
    result = checks.check("06.2", "0123456789abcdef", name=name)
    assert "no challenger" in result.message and result.status == "incorrect"


# --- 06.3 roll back a mistaken promotion -----------------------------------------------------


def test_06_3_before_the_mistake_says_to_run_the_cell_above(model) -> None:
    name, versions = model
    result = checks.check("06.3", versions["old"], name=name, bad_version=versions["base"])
    assert result.status == "incorrect"
    assert "no promotion of version" in result.message


def test_06_3_solution_with_rollback_is_correct_and_recorded(model) -> None:
    name, versions = model
    registry.promote(name, versions["base"], reason="promoted by mistake")
    still = checks.check("06.3", versions["base"], name=name, bad_version=versions["base"])
    assert still.status == "incorrect" and "still says champion" in still.message

    move = registry.rollback(name, reason="the baseline was promoted by mistake", by="sam")
    answer = registry.version_of(name, "champion")
    assert answer == versions["old"]
    result = checks.check("06.3", answer, name=name, bad_version=versions["base"])
    assert result.passed, result.message
    assert "sam" in result.message and "history records it" in result.message
    # The returned move, or the number as an int, are fine answers too.
    assert checks.check("06.3", move, name=name, bad_version=int(versions["base"])).passed
    assert checks.check("06.3", int(answer), name=name, bad_version=versions["base"]).passed


def test_06_3_plain_mlflow_move_is_correct_but_unrecorded(model) -> None:
    name, versions = model
    registry.promote(name, versions["base"], reason="promoted by mistake")
    MlflowClient().set_registered_model_alias(name, "champion", versions["old"])
    result = checks.check("06.3", versions["old"], name=name, bad_version=versions["base"])
    assert result.passed, result.message
    assert "without a record" in result.message


def test_06_3_hints(model) -> None:
    name, versions = model
    registry.promote(name, versions["base"], reason="promoted by mistake")
    registry.rollback(name, reason="wrong target", to_version=versions["new"])
    wrong = checks.check("06.3", versions["new"], name=name, bad_version=versions["base"])
    assert wrong.status == "incorrect"
    assert f"points at version {versions['new']}" in wrong.message
    assert "registry.history" in wrong.message

    registry.rollback(name, reason="right target", to_version=versions["old"])
    mismatch = checks.check("06.3", versions["new"], name=name, bad_version=versions["base"])
    assert mismatch.status == "incorrect" and "your answer says" in mismatch.message
    typed = checks.check("06.3", "champion", name=name, bad_version=versions["base"])
    assert typed.status == "incorrect" and "give the version number" in typed.message

    MlflowClient().delete_registered_model_alias(name, "champion")
    unset = checks.check("06.3", versions["old"], name=name, bad_version=versions["base"])
    assert unset.status == "incorrect" and "is not set" in unset.message
