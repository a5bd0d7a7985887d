# The floor Worker (worker.js) under bare workerd, as bench/workerd.capnp
# runs the product. MODE and MOCK_URL come from the environment; the
# storage directory and port from the command line (run.mjs).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .floor),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "do-disk", disk = (path = "/tmp/floor-bench-do", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8897", http = (), service = "main")],
);

const floor :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "COUNTER", durableObjectNamespace = "Counter"),
    (name = "MODE", fromEnvironment = "MODE"),
    (name = "MOCK_URL", fromEnvironment = "MOCK_URL"),
  ],
  durableObjectNamespaces = [(className = "Counter", uniqueKey = "floor-bench-counter", enableSql = true)],
  durableObjectStorage = (localDisk = "do-disk"),
);
