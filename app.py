"""bnviz: a batch normalization lab. `make run` starts this Streamlit page (bnviz/ui/page.py).

Nothing is imported at the top on purpose: the worker processes that train
(bnviz.workers, started with "spawn") re-run this file as their main module,
and importing the page there would load Streamlit, Plotly and pandas into
every worker (measured: 250 MB each, and a slower garbage collection after
every job).
"""
if __name__ == "__main__":
    from bnviz.ui.page import main

    main()
