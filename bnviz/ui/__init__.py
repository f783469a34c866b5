"""The Streamlit page's parts. The only place under bnviz/ that imports streamlit."""
