# syntax=docker/dockerfile:1
# Mooring's image: one image for every role (`serve`, `watch-transactions`, `actors`, `execute-outgoing`, …).
# Node runs the TypeScript sources directly (type stripping): no build step, only production dependencies.
#   docker build -t mooring .
#   docker run -p 8000:8000 -v mooring-data:/var/lib/mooring mooring          # sandbox on the embedded defaults
#   docker run mooring --help                                                 # the commands and variables

ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies, installed exactly from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    MOORING_DATA_DIR=/var/lib/mooring
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY machines ./machines
COPY streams ./streams
COPY src ./src
# The embedded database (PGlite) and the sandbox keys live in the data folder: a volume the `node` user owns.
RUN mkdir -p /var/lib/mooring && chown node:node /var/lib/mooring
USER node
VOLUME ["/var/lib/mooring"]
EXPOSE 8000
# /ready checks the database, the bus and the watcher's contact with Horizon. Roles without HTTP (workers,
# watcher, actors) have no port: docker-compose.yml turns the check off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no shell in between: node is PID 1 and gets SIGTERM itself; Mooring handles it and closes cleanly.
ENTRYPOINT ["node", "bin/mooring.js"]
CMD ["serve"]
