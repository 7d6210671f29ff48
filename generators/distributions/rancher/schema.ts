/**
 * Schema definitions the distributions of this family share: config.yaml keys and values (a flag's
 * long name → a string, boolean, integer or list of strings), as each one's extraArgs take them.
 */
import type { JsonSchema } from '../../schema/compose.js';

export const CONFIG_ARGS_SCHEMA: Record<string, JsonSchema> = {
  configArgs: {
    "type": "object",
    "propertyNames": {
      "pattern": "^[a-z0-9][a-z0-9-]*$"
    },
    "additionalProperties": {
      "anyOf": [
        {
          "type": "string"
        },
        {
          "type": "boolean"
        },
        {
          "type": "integer"
        },
        {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      ]
    }
  },
};
