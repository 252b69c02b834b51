"""Leadership model page (coming next)."""

import streamlit as st

st.title("Leadership model")
st.info("This view is being built. The Data page already works with the bundled sample.")
