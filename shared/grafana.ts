/**
 * Identity of the Grafana sensors dashboard: its uid and variable names. The run API builds
 * `grafanaUrl` from it and the dashboards in dashboards/ are generated from it, so a link
 * always lands on the dashboard with the run selected.
 */

export const SENSORS_DASHBOARD = {
  uid: 'iot-playground-sensors',
  slug: 'iot-playground-sensors',
  title: 'IoT Playground — Sensors',
  variables: {
    stage: 'stage',
    runId: 'runId',
    sensorId: 'sensorId',
  },
} as const;

/**
 * Link to the sensors dashboard with the run, and the stage it ran on, selected. The run is a
 * variable listed only when the dashboard opens, so Grafana keeps the link's run even before
 * ListMetrics lists it. No `refresh`: the dashboard's own refresh is what an open tab costs
 * (dashboards/open-tab-cost.ts); the local page refreshes faster by itself.
 */
export const runDashboardUrl = (
  grafanaBaseUrl: string,
  run: { id: string; startedAt: string },
  stage?: string,
): string => {
  const base = grafanaBaseUrl.replace(/\/+$/, '');
  const { uid, slug, variables } = SENSORS_DASHBOARD;
  const query = new URLSearchParams({
    ...(stage ? { [`var-${variables.stage}`]: stage } : {}),
    [`var-${variables.runId}`]: run.id,
    // Start a minute early so the first readings are on screen; `now` keeps it live.
    from: String(Date.parse(run.startedAt) - 60_000),
    to: 'now',
  });
  return `${base}/d/${uid}/${slug}?${query.toString()}`;
};

/** The CloudWatch datasource as Grafana provisions it; every panel names it by this uid. */
export const CLOUDWATCH_DATASOURCE = { type: 'cloudwatch', uid: 'cloudwatch' } as const;

export interface DashboardIdentity {
  uid: string;
  slug: string;
  title: string;
}

/** Every generated dashboard; the sensors one is where `grafanaUrl` lands. */
export const DASHBOARDS = {
  sensors: SENSORS_DASHBOARD,
  runs: { uid: 'iot-playground-runs', slug: 'iot-playground-runs', title: 'IoT Playground — Runs' },
  pipeline: {
    uid: 'iot-playground-pipeline',
    slug: 'iot-playground-pipeline',
    title: 'IoT Playground — Pipeline',
  },
  cost: { uid: 'iot-playground-cost', slug: 'iot-playground-cost', title: 'IoT Playground — Cost' },
} as const satisfies Record<string, DashboardIdentity>;

/**
 * Variables that name the deployment: the stage, then the stage's functions, queues, tables, log
 * groups and HTTP API, whose values the deployment gives Grafana as it starts, so no physical
 * name is written in a dashboard (shared/dashboard-model/deployment.ts).
 */
export const DEPLOYMENT_VARIABLES = {
  stage: 'stage',
  function: 'function',
  queue: 'queue',
  table: 'table',
  api: 'api',
  /** Every log group of the stage by name, as AWS/Logs metrics are keyed (the Cost dashboard). */
  logGroupNames: 'logGroupNames',
} as const;

/** Path of a dashboard under a Grafana base URL (`<base>/d/<uid>/<slug>`). */
export const dashboardPath = (dashboard: DashboardIdentity): string =>
  `/d/${dashboard.uid}/${dashboard.slug}`;
