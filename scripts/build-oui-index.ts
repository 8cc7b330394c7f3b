// Writes dist/oui.idx: the installed IEEE registry (oui-data) as the binary index the inventory's
// vendor lookups read (src/knowledge/oui-index.ts). Run by `npm run build`; without the file, or
// after oui-data is updated, lookups search the registry's text instead (src/knowledge/oui.ts).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildOuiIndex } from '../src/knowledge/oui-index.ts';
import { ouiIndexFile, registryForIndex } from '../src/knowledge/oui.ts';

const { entries, source } = registryForIndex();
const bytes = buildOuiIndex(entries, source);
const file = ouiIndexFile();
mkdirSync(dirname(file), { recursive: true });
// Written whole, then renamed: a lookup never reads half an index.
writeFileSync(`${file}.tmp`, bytes);
renameSync(`${file}.tmp`, file);
process.stdout.write(`${file}: ${entries.length} prefixes, ${(bytes.length / 1024).toFixed(0)} KiB\n`);
