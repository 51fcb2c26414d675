import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { routeKey, topology } from '#infra/topology.ts';
import { DESCRIPTION_FILE, TYPES_FILE, generatedDescription, generatedTypes } from './generate.ts';
import { openApiDocument } from './openapi.ts';

const document = openApiDocument();

describe('the OpenAPI description', () => {
  it('is the committed openapi.json and openapi-types.ts (run `npm run api` after a change)', async () => {
    expect(await readFile(DESCRIPTION_FILE, 'utf8')).toBe(await generatedDescription());
    expect(await readFile(TYPES_FILE, 'utf8')).toBe(await generatedTypes());
  });

  it('describes exactly the routes of the topology', () => {
    const described = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(described.sort()).toEqual(topology.routes.map(routeKey).sort());
  });

  it('has schemas that compile, and examples that match them', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(document, 'api');
    const checked: string[] = [];
    const visit = (node: unknown, pointer: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const media = node as { schema?: unknown; examples?: Record<string, { value: unknown }> };
      if (media.schema && media.examples) {
        const validate = ajv.compile({ $ref: `api#${pointer}/schema` });
        for (const [name, example] of Object.entries(media.examples)) {
          checked.push(`${pointer}/examples/${name}`);
          expect(validate(example.value), `${pointer} example ${name}`).toBe(true);
        }
      }
      for (const [key, value] of Object.entries(node)) {
        visit(value, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      }
    };
    visit(document, '');
    expect(checked.length).toBeGreaterThan(20);
  });

  it('documents every operation with a summary, a success status and the gateway answers', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item) as [string, any][]) {
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
        expect(statuses).toEqual(expect.arrayContaining(['429', '500', '502']));
      }
    }
  });
});
