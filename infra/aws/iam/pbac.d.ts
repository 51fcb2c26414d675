// pbac ships no types; this is the part of its API the evaluator uses.
declare module 'pbac' {
  interface PbacStatement {
    Effect: 'Allow' | 'Deny';
    Action?: string[];
    NotAction?: string[];
    Resource?: string[];
    NotResource?: string[];
    Condition?: Record<string, Record<string, unknown>>;
  }
  interface PbacPolicy {
    Version: string;
    Statement: PbacStatement[];
  }
  type Comparison = (this: Pbac, actual: unknown, expected: unknown) => boolean;
  class Pbac {
    constructor(policies: PbacPolicy[], options?: { validateSchema?: boolean });
    conditions: Record<string, Comparison>;
    filterPoliciesBy(options: {
      effect: 'Allow' | 'Deny';
      action: string;
      resource: string;
      context: Record<string, unknown>;
      principal: Record<string, unknown>;
    }): PbacStatement | undefined;
    evaluateAction(actions: string[], action: string): string | undefined;
    evaluateCondition(
      condition: PbacStatement['Condition'],
      context: Record<string, unknown>,
    ): boolean;
  }
  export default Pbac;
}
