import { describe, expect, it } from 'vitest';
import { BadRequestError } from '#shared/errors.ts';
import {
  type Deployment,
  isIdleGrafana,
  parseDeployRequest,
  statusOfRun,
  toView,
} from './deployment.ts';

const deployment = (overrides: Partial<Deployment> = {}): Deployment => ({
  id: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
  action: 'apply',
  status: 'SUCCESS',
  stage: 'dev',
  user: 'alice',
  trigger: 'panel',
  createdAt: 1_000_000,
  updatedAt: 2_000_000,
  checkedAt: 2_000_000,
  version: 3,
  ...overrides,
});

describe('the panel’s request', () => {
  it('takes the stage’s own environment and the route’s mode, the user as a sanitised label', () => {
    expect(
      parseDeployRequest({ user: 'al<i>ce', environment: 'dev', mode: 'apply' }, 'apply', 'dev'),
    ).toEqual({ user: 'alice' });
    expect(parseDeployRequest({ environment: 'dev', mode: 'destroy' }, 'destroy', 'dev')).toEqual({
      user: 'anonymous',
    });
  });

  it('refuses another environment, another mode, or no object, naming each field', () => {
    const refusal = (body: unknown, action: 'apply' | 'destroy' = 'apply') => {
      try {
        parseDeployRequest(body, action, 'dev');
      } catch (error) {
        expect(error).toBeInstanceOf(BadRequestError);
        return error as BadRequestError;
      }
      throw new Error('accepted');
    };
    expect(refusal({ environment: 'prod', mode: 'apply' }).message).toBe(
      'This API deploys the dev stage only',
    );
    expect(refusal({ environment: 'dev', mode: 'apply' }, 'destroy').details).toEqual([
      { field: 'mode', message: 'must be "destroy" on this route' },
    ]);
    expect(
      refusal({ environment: 'dev; rm -rf /', mode: 'apply && true', user: 3 }).details.map(
        (detail) => detail.field,
      ),
    ).toEqual(['environment', 'mode', 'user']);
    expect(refusal([]).message).toBe('Request body must be a JSON object');
    expect(refusal(undefined).message).toBe('Request body must be a JSON object');
  });
});

describe('a workflow run’s state on the panel', () => {
  // Statuses and conclusions: https://docs.github.com/en/rest/actions/workflow-runs
  it.each([
    ['queued', null, 'TRIGGERED'],
    ['requested', null, 'TRIGGERED'],
    ['pending', null, 'TRIGGERED'],
    ['in_progress', null, 'IN_PROGRESS'],
    ['waiting', null, 'IN_PROGRESS'],
    ['completed', 'success', 'SUCCESS'],
  ])('%s / %s is %s', (status, conclusion, expected) => {
    expect(statusOfRun({ id: 7, status, conclusion })).toEqual({ status: expected });
  });

  it.each([
    ['failure', /failed \(run 7\)$/],
    ['cancelled', /was cancelled \(run 7\)$/],
    ['timed_out', /timed out/],
    ['startup_failure', /could not start/],
    ['action_required', /needs an action/],
    ['skipped', /skipped/],
    ['stale', /stale/],
    ['neutral', /without success/],
    ['something_new', /ended as something_new/],
  ])('completed / %s is FAILED with a message', (conclusion, message) => {
    const state = statusOfRun({ id: 7, status: 'completed', conclusion });
    expect(state.status).toBe('FAILED');
    expect(state.errorMessage).toMatch(message);
  });
});

describe('the view the panel reads', () => {
  it('has snake case fields, epoch seconds and nulls where nothing is known', () => {
    expect(toView(deployment({ createdAt: 1_700_000_000_999 }), 'https://x/wf')).toEqual({
      deployment_id: '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
      status: 'SUCCESS',
      terraform_action: 'apply',
      error_message: null,
      workflow_run_url: null,
      github_actions_url: 'https://x/wf',
      user: 'alice',
      created_at: 1_700_000_000,
      updated_at: 2_000,
    });
    expect(toView(deployment({ runUrl: 'https://x/run/1' }), 'https://x/wf')).toMatchObject({
      workflow_run_url: 'https://x/run/1',
      github_actions_url: 'https://x/run/1',
    });
  });
});

describe('an idle Grafana', () => {
  const HOUR = 3_600_000;
  const up = deployment({ updatedAt: 10 * HOUR });

  it('is one the panel started, up and without a run for the idle period', () => {
    expect(isIdleGrafana(up, 9 * HOUR, 12 * HOUR, 2 * HOUR)).toBe(true);
    expect(isIdleGrafana(up, undefined, 12 * HOUR, 2 * HOUR)).toBe(true);
  });

  it('is not one with a run since, nor one up for less than the period', () => {
    expect(isIdleGrafana(up, 11 * HOUR, 12 * HOUR, 2 * HOUR)).toBe(false);
    expect(isIdleGrafana(up, undefined, 11 * HOUR, 2 * HOUR)).toBe(false);
  });

  it('is none when the latest deployment is not a successful start from the panel', () => {
    for (const latest of [
      undefined,
      deployment({ action: 'destroy', updatedAt: 0 }),
      deployment({ status: 'FAILED', updatedAt: 0 }),
      deployment({ status: 'IN_PROGRESS', updatedAt: 0 }),
    ]) {
      expect(isIdleGrafana(latest, undefined, 12 * HOUR, 2 * HOUR)).toBe(false);
    }
  });
});
