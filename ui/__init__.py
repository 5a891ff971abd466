"""Streamlit-only helpers that every page shares: texts, URL-bound settings, charts, code export."""
