"""The Lessons view: every claim about batch norm as a card with the verdict its runs give.

The verdicts come from ``bnviz.lessons.measure`` over SEEDS. They are computed
once per server process and shared by every visitor: the first page view
starts a background thread that hands the lessons, one at a time, to the
server's worker pool (so the measuring neither holds the web server's GIL nor
takes more than one worker from visitors' trainings). Until a lesson's runs
are done its card says so and the view refreshes itself: nobody waits on a
page load.
"""
from __future__ import annotations

import threading
import time
from html import escape

import numpy as np
import streamlit as st

from .. import figures
from ..sweeps import batch_size_summary

EXPERIMENTS = ("notes", "shows")        # as bnviz.lessons names them; the engine is imported only when measuring

SEEDS = tuple(range(10))
REFRESH_SECONDS = 2
BADGES = {  # status -> (label, colour, icon)
    "holds": ("holds", "green", ":material/check_circle:"),
    "partly": ("holds partly", "orange", ":material/contrast:"),
    "does not show": ("does not show on this data", "gray", ":material/block:"),
}

MEASURING = "Measuring on the server"     # the note shown until every verdict is in


class Board:
    """The verdicts of every lesson's experiments, measured in one background thread and kept for the process.

    lessons: objects with an ``id`` (and ``same_experiment`` when both experiments are one);
    measure(lesson, seeds, experiment) -> Verdict, called through submit(measure, lesson,
    seeds, experiment) -> Future when given (a worker pool), else in the thread itself.
    Each lesson's experiments are measured in EXPERIMENTS order before the next lesson's, so
    cards fill in whole. Reading never blocks: ``verdict`` is None until that experiment is
    measured, and a lesson whose measurement raised has an ``error`` sentence instead.
    known: {(lesson id, experiment): Verdict} measured before (the shipped ones): a lesson with every
    experiment known is ready from the start and is not measured again.
    """

    def __init__(self, lessons, measure, seeds=SEEDS, submit=None, experiments=EXPERIMENTS, known=None):
        self.lessons = tuple(lessons)
        self.seeds = tuple(seeds)
        self.experiments = tuple(experiments)
        self._measure = measure
        self._submit = submit
        # verdicts measured before (bnviz.shipped_verdicts): shown at once, never measured again
        self._verdicts: dict = dict(known or {})
        self._errors: dict = {}
        self._figures: dict = {}
        self.card_texts: dict = {}      # (lesson id, place) -> a measured card's Markdown, made once
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = None
        self.seconds: float | None = None

    def start(self) -> "Board":
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="lesson-verdicts", daemon=True)
                self._thread.start()
        return self

    def _one(self, lesson, experiment):
        if self._submit is None:
            return self._measure(lesson, self.seeds, experiment)
        return self._submit(self._measure, lesson, self.seeds, experiment).result()

    def _work(self) -> None:
        started = time.perf_counter()
        for lesson in self.lessons:
            if all((lesson.id, e) in self._verdicts for e in self.experiments):
                continue
            try:
                found = {}
                for experiment in self.experiments:
                    if found and getattr(lesson, "same_experiment", False):
                        found[experiment] = next(iter(found.values()))     # one experiment: measured once
                    else:
                        found[experiment] = self._one(lesson, experiment)
            except Exception as err:        # one broken lesson must not take the others down
                with self._lock:
                    self._errors[lesson.id] = f"{type(err).__name__}: {err}"
            else:
                with self._lock:
                    self._verdicts.update({(lesson.id, e): v for e, v in found.items()})
        self.seconds = time.perf_counter() - started
        self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every lesson is measured (for tests and benchmarks); True if done."""
        return self._done.wait(timeout)

    def verdict(self, lesson, experiment: str = "shows"):
        with self._lock:
            return self._verdicts.get((lesson.id, experiment))

    def error(self, lesson) -> str | None:
        with self._lock:
            return self._errors.get(lesson.id)

    def paper_figure(self, lesson, experiment: str = "shows") -> str | None:
        """The paper's own figure as measured (SVG) for a verdict that carries one (Ioffe & Szegedy's
        Figure 1), built once and shared; None otherwise."""
        verdict = self.verdict(lesson, experiment)
        if verdict is None or "figure1_steps" not in verdict.detail:
            return None
        return self._built((lesson.id, experiment, "paper"), lambda: figures.figure1_svg(verdict.detail))

    def _built(self, key, make):
        """The drawing stored under key, made by make() the first time (a race makes it twice, harmlessly)."""
        with self._lock:
            drawn = self._figures.get(key)
        if drawn is None:
            drawn = make()
            with self._lock:
                self._figures[key] = drawn
        return drawn

    def ready(self) -> int:
        """Lessons with every experiment measured (or an error)."""
        with self._lock:
            whole = {i for i, _ in self._verdicts if all((i, e) in self._verdicts for e in self.experiments)}
            return len(whole | set(self._errors))

    def batch_charts(self, lesson, experiment: str = "shows") -> str:
        """A verdict's charts against batch size (SVG, "" for lessons without), built once and shared."""
        verdict = self.verdict(lesson, experiment)
        if verdict is None:
            return ""
        return self._built((lesson.id, experiment, "batch"), lambda: batch_size_charts(verdict))

    def figure(self, lesson, experiment: str = "shows") -> str | None:
        """A verdict's chart (SVG), built once per lesson and experiment and shared (None until measured)."""
        verdict = self.verdict(lesson, experiment)
        if verdict is None:
            return None
        return self._built((lesson.id, experiment), lambda: spread_chart(verdict))


def spread_chart(verdict) -> str:
    """The spread over seeds a Verdict carries, drawn by ``figures.spread_svg``."""
    return figures.spread_svg(verdict.spread, verdict.spread_label, verdict.seeds, verdict.spread_log,
                              verdict.spread_bounds)


def batch_size_charts(verdict) -> str:
    """For the batch-dependence lesson, its test accuracy and loss noise against batch size (medians over
    seeds, with their range), drawn by ``figures.by_batch_size_svg``; "" for any other verdict."""
    if getattr(verdict, "lesson", "") != "batch-dependence" or "batch_size" not in verdict.detail:
        return ""
    svg = ""
    for what, label, log, bounds in (("test_acc", "test accuracy", False, (0.0, 1.0)),
                                     ("loss_noise", "loss noise", True, None)):
        series = {k.split(" ", 1)[1]: v for k, v in verdict.detail.items() if k.startswith(what + " ")}
        svg += figures.by_batch_size_svg(verdict.detail["batch_size"], series, label, log, bounds)
        svg += by_batch_size_table(verdict.detail["batch_size"], series, label)
    return svg


def by_batch_size_table(sizes, series: dict, label: str) -> str:
    """A chart against batch size as numbers, one row per batch size and one column per series (median
    over seeds, lowest to highest), in a closed <details> on one line, for a screen reader."""
    sizes = [int(v) for v in np.ravel(sizes)]
    head = "".join(f"<th scope='col'>{escape(name)}</th>" for name in series)
    rows = ""
    for j, size in enumerate(sizes):
        cells = ""
        for values in series.values():
            col = np.asarray(values, dtype=float).reshape(-1, len(sizes))[:, j]
            col = col[np.isfinite(col)]
            cells += (f"<td>{escape(fmt(np.median(col)))} ({escape(fmt(col.min()))} to {escape(fmt(col.max()))})</td>"
                      if len(col) else "<td>no value</td>")
        rows += f"<tr><th scope='row'>{size}</th>{cells}</tr>"
    return (f"<details><summary>{escape(label)} against batch size: median over seeds (lowest to highest)</summary>"
            f"<table><thead><tr><th scope='col'>batch size</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
            "</details>")


@st.cache_resource(show_spinner=False)
def lesson_board() -> Board:
    """The process's one Board, started on first use (the first page view after the server starts)."""
    from ..lessons import LESSONS, measure
    from ..shipped_verdicts import shipped
    from .runs import pool

    return Board(LESSONS, measure, submit=pool().submit, known=shipped(SEEDS)).start()


def markdown_text(text: str) -> str:
    """Text as Markdown with HTML allowed shows it literally: subscripts like μ_B must not turn
    into italics, and a < or & must not start a tag or an entity (the cards allow HTML)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in ("\\", "_", "*", "$", "~", "`", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text


def lesson_number(lesson, index: int) -> str:
    row = getattr(lesson, "notes_row", None)
    return f"{row}." if row else "+"


def badge_markdown(status: str | None) -> str:
    """An inline Markdown badge for a status (or for one still being measured)."""
    if status is None:
        return ":gray-badge[:material/hourglass_top: measuring]"
    label, colour, icon = BADGES[status]
    return f":{colour}-badge[{icon} {label}]"


# ----------------------------------------------------------------- the view


def lessons_tab() -> None:
    board = lesson_board()
    from ..verdicts import RULE

    st.markdown("Each claim the notes make about batch norm, tested on two experiments: the notes' own network on "
                "the placement data, and a setting of this lab where the claim can show (chosen by a search on other "
                f"seeds). Both sides of every comparison train with the same {len(board.seeds)} seeds, so each seed "
                "gives a pair of runs and one paired effect. The verdict and the sentence are written from what those "
                f"runs measured. {markdown_text(RULE)} The interval is the exact sign-test interval for the median "
                "effect. Another set of seeds can give another verdict.")
    if board.done:
        cards(board)
    else:
        st.fragment(run_every=REFRESH_SECONDS)(cards_while_measuring)(board)


def cards_while_measuring(board: Board) -> None:
    """Redrawn every REFRESH_SECONDS; once everything is measured, one last full rerun stops the refreshing."""
    if board.done:
        st.rerun()
    cards(board)


def cards(board: Board) -> None:
    if not board.done:
        st.info(f"{MEASURING}: {board.ready()} of {len(board.lessons)} lessons done. "
                "The cards fill in by themselves.", icon=":material/hourglass_top:")
    columns = st.columns(2, gap="medium")
    for side, column in enumerate(columns):
        # a column's cards are one Markdown element: every element is a message the server hands to
        # its event loop, and on a busy server those hand-offs were a quarter of a page's time
        column.markdown("\n\n".join(card(board, lesson, i) for i, lesson in enumerate(board.lessons)
                                      if i % 2 == side), unsafe_allow_html=True)


def card(board: Board, lesson, index: int) -> str:
    """One lesson in a bordered box (its Markdown, in the page's CSS class ``bnviz-card``): the claim,
    its rule, the verdict of each experiment with its chart, what differs between them, and a link
    to each."""
    text = board.card_texts.get((lesson.id, index))
    if text is None:
        text = card_text(board, lesson, index)
        if board.error(lesson) is None and all(board.verdict(lesson, e) is not None for e in board.experiments):
            board.card_texts[(lesson.id, index)] = text     # measured: the card stays as it is
    # blank lines around the text: Markdown reads what is inside the box as Markdown
    return f'<div class="bnviz-card" id="lessoncard-{lesson.id}">\n\n{text}\n\n</div>'


def card_text(board: Board, lesson, index: int) -> str:
    """The card's Markdown (its charts as SVG inside)."""
    from ..lessons import EXPERIMENT_NAMES, contrast, describe

    error = board.error(lesson)
    verdicts = {e: board.verdict(lesson, e) for e in board.experiments}
    parts = [f"**{lesson_number(lesson, index)} {markdown_text(lesson.claim)}**"]
    if error is not None:
        parts += [":red-badge[:material/error: could not be measured]",
                  f"The runs for this lesson stopped with an error: {markdown_text(error)}"]
    elif any(v is None for v in verdicts.values()):
        parts += [badge_markdown(None), "Its runs are training on the server; this card fills in when they finish."]
    else:
        first = verdicts["shows"]
        parts.append(f"*Rule:* {markdown_text(first.rule)}")
        for experiment in board.experiments:
            if experiment == "shows" and lesson.same_experiment:
                break
            name = EXPERIMENT_NAMES[experiment]
            if getattr(lesson, "setting", ""):          # measured on a source's own network only
                name = f"On {lesson.setting}"
            if experiment == "shows":
                name += f" ({describe(lesson.config('shows'))})"
            verdict = verdicts[experiment]
            low, high = verdict.ci
            parts += [f"**{markdown_text(name)}** {badge_markdown(verdict.status)} "
                      f"effect {markdown_text(fmt(verdict.effect))}, {verdict.level:.0%} interval "
                      f"{markdown_text(fmt(low))} to {markdown_text(fmt(high))}",
                      markdown_text(verdict.sentence), board.paper_figure(lesson, experiment),
                      board.figure(lesson, experiment), spread_table(verdict), board.batch_charts(lesson, experiment)]
        parts.append(f"**What differs:** {markdown_text(contrast(lesson, verdicts['notes'], verdicts['shows']))}")
    compares = markdown_text(" and ".join(lesson.compares))
    links = f"[Open this experiment](?{lesson.experiments['shows']})"
    if not lesson.same_experiment:
        links += f" · [Open the notes' one](?{lesson.experiments['notes']})"
    parts.append(f"{links} · compares {compares} · notes {', '.join(lesson.sources)}")
    return "\n\n".join(p for p in parts if p)


def spread_table(verdict) -> str:
    """The strip chart's numbers, one row per seed, as an HTML table in a closed <details>: what a
    screen reader reads instead of the dots (on one line: the card is one Markdown element)."""
    names = list(verdict.spread)
    head = "".join(f"<th scope='col'>{escape(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><th scope='row'>{int(seed)}</th>"
        + "".join(f"<td>{escape(fmt(verdict.spread[n][i]))}</td>" for n in names) + "</tr>"
        for i, seed in enumerate(verdict.seeds))
    return (f"<details><summary>{escape(verdict.spread_label)}: the numbers per seed</summary>"
            f"<table><thead><tr><th scope='col'>seed</th>{head}</tr></thead><tbody>{rows}</tbody></table></details>")


def fmt(x) -> str:
    from ..measures import fmt as number

    return number(x)


def experiments_box() -> None:
    """Above the tabs: every lesson in one line, both verdicts once measured, each experiment one click away."""
    board = lesson_board()
    with st.expander("Lessons from the notes: what the runs say, one click each", icon=":material/science:"):
        st.caption(f"Each verdict is measured over {len(board.seeds)} seeds, on the notes' network and where the "
                   "claim can show; the Lessons tab shows the numbers and the spread over seeds.")
        lines = []
        for i, lesson in enumerate(board.lessons):
            notes, shows = (board.verdict(lesson, e) for e in ("notes", "shows"))
            if getattr(lesson, "setting", ""):             # one experiment, on a source's own network
                lines.append(f"**{lesson_number(lesson, i)} {markdown_text(lesson.claim)}** "
                             f"[{markdown_text(lesson.setting)}](?{lesson.query}) "
                             f"{badge_markdown(None if shows is None else shows.status)}")
                continue
            lines.append(f"**{lesson_number(lesson, i)} {markdown_text(lesson.claim)}** "
                         f"notes' network {badge_markdown(None if notes is None else notes.status)} · "
                         f"[where it shows](?{lesson.experiments['shows']}) "
                         f"{badge_markdown(None if shows is None else shows.status)}")
        st.markdown("\n\n".join(lines))                    # one element for all: see card()


def find_lesson(lesson_id: str):
    lesson = next((l for l in lesson_board().lessons if l.id == lesson_id), None)
    if lesson is None:
        raise KeyError(f"no lesson {lesson_id!r}")
    return lesson


def lesson_query(lesson_id: str) -> str:
    """The link query that opens a lesson's experiment."""
    return find_lesson(lesson_id).query


def lesson_note(lesson_id: str) -> None:
    """Under a tab's chart: what the runs say about the claim it illustrates, once measured.

    Tabs state only what always holds; whether a claim shows on this data is
    this generated sentence, never a sentence written in advance.
    """
    board, lesson = lesson_board(), find_lesson(lesson_id)
    notes, shows = (board.verdict(lesson, e) for e in ("notes", "shows"))
    if notes is None or shows is None:
        st.caption(f"{badge_markdown(None)} What {len(board.seeds)} seeds say about "
                   f"“{markdown_text(lesson.claim)}” appears here once measured (Lessons tab).")
        return
    text = f"{badge_markdown(shows.status)} **Over {len(shows.seeds)} seeds:** {markdown_text(shows.sentence)}"
    if not lesson.same_experiment:
        text += (f" On the notes' network it {badge_markdown(notes.status)} "
                 f"[(open it)](?{lesson.experiments['notes']}).")
    st.caption(text + f" [Open this experiment](?{lesson.query})")


@st.cache_resource(show_spinner=False)
def _measured() -> dict:
    """Measurements behind the lessons' larger charts, kept for the process: {key: result}."""
    return {}


def batch_size_sweep(seeds=SEEDS) -> dict:
    """``bnviz.measures.batch_noise`` over `seeds` (the batch-size lesson's experiment), computed once
    in the worker pool and shared by every visitor."""
    from ..measures import batch_noise
    from .runs import wait_for

    key = ("batch-noise", tuple(seeds))
    store = _measured()
    if key not in store:
        store[key] = wait_for(key, lambda update: None, batch_noise, tuple(seeds))
    return store[key]


def batch_size_chart(seeds=SEEDS):
    """The batch-size sweep's chart, built once from ``batch_size_sweep`` and shared."""
    key = ("batch-noise-figure", tuple(seeds))
    store = _measured()
    if key not in store:
        store[key] = figures.batch_size_figure(batch_size_summary(batch_size_sweep(seeds)))
    return store[key]
