# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TOKENOFFSET_VAR_DIR=/app/var
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . \
 && DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build TOKENOFFSET_ENCRYPTION_KEYS=build:AA== \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 1000 app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "tokenoffset.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
