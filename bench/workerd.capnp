# Bare-workerd config for benchmarking the built AI Ratelimit Worker.
#
# Runs what `cd worker && worker-build --release` emits in worker/build/
# (index.js, which imports ./index_bg.wasm; worker/shim.mjs is only a
# re-export of index.js and is not needed) without wrangler's dev proxy in
# front of it. `node bench/run.mjs` starts it; by hand, from the repo root:
#
#   set -a; . ./.dev.vars; set +a
#   export ENVIRONMENT=development CORS_ORIGIN=http://localhost:3001 \
#     EMAIL_FROM='AI Ratelimit <login@localhost>' APP_URL=http://localhost:3001 \
#     PROVIDER_TIMEOUT_MS=60000 MAX_BODY_BYTES=1048576 AUTH_RATE_LIMIT_PER_IP=30
#   node_modules/@cloudflare/workerd-linux-64/bin/workerd serve bench/workerd.capnp \
#     --directory-path do-disk=$(mktemp -d)
#
# Every var and secret is read from the environment (`fromEnvironment`), so
# this file holds no secret and cannot drift from wrangler.toml: run.mjs
# passes wrangler.toml's [vars] and .dev.vars. The DO storage directory is
# given with --directory-path (run.mjs uses a fresh temp dir per run).
# Paths in `embed` are relative to this file.

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .aiRatelimit),
    # Outbound fetch(): workerd only allows public addresses by default; the
    # provider (the mock) is on loopback.
    (name = "internet", network = (allow = ["public", "private", "local"])),
    # Hyperdrive's origin: the dev-stack Postgres (override with
    # --external-addr pg=host:port).
    (name = "pg", external = (address = "127.0.0.1:54329", tcp = ())),
    # SQLite files of the IdentityLimiter objects.
    (name = "do-disk", disk = (path = "/tmp/ai-ratelimit-bench-do", writable = true)),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8788", http = (), service = "main"),
  ],
);

const aiRatelimit :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "../worker/build/index.js"),
    (name = "index_bg.wasm", wasm = embed "../worker/build/index_bg.wasm"),
  ],
  # as wrangler.toml compatibility_date (no compatibility_flags there)
  compatibilityDate = "2025-09-01",
  bindings = [
    # wrangler.toml [vars]
    (name = "ENVIRONMENT", fromEnvironment = "ENVIRONMENT"),
    (name = "CORS_ORIGIN", fromEnvironment = "CORS_ORIGIN"),
    (name = "EMAIL_FROM", fromEnvironment = "EMAIL_FROM"),
    (name = "APP_URL", fromEnvironment = "APP_URL"),
    (name = "PROVIDER_TIMEOUT_MS", fromEnvironment = "PROVIDER_TIMEOUT_MS"),
    (name = "MAX_BODY_BYTES", fromEnvironment = "MAX_BODY_BYTES"),
    (name = "AUTH_RATE_LIMIT_PER_IP", fromEnvironment = "AUTH_RATE_LIMIT_PER_IP"),
    # secrets (.dev.vars locally)
    (name = "JWT_SECRET", fromEnvironment = "JWT_SECRET"),
    (name = "ENCRYPTION_KEY", fromEnvironment = "ENCRYPTION_KEY"),
    # [[durable_objects.bindings]]
    (name = "IDENTITY_LIMITER", durableObjectNamespace = "IdentityLimiter"),
    (name = "PROJECT_BUDGET", durableObjectNamespace = "ProjectBudget"),
    (name = "ANALYTICS_RELAY", durableObjectNamespace = "AnalyticsRelay"),
    # [[hyperdrive]] (localConnectionString's database and credentials)
    (name = "HYPERDRIVE", hyperdrive = (
      designator = "pg",
      database = "ai_ratelimit",
      user = "postgres",
      password = "postgres",
      scheme = "postgresql",
    )),
  ],
  # [[migrations]] new_sqlite_classes = ["IdentityLimiter"], then ["ProjectBudget"], then ["AnalyticsRelay"]
  durableObjectNamespaces = [
    (className = "IdentityLimiter", uniqueKey = "ai-ratelimit-identity-limiter", enableSql = true),
    (className = "ProjectBudget", uniqueKey = "ai-ratelimit-project-budget", enableSql = true),
    (className = "AnalyticsRelay", uniqueKey = "ai-ratelimit-analytics-relay", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-disk"),
  globalOutbound = "internet",
);
