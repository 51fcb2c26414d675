/**
 * The repository's workflow files as GitHub reads them for a dispatch: the `workflow_dispatch`
 * trigger, its inputs and the `run-name` a run is shown under. Read from the real files in
 * `.github/workflows`, so the stand-in refuses a dispatch the real workflow would refuse.
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#onworkflow_dispatchinputs
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#run-name
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

export interface WorkflowInput {
  type: 'string' | 'choice' | 'boolean' | 'number' | 'environment';
  required: boolean;
  default?: string;
  options?: string[];
}

export interface WorkflowDefinition {
  /** Its file name, which the REST API accepts as `workflow_id`. */
  file: string;
  id: number;
  name: string;
  /** Undefined when the workflow has no `workflow_dispatch` trigger. */
  inputs?: Record<string, WorkflowInput>;
  runName?: string;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const readWorkflow = (dir: string, file: string, id: number): WorkflowDefinition => {
  const document = load(readFileSync(join(dir, file), 'utf8'));
  if (!isRecord(document)) throw new Error(`${file} is not a workflow`);
  const on = document.on;
  const dispatch = isRecord(on)
    ? on.workflow_dispatch
    : on === 'workflow_dispatch' || (Array.isArray(on) && on.includes('workflow_dispatch'))
      ? {}
      : undefined;
  const inputs =
    dispatch === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(
            isRecord(dispatch) && isRecord(dispatch.inputs) ? dispatch.inputs : {},
          ).map(([name, spec]) => {
            const input = isRecord(spec) ? spec : {};
            return [
              name,
              {
                type: (input.type as WorkflowInput['type'] | undefined) ?? 'string',
                required: input.required === true,
                ...(input.default === undefined ? {} : { default: String(input.default) }),
                ...(Array.isArray(input.options) ? { options: input.options.map(String) } : {}),
              },
            ];
          }),
        );
  return {
    file,
    id,
    name: typeof document.name === 'string' ? document.name : `.github/workflows/${file}`,
    ...(inputs ? { inputs } : {}),
    ...(typeof document['run-name'] === 'string' ? { runName: document['run-name'] } : {}),
  };
};

/** The inputs GitHub accepts in one dispatch (its REST description: "maximum ... is 25"). */
export const MAX_DISPATCH_INPUTS = 25;

/**
 * The inputs a dispatch runs with, or the 422 message GitHub answers: inputs the workflow does
 * not declare, required ones missing, a choice outside its options; defaults fill the rest.
 */
export const dispatchInputs = (
  workflow: WorkflowDefinition,
  given: Json,
): { inputs: Record<string, string> } | { error: string } => {
  const declared = workflow.inputs!;
  const names = Object.keys(given);
  if (names.length > MAX_DISPATCH_INPUTS) {
    return {
      error: `you may only define up to ${MAX_DISPATCH_INPUTS} \`inputs\` for a \`workflow_dispatch\` event`,
    };
  }
  const unexpected = names.filter((name) => !(name in declared));
  if (unexpected.length > 0) {
    return { error: `Unexpected inputs provided: ${JSON.stringify(unexpected)}` };
  }
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const raw = given[name];
    if (raw === undefined || raw === null) {
      if (spec.required && spec.default === undefined) {
        return { error: `Required input '${name}' not provided` };
      }
      inputs[name] = spec.default ?? '';
      continue;
    }
    if (typeof raw === 'object')
      return { error: `Provided value for input '${name}' is not a scalar` };
    const value = String(raw);
    if (spec.type === 'choice' && !(spec.options ?? []).includes(value)) {
      return {
        error: `Provided value '${value}' for input '${name}' not in the list of allowed values`,
      };
    }
    if (spec.type === 'boolean' && value !== 'true' && value !== 'false') {
      return { error: `Provided value '${value}' for input '${name}' is not a boolean` };
    }
    inputs[name] = value;
  }
  return { inputs };
};

/**
 * The run's name (`display_title`): `run-name` with its `${{ inputs.<name> }}` expressions
 * evaluated, else the workflow's name. Any other expression is refused, so a run-name this
 * stand-in cannot render fails visibly instead of naming runs wrongly.
 */
export const renderRunName = (
  workflow: WorkflowDefinition,
  inputs: Record<string, string>,
): string => {
  if (workflow.runName === undefined) return workflow.name;
  return workflow.runName.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_match, expression: string) => {
    const input = /^inputs\.([A-Za-z_][\w-]*)$/.exec(expression);
    if (!input) {
      throw new Error(`The GitHub stand-in cannot evaluate \${{ ${expression} }} in run-name`);
    }
    return inputs[input[1]!] ?? '';
  });
};
