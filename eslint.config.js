import { dirname, join, normalize, relative, sep } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const focusedOrSkipped = ['describe', 'it', 'test'].flatMap((object) =>
  ['only', 'skip'].map((property) => ({
    object,
    property,
    message: 'Focused or skipped tests must not be committed.',
  })),
);

/**
 * Modules with a front door: from outside a module, only its `index.ts` may be imported (and,
 * from a test, its `test-support.ts` fixtures). Where modules nest, the innermost one counts.
 */
const MODULES = [
  'infra/local',
  'infra/local/api-docs',
  'infra/local/dynamo-faults',
  'infra/local/gateway',
  'infra/local/github',
  'infra/local/grafana',
  'infra/local/lambda',
  'infra/local/meter',
  'infra/local/secrets-manager',
  'infra/local/sns',
  'infra/local/sqs',
  'shared/dashboard-model',
];
/** The product: what is deployed or describes the deployment. It imports no stand-in. */
const PRODUCT = [
  /^services\//,
  /^shared\//,
  /^infra\/aws\//,
  /^infra\/[^/]+\.ts$/,
  /^dashboards\//,
];
const LOCAL_STACK = 'infra/local/';
const PACKAGE_IMPORTS = {
  '#shared/': 'shared/',
  '#infra/': 'infra/',
  '#services/': 'services/',
  '#test/': 'test/',
};
const isTest = (file) => file.endsWith('.test.ts') || file.startsWith('test/');

/** The repository path an import names, or undefined for a package. */
const importedPath = (specifier, file) => {
  const alias = Object.keys(PACKAGE_IMPORTS).find((prefix) => specifier.startsWith(prefix));
  if (alias) return PACKAGE_IMPORTS[alias] + specifier.slice(alias.length);
  if (specifier.startsWith('.'))
    return normalize(join(dirname(file), specifier))
      .split(sep)
      .join('/');
  return undefined;
};

const moduleBoundaries = {
  meta: {
    type: 'problem',
    messages: {
      product:
        '{{file}} is product code: it may not import the local stack or test support ({{target}}).',
      frontDoor: '{{target}} is inside the module {{module}}: import {{module}}/index.ts instead.',
    },
  },
  create(context) {
    const file = relative(import.meta.dirname, context.filename)
      .split(sep)
      .join('/');
    const check = (node) => {
      if (typeof node.source?.value !== 'string') return;
      const target = importedPath(node.source.value, file);
      if (target === undefined) return;
      // Test support starts the local stack: importing it would be the same reach, one step removed.
      const local = target.startsWith(LOCAL_STACK) || target.startsWith('test/');
      if (local && !isTest(file) && PRODUCT.some((p) => p.test(file))) {
        context.report({ node, messageId: 'product', data: { file, target } });
        return;
      }
      const module = MODULES.filter((m) => target.startsWith(`${m}/`)).sort(
        (a, b) => b.length - a.length,
      )[0];
      if (module === undefined || file.startsWith(`${module}/`)) return;
      if (target === `${module}/index.ts`) return;
      if (target === `${module}/test-support.ts` && isTest(file)) return;
      context.report({ node, messageId: 'frontDoor', data: { target, module } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules', 'cdk.out', 'dist', 'dashboards/generated'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { modules: { rules: { boundaries: moduleBoundaries } } },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-properties': ['error', ...focusedOrSkipped],
      'modules/boundaries': 'error',
    },
  },
  {
    // Tests read JSON responses loosely typed; production code may not.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
