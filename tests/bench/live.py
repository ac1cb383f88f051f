"""Benchmarks of the live-progress push and the product search, callable from the main bench.

- ``measure_ws_latency(stack, csv_path)``: a real WebSocket client subscribes to an import of
  ``csv_path`` on a running ``LocalStack``; for each chunk, the time from its commit to the first message
  showing it. The commit time is the chunk transaction's ``now()`` (``chunk_ledger.committed_at``), i.e.
  the *start* of that transaction, so the figure is conservative by the chunk's write time.
- ``measure_search_p95(conn_url, n)``: ``GET /api/products?q=`` latency through the HTTP API (uvicorn,
  a real connection pool) with ``n`` products in the database (generated with one ``generate_series``
  INSERT if there are fewer, then indexed by the same refresh an import triggers).

``python -m tests.bench.live [--products N] [--rows N]`` runs both on a fresh local stack.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.sync.client import connect

_WORDS = (
    "steel",
    "cotton",
    "wireless",
    "ergonomic",
    "compact",
    "vintage",
    "organic",
    "premium",
    "solar",
    "portable",
    "classic",
    "smart",
    "modular",
    "lightweight",
    "waterproof",
    "bamboo",
    "ceramic",
    "carbon",
    "linen",
    "walnut",
    "copper",
    "granite",
    "velvet",
    "titanium",
    "recycled",
)
_NOUNS = (
    "lamp",
    "chair",
    "kettle",
    "backpack",
    "headphones",
    "desk",
    "mug",
    "jacket",
    "drill",
    "watch",
    "speaker",
    "sofa",
    "bottle",
    "blender",
    "rug",
    "tent",
    "keyboard",
    "monitor",
    "shelf",
    "pan",
)
BENCH_IMPORT = "bench-search"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- WebSocket latency ------------------------------------------------------------------------------------


def measure_ws_latency(stack: Any, csv_path: Path, *, timeout_s: float = 600) -> dict[str, Any]:
    """Commit-to-browser latency over one import on a running ``infra.local.stack.LocalStack``."""
    from product_importer.realtime.connections import ConnectionStore

    api = httpx.Client(base_url=stack.config.api_url, timeout=60)
    ws_url = api.get("/api/config").json()["websocket_url"]
    data_size = csv_path.stat().st_size
    created = api.post("/api/imports", json={"filename": csv_path.name, "size": data_size}).json()
    import_id = created["import"]["id"]
    store = ConnectionStore(stack.resources.connections_table, stack._client("dynamodb"))
    received: list[tuple[float, dict[str, Any]]] = []
    with connect(ws_url, max_size=2**20) as ws:
        ws.send(json.dumps({"action": "subscribe", "import_id": import_id}))
        deadline = time.monotonic() + 10
        while not store.subscribers([import_id]):
            if time.monotonic() > deadline:
                raise RuntimeError("the subscription never showed up")
            time.sleep(0.02)
        upload = created["upload"]
        started = time.time()
        with csv_path.open("rb") as handle:
            reply = httpx.post(
                upload["url"],
                data=upload["fields"],
                files={"file": (csv_path.name, handle, "text/csv")},
                timeout=600,
            )
        reply.raise_for_status()
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            message = json.loads(ws.recv(timeout=max(0.1, end - time.monotonic())))
            imp = message["import"]
            if imp["id"] != import_id:
                continue
            received.append((time.time(), imp))
            if imp["status"] in ("completed", "failed"):
                break
    api.close()
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        commits = [
            row[0].timestamp()
            for row in conn.execute(
                "SELECT committed_at FROM chunk_ledger WHERE import_id = %s ORDER BY committed_at",
                (import_id,),
            )
        ]
    latencies: list[float] = []
    for k, committed in enumerate(commits, start=1):
        seen = next((t for t, imp in received if imp["chunks_done"] >= k), None)
        if seen is not None:
            latencies.append(max(0.0, seen - committed))
    final = received[-1][1] if received else {}
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(received)]
    return {
        "import_id": import_id,
        "status": final.get("status"),
        "rows": final.get("rows_total"),
        "chunks": len(commits),
        "messages": len(received),
        "import_s": round(received[-1][0] - started, 2) if received else None,
        "latency_median_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(_percentile(latencies, 95), 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "max_gap_between_messages_s": round(max(gaps), 3) if gaps else None,
        "goal_s": 1.0,
    }


# -- search latency ---------------------------------------------------------------------------------------

_GENERATE = """
INSERT INTO products (sku_key, sku, name, description, price, brand, category, active, version, last_import_id)
SELECT lower(sku), sku, name, description, price, brand, category, active, %(base)s::bigint + n, %(import_id)s
FROM (
    SELECT n, 'BENCH-' || lpad(n::text, 8, '0') AS sku,
           initcap(w[1 + (n * 7) %% cardinality(w)]) || ' ' || o[1 + (n * 3) %% cardinality(o)] || ' ' || n AS name,
           w[1 + (n * 11) %% cardinality(w)] || ' ' || o[1 + (n * 13) %% cardinality(o)] || ' ' ||
           w[1 + (n * 17) %% cardinality(w)] || ' ' || w[1 + (n * 19) %% cardinality(w)] || ' ' ||
           o[1 + (n * 23) %% cardinality(o)] || ' ' || w[1 + (n * 29) %% cardinality(w)] || ' model ' ||
           md5(n::text) AS description,
           round(((n * 37) %% 100000) / 100.0, 2) AS price,
           'Brand ' || chr(65 + n %% 20) AS brand,
           (ARRAY['Home','Garden','Kitchen','Outdoor','Office','Audio','Apparel','Tools','Sports','Toys'])
               [1 + n %% 10] AS category,
           n %% 10 <> 0 AS active
    FROM generate_series(%(start)s::int, %(end)s::int) AS n, (SELECT %(words)s::text[] AS w, %(nouns)s::text[] AS o) v
) AS g
ON CONFLICT (sku_key) DO NOTHING
"""

SEARCH_QUERIES: tuple[dict[str, str], ...] = (
    {"q": "bench-0001"},
    {"q": "BENCH-00500"},
    {"q": "bench-0099999"},
    {"q": "steel"},
    {"q": "lamp"},
    {"q": "steel lamp"},
    {"q": "Wireless Headphones"},
    {"q": "velvet sofa titanium"},
    {"q": "nomatchwordxyz"},
    {"q": "kettle", "brand": "Brand C"},
    {"q": "copper", "category": "Kitchen", "active": "true"},
    {"q": "bamboo desk", "brand": "Brand Q", "category": "Office"},
    {"q": "model"},
)


def ensure_products(conn_url: str, n: int) -> dict[str, Any]:
    """At least ``n`` products, and their search documents (timed: the refresh an import triggers)."""
    from product_importer.db.chunks import next_import_number, version_base
    from product_importer.products.search import refresh_for_import

    with psycopg.connect(conn_url) as conn:
        have = int(conn.execute("SELECT count(*) FROM products").fetchone()[0])  # type: ignore[index]
        generated_s = refresh_s = 0.0
        if have < n:
            base = version_base(next_import_number(conn))
            started = time.perf_counter()
            step = 250_000
            for start in range(1, n + 1, step):
                conn.execute(
                    _GENERATE,
                    {
                        "base": base,
                        "import_id": BENCH_IMPORT,
                        "start": start,
                        "end": min(n, start + step - 1),
                        "words": list(_WORDS),
                        "nouns": list(_NOUNS),
                    },
                )
                conn.commit()
            from product_importer.db.registry import register_import

            register_import(conn, BENCH_IMPORT, import_no=base >> 32)
            conn.execute("INSERT INTO changes (import_no, sku_key, action) SELECT %s, sku_key, 'c' FROM products"
                         " WHERE last_import_id = %s ON CONFLICT DO NOTHING", (base >> 32, BENCH_IMPORT))
            conn.commit()
            generated_s = time.perf_counter() - started
            started = time.perf_counter()
            refreshed = refresh_for_import(conn, BENCH_IMPORT)
            refresh_s = time.perf_counter() - started
            conn.execute("ANALYZE products")
            conn.execute("ANALYZE product_search")
            conn.commit()
        else:
            refreshed = None
        total = int(conn.execute("SELECT count(*) FROM products").fetchone()[0])  # type: ignore[index]
    return {
        "products": total,
        "generate_s": round(generated_s, 1),
        "search_refresh_s": round(refresh_s, 1),
        "search_refresh_rows_per_s": round(refreshed.rows_seen / refresh_s)
        if refreshed and refresh_s
        else None,
    }


def _serve_api(conn_url: str) -> tuple[Any, threading.Thread, str]:
    import uvicorn
    from product_importer.api import deps
    from product_importer.api.app import create_app
    from psycopg_pool import ConnectionPool

    from infra.local.stack import free_port

    pool = ConnectionPool(conn_url, min_size=2, max_size=4, open=True)
    app = create_app()

    def db() -> Any:
        with pool.connection() as conn:
            yield conn

    app.dependency_overrides[deps.db] = db
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    server.pool = pool  # type: ignore[attr-defined] - closed with the server
    return server, thread, f"http://127.0.0.1:{port}"


def measure_search_p95(conn_url: str, n: int = 1_000_000, *, rounds: int = 20) -> dict[str, Any]:
    """p50 / p95 of ``GET /api/products?q=…`` (a mix of SKU prefixes, common / rare / absent words,
    with and without filters, first pages and a follow-up page) with ``n`` products."""
    setup = ensure_products(conn_url, n)
    server, thread, base_url = _serve_api(conn_url)
    timings: dict[str, list[float]] = {}
    try:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for params in SEARCH_QUERIES:  # warm-up: plans, caches
                client.get("/api/products", params=params).raise_for_status()
            for _ in range(rounds):
                for params in SEARCH_QUERIES:
                    started = time.perf_counter()
                    reply = client.get("/api/products", params={**params, "limit": 50})
                    elapsed = time.perf_counter() - started
                    reply.raise_for_status()
                    timings.setdefault(
                        params["q"] + "|" + ",".join(k for k in params if k != "q"), []
                    ).append(elapsed)
                    cursor = reply.json()["next_cursor"]
                    if cursor:
                        started = time.perf_counter()
                        client.get(
                            "/api/products", params={**params, "limit": 50, "cursor": cursor}
                        ).raise_for_status()
                        timings.setdefault("(next page)", []).append(time.perf_counter() - started)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        server.pool.close()
    everything = [t for ts in timings.values() for t in ts]
    return {
        **setup,
        "requests": len(everything),
        "p50_ms": round(_percentile(everything, 50) * 1000, 1),
        "p95_ms": round(_percentile(everything, 95) * 1000, 1),
        "max_ms": round(max(everything) * 1000, 1),
        "slowest_query_p95_ms": max((round(_percentile(ts, 95) * 1000, 1), q) for q, ts in timings.items()),
        "goal_ms": 50,
    }


def run_all(*, products: int = 1_000_000, rows: int = 100_000) -> dict[str, Any]:
    """Both live figures on a fresh local stack, flattened for ``tests.bench.run`` (RESULT fields)."""
    import tempfile

    from infra.local.stack import LocalConfig, LocalStack, free_port
    from tests.bench.catalog import write_catalog

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = write_catalog(Path(tmp) / "live.csv", rows)
        config = LocalConfig(state_dir=Path(tmp) / "state", api_port=free_port(), aws_port=free_port(),
                             ws_port=free_port(), static_dir=None)
        with LocalStack(config) as stack:
            ws = measure_ws_latency(stack, csv_path)
            print(f"(f) WebSocket commit → message: median {ws['latency_median_s']} s, p95 {ws['latency_p95_s']} s"
                  f" over {ws['chunks']} chunks", flush=True)
            search = measure_search_p95(stack.env["DATABASE_URL"], products)
            print(f"(g) GET /api/products?q= at {products:,} products: p50 {search['p50_ms']} ms,"
                  f" p95 {search['p95_ms']} ms", flush=True)
    return {
        "ws_latency_p50_ms": round(ws["latency_median_s"] * 1000),
        "ws_latency_p95_ms": round(ws["latency_p95_s"] * 1000),
        "ws_max_gap_s": ws["max_gap_between_messages_s"],
        "search_products": products,
        "search_p50_ms": search["p50_ms"],
        "search_p95_ms": search["p95_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import tempfile

    from infra.local.stack import LocalConfig, LocalStack, free_port
    from tests.bench.catalog import write_catalog

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = write_catalog(Path(tmp) / "live.csv", args.rows)
        config = LocalConfig(
            state_dir=Path(tmp) / "state",
            api_port=free_port(),
            aws_port=free_port(),
            ws_port=free_port(),
            static_dir=None,
        )
        with LocalStack(config) as stack:
            print(json.dumps({"ws_latency": measure_ws_latency(stack, csv_path)}, indent=2), flush=True)
            print(
                json.dumps({"search": measure_search_p95(stack.env["DATABASE_URL"], args.products)}, indent=2)
            )


if __name__ == "__main__":
    main()
