"""bnviz page: train the network a link describes and show how it learns."""
import streamlit as st

from bnviz import Config, load_for, train


@st.cache_data(max_entries=64, show_spinner=False)
def cached_run(cfg: Config):
    return train(cfg, load_for(cfg))


def main():
    st.set_page_config(page_title="bnviz: batch norm lab", layout="wide")
    cfg, warnings = Config.from_query(st.query_params.to_dict())
    for w in warnings:
        st.warning(w)
    st.title("bnviz: a batch normalization lab")
    run = cached_run(cfg)
    st.caption(run.arch.summary().replace("\n", "  ·  "))
    st.line_chart({"mini-batch loss": run.train_loss}, x_label="step", y_label="loss")


if __name__ == "__main__":
    main()
