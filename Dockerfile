# tcpcast in a container: built from source on Node 22 (Debian bookworm), run as the unprivileged user `node` with only CAP_NET_RAW/CAP_NET_ADMIN.
# Images are pinned to patch releases: bump them together with docker-compose.yml's.
# test/system/dockerfile.test.ts replays the build stage's steps with only the files copied before each.
FROM node:22.12.0-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# .npmrc is honoured (onnxruntime-node's CUDA download stays off); its nodedir=/usr is Debian's layout, the
# official image keeps Node's headers under /usr/local.
ENV npm_config_nodedir=/usr/local
# Dependencies first, so source edits do not redo the install. Scripts off: the package's own install (node-gyp)
# and prepare (tsc) scripts need the sources, which are copied next.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY tsconfig.json binding.gyp ./
COPY scripts/gen-schema.js ./scripts/gen-schema.js
COPY native ./native
COPY src ./src
COPY bin ./bin
COPY model ./model
RUN npm run build:native && npm run build:ts && npm prune --omit=dev

FROM node:22.12.0-bookworm-slim
# A copy of node that carries the two capabilities capture needs as file capabilities, so the process runs as
# `node` (uid 1000), not root. The container must be given them (docker-compose.yml: cap_drop ALL, cap_add
# NET_RAW + NET_ADMIN): without them in its bounding set the kernel refuses to start the capture binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin \
 && cp /usr/local/bin/node /usr/local/bin/node-capture \
 && setcap cap_net_raw,cap_net_admin=ep /usr/local/bin/node-capture \
 && apt-get purge -y libcap2-bin \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/build/Release/tcpcast.node ./build/Release/tcpcast.node
COPY --from=build /app/model ./model
COPY --from=build /app/bin ./bin
USER node
ENTRYPOINT ["/usr/local/bin/node-capture", "/app/dist/src/cli.js"]
