/** The local Grafana: the generated dashboards rendered against the meter's records; see README.md. */
export { grafanaPages, panelData } from './pages.ts';
export type { PanelResult } from './evaluate.ts';
export { resolveVariables } from './variables.ts';
