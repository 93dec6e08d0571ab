"""The only part of core that imports Streamlit: navigation, auth glue, cached loaders, shared widgets."""
