/**
 * Dashboard variables as Grafana 12 resolves them (its scenes `MultiValueVariable`,
 * grafana/scenes packages/scenes/src/variables/variants/MultiValueVariable.ts), with options from
 * what the local stack records, listed as the CloudWatch datasource's variable support lists
 * them (grafana-cloudwatch-datasource src/variables.ts):
 * - a value from the URL survives the first validation (`skipNextValidation`), even when it is
 *   not among the options; any later validation replaces a value that is not among the options
 *   by the first option (multi: drops it), or All where there are no options and includeAll;
 * - a variable is validated again on a refresh only if its refresh mode is "on time range
 *   change" (every auto-refresh moves a relative range) or a variable it uses changed;
 * - All is `$__all`; it expands to `allValue` when set, else to every option's value; a URL
 *   value `All` or equal to allValue means All;
 * - `dimensionValues` and `logGroups` queries list dimension values and log groups (text: name,
 *   value: ARN); any other queryType lists nothing, as `execute` has no default case;
 * - the datasource keeps every listing's answer for the page's life, keyed by its parameters
 *   (`memoizedGetRequest`, src/resources/ResourcesAPI.ts): listing again on a time range change
 *   returns the first answer, so a resource that starts reporting later is not listed;
 * - options are sorted by the variable's `sort` (sortVariableValues, grafana/scenes
 *   packages/scenes/src/variables/variants/query/utils.ts); a custom variable's values are
 *   `text : value` pairs or plain values, other variables interpolated (CustomVariable.ts);
 * - a regex is interpolated with the variables before it, then filters and renames the options.
 */
import { VariableQueryType, type VariableJson } from '#shared/dashboard-model/index.ts';

export const ALL_VALUE = '$__all';
export const ALL_TEXT = 'All';

export interface VariableOption {
  text: string;
  value: string;
}

export interface ResolvedVariable {
  name: string;
  label: string;
  multi: boolean;
  /** As Grafana keeps it: an array for a multi-value variable (`['$__all']` for All). */
  value: string | string[];
  text: string | string[];
  options: VariableOption[];
  allValue?: string;
  /** What Grafana would show or log about the variable (an unknown query type…). */
  note?: string;
}

export type Variables = Record<string, ResolvedVariable>;

/** What the local CloudWatch answers to a variable's listing (ListMetrics, DescribeLogGroups). */
export interface VariableSources {
  dimensionValues(
    namespace: string,
    metricName: string,
    key: string,
    filters: Record<string, string[]>,
  ): string[];
  logGroups(): VariableOption[];
}

/** `load`: the dashboard opens (URL values kept); `refresh`: an auto-refresh moved the range. */
export type Phase = 'load' | 'refresh';

/** The listings one page has made, by their parameters: kept for the page's life. */
export type ListingCache = Map<string, VariableOption[]>;

/**
 * The sources as the datasource calls them from one page: each distinct listing (its kind and
 * parameters) is made once, and its answer returned again for the page's life.
 */
export const memoizedListings = (
  sources: VariableSources,
  cache: ListingCache,
): VariableSources => {
  const once = (key: string, list: () => VariableOption[]) => {
    const cached = cache.get(key);
    if (cached) return cached;
    const options = list();
    cache.set(key, options);
    return options;
  };
  return {
    dimensionValues: (namespace, metricName, key, filters) =>
      once(JSON.stringify(['dimension-values', namespace, metricName, key, filters]), () =>
        sources
          .dimensionValues(namespace, metricName, key, filters)
          .map((value) => ({ text: value, value })),
      ).map((option) => option.value),
    logGroups: () => once(JSON.stringify(['log-groups']), () => sources.logGroups()),
  };
};

const asArray = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

export const isAll = (variable: ResolvedVariable): boolean =>
  asArray(variable.value)[0] === ALL_VALUE;

/** The values a query receives: All expands to allValue or every option. */
export const expand = (variable: ResolvedVariable): string[] => {
  if (isAll(variable))
    return variable.allValue !== undefined
      ? [variable.allValue]
      : variable.options.map((o) => o.value);
  return asArray(variable.value);
};

/** The display text (Grafana's `text` format): All reads "All". */
export const texts = (variable: ResolvedVariable): string[] =>
  isAll(variable) ? [ALL_TEXT] : asArray(variable.text);

const VARIABLE_REFERENCE = /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g;

/**
 * Grafana's interpolation of `$name` / `${name}` in a string. `raw` (Metrics Insights SQL) joins
 * several values with commas; the default format writes `{a,b}`; `text` uses display texts.
 */
export const interpolate = (
  text: string,
  variables: Variables,
  format: 'default' | 'raw' | 'text' = 'default',
): string =>
  text.replace(VARIABLE_REFERENCE, (whole, braced?: string, _fmt?: string, bare?: string) => {
    const variable = variables[(braced ?? bare) as string];
    if (!variable) return whole;
    const values = format === 'text' ? texts(variable) : expand(variable);
    if (values.length === 1 || format === 'raw') return values.join(',');
    return format === 'text' ? values.join(' + ') : `{${values.join(',')}}`;
  });

/** The variable a whole string names (`$name`), if any. */
export const variableNamed = (text: string, variables: Variables): ResolvedVariable | undefined => {
  const name = /^\$\{?(\w+)\}?$/.exec(text)?.[1];
  return name === undefined ? undefined : variables[name];
};

/** Names of the variables a definition uses (its query, filters, prefix). */
const dependencies = (variable: VariableJson): string[] =>
  [...JSON.stringify(variable.query ?? '').matchAll(/\$\{?(\w+)/g)].map((m) => m[1] as string);

interface Listing {
  options: VariableOption[];
  note?: string;
}

const listOptions = (
  variable: VariableJson,
  resolved: Variables,
  sources: VariableSources,
): Listing => {
  if (variable.type === 'custom') {
    // CustomVariable.getValueOptions: the query interpolated, split at unescaped commas, each
    // item `text : value` or a plain value.
    const query = interpolate(String(variable.query ?? ''), resolved, 'raw');
    return {
      options: (query.match(/(?:\\,|[^,])+/g) ?? []).map((item) => {
        const text = item.replace(/\\,/g, ',');
        const pair = /^\s*(.+)\s:\s(.+)$/.exec(text);
        return pair
          ? { text: (pair[1] as string).trim(), value: (pair[2] as string).trim() }
          : { text: text.trim(), value: text.trim() };
      }),
    };
  }
  if (variable.type !== 'query') return { options: [] };
  if (variable.refresh === 0)
    return {
      options: (variable.options ?? []).map((o) => ({
        text: String(o.text),
        value: String(o.value),
      })),
    };
  const query = (variable.query ?? {}) as Record<string, unknown>;
  switch (query.queryType) {
    case VariableQueryType.dimensionValues: {
      const filters = Object.fromEntries(
        Object.entries((query.dimensionFilters ?? {}) as Record<string, string | string[]>).map(
          ([key, value]) => [
            key,
            asArray(value).flatMap((v) => {
              const named = variableNamed(v, resolved);
              return named ? expand(named) : [v];
            }),
          ],
        ),
      );
      if (!query.dimensionKey || !query.metricName) return { options: [] };
      return {
        options: sources
          .dimensionValues(
            String(query.namespace),
            String(query.metricName),
            String(query.dimensionKey),
            filters,
          )
          .map((value) => ({ text: value, value })),
      };
    }
    case VariableQueryType.logGroups:
      return { options: sources.logGroups() };
    default:
      return {
        options: [],
        note: `Grafana's CloudWatch datasource has no variable query type ${JSON.stringify(query.queryType)}: $${variable.name} lists nothing`,
      };
  }
};

/**
 * Grafana's regex on option values (metricNamesToVariableValues, grafana/scenes
 * packages/scenes/src/variables/variants/query/utils.ts): a match keeps the option, named groups
 * `text`/`value` or the first capture group rename it, and options are unique by value.
 */
const applyRegex = (options: VariableOption[], regex: string | undefined): VariableOption[] => {
  const source = /^\/(.*)\/([gimsuy]*)$/.exec(regex ?? '');
  if (!source) return options;
  const pattern = new RegExp(source[1] as string, source[2]);
  const kept = options.flatMap((option) => {
    const match = pattern.exec(option.value);
    if (!match) return [];
    const { text, value } = match.groups ?? {};
    if (text !== undefined || value !== undefined)
      return [{ text: text ?? value ?? '', value: value ?? text ?? '' }];
    const captured = match[1];
    return [captured === undefined ? option : { text: captured, value: captured }];
  });
  return kept.filter((option, i) => kept.findIndex((o) => o.value === option.value) === i);
};

const byText = (a: VariableOption, b: VariableOption) =>
  a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
const numberIn = (option: VariableOption) => {
  const match = /.*?(\d+).*/.exec(option.text);
  return match ? parseInt(match[1] as string, 10) : -1;
};
const natural = new Intl.Collator(undefined, { sensitivity: 'accent', numeric: true });

/**
 * Grafana's sortVariableValues (grafana/scenes packages/scenes/src/variables/variants/query/
 * utils.ts): 1 alphabetical, 3 numerical (the first number in the text), 5 alphabetical ignoring
 * case, 7 natural; the even value after each is the same order reversed; 0 keeps the listing's.
 */
export const sortOptions = (options: VariableOption[], sort = 0): VariableOption[] => {
  const orders: Record<number, (a: VariableOption, b: VariableOption) => number> = {
    1: byText,
    3: (a, b) => numberIn(a) - numberIn(b),
    5: (a, b) => byText({ ...a, text: a.text.toLowerCase() }, { ...b, text: b.text.toLowerCase() }),
    7: (a, b) => natural.compare(a.text, b.text),
  };
  const order = orders[sort % 2 === 0 ? sort - 1 : sort];
  if (sort === 0 || order === undefined) return options;
  const sorted = [...options].sort(order);
  return sort % 2 === 0 ? sorted.reverse() : sorted;
};

/** getStateUpdateGivenNewOptions of MultiValueVariable, for a value not kept from the URL. */
const validate = (
  variable: VariableJson,
  options: VariableOption[],
  current: { value: string | string[]; text: string | string[] },
): { value: string | string[]; text: string | string[] } => {
  const multi = variable.multi === true;
  if (options.length === 0) {
    if (variable.includeAll) return { value: ALL_VALUE, text: ALL_TEXT };
    return multi ? { value: [], text: [] } : { value: '', text: '' };
  }
  if (asArray(current.value)[0] === ALL_VALUE) {
    if (variable.includeAll) return { value: current.value, text: ALL_TEXT };
    const first = options[0] as VariableOption;
    return multi ? { value: [first.value], text: [first.text] } : first;
  }
  if (multi) {
    const valid = asArray(current.value).filter((v) => options.some((o) => o.value === v));
    if (valid.length === 0) {
      const first = options[0] as VariableOption;
      return { value: [first.value], text: [first.text] };
    }
    return { value: valid, text: valid.map((v) => options.find((o) => o.value === v)!.text) };
  }
  const match =
    options.find((o) => o.value === current.value) ?? options.find((o) => o.text === current.text);
  return match ?? (options[0] as VariableOption);
};

/** The value the URL gives (`var-<name>`), as MultiValueUrlSyncHandler.updateFromUrl reads it. */
const fromUrl = (
  variable: VariableJson,
  params: URLSearchParams,
): string | string[] | undefined => {
  const raw = params.getAll(`var-${variable.name}`);
  if (raw.length === 0) return undefined;
  const normalise = (v: string) =>
    (variable.includeAll && v === ALL_TEXT) ||
    (variable.allValue !== undefined && v === variable.allValue)
      ? ALL_VALUE
      : v;
  const values = raw.map(normalise);
  return variable.multi || values.length > 1 ? values : (values[0] as string);
};

const currentOf = (variable: VariableJson) => ({
  value: (variable.current?.value as string | string[] | undefined) ?? '',
  text: (variable.current?.text as string | string[] | undefined) ?? '',
});

/**
 * Every variable of a dashboard, in order (each may use the ones before it). `params` holds the
 * URL's values: on `load` the page's first request, on `refresh` the values the page kept;
 * `listings` the answers the page's datasource already holds.
 */
export const resolveVariables = (
  list: VariableJson[],
  params: URLSearchParams,
  sources: VariableSources,
  phase: Phase,
  /** The page's listings so far (the datasource's cache); without it, every listing is new. */
  listings: ListingCache = new Map(),
): Variables => {
  const resolved: Variables = {};
  const changed = new Set<string>();
  const listed = memoizedListings(sources, listings);
  for (const variable of list) {
    const urlValue = fromUrl(variable, params);
    const start =
      urlValue === undefined ? currentOf(variable) : { value: urlValue, text: urlValue };
    const listing = listOptions(variable, resolved, listed);
    const regex = variable.regex && interpolate(variable.regex, resolved, 'raw');
    const options = sortOptions(applyRegex(listing.options, regex), variable.sort);
    const dependsOnChange = dependencies(variable).some((name) => changed.has(name));
    let selected: { value: string | string[]; text: string | string[] };
    if (variable.type === 'textbox' || variable.type === 'constant') {
      const value = urlValue ?? String(variable.query ?? '');
      selected = { value, text: value };
    } else if (phase === 'load' && urlValue !== undefined && !dependsOnChange) {
      // The URL's value survives the first validation, listed or not.
      const known = asArray(urlValue).map((v) => options.find((o) => o.value === v)?.text ?? v);
      selected = { value: urlValue, text: Array.isArray(urlValue) ? known : (known[0] as string) };
    } else if (phase === 'load' || variable.refresh === 2 || dependsOnChange) {
      selected = validate(variable, options, start);
    } else {
      selected = start;
    }
    if (JSON.stringify(selected.value) !== JSON.stringify(start.value)) changed.add(variable.name);
    resolved[variable.name] = {
      name: variable.name,
      label: variable.label ?? variable.name,
      multi: variable.multi === true,
      ...selected,
      options,
      ...(variable.allValue === undefined ? {} : { allValue: variable.allValue }),
      ...(listing.note ? { note: listing.note } : {}),
    };
  }
  return resolved;
};

/** The URL parameters that carry the variables' values, as Grafana writes them back. */
export const urlValues = (variables: Variables): [string, string][] =>
  Object.values(variables).flatMap((v) =>
    asArray(v.value).map((value): [string, string] => [`var-${v.name}`, value]),
  );
