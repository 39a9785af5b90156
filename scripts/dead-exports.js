#!/usr/bin/env node
// Lists the exports of lib/ and nodes/ that nothing imports: no file of lib/,
// nodes/, bin/, bench/, test/ or scripts/ names them in an import or a
// re-export. Uses the TypeScript compiler (already a dev dependency) with the
// project's tsconfig, so a name imported through an index's `export *` counts
// for the file that defines it. Exits 1 when it finds any (run by `npm run lint`).
//
// An export its own file uses (in a signature, or in code) is not listed:
// it is not dead code, and a type in an exported signature must stay exported.
// ALLOWED names exports that are public API without an importer in the
// repository; keep that list short and say why for each.
'use strict';
const path = require('path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const CHECKED = ['lib/', 'nodes/'];
const IMPORTERS = ['lib/', 'nodes/', 'bin/', 'bench/', 'test/', 'scripts/'];

/** `file: name` of exports that stay although nothing in the repository imports them. */
const ALLOWED = new Set([]);

function loadProgram() {
  const configPath = path.join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
  return ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
}

const rel = (f) => path.relative(root, f).split(path.sep).join('/');
const under = (f, dirs) => dirs.some((d) => rel(f).startsWith(d));

function original(checker, symbol) {
  let s = symbol;
  while (s && s.flags & ts.SymbolFlags.Alias) {
    const next = checker.getAliasedSymbol(s);
    if (!next || next === s) break;
    s = next;
  }
  return s;
}

function main() {
  const program = loadProgram();
  const checker = program.getTypeChecker();
  const files = program
    .getSourceFiles()
    .filter((f) => !f.isDeclarationFile && !rel(f.fileName).startsWith('..') && !rel(f.fileName).includes('node_modules'));

  // Every symbol some file imports or re-exports by name, followed to where it is defined.
  const used = new Set();
  for (const sf of files) {
    if (!under(sf.fileName, IMPORTERS)) continue;
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && node.importClause) {
        const c = node.importClause;
        if (c.name) used.add(original(checker, checker.getSymbolAtLocation(c.name)));
        const b = c.namedBindings;
        if (b && ts.isNamedImports(b)) for (const el of b.elements) used.add(original(checker, checker.getSymbolAtLocation(el.name)));
        if (b && ts.isNamespaceImport(b)) {
          // import * as x: every export of the module counts as used.
          const mod = checker.getSymbolAtLocation(node.moduleSpecifier);
          if (mod) for (const e of checker.getExportsOfModule(mod)) used.add(original(checker, e));
        }
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        // A named re-export counts as a use; `export *` does not (its importers do).
        if (node.exportClause && ts.isNamedExports(node.exportClause)) {
          for (const el of node.exportClause.elements) used.add(original(checker, checker.getSymbolAtLocation(el.name)));
        }
      } else if (ts.isImportEqualsDeclaration(node)) {
        used.add(original(checker, checker.getSymbolAtLocation(node.name)));
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  const dead = [];
  for (const sf of files) {
    if (!under(sf.fileName, CHECKED)) continue;
    const mod = checker.getSymbolAtLocation(sf);
    if (!mod) continue;
    // `export = function (RED)`: a Node-RED node module, loaded by the runtime.
    if (mod.exports && mod.exports.has('export=')) continue;
    // Symbols the file refers to other than where it declares them.
    const local = new Set();
    const walk = (node) => {
      if (ts.isIdentifier(node)) {
        const p = node.parent;
        const isDeclName = p && p.name === node && (ts.isDeclaration(p) || ts.isVariableDeclaration(p));
        if (!isDeclName) {
          const sym = checker.getSymbolAtLocation(node);
          if (sym) local.add(original(checker, sym));
        }
      }
      ts.forEachChild(node, walk);
    };
    walk(sf);
    for (const e of checker.getExportsOfModule(mod)) {
      const decl = e.declarations && e.declarations[0];
      // Re-exports (index files) are not definitions: their target is checked where it is defined.
      if (!decl || decl.getSourceFile() !== sf || e.flags & ts.SymbolFlags.Alias) continue;
      const target = original(checker, e);
      if (used.has(target) || used.has(e) || local.has(target) || local.has(e)) continue;
      const key = `${rel(sf.fileName)}: ${e.getName()}`;
      if (ALLOWED.has(key)) continue;
      const line = sf.getLineAndCharacterOfPosition(decl.getStart()).line + 1;
      dead.push(`${rel(sf.fileName)}:${line}: ${e.getName()}`);
    }
  }
  if (dead.length > 0) {
    console.log(`dead exports: ${dead.length} export(s) of lib/ and nodes/ that nothing imports`);
    for (const d of dead.sort()) console.log(`  ${d}`);
    process.exitCode = 1;
  } else {
    console.log('dead exports: none');
  }
}

main();
