/**
 * Synthesis for the infra/aws tests: the real app (same context handling, same cdk-nag
 * plugin) with stub function code, so templates come without esbuild runs or handler files.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CodeProvider } from './constructs/function-factory.ts';
import { type CreatedApp, createApp } from './create-app.ts';

export const stubCode: CodeProvider = (name) =>
  lambda.Code.fromInline(`export const handler = async () => ({ stub: '${name}' });`);

export interface Synthesized extends CreatedApp {
  template: Template;
  outdir: string;
  /** AwsSolutions findings that were not acknowledged, one line each. */
  nagFindings: () => string[];
  dispose: () => void;
}

/** Synthesizes once; a cdk-nag violation makes this throw with the report. */
export const synthesize = (context: Record<string, string> = {}): Synthesized => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'iot-playground-cdk-'));
  const dispose = () => rmSync(outdir, { recursive: true, force: true });
  let created: CreatedApp;
  let template: Template;
  try {
    created = createApp({ context, code: stubCode, outdir });
    template = Template.fromStack(created.stack);
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    ...created,
    template,
    outdir,
    nagFindings: () =>
      created.nag
        .validateScope(created.app)
        .violations.map(
          (violation) =>
            `${violation.severity} ${violation.ruleName}: ${violation.violatingResources
              .map((resource) => resource.constructPath ?? resource.resourceLogicalId)
              .join(', ')}`,
        ),
    dispose,
  };
};

export interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every `Validations.acknowledge` in the tree, with the construct it was made on. */
export const acknowledgements = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The template's resources of one type, by logical id. */
export const resourcesOfType = (template: Template, type: string): Resources =>
  template.findResources(type) as Resources;

/** The logical id of a construct's CloudFormation resource (e.g. a function or a table). */
export const logicalId = (synth: Synthesized, resource: IConstruct): string =>
  synth.stack.getLogicalId(resource.node.defaultChild as CfnResource);

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
}

/** The statements of every inline policy attached to the role with `roleLogicalId`. */
export const statementsOfRole = (
  template: Template,
  roleLogicalId: string,
): PolicyStatementJson[] =>
  Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId),
    )
    .flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * Synthesizes once for the enclosing test file (or describe block) and disposes of the output
 * afterwards; the returned object is filled in before the first test runs.
 */
export const useSynth = (context: Record<string, string> = {}): Synthesized => {
  const synth = {} as Synthesized;
  beforeAll(() => {
    Object.assign(synth, synthesize(context));
  });
  afterAll(() => synth.dispose?.());
  return synth;
};
