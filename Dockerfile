# bnviz in a container: docker build -t bnviz . && docker run -p 8501:8501 bnviz
# (podman: podman build --format docker -t bnviz . ; without --format docker the HEALTHCHECK is dropped)
# One replica per container; compose.yaml runs several behind nginx.
FROM python:3.11-slim
WORKDIR /app
# The locked set (requirements.lock, `make lock`): the same packages, checked against their hashes, at every build.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
# A visitor's link must not be able to touch anything it need not: the server runs as a plain user.
RUN useradd --create-home --uid 10001 bnviz
COPY app.py pyproject.toml ./
COPY .streamlit .streamlit
COPY bnviz bnviz
COPY data data
COPY deploy deploy
# Production settings: no file watcher (it stalls a busy server's event loop), one BLAS thread per process.
ENV STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    PYTHONUNBUFFERED=1
USER bnviz
# The training loop is compiled by numba (bnviz.compiled): compiled once here, at build time, into the
# user's cache (the package folder is read-only to this user), so a container starts warm.
ENV NUMBA_CACHE_DIR=/home/bnviz/.cache/bnviz-numba
RUN python -c "from bnviz.compiled import warm; print(f'training loop compiled in {warm():.1f} s')"
EXPOSE 8501
# Healthy = warmed (the default experiment and every lesson measured: /tmp/bnviz.ready) and answering.
# Training runs in worker processes, so the health check answers even while the server is busy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 \
    CMD test -e /tmp/bnviz.ready && python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
# Starts Streamlit and opens the default experiment once (warm start) before it reports healthy.
CMD ["python", "-m", "bnviz.ui.serve", "--replicas", "1", "--port", "8501", "--address", "0.0.0.0", \
     "--log-to-stdout", "--ready-file", "/tmp/bnviz.ready"]
