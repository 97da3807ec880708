"""The course's diagrams, drawn with matplotlib so that notebooks and slides share them.

Every function returns a new :class:`matplotlib.figure.Figure` that is not managed by
``pyplot``: it shows exactly once when it is the last expression of a notebook cell, it never
leaks into ``plt.show()``, and it needs no ``plt.close``. Save one with ``fig.savefig(path)``.

The diagrams are conceptual (boxes and arrows). Where a figure has sizes or scores, they come
from the caller or from a cited source; defaults that are only illustrative say so on the figure.
Introduced in notebook 00 (``00_start_here``) and in the lecture deck ``slides/00_what_is_mlops``.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

# Colours (Okabe-Ito palette, readable with colour-vision deficiencies).
_INK = "#222222"
_MUTED = "#555555"
_STAGE_FILL = "#dbe9f6"
_STAGE_EDGE = "#4a7ab0"
_HIGHLIGHT_FILL = "#d55e00"
_HIGHLIGHT_EDGE = "#8a3c00"
_ARROW = "#4a7ab0"
_ML_CODE_FILL = "#000000"

#: Stages of the ML lifecycle in loop order, keyed as ``lifecycle_diagram`` takes them.
LIFECYCLE_STAGES: dict[str, str] = {
    "design": "Business & data\nunderstanding",
    "data": "Data\nengineering",
    "model": "Model\nengineering",
    "test": "Testing &\nvalidation",
    "deploy": "Deployment\n& serving",
    "monitor": "Monitoring",
}

#: The three phases of MLOps as the lecture names them, keyed as ``mlops_phases`` takes them.
MLOPS_PHASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "data": (
        "Data phase",
        (
            "Business understanding",
            "Data understanding",
            "Designing the\nML-powered software",
        ),
    ),
    "model": (
        "Model phase",
        (
            "Model engineering",
            "Data engineering",
            "Deliver a stable,\ngood-quality model",
        ),
    ),
    "operations": (
        "Operations phase",
        (
            "Deliver the model\nto production",
            "Testing, versioning",
            "Continuous delivery",
            "Monitoring",
        ),
    ),
}

#: Components of a production ML system in Figure 1 of Sculley et al. (2015).
SCULLEY_COMPONENTS: tuple[str, ...] = (
    "Configuration",
    "Data collection",
    "Feature extraction",
    "Data verification",
    "Machine resource management",
    "Analysis tools",
    "Process management tools",
    "Serving infrastructure",
    "Monitoring",
    "ML code",
)

#: The four criteria (the lecture's "4Cs") for choosing a tool for the MLOps stack.
FOUR_CS: tuple[str, ...] = ("Cost", "Coverage", "Complexity", "Community")

#: Stages of the DevOps loop as it is commonly drawn: the Dev half, then the Ops half.
DEVOPS_STAGES: tuple[str, ...] = (
    "plan",
    "code",
    "build",
    "test",
    "release",
    "deploy",
    "operate",
    "monitor",
)


class CourseFigure(Figure):
    """A matplotlib ``Figure`` that displays itself crisply in Jupyter and in built slides.

    It renders a PNG at twice its nominal resolution and tells the front end to show it at
    the nominal size, so text stays sharp on projectors and high-density screens.
    """

    display_dpi: float = 100

    def at_width(self, pixels: int) -> CourseFigure:
        """Show the figure ``pixels`` wide (text scales with it) and return it, for slides.

        Example: ``lifecycle_diagram().at_width(1000)`` fills most of a 1280 x 720 slide.

        Raises:
            ValueError: ``pixels`` is not a whole number between 100 and 4000.
        """
        if isinstance(pixels, bool) or not isinstance(pixels, int) or not 100 <= pixels <= 4000:
            raise ValueError(f"pixels must be a whole number from 100 to 4000, got {pixels!r}.")
        self.display_dpi = pixels / self.get_size_inches()[0]
        return self

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> tuple[dict[str, object], dict[str, object]]:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=2 * self.display_dpi, facecolor="white")
        width, height = self.get_size_inches()
        title = self.get_suptitle() or "figure"
        data = {"image/png": buffer.getvalue(), "text/plain": f"<figure: {title}>"}
        size = {
            "width": round(width * self.display_dpi),
            "height": round(height * self.display_dpi),
        }
        return data, {"image/png": size}


def _new_figure(width: float, height: float) -> CourseFigure:
    return CourseFigure(figsize=(width, height), layout=None, facecolor="white")


def _blank_axes(fig: Figure, rect: tuple[float, float, float, float]) -> Axes:
    ax = fig.add_axes(rect)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return ax


def _box(
    ax: Axes,
    centre: tuple[float, float],
    size: tuple[float, float],
    text: str,
    *,
    fill: str = _STAGE_FILL,
    edge: str = _STAGE_EDGE,
    text_colour: str = _INK,
    fontsize: float = 9,
    bold: bool = False,
    gid: str | None = None,
) -> FancyBboxPatch:
    (cx, cy), (w, h) = centre, size
    patch = FancyBboxPatch(
        (cx - w / 2, cy - h / 2),
        w,
        h,
        boxstyle="round,pad=0.0,rounding_size=0.03",
        facecolor=fill,
        edgecolor=edge,
        linewidth=1.4,
        transform=ax.transAxes,
        mutation_aspect=ax.bbox.width / ax.bbox.height if ax.bbox.height else 1.0,
    )
    if gid:
        patch.set_gid(gid)
    ax.add_patch(patch)
    label = ax.text(
        cx,
        cy,
        text,
        ha="center",
        va="center",
        fontsize=fontsize,
        color=text_colour,
        fontweight="bold" if bold else "normal",
        transform=ax.transAxes,
        linespacing=1.15,
    )
    if gid:
        label.set_gid(f"{gid}:label")
    return patch


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    rad: float = 0.0,
    colour: str = _ARROW,
    width: float = 1.6,
    style: str = "-|>",
    gid: str | None = None,
) -> FancyArrowPatch:
    arrow = FancyArrowPatch(
        start,
        end,
        arrowstyle=style,
        mutation_scale=14,
        connectionstyle=f"arc3,rad={rad}",
        color=colour,
        linewidth=width,
        transform=ax.transAxes,
    )
    if gid:
        arrow.set_gid(gid)
    ax.add_patch(arrow)
    return arrow


def _check_key(value: str | None, allowed: Mapping[str, object], what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string or None, got {type(value).__name__}.")
    if value not in allowed:
        keys = ", ".join(repr(k) for k in allowed)
        raise ValueError(f"Unknown {what} {value!r}. Use one of: {keys} (or None).")
    return value


# Stage positions around the loop (axes fraction), clockwise from the top left.
_LOOP_POSITIONS: dict[str, tuple[float, float]] = {
    "design": (0.29, 0.86),
    "data": (0.71, 0.86),
    "model": (0.875, 0.50),
    "test": (0.71, 0.14),
    "deploy": (0.29, 0.14),
    "monitor": (0.125, 0.50),
}


def _draw_cycle(ax: Axes, highlight: str | None, fontsize: float = 9) -> None:
    """Draw the six lifecycle stages around a loop into ``ax`` (axes fraction 0..1)."""
    box_w, box_h = 0.235, 0.22
    for key, label in LIFECYCLE_STAGES.items():
        emphasised = key == highlight
        _box(
            ax,
            _LOOP_POSITIONS[key],
            (box_w, box_h),
            label,
            fill=_HIGHLIGHT_FILL if emphasised else _STAGE_FILL,
            edge=_HIGHLIGHT_EDGE if emphasised else _STAGE_EDGE,
            text_colour="white" if emphasised else _INK,
            fontsize=fontsize,
            bold=emphasised,
            gid=f"stage:{key}",
        )
    # Arrow end points: from the edge of one box to the edge of the next.
    hw, hh = box_w / 2 + 0.01, box_h / 2 + 0.02
    p = _LOOP_POSITIONS
    segments = [
        ((p["design"][0] + hw, p["design"][1]), (p["data"][0] - hw, p["data"][1]), 0.0),
        ((p["data"][0] + hw * 0.55, p["data"][1] - hh), (p["model"][0], p["model"][1] + hh), -0.25),
        ((p["model"][0], p["model"][1] - hh), (p["test"][0] + hw * 0.55, p["test"][1] + hh), -0.25),
        ((p["test"][0] - hw, p["test"][1]), (p["deploy"][0] + hw, p["deploy"][1]), 0.0),
        (
            (p["deploy"][0] - hw * 0.55, p["deploy"][1] + hh),
            (p["monitor"][0], p["monitor"][1] - hh),
            -0.25,
        ),
        (
            (p["monitor"][0], p["monitor"][1] + hh),
            (p["design"][0] - hw * 0.55, p["design"][1] - hh),
            -0.25,
        ),
    ]
    for i, (start, end, rad) in enumerate(segments):
        _arrow(ax, start, end, rad=rad, gid=f"loop-arrow:{i}")
    ax.text(
        0.5,
        0.50,
        "repeat:\nthe data and\nthe world change",
        ha="center",
        va="center",
        fontsize=fontsize - 1,
        color=_MUTED,
        style="italic",
        transform=ax.transAxes,
    )


def lifecycle_diagram(highlight: str | None = None) -> Figure:
    """Draw the ML lifecycle as a loop of six stages, optionally emphasising one.

    Introduced in ``notebooks/00_start_here``; every notebook shows it in its header to say
    where it sits in the lifecycle.

    Args:
        highlight: the stage to emphasise, one of the keys of :data:`LIFECYCLE_STAGES`:
            ``"design"`` (business & data understanding), ``"data"`` (data engineering),
            ``"model"`` (model engineering), ``"test"`` (testing & validation), ``"deploy"``
            (deployment & serving), ``"monitor"`` (monitoring); ``None`` emphasises nothing.

    Returns:
        A 6 x 2.5 inch figure titled "The ML lifecycle".

    Raises:
        ValueError: ``highlight`` is not one of the stage keys.
        TypeError: ``highlight`` is not a string or None.
    """
    highlight = _check_key(highlight, LIFECYCLE_STAGES, "lifecycle stage")
    fig = _new_figure(6.0, 2.5)
    title = "The ML lifecycle"
    if highlight is not None:
        name = LIFECYCLE_STAGES[highlight].replace("\n", " ")
        title += f" \N{EM DASH} you are here: {name}"
    fig.suptitle(title, fontsize=11, fontweight="bold", y=0.975)
    ax = _blank_axes(fig, (0.01, 0.01, 0.98, 0.83))
    _draw_cycle(ax, highlight, fontsize=8.5)
    return fig


# --- linear course project vs the production cycle ----------------------------------------


def linear_vs_cycle() -> Figure:
    """Contrast the straight line of a course project with the cycle of ML in production.

    Introduced in the lecture deck and ``notebooks/01_linear_coursework``.

    Returns:
        A 10 x 4 inch figure with two panels: "A course project: a line" (data, model,
        report) and "ML in production: a cycle" (the six stages of ``lifecycle_diagram``).
    """
    fig = _new_figure(10.0, 4.0)
    fig.suptitle(
        "Courses teach a line; production runs a cycle", fontsize=14, fontweight="bold", y=0.97
    )
    left = _blank_axes(fig, (0.01, 0.05, 0.36, 0.78))
    left.set_title("A course project: a line", fontsize=12, pad=4)
    steps = ["Data", "Model", "Report"]
    xs = [0.16, 0.5, 0.84]
    for i, (x, step) in enumerate(zip(xs, steps, strict=True)):
        _box(left, (x, 0.55), (0.26, 0.2), step, fontsize=11, gid=f"line:{i}")
    for i in range(len(xs) - 1):
        _arrow(left, (xs[i] + 0.14, 0.55), (xs[i + 1] - 0.14, 0.55), gid=f"line-arrow:{i}")
    left.text(
        0.5,
        0.25,
        "done: hand it in",
        ha="center",
        va="center",
        fontsize=10,
        color=_MUTED,
        style="italic",
    )
    right = _blank_axes(fig, (0.40, 0.02, 0.59, 0.81))
    right.set_title("ML in production: a cycle", fontsize=12, pad=4)
    _draw_cycle(right, None, fontsize=10)
    return fig


# --- Sculley et al. (2015), Figure 1: the ML-code box ----------------------------------------


def _squarify(
    values: list[float], x: float, y: float, w: float, h: float
) -> list[tuple[float, float, float, float]]:
    """Squarified treemap (Bruls, Huizing & van Wijk, 2000) of ``values`` (sorted, > 0)."""
    total = sum(values)
    areas = [v * w * h / total for v in values]
    rects: list[tuple[float, float, float, float]] = []

    def worst(row: list[float], side: float) -> float:
        s = sum(row)
        return max(max(side * side * r / (s * s), s * s / (side * side * r)) for r in row)

    while areas:
        side = min(w, h)
        row = [areas[0]]
        i = 1
        while i < len(areas) and worst(row + [areas[i]], side) <= worst(row, side):
            row.append(areas[i])
            i += 1
        thickness = sum(row) / side
        if w >= h:  # a column on the left
            yy = y
            for a in row:
                rects.append((x, yy, thickness, a / thickness))
                yy += a / thickness
            x, w = x + thickness, w - thickness
        else:  # a row at the top
            xx = x
            for a in row:
                rects.append((xx, y + h - thickness, a / thickness, thickness))
                xx += a / thickness
            h = h - thickness
        areas = areas[i:]
    return rects


def _fit_label(name: str, share: str, width_in: float, height_in: float) -> str | None:
    """The name and share on as few lines as fit a box of the given size, or None."""
    char_w, line_h = 0.078, 0.19  # inches per character and per line at 9.5 pt
    words = name.split()
    candidates = [name, "\n".join([" ".join(words[:-1]), words[-1]]) if len(words) > 1 else name]
    candidates.append("\n".join(words))
    for text in candidates:
        lines = [*text.split("\n"), share]
        if max(len(line) for line in lines) * char_w < width_in - 0.1 and (
            len(lines) * line_h < height_in - 0.08
        ):
            return "\n".join(lines)
    return None


def _check_shares(shares: Mapping[str, float]) -> tuple[str, dict[str, float]]:
    if not isinstance(shares, Mapping):
        raise TypeError(
            f"shares must be a dict of component name -> size, got {type(shares).__name__}."
        )
    clean: dict[str, float] = {}
    for name, value in shares.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"Component names must be non-empty strings, got {name!r}.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"The size of {name!r} must be a number, got {value!r}.")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"The size of {name!r} must be finite and >= 0, got {value!r}.")
        clean[name] = float(value)
    ml_keys = [n for n in clean if n.strip().lower() == "ml code"]
    if not ml_keys:
        raise ValueError(
            "shares must include an 'ML code' entry (the box the figure is about), "
            f"got {sorted(clean)}."
        )
    if clean[ml_keys[0]] <= 0 or sum(clean.values()) <= 0:
        raise ValueError("The 'ML code' size and the total must be greater than 0.")
    return ml_keys[0], clean


def ml_code_box(shares: Mapping[str, float] | None = None, *, source: str | None = None) -> Figure:
    """Recreate the "ML code is a small box" figure of Sculley et al. (2015), areas to scale.

    D. Sculley et al., "Hidden Technical Debt in Machine Learning Systems", NeurIPS 2015,
    Figure 1: only a small fraction of a real-world ML system is the ML code; the rest is
    configuration, data collection and verification, feature extraction, serving, monitoring
    and more. Here each component is a rectangle whose area is proportional to its size, so
    notebook ``02_hidden_technical_debt`` can draw the figure from a measurement (for example
    lines of code per component). Introduced in the lecture deck and notebook 02.

    Args:
        shares: component name -> size (any unit: lines, files, percent), each >= 0; it must
            contain an ``"ML code"`` entry (drawn black, as in the paper). ``None`` draws the
            paper's ten components with "ML code" at 5% (the paper's estimate that a mature
            system may be at most about 5% ML code) and the other nine sharing the rest
            equally: that split is illustrative and the figure says so.
        source: a short note printed under the figure saying where the sizes come from
            (e.g. ``"lines of code in service/, measured"``).

    Returns:
        A 10 x 5.6 inch figure: the treemap, and a list of the components with their shares.

    Raises:
        TypeError: ``shares`` is not a mapping of names to numbers.
        ValueError: a size is negative or not finite, or "ML code" is missing or zero.
    """
    if shares is None:
        others = [c for c in SCULLEY_COMPONENTS if c != "ML code"]
        sizes = {name: 95.0 / len(others) for name in others}
        sizes["ML code"] = 5.0
        ml_key = "ML code"
        note = (
            "Illustrative: ML code at about 5% as estimated by Sculley et al. (2015); "
            "the other areas are equal, not measured."
        )
    else:
        ml_key, sizes = _check_shares(shares)
        note = f"Sizes: {source}." if source else "Areas proportional to the sizes given."
    total = sum(sizes.values())
    ordered = sorted(((v, n) for n, v in sizes.items() if v > 0), key=lambda t: -t[0])
    fig = _new_figure(10.0, 5.6)
    fig.suptitle(
        "Only a small fraction of a real ML system is ML code",
        fontsize=15,
        fontweight="bold",
        y=0.975,
    )
    ax = _blank_axes(fig, (0.02, 0.1, 0.6, 0.78))
    rects = _squarify([v for v, _ in ordered], 0.0, 0.0, 1.0, 1.0)
    palette = ["#cfe2f3", "#f9dcc4", "#d9ead3", "#fff2cc", "#e6d9f2", "#f4cccc", "#d0e0e3"]
    for i, ((value, name), (rx, ry, rw, rh)) in enumerate(zip(ordered, rects, strict=True)):
        is_ml = name == ml_key
        patch = Rectangle(
            (rx, ry),
            rw,
            rh,
            facecolor=_ML_CODE_FILL if is_ml else palette[i % len(palette)],
            edgecolor="white",
            linewidth=2.5,
        )
        patch.set_gid(f"component:{name}")
        ax.add_patch(patch)
        # A label inside the box when it fits (about 1 inch wide, 0.45 inch high).
        width_in = rw * ax.bbox.width / fig.dpi
        height_in = rh * ax.bbox.height / fig.dpi
        label = _fit_label(name, f"{100 * value / total:.0f}%", width_in, height_in)
        if label is not None:
            ax.text(
                rx + rw / 2,
                ry + rh / 2,
                label,
                ha="center",
                va="center",
                fontsize=9.5,
                color="white" if is_ml else _INK,
                fontweight="bold" if is_ml else "normal",
            )
        elif is_ml:  # too small to hold its name: point at it from above
            ax.annotate(
                f"ML code {100 * value / total:.0f}%",
                xy=(rx + rw / 2, ry + rh),
                xytext=(rx + rw / 2, min(ry + rh + 0.12, 0.97)),
                ha="center",
                va="bottom",
                fontsize=11,
                fontweight="bold",
                color="white",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "black"},
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2},
            )
    # The list at the right: every component with its share, ML code in bold.
    side = _blank_axes(fig, (0.65, 0.1, 0.34, 0.78))
    rows = sorted(sizes.items(), key=lambda t: -t[1])
    step = min(0.085, 0.95 / max(len(rows), 1))
    for j, (name, value) in enumerate(rows):
        y = 0.97 - j * step
        is_ml = name == ml_key
        side.text(
            0.0,
            y,
            name,
            ha="left",
            va="top",
            fontsize=11 if len(rows) <= 12 else 9,
            fontweight="bold" if is_ml else "normal",
            color=_INK,
        )
        side.text(
            1.0,
            y,
            f"{100 * value / total:.0f}%",
            ha="right",
            va="top",
            fontsize=11 if len(rows) <= 12 else 9,
            fontweight="bold" if is_ml else "normal",
            color=_INK,
        )
    fig.text(
        0.02,
        0.035,
        f"After Sculley et al., Hidden Technical Debt in ML Systems (NeurIPS 2015), Fig. 1. {note}",
        fontsize=10,
        color=_MUTED,
        wrap=True,
    )
    return fig


# --- DevOps: one loop for Dev and Ops --------------------------------------------------------


def devops_loop() -> Figure:
    """Draw the DevOps loop: the Dev half (plan, code, build, test) joined to the Ops half.

    DevOps combines software development (Dev) and IT operations (Ops) into one continuous
    loop; this is the figure-of-eight as it is commonly drawn. Introduced in the lecture deck
    and ``notebooks/03_devops_to_mlops``.

    Returns:
        A 10 x 4.2 inch figure with the eight stages of :data:`DEVOPS_STAGES`.
    """
    fig = _new_figure(10.0, 4.2)
    fig.suptitle(
        "DevOps: development and operations in one loop", fontsize=14, fontweight="bold", y=0.97
    )
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.84))
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-0.84, 0.84)
    ax.axis("off")
    size, stretch = 1.15, 1.4

    def point(t: float) -> tuple[float, float]:
        # A lemniscate of Bernoulli, stretched vertically; left lobe = Dev, right lobe = Ops.
        d = 1 + math.sin(t) ** 2
        return size * math.cos(t) / d, stretch * size * math.sin(t) * math.cos(t) / d

    dev_colour, ops_colour = "#0072b2", "#d55e00"
    n = 400
    pts = [point(2 * math.pi * i / n) for i in range(n + 1)]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        colour = dev_colour if x0 + x1 < 0 else ops_colour
        ax.plot([x0, x1], [y0, y1], color=colour, linewidth=7, solid_capstyle="round")
    # The loop runs with t decreasing: plan, code, build, test, (cross) release ... monitor.
    stage_t = {
        "plan": 1.22,
        "code": 1.0,
        "build": 0.78,
        "test": 0.6,
        "release": 0.4,
        "deploy": 0.22,
        "operate": 0.0,
        "monitor": 1.78,
    }
    for t in (1.12, 0.9, 0.68, 0.32, 0.1, 1.88):
        tail, head = point(math.pi * t), point(math.pi * t - 0.12)
        colour = dev_colour if tail[0] < 0 else ops_colour
        _arrow(ax, tail, head, colour=colour, width=0.1, gid="devops-arrow")
        ax.patches[-1].set_transform(ax.transData)
        ax.patches[-1].set_mutation_scale(30)
    for stage, t in stage_t.items():
        x, y = point(math.pi * t)
        centre = -0.62 if x < 0 else 0.62
        dx, dy = x - centre, (y / stretch)
        norm = math.hypot(dx, dy) or 1.0
        lx, ly = x + 0.2 * dx / norm, y + 0.15 * stretch * dy / norm
        colour = dev_colour if x < 0 else ops_colour
        label = ax.text(
            lx, ly, stage, ha="center", va="center", fontsize=13, color=colour, fontweight="bold"
        )
        label.set_gid(f"devops:{stage}")
    for x, name, colour in ((-0.62, "Dev", dev_colour), (0.62, "Ops", ops_colour)):
        ax.text(
            x, 0.0, name, ha="center", va="center", fontsize=22, fontweight="bold", color=colour
        )
    return fig


# --- The three phases of MLOps ---------------------------------------------------------------


def mlops_phases(highlight: str | None = None) -> Figure:
    """Draw the three phases of MLOps (data, model, operations) and the loop back to data.

    The phases and their contents are the lecture's. Introduced in the lecture deck;
    notebooks 04 (data phase), 05-06 (model phase) and 07-09 (operations) show it.

    Args:
        highlight: ``"data"``, ``"model"`` or ``"operations"`` to emphasise that phase, or None.

    Returns:
        A 10 x 4.4 inch figure titled "The three phases of MLOps".

    Raises:
        ValueError: ``highlight`` is not one of the phase keys.
    """
    highlight = _check_key(highlight, MLOPS_PHASES, "MLOps phase")
    fig = _new_figure(10.0, 4.4)
    fig.suptitle("The three phases of MLOps", fontsize=14, fontweight="bold", y=0.97)
    ax = _blank_axes(fig, (0.01, 0.01, 0.98, 0.86))
    xs = [0.17, 0.5, 0.83]
    width, top, bottom = 0.27, 0.98, 0.24
    for x, (key, (title, items)) in zip(xs, MLOPS_PHASES.items(), strict=True):
        emphasised = key == highlight
        patch = FancyBboxPatch(
            (x - width / 2, bottom),
            width,
            top - bottom,
            boxstyle="round,pad=0.0,rounding_size=0.02",
            facecolor="#fbe3d3" if emphasised else "#eef4fa",
            edgecolor=_HIGHLIGHT_FILL if emphasised else _STAGE_EDGE,
            linewidth=2.5 if emphasised else 1.4,
            mutation_aspect=ax.bbox.width / ax.bbox.height,
        )
        patch.set_gid(f"phase:{key}")
        ax.add_patch(patch)
        ax.text(
            x,
            top - 0.08,
            title,
            ha="center",
            va="center",
            fontsize=13,
            fontweight="bold",
            color=_HIGHLIGHT_EDGE if emphasised else _INK,
        )
        y = top - 0.2
        for item in items:
            ax.text(x - width / 2 + 0.02, y, "\N{BULLET}", ha="left", va="top", fontsize=11)
            ax.text(
                x - width / 2 + 0.04, y, item, ha="left", va="top", fontsize=11, linespacing=1.1
            )
            y -= 0.08 + 0.075 * item.count("\n") + (0.02 if len(items) < 4 else 0.0)
    for a, b in zip(xs, xs[1:], strict=False):
        _arrow(
            ax,
            (a + width / 2 + 0.005, 0.62),
            (b - width / 2 - 0.005, 0.62),
            width=2.2,
            gid="phase-arrow",
        )
    _arrow(
        ax,
        (xs[2], bottom - 0.01),
        (xs[0], bottom - 0.01),
        rad=-0.18,
        width=2.0,
        colour=_HIGHLIGHT_FILL,
        gid="phase-arrow:back",
    )
    ax.text(
        0.5,
        0.035,
        "the data changes: back to the data phase",
        ha="center",
        va="center",
        fontsize=11,
        color=_HIGHLIGHT_EDGE,
        style="italic",
    )
    return fig


# --- The skills of an MLOps engineer ----------------------------------------------------------


def skills_venn() -> Figure:
    """Draw the MLOps engineer as the overlap of software development, ML and data engineering.

    The three skills are the lecture's ("What makes an MLOps engineer? A mix of ...").
    Introduced in the lecture deck; shown again in ``notebooks/11_choosing_your_stack``.

    Returns:
        A 7 x 5 inch figure with three overlapping circles.
    """
    fig = _new_figure(7.0, 5.0)
    fig.suptitle("An MLOps engineer: a mix of three skills", fontsize=14, fontweight="bold")
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    ax.set_xlim(-2.4, 2.4)
    ax.set_ylim(-1.75, 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    circles = [
        ("Software\ndevelopment", (-0.62, 0.35), "#0072b2", (-1.05, 0.75)),
        ("Machine\nlearning", (0.62, 0.35), "#d55e00", (1.05, 0.75)),
        ("Data\nengineering", (0.0, -0.68), "#009e73", (0.0, -1.18)),
    ]
    for name, centre, colour, label_at in circles:
        circle = Circle(centre, 1.0, facecolor=colour, alpha=0.28, edgecolor=colour, linewidth=2)
        circle.set_gid(f"skill:{name.replace(chr(10), ' ')}")
        ax.add_patch(circle)
        ax.text(
            *label_at, name, ha="center", va="center", fontsize=13, fontweight="bold", color=colour
        )
    ax.text(
        0.0,
        0.0,
        "MLOps\nengineer",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        color=_INK,
    )
    return fig


# --- The 4Cs radar ---------------------------------------------------------------------------


def _check_scores(scores: Mapping[str, Mapping[str, float]], scale: float) -> None:
    if not isinstance(scores, Mapping) or not scores:
        raise TypeError("scores must be a non-empty dict: tool name -> {criterion: score}.")
    for tool, row in scores.items():
        if not isinstance(row, Mapping):
            raise TypeError(f"scores[{tool!r}] must be a dict of criterion -> score.")
        if set(row) != set(FOUR_CS):
            missing = [c for c in FOUR_CS if c not in row]
            extra = [c for c in row if c not in FOUR_CS]
            raise ValueError(
                f"scores[{tool!r}] must score exactly {list(FOUR_CS)}; "
                f"missing {missing}, unexpected {extra}."
            )
        for criterion, value in row.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"scores[{tool!r}][{criterion!r}] must be a number, got {value!r}.")
            if not 0 <= value <= scale:
                raise ValueError(
                    f"scores[{tool!r}][{criterion!r}] = {value} is outside 0..{scale:g}."
                )


def four_c_radar(
    scores: Mapping[str, Mapping[str, float]] | None = None, *, scale: float = 5.0
) -> Figure:
    """Compare tools on the lecture's 4Cs (Cost, Coverage, Complexity, Community) in a radar.

    Every score runs from 0 to ``scale`` and higher is better for the team: cheap (Cost),
    covers much of the lifecycle (Coverage), simple to adopt and run (Complexity), large and
    active (Community). Introduced in the lecture deck and ``notebooks/11_choosing_your_stack``.

    Args:
        scores: tool name -> {criterion: score} with exactly the four criteria of
            :data:`FOUR_CS`. ``None`` draws two made-up tools, "Tool A" and "Tool B", and
            the title says the scores are illustrative.
        scale: the best possible score (the outer ring), 5 by default.

    Returns:
        An 8 x 5.2 inch figure with one polygon per tool and a legend.

    Raises:
        TypeError: ``scores`` is not a mapping of tools to mappings of numbers.
        ValueError: a tool misses a criterion, has an unknown one, or a score is out of range.
    """
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}.")
    illustrative = scores is None
    if scores is None:
        scores = {
            "Tool A": {"Cost": 4, "Coverage": 2, "Complexity": 4, "Community": 3},
            "Tool B": {"Cost": 2, "Coverage": 4, "Complexity": 2, "Community": 4},
        }
    _check_scores(scores, scale)
    fig = _new_figure(8.0, 5.2)
    title = "Choosing a tool: the 4Cs"
    if illustrative:
        title += "\n(illustrative scores, not measurements)"
    fig.suptitle(title, fontsize=14, fontweight="bold", y=0.98)
    ax = fig.add_axes((0.19, 0.13, 0.41, 0.64), projection="polar")
    ax.tick_params(axis="x", pad=12)
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    angles = [2 * math.pi * i / len(FOUR_CS) for i in range(len(FOUR_CS))]
    ax.set_xticks(angles)
    ax.set_xticklabels(FOUR_CS, fontsize=14)
    for label, angle in zip(ax.get_xticklabels(), angles, strict=True):
        side = math.sin(angle)  # > 0: right of the circle (the axis runs clockwise from the top)
        label.set_horizontalalignment(
            "left" if side > 0.1 else "right" if side < -0.1 else "center"
        )
    ax.set_ylim(0, scale)
    ax.set_yticks([scale * f for f in (0.2, 0.4, 0.6, 0.8, 1.0)])
    ax.set_yticklabels(
        [f"{scale * f:g}" for f in (0.2, 0.4, 0.6, 0.8, 1.0)], fontsize=10, color=_MUTED
    )
    ax.set_rlabel_position(45)
    colours = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"]
    for i, (tool, row) in enumerate(scores.items()):
        values = [float(row[c]) for c in FOUR_CS]
        colour = colours[i % len(colours)]
        # The legend sits right of the circle: long names wrap onto lines of 13 characters.
        label = textwrap.fill(tool, width=13, break_long_words=True)
        (line,) = ax.plot(
            angles + angles[:1], values + values[:1], color=colour, linewidth=2.2, label=label
        )
        line.set_gid(f"tool:{tool}")
        ax.fill(angles + angles[:1], values + values[:1], color=colour, alpha=0.15)
    # Right of the "Coverage" label, in figure coordinates; names wrap (see above).
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(0.75, 0.82),
        bbox_transform=fig.transFigure,
        fontsize=12,
        frameon=False,
    )
    fig.text(
        0.5,
        0.015,
        f"0 = worst, {scale:g} = best for the team on each criterion",
        ha="center",
        fontsize=11,
        color=_MUTED,
    )
    return fig


# --- The ML test pyramid (notebook 07) --------------------------------------------------------

#: Where a test can run, left to right in :func:`ml_test_pyramid`.
TEST_PLACES: tuple[str, ...] = ("on each commit (CI)", "before promotion", "in production")

#: The layers of :func:`ml_test_pyramid`, from the base to the top: name, what the course
#: tests in that layer (and where), and what runs in each of :data:`TEST_PLACES` (None: the
#: layer does not run there).
ML_TEST_LAYERS: tuple[tuple[str, str, tuple[str | None, str | None, str | None]], ...] = (
    (
        "unit tests of code",
        "functions of the pipeline (03)",
        ("every function, in seconds", None, None),
    ),
    (
        "data tests",
        "schema, leakage (04, 07)",
        (
            "on fixed test data",
            "every new training batch (08)",
            "new data as it arrives (09)",
        ),
    ),
    (
        "model tests",
        "behaviour, quality gate (07)",
        (
            "on a model trained in CI",
            "the candidate against baseline and champion (07, 08)",
            "quality once the labels arrive (09)",
        ),
    ),
    (
        "integration and serving tests",
        "the pipeline end to end, the served model (08)",
        (
            "the whole pipeline on small data",
            "serve the candidate, smoke test (08)",
            "health and latency of the served model",
        ),
    ),
)


def ml_test_pyramid() -> Figure:
    """Draw the ML test pyramid and where each layer runs: on each commit, before promotion, live.

    Introduced in notebook 07 (testing ML systems) and its deck. The pyramid keeps the shape of
    M. Cohn's test pyramid (*Succeeding with Agile*, 2009: many unit tests at the base, fewer
    service tests in the middle, a few user-interface tests at the top): unit tests of code at
    the base, the layers an ML system adds above them (data tests and model tests), and
    integration and serving tests at the top. The table beside it says what each
    layer checks in each place (:data:`ML_TEST_LAYERS`, :data:`TEST_PLACES`): unit tests run
    only when the code changes; the other layers run again when the data or the model changes.

    Returns:
        A 12 x 5.2 inch figure titled "The ML test pyramid: what runs where".
    """
    from matplotlib.patches import Polygon

    fig = _new_figure(12.0, 5.2)
    fig.suptitle("The ML test pyramid: what runs where", fontsize=14, fontweight="bold", y=0.975)
    bottom, top = 0.1, 0.82  # the vertical extent of the layers, in figure coordinates
    pyramid = _blank_axes(fig, (0.01, bottom, 0.34, top - bottom))
    table = _blank_axes(fig, (0.36, bottom, 0.63, top - bottom))
    n = len(ML_TEST_LAYERS)
    fills = ("#dbe9f6", "#c6dcef", "#b0cde6", "#9bbfde")
    gap = 0.02
    for i, (name, example, places) in enumerate(ML_TEST_LAYERS):
        y0, y1 = i / n + gap / 2, (i + 1) / n - gap / 2
        half0, half1 = 0.49 - 0.26 * i / n, 0.49 - 0.26 * (i + 1) / n  # half-widths at y0, y1
        layer = Polygon(
            [(0.5 - half0, y0), (0.5 + half0, y0), (0.5 + half1, y1), (0.5 - half1, y1)],
            closed=True,
            facecolor=fills[i % len(fills)],
            edgecolor=_STAGE_EDGE,
            linewidth=1.4,
            transform=pyramid.transAxes,
        )
        layer.set_gid(f"pyramid:{name}")
        pyramid.add_patch(layer)
        middle = (y0 + y1) / 2
        pyramid.text(
            0.5,
            middle + 0.012,
            textwrap.fill(name, 22),
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            color=_INK,
            transform=pyramid.transAxes,
        ).set_gid(f"pyramid:{name}:label")
        pyramid.text(
            0.5,
            middle - 0.012,
            textwrap.fill(example, 24 if i == n - 1 else 34),
            ha="center",
            va="top",
            fontsize=9,
            color=_MUTED,
            transform=pyramid.transAxes,
        )
        width = 1 / len(TEST_PLACES)
        for j, text in enumerate(places):
            centre = ((j + 0.5) * width, (y0 + y1) / 2)
            size = (width - 0.02, y1 - y0)
            if text is None:
                _box(
                    table,
                    centre,
                    size,
                    "does not run here",
                    fill="white",
                    edge="#bbbbbb",
                    text_colour="#999999",
                    fontsize=9,
                )
                continue
            _box(
                table,
                centre,
                size,
                textwrap.fill(text, 30),
                fontsize=9.5,
                gid=f"runs:{name}:{TEST_PLACES[j]}",
            )
    for j, place in enumerate(TEST_PLACES):
        table.text(
            (j + 0.5) / len(TEST_PLACES),
            1.04,
            place,
            ha="center",
            va="bottom",
            fontsize=11,
            fontweight="bold",
            color=_HIGHLIGHT_EDGE,
            transform=table.transAxes,
        )
    fig.text(
        0.18,
        0.015,
        "base: many fast tests of code\ntop: few slow tests of the whole system",
        ha="center",
        fontsize=9.5,
        color=_MUTED,
    )
    fig.text(
        0.675,
        0.03,
        "unit tests run when the code changes; data and model tests run again when the data do",
        ha="center",
        fontsize=9.5,
        color=_MUTED,
    )
    return fig
