"""utils.registry against a real tracking server (the test session's): versions, aliases,
lineage, promotion and rollback with their history, and every error path."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from conftest import require_tool
from utils import datasets, registry, tracking, training
from utils.paths import repo_root

FEATURES = list(datasets.CHURN_FEATURES)


@dataclass
class Logged:
    """A model logged in a run with lineage tags, ready to register."""

    info: object
    result: training.TrainResult
    run_id: str


def _log(config: training.TrainConfig, data: pd.DataFrame, run_name: str) -> Logged:
    result = training.train(config, data)
    example = data[FEATURES].head(2).astype({c: str for c in datasets.CHURN_CATEGORICAL})
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_metrics(result.metrics)
        mlflow.log_params(config.as_params())
        mlflow.set_tags(registry.lineage_tags(result, code="git:0123456789ab"))
        info = tracking.log_sklearn_model(result.model, input_example=example)
    return Logged(info, result, run.info.run_id)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return datasets.make_churn(n_per_period=150, periods=4, seed=3)


@pytest.fixture(scope="module")
def logged(data: pd.DataFrame) -> dict[str, Logged]:
    """Three logged models: two logistic regressions on different data, and a baseline."""
    tracking.connect(quiet=True)
    tracking.use_experiment("test-registry")
    early = data[data["period"] < 2]
    return {
        "early": _log(training.TrainConfig("logistic_regression", seed=1), early, "lr-early"),
        "all": _log(training.TrainConfig("logistic_regression", seed=1), data, "lr-all"),
        "base": _log(training.TrainConfig("dummy", seed=1), data, "baseline"),
    }


@pytest.fixture()
def name() -> str:
    """A registered model name no other test uses."""
    return f"test-registry-{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def three(logged: dict[str, Logged], name: str) -> dict[str, str]:
    """Register the three logged models as versions 1, 2, 3 of ``name``."""
    return {key: registry.register(logged[key].info, name).version for key in logged}


@pytest.fixture(scope="module")
def untouched(logged: dict[str, Logged]) -> str:
    """The name of a registered model with versions 1, 2, 3, no alias and no history, shared by
    the tests of refused calls: they only read it (each registration asks the server about
    five times; the tests that move aliases get a model of their own from ``three``)."""
    name = f"test-registry-{uuid.uuid4().hex[:10]}"
    for key in logged:
        registry.register(logged[key].info, name)
    return name


# ----------------------------------------------------------------------------- code version


def test_code_version_of_the_course_repository_is_stable() -> None:
    first = registry.code_version()
    assert first == registry.code_version()
    assert first.startswith(("git:", "utils:"))
    if first.startswith("git:"):
        commit = subprocess.run(
            ["git", "-C", str(repo_root()), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert first[4:16] == commit[:12]


def _copy_utils(target: Path) -> Path:
    shutil.copytree(
        repo_root() / "utils", target / "utils", ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


def test_code_version_without_git_is_a_content_hash(tmp_path: Path) -> None:
    root = _copy_utils(tmp_path / "copy")
    version = registry.code_version(root)
    assert version.startswith("utils:") and len(version) == len("utils:") + 12
    # Line endings do not count: a Windows checkout has the same code version ...
    module = root / "utils" / "paths.py"
    module.write_bytes(module.read_bytes().replace(b"\n", b"\r\n"))
    assert registry.code_version(root) == version
    # ... but a changed line of code does, and so does a new module.
    module.write_text(module.read_text() + "\n# changed\n")
    changed = registry.code_version(root)
    assert changed != version
    (root / "utils" / "extra.py").write_text("X = 1\n")
    assert registry.code_version(root) not in (version, changed)


def test_code_version_in_a_git_checkout_notes_uncommitted_changes(tmp_path: Path) -> None:
    require_tool(shutil.which("git") is not None, "git not found: install git to check this.")
    root = _copy_utils(tmp_path / "repo")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", "utils")
    git("commit", "-q", "-m", "initial")
    commit = git("rev-parse", "HEAD")
    assert registry.code_version(root) == f"git:{commit[:12]}"
    (root / "notes.txt").write_text("not code\n")  # changes outside utils do not count
    assert registry.code_version(root) == f"git:{commit[:12]}"
    with open(root / "utils" / "paths.py", "a") as fh:
        fh.write("\n# changed\n")
    plain = tmp_path / "plain"
    shutil.copytree(root / "utils", plain / "utils")  # the changed code, without git
    assert registry.code_version(root) == f"git:{commit[:12]}+{registry.code_version(plain)}"


def test_code_version_needs_a_utils_package(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds no utils package"):
        registry.code_version(tmp_path)


# ----------------------------------------------------------------------------- lineage tags


def test_lineage_tags_come_from_the_training_result(logged: dict[str, Logged]) -> None:
    result = logged["early"].result
    tags = registry.lineage_tags(result, code="git:abc")
    assert tags == {
        "data_fingerprint": result.data_fingerprint,
        "train_fingerprint": result.train_fingerprint,
        "code_version": "git:abc",
        "model_type": "logistic_regression",
    }
    assert registry.lineage_tags(result)["code_version"] == registry.code_version()


def test_lineage_tags_reject_what_is_not_a_train_result(logged: dict[str, Logged]) -> None:
    with pytest.raises(TypeError, match="TrainResult"):
        registry.lineage_tags(logged["early"].result.pipeline)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="code must be a non-empty string"):
        registry.lineage_tags(logged["early"].result, code="  ")


# ----------------------------------------------------------------------------- register


def test_register_creates_numbered_versions_that_lead_back_to_their_runs(
    logged: dict[str, Logged], name: str
) -> None:
    client = MlflowClient()
    first = registry.register(
        logged["early"].info, name, description="the first one", tags={"weeks": 2, "owner": "me"}
    )
    second = registry.register(logged["all"].info.model_uri, name)  # a URI works too
    assert (first.version, second.version) == ("1", "2")
    stored = client.get_model_version(name, "1")
    assert stored.run_id == logged["early"].run_id
    assert stored.source == logged["early"].info.model_uri
    assert stored.description == "the first one"
    result = logged["early"].result
    assert stored.tags == {
        "data_fingerprint": result.data_fingerprint,
        "train_fingerprint": result.train_fingerprint,
        "code_version": "git:0123456789ab",
        "weeks": "2",
        "owner": "me",
    }
    # Registered from the bare URI: the run is found through the logged model.
    assert client.get_model_version(name, "2").run_id == logged["all"].run_id
    assert client.get_model_version(name, "2").tags["data_fingerprint"] == (
        logged["all"].result.data_fingerprint
    )


def test_register_refuses_a_runs_uri_and_says_what_to_use(
    logged: dict[str, Logged], name: str
) -> None:
    with pytest.raises(ValueError, match=r"register model_info.model_uri \('models:/m-...'\)"):
        registry.register(f"runs:/{logged['early'].run_id}/model", name)
    with pytest.raises(ValueError, match="not a logged model's URI"):
        registry.register("models:/some-model/1", name)
    with pytest.raises(ValueError, match="No logged model m-0000"):
        registry.register("models:/m-" + "0" * 32, name)
    with pytest.raises(TypeError, match="ModelInfo"):
        registry.register(42, name)
    assert not MlflowClient().search_registered_models(f"name = '{name}'")


def test_register_refuses_tags_that_contradict_the_run(
    logged: dict[str, Logged], name: str
) -> None:
    with pytest.raises(ValueError, match="contradicts the run"):
        registry.register(logged["early"].info, name, tags={"data_fingerprint": "0" * 16})
    # Repeating the run's own value is fine.
    same = logged["early"].result.data_fingerprint
    mv = registry.register(logged["early"].info, name, tags={"data_fingerprint": same})
    assert mv.tags["data_fingerprint"] == same


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (None, TypeError, "registered model's name"),
        ("", ValueError, "not a valid registered model name"),
        ("a/b", ValueError, "neither '/' nor ':'"),
    ],
)
def test_register_checks_the_name(
    logged: dict[str, Logged], bad: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        registry.register(logged["early"].info, bad)  # type: ignore[arg-type]


def test_register_checks_description_and_tags(logged: dict[str, Logged], name: str) -> None:
    with pytest.raises(TypeError, match="description must be a string"):
        registry.register(logged["early"].info, name, description=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tags must be a dict"):
        registry.register(logged["early"].info, name, tags=["a"])  # type: ignore[arg-type]


def test_describe_model(three: dict[str, str], name: str) -> None:
    registry.describe_model(name, "predicts churn")
    assert MlflowClient().get_registered_model(name).description == "predicts churn"
    with pytest.raises(ValueError, match="no registered model named 'nope-"):
        registry.describe_model(f"nope-{name}", "x")
    with pytest.raises(TypeError, match="description must be a string"):
        registry.describe_model(name, None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- aliases


def test_model_uri_for_aliases_and_versions() -> None:
    assert registry.model_uri("m", "champion") == "models:/m@champion"
    assert registry.model_uri("m", 3) == "models:/m/3"
    assert registry.model_uri("m", "3") == "models:/m/3"
    with pytest.raises(ValueError, match="reserved"):
        registry.model_uri("m", "latest")
    with pytest.raises(ValueError, match="not a version number"):
        registry.model_uri("m", 0)


def test_promote_moves_the_alias_and_loading_follows_it(
    logged: dict[str, Logged], three: dict[str, str], name: str, data: pd.DataFrame
) -> None:
    X = data[FEATURES]
    move = registry.promote(name, three["early"], reason="first", by="ana")
    assert (move.alias, move.version, move.previous, move.action) == (
        "champion",
        three["early"],
        None,
        "promote",
    )
    assert registry.version_of(name, "champion") == three["early"]
    p = registry.load_model(name).predict_proba(X)
    assert np.array_equal(p, logged["early"].result.model.predict_proba(X))

    registry.promote(name, int(three["all"]), reason="better", by="ben")
    assert registry.aliases(name) == {"champion": three["all"]}
    p = registry.load_model(name, "champion").predict_proba(X)
    assert np.array_equal(p, logged["all"].result.model.predict_proba(X))
    # The plain MLflow URI gives the same model.
    direct = mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(X)
    assert np.array_equal(direct, p)
    # A version number loads that version whatever the aliases say.
    p1 = registry.load_model(name, three["early"]).predict_proba(X)
    assert np.array_equal(p1, logged["early"].result.model.predict_proba(X))


def test_two_aliases_and_version_of_an_unset_alias(three: dict[str, str], name: str) -> None:
    registry.promote(name, three["early"], "champion", reason="in use")
    registry.promote(name, three["all"], "challenger", reason="candidate")
    assert registry.aliases(name) == {"challenger": three["all"], "champion": three["early"]}
    assert registry.version_of(name, "shadow") is None
    registry.promote(name, three["all"], "champion", reason="both on one version")
    assert registry.aliases(name) == {"challenger": three["all"], "champion": three["all"]}


def test_promote_errors(untouched: str) -> None:
    name = untouched
    with pytest.raises(ValueError, match=r"has no version 9; its versions are 1, 2, 3"):
        registry.promote(name, 9, reason="x")
    with pytest.raises(ValueError, match="reserved by MLflow"):
        registry.promote(name, 1, "v2", reason="x")
    with pytest.raises(ValueError, match="not a valid alias"):
        registry.promote(name, 1, "in use", reason="x")
    with pytest.raises(TypeError, match="alias must be a string"):
        registry.promote(name, 1, 5, reason="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Say why"):
        registry.promote(name, 1, reason=" ")
    with pytest.raises(TypeError, match="version number"):
        registry.promote(name, 1.0, reason="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by must be a non-empty name"):
        registry.promote(name, 1, reason="x", by="")
    with pytest.raises(ValueError, match="no registered model named"):
        registry.promote(f"nope-{name}", 1, reason="x")
    assert registry.aliases(name) == {}
    assert registry.history(name) == []


def test_load_model_errors(untouched: str) -> None:
    name = untouched
    with pytest.raises(ValueError, match="has no alias 'champion'"):
        registry.load_model(name)
    with pytest.raises(ValueError, match="has no version 7"):
        registry.load_model(name, 7)


# ----------------------------------------------------------------------------- history, rollback


def test_history_records_who_why_and_what_came_before(
    three: dict[str, str], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    registry.promote(name, three["early"], reason="first model")
    registry.promote(name, three["all"], "challenger", reason="candidate", by="bob")
    registry.remove_alias(name, "challenger", reason="decided")
    moves = registry.history(name)
    assert [(m.action, m.alias, m.version, m.previous, m.by, m.reason) for m in moves] == [
        ("promote", "champion", three["early"], None, "alice", "first model"),
        ("promote", "challenger", three["all"], None, "bob", "candidate"),
        ("remove", "challenger", None, three["all"], "alice", "decided"),
    ]
    assert [m.action for m in registry.history(name, "champion")] == ["promote"]
    assert all(m.at.endswith("+00:00") for m in moves)
    assert "alice: promote champion -> version 1 (was nothing): first model" in str(moves[0])
    # One JSON tag per move, on the version that got (or lost) the alias: readable in the UI.
    client = MlflowClient()
    early, late = (client.get_model_version(name, three[k]).tags for k in ("early", "all"))
    assert json.loads(early["alias_history.1"])["reason"] == "first model"
    assert [json.loads(late[f"alias_history.{n}"])["reason"] for n in (2, 3)] == [
        "candidate",
        "decided",
    ]
    assert {json.loads(late[f"alias_history.{n}"])["state"] for n in (2, 3)} == {"done"}
    assert registry.HISTORY_TAG not in client.get_registered_model(name).tags
    assert registry.version_of(name, "challenger") is None


def test_rollback_walks_back_through_the_promotions(
    logged: dict[str, Logged], three: dict[str, str], name: str, data: pd.DataFrame
) -> None:
    v1, v2, v3 = three["early"], three["all"], three["base"]
    for version in (v1, v2, v3):
        registry.promote(name, version, reason=f"promote {version}")
    move = registry.rollback(name, reason="v3 misbehaves", by="ops")
    assert (move.action, move.version, move.previous, move.by) == ("rollback", v2, v3, "ops")
    assert registry.version_of(name, "champion") == v2
    assert registry.rollback(name, reason="v2 too").version == v1
    assert registry.version_of(name, "champion") == v1
    X = data[FEATURES]
    p = registry.load_model(name).predict_proba(X)
    assert np.array_equal(p, logged["early"].result.model.predict_proba(X))
    with pytest.raises(ValueError, match="does not say which version"):
        registry.rollback(name, reason="nothing before v1")
    assert [m.action for m in registry.history(name)] == ["promote"] * 3 + ["rollback"] * 2


def test_rollback_to_an_explicit_version(three: dict[str, str], name: str) -> None:
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", three["base"])  # moved by hand
    with pytest.raises(ValueError, match="does not say which version"):
        registry.rollback(name, reason="no record")
    move = registry.rollback(name, reason="back to the first", to_version=1)
    assert (move.version, move.previous) == ("1", three["base"])
    assert registry.version_of(name, "champion") == "1"
    with pytest.raises(ValueError, match="already points at version 1"):
        registry.rollback(name, reason="again", to_version="1")
    with pytest.raises(ValueError, match="by must be a non-empty name"):
        registry.rollback(name, reason="nobody", to_version=2, by=" ")
    assert registry.version_of(name, "champion") == "1"
    with pytest.raises(ValueError, match="no longer exists"):
        registry.rollback(name, reason="gone", to_version=8)


def test_rollback_to_a_deleted_version_is_refused(three: dict[str, str], name: str) -> None:
    registry.promote(name, three["early"], reason="first")
    registry.promote(name, three["all"], reason="second")
    MlflowClient().delete_model_version(name, three["early"])
    with pytest.raises(ValueError, match=r"back to version 1 .* no longer exists"):
        registry.rollback(name, reason="first is gone")
    assert registry.version_of(name, "champion") == three["all"]


def test_rollback_and_remove_need_the_alias(untouched: str) -> None:
    name = untouched
    with pytest.raises(ValueError, match="nothing to roll back"):
        registry.rollback(name, reason="x")
    with pytest.raises(ValueError, match="no alias 'challenger' to remove"):
        registry.remove_alias(name, "challenger", reason="x")
    with pytest.raises(ValueError, match="Say why"):
        registry.rollback(name, reason="")


def _fail_on(monkeypatch: pytest.MonkeyPatch, method: str, when: str = "") -> None:
    """Make ``MlflowClient.<method>`` raise, for calls whose arguments contain ``when``."""
    real = getattr(MlflowClient, method)

    def failing(self: MlflowClient, *args: object, **kwargs: object) -> object:
        if when in repr(args):
            raise MlflowException(f"simulated failure of {method}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, method, failing)


def test_a_failed_move_leaves_no_alias_moved_and_no_move_in_the_history(
    three: dict[str, str], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.promote(name, three["early"], reason="first")
    with monkeypatch.context() as m:  # the record cannot be written: the alias stays
        _fail_on(m, "set_model_version_tag")
        with pytest.raises(MlflowException, match="simulated"):
            registry.promote(name, three["all"], reason="never recorded")
    assert registry.version_of(name, "champion") == three["early"]
    with monkeypatch.context() as m:  # recorded, but the alias does not move
        _fail_on(m, "set_registered_model_alias")
        with pytest.raises(MlflowException, match="simulated"):
            registry.promote(name, three["all"], reason="recorded, not moved")
    assert registry.version_of(name, "champion") == three["early"]
    tags = MlflowClient().get_model_version(name, three["all"]).tags
    assert json.loads(tags["alias_history.2"])["state"] == "pending"  # the record is there ...
    assert [m.reason for m in registry.history(name)] == ["first"]  # ... and left out
    registry.promote(name, three["base"], reason="third")
    registry.promote(name, three["all"], reason="fourth")
    moves = registry.history(name)
    assert [m.reason for m in moves] == ["first", "third", "fourth"]
    assert registry.rollback(name, reason="back").version == three["base"]


def test_a_move_whose_record_is_not_confirmed_is_still_in_the_history(
    three: dict[str, str], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.promote(name, three["early"], reason="first")
    with monkeypatch.context() as m:  # the alias moves, the confirmation fails
        _fail_on(m, "set_model_version_tag", when="done")
        with pytest.warns(UserWarning, match="could not be confirmed"):
            move = registry.promote(name, three["all"], reason="moved, unconfirmed")
    assert registry.version_of(name, "champion") == three["all"] == move.version
    assert [m.reason for m in registry.history(name)] == ["first", "moved, unconfirmed"]
    registry.promote(name, three["base"], reason="third")  # still there once it is not last
    assert [m.reason for m in registry.history(name)] == ["first", "moved, unconfirmed", "third"]
    assert registry.rollback(name, reason="back").version == three["all"]
    assert registry.rollback(name, reason="back again").version == three["early"]


def test_history_keeps_every_move(three: dict[str, str], name: str) -> None:
    for i in range(12):
        registry.promote(name, three["early"] if i % 2 else three["all"], reason=f"move {i}")
    assert [m.reason for m in registry.history(name)] == [f"move {i}" for i in range(12)]


def _legacy_history(name: str, versions: list[str]) -> list[dict[str, object]]:
    """The alias history as older course states kept it: one registered-model tag."""
    moves, previous = [], None
    for i, version in enumerate(versions):
        moves.append(
            {
                "alias": "champion",
                "version": version,
                "previous": previous,
                "action": "promote",
                "by": "old",
                "reason": f"old move {i}",
                "at": f"2026-01-0{i + 1}T09:00:00+00:00",
            }
        )
        previous = version
    client = MlflowClient()
    client.set_registered_model_tag(name, registry.HISTORY_TAG, json.dumps(moves))
    client.set_registered_model_alias(name, "champion", versions[-1])
    return moves


def test_an_older_history_tag_is_read_as_the_oldest_moves(three: dict[str, str], name: str) -> None:
    _legacy_history(name, [three["early"], three["all"]])
    registry.promote(name, three["base"], reason="new move")
    moves = registry.history(name)
    assert [m.reason for m in moves] == ["old move 0", "old move 1", "new move"]
    assert moves[-1].previous == three["all"]
    tags = MlflowClient().get_model_version(name, three["base"]).tags
    assert json.loads(tags["alias_history.3"])["reason"] == "new move"  # numbered after them
    assert registry.rollback(name, reason="back").version == three["all"]
    assert registry.rollback(name, reason="and back").version == three["early"]  # old record


def test_a_corrupt_history_is_a_clear_error(three: dict[str, str], name: str) -> None:
    client = MlflowClient()
    client.set_registered_model_tag(name, registry.HISTORY_TAG, "{not json")
    with pytest.raises(ValueError, match="not a valid alias history"):
        registry.history(name)
    client.delete_registered_model_tag(name, registry.HISTORY_TAG)
    client.set_model_version_tag(name, three["all"], "alias_history.1", '{"alias": "x"}')
    with pytest.raises(ValueError, match=r"'alias_history.1' of version 2 .* not a valid"):
        registry.history(name)
    client.set_model_version_tag(name, three["all"], "alias_history.1", "[oops")
    with pytest.raises(ValueError, match="Delete the tag in the MLflow UI"):
        registry.promote(name, three["all"], reason="x")
    assert registry.version_of(name, "champion") is None


# ----------------------------------------------------------------------------- lineage


def test_lineage_follows_alias_version_run_data_and_code(
    logged: dict[str, Logged], three: dict[str, str], name: str
) -> None:
    registry.promote(name, three["all"], reason="in use")
    info = registry.lineage(name, alias="champion")
    result = logged["all"].result
    assert info.version == three["all"] and info.aliases == ("champion",)
    assert info.run_id == logged["all"].run_id and info.run_name == "lr-all"
    assert info.data_fingerprint == result.data_fingerprint
    assert info.train_fingerprint == result.train_fingerprint
    assert info.code_version == "git:0123456789ab"
    assert info.params["model"] == "logistic_regression"
    assert info.metrics["roc_auc"] == result.metrics["roc_auc"]
    assert info.source == logged["all"].info.model_uri
    assert info.uri == f"models:/{name}/{three['all']}"
    assert info.label == f"version {three['all']}\nlr-all\ndata {result.data_fingerprint[:8]}"
    assert registry.lineage(name, 1).data_fingerprint == logged["early"].result.data_fingerprint


def test_lineage_of_a_version_whose_run_was_deleted_keeps_the_version_tags(
    logged: dict[str, Logged], data: pd.DataFrame, name: str
) -> None:
    doomed = _log(training.TrainConfig("dummy", seed=2), data, "doomed")
    registry.register(doomed.info, name)
    MlflowClient().delete_run(doomed.run_id)
    info = registry.lineage(name, 1)
    assert info.run_id == doomed.run_id  # the link stays, the run is in the trash
    assert info.data_fingerprint == doomed.result.data_fingerprint


def test_lineage_arguments(untouched: str) -> None:
    name = untouched
    with pytest.raises(TypeError, match="either version"):
        registry.lineage(name)
    with pytest.raises(TypeError, match="either version"):
        registry.lineage(name, 1, alias="champion")
    with pytest.raises(ValueError, match="has no alias 'champion'; its aliases are none"):
        registry.lineage(name, alias="champion")
    with pytest.raises(ValueError, match="has no version 5"):
        registry.lineage(name, 5)


def test_versions_table(logged: dict[str, Logged], three: dict[str, str], name: str) -> None:
    registry.promote(name, three["early"], reason="in use")
    table = registry.versions_table(name)
    assert list(table.index) == ["3", "2", "1"]
    assert list(table.columns) == [
        "aliases",
        "run_name",
        "run_id",
        "data_fingerprint",
        "code_version",
        "roc_auc",
        "cost_per_customer_eur",
    ]
    assert table.loc["1", "aliases"] == "champion"
    assert table.loc["2", "run_name"] == "lr-all"
    assert table.loc["1", "run_id"] == logged["early"].run_id[:8]
    assert table.loc["3", "roc_auc"] == 0.5
    picked = registry.versions_table(name, [1, "3"], metrics=["accuracy", "no_such_metric"])
    assert list(picked.index) == ["1", "3"]
    assert np.isnan(picked.loc["1", "no_such_metric"])
    with pytest.raises(TypeError, match="list of metric names"):
        registry.versions_table(name, metrics="roc_auc")


# ----------------------------------------------------------------------------- figures


def test_registry_diagram_draws_boxes_and_alias_arrows() -> None:
    fig = registry.registry_diagram(
        {1: "version 1", "2": "version 2"},
        {"champion": 1, "challenger": "2", "shadow": 1, "old": 7},
        title="demo",
    )
    gids = {artist.get_gid() for ax in fig.axes for artist in ax.patches}
    assert {"version:1", "version:2", "alias:champion", "alias:challenger", "alias:shadow"} <= gids
    assert "alias:old" not in gids  # version 7 is not drawn ...
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("old \N{RIGHTWARDS ARROW} version 7 (not shown)" in t for t in texts)  # ... noted
    assert fig.get_suptitle() == "demo"
    bundle, _ = fig._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("versions", "aliases", "error", "message"),
    [
        ({}, {}, ValueError, "at least one version"),
        ({i: "v" for i in range(1, 10)}, {}, ValueError, "At most 8"),
        ([1], {}, TypeError, "must be dicts"),
        ({1: "v"}, {"latest": 1}, ValueError, "reserved"),
        ({"x": "v"}, {}, ValueError, "not a version number"),
    ],
)
def test_registry_diagram_errors(
    versions: object, aliases: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        registry.registry_diagram(versions, aliases)  # type: ignore[arg-type]


def test_diagram_reads_the_registry(three: dict[str, str], name: str) -> None:
    registry.promote(name, three["base"], reason="x")
    fig = registry.diagram(name)
    gids = {artist.get_gid() for ax in fig.axes for artist in ax.patches}
    assert {"version:1", "version:2", "version:3", "alias:champion"} <= gids
    assert fig.get_suptitle() == f"Registered model {name}"
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "version 2\nlr-all\ndata " + registry.lineage(name, 2).data_fingerprint[:8] in texts


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def postgres_uri() -> str:
    """An MLflow store in a PostgreSQL database of its own, as the class server runs it."""
    from utils import classroom

    missing = classroom.postgres_missing_reason()
    require_tool(missing is None, f"this test needs PostgreSQL: {missing}")
    base = Path(tempfile.mkdtemp(prefix="mlops-registry-pg-"))
    base.chmod(0o711)  # the postgres user must reach the cluster below it
    cluster = classroom.init_cluster(base / "pg")
    try:
        classroom.start_cluster(cluster)
        password = uuid.uuid4().hex
        uri = classroom.create_database(cluster, "registry_test", "registry_test", password)
        yield uri.replace("registry_test@", f"registry_test:{password}@", 1)
    finally:
        classroom.stop_cluster(cluster)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.postgres
def test_history_on_postgresql_outlives_the_old_tag_limit(
    postgres_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", postgres_uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", postgres_uri)
    client = MlflowClient()
    name = f"pg-history-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    versions = [
        str(client.create_model_version(name, source=(tmp_path / f"m{i}").as_uri()).version)
        for i in range(3)
    ]
    # An older course state: two moves in the registered-model tag.
    _legacy_history(name, versions[:2])
    moves = 80
    for i in range(moves):
        registry.promote(name, versions[i % 3], reason=f"move {i}: scheduled retraining")
    history = registry.history(name)
    assert [m.reason for m in history] == ["old move 0", "old move 1"] + [
        f"move {i}: scheduled retraining" for i in range(moves)
    ]
    # The old way, all moves in one registered-model tag, stops far below that on PostgreSQL:
    old_payload = [asdict(m) for m in history]
    sizes = [len(json.dumps(old_payload[:k], separators=(",", ":"))) for k in range(moves + 3)]
    old_limit = max(k for k, size in enumerate(sizes) if size <= 5000)
    assert 2 * old_limit < moves, (old_limit, sizes[-1])
    with pytest.raises(MlflowException):
        client.set_registered_model_tag(name, "one_tag_history", json.dumps(old_payload))
    # Rollback still walks back through the recorded moves.
    assert registry.rollback(name, reason="back").version == versions[(moves - 2) % 3]
    assert registry.version_of(name, "champion") == versions[(moves - 2) % 3]
    print(f"{moves} moves on PostgreSQL; one registered-model tag held {old_limit}")
