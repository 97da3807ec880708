"""Hidden technical debt in ML systems, measured and demonstrated on the course's churn service.

Notebook 02 (``02_hidden_technical_debt``) teaches from D. Sculley et al., *Hidden Technical Debt
in Machine Learning Systems* (NeurIPS 2015). This module holds the machinery behind its
measurements and demonstrations, each tied to a kind of debt the paper names:

* **How much is ML code?** :func:`count_logical_lines` counts the logical source lines of Python
  code (no comments, docstrings or blank lines); :func:`measure_components` applies it to the
  modules of :mod:`utils.service`, grouped by the components of the paper's Figure 1, and
  :func:`ml_share_readings` shows how the share moves with what one counts as ML code.
* **Entanglement (CACE, "Changing Anything Changes Everything")**: :func:`cace_experiment`
  changes one input or adds one feature and measures how every other weight and the
  predictions move.
* **Glue code**: :func:`glued_reasons` explains predictions by reaching into scikit-learn's
  internals and breaks when the estimator is swapped.
* **Pipeline jungles**: :func:`jungle_prepare` prepares training data through intermediate files
  that it "caches", and silently serves last week's data.
* **Dead experimental codepaths**: :func:`simulate_trading` replays, as a toy, how a reused flag
  re-activates obsolete code on one server of a trading system (the paper cites Knight Capital's
  loss of $465 million in 45 minutes), with and without guards.
* **Configuration debt**: :func:`loose_settings` reads settings the fragile way.
* **Direct feedback loops**: :func:`feedback_loop` lets the model's offers shape its own next
  training labels, round after round.

Functions whose docstring starts with "Anti-pattern" are written badly on purpose: they are the
debt the notebook shows. Importing this module has no side effects.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from utils.datasets import CHURN_TARGET, ChurnCosts, churn_logit
from utils.service.config import ServiceConfig
from utils.service.data import collect
from utils.service.features import build_features
from utils.service.model import ChurnModel
from utils.service.resources import limit_threads

# ---------------------------------------------------------------------------------------------
# Counting logical lines of code
# ---------------------------------------------------------------------------------------------

_SKIPPED_TOKENS = {
    tokenize.NL,
    tokenize.COMMENT,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


@dataclass(frozen=True)
class LineBreakdown:
    """How the lines of a piece of Python source split up (see :func:`line_breakdown`).

    Attributes:
        physical: lines in the text, as an editor numbers them.
        blank: lines holding only whitespace.
        comment: lines holding only a comment.
        docstring: logical lines that are docstrings (of the module, a class or a function).
        logical: logical lines of code: statements and clause headers, each counted once however
            many physical lines it spans; docstrings, comments and blank lines are not counted.
    """

    physical: int
    blank: int
    comment: int
    docstring: int
    logical: int


def _docstring_starts(tree: ast.AST) -> set[tuple[int, int]]:
    starts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                starts.add((body[0].lineno, body[0].col_offset))
    return starts


def line_breakdown(source: str) -> LineBreakdown:
    """Split Python source into physical, blank, comment, docstring and logical lines.

    A *logical line* is what Python's tokenizer ends with a NEWLINE token: one simple statement
    (or several joined by ``;``), or the header of a compound statement (``def``, ``if``,
    ``for``, ...) with any statement on the same line. A statement continued over several
    physical lines (inside brackets or after a backslash) counts once; a decorator line counts.
    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        TypeError: ``source`` is not a string.
        ValueError: ``source`` is not valid Python (the message gives the line).
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a string of Python code, got {type(source).__name__}.")
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError) as error:
        raise ValueError(f"Not valid Python source: {error}") from None
    docstrings = _docstring_starts(tree)
    logical, docstring, start = 0, 0, None
    code_rows: set[int] = set()
    for token in tokens:
        if token.type == tokenize.NEWLINE:
            if start is not None:
                if start in docstrings:
                    docstring += 1
                else:
                    logical += 1
            start = None
        elif token.type not in _SKIPPED_TOKENS:
            if start is None:
                start = token.start
            code_rows.update(range(token.start[0], token.end[0] + 1))
    lines = source.splitlines()
    blank = sum(1 for line in lines if not line.strip())
    comment = sum(
        1
        for number, line in enumerate(lines, start=1)
        if line.strip().startswith("#") and number not in code_rows
    )
    return LineBreakdown(len(lines), blank, comment, docstring, logical)


def count_logical_lines(source: str) -> int:
    """Count the logical lines of code in Python source: no comments, docstrings or blank lines.

    ``count_logical_lines("x = [1,\\n     2]  # a list\\n")`` is 1. See :func:`line_breakdown`
    for the exact rule. Introduced in notebook 02 (``02_hidden_technical_debt``) to measure how
    much of a service is ML code.

    Raises:
        TypeError: ``source`` is not a string.
        ValueError: ``source`` is not valid Python.
    """
    return line_breakdown(source).logical


def count_file_lines(path: str | Path) -> int:
    """Count the logical lines of code of one Python file (see :func:`count_logical_lines`).

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not valid Python.
    """
    path = Path(path)
    try:
        return count_logical_lines(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def measure_components(files: Mapping[str, Sequence[str | Path]]) -> pd.DataFrame:
    """Count the logical lines of code of each component of a system.

    Introduced in notebook 02 (``02_hidden_technical_debt``), where ``files`` is
    :func:`utils.service.component_files`.

    Args:
        files: component name -> the Python files that implement it.

    Returns:
        One row per component, largest first, with the columns ``component``, ``files``
        (comma-separated file names), ``logical_lines`` and ``share`` (of all counted lines,
        0 to 1).

    Raises:
        TypeError: ``files`` is not a mapping of names to lists of paths.
        ValueError: no files, or no line of code at all.
    """
    if not isinstance(files, Mapping):
        raise TypeError(
            f"files must map component names to file lists, got {type(files).__name__}."
        )
    rows = []
    for component, paths in files.items():
        if isinstance(paths, str | Path) or not isinstance(paths, Sequence):
            raise TypeError(f"The files of {component!r} must be a list of paths, got {paths!r}.")
        rows.append(
            {
                "component": component,
                "files": ", ".join(Path(p).name for p in paths),
                "logical_lines": sum(count_file_lines(p) for p in paths),
            }
        )
    table = pd.DataFrame(rows, columns=["component", "files", "logical_lines"])
    total = int(table["logical_lines"].sum())
    if total == 0:
        raise ValueError("No line of code was counted: give at least one non-empty Python file.")
    table["share"] = table["logical_lines"] / total
    return table.sort_values("logical_lines", ascending=False, kind="stable").reset_index(drop=True)


def count_definition_lines(path: str | Path, names: Sequence[str]) -> int:
    """Count the logical lines of the named top-level functions and classes of a Python file.

    Introduced in notebook 02 (``02_hidden_technical_debt``) to see how much of the service's
    serving module is its hand-rolled HTTP server (``ServiceServer`` and ``serve``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a name is not a top-level function or class of the file.
    """
    path = Path(path)
    source = path.read_text(encoding="utf-8")
    found = {
        node.name: node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    missing = sorted(set(names) - set(found))
    if missing:
        raise ValueError(f"{path.name} has no top-level function or class {missing}.")
    lines = source.splitlines()
    total = 0
    for name in dict.fromkeys(names):
        node = found[name]
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        total += count_logical_lines("\n".join(lines[first - 1 : node.end_lineno]) + "\n")
    return total


def ml_share_readings(
    lines: pd.DataFrame, readings: Mapping[str, tuple[Sequence[str], int]]
) -> pd.DataFrame:
    """The share of ML code under several readings of what counts as ML code.

    Introduced in notebook 02 (``02_hidden_technical_debt``): the share measured on one system
    depends on what one counts, so the notebook shows it under several readings.

    Args:
        lines: the table of :func:`measure_components` (``component`` and ``logical_lines``).
        readings: name of the reading -> (the components counted as ML code, logical lines
            taken out of the whole system, e.g. code a library would provide instead).

    Returns:
        One row per reading, in the given order: ``reading``, ``ml_lines``, ``all_lines`` and
        ``ml_share`` (0 to 1).

    Raises:
        ValueError: a reading names a component that ``lines`` does not have, or takes out
            more lines than the system minus its ML code has.
    """
    by_component = lines.set_index("component")["logical_lines"]
    total = int(by_component.sum())
    rows = []
    for name, (components, taken_out) in readings.items():
        unknown = sorted(set(components) - set(by_component.index))
        if unknown:
            raise ValueError(f"Reading {name!r}: no component {unknown} in the table.")
        ml_lines = int(by_component[list(dict.fromkeys(components))].sum())
        if not 0 <= taken_out <= total - ml_lines:
            raise ValueError(f"Reading {name!r}: cannot take out {taken_out} of {total} lines.")
        all_lines = total - int(taken_out)
        rows.append(
            {
                "reading": name,
                "ml_lines": ml_lines,
                "all_lines": all_lines,
                "ml_share": ml_lines / all_lines,
            }
        )
    return pd.DataFrame(rows, columns=["reading", "ml_lines", "all_lines", "ml_share"])


# ---------------------------------------------------------------------------------------------
# Entanglement: CACE, "Changing Anything Changes Everything"
# ---------------------------------------------------------------------------------------------


def model_weights(model: ChurnModel) -> pd.Series:
    """The weights of a fitted logistic-regression :class:`~utils.service.model.ChurnModel`.

    Numeric features: log-odds per standard deviation. Categorical features: one weight per
    level except the first, relative to the first level (``"contract=one-year"`` is the
    difference from month-to-month), because one-hot weights are only defined up to a shift
    shared by all levels of a feature. Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: the model is not a fitted logistic regression.
    """
    if model.pipeline is None or model.kind != "logistic_regression":
        raise ValueError("model_weights needs a fitted ChurnModel of kind 'logistic_regression'.")
    preprocess, estimator = model.pipeline[0], model.pipeline[-1]
    raw = pd.Series(estimator.coef_[0], index=preprocess.get_feature_names_out())
    weights = {}
    for name, transformer, columns in preprocess.transformers_:
        if name == "numeric":
            weights.update({c: raw[f"numeric__{c}"] for c in columns})
        elif name == "categorical":
            for column, levels in zip(columns, transformer.categories_, strict=True):
                first = raw[f"categorical__{column}_{levels[0]}"]
                for level in levels[1:]:
                    weights[f"{column}={level}"] = raw[f"categorical__{column}_{level}"] - first
    return pd.Series(weights, name="weight", dtype=float)


#: The changes :func:`cace_experiment` can make: name -> (description, columns they touch).
CACE_CHANGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "charges_in_cents": (
        "monthly_charges arrives in cents instead of EUR (a linear rescaling)",
        ("monthly_charges",),
    ),
    "cap_usage": (
        "the team producing usage_hours starts capping it at 40 hours",
        ("usage_hours", "log_usage"),
    ),
    "add_total_charges": (
        "one new feature: total_charges = tenure_months x monthly_charges",
        ("total_charges",),
    ),
}


@dataclass(frozen=True)
class CaceResult:
    """What one change did to a retrained model (see :func:`cace_experiment`).

    Attributes:
        change: the change's name (a key of :data:`CACE_CHANGES`).
        description: what the change was.
        weights: one row per weight the change did not touch directly: ``before``, ``after``,
            ``relative_change`` (|after - before| / |before|).
        other_weights: how many weights the change did not touch directly.
        weights_changed: how many of them changed at all (relative change > 1e-6).
        weights_moved_1pct: how many of them moved by more than 1 %.
        largest_move: the largest relative change among them, and its weight's name.
        predictions_moved: share of test customers whose churn probability moved by more than
            1 percentage point.
        decisions_flipped: test customers whose offer decision (at the threshold) flipped.
        flipped_with_same_data: of those, customers whose own data the change did not alter
            (e.g. usage below the cap): only the model around them changed.
        n_test: test customers.
    """

    change: str
    description: str
    weights: pd.DataFrame
    other_weights: int
    weights_changed: int
    weights_moved_1pct: int
    largest_move: tuple[str, float]
    predictions_moved: float
    decisions_flipped: int
    flipped_with_same_data: int
    n_test: int


def cace_experiment(
    train: pd.DataFrame, test: pd.DataFrame, config: ServiceConfig, change: str
) -> CaceResult:
    """Retrain the service's model after one change, and measure what else moved.

    Sculley et al. (2015): changing the input distribution of one feature, or adding or
    removing one, can change the weights of all the others; they call it the CACE principle,
    "Changing Anything Changes Everything". Introduced in notebook 02
    (``02_hidden_technical_debt``).

    Args:
        train, test: customer frames (e.g. from :func:`utils.service.data.collect`).
        config: the service configuration; its model must be ``"logistic_regression"``.
        change: one of :data:`CACE_CHANGES`.

    Raises:
        ValueError: an unknown change, or a model kind without weights.
    """
    if change not in CACE_CHANGES:
        raise ValueError(f"Unknown change {change!r}; valid: {list(CACE_CHANGES)}.")
    if config.model != "logistic_regression":
        raise ValueError("cace_experiment compares weights: use model='logistic_regression'.")
    description, touched = CACE_CHANGES[change]
    changed_config, transform = config, (lambda frame: frame)
    if change == "charges_in_cents":

        def transform(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(monthly_charges=frame["monthly_charges"] * 100)

    elif change == "cap_usage":

        def transform(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(usage_hours=frame["usage_hours"].clip(upper=40.0))

    else:
        changed_config = config.replace(derived=[*config.derived, "total_charges"])

    def fit(cfg: ServiceConfig, tr: pd.DataFrame, te: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
        fitted = ChurnModel(cfg.model, cfg.seed).fit(build_features(tr, cfg), tr[CHURN_TARGET])
        return model_weights(fitted), fitted.predict_proba(build_features(te, cfg))

    changed_test = transform(test)
    with limit_threads(config.max_threads):
        weights_before, p_before = fit(config, train, test)
        weights_after, p_after = fit(changed_config, transform(train), changed_test)
    same_data = (changed_test[test.columns] == test).all(axis=1).to_numpy()
    others = [w for w in weights_before.index if w in weights_after.index and w not in touched]
    table = pd.DataFrame({"before": weights_before[others], "after": weights_after[others]})
    table["relative_change"] = (table["after"] - table["before"]).abs() / table["before"].abs()
    largest = table["relative_change"].idxmax()
    offer_before = p_before >= config.threshold
    offer_after = p_after >= config.threshold
    return CaceResult(
        change=change,
        description=description,
        weights=table,
        other_weights=len(table),
        weights_changed=int((table["relative_change"] > 1e-6).sum()),
        weights_moved_1pct=int((table["relative_change"] > 0.01).sum()),
        largest_move=(str(largest), float(table.loc[largest, "relative_change"])),
        predictions_moved=float(np.mean(np.abs(p_after - p_before) > 0.01)),
        decisions_flipped=int(np.sum(offer_before != offer_after)),
        flipped_with_same_data=int(np.sum((offer_before != offer_after) & same_data)),
        n_test=len(test),
    )


# ---------------------------------------------------------------------------------------------
# Glue code
# ---------------------------------------------------------------------------------------------


def glued_reasons(model: ChurnModel, X: pd.DataFrame, top: int = 2) -> list[list[str]]:
    """Anti-pattern (glue code): explain predictions by reaching into scikit-learn's internals.

    It multiplies the transformed inputs by the logistic regression's ``coef_``, so it works
    only for that one estimator of that one package: swap the estimator (the service's
    ``model`` setting) and it raises ``AttributeError``. The package-independent alternative is
    :func:`utils.service.evaluation.reasons`. Introduced in notebook 02.
    """
    preprocess = model.pipeline.named_steps["preprocess"]
    estimator = model.pipeline.named_steps["model"]
    names = [n.split("__", 1)[1] for n in preprocess.get_feature_names_out()]
    contributions = preprocess.transform(X[model.columns]) * estimator.coef_[0]
    table = pd.DataFrame(contributions, columns=names, index=X.index)
    return [
        [name for name, value in row.sort_values(ascending=False).head(top).items() if value > 0]
        for _, row in table.iterrows()
    ]


# ---------------------------------------------------------------------------------------------
# Pipeline jungles
# ---------------------------------------------------------------------------------------------

#: The intermediate files :func:`jungle_prepare` leaves behind, in the order it writes them.
JUNGLE_FILES: tuple[str, ...] = ("extract.csv", "with_usage_log.csv", "training_table.csv")


def jungle_prepare(batch: pd.DataFrame, workdir: str | Path) -> pd.DataFrame:
    """Anti-pattern (pipeline jungle): prepare training data through cached intermediate files.

    Three steps grown one at a time: scrape the batch to ``extract.csv``, add a derived column
    into ``with_usage_log.csv``, filter into ``training_table.csv``. Each step skips its work
    when its output file exists already, to save time on reruns. So a second run on a new
    batch silently returns the first batch's table, and nothing fails. (The CSV files also lose
    the categories' types on the way.) The service's alternative has no intermediate state:
    :func:`utils.service.data.read_batches` then :func:`utils.service.features.build_features`.
    Introduced in notebook 02 (``02_hidden_technical_debt``).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    extract, with_log, table = (workdir / name for name in JUNGLE_FILES)
    if not extract.exists():  # step 1: scrape
        batch.to_csv(extract, index=False)
    if not with_log.exists():  # step 2: derived column
        raw = pd.read_csv(extract)
        raw["log_usage"] = np.log(raw["usage_hours"].clip(lower=0.5))
        raw.to_csv(with_log, index=False)
    if not table.exists():  # step 3: a filter somebody once needed
        rows = pd.read_csv(with_log)
        rows[rows["tenure_months"] >= 0].to_csv(table, index=False)
    return pd.read_csv(table)


# ---------------------------------------------------------------------------------------------
# Dead experimental codepaths: a toy trading system in the spirit of the Knight Capital story
# ---------------------------------------------------------------------------------------------

COMMISSION_USD = 0.002
"""USD the broker earns per share of a client order it routes normally (toy value)."""
RETAIL_REBATE_USD = 0.001
"""Extra USD per share under the new retail program switched on by ``flag_7`` (toy value)."""
SPREAD_USD = 0.05
"""USD lost per share when buying at the ask and selling at the bid (toy value)."""
CHILD_SHARES = 100
"""Shares per child order."""
SWEEP_CHILDREN = 20
"""Child orders per open parent order per minute that the old sweep test sends."""


def router_v2(
    flags: Mapping[str, bool], shares: np.ndarray, state: dict[str, int]
) -> tuple[int, float]:
    """Release 2 of the order router: routes each client order once, earns a commission.

    ``flag_7`` switches on the new retail program (an extra rebate per share). Returns
    ``(child orders sent, profit in USD)`` for one minute of client orders (``shares`` holds
    each order's size). Introduced in notebook 02 (``02_hidden_technical_debt``).
    """
    rate = COMMISSION_USD + (RETAIL_REBATE_USD if flags.get("flag_7") else 0.0)
    return len(shares), float(rate * shares.sum())


def router_v1(
    flags: Mapping[str, bool], shares: np.ndarray, state: dict[str, int]
) -> tuple[int, float]:
    """Release 1 of the order router, still holding an obsolete experiment (dead code).

    Years ago ``flag_7`` switched on a *sweep test*: every open client order is worked by
    sending child orders that buy at the ask and sell at the bid. The code that marked an order
    as done was removed when the test was retired, so under the flag orders never close, and
    the number of open orders (``state["open"]``) grows every minute. Without the flag it
    routes like release 2. Introduced in notebook 02 (``02_hidden_technical_debt``).
    """
    if flags.get("flag_7"):  # sweep test, retired years ago: nobody expects this to run
        state["open"] = state.get("open", 0) + len(shares)
        children = SWEEP_CHILDREN * state["open"]
        return children, -SPREAD_USD * CHILD_SHARES * children
    return len(shares), float(COMMISSION_USD * shares.sum())


def router_v1_cleaned(
    flags: Mapping[str, bool], shares: np.ndarray, state: dict[str, int]
) -> tuple[int, float]:
    """Release 1 with its dead experimental code removed: it knows no flags at all.

    An unknown flag is an error, so a server that runs this release with release 2's flags
    refuses to start instead of guessing. Introduced in notebook 02.

    Raises:
        ValueError: a flag is set that this release does not know.
    """
    unknown = sorted(name for name, on in flags.items() if on)
    if unknown:
        raise ValueError(f"Release 1 does not know the flag(s) {unknown}: refusing to start.")
    return len(shares), float(COMMISSION_USD * shares.sum())


@dataclass(frozen=True)
class TradingResult:
    """What :func:`simulate_trading` returns.

    Attributes:
        profit: profit in USD per minute (rows, 1..minutes) and server (columns).
        events: what happened, as readable lines (servers that refused to start or halted).
        guard: the guard that was on (``None``, ``"remove_dead_code"`` or ``"action_limit"``).
    """

    profit: pd.DataFrame
    events: tuple[str, ...]
    guard: str | None

    @property
    def total(self) -> float:
        """Total profit in USD over all servers and minutes (negative: a loss)."""
        return float(self.profit.to_numpy().sum())

    @property
    def cumulative(self) -> pd.Series:
        """Total profit so far, in USD, at the end of every minute."""
        return self.profit.sum(axis=1).cumsum().rename("cumulative profit (USD)")


def simulate_trading(
    minutes: int = 45,
    servers: int = 8,
    stale_servers: Sequence[int] = (8,),
    flags: Mapping[str, bool] | None = None,
    guard: str | None = None,
    action_limit: int = 500,
    seed: int = 0,
) -> TradingResult:
    """Simulate a toy order-routing system minute by minute after a new release.

    Release 2 (:func:`router_v2`) goes to every server except ``stale_servers``, which keep
    release 1 (:func:`router_v1`), whose dead experimental code the reused ``flag_7`` wakes
    up. Each server gets about 40 client orders a minute (seeded). Introduced in notebook 02
    (``02_hidden_technical_debt``); a toy inspired by the Knight Capital loss that Sculley et
    al. (2015) cite, not a model of it.

    Args:
        minutes: minutes to simulate.
        servers: number of servers, numbered 1..servers.
        stale_servers: servers that did not get release 2.
        flags: the flags of the release (default ``{"flag_7": True}``).
        guard: ``None``; ``"remove_dead_code"`` (release 1 without its dead code,
            :func:`router_v1_cleaned`: it refuses unknown flags); or ``"action_limit"`` (a
            server that is about to send more than ``action_limit`` child orders in a minute
            halts before sending them, and raises an alert).
        action_limit: the most child orders a server may send in one minute.
        seed: seed of the client orders.

    Raises:
        ValueError: an unknown guard, or a stale server that does not exist.
    """
    if guard not in (None, "remove_dead_code", "action_limit"):
        raise ValueError(
            f"guard must be None, 'remove_dead_code' or 'action_limit', got {guard!r}."
        )
    if minutes < 1 or servers < 1 or not set(stale_servers) <= set(range(1, servers + 1)):
        raise ValueError(f"Need minutes >= 1 and stale servers among 1..{servers}.")
    flags = {"flag_7": True} if flags is None else dict(flags)
    profit = np.zeros((minutes, servers))
    events: list[str] = []
    for server in range(1, servers + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(server,)))
        router = router_v2
        if server in stale_servers:
            router = router_v1_cleaned if guard == "remove_dead_code" else router_v1
        state: dict[str, int] = {}
        for minute in range(minutes):
            shares = rng.integers(1, 11, size=rng.poisson(40)) * 100
            planned_state = dict(state)  # plan the minute's orders, then check, then send
            try:
                children, gained = router(flags, shares, planned_state)
            except ValueError as error:
                events.append(f"server {server}: {error}")
                break
            if guard == "action_limit" and children > action_limit:
                events.append(
                    f"server {server}: halted in minute {minute + 1} before sending "
                    f"{children} child orders (limit {action_limit}); alert raised"
                )
                break
            state, profit[minute, server - 1] = planned_state, gained
    columns = [f"server {s}" for s in range(1, servers + 1)]
    table = pd.DataFrame(
        profit, columns=columns, index=pd.RangeIndex(1, minutes + 1, name="minute")
    )
    return TradingResult(table, tuple(events), guard)


# ---------------------------------------------------------------------------------------------
# Configuration debt
# ---------------------------------------------------------------------------------------------


def loose_settings(raw: Mapping[str, object]) -> dict[str, object]:
    """Anti-pattern (configuration debt): read settings with ``.get`` and a default each.

    A misspelt key (``"treshold"``) is not an error: the setting silently keeps its default,
    and a value of the wrong type or range goes straight through. The service's alternative is
    :meth:`utils.service.config.ServiceConfig.from_dict`. Introduced in notebook 02.
    """
    return {
        "model": raw.get("model", "logistic_regression"),
        "threshold": raw.get("threshold", 0.5),
        "max_offer_rate": raw.get("max_offer_rate", 0.6),
    }


# ---------------------------------------------------------------------------------------------
# Direct feedback loops
# ---------------------------------------------------------------------------------------------


def feedback_loop(
    config: ServiceConfig,
    rounds: int = 6,
    customers: int = 2000,
    control_share: float = 0.0,
    offer_success_rate: float = ChurnCosts().offer_success_rate,
    seed: int = 0,
    on_round: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Retrain the churn model every week on labels that its own offers have shaped.

    Week after week the model scores the new customers, the marketing system sends a retention
    offer to those at or above ``config.threshold``, and an offer keeps a would-be churner with
    probability ``offer_success_rate``. The billing system then records who cancelled, and the
    model is retrained on everything recorded so far. Nothing in the training table says who
    got an offer, so the model learns that risky customers churn less than they do: a direct
    feedback loop, a model that influences its own future training data (Sculley et al., 2015;
    a *hidden* loop would run between two systems, through the world). With
    ``control_share > 0`` a random control group never gets offers, and the model is trained on
    the control group only (its labels are untouched by the model). Introduced in notebook 02
    (``02_hidden_technical_debt``).

    Args:
        config: the service configuration (threshold, features, seed of the data).
        rounds: weeks to simulate after two weeks of history without offers.
        customers: customers per week.
        control_share: share of each week's customers kept out of the offers (0 = none).
        offer_success_rate: probability that an offer keeps a customer who would churn.
        seed: seed of the control group and of the offers' success.
        on_round: called with the round number after each round (e.g. to show progress).

    Returns:
        One row per round: ``round``, ``offer_rate`` (share of the customers eligible for an
        offer who got one), ``mean_predicted`` (mean churn probability the model gave),
        ``true_risk`` (mean true churn probability without offers, known in a simulation),
        ``recorded_churn`` (share recorded as churned), ``gap`` (``mean_predicted -
        true_risk``) and ``lost_customers``.

    Raises:
        ValueError: ``rounds`` < 1, ``customers`` < 10, or a share outside [0, 1).
    """
    if rounds < 1 or customers < 10:
        raise ValueError(f"Need rounds >= 1 and customers >= 10, got {rounds}, {customers}.")
    if not (0.0 <= control_share < 1.0 and 0.0 <= offer_success_rate <= 1.0):
        raise ValueError("control_share must be in [0, 1) and offer_success_rate in [0, 1].")
    config = config.replace(n_per_period=customers)
    weeks = collect(config, range(rounds + 2))
    history = weeks[weeks["period"] < 2]
    recorded = history.assign(recorded=history[CHURN_TARGET], control=True)
    rows = []
    with limit_threads(config.max_threads):
        for r in range(1, rounds + 1):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))
            training = recorded[recorded["control"]] if control_share > 0 else recorded
            model = ChurnModel(config.model, config.seed)
            model.fit(build_features(training, config), training["recorded"])
            week = weeks[weeks["period"] == r + 1].reset_index(drop=True)
            proba = model.predict_proba(build_features(week, config))
            control = rng.random(len(week)) < control_share
            offer = (proba >= config.threshold) & ~control
            churn = week[CHURN_TARGET].to_numpy()
            kept = offer & (churn == 1) & (rng.random(len(week)) < offer_success_rate)
            label = np.where(kept, 0, churn)
            true_risk = 1.0 / (1.0 + np.exp(-churn_logit(week)))
            rows.append(
                {
                    "round": r,
                    "offer_rate": float(offer[~control].mean()),
                    "mean_predicted": float(proba.mean()),
                    "true_risk": float(true_risk.mean()),
                    "recorded_churn": float(label.mean()),
                    "gap": float(proba.mean() - true_risk.mean()),
                    "lost_customers": int(label.sum()),
                }
            )
            batch = week.assign(recorded=label, control=control)
            recorded = pd.concat([recorded, batch], ignore_index=True)
            if on_round is not None:
                on_round(r)
    return pd.DataFrame(rows)
