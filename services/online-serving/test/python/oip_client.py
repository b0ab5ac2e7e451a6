"""A KServe Open Inference Protocol client written from the spec: Python grpcio
with stubs generated from proto/inference at test time.

Usage: oip_client.py <stubs_dir> <host:port> <model_name> <model_version>
Calls the six endpoints against a logistic regression over 3 float features
and prints one JSON object with what came back.
"""
import json
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc  # noqa: E402

target, model, version = sys.argv[2], sys.argv[3], sys.argv[4]
stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(target))
out = {}
out["live"] = stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live
out["ready"] = stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready
meta = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=10)
out["server"] = {"name": meta.name, "version": meta.version}
out["model_ready"] = stub.ModelReady(pb.ModelReadyRequest(name=model, version=version), timeout=10).ready
m = stub.ModelMetadata(pb.ModelMetadataRequest(name=model, version=version), timeout=10)
out["metadata"] = {
    "name": m.name,
    "versions": list(m.versions),
    "platform": m.platform,
    "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in m.inputs],
    "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in m.outputs],
}
rows = [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]
flat = [v for r in rows for v in r]

# Typed contents.
request = pb.ModelInferRequest(model_name=model, model_version=version, id="py-typed")
tensor = request.inputs.add(name="features", datatype="FP32", shape=[2, 3])
tensor.contents.fp32_contents.extend(flat)
request.outputs.add(name="probabilities")
response = stub.ModelInfer(request, timeout=10)
out["typed"] = {
    "id": response.id,
    "model_version": response.model_version,
    "outputs": [{"name": o.name, "datatype": o.datatype, "shape": list(o.shape), "fp32": list(o.contents.fp32_contents)} for o in response.outputs],
}

# Raw bytes in, raw bytes out.
request = pb.ModelInferRequest(model_name=model, model_version=version, id="py-raw")
request.inputs.add(name="features", datatype="FP32", shape=[2, 3])
request.raw_input_contents.append(struct.pack("<6f", *flat))
response = stub.ModelInfer(request, timeout=10)
raw = {}
for o, data in zip(response.outputs, response.raw_output_contents):
    count = len(data) // (8 if o.datatype == "INT64" else 4)
    raw[o.name] = {"datatype": o.datatype, "shape": list(o.shape), "values": list(struct.unpack("<%d%s" % (count, "q" if o.datatype == "INT64" else "f"), data))}
out["raw"] = raw

# Bad input: the wrong shape is INVALID_ARGUMENT naming the field.
request = pb.ModelInferRequest(model_name=model, model_version=version)
bad = request.inputs.add(name="features", datatype="FP32", shape=[2, 4])
bad.contents.fp32_contents.extend(flat + [0.0, 0.0])
try:
    stub.ModelInfer(request, timeout=10)
    out["bad_shape"] = {"code": "OK"}
except grpc.RpcError as e:
    out["bad_shape"] = {"code": e.code().name, "details": e.details()}
try:
    stub.ModelMetadata(pb.ModelMetadataRequest(name="projects/nope/models/nope"), timeout=10)
    out["unknown"] = "OK"
except grpc.RpcError as e:
    out["unknown"] = e.code().name
print(json.dumps(out))
