/**
 * Helpers for the FlowFuse Dashboard 2 end-to-end test
 * (examples/dashboard/smart-lighting-dashboard.json in a real runtime).
 *
 * - `makeDashboardUserDir()`: a Node-RED user directory whose node_modules
 *   holds our package (as the harness would link it: the packed install or the
 *   project) plus @flowfuse/node-red-dashboard from this project's
 *   devDependencies, so the runtime loads both as user-installed modules, the
 *   way the palette manager installs them. A copy found in the user directory
 *   wins over any other Node-RED finds, so the same dashboard is used on every leg.
 * - `flowFileProblems()`: static checks of an exported flow (node types
 *   allowed, config references and wires resolve, every node on a tab).
 * - `seriesPixels()`: how many pixels of a chart's canvas have one of the
 *   series colours, below its title and legend: more than a few means the
 *   chart has drawn data (ECharts draws nothing in those colours without data).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locator } from 'playwright-core';

export const DASHBOARD_PACKAGE = '@flowfuse/node-red-dashboard';

/** Directory of the dashboard package this project installed as a devDependency. */
export function dashboardModuleDir(): string {
  return path.dirname(require.resolve(`${DASHBOARD_PACKAGE}/package.json`));
}

export interface DashboardUserDirOptions {
  projectRoot: string;
  packageName: string;
  /** node_modules holding our packed package (E2E_USER_MODULES); absent = link the project itself. */
  userModules?: string;
  /** Parent directory for the user directory (default: the OS temporary directory). */
  parent?: string;
}

function linkInto(target: string, link: string): void {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, 'dir');
}

/**
 * Creates a user directory with a real node_modules directory: every package
 * of `userModules` (or the project as `packageName`) linked in, plus the
 * dashboard. The harness leaves an existing node_modules alone, so pass the
 * result as `userDir` to NodeRedRuntime.start. Nothing outside the new
 * directory is changed (the shared install of the packed package stays as it is).
 */
export function makeDashboardUserDir(opts: DashboardUserDirOptions): string {
  const userDir = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), 'slai-dash-'));
  const nm = path.join(userDir, 'node_modules');
  fs.mkdirSync(nm);
  if (opts.userModules) {
    for (const entry of fs.readdirSync(opts.userModules)) {
      if (entry.startsWith('.')) continue; // .bin, .package-lock.json
      const src = path.join(opts.userModules, entry);
      if (entry.startsWith('@')) {
        // A scope: link its packages one by one, so that @flowfuse can be shared with the dashboard.
        for (const pkg of fs.readdirSync(src)) linkInto(path.join(src, pkg), path.join(nm, entry, pkg));
      } else {
        linkInto(src, path.join(nm, entry));
      }
    }
  } else {
    linkInto(opts.projectRoot, path.join(nm, opts.packageName));
  }
  const dashLink = path.join(nm, ...DASHBOARD_PACKAGE.split('/'));
  if (!fs.existsSync(dashLink)) linkInto(dashboardModuleDir(), dashLink);
  return userDir;
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };

/** Reads an exported flow (a JSON array of nodes) and checks its basic shape. */
export function readFlowFile(file: string): FlowNode[] {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: not a JSON array of nodes`);
  for (const n of parsed as unknown[]) {
    const node = n as Partial<FlowNode> | null;
    if (!node || typeof node.id !== 'string' || typeof node.type !== 'string') {
      throw new Error(`${file}: an entry without string id and type: ${JSON.stringify(n)}`);
    }
  }
  return parsed as FlowNode[];
}

/**
 * What would stop the flow from importing cleanly, one line per problem:
 * a node type that is not in `allowedTypes`, a duplicate id, a config
 * property (`configProps`: property -> the config type it must name) that
 * names no node of that type, a wire to a missing node, a flow node not on a tab.
 */
export function flowFileProblems(
  flow: FlowNode[],
  allowedTypes: ReadonlySet<string>,
  configProps: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const byId = new Map<string, FlowNode>();
  for (const n of flow) {
    if (byId.has(n.id)) problems.push(`duplicate id ${n.id}`);
    byId.set(n.id, n);
    if (!allowedTypes.has(n.type)) problems.push(`${n.id}: type ${n.type} is not allowed`);
  }
  const tabs = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
  for (const n of flow) {
    for (const [prop, want] of Object.entries(configProps)) {
      if (!(prop in n) || n.type === 'tab') continue;
      const ref = n[prop];
      if (prop === 'theme' && n.type !== 'ui-page') continue;
      const target = typeof ref === 'string' ? byId.get(ref) : undefined;
      if (!target || target.type !== want) problems.push(`${n.id} (${n.type}): ${prop} = ${JSON.stringify(ref)} names no ${want}`);
    }
    if ('wires' in n) {
      if (typeof n.z !== 'string' || !tabs.has(n.z)) problems.push(`${n.id} (${n.type}): not on a tab of this flow`);
      const wires = n.wires as unknown;
      if (!Array.isArray(wires)) {
        problems.push(`${n.id}: wires is not a list`);
        continue;
      }
      for (const port of wires as unknown[]) {
        for (const to of Array.isArray(port) ? (port as unknown[]) : [port]) {
          if (typeof to !== 'string' || !byId.has(to)) problems.push(`${n.id} (${n.type}): wire to missing node ${JSON.stringify(to)}`);
        }
      }
    }
  }
  return problems;
}

/** A colour as [r, g, b] from `#rrggbb`. */
export function hexColour(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/**
 * Pixels of the chart's canvas (inside `widget`) within `tolerance` of one of
 * `colours` on every channel, counting only rows below `skipTopFraction` of
 * the height (where the title and legend are). 0 when there is no canvas yet.
 */
export async function seriesPixels(widget: Locator, colours: string[], skipTopFraction = 0.25, tolerance = 40): Promise<number> {
  const rgb = colours.map(hexColour);
  const canvas = widget.locator('canvas').first();
  if ((await canvas.count()) === 0) return 0;
  return canvas.evaluate(
    (el, args) => {
      interface Ctx2D {
        drawImage(src: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      }
      interface Canvas {
        width: number;
        height: number;
        getContext(t: '2d', o?: { willReadFrequently: boolean }): Ctx2D | null;
      }
      const src = el as unknown as Canvas;
      if (src.width === 0 || src.height === 0) return 0;
      // Read a copy, not the chart's own canvas (reading that would slow its drawing down).
      const doc = (globalThis as unknown as { document: { createElement(t: 'canvas'): Canvas } }).document;
      const copy = doc.createElement('canvas');
      copy.width = src.width;
      copy.height = src.height;
      const ctx = copy.getContext('2d', { willReadFrequently: true });
      if (!ctx) return 0;
      ctx.drawImage(src, 0, 0);
      const top = Math.floor(copy.height * args.skip);
      const data = ctx.getImageData(0, top, copy.width, copy.height - top).data;
      let hits = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 128) continue;
        for (const [r, g, b] of args.rgb) {
          if (Math.abs(data[i] - r) <= args.tol && Math.abs(data[i + 1] - g) <= args.tol && Math.abs(data[i + 2] - b) <= args.tol) {
            hits++;
            break;
          }
        }
      }
      return hits;
    },
    { rgb, skip: skipTopFraction, tol: tolerance },
  );
}

/**
 * An `Etc/GMT±N` time zone in which the local hour is `hour` now (whole-hour
 * offsets, -12 to +14), for a runtime whose simulated scenario follows the
 * local time of day (TZ in its environment).
 */
export function timeZoneWithLocalHour(hour: number, now: Date = new Date()): string {
  let offset = hour - now.getUTCHours();
  if (offset < -12) offset += 24;
  if (offset > 14) offset -= 24;
  // The Etc zones count the other way round: Etc/GMT-2 is UTC+2.
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}
