"""Exercise checks of notebook 06 (model registry).

* 06.1: a function of a registered model's name that returns the run behind its champion
  (follow the alias to its version, the version to its run);
* 06.2: a function of a registered model's name that returns the data its challenger was
  trained on (its lineage tag ``data_fingerprint``);
* 06.3: roll the champion back after a mistaken promotion (checked by reading the registry).

Every check reads the expected answer from the tracking server itself, through
:mod:`utils.registry`. The checks of 06.1 and 06.2 call the student's function, then point the
alias at another version for a moment (and back) and call it again: a function that returns a
value copied from the notebook gives the same answer both times, one that asks the registry does
not. :func:`utils.checks.check` imports this module the first time a 06
exercise is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from utils import registry
from utils.checks import CORRECT, INCORRECT, Status, function_answer_problem, register

__all__: list[str] = []

NOTEBOOK = "06_model_registry"


def _type_name(answer: object) -> str:
    return type(answer).__name__


def _version_text(answer: object) -> str | None:
    """The version number in ``answer`` (int, digits, ModelVersion, AliasMove), else None."""
    raw = getattr(answer, "version", answer)
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and raw >= 1:
        return str(raw)
    if isinstance(raw, str) and raw.strip().isdigit() and int(raw) >= 1:
        return str(int(raw))
    return None


def _check_model_name(name: object, exercise: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"Exercise {exercise} needs the registered model's name as name=MODEL.")
    return name


def _lineage_or_none(name: str, alias: str) -> registry.Lineage | None:
    if registry.version_of(name, alias) is None:
        return None
    return registry.lineage(name, alias=alias)


def _other_version(
    name: str, alias: str, differs: Callable[[registry.Lineage], bool]
) -> str | None:
    """A version of ``name`` that ``alias`` does not point at and for which ``differs``."""
    from mlflow import MlflowClient

    current = registry.version_of(name, alias)
    for version in MlflowClient().search_model_versions(f"name='{name}'"):
        if str(version.version) != current and differs(registry.lineage(name, version.version)):
            return str(version.version)
    return None


def _call_with_alias_at(
    function: Callable[[str], object], name: str, alias: str, version: str
) -> tuple[object, BaseException | None]:
    """Call ``function(name)`` while ``alias`` points at ``version``; then put it back."""
    from mlflow import MlflowClient

    client = MlflowClient()
    current = registry.version_of(name, alias)
    client.set_registered_model_alias(name, alias, version)
    try:
        return function(name), None
    except Exception as error:  # noqa: BLE001 - any error in student code is reported
        return None, error
    finally:
        if current is None:
            client.delete_registered_model_alias(name, alias)
        else:
            client.set_registered_model_alias(name, alias, current)


def _call(function: Callable[[str], object], name: str) -> tuple[object, BaseException | None]:
    try:
        return function(name), None
    except Exception as error:  # noqa: BLE001 - any error in student code is reported
        return None, error


def _answer_of_function(
    answer: object, name: str, *, expected: str, what: str, example: str
) -> tuple[tuple[Status, str] | None, object]:
    """The first checks of 06.1 and 06.2, which ask for a function of the registered model's
    name that reads ``what`` from the registry: (a problem, None), or (None, its answer for
    ``name``). ``example`` is how the notebook calls it."""
    problem = function_answer_problem(answer, "function", f"return {what}")
    if problem is not None:
        if isinstance(answer, str) and answer.strip() == expected:
            return (
                INCORRECT,
                f"That is {what}, but as a value: give a function of the registered model's "
                "name that reads it from the registry each time it is called.",
            ), None
        return problem, None
    value, error = _call(answer, name)  # type: ignore[arg-type]
    if error is not None:
        return (
            INCORRECT,
            f"Your function raised {type(error).__name__}: {error}. It receives the "
            f"registered model's name, e.g. {example}.",
        ), None
    return None, value


# ---------------------------------------------------------------------------------------------
# 06.1 The run behind the champion
# ---------------------------------------------------------------------------------------------


@register("06.1", NOTEBOOK, "The run behind the champion", needs=("name",))
def _check_champion_run(answer: object, *, name: str) -> tuple[Status, str]:
    name = _check_model_name(name, "06.1")
    champion = _lineage_or_none(name, registry.CHAMPION)
    if champion is None or champion.run_id is None:
        return INCORRECT, (
            "The registered model has no champion with a run right now: run the cells of "
            "section 4 again (they set the champion alias), then this one."
        )
    run_id = champion.run_id
    answer_function = answer
    problem, answer = _answer_of_function(
        answer,
        name,
        expected=run_id,
        what="the champion's run ID",
        example="champion_run_id(MODEL)",
    )
    if problem is not None:
        return problem
    info = getattr(answer, "info", None)
    if getattr(info, "run_id", None) is not None:
        return INCORRECT, "That is the whole run. Its ID is in run.info.run_id."
    if hasattr(answer, "run_id") and hasattr(answer, "version"):
        return INCORRECT, "That is the model version itself. The run's ID is in its .run_id."
    if not isinstance(answer, str):
        return INCORRECT, (
            f"Your answer is a {_type_name(answer)}; a run ID is a string of 32 hex digits, "
            "e.g. the .run_id of the champion's model version."
        )
    text = answer.strip()
    if text == run_id:
        other = _other_version(name, registry.CHAMPION, lambda lin: lin.run_id != run_id)
        if other is not None:
            moved, error = _call_with_alias_at(answer_function, name, registry.CHAMPION, other)
            expected = registry.lineage(name, other).run_id
            if error is not None or not isinstance(moved, str) or moved.strip() != expected:
                return INCORRECT, (
                    f"With the champion alias moved to version {other} for a moment, your "
                    f"function still answered {moved!r:.40}, not that version's run: it returns "
                    "a value copied from the notebook. Read the alias from the registry inside "
                    "the function."
                )
        return CORRECT, (
            f"The champion, version {champion.version}, was produced by the run "
            f"{champion.run_name!r} ({run_id[:8]}...): alias -> version -> run. Your function "
            "follows the alias wherever it points."
        )
    if _version_text(text) == champion.version:
        return INCORRECT, (
            "That is the champion's version number. Follow it one step further: the model "
            "version's .run_id names the run."
        )
    if text == champion.source or text.startswith(("models:/", "m-")):
        return INCORRECT, (
            "That identifies the logged model, not the run. The model version's .run_id "
            "names the run that logged it."
        )
    challenger = _lineage_or_none(name, registry.CHALLENGER)
    if challenger is not None and text == challenger.run_id:
        return INCORRECT, "That is the run of the challenger. Read the alias 'champion'."
    return INCORRECT, (
        "That is not the champion's run. Ask the registry: "
        "client.get_model_version_by_alias(MODEL, 'champion').run_id."
    )


# ---------------------------------------------------------------------------------------------
# 06.2 The data behind the challenger
# ---------------------------------------------------------------------------------------------


@register("06.2", NOTEBOOK, "The data behind the challenger", needs=("name",))
def _check_challenger_data(answer: object, *, name: str) -> tuple[Status, str]:
    name = _check_model_name(name, "06.2")
    challenger = _lineage_or_none(name, registry.CHALLENGER)
    if challenger is None or not challenger.data_fingerprint:
        return INCORRECT, (
            "The registered model has no challenger with a data fingerprint right now: run "
            "the cells of section 4 again (they set the challenger alias), then this one."
        )
    expected = challenger.data_fingerprint
    answer_function = answer
    problem, answer = _answer_of_function(
        answer,
        name,
        expected=expected,
        what="the challenger's data fingerprint",
        example="challenger_data(MODEL)",
    )
    if problem is not None:
        return problem
    if not isinstance(answer, str):
        return INCORRECT, (
            f"Your answer is a {_type_name(answer)}; a data fingerprint is a string of 16 hex "
            "digits, e.g. the tag 'data_fingerprint' of the challenger's model version."
        )
    text = answer.strip()
    if text == expected:
        other = _other_version(
            name, registry.CHALLENGER, lambda lin: lin.data_fingerprint not in (None, expected)
        )
        if other is not None:
            moved, error = _call_with_alias_at(answer_function, name, registry.CHALLENGER, other)
            fingerprint = registry.lineage(name, other).data_fingerprint
            if error is not None or not isinstance(moved, str) or moved.strip() != fingerprint:
                return INCORRECT, (
                    f"With the challenger alias moved to version {other} for a moment, your "
                    f"function still answered {moved!r:.40}, not that version's fingerprint: it "
                    "returns a value copied from the notebook. Read the alias from the registry "
                    "inside the function."
                )
        return CORRECT, (
            f"Version {challenger.version} (the challenger) was trained on the data with the "
            f"fingerprint {expected}: compute the fingerprint of a data snapshot and you can "
            "tell whether it is that data."
        )
    if text == challenger.train_fingerprint:
        return INCORRECT, (
            "That is the fingerprint of the training split only. The tag data_fingerprint "
            "names the whole data snapshot given to training.train."
        )
    champion = _lineage_or_none(name, registry.CHAMPION)
    if champion is not None and text == champion.data_fingerprint:
        return INCORRECT, "That is the data of the champion. Read the alias 'challenger'."
    if text == challenger.run_id or text == challenger.version:
        return INCORRECT, (
            "That identifies the run or the version. The fingerprint is one of the version's "
            "tags: .tags['data_fingerprint']."
        )
    return INCORRECT, (
        "That is not the challenger's data fingerprint. Ask the registry: "
        "client.get_model_version_by_alias(MODEL, 'challenger').tags['data_fingerprint']."
    )


# ---------------------------------------------------------------------------------------------
# 06.3 Roll back a mistaken promotion
# ---------------------------------------------------------------------------------------------


def _promoted_before(name: str, bad_version: str) -> str | None:
    """The version that was champion before ``bad_version`` was last promoted to champion.

    A promotion of ``bad_version`` while it was already champion (the cell run twice) is
    skipped, as :func:`utils.registry.rollback` skips it.
    """
    for move in reversed(registry.history(name, registry.CHAMPION)):
        if (
            move.action == "promote"
            and move.version == bad_version
            and move.previous not in (None, bad_version)
        ):
            return move.previous
    return None


@register("06.3", NOTEBOOK, "Roll back the champion", needs=("name", "bad_version"))
def _check_rollback(answer: object, *, name: str, bad_version: Any) -> tuple[Status, str]:
    name = _check_model_name(name, "06.3")
    bad = _version_text(bad_version)
    if bad is None:
        raise TypeError("Exercise 06.3 needs the mistakenly promoted version as bad_version=...")
    good = _promoted_before(name, bad)
    if good is None:
        return INCORRECT, (
            f"The history has no promotion of version {bad} to champion: run the cell above "
            "the exercise (the mistaken promotion) first, then your rollback."
        )
    current = registry.version_of(name, registry.CHAMPION)
    given = _version_text(answer)
    if given is None:
        return INCORRECT, (
            f"Your answer is a {_type_name(answer)} ({answer!r:.40}); give the version number "
            "the champion alias points at after your move, read back from the registry, e.g. "
            "registry.version_of(MODEL, 'champion')."
        )
    if current == bad:
        return INCORRECT, (
            f"The registry still says champion -> version {bad}, the mistaken one. Move the "
            "alias: registry.rollback(MODEL, reason=...) (or client.set_registered_model_alias)."
        )
    if current != good:
        where = "is not set" if current is None else f"points at version {current}"
        return INCORRECT, (
            f"The champion alias {where}, but it should go back to the version that was "
            f"champion just before version {bad} was promoted. registry.history(MODEL) shows "
            "it (the 'previous' of that promotion)."
        )
    if given != current:
        return INCORRECT, (
            f"The registry says champion -> version {current}, your answer says {given}. "
            "Read the answer back from the registry after the move."
        )
    last = registry.history(name, registry.CHAMPION)[-1]
    recorded = last.action == "rollback" and last.version == current
    note = (
        f" The history records it: {last.by}, {last.reason!r}."
        if recorded
        else " The alias moved without a record of who and why: registry.rollback keeps one."
    )
    return CORRECT, (
        f"Rolled back: models:/{name}@champion loads version {current} again, with no "
        f"retraining and no change to the code that loads it.{note}"
    )
