#!/usr/bin/env python3
"""An online-inference client of the fraud example in Python: plain grpcio,
no FTI library. It generates the message and stub modules from the platform's
contracts (proto/) at run time with grpc_tools.protoc, then scores
transactions with OnlineServingService.Predict.

Usage:
  predict.py [--proto-dir proto] [--target 127.0.0.1:50054] \
             --deployment projects/<project>/deployments/fraud_scoring TX_ID...

Prints one JSON object: the model version that answered and, per
transaction, the fraud probability; plus the client-side latency of each call.
Needs Debian's python3-grpcio and python3-grpc-tools.
"""
import argparse
import json
import os
import sys
import tempfile
import time


def generate_stubs(proto_dir, out_dir):
    from grpc_tools import protoc

    files = ["fti/serving/v1/serving.proto", "fti/common/v1/record_batch.proto"]
    args = ["grpc_tools.protoc", "-I", proto_dir, "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + files
    if protoc.main(args) != 0:
        sys.exit("protoc failed on %s" % ", ".join(files))
    sys.path.insert(0, out_dir)


def column_values(column):
    """The values of a fti.common.v1.Column as a Python list."""
    kind = column.WhichOneof("data")
    if kind == "embedding_values":
        e = column.embedding_values
        d = e.dimension
        return [list(e.values[i * d:(i + 1) * d]) for i in range(len(e.values) // d)] if d else []
    return list(getattr(column, kind).values) if kind else []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proto-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "proto"))
    parser.add_argument("--target", default="127.0.0.1:50054", help="online-serving's gRPC address")
    parser.add_argument("--deployment", required=True)
    parser.add_argument("tx_ids", nargs="+")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fti-stubs-") as stubs:
        generate_stubs(os.path.abspath(args.proto_dir), stubs)
        import grpc
        from fti.common.v1 import record_batch_pb2
        from fti.serving.v1 import serving_pb2, serving_pb2_grpc

        stub = serving_pb2_grpc.OnlineServingServiceStub(grpc.insecure_channel(args.target))
        results, latencies, model = [], [], ""
        for tx_id in args.tx_ids:
            entities = record_batch_pb2.RecordBatch(
                row_count=1,
                columns=[record_batch_pb2.Column(name="tx_id", string_values=record_batch_pb2.StringColumn(values=[tx_id]))],
            )
            started = time.perf_counter()
            try:
                response = stub.Predict(serving_pb2.PredictRequest(deployment=args.deployment, entities=entities), timeout=10)
            except grpc.RpcError as err:
                print(json.dumps({"error": {"code": err.code().name, "details": err.details(), "tx_id": tx_id}}))
                sys.exit(1)
            latencies.append((time.perf_counter() - started) * 1000)
            model = response.model
            outputs = {c.name: column_values(c) for c in response.outputs.columns}
            probabilities = outputs.get("probabilities", [[None, None]])[0]
            results.append({"tx_id": tx_id, "fraud_probability": probabilities[1], "label": (outputs.get("label") or [None])[0]})
        latencies.sort()
        print(json.dumps({
            "model": model,
            "predictions": results,
            "latency_ms": {"p50": latencies[len(latencies) // 2], "max": latencies[-1]},
        }))


if __name__ == "__main__":
    main()
