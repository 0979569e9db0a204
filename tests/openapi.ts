/** Validates real responses against docs/openapi.yaml (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; schemas: Record<string, unknown> };
};

const doc: Doc = parse(readFileSync(new URL('../docs/openapi.yaml', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ $id: 'openapi.yaml', components: doc.components });

/** Errors of `body` against the documented response of `method path` with `status` ([] when valid). */
export function responseErrors(path: string, method: string, status: number, body: unknown): string[] {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (operation === undefined) return [`${method} ${path} is not documented`];
  let response = operation.responses[String(status)];
  if (response === undefined) return [`${method} ${path} documents no ${status} response`];
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').at(-1) ?? ''];
  const schema = response?.content?.['application/json']?.schema;
  if (schema === undefined) return [`${method} ${path} ${status} has no JSON schema`];
  const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.yaml#/components/'));
  const validate = ajv.compile(rewritten);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
