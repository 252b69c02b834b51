"""Funnel page (coming next)."""

import streamlit as st

st.title("Funnel")
st.info("This view is being built. The Data page already works with the bundled sample.")
