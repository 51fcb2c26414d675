/** The local Grafana: the generated dashboards rendered against the meter's records; see README.md. */
export { grafanaPages, panelData } from './pages.ts';
export { localLogGroupArn, type PanelResult } from './evaluate.ts';
export { localDeployment } from './deployment.ts';
export { resolveVariables } from './variables.ts';
