"""The model registry: versions with lineage, movable aliases, and a record of every move.

Introduced in notebook 06 (model registry); notebooks 07-10 reuse it to test, deliver, monitor
and retrain the registered churn model.

A *run* (notebook 05) records one training: parameters, metrics, the model file. The *model
registry* gives the models worth keeping a name and numbered *versions*. Each version points
back at the logged model (``models:/m-...``) and at the run that produced it, and carries the
*lineage* tags that say which data (:func:`utils.datasets.fingerprint`) and which code
(:func:`code_version`) made it. An *alias* is a movable name for one version:
``models:/<name>@champion`` is the model in use, ``@challenger`` the candidate that may replace
it. Deploying or rolling back means moving an alias; the code that loads
``models:/<name>@champion`` never changes.

MLflow's older *stages* (None, Staging, Production, Archived) are deprecated since MLflow 2.9;
this module uses aliases only.

MLflow itself keeps no history of alias moves: the registry knows only where each alias points
now. So every alias move made here (:func:`promote`, :func:`rollback`, :func:`remove_alias`) is
recorded, with who moved it, when and why, as one model-version tag per move,
``alias_history.<n>`` (``n`` counts the moves of the registered model), on the version that
received the alias (for a removal, on the version that lost it). :func:`rollback` reads that
history to find the version that served before.

Why one tag per move, on a version: MLflow limits registered-model tag values to 5000
characters on SQL backends other than SQLite (model-version tag values are unlimited there), so
a history kept in one registered-model tag fails on PostgreSQL after a few dozen moves; one
record per move stays small on every backend. The move is recorded *before* the alias moves
(``"state": "pending"``) and confirmed after (``"done"``): a failure can leave a record whose
move did not happen, never a moved alias without a record. :func:`history` keeps a pending
record only when the registry agrees that its move happened (the alias's next recorded move
starts from its version, or the alias points at it now). Older course states kept the whole
history in the registered-model tag ``alias_history``; it is still read, as the oldest moves.
Deleting a version deletes the records kept on it. Moves of one registered model are meant to
be made one at a time, as a pipeline makes them: two moves at the same instant could get the
same ``n``.

The module imports MLflow only inside its functions, so importing it is fast.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from utils.paths import git_output, repo_root

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from utils.figures import CourseFigure
    from utils.training import TrainResult

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "HISTORY_TAG",
    "LINEAGE_TAGS",
    "AliasMove",
    "Lineage",
    "aliases",
    "code_version",
    "describe_model",
    "diagram",
    "history",
    "lineage",
    "lineage_tags",
    "load_model",
    "model_uri",
    "promote",
    "register",
    "registry_diagram",
    "remove_alias",
    "rollback",
    "version_of",
    "versions_table",
]

#: The alias of the version in use: what ``models:/<name>@champion`` loads.
CHAMPION = "champion"
#: The alias of the candidate that may replace the champion.
CHALLENGER = "challenger"
#: The history of alias moves: one model-version tag ``alias_history.<n>`` (JSON) per move.
#: (Older course states kept all moves in one registered-model tag of this name, still read.)
HISTORY_TAG = "alias_history"
#: Run tags that :func:`register` copies onto every model version: its lineage.
LINEAGE_TAGS: tuple[str, ...] = ("data_fingerprint", "train_fingerprint", "code_version")

Action = Literal["promote", "rollback", "remove"]

_ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_RESERVED_ALIAS_RE = re.compile(r"^[vV]\d+$")
_LOGGED_MODEL_URI_RE = re.compile(r"^models:/(m-[0-9a-f]+)$")
_HISTORY_KEY_RE = re.compile(r"^" + re.escape(HISTORY_TAG) + r"\.([0-9]+)$")
_MOVE_FIELDS = ("alias", "version", "previous", "action", "by", "reason", "at")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias, as :func:`history` returns it (notebook 06).

    Attributes:
        alias: the alias moved, e.g. ``"champion"``.
        version: the version it points at after the move (None after :func:`remove_alias`).
        previous: the version it pointed at before (None if it was not set).
        action: ``"promote"``, ``"rollback"`` or ``"remove"``.
        by: who moved it (the tracking user name, else the computer's login name).
        reason: why, in the mover's words.
        at: when, as an ISO 8601 UTC time, e.g. ``"2026-11-27T09:15:02+00:00"``.
    """

    alias: str
    version: str | None
    previous: str | None
    action: Action
    by: str
    reason: str
    at: str

    def __str__(self) -> str:
        target = f"version {self.version}" if self.version is not None else "nothing"
        before = f"version {self.previous}" if self.previous is not None else "nothing"
        return (
            f"{self.at} {self.by}: {self.action} {self.alias} -> {target} "
            f"(was {before}): {self.reason}"
        )


@dataclass(frozen=True)
class Lineage:
    """Where a model version comes from, read back from the registry (notebook 06).

    Attributes:
        name: the registered model's name.
        version: the version number, as a string (MLflow's convention), e.g. ``"3"``.
        aliases: the aliases that point at this version now.
        description: the version's description.
        source: the model the version points at, e.g. ``"models:/m-3f2a..."``.
        run_id: the run that produced the model (None if the version names no run).
        run_name: that run's name (None if there is no run, or it was deleted).
        experiment_id: that run's experiment (None likewise).
        data_fingerprint: fingerprint of the data the model was trained on (version tag,
            else the run's tag; None if neither has it).
        train_fingerprint: fingerprint of the training split alone (likewise).
        code_version: version of the training code (likewise), see :func:`code_version`.
        params: the run's parameters (empty if there is no run).
        metrics: the run's metrics (empty if there is no run).
        tags: the version's own tags.
    """

    name: str
    version: str
    aliases: tuple[str, ...]
    description: str
    source: str
    run_id: str | None
    run_name: str | None
    experiment_id: str | None
    data_fingerprint: str | None
    train_fingerprint: str | None
    code_version: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``: this exact version, whatever the aliases do."""
        return model_uri(self.name, self.version)

    @property
    def label(self) -> str:
        """A short, multi-line description for :func:`registry_diagram`."""
        lines = [f"version {self.version}"]
        if self.run_name:
            lines.append(self.run_name)
        if self.data_fingerprint:
            lines.append(f"data {self.data_fingerprint[:8]}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- validation


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"name must be the registered model's name (a string, e.g. from "
            f"tracking.model_name('06-churn-classifier')), got {name!r}."
        )
    if not name.strip() or "/" in name or ":" in name:
        raise ValueError(
            f"{name!r} is not a valid registered model name: it must be non-empty and contain "
            "neither '/' nor ':'. Use tracking.model_name('...') to build one."
        )
    return name


def _check_alias(alias: object) -> str:
    if not isinstance(alias, str):
        raise TypeError(f"alias must be a string such as 'champion', got {alias!r}.")
    if not _ALIAS_RE.match(alias) or len(alias) > 255:
        raise ValueError(
            f"{alias!r} is not a valid alias: use letters, digits, '_' and '-' only, "
            "e.g. 'champion' or 'challenger'."
        )
    if alias.lower() == "latest" or _RESERVED_ALIAS_RE.match(alias):
        raise ValueError(
            f"The alias {alias!r} is reserved by MLflow ('latest' and 'v<number>' already mean "
            "a version). Choose a name such as 'champion' or 'challenger'."
        )
    return alias


def _check_version(version: object) -> str:
    """Normalise a version number given as int, numeric string or ModelVersion to a string."""
    raw = getattr(version, "version", version)  # a ModelVersion carries its number
    if isinstance(raw, bool):
        raise TypeError(f"version must be a version number such as 3 or '3', got {version!r}.")
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise TypeError(f"version must be a version number such as 3 or '3', got {version!r}.")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{version!r} is not a version number: versions are whole numbers from 1 up."
        )
    return str(int(text))


def _check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(
            "Say why the alias moves: reason must be a non-empty string, e.g. "
            "reason='higher ROC AUC on last week's data'. It is kept in the history."
        )
    return reason.strip()


def _who(by: str | None) -> str:
    if by is not None:
        if not isinstance(by, str) or not by.strip():
            raise ValueError(f"by must be a non-empty name or None, got {by!r}.")
        return by.strip()
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


# --------------------------------------------------------------------------- client helpers


def _client() -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient()


def _not_found(err: Exception) -> bool:
    return getattr(err, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")


def _registered_model(client: MlflowClient, name: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as err:
        if _not_found(err):
            raise ValueError(
                f"There is no registered model named {name!r} on this tracking server. "
                "Register a version first with registry.register(model_info, name)."
            ) from None
        raise


def _model_version(client: MlflowClient, name: str, version: str) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version)
    except MlflowException as err:
        if not _not_found(err):
            raise
    _registered_model(client, name)  # a clearer message when the model itself is missing
    known = [str(mv.version) for mv in client.search_model_versions(f"name = '{_quote(name)}'")]
    raise _no_version(name, version, known)


def _no_version(name: str, version: str, known: Iterable[str]) -> ValueError:
    """The error for a version number ``name`` does not have (its versions are ``known``)."""
    listed = ", ".join(sorted(known, key=int)) or "none"
    return ValueError(
        f"The registered model {name!r} has no version {version}; its versions are {listed}."
    )


def _quote(text: str) -> str:
    return text.replace("'", "\\'")


# --------------------------------------------------------------------------- lineage


def _source_hash(package: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def code_version(root: str | os.PathLike[str] | None = None) -> str:
    """Name the version of the training code: the ``utils`` package under ``root``.

    Introduced in notebook 05 (as ``experiments.code_version``, the same function) and recorded
    in every model's lineage from notebook 06 on (tag ``code_version``). The training code of
    the course lives in ``utils`` (the notebooks call it), so its version is:

    * ``"git:<commit>"`` (12 hex digits) in a git checkout where ``utils`` has no uncommitted
      changes: ``git checkout <commit>`` gets the exact code back;
    * ``"git:<commit>+utils:<hash>"`` when ``utils`` has uncommitted changes: the commit they
      start from, plus a content hash of the ``utils`` sources as they are now;
    * ``"utils:<hash>"`` without git (a downloaded copy of the course): the content hash only.

    The hash covers the path and content of every ``.py`` file in ``utils`` (line endings
    normalised), so the same code gives the same hash on every computer.

    Args:
        root: the repository root; default the course repository.

    Raises:
        ValueError: ``root`` holds no ``utils`` package.
    """
    base = Path(root).expanduser().resolve() if root is not None else repo_root()
    package = base / "utils"
    if not (package / "__init__.py").is_file():
        raise ValueError(
            f"{base} holds no utils package (no utils/__init__.py): give the course "
            "repository's root folder, or nothing for the default."
        )
    source = _source_hash(package)
    top = git_output(base, "rev-parse", "--show-toplevel")
    commit = git_output(base, "rev-parse", "HEAD") if top else None
    if top is None or commit is None or Path(top.strip()).resolve() != base:
        return f"utils:{source}"
    changes = git_output(base, "status", "--porcelain", "--untracked-files=all", "--", "utils")
    if changes is None:
        return f"utils:{source}"
    dirty = [line for line in changes.splitlines() if line.strip().endswith(".py")]
    short = commit.strip()[:12]
    return f"git:{short}+utils:{source}" if dirty else f"git:{short}"


def lineage_tags(result: TrainResult, code: str | None = None) -> dict[str, str]:
    """The lineage tags of one training: set them on its run, :func:`register` copies them.

    Introduced in notebook 06. Returns ``data_fingerprint`` (the data given to
    :func:`utils.training.train`), ``train_fingerprint`` (its training split),
    ``code_version`` (:func:`code_version`, unless ``code`` is given) and ``model_type``
    (the config's model name).

    Raises:
        TypeError: ``result`` is not a :class:`utils.training.TrainResult`.
    """
    # deferred: utils.training loads scikit-learn: +1.1 s to import registry
    from utils.training import TrainResult

    if not isinstance(result, TrainResult):
        raise TypeError(
            f"lineage_tags needs the TrainResult that training.train returned, got "
            f"{type(result).__name__}."
        )
    if code is not None and (not isinstance(code, str) or not code.strip()):
        raise ValueError(f"code must be a non-empty string or None, got {code!r}.")
    return {
        "data_fingerprint": result.data_fingerprint,
        "train_fingerprint": result.train_fingerprint,
        "code_version": code if code is not None else code_version(),
        "model_type": result.config.model,
    }


def _as_tag_values(tags: Mapping[str, object] | None, what: str) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise TypeError(f"{what} must be a dict of tag names to values, got {tags!r}.")
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what}: tag names must be non-empty strings, got {key!r}.")
        out[key] = str(value)
    return out


# --------------------------------------------------------------------------- register


def _model_uri_and_run(model: object, client: MlflowClient) -> tuple[str, str, str | None]:
    """Return (models:/m-... URI, model id, run id) for a ModelInfo or a logged model URI."""
    uri = getattr(model, "model_uri", model)
    if not isinstance(uri, str):
        raise TypeError(
            "register needs the ModelInfo that tracking.log_sklearn_model returned (or its "
            f"model_uri, 'models:/m-...'), got {type(model).__name__}."
        )
    if uri.startswith("runs:/"):
        raise ValueError(
            f"{uri!r} is a run's artifact path. Since MLflow 3 a logged model has its own URI: "
            "register model_info.model_uri ('models:/m-...'), the value "
            "tracking.log_sklearn_model returns."
        )
    match = _LOGGED_MODEL_URI_RE.match(uri)
    if match is None:
        raise ValueError(
            f"{uri!r} is not a logged model's URI. Register model_info.model_uri, which looks "
            "like 'models:/m-<32 hex digits>'."
        )
    model_id = match.group(1)
    run_id = getattr(model, "run_id", None)
    if run_id is None:
        from mlflow.exceptions import MlflowException

        try:
            run_id = client.get_logged_model(model_id).source_run_id
        except MlflowException as err:
            if _not_found(err):
                raise ValueError(
                    f"No logged model {model_id} on this tracking server: log the model first "
                    "(tracking.log_sklearn_model) on the server you register it on."
                ) from None
            raise
    return uri, model_id, run_id


def register(
    model: Any,
    name: str,
    *,
    description: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> ModelVersion:
    """Register a logged model as a new version of ``name``, with its lineage; return it.

    Introduced in notebook 06. The registered model is created if it does not exist yet. The
    new version gets:

    * ``source`` = the logged model (``models:/m-...``) and ``run_id`` = the run that logged
      it, so the version leads back to its run;
    * the run's lineage tags (:data:`LINEAGE_TAGS`, set on the run with :func:`lineage_tags`)
      copied onto the version, then ``tags``;
    * ``description``.

    Args:
        model: the ``ModelInfo`` that :func:`utils.tracking.log_sklearn_model` returned, or its
            ``model_uri`` (``"models:/m-..."``). A ``runs:/...`` URI is refused: in MLflow 3
            the logged model, not the run's folder, is what gets registered.
        name: the registered model's name (build it with ``tracking.model_name``).
        description: what this version is, in a sentence (shown in the MLflow UI).
        tags: more version tags; values are stored as strings.

    Raises:
        TypeError: ``model`` is neither a ModelInfo nor a URI string; bad ``tags``.
        ValueError: a ``runs:/`` or other URI; a model that is not on this server; a tag in
            ``tags`` that contradicts the run's lineage tag of the same name.
    """
    from mlflow.exceptions import MlflowException

    name = _check_name(name)
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a string or None, got {description!r}.")
    extra = _as_tag_values(tags, "tags")
    client = _client()
    uri, model_id, run_id = _model_uri_and_run(model, client)

    version_tags: dict[str, str] = {}
    if run_id is not None:
        run_tags = client.get_run(run_id).data.tags
        version_tags.update({k: run_tags[k] for k in LINEAGE_TAGS if k in run_tags})
    for key, value in extra.items():
        if key in version_tags and version_tags[key] != value:
            raise ValueError(
                f"The tag {key}={value!r} contradicts the run, whose {key} is "
                f"{version_tags[key]!r}: the lineage would be wrong. Leave {key} out (register "
                "copies it from the run) or fix the run's tag."
            )
        version_tags[key] = value

    try:
        client.create_registered_model(name)
    except MlflowException as err:
        if err.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    return client.create_model_version(
        name,
        source=uri,
        run_id=run_id,
        tags=version_tags,
        description=description,
        model_id=model_id,
    )


def describe_model(name: str, description: str) -> None:
    """Set the description of the registered model ``name`` (notebook 06).

    Raises:
        ValueError: no registered model ``name``.
        TypeError: ``description`` is not a string.
    """
    name = _check_name(name)
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {description!r}.")
    client = _client()
    _registered_model(client, name)
    client.update_registered_model(name, description=description)


# --------------------------------------------------------------------------- aliases


def model_uri(name: str, ref: str | int) -> str:
    """The URI that loads a registered model: ``models:/<name>@<alias>`` for an alias,
    ``models:/<name>/<version>`` for a version number (notebook 06).

    A string of digits is a version; any other string an alias.
    """
    name = _check_name(name)
    if isinstance(ref, str) and not ref.strip().isdigit():
        return f"models:/{name}@{_check_alias(ref)}"
    return f"models:/{name}/{_check_version(ref)}"


def aliases(name: str) -> dict[str, str]:
    """All aliases of the registered model ``name``: ``{alias: version}`` (notebook 06).

    Raises:
        ValueError: no registered model ``name``.
    """
    name = _check_name(name)
    model = _registered_model(_client(), name)
    return {alias: str(version) for alias, version in sorted(model.aliases.items())}


def version_of(name: str, alias: str = CHAMPION) -> str | None:
    """The version ``alias`` points at, or None if the alias is not set (notebook 06).

    Raises:
        ValueError: no registered model ``name``, or an invalid alias.
    """
    alias = _check_alias(alias)
    return aliases(name).get(alias)


def load_model(name: str, ref: str | int = CHAMPION) -> Any:
    """Load a registered scikit-learn model by alias (default ``champion``) or version.

    Introduced in notebook 06: this is how serving code gets "the model in use" without
    knowing its version: ``mlflow.sklearn.load_model("models:/<name>@champion")``.

    Raises:
        ValueError: no registered model ``name``, or ``ref`` names no alias or version of it.
    """
    import mlflow.sklearn

    uri = model_uri(name, ref)
    client = _client()
    if "@" in uri:
        if version_of(name, str(ref)) is None:
            raise ValueError(
                f"The registered model {name!r} has no alias {ref!r}; its aliases are "
                f"{aliases(name) or 'none'}. Set one with registry.promote(name, version, "
                f"alias={ref!r}, reason=...)."
            )
    else:
        _model_version(client, name, _check_version(ref))
    return mlflow.sklearn.load_model(uri)


@dataclass(frozen=True)
class _Record:
    """One recorded move, with its place in the history and whether it was confirmed."""

    n: int
    move: AliasMove
    done: bool


def _versions(client: MlflowClient, name: str) -> list[ModelVersion]:
    """Every version of ``name`` (all pages of the search)."""
    found: list[ModelVersion] = []
    token = None
    while True:
        page = client.search_model_versions(f"name = '{_quote(name)}'", page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def _as_move(record: object, where: str) -> AliasMove:
    try:
        if not isinstance(record, dict):
            raise TypeError("not a JSON object")
        move = AliasMove(**{key: record[key] for key in _MOVE_FIELDS})
    except (KeyError, TypeError) as err:
        raise ValueError(f"{where} is not a valid alias move ({err}).") from None
    return move


@dataclass(frozen=True)
class _Snapshot:
    """One reading of a registered model (the model, then every page of its versions): its
    recorded moves in order, where its aliases point now, and its version numbers.
    :func:`promote`, :func:`rollback` and :func:`remove_alias` check and move from one
    snapshot instead of asking the server again for each."""

    records: list[_Record]
    current: dict[str, str]
    versions: frozenset[str]

    def moves(self) -> list[AliasMove]:
        """The moves that took place (:func:`_happened`)."""
        return _happened(self.records, self.current)


def _snapshot(client: MlflowClient, name: str) -> _Snapshot:
    """Read ``name``'s recorded moves, aliases and versions (ValueError: no such model)."""
    model = _registered_model(client, name)
    current = {alias: str(version) for alias, version in model.aliases.items()}
    records: list[_Record] = []
    versions = _versions(client, name)
    legacy = model.tags.get(HISTORY_TAG)  # an older course state: one tag with every move
    if legacy:
        where = f"The tag {HISTORY_TAG!r} of the registered model {name!r}"
        try:
            old = json.loads(legacy)
            if not isinstance(old, list):
                raise ValueError("not a JSON list")
        except ValueError as err:
            raise ValueError(
                f"{where} is not a valid alias history ({err}). Delete the tag in the MLflow UI "
                "to start a new history."
            ) from None
        records += [_Record(i, _as_move(m, where), True) for i, m in enumerate(old, start=1)]
    for mv in versions:
        for key, value in mv.tags.items():
            match = _HISTORY_KEY_RE.match(key)
            if match is None:
                continue
            where = f"The tag {key!r} of version {mv.version} of {name!r}"
            try:
                data = json.loads(value)
            except ValueError as err:
                raise ValueError(
                    f"{where} is not a valid alias move ({err}). Delete the tag in the MLflow "
                    "UI to drop this record."
                ) from None
            done = isinstance(data, dict) and data.get("state") == "done"
            records.append(_Record(int(match.group(1)), _as_move(data, where), done))
    records.sort(key=lambda r: (r.n, r.move.at))
    return _Snapshot(records, current, frozenset(str(mv.version) for mv in versions))


def _happened(records: list[_Record], current: Mapping[str, str]) -> list[AliasMove]:
    """The moves that took place: confirmed ones, and pending ones the registry agrees with.

    Walks each alias's records from the newest back: the state after a record is where the
    alias points now (for its last record) or where its next move started (``previous``).
    """
    after: dict[str, str | None] = dict(current)
    kept: list[AliasMove] = []
    for record in reversed(records):
        move = record.move
        if record.done or move.version == after.get(move.alias):
            kept.append(move)
            after[move.alias] = move.previous
    return kept[::-1]


def _payload(move: AliasMove, n: int, state: str) -> str:
    return json.dumps({**asdict(move), "n": n, "state": state}, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _move(
    client: MlflowClient,
    snapshot: _Snapshot,
    name: str,
    alias: str,
    version: str | None,
    *,
    action: Action,
    reason: str,
    by: str,
) -> AliasMove:
    """Record the move (pending), move the alias, confirm the record (done); ``snapshot``
    is ``name`` as read just before."""
    from mlflow.exceptions import MlflowException

    previous = snapshot.current.get(alias)
    holder = version if version is not None else previous  # the version that keeps the record
    if holder is None:
        raise ValueError(f"The registered model {name!r} has no alias {alias!r} to remove.")
    move = AliasMove(
        alias=alias,
        version=version,
        previous=previous,
        action=action,
        by=by,
        reason=reason,
        at=_now(),
    )
    n = max((r.n for r in snapshot.records), default=0) + 1
    key = f"{HISTORY_TAG}.{n}"
    client.set_model_version_tag(name, holder, key, _payload(move, n, "pending"))
    if version is None:
        client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, version)
    try:
        client.set_model_version_tag(name, holder, key, _payload(move, n, "done"))
    except MlflowException as err:  # the move happened and its record says so (pending)
        warnings.warn(
            f"{alias!r} moved, but its record {key} on version {holder} could not be confirmed "
            f"({err}); history() still lists the move while the registry agrees with it.",
            stacklevel=3,
        )
    return move


def promote(
    name: str,
    version: str | int,
    alias: str = CHAMPION,
    *,
    reason: str,
    by: str | None = None,
) -> AliasMove:
    """Point ``alias`` (default ``champion``) at ``version``, and record who and why.

    Introduced in notebook 06. From the next load on, ``models:/<name>@<alias>`` gives this
    version. The move is recorded before the alias moves (see :func:`history`).

    Args:
        name: the registered model.
        version: the version number (int, numeric string, or a ModelVersion).
        alias: the alias to move, e.g. ``"champion"`` or ``"challenger"``.
        reason: why (required, kept in the history).
        by: who; default the tracking user name (``MLFLOW_TRACKING_USERNAME``), else the
            computer's login name.

    Returns:
        The recorded :class:`AliasMove`.

    Raises:
        ValueError: no such model or version, an invalid alias, an empty reason.
    """
    name, alias, version = _check_name(name), _check_alias(alias), _check_version(version)
    reason, who = _check_reason(reason), _who(by)
    client = _client()
    snapshot = _snapshot(client, name)
    if version not in snapshot.versions:
        raise _no_version(name, version, snapshot.versions)
    return _move(client, snapshot, name, alias, version, action="promote", reason=reason, by=who)


def rollback(
    name: str,
    alias: str = CHAMPION,
    *,
    reason: str,
    to_version: str | int | None = None,
    by: str | None = None,
) -> AliasMove:
    """Move ``alias`` back to the version that held it before, and record who and why.

    Introduced in notebook 06 (used again in notebooks 08 and 10). Without ``to_version``, the
    target comes from the history: the version the alias pointed at just before its current
    version was promoted. Rolling back twice therefore walks back through the promotions.

    Args:
        name: the registered model.
        alias: the alias to roll back (default ``champion``).
        reason: why (required, kept in the history).
        to_version: roll back to this version instead of asking the history.
        by: who (see :func:`promote`).

    Returns:
        The recorded :class:`AliasMove` (``action == "rollback"``).

    Raises:
        ValueError: the alias is not set; the history does not say what came before (pass
            ``to_version``); the target version no longer exists or is the current one.
    """
    name, alias, reason = _check_name(name), _check_alias(alias), _check_reason(reason)
    who = _who(by)
    client = _client()
    snapshot = _snapshot(client, name)
    current = snapshot.current.get(alias)
    if current is None:
        raise ValueError(
            f"The registered model {name!r} has no alias {alias!r}: there is nothing to roll "
            "back. Use registry.promote to set it."
        )
    if to_version is None:
        target = None
        for move in reversed(snapshot.moves()):
            if (
                move.alias == alias
                and move.action == "promote"
                and move.version == current
                and move.previous not in (None, current)
            ):
                target = move.previous
                break
        if target is None:
            raise ValueError(
                f"The history of {name!r} does not say which version was {alias!r} before "
                f"version {current} (it was set outside registry.promote, or is the first). "
                "Pass the version to go back to: rollback(..., to_version=...)."
            )
    else:
        target = _check_version(to_version)
        if target == current:
            raise ValueError(f"The alias {alias!r} already points at version {target}.")
    if target not in snapshot.versions:
        raise ValueError(
            f"Cannot roll {alias!r} back to version {target} of {name!r}: that version no "
            "longer exists. Pass another version with to_version=..."
        )
    return _move(client, snapshot, name, alias, target, action="rollback", reason=reason, by=who)


def remove_alias(name: str, alias: str, *, reason: str, by: str | None = None) -> AliasMove:
    """Delete ``alias`` (e.g. the challenger once it is decided), and record who and why.

    Introduced in notebook 06. The version itself stays in the registry.

    Raises:
        ValueError: no such model, or the alias is not set.
    """
    name, alias, reason = _check_name(name), _check_alias(alias), _check_reason(reason)
    who = _who(by)
    client = _client()
    snapshot = _snapshot(client, name)  # _move refuses an alias that is not set
    return _move(client, snapshot, name, alias, None, action="remove", reason=reason, by=who)


def history(name: str, alias: str | None = None) -> list[AliasMove]:
    """The recorded alias moves of ``name``, oldest first; only ``alias``'s if given.

    Introduced in notebook 06. MLflow keeps no history of alias moves; only moves made with
    :func:`promote`, :func:`rollback` and :func:`remove_alias` are recorded, each as a
    model-version tag ``alias_history.<n>`` (see the module's docstring), and every one is kept.
    A move recorded but not completed (the alias did not move) is left out. The moves of an
    older course state, kept in the registered-model tag ``alias_history``, come first.

    Raises:
        ValueError: no registered model ``name``; an unreadable history tag (the message
            names it).
    """
    name = _check_name(name)
    if alias is not None:
        alias = _check_alias(alias)
    moves = _snapshot(_client(), name).moves()
    return [m for m in moves if alias is None or m.alias == alias]


# --------------------------------------------------------------------------- reading back


def lineage(name: str, version: str | int | None = None, *, alias: str | None = None) -> Lineage:
    """Follow a model version back to its run, its data and its code (notebook 06).

    Give either ``version`` or ``alias``.

    Raises:
        TypeError: both or neither of ``version`` and ``alias`` are given.
        ValueError: no such model, version or alias.
    """
    from mlflow.exceptions import MlflowException

    name = _check_name(name)
    if (version is None) == (alias is None):
        raise TypeError("Give either version=... or alias=..., not both and not neither.")
    client = _client()
    if alias is not None:
        alias = _check_alias(alias)
        found = version_of(name, alias)
        if found is None:
            raise ValueError(
                f"The registered model {name!r} has no alias {alias!r}; its aliases are "
                f"{aliases(name) or 'none'}."
            )
        version = found
    mv = _model_version(client, name, _check_version(version))
    run = None
    if mv.run_id:
        try:
            run = client.get_run(mv.run_id)
        except MlflowException as err:
            if not _not_found(err):
                raise
    run_tags = dict(run.data.tags) if run is not None else {}
    version_tags = dict(mv.tags)

    def tag(key: str) -> str | None:
        return version_tags.get(key, run_tags.get(key))

    return Lineage(
        name=name,
        version=str(mv.version),
        aliases=tuple(sorted(mv.aliases)),
        description=mv.description or "",
        source=mv.source,
        run_id=mv.run_id or None,
        run_name=run.info.run_name if run is not None else None,
        experiment_id=run.info.experiment_id if run is not None else None,
        data_fingerprint=tag("data_fingerprint"),
        train_fingerprint=tag("train_fingerprint"),
        code_version=tag("code_version"),
        params=dict(run.data.params) if run is not None else {},
        metrics=dict(run.data.metrics) if run is not None else {},
        tags=version_tags,
    )


def versions_table(
    name: str,
    versions: Iterable[str | int] | None = None,
    metrics: Sequence[str] = ("roc_auc", "cost_per_customer_eur"),
) -> pd.DataFrame:
    """A table of versions of ``name`` with their aliases, run, lineage and metrics.

    Introduced in notebook 06. One row per version (all versions if ``versions`` is None,
    newest first), indexed by version number; the columns are ``aliases``, ``run_name``,
    ``run_id`` (first 8 characters), ``data_fingerprint``, ``code_version``, then one column
    per metric in ``metrics`` (NaN where the run has no such metric).

    Raises:
        ValueError: no such model or version.
    """
    import pandas as pd

    name = _check_name(name)
    if isinstance(metrics, str):
        raise TypeError("metrics must be a list of metric names, e.g. ['roc_auc'].")
    if versions is None:
        client = _client()
        _registered_model(client, name)
        found = client.search_model_versions(f"name = '{_quote(name)}'")
        chosen = sorted((str(mv.version) for mv in found), key=int, reverse=True)
    else:
        chosen = [_check_version(v) for v in versions]
    rows = []
    for version in chosen:
        info = lineage(name, version)
        row: dict[str, Any] = {
            "version": info.version,
            "aliases": ", ".join(info.aliases),
            "run_name": info.run_name,
            "run_id": (info.run_id or "")[:8],
            "data_fingerprint": info.data_fingerprint,
            "code_version": info.code_version,
        }
        for metric in metrics:
            row[metric] = info.metrics.get(metric, float("nan"))
        rows.append(row)
    columns = ["version", "aliases", "run_name", "run_id", "data_fingerprint", "code_version"]
    return pd.DataFrame(rows, columns=[*columns, *metrics]).set_index("version")


# --------------------------------------------------------------------------- figure


def registry_diagram(
    versions: Mapping[str | int, str],
    aliases: Mapping[str, str | int],
    *,
    title: str | None = None,
) -> CourseFigure:
    """Draw model versions as boxes and aliases as labels with arrows to their versions.

    Introduced in notebook 06 (and its slides). Pure drawing: give the versions and aliases,
    e.g. from :func:`lineage` and :func:`aliases`; nothing is read from a server.

    Args:
        versions: ``{version: label}``, drawn left to right in the given order; the label is
            the text in the box (e.g. :attr:`Lineage.label`).
        aliases: ``{alias: version}``. An alias whose version is not drawn is listed under
            the boxes instead of getting an arrow.
        title: the figure's title; default "Registered model: versions and aliases".

    Returns:
        A :class:`utils.figures.CourseFigure` (shows once as the last expression of a cell).

    Raises:
        ValueError: no versions, or more than 8 (the boxes would not fit).
        TypeError: the arguments are not mappings.
    """
    from utils.figures import CourseFigure  # deferred: matplotlib, +492 ms to import registry

    if not isinstance(versions, Mapping) or not isinstance(aliases, Mapping):
        raise TypeError("versions and aliases must be dicts ({version: label}, {alias: version}).")
    boxes = [(_check_version(v), str(label)) for v, label in versions.items()]
    if not boxes:
        raise ValueError("Give at least one version to draw.")
    if len(boxes) > 8:
        raise ValueError(f"At most 8 versions fit in the diagram, got {len(boxes)}.")
    pointers = {_check_alias(a): _check_version(v) for a, v in aliases.items()}

    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    n = len(boxes)
    fig = CourseFigure(figsize=(max(6.0, 2.1 * n + 0.6), 3.0), facecolor="white")
    fig.suptitle(title or "Registered model: versions and aliases", fontsize=11, fontweight="bold")
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.84))
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    ax.axis("off")
    colours = {CHAMPION: "#d55e00", CHALLENGER: "#0072b2"}
    position = {version: i for i, (version, _) in enumerate(boxes)}
    for i, (version, label) in enumerate(boxes):
        box = FancyBboxPatch(
            (i + 0.08, 0.52),
            0.84,
            0.42,
            boxstyle="round,pad=0.0,rounding_size=0.05",
            facecolor="#dbe9f6",
            edgecolor="#4a7ab0",
            linewidth=1.4,
        )
        box.set_gid(f"version:{version}")
        ax.add_patch(box)
        ax.text(i + 0.5, 0.73, label, ha="center", va="center", fontsize=8.5, linespacing=1.2)
    per_box: dict[str, int] = {}
    missing: list[str] = []
    for alias, version in pointers.items():
        if version not in position:
            missing.append(f"{alias} \N{RIGHTWARDS ARROW} version {version} (not shown)")
            continue
        k = per_box.get(version, 0)
        per_box[version] = k + 1
        x = position[version] + 0.5 + [0.0, -0.25, 0.25, -0.4, 0.4][min(k, 4)]
        colour = colours.get(alias, "#555555")
        arrow = FancyArrowPatch(
            (x, 0.22), (x, 0.50), arrowstyle="-|>", mutation_scale=14, color=colour, linewidth=2
        )
        arrow.set_gid(f"alias:{alias}")
        ax.add_patch(arrow)
        ax.text(
            x,
            0.14,
            f"@{alias}",
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            color=colour,
        )
    if missing:
        ax.text(n / 2, 0.02, "; ".join(missing), ha="center", va="bottom", fontsize=8, color="#555")
    return fig


def diagram(
    name: str, versions: Iterable[str | int] | None = None, *, title: str | None = None
) -> CourseFigure:
    """Draw the registered model ``name`` as it is now (notebook 06): the given versions
    (default: the 4 newest), labelled with their run and data, and where every alias points.

    Raises:
        ValueError: no such model or version.
    """
    name = _check_name(name)
    if versions is None:
        client = _client()
        _registered_model(client, name)
        found = client.search_model_versions(f"name = '{_quote(name)}'")
        chosen = sorted((str(mv.version) for mv in found), key=int)[-4:]
    else:
        chosen = [_check_version(v) for v in versions]
    labels = {v: lineage(name, v).label for v in chosen}
    return registry_diagram(labels, aliases(name), title=title or f"Registered model {name}")
