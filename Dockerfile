# Fintalk: the Django ASGI app under gunicorn + uvicorn-worker.
# docker-compose.yml runs migrations and seeds the demo bank before starting it; this
# image's own command only starts the server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A non-root user with a home directory (gunicorn keeps its control socket under $HOME),
# and an app directory it owns (so the SQLite default can be used without compose).
RUN groupadd --system fintalk \
    && useradd --system --gid fintalk --create-home --home-dir /home/fintalk \
       --shell /usr/sbin/nologin fintalk \
    && install -d -o fintalk -g fintalk /app

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=fintalk:fintalk . .

USER fintalk
ENV HOME=/home/fintalk \
    HOST=0.0.0.0 \
    PORT=8000

EXPOSE 8000

# Static files are not configured yet, so there is no collectstatic step.
CMD ["gunicorn", "fintalk.asgi:application", "-c", "gunicorn.conf.py"]
