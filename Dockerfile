# Make Your Number: the app on a slim Python, as a non-root user, with its data on a volume.
# Every install step here is one `make` runs in CI too (a test compares them).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock ./
RUN python -m pip install --quiet --upgrade pip
RUN python -m pip install --quiet --require-hashes -r requirements.lock

COPY . .
COPY deploy/streamlit.toml .streamlit/config.toml
RUN useradd --create-home --uid 10001 myn && mkdir /data && chown myn /data
USER myn

# Workshops: a DuckDB file on the volume by default; compose sets a postgresql:// URL instead.
ENV MYN_WORKSHOP_DB=/data/workshops.duckdb
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
