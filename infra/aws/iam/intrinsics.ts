/**
 * Resolves the CloudFormation intrinsics that synthesized policies contain (`Ref`, `Fn::Join`,
 * `Fn::Sub`, `Fn::GetAtt`) to the strings CloudFormation would put there, for one account and
 * region, so the policies can be evaluated against concrete requests. Resources of the template
 * resolve through `names` (their physical name as CloudFormation would generate it) and
 * `attributes`; anything else unresolvable throws rather than guessing.
 */
export interface DeploymentEnvironment {
  account: string;
  region: string;
  partition?: string;
  /** `Ref` values: parameters and resources, by logical id. */
  refs?: Record<string, string>;
  /** `Fn::GetAtt` values, by `LogicalId.Attribute`. */
  attributes?: Record<string, string>;
  /** Last resort for a `Ref` or `LogicalId.Attribute` the maps do not hold. */
  fallback?: (name: string) => string | undefined;
}

const pseudo = (env: DeploymentEnvironment): Record<string, string> => ({
  'AWS::AccountId': env.account,
  'AWS::Region': env.region,
  'AWS::Partition': env.partition ?? 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
});

const reference = (name: string, env: DeploymentEnvironment): string => {
  const value =
    pseudo(env)[name] ?? env.refs?.[name] ?? env.attributes?.[name] ?? env.fallback?.(name);
  if (value === undefined) throw new Error(`Cannot resolve ${name}`);
  return value;
};

export const resolveIntrinsics = (value: unknown, env: DeploymentEnvironment): unknown => {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, env));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first !== undefined) {
    const [key, argument] = first;
    if (key === 'Ref') return reference(argument as string, env);
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = argument as [string, string];
      return reference(`${id}.${attribute}`, env);
    }
    if (key === 'Fn::Join') {
      const [delimiter, parts] = argument as [string, unknown[]];
      return parts.map((part) => resolveIntrinsics(part, env)).join(delimiter);
    }
    if (key === 'Fn::Sub') {
      const [text, variables] = (Array.isArray(argument) ? argument : [argument, {}]) as [
        string,
        Record<string, unknown>,
      ];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
        name in variables ? String(resolveIntrinsics(variables[name], env)) : reference(name, env),
      );
    }
    if (key === 'Fn::Select') {
      const [index, list] = argument as [string | number, unknown];
      return (resolveIntrinsics(list, env) as unknown[])[Number(index)];
    }
    if (key === 'Fn::Split') {
      const [delimiter, text] = argument as [string, unknown];
      return String(resolveIntrinsics(text, env)).split(delimiter);
    }
    if (key === 'Fn::GetAZs') return [`${env.region}a`, `${env.region}b`, `${env.region}c`];
    if (key.startsWith('Fn::')) throw new Error(`${key} is not supported`);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, env)]));
};
