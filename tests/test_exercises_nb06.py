"""Tests of the exercise checks of notebook 06 (utils/exercises/nb06.py), against the test
session's tracking server: each check reads the registry, says "not attempted" for the
placeholder, gives a useful hint for the typical wrong answers, and accepts the solution."""

from __future__ import annotations

import uuid
from typing import Any

import adversarial
import mlflow
import pandas as pd
import pytest
from adversarial import Case, Table
from mlflow import MlflowClient

from utils import checks, datasets, registry, tracking, training

# Every case registers models or moves aliases on the session's tracking server: the file takes
# about 30 s in all, though no single test reaches the 1.5 s of `slow`. `make test` runs it;
# `make check`, the one-minute check, leaves it out.
pytestmark = pytest.mark.slow

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


def _const(value: object):
    """A student's function that returns a value copied from the notebook."""
    return lambda name: value


def _champion_run_id(name: str) -> str:
    return MlflowClient().get_model_version_by_alias(name, "champion").run_id


def _challenger_data(name: str) -> str:
    return MlflowClient().get_model_version_by_alias(name, "challenger").tags["data_fingerprint"]


def test_06_1_solution_is_correct(model) -> None:
    name, versions = model
    result = checks.check("06.1", _champion_run_id, name=name)
    assert result.passed, result.message
    assert "nb06-old" in result.message
    # The check moved the alias for a moment and put it back.
    assert registry.version_of(name, "champion") == versions["old"]


def test_06_1_a_copied_value_is_refused(model) -> None:
    name, _ = model
    run_id = _champion_run_id(name)
    result = checks.check("06.1", _const(run_id), name=name)
    assert result.status == "incorrect" and "copied from the notebook" in result.message
    result = checks.check("06.1", run_id, name=name)
    assert result.status == "incorrect" and "as a value" in result.message


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
        result = checks.check("06.1", _const(answer), name=name)
        assert result.status == "incorrect"
        assert hint in result.message, (answer, result.message)
    message = checks.check("06.1", _const(champion), name=name).message
    assert "the model version itself" in message
    run = client.get_run(champion.run_id)
    assert "run.info.run_id" in checks.check("06.1", _const(run), name=name).message
    assert "a string of 32 hex digits" in checks.check("06.1", _const(42), name=name).message


def test_06_1_without_a_champion_says_what_to_run(model) -> None:
    name, _ = model
    MlflowClient().delete_registered_model_alias(name, "champion")
    result = checks.check("06.1", "0" * 32, name=name)
    assert result.status == "incorrect"
    assert "no champion" in result.message and "section 4" in result.message


# --- 06.2 the data behind the challenger -----------------------------------------------------


def test_06_2_solution_is_correct(model, logged) -> None:
    name, versions = model
    assert _challenger_data(name) == logged["new"][1].data_fingerprint
    result = checks.check("06.2", _challenger_data, name=name)
    assert result.passed, result.message
    assert registry.version_of(name, "challenger") == versions["new"]


def test_06_2_a_copied_value_is_refused(model) -> None:
    name, _ = model
    fingerprint = _challenger_data(name)
    result = checks.check("06.2", _const(fingerprint), name=name)
    assert result.status == "incorrect" and "copied from the notebook" in result.message
    result = checks.check("06.2", fingerprint, name=name)
    assert result.status == "incorrect" and "as a value" in result.message


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
        result = checks.check("06.2", _const(answer), name=name)
        assert result.status == "incorrect"
        assert hint in result.message, (answer, result.message)
    frame = pd.DataFrame({"a": [1]})
    assert "a string of 16 hex" in checks.check("06.2", _const(frame), name=name).message


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


def test_06_3_the_mistake_cell_run_twice_still_rolls_back_to_the_old_champion(model) -> None:
    name, versions = model
    registry.promote(name, versions["base"], reason="promoted by mistake")
    registry.promote(name, versions["base"], reason="promoted by mistake")  # the cell run again
    registry.rollback(name, reason="the baseline was promoted by mistake")
    answer = registry.version_of(name, "champion")
    assert answer == versions["old"]
    result = checks.check("06.3", answer, name=name, bad_version=versions["base"])
    assert result.passed, result.message


# --- adversarial tables -----------------------------------------------------------------------


@pytest.fixture()
def context_06(model) -> dict[str, Any]:
    """The check's context as notebook 06 passes it: the registered model's name."""
    name, _ = model
    return {"name": name}


@pytest.fixture()
def context_06_3(model) -> dict[str, Any]:
    """Notebook 06 after the mistake cell of exercise 06.3, run twice."""
    name, versions = model
    registry.promote(name, versions["base"], reason="promoted by mistake")
    registry.promote(name, versions["base"], reason="promoted by mistake")
    return {"name": name, "bad_version": versions["base"]}


def _lineage_run_id(name: str) -> str:
    return registry.lineage(name, alias="champion").run_id


def _aliases_run_id(name: str) -> str:
    client = MlflowClient()
    version = client.get_registered_model(name).aliases["champion"]
    return client.get_model_version(name, version).run_id


def _rollback_and_read(context: dict[str, Any]) -> str | None:
    registry.rollback(context["name"], reason="the baseline was promoted by mistake")
    return registry.version_of(context["name"], "champion")


def _mlflow_move_and_read(context: dict[str, Any]) -> int:
    client = MlflowClient()
    name = context["name"]
    old = next(
        move.previous
        for move in registry.history(name, "champion")
        if move.version == context["bad_version"] and move.previous != move.version
    )
    client.set_registered_model_alias(name, "champion", old)
    return int(client.get_model_version_by_alias(name, "champion").version)


def _rollback_to_challenger(context: dict[str, Any]) -> str | None:
    name = context["name"]
    registry.rollback(
        name, reason="wrong target", to_version=registry.version_of(name, "challenger")
    )
    return registry.version_of(name, "champion")


def _rollback_once_to_self(context: dict[str, Any]) -> str:
    # The version the last history entry calls "previous": the baseline itself.
    return registry.history(context["name"], "champion")[-1].previous


TABLES = [
    Table(
        "06.1",
        [
            Case("reference", "get_model_version_by_alias(...).run_id", _champion_run_id),
            Case("alternative", "registry.lineage(..., alias=...)", _lineage_run_id),
            Case("alternative", "the registered model's aliases dict", _aliases_run_id),
            Case(
                "wrong",
                "the version number",
                lambda name: MlflowClient().get_model_version_by_alias(name, "champion").version,
                hint="champion's version number",
            ),
            Case(
                "wrong",
                "the challenger's run",
                lambda name: MlflowClient().get_model_version_by_alias(name, "challenger").run_id,
                hint="run of the challenger",
            ),
            Case(
                "wrong",
                "the model version object",
                lambda name: MlflowClient().get_model_version_by_alias(name, "champion"),
                hint="model version itself",
            ),
            Case(
                "cheat",
                "a function returning the run ID copied from the notebook",
                lambda ctx: _const(_champion_run_id(ctx["name"])),
                hint="copied from the notebook",
                lazy=True,
            ),
            Case(
                "cheat",
                "the run ID as a value",
                lambda ctx: _champion_run_id(ctx["name"]),
                hint="as a value",
                lazy=True,
            ),
        ],
        context="context_06",
    ),
    Table(
        "06.2",
        [
            Case("reference", "the version's tag data_fingerprint", _challenger_data),
            Case(
                "alternative",
                "registry.lineage(..., alias=...)",
                lambda name: registry.lineage(name, alias="challenger").data_fingerprint,
            ),
            Case(
                "wrong",
                "the training split's fingerprint",
                lambda name: (
                    MlflowClient()
                    .get_model_version_by_alias(name, "challenger")
                    .tags["train_fingerprint"]
                ),
                hint="training split only",
            ),
            Case(
                "wrong",
                "the champion's data",
                lambda name: (
                    MlflowClient()
                    .get_model_version_by_alias(name, "champion")
                    .tags["data_fingerprint"]
                ),
                hint="data of the champion",
            ),
            Case(
                "cheat",
                "a function returning the fingerprint copied from the notebook",
                lambda ctx: _const(_challenger_data(ctx["name"])),
                hint="copied from the notebook",
                lazy=True,
            ),
            Case(
                "cheat",
                "the fingerprint as a value",
                lambda ctx: _challenger_data(ctx["name"]),
                hint="as a value",
                lazy=True,
            ),
        ],
        context="context_06",
    ),
    Table(
        "06.3",
        [
            Case("reference", "registry.rollback, read back", _rollback_and_read, lazy=True),
            Case(
                "alternative", "plain MLflow alias move, an int", _mlflow_move_and_read, lazy=True
            ),
            Case(
                "wrong",
                "rolled back to the challenger",
                _rollback_to_challenger,
                hint="registry.history",
                lazy=True,
            ),
            Case(
                "wrong",
                "the last move's previous (the baseline again)",
                _rollback_once_to_self,
                hint="still says champion",
                lazy=True,
            ),
            Case(
                "cheat",
                "the old champion's number, without moving the alias",
                lambda ctx: next(
                    move.previous
                    for move in registry.history(ctx["name"], "champion")
                    if move.previous not in (None, ctx["bad_version"])
                ),
                hint="still says champion",
                lazy=True,
            ),
        ],
        context="context_06_3",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
