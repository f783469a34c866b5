# bnviz in a container: docker build -t bnviz . && docker run -p 8501:8501 bnviz
# One replica per container; compose.yaml runs several behind nginx.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py pyproject.toml ./
COPY .streamlit .streamlit
COPY bnviz bnviz
COPY data data
COPY deploy deploy
# Production settings: no file watcher (it stalls a busy server's event loop), one BLAS thread per process.
ENV STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    PYTHONUNBUFFERED=1
EXPOSE 8501
# Training runs in worker processes, so the health check answers even while the server is busy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
# Starts Streamlit and opens the default experiment once (warm start) before visitors arrive.
CMD ["python", "-m", "bnviz.ui.serve", "--replicas", "1", "--port", "8501", "--address", "0.0.0.0"]
