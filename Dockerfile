# arxiv-bot: one process runs Slack, Discord, the daily schedule and the health endpoint.
# Python 3.11, the version the lock files are compiled for.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements-bot.lock ./
RUN pip install --no-cache-dir --prefix=/install --require-hashes -r requirements-bot.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install --no-deps .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 arxivbot
COPY --from=build /install /usr/local
USER arxivbot
WORKDIR /home/arxivbot
ENV PYTHONUNBUFFERED=1 ARXIV_BOT_LOGGING__FORMAT=json
EXPOSE 8080 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
STOPSIGNAL SIGTERM
CMD ["arxiv-bot", "run"]
