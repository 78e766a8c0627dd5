FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 app && mkdir -p /app/var && chown app /app/var
USER app
ENV API_HOST=0.0.0.0 FLOWER_HOST=0.0.0.0 ZOOM_SANDBOX_HOST=0.0.0.0 METRICS_HOST=0.0.0.0
ENTRYPOINT ["python", "-m", "stack.entry"]
CMD ["api"]
