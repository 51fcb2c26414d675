/* global document, window, location, history, fetch, uPlot, setInterval, setTimeout, URLSearchParams */
// The local dashboard page: lays out the generated dashboard JSON and draws the data that
// /grafana/api/d/<uid> evaluates for the URL's time range and variables.
'use strict';

const ROW_PX = 30;
const GAP_PX = 8;
const COLORS = [
  '#73BF69',
  '#F2CC0C',
  '#8AB8FF',
  '#FF780A',
  '#F2495C',
  '#5794F2',
  '#B877D9',
  '#FADE2A',
];

const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
};

const UNITS = {
  celsius: (v) => `${round(v)} °C`,
  humidity: (v) => `${round(v)} %`,
  pressurehpa: (v) => `${round(v)} hPa`,
  ms: (v) => `${round(v)} ms`,
  s: (v) => `${round(v)} s`,
  reqps: (v) => `${round(v)} req/s`,
  currencyUSD: (v) => `$${v < 0.01 && v !== 0 ? v.toPrecision(2) : round(v)}`,
};

// Grafana's custom units (getValueFormat, packages/grafana-data/src/valueFormats/valueFormats.ts):
// `suffix:<text>` and `prefix:<text>`.
const unitFormat = (unit) => {
  if (UNITS[unit]) return UNITS[unit];
  const custom = /^(suffix|prefix):(.*)$/.exec(unit ?? '');
  if (!custom) return round;
  return custom[1] === 'suffix'
    ? (v) => `${round(v)} ${custom[2]}`
    : (v) => `${custom[2]}${round(v)}`;
};

// Grafana's named colors, as its dark theme draws them.
const NAMED_COLORS = {
  green: '#73BF69',
  red: '#F2495C',
  orange: '#FF9830',
  yellow: '#FADE2A',
  blue: '#5794F2',
  purple: '#B877D9',
};

// Without thresholds of its own, a field takes Grafana's default: green, red from 80
// (getAllStandardFieldConfigs, grafana/grafana public/app/core/components/OptionsUI/registry.tsx).
const DEFAULT_THRESHOLDS = [
  { value: null, color: 'green' },
  { value: 80, color: 'red' },
];

/** The color of the highest threshold step at or below the value. */
const thresholdColor = (panel, value) => {
  const steps = panel.fieldConfig?.defaults?.thresholds?.steps ?? DEFAULT_THRESHOLDS;
  let color = steps[0]?.color ?? 'green';
  for (const step of steps)
    if (step.value === null || (value ?? -Infinity) >= step.value) color = step.color;
  return NAMED_COLORS[color] ?? color;
};

function round(v) {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}K`;
  return String(Math.round(v * 100) / 100);
}

const format = (unit, v) => (v == null ? '–' : unitFormat(unit)(v));

const reduce = (calc, values) => {
  const present = values.filter((v) => v != null);
  if (present.length === 0) return null;
  switch (calc) {
    case 'sum':
      return present.reduce((a, b) => a + b, 0);
    case 'mean':
      return present.reduce((a, b) => a + b, 0) / present.length;
    case 'max':
      return Math.max(...present);
    case 'min':
      return Math.min(...present);
    default:
      return present[present.length - 1];
  }
};

const unitOf = (panel) => panel.fieldConfig?.defaults?.unit ?? 'short';
const calcOf = (panel) => panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';

function layout(dashboard) {
  const grid = el('div', { class: 'grid' });
  let bottom = 0;
  const bodies = new Map();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    const box = {
      left: `calc(${(x / 24) * 100}% + ${GAP_PX / 2}px)`,
      top: `${y * (ROW_PX + GAP_PX)}px`,
      width: `calc(${(w / 24) * 100}% - ${GAP_PX}px)`,
      height: `${h * ROW_PX + (h - 1) * GAP_PX}px`,
    };
    const style = Object.entries(box)
      .map(([k, v]) => `${k}:${v}`)
      .join(';');
    bottom = Math.max(bottom, (y + h) * (ROW_PX + GAP_PX));
    if (panel.type === 'row') {
      grid.append(el('div', { class: 'row-title', style }, panel.title));
      continue;
    }
    const body = el('div', { class: 'body' });
    grid.append(
      el(
        'section',
        { class: `panel ${panel.type}`, style, 'data-title': panel.title, 'data-type': panel.type },
        el('h2', {}, panel.title),
        body,
      ),
    );
    bodies.set(panel.id, body);
  }
  grid.style.height = `${bottom}px`;
  return { grid, bodies };
}

const plots = new Map();

function drawTimeseries(panel, body, result) {
  const frames = result.frames;
  const key = frames.map((f) => f.label).join('\u0000');
  const data = [result.times, ...frames.map((f) => f.values)];
  const existing = plots.get(panel.id);
  if (existing && existing.key === key && body.contains(existing.plot.root)) {
    existing.plot.setData(data);
    return;
  }
  existing?.plot.destroy();
  body.replaceChildren();
  const unit = unitOf(panel);
  const axis = { stroke: '#8e8e8e', grid: { stroke: '#2c3235' }, ticks: { stroke: '#2c3235' } };
  const plot = new uPlot(
    {
      width: Math.max(100, body.clientWidth - 4),
      height: Math.max(60, body.clientHeight - 40),
      series: [
        {},
        ...frames.map((f, i) => ({
          label: f.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: false,
          points: { show: true, size: 5, fill: COLORS[i % COLORS.length] },
          value: (_u, v) => format(unit, v),
        })),
      ],
      scales: {
        // A flat line (counts that stayed at zero) gets a 0–1 axis, not uPlot's 0–100.
        y: {
          range: (_u, min, max) =>
            min === max
              ? [Math.min(0, min ?? 0), Math.max(1, (max ?? 0) * 1.1)]
              : uPlot.rangeNum(min, max, 0.1, true),
        },
      },
      axes: [
        {
          ...axis,
          space: 70,
          // HH:MM, or HH:MM:SS when ticks are less than a minute apart.
          values: (_u, ticks) =>
            ticks.map((t) =>
              new Date(t * 1000).toTimeString().slice(0, ticks[1] - ticks[0] < 60 ? 8 : 5),
            ),
        },
        {
          ...axis,
          // Wide enough for the longest label ("1013.5 hPa").
          size: (_u, values) =>
            values ? Math.max(40, 20 + 8 * Math.max(...values.map((v) => v.length))) : 40,
          values: (_u, ticks) => ticks.map((v) => format(unit, v)),
        },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    },
    data,
    body,
  );
  // The legend wraps to as many lines as it needs; once uPlot has laid it out (it commits
  // sizes asynchronously), the plot takes the rest of the panel.
  setTimeout(() => {
    const spare = body.clientHeight - 8 - plot.root.offsetHeight;
    plot.setSize({ width: plot.width, height: Math.max(60, plot.height + spare) });
    document.body.setAttribute('data-drawn', String(Date.now()));
  }, 0);
  plots.set(panel.id, { key, plot });
}

function drawStats(panel, body, result) {
  const unit = unitOf(panel);
  const calc = calcOf(panel);
  const items = result.frames.map((f) => ({ label: f.label, value: reduce(calc, f.values) }));
  body.setAttribute('data-stat', JSON.stringify(items));
  if (panel.type === 'stat') {
    body.replaceChildren(
      el(
        'div',
        { class: 'stats' },
        ...items.map((item) =>
          el(
            'div',
            { class: 'stat' },
            el(
              'div',
              { class: 'value', style: `color:${thresholdColor(panel, item.value)}` },
              format(unit, item.value),
            ),
            items.length > 1 ? el('div', { class: 'label' }, item.label) : '',
          ),
        ),
      ),
    );
    return;
  }
  const max = Math.max(...items.map((i) => i.value ?? 0), 1e-9);
  body.replaceChildren(
    ...items.map((item) =>
      el(
        'div',
        { class: 'bar' },
        el('span', { title: item.label }, item.label),
        el(
          'div',
          { class: 'track' },
          el('div', {
            class: 'fill',
            style: `width:${(100 * (item.value ?? 0)) / max}%;background:${thresholdColor(panel, item.value)}`,
          }),
        ),
        el('span', {}, format(unit, item.value)),
      ),
    ),
  );
}

function drawTable(panel, body, result) {
  const { fields, rows } = result.table;
  body.setAttribute('data-rows', String(rows.length));
  if (rows.length === 0) {
    body.replaceChildren(el('div', { class: 'nodata' }, 'No data'));
    return;
  }
  if (panel.type === 'logs') {
    const message = fields.indexOf('@message');
    const time = fields.indexOf('@timestamp');
    body.replaceChildren(
      el(
        'div',
        { class: 'loglines' },
        ...rows.map((row) =>
          el(
            'div',
            {},
            el('time', {}, time >= 0 ? row[time].slice(11, 23) : ''),
            message >= 0 ? row[message] : row.filter((_, i) => i !== time).join('  '),
          ),
        ),
      ),
    );
    return;
  }
  const links = fields.map((field) => fieldLinks(panel, field));
  body.replaceChildren(
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ...fields.map((f) => el('th', {}, f)))),
      el(
        'tbody',
        {},
        ...rows.map((row) =>
          el(
            'tr',
            {},
            ...row.map((cell, i) => {
              const [link] = links[i];
              return el(
                'td',
                {},
                link
                  ? el('a', { href: dataLinkUrl(link.url, cell), title: link.title }, cell)
                  : cell,
              );
            }),
          ),
        ),
      ),
    ),
  );
}

// A field's data links: the defaults' and those of an override naming the field.
function fieldLinks(panel, field) {
  const override = (panel.fieldConfig?.overrides ?? []).find(
    (o) => o.matcher?.id === 'byName' && o.matcher.options === field,
  );
  const fromOverride = override?.properties?.find((p) => p.id === 'links')?.value;
  return fromOverride ?? panel.fieldConfig?.defaults?.links ?? [];
}

// A data link's URL as Grafana interpolates it: the cell's value, the dashboard's variables
// (their current values, which the page keeps in its URL); Grafana paths are under /grafana here.
function dataLinkUrl(url, value) {
  const params = new URLSearchParams(location.search);
  const interpolated = url
    .replaceAll('${__value.raw}', encodeURIComponent(value))
    .replace(/\$\{(\w+)\}/g, (whole, name) =>
      params.has(`var-${name}`) ? encodeURIComponent(params.get(`var-${name}`)) : whole,
    );
  return interpolated.startsWith('/') ? `/grafana${interpolated}` : interpolated;
}

function draw(panel, body, result) {
  const hasValues = (result.frames ?? []).some((f) => f.values.some((v) => v != null));
  if (result.frames) {
    body.setAttribute(
      'data-frames',
      JSON.stringify(
        result.frames.map((f) => ({ label: f.label, values: f.values.filter((v) => v != null) })),
      ),
    );
  }
  const notes = [
    ...(result.errors ?? []).map((error) => el('div', { class: 'note error' }, error)),
    ...result.notes.map((note) => el('div', { class: 'note' }, note)),
  ];
  body.setAttribute('data-errors', JSON.stringify(result.errors ?? []));
  if (result.table) drawTable(panel, body, result);
  else if (!hasValues) {
    plots.get(panel.id)?.plot.destroy();
    plots.delete(panel.id);
    body.replaceChildren(el('div', { class: 'nodata' }, 'No data'));
  } else if (panel.type === 'timeseries') drawTimeseries(panel, body, result);
  else drawStats(panel, body, result);
  body.querySelectorAll(':scope > .note').forEach((n) => n.remove());
  body.prepend(...notes);
}

// The dashboard's links as Grafana draws them: a `dashboards` link lists every other dashboard
// with one of its tags, keeping the time range (keepTime) and the variables (includeVars).
function dashboardLinks(dashboard, nav) {
  return (dashboard.links ?? []).flatMap((link) => {
    if (link.type !== 'dashboards') return [];
    return nav
      .filter((n) => n.uid !== dashboard.uid && n.tags.some((t) => (link.tags ?? []).includes(t)))
      .map((n) => {
        const target = document.createElement('a');
        target.textContent = n.title.replace(/^.*— /, '');
        target.setAttribute('data-link', n.uid);
        target.addEventListener('mouseenter', () => target.setAttribute('href', linkHref(link, n)));
        target.setAttribute('href', linkHref(link, n));
        return target;
      });
  });
}

function linkHref(link, target) {
  const current = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  if (link.keepTime)
    for (const key of ['from', 'to']) if (current.has(key)) query.set(key, current.get(key));
  if (link.includeVars)
    for (const [key, value] of current) if (key.startsWith('var-')) query.append(key, value);
  const search = query.toString();
  return search ? `${target.href}?${search}` : target.href;
}

function header(dashboard, nav) {
  const bar = el('header', {}, el('h1', {}, dashboard.title));
  bar.append(
    el(
      'nav',
      {},
      el('a', { href: '/grafana' }, 'All dashboards'),
      ...dashboardLinks(dashboard, nav),
    ),
  );
  const chips = el('span', { id: 'variables' });
  const range = el('span', { class: 'chip', id: 'range' });
  bar.append(chips, range);
  return { bar, chips, range };
}

async function startDashboard(dashboard, nav) {
  const root = document.getElementById('dashboard');
  const top = header(dashboard, nav);
  const { grid, bodies } = layout(dashboard);
  root.append(top.bar, grid);
  const params = new URLSearchParams(location.search);
  // Locally the page refreshes every 5 s (nothing is billed here); on AWS the dashboard's own
  // refresh applies.
  const refresh = params.get('refresh') ?? '5s';
  const refreshMs = /^(\d+)([smh])$/.test(refresh)
    ? Number(refresh.slice(0, -1)) * { s: 1000, m: 60000, h: 3600000 }[refresh.slice(-1)]
    : 0;

  // The first request is the dashboard's load (URL values kept); later ones are refreshes, after
  // which the URL holds the values Grafana would have kept, as Grafana writes them back.
  let phase = 'load';
  // The page's id: the server keeps this page's variable listings, as Grafana's datasource keeps
  // its answers for the page's life.
  const page = Math.random().toString(36).slice(2);
  const update = async () => {
    const query = new URLSearchParams(location.search);
    query.set('phase', phase);
    query.set('page', page);
    const response = await fetch(`/grafana/api/d/${dashboard.uid}?${query.toString()}`);
    const data = await response.json();
    phase = 'refresh';
    const kept = new URLSearchParams(location.search);
    for (const key of [...kept.keys()]) if (key.startsWith('var-')) kept.delete(key);
    for (const [key, value] of data.url) kept.append(key, value);
    history.replaceState(null, '', `${location.pathname}?${kept.toString()}`);
    top.chips.replaceChildren(
      ...data.variables.map((v) =>
        el(
          'span',
          { class: v.note ? 'chip error' : 'chip', 'data-variable': v.name, title: v.note ?? '' },
          el('b', {}, v.label),
          v.text,
        ),
      ),
    );
    const from = new Date(data.window.fromMs).toLocaleTimeString();
    const to = new Date(data.window.toMs).toLocaleTimeString();
    top.range.textContent = `${from} – ${to} · ${data.window.periodS}s points${refreshMs ? ` · refresh ${refresh} (on AWS: ${dashboard.refresh})` : ''}`;
    for (const panel of dashboard.panels) {
      const body = bodies.get(panel.id);
      if (body && data.panels[panel.id]) draw(panel, body, data.panels[panel.id]);
    }
    document.body.setAttribute('data-updated', String(Date.now()));
  };
  await update();
  if (refreshMs > 0) setInterval(() => void update().catch(() => undefined), refreshMs);
}

async function startList(list) {
  const root = document.getElementById('list');
  root.append(
    el('h1', {}, 'IoT Playground dashboards'),
    el(
      'p',
      {},
      'The generated dashboards of dashboards/generated, served by the local stack from what it records.',
    ),
    el(
      'ul',
      {},
      ...list.map((d) => el('li', {}, el('a', { href: d.href }, d.title), ` — ${d.description}`)),
    ),
    el('h2', {}, 'Recent runs'),
  );
  const response = await fetch('/api/runs?limit=20');
  const runs = response.ok ? (await response.json()).items : [];
  root.append(
    runs.length === 0
      ? el('p', {}, 'No runs yet: start one with POST /api/runs/start.')
      : el(
          'table',
          { id: 'runs' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['Run', 'User', 'Status', 'Started', 'Sensors'].map((h) => el('th', {}, h)),
            ),
          ),
          el(
            'tbody',
            {},
            ...runs.map((run) =>
              el(
                'tr',
                {},
                el('td', {}, el('a', { href: run.grafanaUrl }, run.id)),
                el('td', {}, run.username),
                el('td', {}, run.status),
                el('td', {}, run.startedAt),
                el('td', {}, (run.sensorIds ?? []).join(', ')),
              ),
            ),
          ),
        ),
  );
}

if (window.DASHBOARD) void startDashboard(window.DASHBOARD, window.NAV);
if (window.LIST) void startList(window.LIST);
