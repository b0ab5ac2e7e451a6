"""A third-party gRPC client: Python grpcio with stubs generated from our protos.

Usage: python_client.py <stubs_dir> <host:port> <service>
Prints one JSON object: the health status, the first Watch status, the
services listed by reflection (v1 and v1alpha), and the methods of <service>
read from the descriptor that reflection returns.
"""
import json
import sys

import os  # noqa: E402

import grpc  # noqa: E402

# The generated modules live under grpc/health and grpc/reflection, inside the
# installed grpc package's namespace: extend its search path to the stubs.
grpc.__path__.append(os.path.join(sys.argv[1], "grpc"))
from google.protobuf import descriptor_pb2  # noqa: E402
from grpc.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc.reflection.v1 import reflection_pb2 as r1, reflection_pb2_grpc as r1_grpc  # noqa: E402
from grpc.reflection.v1alpha import reflection_pb2 as ra, reflection_pb2_grpc as ra_grpc  # noqa: E402

target, service = sys.argv[2], sys.argv[3]
channel = grpc.insecure_channel(target)
health = health_pb2_grpc.HealthStub(channel)
out = {}
out["check"] = health_pb2.HealthCheckResponse.ServingStatus.Name(health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status)
watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
out["watch_first"] = health_pb2.HealthCheckResponse.ServingStatus.Name(next(watch).status)
watch.cancel()
try:
    health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    out["unknown_service"] = "OK"
except grpc.RpcError as e:
    out["unknown_service"] = e.code().name

for key, pb, stub in (("v1", r1, r1_grpc.ServerReflectionStub(channel)), ("v1alpha", ra, ra_grpc.ServerReflectionStub(channel))):
    requests = iter([pb.ServerReflectionRequest(list_services=""), pb.ServerReflectionRequest(file_containing_symbol=service)])
    responses = list(stub.ServerReflectionInfo(requests, timeout=5))
    services = [s.name for s in responses[0].list_services_response.service]
    methods = []
    for raw in responses[1].file_descriptor_response.file_descriptor_proto:
        fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
        for s in fd.service:
            if f"{fd.package}.{s.name}" == service:
                methods = [m.name for m in s.method]
    out[key] = {"services": services, "methods": methods}
print(json.dumps(out))
