# The production image: gunicorn serves the web app (whitenoise serves the static files
# collected at build time); the same image runs the Celery worker and beat
# (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ITSM_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/itsm itsm \
    && install -d -o itsm -g itsm /data

WORKDIR /app

# Dependencies first (the pinned versions in constraints.txt), so that a code change does
# not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-c', 'constraints.txt', *deps])"

COPY . .
RUN pip install --no-deps -c constraints.txt -e . \
    && SECRET_KEY=collectstatic-only CELERY_BROKER_URL=memory:// ITSM_DATA_DIR=/tmp/build \
       python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build

USER itsm
VOLUME ["/data"]
EXPOSE 8000

CMD ["gunicorn", "itsm.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
