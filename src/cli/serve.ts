/**
 * `vigil serve`: the store, the API, and the analysis feeding them. With no configuration it uses
 * the embedded database in the data directory; the first start creates an `admin` with a random
 * password printed once (there is no default password).
 */
import { fileSource } from '../capture/source.ts';
import { buildApp } from '../server/app.ts';
import { hashPassword, randomPassword } from '../server/auth.ts';
import { BatchedWriter } from '../store/writer.ts';
import { alertsOf, analyse } from './pipeline.ts';
import { defaultDataDir, openStore } from './users.ts';

export interface ServeOptions {
  port: number;
  host: string;
  dataDir?: string;
  database?: string;
  read?: string;
}

export async function serveCommand(o: ServeOptions): Promise<number> {
  let store;
  try {
    store = await openStore(o);
  } catch (e) {
    process.stderr.write(`vigil serve: cannot open the store (${o.database !== undefined ? 'PostgreSQL' : `${o.dataDir ?? defaultDataDir()}/vigil.db`}): ${(e as Error).message}\n`);
    return 1;
  }
  let firstPassword: string | undefined;
  if ((await store.userCount()) === 0) {
    firstPassword = randomPassword();
    await store.addUser('admin', 'admin', await hashPassword(firstPassword), 'first start');
  }
  const writer = new BatchedWriter(store);
  const ingest: Record<string, unknown> = { state: 'idle' };
  const app = await buildApp({ store, writer: () => writer.health, ingest: () => ingest });
  let address: string;
  try {
    address = await app.listen({ port: o.port, host: o.host });
  } catch (e) {
    process.stderr.write(`vigil serve: cannot listen on ${o.host}:${o.port}: ${(e as Error).message}\n`);
    await store.close();
    return 1;
  }
  process.stdout.write(`vigil: serving on ${address} (API at ${address}/api, OpenAPI at ${address}/api/openapi.json)\n`);
  if (firstPassword !== undefined) process.stdout.write(`vigil: first start — user "admin", password ${firstPassword} (shown once: keep it, then add named users)\n`);

  const stop = async () => {
    await app.close();
    await writer.close().catch((e: Error) => process.stderr.write(`vigil serve: ${e.message}\n`));
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  if (o.read !== undefined) {
    ingest.state = 'reading';
    ingest.source = o.read;
    try {
      const a = await analyse(await fileSource(o.read));
      for (const d of a.inventory.devices) writer.device(d);
      const alerts = alertsOf(a);
      for (const al of alerts) writer.alert(al);
      await writer.flush();
      Object.assign(ingest, { state: 'done', frames: a.run.report.frames, devices: a.inventory.devices.length, alerts: alerts.length, ...(a.run.error !== undefined ? { warning: a.run.error.message } : {}) });
      process.stdout.write(`vigil: ${o.read}: ${a.run.report.frames.toLocaleString('en')} frames, ${a.inventory.devices.length} devices, ${alerts.length} alerts stored\n`);
    } catch (e) {
      Object.assign(ingest, { state: 'failed', error: (e as Error).message });
      process.stderr.write(`vigil serve: ${o.read}: ${(e as Error).message}\n`);
    }
  }
  // Keep serving until a signal.
  return new Promise<number>(() => undefined);
}
