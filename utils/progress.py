"""Exercise progress a student and an instructor can see: every check a student makes, recorded.

Each :func:`utils.checks.check` a student runs in a notebook records its outcome: the exercise
id, the status (*incorrect* or *correct*; an exercise never checked is *not attempted*), the
time, and the number of attempts, counted as *distinct answers* (a salted hash of each answer,
so rerunning the same cell is not a new attempt). The answer itself is never stored or sent.

Where it goes:

* **Locally**, always: one small file in the state folder, :data:`PROGRESS_FILE` (written
  atomically under a file lock, so two notebooks checking at once lose nothing). It survives
  ``make clean`` (:func:`utils.tracking.clean_state` keeps it) and a course update.
* **On the class server**, when ``MLFLOW_TRACKING_URI`` points at one with an account
  (``MLFLOW_TRACKING_USERNAME``): as tags of one run named ``progress`` in the experiment
  ``<user>-progress``, which ``python -m utils.classroom add-students`` creates for every
  student, readable by that student and the instructor only. The upload runs in the
  background after the local write, so a slow or stopped server never blocks or breaks the
  cell; a failed upload is retried by the next check (the whole record is sent each time).

What is *not* recorded: checks outside a notebook kernel (tests, scripts), the hidden solution
cells (their first line is :data:`SOLUTION_HEADER`; they prove that the reference answer
passes, which says nothing about the student), placeholders (``...``), and anything at all when
the environment variable :data:`SWITCH_ENV` is ``off`` (the course's own test runs set it).

``python -m utils progress`` prints the student's own table; ``--delete`` forgets it, locally
and on the class server. Introduced in notebook 00 (``00_start_here``).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import pickle
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import requests

from utils.paths import repo_root, state_dir

__all__ = [
    "EXPERIMENT_SUFFIX",
    "PROGRESS_FILE",
    "RUN_NAME",
    "SOLUTION_HEADER",
    "SWITCH_ENV",
    "Outcome",
    "answer_digest",
    "delete",
    "exercise_ids",
    "experiment_name",
    "load",
    "outcomes_from_tags",
    "record",
    "recording_enabled",
    "running_cell",
    "save_outcome",
    "sync",
    "table",
    "tags_for",
]

PROGRESS_FILE = "progress.json"
SWITCH_ENV = "MLOPS_COURSE_PROGRESS"
SOLUTION_HEADER = "# Solution to exercise"
EXPERIMENT_SUFFIX = "-progress"
RUN_NAME = "progress"
TAG_PREFIX = "exercise."
#: The answer hashes kept per exercise to tell a new answer from a rerun; later answers still
#: count as attempts, compared with the last ones kept.
MAX_HASHES = 200
#: Seconds the upload waits for the class server, per request.
SERVER_TIMEOUT = 5.0
_FORMAT = 1

INCORRECT = "incorrect"
CORRECT = "correct"
NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class Outcome:
    """What is known of one exercise for one student."""

    exercise: str
    status: str  # the last check's: "incorrect" or "correct"
    attempts: int  # distinct answers checked
    first: str  # UTC times, ISO 8601 to the second
    last: str
    solved: str | None  # when it was first correct, or None

    @property
    def label(self) -> str:
        """``solved``, ``tried`` (checked, never correct) or ``not attempted``."""
        if self.solved:
            return "solved"
        return "tried" if self.attempts else NOT_ATTEMPTED


# --------------------------------------------------------------------------- when to record


def running_cell() -> str | None:
    """The source of the notebook cell running now, or None outside a Jupyter kernel.

    The one test of "are we in a notebook" in the course: a status line that updates in
    place (:class:`utils.delivery.ModelServer`), a progress widget
    (:func:`utils.experiments.run_sweep`) and the recording of exercise outcomes
    (:func:`recording_enabled`) all ask it. An IPython terminal is not a notebook (no kernel).
    """
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return None
    shell = ipython_module.get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    try:
        return str(kernel.get_parent()["content"]["code"])
    except (AttributeError, KeyError, TypeError):
        history = shell.user_ns.get("_ih") or [""]
        return str(history[-1])


def recording_enabled() -> bool:
    """True in a student's notebook cell: a kernel, not a solution cell, not switched off."""
    if os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return False
    source = running_cell()
    if source is None:
        return False
    return not source.lstrip().startswith(SOLUTION_HEADER)


# --------------------------------------------------------------------------- the local record


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _path(state: Path | None) -> Path:
    return (state or state_dir()) / PROGRESS_FILE


def _empty() -> dict[str, Any]:
    return {"format": _FORMAT, "salt": secrets.token_hex(16), "exercises": {}, "changes": 0}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _empty()
    except (OSError, ValueError):
        # A damaged file is kept beside the new one, never silently overwritten.
        with contextlib.suppress(OSError):
            path.replace(path.with_name(f"{path.name}.damaged-{int(time.time())}"))
        return _empty()
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
        return _empty()
    data.setdefault("salt", secrets.token_hex(16))
    data.setdefault("changes", 0)
    return data


@contextlib.contextmanager
def _locked(state: Path | None) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The record, read under the lock; written back atomically when the block ends."""
    path = _path(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(path) + ".lock", timeout=10):
        data = _read(path)
        before = json.dumps(data, sort_keys=True)
        yield path, data
        if json.dumps(data, sort_keys=True) != before:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(path)


def _canonical(answer: object) -> bytes:
    """Bytes that are equal for equal answers, for the kinds of answers the exercises take."""
    try:
        import numpy as np
        import pandas as pd

        if isinstance(answer, pd.DataFrame | pd.Series):
            rows = pd.util.hash_pandas_object(answer, index=True).to_numpy().tobytes()
            names = repr(list(answer.columns) if isinstance(answer, pd.DataFrame) else answer.name)
            return b"pandas" + rows + names.encode()
        if isinstance(answer, np.ndarray):
            return f"{answer.dtype}{answer.shape}".encode() + answer.tobytes()
    except (ImportError, TypeError, ValueError):
        pass
    if callable(answer) and hasattr(answer, "__code__"):
        try:
            return inspect.getsource(answer).encode()
        except (OSError, TypeError):
            code = answer.__code__
            return code.co_code + repr(code.co_consts).encode()
    text = repr(answer)
    if " at 0x" in text:  # a default repr names a memory address, new on every run
        with contextlib.suppress(Exception):
            return pickle.dumps(answer)
    return text.encode()


def answer_digest(answer: object, salt: str) -> str:
    """A salted hash of an answer: equal answers give equal digests, and it cannot be reversed.

    The salt is the student's own (kept in their record), so even a short answer such as a
    number cannot be looked up from its digest.
    """
    digest = hashlib.sha256(salt.encode())
    digest.update(_canonical(answer))
    return digest.hexdigest()[:20]


def save_outcome(exercise: str, status: str, answer: object, state: Path | None = None) -> Outcome:
    """Add one checked answer to the local record and return the exercise's outcome."""
    if status not in (CORRECT, INCORRECT):
        raise ValueError(f"status must be 'correct' or 'incorrect', got {status!r}")
    with _locked(state) as (_, data):
        entry = data["exercises"].setdefault(
            exercise, {"attempts": 0, "hashes": [], "first": _now(), "solved": None}
        )
        digest = answer_digest(answer, data["salt"])
        if digest not in entry["hashes"]:
            entry["attempts"] += 1
            entry["hashes"] = [*entry["hashes"], digest][-MAX_HASHES:]
        entry["status"] = status
        entry["last"] = _now()
        if status == CORRECT and not entry.get("solved"):
            entry["solved"] = entry["last"]
        data["changes"] = int(data.get("changes", 0)) + 1
        return _outcome(exercise, entry)


def _outcome(exercise: str, entry: Mapping[str, Any]) -> Outcome:
    return Outcome(
        exercise,
        str(entry.get("status", INCORRECT)),
        int(entry.get("attempts", 0)),
        str(entry.get("first", "")),
        str(entry.get("last", "")),
        entry.get("solved") or None,
    )


def load(state: Path | None = None) -> dict[str, Outcome]:
    """The student's local record: exercise id -> :class:`Outcome`."""
    data = _read(_path(state))
    return {k: _outcome(k, v) for k, v in sorted(data["exercises"].items())}


def record(exercise: str, status: str, answer: object) -> None:
    """What :func:`utils.checks.check` calls after every check; never raises.

    Saves the outcome locally when :func:`recording_enabled` and uploads the record to the
    class server in the background.
    """
    if status not in (CORRECT, INCORRECT):
        return
    try:
        if not recording_enabled():
            return
        save_outcome(exercise, status, answer)
        sync(background=True)
    except Exception as err:  # noqa: BLE001 - a progress record must never break a check
        print(f"(progress not recorded: {err})", file=sys.stderr)


# --------------------------------------------------------------------------- the class server


def experiment_name(username: str) -> str:
    """The experiment that holds a student's progress on the class server."""
    return f"{username}{EXPERIMENT_SUFFIX}"


def tags_for(outcomes: Mapping[str, Outcome]) -> dict[str, str]:
    """The run tags that carry a record to the server (no answers, no hashes)."""
    tags = {}
    for ex, o in outcomes.items():
        base = f"{TAG_PREFIX}{ex}."
        tags |= {base + "status": o.status, base + "attempts": str(o.attempts)}
        tags |= {base + "first": o.first, base + "last": o.last, base + "solved": o.solved or ""}
    return tags


def outcomes_from_tags(tags: Mapping[str, str]) -> dict[str, Outcome]:
    """Read back what :func:`tags_for` wrote (other tags are ignored)."""
    fields: dict[str, dict[str, str]] = {}
    for key, value in tags.items():
        if key.startswith(TAG_PREFIX) and key.count(".") >= 2:
            exercise, _, field = key[len(TAG_PREFIX) :].rpartition(".")
            fields.setdefault(exercise, {})[field] = value
    outcomes = {}
    for exercise, f in sorted(fields.items()):
        try:
            attempts = int(f.get("attempts", "0"))
        except ValueError:
            attempts = 0
        outcomes[exercise] = Outcome(
            exercise,
            f.get("status", INCORRECT),
            attempts,
            f.get("first", ""),
            f.get("last", ""),
            f.get("solved") or None,
        )
    return outcomes


@dataclass(frozen=True)
class _Server:
    url: str
    username: str
    password: str

    def call(self, method: str, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": payload} if method == "GET" else {"json": payload}
        response = requests.request(
            method,
            f"{self.url.rstrip('/')}/api/2.0/mlflow/{endpoint}",
            auth=(self.username, self.password),
            timeout=SERVER_TIMEOUT,
            **kwargs,
        )
        if response.status_code == 404:
            return {}
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()


def _class_server() -> _Server | None:
    url = os.environ.get("MLFLOW_TRACKING_URI", "")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "")
    if not url.startswith(("http://", "https://")) or not user:
        return None
    return _Server(url, user, os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))


def _progress_run(server: _Server, create: bool) -> str | None:
    """The id of the student's progress run (created if ``create``), or None."""
    found = server.call(
        "GET", "experiments/get-by-name", {"experiment_name": experiment_name(server.username)}
    )
    if not found:
        raise RuntimeError(
            f"the class server has no experiment {experiment_name(server.username)!r}; "
            "ask the instructor to run `python -m utils.classroom add-students` again"
        )
    experiment_id = found["experiment"]["experiment_id"]
    runs = server.call(
        "POST",
        "runs/search",
        {
            "experiment_ids": [experiment_id],
            "filter": f"attributes.run_name = '{RUN_NAME}'",
            "max_results": 1,
        },
    ).get("runs", [])
    if runs:
        return str(runs[0]["info"]["run_id"])
    if not create:
        return None
    body = {"experiment_id": experiment_id, "run_name": RUN_NAME, "start_time": _ms()}
    return str(server.call("POST", "runs/create", body)["run"]["info"]["run_id"])


def _ms() -> int:
    return int(time.time() * 1000)


_SYNC_LOCK = threading.Lock()


def sync(background: bool = False, state: Path | None = None) -> str:
    """Upload the local record to the class server; return what happened, in one line.

    With ``background`` it returns at once and uploads in a daemon thread (one at a time: a
    check made meanwhile is sent by the same thread before it ends). Without a class server
    configured it does nothing. A failure is written to the record and retried next time.
    """
    server = _class_server()
    if server is None:
        return "no class server configured: the record is local only"
    if background:
        if _SYNC_LOCK.locked():
            return "an upload is running; it sends this check too"
        threading.Thread(target=_sync_loop, args=(server, state), daemon=True).start()
        return "uploading in the background"
    return _sync_loop(server, state)


def _sync_loop(server: _Server, state: Path | None) -> str:
    if not _SYNC_LOCK.acquire(blocking=False):
        return "an upload is running; it sends this check too"
    try:
        for _ in range(5):
            data = _read(_path(state))
            if data.get("synced_changes") == data.get("changes"):
                return "the class server has the whole record"
            try:
                run_id = _progress_run(server, create=True)
                outcomes = {k: _outcome(k, v) for k, v in data["exercises"].items()}
                tags = [{"key": k, "value": v} for k, v in tags_for(outcomes).items()]
                for start in range(0, len(tags), 100):
                    batch = {"run_id": run_id, "tags": tags[start : start + 100]}
                    server.call("POST", "runs/log-batch", batch)
            except (requests.RequestException, RuntimeError, KeyError, ValueError) as err:
                message = f"upload to {server.url} failed at {_now()}: {err}"
                with _locked(state) as (_, current):
                    current["sync_error"] = message
                return message
            with _locked(state) as (_, current):
                current["synced_changes"] = data.get("changes")
                current["synced_at"] = _now()
                current.pop("sync_error", None)
        return "uploaded; checks made meanwhile go with the next upload"
    finally:
        _SYNC_LOCK.release()


def delete(state: Path | None = None) -> list[str]:
    """Forget the student's record: the local file and the progress run on the class server."""
    done = []
    path = _path(state)
    server = _class_server()
    if server is not None:
        try:
            run_id = _progress_run(server, create=False)
            if run_id:
                server.call("POST", "runs/delete", {"run_id": run_id})
                done.append(f"deleted the progress run on {server.url}")
        except (requests.RequestException, RuntimeError) as err:
            done.append(f"could not delete the record on {server.url}: {err}")
    if path.exists():
        path.unlink()
        done.append(f"deleted {path}")
    return done or ["there was no progress record"]


# --------------------------------------------------------------------------- the tables


def exercise_ids() -> list[str]:
    """Every exercise of the course, from the notebooks' solution cells (nothing imported)."""
    found = set()
    for path in sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                source = "".join(cell.get("source", ""))
                if source.startswith(SOLUTION_HEADER):
                    found.add(source[len(SOLUTION_HEADER) :].split()[0])
    return sorted(found)


def table(outcomes: Mapping[str, Outcome], known: list[str] | None = None) -> str:
    """The student's table: a line per notebook, each exercise as solved / tried / not attempted."""
    ids = known if known is not None else exercise_ids()
    ids = sorted(set(ids) | set(outcomes))
    lines = ["notebook  exercises (attempts = distinct answers checked)"]
    for notebook in sorted({i[:2] for i in ids}):
        cells = []
        for ex in (i for i in ids if i[:2] == notebook):
            o = outcomes.get(ex)
            cells.append(
                f"{ex} {o.label} ({o.attempts} attempt{'s' * (o.attempts != 1)})"
                if o
                else f"{ex} not attempted"
            )
        lines.append(f"{notebook}        " + " | ".join(cells))
    solved = sum(1 for o in outcomes.values() if o.solved)
    tried = sum(1 for o in outcomes.values() if not o.solved)
    lines.append(
        f"solved {solved} of {len(ids)} exercises; tried {tried}; "
        f"not attempted {len(ids) - solved - tried}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m utils progress [--delete [--yes]] [--sync]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m utils progress")
    parser.add_argument("--sync", action="store_true", help="upload to the class server now")
    parser.add_argument("--delete", action="store_true", help="forget your record")
    parser.add_argument("--yes", action="store_true", help="with --delete: do not ask")
    args = parser.parse_args(argv)
    if args.delete:
        if not args.yes:
            if not sys.stdin.isatty():
                print("error: --delete asks first; without a terminal add --yes.", file=sys.stderr)
                return 2
            answer = input("Delete your exercise progress, here and on the class server? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Kept your progress record.")
                return 0
        for line in delete():
            print(line)
        return 0
    if args.sync:
        print(sync())
    print(table(load()))
    data = _read(_path(None))
    if _class_server() is not None:
        print(data.get("sync_error") or f"class server: up to date at {data.get('synced_at')}")
    print(f"(kept in {_path(None)}; nothing of your answers is stored, only a salted hash)")
    return 0
