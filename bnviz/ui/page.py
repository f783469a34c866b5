"""The page: settings from the link and the sidebar -> runs A and B -> the training view and the tabs."""
import streamlit as st

from ..budget import Budget, data_shape, fit
from ..compare import shared_start
from ..train import architecture, initial_params
from ..visitor_text import shown
from . import tabs
from .controls import (
    DATASET_LABELS,
    compare_from_state,
    compare_widgets,
    config_from_state,
    fit_batch_size,
    seed_widgets,
    sidebar,
)
from .lessons import experiments_box, lessons_tab
from .runs import builtin_data, data_key, fit_run, get_run, get_runs, is_cached, uploaded_data
from .state import read_url, share_query, write_url
from .watch import draw_partial, draw_view, page_style

PAIR_SHARE = 0.5      # of one run's budget, for each of runs A and B

INTRO = ("Train a small network on student data and watch what batch normalization does to it. "
         "Every setting is in the sidebar and in this page's link: share the link and others see the same "
         "experiment, number for number.")


def load_data(cfg, choice, page):
    """(Dataset, data key, uploaded?) for the chosen source; a bad upload falls back to the built-in set."""
    if choice == "upload":
        file = st.session_state.get("upload")
        if file is None:
            st.info("Upload a CSV in the sidebar (for example columns cgpa, iq, placed). Until then the lab uses "
                    f"{DATASET_LABELS[cfg.dataset]}.")
        else:
            data, error = uploaded_data(file.getvalue(), cfg.seed, cfg.test_fraction)
            if error:
                st.error(shown(f"That file cannot be used: {error}", limit=None))
            else:
                st.caption(shown(" ".join(data.notes), limit=None))   # the notes quote header names
                return data, data_key(cfg, file.getvalue()), True
    elif page.get("source") == "upload":
        st.info("This link was made with an uploaded CSV, which links cannot carry; showing the built-in data.")
    data = builtin_data(cfg.dataset, cfg.seed, cfg.test_fraction, cfg.data_size, cfg.data_noise)
    return data, data_key(cfg, None), False


def main():
    st.set_page_config(page_title="bnviz · batch norm lab", page_icon="🧪", layout="wide")
    if "seeded" not in st.session_state:                 # a new visitor: the link decides everything
        cfg, page, warnings = read_url()
        seed_widgets(cfg, page["source"])
        st.session_state.update(seeded=True, last_good=cfg, link_cfg=cfg, link_warnings=warnings, page=page,
                                page_compare=page["compare"])

    page_style()
    st.markdown("#### bnviz: a batch normalization lab")
    st.caption(INTRO)

    # Settings come from the widgets' state, so the charts can be drawn before the sidebar.
    cfg, choice, problems = config_from_state(st.session_state["last_good"])
    data, key, uploaded = load_data(cfg, choice, st.session_state["page"])
    fitted = fit_batch_size(len(data.y_train))
    if fitted:
        cfg = cfg.replace(batch_size=len(data.y_train))
        st.caption(fitted)
    page, cfg_b, b_warnings = compare_from_state(cfg, st.session_state["page"])
    if cfg != st.session_state["link_cfg"]:          # the visitor has moved on from the link
        st.session_state["link_warnings"] = []
    notes = [f"The link asked for something this lab cannot do. {w}" for w in st.session_state["link_warnings"]]
    for text in notes + problems + b_warnings:          # they quote what the link or the widgets held
        st.warning(shown(text, limit=None))
    page["source"] = "upload" if uploaded else "builtin"
    st.session_state.update(last_good=cfg, page=page)
    write_url(cfg, page)

    # runs A and B train for one visitor's page: together they get one run's budget
    share = PAIR_SHARE if cfg_b is not None else 1.0
    budget = Budget().times(share)
    run_cfg, data, key, note = fit_run(cfg, data, key, uploaded, budget)
    if note:
        pair = " Runs A and B share one run's budget, half each." if cfg_b is not None else ""
        st.info(f"{note}{pair} [Open exactly that experiment](?{share_query(run_cfg, page)})")
    scenario_chips(run_cfg, page)
    thinned = st.empty()                           # what a long run's record kept, once the run is known
    # Cached runs: charts first, then the sidebar (the first chart shows sooner).
    # A run to train: the sidebar first, so the controls are there while it streams.
    most = None if cfg_b is None else budget.max_bytes      # each of a pair's records: half the memory
    controls_first = not is_cached(run_cfg, key, most=most)
    view = st.empty()                              # the training view, first under any notes
    if controls_first:
        draw_sidebar(cfg, page, data, a=None)
    if cfg_b is None:
        a = get_run(run_cfg, data, key, "run A", on_partial=lambda partial: draw_partial(view, partial, None, data))
        b = None
    else:
        # B starts from A's initial weights (bnviz.compare): known before A trains, so both train at once
        b_cfg = fit(cfg_b.replace(data_size=run_cfg.data_size), len(data.y_train), Budget().times(PAIR_SHARE),
                    resizable_data=False, **data_shape(data)).config
        a_start = initial_params(run_cfg, architecture(run_cfg, data.n_features, data.n_classes))
        start = shared_start(a_start, initial_params(b_cfg, architecture(b_cfg, data.n_features, data.n_classes)),
                             run_cfg, b_cfg)

        def partial_pair(runs):
            if runs[0] is not None:            # the view follows A; B joins once it has steps to show
                draw_partial(view, runs[0], runs[1], data)

        a, b = get_runs([(run_cfg, data, key, "run A", None, most), (b_cfg, data, key, "run B", start, most)],
                        on_partial=partial_pair)
    said = thinning_note(a, b)
    if said:
        thinned.info(said)
    draw_view(view, a, b, data)
    tabs.run_notes(a, b)

    experiments_box()
    chosen = st.tabs(list(tabs.TABS), key="tab", bind="query-params")
    draw = {
        "Training": lambda: tabs.training_tab(a, b, data),
        "Lessons": lessons_tab,
        "Loss landscape": lambda: tabs.landscape_tab(a, b, data),
        "Activations": lambda: tabs.activations_tab(a, b, data),
        "Running statistics & test time": lambda: tabs.running_tab(a, b, data),
        "Batch calculator": lambda: tabs.calculator_tab(a, data),
        "Parameters": lambda: tabs.parameters_tab(a, b, data),
        "Sweeps": lambda: tabs.sweeps_tab(run_cfg, data, key),
        "The math": tabs.math_tab,
    }
    for name, tab in zip(tabs.TABS, chosen):
        if tab.open:
            with tab:
                draw[name]()

    if not controls_first:
        draw_sidebar(cfg, page, data, a)
    else:
        with st.sidebar:
            tabs.exports(a)


def scenario_chips(cfg, page) -> None:
    """A row of links above the view, one per scenario (bnviz.scenarios); the one open is marked."""
    from ..lessons import experiment_config
    from ..scenarios import SCENARIOS

    chips = []
    for scenario in SCENARIOS:
        here = experiment_config(scenario.query) == cfg and page.get("compare") == "bn"
        chips.append(f"**{scenario.name}** (open)" if here else f"[{scenario.name}](?{scenario.query})")
    # one short line of caption text: the view and its sentence must still fit a laptop's first screen
    st.caption("BN on against off: " + " · ".join(chips),
               help="\n\n".join(f"**{s.name}:** {s.about}" for s in SCENARIOS))


def thinning_note(a, b) -> str | None:
    """The runs' own sentences on what their records kept at a stride, or None when they kept every step."""
    if b is None:
        return a.thinning
    said = [f"Run {name}: {r.thinning}" for r, name in ((a, "A"), (b, "B")) if r.thinning]
    return " ".join(said) or None


def draw_sidebar(cfg, page, data, a) -> None:
    """The controls, the link to this experiment and (once run A exists) its exports."""
    sidebar(len(data.y_train))
    compare_widgets(page["compare"])
    with st.sidebar:
        st.header("Share and export", divider="gray")
        base = st.context.url.split("?")[0] if st.context.url else ""
        query = share_query(cfg, page)
        link = f"{base}?{query}" if query else base
        st.session_state["share_link"] = link
        st.text_input("Link to this experiment", key="share_link",
                      help="The link opens this exact experiment, number for number.")
        with st.popover("Copy link", icon=":material/content_copy:", width="stretch"):
            # inside a popover the code block (and its copy button) loads only when opened
            st.code(link, language=None, wrap_lines=True)
        if a is not None:
            tabs.exports(a)
