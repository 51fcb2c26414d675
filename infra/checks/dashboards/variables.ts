/**
 * A dashboard's variables resolved as Grafana resolves them when the dashboard opens, each after
 * the variables it refers to (grafana/scenes `VariableDependencyConfig`: a query variable depends
 * on the variables in its query, regex and datasource). A variable's options come from a
 * `lister` (the datasource's resource endpoints); then the regex filters and renames them
 * (scenes packages/scenes/src/variables/variants/query/utils.ts `metricNamesToVariableValues`),
 * and the value saved in the dashboard is validated against them
 * (MultiValueVariable.ts `getStateUpdateGivenNewOptions`). A value given for the URL
 * (`var-<name>`) is kept as it is, as on a first load.
 */
import type { DataSourceRef, VariableJson } from '#shared/dashboard-model/index.ts';
import {
  ALL_TEXT,
  ALL_VALUE,
  referencedNames,
  replace,
  type Scope,
  type VariableOption,
  type VariableState,
} from './template.ts';

/** What a variable's listing gave: its options, or why there are none. */
export interface Listing {
  options: VariableOption[];
  /** Asked of Grafana (a resource request), as opposed to written in the dashboard. */
  asked: boolean;
  /** What Grafana would say about the listing (an unknown query type lists nothing…). */
  note?: string;
  /** The request failed: Grafana shows the variable without options. */
  error?: string;
}

/** Lists a query variable's options through the datasource. */
export type Lister = (variable: VariableJson, scope: Scope) => Promise<Listing>;

export interface ResolvedVariable {
  variable: VariableJson;
  state: VariableState;
  listing: Listing;
  /** How many options the listing gave before the regex. */
  listed: number;
}

export interface ResolveOptions {
  /** Values as a URL gives them (`var-name=value`), kept like a link's values on first load. */
  overrides?: Record<string, string[]>;
}

/** A variable's datasource (the dashboard JSON carries it; the model does not declare it). */
export const datasourceOf = (variable: VariableJson): DataSourceRef | undefined =>
  (variable as { datasource?: DataSourceRef }).datasource;

/** The variables in an order where each comes after the ones it refers to. */
export const dependencyOrder = (list: VariableJson[]): VariableJson[] => {
  const names = new Set(list.map((v) => v.name));
  const needs = new Map(
    list.map((v) => [
      v.name,
      new Set(
        referencedNames([v.query, v.regex, datasourceOf(v)]).filter(
          (name) => names.has(name) && name !== v.name,
        ),
      ),
    ]),
  );
  const ordered: VariableJson[] = [];
  const done = new Set<string>();
  while (ordered.length < list.length) {
    const ready = list.filter(
      (v) => !done.has(v.name) && [...(needs.get(v.name) ?? [])].every((n) => done.has(n)),
    );
    if (ready.length === 0) {
      const stuck = list.filter((v) => !done.has(v.name)).map((v) => `$${v.name}`);
      throw new Error(`variables refer to each other in a circle: ${stuck.join(', ')}`);
    }
    for (const v of ready) {
      ordered.push(v);
      done.add(v.name);
    }
  }
  return ordered;
};

/** A custom variable's options: `a,b` or `text : value` pairs, commas escapable. */
const customOptions = (query: unknown): VariableOption[] =>
  (String(query ?? '').match(/(?:\\,|[^,])+/g) ?? []).map((item) => {
    const pair = /^\s*(.+?)\s+:\s+(.+?)\s*$/.exec(item);
    const text = (pair?.[1] ?? item.trim()).replace(/\\,/g, ',');
    const value = (pair?.[2] ?? item.trim()).replace(/\\,/g, ',');
    return { text, value };
  });

/** A regex as Grafana reads it: `/source/flags`, or a bare pattern matched whole. */
const toRegExp = (regex: string): RegExp => {
  const literal = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
  return literal ? new RegExp(literal[1] as string, literal[2]) : new RegExp(`^${regex}$`);
};

const applyRegex = (options: VariableOption[], regex: RegExp): VariableOption[] => {
  const kept = options.flatMap((option) => {
    regex.lastIndex = 0;
    const match = regex.exec(option.value);
    if (!match) return [];
    const { text, value } = match.groups ?? {};
    if (text !== undefined || value !== undefined)
      return [{ text: text ?? value ?? '', value: value ?? text ?? '' }];
    const captured = match.slice(1).find((group) => group !== undefined);
    return [captured === undefined ? option : { text: captured, value: captured }];
  });
  return kept.filter((option, i) => kept.findIndex((o) => o.value === option.value) === i);
};

/** Grafana's `sort` of a query variable: 1/2 alphabetical, 3/4 numerical, 5/6 ignoring case. */
const sortOptions = (options: VariableOption[], sort: unknown): VariableOption[] => {
  const by: Record<number, (a: VariableOption, b: VariableOption) => number> = {
    1: (a, b) => a.text.localeCompare(b.text),
    2: (a, b) => b.text.localeCompare(a.text),
    3: (a, b) => parseFloat(a.text) - parseFloat(b.text),
    4: (a, b) => parseFloat(b.text) - parseFloat(a.text),
    5: (a, b) => a.text.toLowerCase().localeCompare(b.text.toLowerCase()),
    6: (a, b) => b.text.toLowerCase().localeCompare(a.text.toLowerCase()),
  };
  const compare = by[Number(sort)];
  return compare ? [...options].sort(compare) : options;
};

type Selection = Pick<VariableState, 'value' | 'text'>;

/** The saved value checked against the options, as on a dashboard's load. */
const validate = (
  variable: VariableJson,
  options: VariableOption[],
  saved: Selection,
): Selection => {
  const multi = variable.multi === true;
  const first = options[0];
  if (!first) {
    if (variable.includeAll) return { value: multi ? [ALL_VALUE] : ALL_VALUE, text: ALL_TEXT };
    return multi ? { value: [], text: [] } : { value: '', text: '' };
  }
  const values = Array.isArray(saved.value) ? saved.value : [saved.value];
  if (values[0] === ALL_VALUE) {
    if (variable.includeAll) return { value: saved.value, text: ALL_TEXT };
    return multi ? { value: [first.value], text: [first.text] } : first;
  }
  if (multi) {
    const kept = options.filter((o) => values.includes(o.value));
    return kept.length > 0
      ? { value: kept.map((o) => o.value), text: kept.map((o) => o.text) }
      : { value: [first.value], text: [first.text] };
  }
  return (
    options.find((o) => o.value === saved.value) ??
    options.find((o) => o.text === saved.text) ??
    first
  );
};

const savedSelection = (variable: VariableJson): Selection => ({
  value: (variable.current?.value as string | string[] | undefined) ?? '',
  text: (variable.current?.text as string | string[] | undefined) ?? '',
});

/** A value from the URL; `All` (or the custom all value) means All. */
const overridden = (variable: VariableJson, values: string[]): Selection => {
  const normal = values.map((v) =>
    (variable.includeAll && v === ALL_TEXT) || v === variable.allValue ? ALL_VALUE : v,
  );
  const value = variable.multi || normal.length > 1 ? normal : (normal[0] as string);
  return { value, text: value };
};

const listingOf = async (
  variable: VariableJson,
  scope: Scope,
  lister: Lister,
): Promise<Listing> => {
  switch (variable.type) {
    case 'custom':
      return { options: customOptions(variable.query), asked: false };
    case 'constant':
    case 'textbox':
      return { options: [], asked: false };
    case 'query':
      // Refresh "never": the options saved in the dashboard (the default is on load).
      if (variable.refresh === 0)
        return {
          options: (variable.options ?? []).map((o) => ({
            text: String(o.text),
            value: String(o.value),
          })),
          asked: false,
        };
      return lister(variable, scope);
    default:
      return {
        options: [],
        asked: false,
        error: `the check cannot resolve a variable of type ${variable.type}`,
      };
  }
};

/** Every variable of a dashboard, resolved in dependency order. */
export const resolveVariables = async (
  list: VariableJson[],
  lister: Lister,
  options: ResolveOptions = {},
): Promise<ResolvedVariable[]> => {
  const scope = new Map<string, VariableState>();
  const resolved: ResolvedVariable[] = [];
  for (const variable of dependencyOrder(list)) {
    const listing = await listingOf(variable, scope, lister);
    let choices = listing.options;
    if (variable.regex)
      choices = applyRegex(choices, toRegExp(replace(variable.regex, scope, 'regex')));
    choices = sortOptions(choices, (variable as { sort?: unknown }).sort);
    const given = options.overrides?.[variable.name];
    let selection: Selection;
    if (variable.type === 'constant' || variable.type === 'textbox') {
      const value = given?.[0] ?? String(variable.query ?? '');
      selection = { value, text: value };
    } else if (given !== undefined) {
      selection = overridden(variable, given);
    } else {
      selection = validate(variable, choices, savedSelection(variable));
    }
    const state: VariableState = {
      name: variable.name,
      type: variable.type,
      multi: variable.multi === true,
      includeAll: variable.includeAll === true,
      ...(variable.allValue === undefined ? {} : { allValue: variable.allValue }),
      ...selection,
      options: choices,
    };
    scope.set(variable.name, state);
    resolved.push({ variable, state, listing, listed: listing.options.length });
  }
  // Back in the dashboard's order, as Grafana shows them.
  return list.map((v) => resolved.find((r) => r.variable === v) as ResolvedVariable);
};

/** The template service's view of resolved variables. */
export const scopeOf = (resolved: ResolvedVariable[]): Scope =>
  new Map(resolved.map((r) => [r.variable.name, r.state]));
