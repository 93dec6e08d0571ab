"""Aftercare: the post-sales console's domain code, importable without Streamlit."""

__version__ = "0.1.0"
