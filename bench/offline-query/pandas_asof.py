# pandas merge_asof baseline for bench/offline-query (the approach of Feast's
# file offline store): the same synthetic data, generated in numpy from the
# same formulas as the DuckDB generator, so only the join is timed.
# Prints one JSON line: {"seconds": join time, "maxRssMB": peak RSS, "rows": n}.
import json, resource, sys, time
import numpy as np
import pandas as pd

labels, history, entities, features = (int(x) for x in sys.argv[1:5])
span_s = 30 * 86400
day = 86400
t0 = np.datetime64("2024-01-01T00:00:00", "s")
per_group = history // 2
per_group_features = features // 2

def group(g):
    i = np.arange(per_group, dtype=np.int64)
    frame = {"entity_id": (i * 7919 + g) % entities, "ts": t0 + ((i * 104729 + g * 31) % span_s).astype("timedelta64[s]")}
    for j in range(per_group_features):
        frame[f"{'a' if g == 1 else 'b'}_f{j}"] = (((i * (j + 3) + g) % 1000) / 1000.0).astype(np.float32)
    return pd.DataFrame(frame)

i = np.arange(labels, dtype=np.int64)
left = pd.DataFrame({"entity_id": (i * 104723) % entities, "ts": t0 + (day + (i * 7907) % (span_s - day)).astype("timedelta64[s]"), "label": i % 7 == 0})
g1, g2 = group(1), group(2)

start = time.perf_counter()
ttl = pd.Timedelta(days=7)
out = pd.merge_asof(left.sort_values("ts"), g1.sort_values("ts"), on="ts", by="entity_id", tolerance=ttl, direction="backward")
out = pd.merge_asof(out, g2.sort_values("ts"), on="ts", by="entity_id", tolerance=ttl, direction="backward")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": len(out)}))
