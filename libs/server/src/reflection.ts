// gRPC server reflection (v1 and v1alpha) from the protobuf-es descriptors of
// the services a server mounts, so buf curl and grpcurl-style clients can
// discover them with no .proto files at hand.
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1, type ServerReflectionRequest as RequestV1 } from "@fti/proto/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ReflectionV1Alpha } from "@fti/proto/grpc/reflection/v1alpha/reflection_pb";

export const reflectionServices = [ReflectionV1, ReflectionV1Alpha];

/** Answers reflection requests about these services (and the reflection services themselves). */
export function createReflectionIndex(services: DescService[]) {
  const files = new Map<string, DescFile>(); // by .proto path
  const symbols = new Map<string, DescFile>(); // fully-qualified name → defining file
  const visit = (file: DescFile) => {
    const path = file.proto.name;
    if (files.has(path)) return;
    files.set(path, file);
    for (const dep of file.dependencies) visit(dep);
    const add = (name: string) => symbols.set(name, file);
    for (const m of file.messages) addMessage(m, add);
    for (const e of file.enums) add(e.typeName);
    for (const s of file.services) {
      add(s.typeName);
      for (const m of s.methods) add(`${s.typeName}.${m.name}`);
    }
    for (const x of file.extensions) add(x.typeName);
  };
  const all = [...services, ...reflectionServices];
  for (const s of all) visit(s.file);
  const serviceNames = [...new Set(all.map((s) => s.typeName))];

  /** The file and everything it imports, each serialized once. */
  const withDependencies = (file: DescFile): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const walk = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      for (const d of f.dependencies) walk(d);
    };
    walk(file);
    return out;
  };

  return {
    serviceNames,
    answer(request: Pick<RequestV1, "host" | "messageRequest">) {
      const req = request.messageRequest;
      const error = (code: number, message: string) => ({ case: "errorResponse" as const, value: { errorCode: code, errorMessage: message } });
      const NOT_FOUND = 5;
      switch (req.case) {
        case "listServices":
          return { case: "listServicesResponse" as const, value: { service: serviceNames.map((name) => ({ name })) } };
        case "fileByFilename": {
          const file = files.get(req.value);
          return file ? { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: withDependencies(file) } } : error(NOT_FOUND, `file "${req.value}" not found`);
        }
        case "fileContainingSymbol": {
          const file = symbols.get(req.value.replace(/^\./, ""));
          return file ? { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: withDependencies(file) } } : error(NOT_FOUND, `symbol "${req.value}" not found`);
        }
        case "fileContainingExtension":
          return error(NOT_FOUND, `no extension ${req.value.extensionNumber} of "${req.value.containingType}"`);
        case "allExtensionNumbersOfType":
          return symbols.has(req.value)
            ? { case: "allExtensionNumbersResponse" as const, value: { baseTypeName: req.value, extensionNumber: [] } }
            : error(NOT_FOUND, `type "${req.value}" not found`);
        default:
          return error(3, "empty reflection request");
      }
    },
  };
}

function addMessage(message: DescFile["messages"][number], add: (name: string) => void) {
  add(message.typeName);
  for (const nested of message.nestedMessages) addMessage(nested, add);
  for (const e of message.nestedEnums) add(e.typeName);
  for (const x of message.nestedExtensions) add(x.typeName);
}

type ReflectionIndex = ReturnType<typeof createReflectionIndex>;

/** The same implementation serves v1 and v1alpha: their messages are identical. */
export function reflectionService(index: ReflectionIndex): Partial<ServiceImpl<typeof ReflectionV1>> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield { validHost: request.host, originalRequest: request, messageResponse: index.answer(request) };
      }
    },
  };
}
