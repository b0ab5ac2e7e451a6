// Everything the registry process reads from its environment.
import { databaseSettings, natsSettings, serverSettings } from "@fti/config";

export const registrySettings = {
  ...serverSettings("registry"),
  ...databaseSettings,
  ...natsSettings,
};
