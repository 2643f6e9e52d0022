# Production image: one image for every Amur part; the compose file picks the command.
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY stream ./stream
COPY vision ./vision
COPY gis ./gis
COPY command_ui ./command_ui
RUN pip install --no-cache-dir . \
 && if [ -f command_ui/web/package.json ]; then cd command_ui/web && npm ci --no-audit --no-fund; fi

USER nobody
ENTRYPOINT ["amur"]
