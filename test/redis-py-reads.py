"""The reads test/redis-py.test.ts sends with redis-py 6 (PYTHONPATH from
test/redis-py-trixie.sh), once to Redis itself and once to the proxy, so the
two JSON outputs can be compared.

    python3 test/redis-py-reads.py PORT PROTOCOL reads   the reads: the same for Redis and the proxy
    python3 test/redis-py-reads.py PORT PROTOCOL proxy   what only the proxy answers (a refused write)
    python3 test/redis-py-reads.py PORT PROTOCOL cache   a client with cache_config=CacheConfig()

Every value is written with its Python type (a RESP3 map is a dict, a set a
set, a double a float), so a RESP3 reply framed as RESP2 would not compare
equal. Dicts and sets are sorted: their order means nothing to redis-py.
"""

import json
import sys

import redis

port, protocol, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def enc(v):
    if isinstance(v, bytes):
        return v.decode("latin1")
    if isinstance(v, bool):
        return {"bool": v}
    if v is None or isinstance(v, int):
        return v
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, tuple):
        return {"tuple": [enc(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": sorted(([enc(k), enc(x)] for k, x in v.items()), key=json.dumps)}
    if isinstance(v, (set, frozenset)):
        return {"set": sorted((enc(x) for x in v), key=json.dumps)}
    if isinstance(v, BaseException):
        return {"error": f"{type(v).__name__}: {v}"}
    return {"other": repr(v)}


def attempt(f):
    try:
        return enc(f())
    except Exception as e:  # an error reply is a result to compare too
        return enc(e)


def queue(p):
    """The same reads, on a client or a pipeline."""
    p.get("py:s")
    p.get("py:none")
    p.mget("py:s", "py:none", "py:h", "py:s2")
    p.hgetall("py:h")
    p.hget("py:h", "f1")
    p.smembers("py:set")
    p.zscore("py:z", "m1")
    p.zrange("py:z", 0, -1, withscores=True)
    p.lrange("py:l", 0, -1)
    p.get("py:h")  # WRONGTYPE
    return p


out = {"version": redis.__version__}
if mode == "reads":
    r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol)
    out["get"] = [attempt(lambda: r.get("py:s")), attempt(lambda: r.get("py:none")), attempt(lambda: r.get("py:h"))]
    out["mget"] = attempt(lambda: r.mget("py:s", "py:none", "py:h", "py:s2"))
    out["hgetall"] = [attempt(lambda: r.hgetall("py:h")), attempt(lambda: r.hgetall("py:none"))]
    out["hget"] = [attempt(lambda: r.hget("py:h", "f1")), attempt(lambda: r.hget("py:h", "nofield"))]
    out["smembers"] = attempt(lambda: r.smembers("py:set"))
    out["zscore"] = [attempt(lambda: r.zscore("py:z", "m1")), attempt(lambda: r.zscore("py:z", "m2")), attempt(lambda: r.zscore("py:z", "nope"))]
    out["zrange"] = attempt(lambda: r.zrange("py:z", 0, -1, withscores=True))
    out["lrange"] = attempt(lambda: r.lrange("py:l", 0, -1))
    # The default pipeline() is MULTI … EXEC; transaction=False a plain pipeline.
    out["pipeline"] = attempt(lambda: queue(r.pipeline()).execute(raise_on_error=False))
    out["plain"] = attempt(lambda: queue(r.pipeline(transaction=False)).execute(raise_on_error=False))
    # The replies as the parser framed them, before redis-py's per-command callbacks: RESP3's map, set and
    # double types show here (RESP2 gives flat arrays and bulk strings).
    conn = r.connection_pool.get_connection()
    raw = {}
    for name, args in [
        ("HGETALL", ["py:h"]),
        ("SMEMBERS", ["py:set"]),
        ("ZSCORE", ["py:z", "m1"]),
        ("ZRANGE", ["py:z", "0", "-1", "WITHSCORES"]),
        ("MGET", ["py:s", "py:none"]),
        ("LRANGE", ["py:l", "0", "-1"]),
    ]:
        conn.send_command(name, *args)
        raw[name] = attempt(conn.read_response)
    out["raw"] = raw
    out["protocol"] = conn.get_protocol()
    out["handshake_proto"] = attempt(lambda: conn.handshake_metadata and (conn.handshake_metadata.get(b"proto") or conn.handshake_metadata.get("proto")))
    r.connection_pool.release(conn)
elif mode == "proxy":
    r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol)
    out["hello_method"] = attempt(r.hello)  # redis-py refuses it itself (NotImplementedError)
    out["hello"] = attempt(lambda: r.execute_command("HELLO", protocol))
    conn = r.connection_pool.get_connection()
    out["protocol"] = conn.get_protocol()
    out["handshake"] = enc(conn.handshake_metadata)
    r.connection_pool.release(conn)

    def write():
        p = r.pipeline()
        p.get("py:s")
        p.set("py:s", "changed")
        return p.execute()

    out["write"] = attempt(write)
    out["after"] = attempt(lambda: r.get("py:s"))
elif mode == "cache":
    from redis.cache import CacheConfig

    try:
        r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, cache_config=CacheConfig())
        out["get"] = [attempt(lambda: r.get("py:s")), attempt(lambda: r.get("py:s"))]
    except Exception as e:
        out["client"] = enc(e)
print(json.dumps(out))
