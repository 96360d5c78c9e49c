# qdperf web image (also used by the Celery worker and beat services in docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static assets are vendored under static/; collect them (hashed names) for whitenoise.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app qdperf \
    && mkdir -p /app/private_media && chown qdperf /app/private_media

USER qdperf
EXPOSE 8000
CMD ["gunicorn", "qdperf.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
