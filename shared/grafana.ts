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
    runId: 'runId',
    user: 'user',
    sensorId: 'sensorId',
  },
} as const;

/** Link to the sensors dashboard with the run (and its user) pre-selected. */
export const runDashboardUrl = (
  grafanaBaseUrl: string,
  run: { id: string; username: string; startedAt: string },
): string => {
  const base = grafanaBaseUrl.replace(/\/+$/, '');
  const { uid, slug, variables } = SENSORS_DASHBOARD;
  const query = new URLSearchParams({
    [`var-${variables.runId}`]: run.id,
    [`var-${variables.user}`]: run.username,
    // Start a minute early so the first readings are on screen; `now` keeps it live.
    from: String(Date.parse(run.startedAt) - 60_000),
    to: 'now',
    refresh: '5s',
  });
  return `${base}/d/${uid}/${slug}?${query.toString()}`;
};
