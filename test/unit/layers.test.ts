/**
 * The direction of imports between the folders of lib/ (docs/architecture.md
 * "Layers"): a folder imports only folders of a lower layer, so there is no
 * loop between folders. Reads the import statements of every lib/**\/*.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const libDir = path.join(root, 'lib');

/** Layer of each lib folder: a folder may import folders of a strictly lower layer (and itself). */
const LAYERS: Readonly<Record<string, number>> = {
  contracts: 0,
  crypto: 1,
  dali: 1,
  learning: 1,
  store: 2,
  zones: 2,
  features: 3,
  control: 3,
  weather: 3,
  ai: 4,
  insights: 4,
  http: 5,
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of the import / export ... from / require / import() statements of a source text. */
function importsOf(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const re =
    /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1] ?? m[2]);
  return out;
}

/** The lib folder a file is in ('' for a file directly in lib/). */
function folderOf(file: string): string {
  const rel = path.relative(libDir, file).split(path.sep);
  return rel.length > 1 ? rel[0] : '';
}

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function libEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(libDir)) {
    const from = folderOf(file);
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      const rel = path.relative(libDir, target);
      if (rel.startsWith('..')) {
        edges.push({ from, to: `outside lib (${path.relative(root, target)})`, file, spec });
        continue;
      }
      const to = rel.split(path.sep)[0];
      if (to !== from) edges.push({ from, to, file: path.relative(root, file), spec });
    }
  }
  return edges;
}

/** Folder cycles in a graph given as edges (each cycle as a list of folders). */
function cyclesOf(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.to);
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of next.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

describe('lib/ layers: the direction of imports between folders', () => {
  it('reads import, export-from, require and dynamic import statements, not comments', () => {
    const src = [
      "import { a } from '../x';",
      'import type { B } from "../y";',
      "export * from './z';",
      "export { c } from '../w';",
      "import '../side';",
      "const m = require('../r');",
      "const d = await import('../d');",
      "// import { q } from '../commented';",
      "/* import { q } from '../block'; */",
      'import {\n  e,\n  f,\n} from "../multi";',
    ].join('\n');
    assert.deepEqual(importsOf(src).sort(), ['../d', '../multi', '../r', '../side', '../w', '../x', '../y', './z'].sort());
  });

  it('finds a loop between folders', () => {
    assert.deepEqual(
      cyclesOf([
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'a' },
      ]),
      [['a', 'b', 'c', 'a']],
    );
    assert.deepEqual(
      cyclesOf([
        { from: 'a', to: 'b' },
        { from: 'a', to: 'c' },
        { from: 'c', to: 'b' },
      ]),
      [],
    );
  });

  it('every lib folder has a layer, and there is no file directly in lib/', () => {
    const folders = fs.readdirSync(libDir, { withFileTypes: true });
    const unknown = folders.filter((e) => e.isDirectory() && !(e.name in LAYERS)).map((e) => e.name);
    assert.deepEqual(unknown, [], `give each new lib folder a layer here and in docs/architecture.md`);
    assert.deepEqual(
      folders.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name),
      [],
    );
  });

  it('each folder imports only folders of a lower layer, and nothing outside lib/', () => {
    const wrong = libEdges()
      .filter((e) => !(e.to in LAYERS) || LAYERS[e.to] >= LAYERS[e.from])
      .map((e) => `${e.file}: ${e.from} (layer ${LAYERS[e.from]}) imports ${e.to} (layer ${LAYERS[e.to] ?? '-'}) via '${e.spec}'`);
    assert.deepEqual(wrong, []);
  });

  it('no loop between folders', () => {
    assert.deepEqual(cyclesOf(libEdges()), []);
  });

  it('the layers in docs/architecture.md are the ones checked here', () => {
    const doc = fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8');
    for (const [folder, layer] of Object.entries(LAYERS)) {
      assert.match(
        doc,
        new RegExp(`\\|\\s*${layer}\\s*\\|[^\\n]*\`lib/${folder}/\``),
        `docs/architecture.md lists lib/${folder}/ in layer ${layer}`,
      );
    }
  });
});
