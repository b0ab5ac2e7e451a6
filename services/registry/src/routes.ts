// RegistryService handlers: parse and map only; the logic lives in the domain
// module. Methods not listed here answer UNIMPLEMENTED.
import type { ServiceImpl } from "@connectrpc/connect";
import type { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";

export default function routes(): Partial<ServiceImpl<typeof RegistryService>> {
  return {};
}
