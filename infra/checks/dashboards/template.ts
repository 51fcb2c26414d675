/**
 * Grafana's template service as the CloudWatch datasource calls it (`templateSrv.replace`):
 * `$name`, `${name}`, `${name:format}` and `[[name]]` replaced by a variable's current value,
 * formatted as Grafana formats it. Sources: the variable reference regex of
 * grafana-cloudwatch-datasource src/utils/templateVariableUtils.ts; the formats of grafana/scenes
 * packages/scenes/src/variables/interpolation/formatRegistry.ts (glob by default for several
 * values, raw, pipe, csv, text, regex); All as `$__all`, standing for the custom all value or
 * every option (packages/scenes/src/variables/variants/MultiValueVariable.ts).
 */

export const ALL_VALUE = '$__all';
export const ALL_TEXT = 'All';

export interface VariableOption {
  text: string;
  value: string;
}

/** A variable as the template service sees it once resolved. */
export interface VariableState {
  name: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  value: string | string[];
  text: string | string[];
  options: VariableOption[];
}

export type Scope = ReadonlyMap<string, VariableState>;

export type Format = 'glob' | 'raw' | 'pipe' | 'csv' | 'text' | 'regex';

const VARIABLE_REFERENCE =
  /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

const asArray = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** The name of the first variable a string refers to (`getVariableName`). */
export const variableName = (text: string): string | undefined => {
  VARIABLE_REFERENCE.lastIndex = 0;
  const match = VARIABLE_REFERENCE.exec(text);
  return match?.slice(1).find((group) => group !== undefined);
};

/** Names of every variable a piece of dashboard JSON refers to. */
export const referencedNames = (json: unknown): string[] => {
  const text = JSON.stringify(json ?? '');
  return [...text.matchAll(VARIABLE_REFERENCE)].map(
    (match) => match.slice(1).find((group) => group !== undefined) as string,
  );
};

export const isAll = (variable: VariableState): boolean => asArray(variable.value)[0] === ALL_VALUE;

/** The values a variable stands for: All is every option's value, unless a custom all value. */
export const valuesOf = (variable: VariableState): string[] =>
  isAll(variable) ? variable.options.map((option) => option.value) : asArray(variable.value);

const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

const format = (values: string[], as: Format): string => {
  switch (as) {
    case 'raw':
    case 'csv':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    case 'text':
      return values.join(' + ');
    case 'regex': {
      const escaped = values.map(escapeRegex);
      return escaped.length > 1 ? `(${escaped.join('|')})` : (escaped[0] ?? '');
    }
    case 'glob':
      return values.length > 1 ? `{${values.join(',')}}` : (values[0] ?? '');
  }
};

const formatVariable = (variable: VariableState, as: Format): string => {
  if (as === 'text') return format(isAll(variable) ? [ALL_TEXT] : asArray(variable.text), 'text');
  // A custom all value goes in as written, whatever the format.
  if (isAll(variable) && variable.allValue !== undefined) return variable.allValue;
  const values = valuesOf(variable);
  // One value that is not a list is written as it is (glob only groups several).
  if (!Array.isArray(variable.value) && !isAll(variable))
    return as === 'regex' ? escapeRegex(variable.value) : variable.value;
  return format(values, as);
};

const FORMATS: readonly string[] = ['glob', 'raw', 'pipe', 'csv', 'text', 'regex'];

/** `templateSrv.replace(text, {}, format)`: unknown variables are left as they are. */
export const replace = (text: string | undefined, scope: Scope, as: Format = 'glob'): string =>
  (text ?? '').replace(
    VARIABLE_REFERENCE,
    (
      whole,
      bare?: string,
      old?: string,
      oldFormat?: string,
      braced?: string,
      _path?: string,
      fmt?: string,
    ) => {
      const variable = scope.get((bare ?? old ?? braced) as string);
      if (!variable) return whole;
      const explicit = fmt ?? oldFormat;
      return formatVariable(
        variable,
        explicit && FORMATS.includes(explicit) ? (explicit as Format) : as,
      );
    },
  );
