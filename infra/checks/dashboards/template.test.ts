/**
 * The template service's formats, as the CloudWatch datasource relies on them: a list is `{a,b}`
 * by default (glob), `a,b` raw (Metrics Insights SQL), `a|b` piped (dimensions, log group ARNs);
 * All stands for every option, or for a custom all value written as it is. Source: grafana/scenes
 * packages/scenes/src/variables/interpolation/formatRegistry.ts and sceneInterpolator.ts.
 */
import { describe, expect, it } from 'vitest';
import { ALL_VALUE, replace, variableName, type VariableState } from './template.ts';

const variable = (name: string, state: Partial<VariableState>): [string, VariableState] => [
  name,
  {
    name,
    type: 'query',
    multi: true,
    includeAll: true,
    value: [],
    text: [],
    options: [
      { text: 'a.1', value: 'a.1' },
      { text: 'b', value: 'b' },
    ],
    ...state,
  },
];

const scope = new Map([
  variable('many', { value: ['a.1', 'b'], text: ['a.1', 'b'] }),
  variable('all', { value: [ALL_VALUE], text: ['All'] }),
  variable('star', { value: [ALL_VALUE], text: ['All'], allValue: '*' }),
  variable('one', { multi: false, value: 'a.1', text: 'a.1' }),
]);

describe('replace', () => {
  it('formats several values by the format asked, glob by default', () => {
    expect(replace('$many', scope)).toBe('{a.1,b}');
    expect(replace('$many', scope, 'raw')).toBe('a.1,b');
    expect(replace('$many', scope, 'pipe')).toBe('a.1|b');
    expect(replace('$many', scope, 'regex')).toBe('(a\\.1|b)');
    expect(replace('${many:pipe} and [[one]]', scope, 'raw')).toBe('a.1|b and a.1');
  });

  it('reads All as every option, or as the custom all value written as it is', () => {
    expect(replace('$all', scope, 'pipe')).toBe('a.1|b');
    expect(replace('$star', scope, 'pipe')).toBe('*');
    expect(replace('$star', scope, 'text')).toBe('All');
  });

  it('leaves what is not a variable of the dashboard as it is', () => {
    expect(replace('SUM(m) / $__period_auto', scope)).toBe('SUM(m) / $__period_auto');
    expect(variableName("${PROP('Dim.X')}")).toBeUndefined();
    expect(variableName('x $one y')).toBe('one');
  });
});
