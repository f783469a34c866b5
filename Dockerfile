# bnviz in a container: docker build -t bnviz . && docker run -p 8501:8501 bnviz
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py pyproject.toml ./
COPY .streamlit .streamlit
COPY bnviz bnviz
COPY data data
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
ENV STREAMLIT_SERVER_FILE_WATCHER_TYPE=none
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.fileWatcherType=none"]
