"""Make your number page (coming next)."""

import streamlit as st

st.title("Make your number")
st.info("This view is being built. The Data page already works with the bundled sample.")
