/**
 * A report (query-report.ts) as one self-contained HTML page: inline SVG bar
 * charts, no script, no external file, so "Save page as" (or printing to
 * PDF) keeps it whole. Per zone, four charts over the period's buckets:
 *
 * 1. energy used (bars) against the 100 % baseline (line), Wh;
 * 2. lux delivered while occupied (bars) against the target (line);
 * 3. decisions by source (stacked: AI, rules, manual) and blocked changes;
 * 4. AI fallbacks and alerts.
 *
 * Every chart carries `data-chart` and each drawn bar `data-value`, so a
 * test (or a script) can read what the page shows.
 */
import { escapeHtml } from './html';
import type { Report, ReportBucket, ZoneReport } from './query-report';

export const REPORT_COLOURS = {
  energy: '#0d74ce',
  baseline: '#c0392b',
  lux: '#e6a700',
  target: '#2e7d32',
  ai: '#7b1fa2',
  rules: '#0d74ce',
  manual: '#ef6c00',
  blocked: '#9e9e9e',
  fallbacks: '#ad1457',
  alerts: '#c62828',
} as const;

const W = 640;
const H = 220;
const PAD = { left: 52, right: 12, top: 28, bottom: 34 };

const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

interface Series {
  name: string;
  colour: string;
  values: Array<number | null>;
}

/** A bar chart (series stacked) with optional reference lines, as an SVG element. */
function barChart(id: string, title: string, unit: string, labels: string[], bars: Series[], lines: Series[]): string {
  const n = Math.max(1, labels.length);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const stackTops = labels.map((_, i) => bars.reduce((t, s) => t + (s.values[i] ?? 0), 0));
  const lineMax = Math.max(0, ...lines.flatMap((s) => s.values.map((v) => v ?? 0)));
  const max = Math.max(1e-9, ...stackTops, lineMax) * 1.1;
  const y = (v: number): number => PAD.top + plotH - (v / max) * plotH;
  const slot = plotW / n;
  const barW = Math.max(2, slot * 0.7);
  const parts: string[] = [];
  parts.push(`<text x="${PAD.left}" y="18" class="t">${escapeHtml(title)}${unit ? ` (${escapeHtml(unit)})` : ''}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (max / 1.1) * (k / 4);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="g"/>`);
    parts.push(`<text x="${PAD.left - 4}" y="${(y(v) + 4).toFixed(1)}" class="a" text-anchor="end">${fmt(v)}</text>`);
  }
  const every = Math.ceil(n / 12);
  labels.forEach((l, i) => {
    if (i % every !== 0) return;
    const x = PAD.left + slot * i + slot / 2;
    parts.push(
      `<text x="${x.toFixed(1)}" y="${H - PAD.bottom + 14}" class="a" text-anchor="middle">${escapeHtml(l.length > 5 ? l.slice(5) : l)}</text>`,
    );
  });
  labels.forEach((_, i) => {
    let base = 0;
    for (const s of bars) {
      const v = s.values[i];
      if (v === null || v === undefined || v <= 0) continue;
      const x = PAD.left + slot * i + (slot - barW) / 2;
      const top = y(base + v);
      const h = y(base) - top;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0.5, h).toFixed(1)}" fill="${s.colour}" data-series="${escapeHtml(s.name)}" data-value="${fmt(v)}"><title>${escapeHtml(`${labels[i]} ${s.name}: ${fmt(v)}`)}</title></rect>`,
      );
      base += v;
    }
  });
  for (const s of lines) {
    const pts = s.values
      .map((v, i) => (v === null ? null : `${(PAD.left + slot * i + slot / 2).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    if (pts.length === 0) continue;
    parts.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-dasharray="6 3" data-series="${escapeHtml(s.name)}"/>`,
    );
  }
  const legend = [...bars, ...lines]
    .map(
      (s, i) =>
        `<rect x="${W - PAD.right - 120}" y="${8 + i * 13}" width="10" height="8" fill="${s.colour}"/><text x="${W - PAD.right - 106}" y="${15 + i * 13}" class="a">${escapeHtml(s.name)}</text>`,
    )
    .join('');
  const drawn = bars.reduce((t, s) => t + s.values.filter((v) => v !== null && v > 0).length, 0);
  return `<svg id="${escapeHtml(id)}" data-chart="${escapeHtml(title)}" data-bars="${drawn}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}${legend}</svg>`;
}

function zoneSection(z: ZoneReport, idx: number): string {
  const b = z.buckets;
  const labels = b.map((x) => x.label);
  const pick = (f: (x: ReportBucket) => number | null): Array<number | null> => b.map(f);
  const C = REPORT_COLOURS;
  const t = z.totals;
  const saved =
    t.energyWh !== null && t.baselineWh !== null && t.baselineWh > 0 ? ((t.baselineWh - t.energyWh) / t.baselineWh) * 100 : null;
  const summary = [
    t.energyWh !== null
      ? `energy ${fmt(t.energyWh)} Wh of ${fmt(t.baselineWh ?? 0)} Wh at 100 %${saved !== null ? ` (${saved.toFixed(0)} % saved)` : ''}`
      : 'energy: no fixture wattage set',
    `lux while occupied ${t.luxWhileOccupied === null ? '-' : t.luxWhileOccupied.toFixed(0)}${z.targetLux !== null ? ` (target ${z.targetLux})` : ''}`,
    `occupied ${(t.occupiedMinutes / 60).toFixed(1)} h`,
    `decisions AI ${t.decisions.ai} / rules ${t.decisions.rules} / manual ${t.decisions.manual}, blocked ${t.blocked}`,
    `AI calls ${t.aiCalls}, fallbacks ${t.fallbacks}`,
    `alerts ${t.alerts}`,
  ];
  const unit = z.fixtureWatts !== null ? 'Wh' : '';
  return `<section class="zone" data-zone="${escapeHtml(z.zone)}">
<h2>${escapeHtml(z.label ?? z.zone)} <small>${escapeHtml(z.zone)}</small></h2>
<ul>${summary.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>${z.assumedInitial ? '<p class="note">The level before the first decision of the period is not known: it was taken as that decision\'s.</p>' : ''}
<div class="charts">
${barChart(`z${idx}-energy`, 'Energy used vs 100 % baseline', unit, labels, [{ name: 'used', colour: C.energy, values: pick((x) => x.energyWh) }], [{ name: 'baseline', colour: C.baseline, values: pick((x) => x.baselineWh) }])}
${barChart(`z${idx}-lux`, 'Lux while occupied vs target', 'lx', labels, [{ name: 'lux', colour: C.lux, values: pick((x) => x.luxWhileOccupied) }], z.targetLux !== null ? [{ name: 'target', colour: C.target, values: b.map(() => z.targetLux) }] : [])}
${barChart(
  `z${idx}-decisions`,
  'Decisions: AI, rules, manual; blocked',
  '',
  labels,
  [
    { name: 'AI', colour: C.ai, values: pick((x) => x.decisions.ai) },
    { name: 'rules', colour: C.rules, values: pick((x) => x.decisions.rules) },
    { name: 'manual', colour: C.manual, values: pick((x) => x.decisions.manual) },
    { name: 'blocked', colour: C.blocked, values: pick((x) => x.blocked) },
  ],
  [],
)}
${barChart(
  `z${idx}-alerts`,
  'AI fallbacks and alerts',
  '',
  labels,
  [
    { name: 'fallbacks', colour: C.fallbacks, values: pick((x) => x.fallbacks) },
    { name: 'alerts', colour: C.alerts, values: pick((x) => x.alerts) },
  ],
  [],
)}
</div>
</section>`;
}

/** The whole page. `links`: other periods/zones to offer (label -> href), optional. */
export function renderReportHtml(report: Report, links: Array<{ label: string; href: string }> = []): string {
  const title = `Lighting report: ${report.period === 'day' ? report.day : `week to ${report.day}`}`;
  const when = new Date(report.generatedAt).toISOString().replace('T', ' ').slice(0, 16);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:16px;color:#222;background:#f4f6f8}
h1{font-size:20px}h2{font-size:17px;margin:4px 0}small{color:#777;font-weight:normal}
.zone{background:#fff;border:1px solid #d9d9e0;border-radius:6px;padding:10px 14px;margin-bottom:14px}
.charts{display:flex;flex-wrap:wrap;gap:8px}svg{background:#fff;max-width:100%;height:auto}
.t{font-size:13px;font-weight:600}.a{font-size:10px;fill:#555}.g{stroke:#e3e3e8;stroke-width:1}
ul{margin:4px 0 8px;padding-left:18px;font-size:13px}.note{font-size:12px;color:#a15c00}nav a{margin-right:10px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${escapeHtml(when)} UTC from the lighting store. Times are the gateway's local time.</p>
${links.length > 0 ? `<nav>${links.map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`).join('')}</nav>` : ''}
${report.zones.length === 0 ? '<p>No zone to report.</p>' : report.zones.map(zoneSection).join('\n')}
</body></html>
`;
}
