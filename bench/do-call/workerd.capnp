# A Worker and a Durable Object answering the same small call as an RPC
# method and as a fetch (run.mjs measures both). Storage dir and port come
# from the command line (--directory-path, --socket-addr).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .bench),
    (name = "do-disk", disk = (path = "/tmp/do-call-bench", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8899", http = (), service = "main")],
);

const bench :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [(name = "COUNTER", durableObjectNamespace = "Counter")],
  durableObjectNamespaces = [(className = "Counter", uniqueKey = "do-call-bench-counter", enableSql = true)],
  durableObjectStorage = (localDisk = "do-disk"),
);
