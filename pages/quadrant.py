"""Rep quadrant page (coming next)."""

import streamlit as st

st.title("Rep quadrant")
st.info("This view is being built. The Data page already works with the bundled sample.")
