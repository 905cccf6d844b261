# prodouane-relay: a small multi-stage image running `prodouane-relay run` as a non-root user.
# Build: docker build -t prodouane-relay .      Run: see compose.yaml.

# --- build stage: wheels for the project and its dependencies ---------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md constraints.txt ./
COPY knowledge ./knowledge
COPY relays ./relays
COPY bot ./bot
RUN pip wheel --wheel-dir /wheels -c constraints.txt .

# --- runtime stage: only the installed wheels --------------------------------------------------
FROM python:3.11-slim
# The web server listens on every interface of the container, so `run` refuses to start without
# PRODOUANE_RELAY_STATUS_TOKEN (or PRODOUANE_RELAY_STATUS_PUBLIC=true, if an open page is meant).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PRODOUANE_RELAY_DATA_DIR=/data PRODOUANE_RELAY_WEB_HOST=0.0.0.0 PRODOUANE_RELAY_WEB_PORT=8080
RUN useradd --system --uid 10001 --home-dir /data --create-home relay
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels prodouane-relay && rm -rf /wheels
USER relay
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["prodouane-relay"]
CMD ["run"]
