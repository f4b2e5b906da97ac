# MultilayerCache service image. Build: docker build -t mlcache .
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-slim
WORKDIR /app
# 0.0.0.0 inside the container: the service then refuses to start without authentication
# (MLCACHE_AUTH_TOKEN, or auth in MLCACHE_CONFIG), unless auth.disabled says otherwise.
ENV NODE_ENV=production \
    MLCACHE_HOST=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/mlcache.js"]
CMD ["serve"]
