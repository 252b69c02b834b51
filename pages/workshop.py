"""Workshop: a room answers on its own devices; the facilitator sees the team and its gaps live.

Routing by query parameters (all validated in diagnostics.workshop):
``/workshop`` create or join; ``/workshop?workshop=CODE`` a participant (``&p=TOKEN`` once joined,
so reopening the link resumes); ``/workshop?workshop=CODE&key=KEY`` the facilitator link, which
opens the dashboard and becomes ``/workshop?workshop=CODE&view=facilitator``: the session keeps the
key, the address bar a projector shows does not.
"""

import streamlit as st

from diagnostics import workshop as ws
from ui import workshop_dashboard as dashboard
from ui import workshop_views as views
from ui.errors import stop_on_error
from ui.frame import require_router

require_router()
st.title("Workshop")

params = st.query_params
with stop_on_error():
    views.store()

if "workshop" not in params:
    st.write(
        "Run the questionnaires with a whole team at once: everyone answers on their own phone or "
        "laptop, and you see the room's verdict and where the roles see things differently."
    )
    views.render_start()
elif "key" in params or params.get("view") == ws.FACILITATOR_VIEW:
    dashboard.render_facilitator(params.get("workshop", ""), params.get("key"))
else:
    views.render_participant(params.get("workshop", ""), params.get("p"))
