# syntax=docker/dockerfile:1
# Herald's production image, on the current Node LTS line (24; the code also runs on Node >= 20.19, see
# "Supported runtimes" in the README). Build: docker build -t herald . (or docker compose build).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/package.json web/package-lock.json ./web/
RUN npm ci --prefix web --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The web console, served under /console.
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 3000
# No curl in the slim image: node asks the liveness route itself. The API role serves it on PORT;
# the worker role serves it (with /metrics) on HERALD_METRICS_PORT.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const e = process.env; const port = e.HERALD_ROLE === 'worker' ? e.HERALD_METRICS_PORT || 9464 : e.PORT || 3000; fetch('http://127.0.0.1:' + port + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
