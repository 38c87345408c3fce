# tcpcast in a container: Node 20 on Debian bookworm with libpcap; the native addon and TypeScript are built from source.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so source edits do not redo npm ci; npm ci's install script builds the addon,
# which needs binding.gyp and native/.
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
# Capturing needs NET_RAW/NET_ADMIN (granted by docker-compose.yml), not root inside the container's filesystem.
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
