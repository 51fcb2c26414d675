/**
 * The module rule of eslint.config.js, run through ESLint's Node API on snippets placed at real
 * paths of the repository (ESLint lints the given text, not the file on disk): the product
 * imports no stand-in, and a module is entered only through its index.ts.
 */
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const eslint = new ESLint();

// The type-aware rules of the config start TypeScript's project service on the first file.
beforeAll(() => eslint.lintText('', { filePath: 'infra/local/index.ts' }), 120_000);

/** The messages of the module rule for an import of `specifier` in the file at `path`. */
const boundaryErrors = async (path: string, specifier: string): Promise<string[]> => {
  const code = `import * as imported from '${specifier}';\nexport const used = imported;\n`;
  const [result] = await eslint.lintText(code, { filePath: path });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'modules/boundaries')
    .map((message) => message.message);
};

describe('module boundaries (eslint.config.js)', () => {
  it.each([
    [
      'services/ingest/handler.ts',
      '#infra/local/index.ts',
      'services/ingest/handler.ts is product code: it may not import the local stack or test support (infra/local/index.ts).',
    ],
    [
      'infra/aws/stack.ts',
      '../local/dynamodb.ts',
      'infra/aws/stack.ts is product code: it may not import the local stack or test support (infra/local/dynamodb.ts).',
    ],
    [
      'services/ingest/queue.ts',
      '#infra/local/sqs/test-support.ts',
      'services/ingest/queue.ts is product code: it may not import the local stack or test support (infra/local/sqs/test-support.ts).',
    ],
    [
      'dashboards/sensors.ts',
      '#test/support/local-stack.ts',
      'dashboards/sensors.ts is product code: it may not import the local stack or test support (test/support/local-stack.ts).',
    ],
    [
      'infra/local/stack.ts',
      './sqs/queue.ts',
      'infra/local/sqs/queue.ts is inside the module infra/local/sqs: import infra/local/sqs/index.ts instead.',
    ],
    [
      'load-tests/bench/bench.ts',
      '#infra/local/stack.ts',
      'infra/local/stack.ts is inside the module infra/local: import infra/local/index.ts instead.',
    ],
    [
      'infra/local/grafana/pages.ts',
      '../meter/series-store.ts',
      'infra/local/meter/series-store.ts is inside the module infra/local/meter: import infra/local/meter/index.ts instead.',
    ],
    [
      'infra/local/grafana/evaluate.ts',
      '#shared/dashboard-model/model.ts',
      'shared/dashboard-model/model.ts is inside the module shared/dashboard-model: import shared/dashboard-model/index.ts instead.',
    ],
  ])('refuses in %s an import of %s', async (path, specifier, message) => {
    expect(await boundaryErrors(path, specifier)).toEqual([message]);
  });

  it.each([
    ['infra/local/stack.ts', './sqs/index.ts'],
    ['infra/local/sqs/server.ts', './queue.ts'],
    ['services/ingest/queue.sqs.test.ts', '#infra/local/sqs/test-support.ts'],
    ['dashboards/rendered.test.ts', '#infra/local/grafana/index.ts'],
    ['dashboards/panels.ts', '#shared/dashboard-model/index.ts'],
  ])('lets %s import %s', async (path, specifier) => {
    expect(await boundaryErrors(path, specifier)).toEqual([]);
  });
});
