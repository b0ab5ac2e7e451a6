"""scikit-learn's HistGradientBoostingClassifier on the rows the TypeScript
benchmark wrote (raw float32 / uint8 files: Debian has no Parquet reader for
Python), with the same hyperparameters. Prints one JSON line."""
import json, sys, time
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

d, features, trees, depth, lr, min_leaf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
load = lambda name, dtype: np.fromfile(f"{d}/{name}", dtype=dtype)
x_train = load("x_train.f32", np.float32).reshape(-1, features)
y_train = load("y_train.u8", np.uint8)
x_test = load("x_test.f32", np.float32).reshape(-1, features)
y_test = load("y_test.u8", np.uint8)
model = HistGradientBoostingClassifier(max_iter=trees, max_depth=depth, max_leaf_nodes=None, learning_rate=lr, min_samples_leaf=min_leaf, l2_regularization=0.0, max_bins=255, early_stopping=False)
start = time.perf_counter()
model.fit(x_train, y_train)
seconds = time.perf_counter() - start
auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
print(json.dumps({"seconds": seconds, "auc": auc}))
