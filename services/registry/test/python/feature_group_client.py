"""Creates and reads a feature group through the registry with Python grpcio,
as a pipeline author would. Usage: feature_group_client.py <stubs dir> <host:port>.

Prints one JSON line with what it read; exits non-zero when anything differs
from what it wrote.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from fti.common.v1 import types_pb2  # noqa: E402
from fti.registry.v1 import feature_group_pb2, registry_pb2, registry_pb2_grpc  # noqa: E402


def scalar(name, scalar_type, **extra):
    return types_pb2.Feature(name=name, type=types_pb2.FeatureType(scalar=scalar_type), **extra)


def main():
    channel = grpc.insecure_channel(sys.argv[2])
    registry = registry_pb2_grpc.RegistryServiceStub(channel)
    registry.CreateProject(registry_pb2.CreateProjectRequest(project_id="py", project=registry_pb2.Project(owner="python")), timeout=10)

    group = feature_group_pb2.FeatureGroup(
        description="written from Python",
        owner="py-team",
        tags={"lang": "python"},
        schema=types_pb2.FeatureSchema(features=[
            scalar("user_id", types_pb2.SCALAR_TYPE_INT64),
            scalar("ts", types_pb2.SCALAR_TYPE_TIMESTAMP),
            scalar("clicks_7d", types_pb2.SCALAR_TYPE_INT32, description="clicks in the last 7 days"),
        ]),
        primary_key=["user_id"],
        event_time="ts",
        online_enabled=True,
    )
    group.ttl.seconds = 86400
    created = registry.CreateFeatureGroup(
        registry_pb2.CreateFeatureGroupRequest(parent="projects/py", feature_group_id="clicks", feature_group=group), timeout=10
    ).feature_group
    read = registry.GetFeatureGroup(
        registry_pb2.GetFeatureGroupRequest(name="projects/py/featureGroups/clicks/versions/latest"), timeout=10
    ).feature_group

    # Bad input answers INVALID_ARGUMENT naming the field.
    bad = feature_group_pb2.FeatureGroup()
    bad.CopyFrom(group)
    del bad.primary_key[:]
    bad.primary_key.append("nope")
    try:
        registry.CreateFeatureGroup(registry_pb2.CreateFeatureGroupRequest(parent="projects/py", feature_group_id="bad", feature_group=bad), timeout=10)
        invalid = None
    except grpc.RpcError as err:
        invalid = {"code": err.code().name, "details": err.details()}

    print(json.dumps({
        "created": created.name,
        "read": read.name,
        "version": read.version,
        "etag_matches": read.etag == created.etag,
        "features": [f.name for f in read.schema.features],
        "feature_types": [types_pb2.ScalarType.Name(f.type.scalar) for f in read.schema.features],
        "ttl_seconds": read.ttl.seconds,
        "tags": dict(read.tags),
        "invalid": invalid,
    }))


if __name__ == "__main__":
    main()
