/** `vigil knowledge import FILE…`: add newer KEV, CSAF 2.0 or NVD CVE JSON to Vigil's vulnerability knowledge. */
import pc from 'picocolors';
import { defaultKnowledgeDir } from '../knowledge/advisories.ts';
import { importKnowledge } from '../knowledge/knowledge-import.ts';

/** Where the lines go (process.stdout/stderr; tests pass their own). */
export interface Writer {
  write(text: string): unknown;
}

/**
 * Import each file into the knowledge directory (`DATA_DIR/knowledge`; default
 * `$VIGIL_DATA_DIR/knowledge` or `~/.local/share/vigil/knowledge`). One line per file;
 * exit code 0 when every file was imported, 1 when any failed.
 */
export async function knowledgeImportCommand(files: string[], opts: { dataDir?: string }, io: { out: Writer; err: Writer } = { out: process.stdout, err: process.stderr }): Promise<number> {
  if (files.length === 0) {
    io.err.write('vigil knowledge import: no files given\n');
    return 1;
  }
  const dir = defaultKnowledgeDir(opts.dataDir);
  const results = await importKnowledge(files, dir);
  let failed = 0;
  for (const r of results) {
    if (r.ok) {
      io.out.write(`${pc.green('imported')} ${r.file}: ${r.what}, ${r.entries} ${r.kind === 'kev' ? (r.entries === 1 ? 'entry' : 'entries') : r.entries === 1 ? 'CVE' : 'CVEs'} → ${r.savedAs}\n`);
    } else {
      failed++;
      io.out.write(`${pc.red('failed')}   ${r.file}: ${r.error}\n`);
    }
  }
  if (failed > 0) io.err.write(`vigil knowledge import: ${failed} of ${results.length} file${results.length === 1 ? '' : 's'} not imported\n`);
  return failed > 0 ? 1 : 0;
}
