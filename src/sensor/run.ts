/**
 * Drives a Sensor from a ByteSource: the one place where capture I/O meets the pure core.
 */
import { CaptureError } from '../capture/record.ts';
import type { ByteSource } from '../capture/source.ts';
import { Sensor, type SensorOptions, type SensorReport } from './sensor.ts';

export interface RunResult {
  report: SensorReport;
  /** Set when reading stopped early on a corrupt or truncated input. */
  error?: CaptureError;
}

/**
 * Pushes every chunk of `source` through a new Sensor. A CaptureError does not throw: the report up
 * to that point is returned with the error, so a truncated capture still yields what it held.
 * `onChunk` is called after each chunk (progress bars).
 */
export async function runSensor(source: ByteSource, opts: SensorOptions, onChunk?: (sensor: Sensor) => void): Promise<RunResult> {
  const sensor = new Sensor(opts);
  let error: CaptureError | undefined;
  try {
    if (source.nextSync !== undefined) {
      // Files: read synchronously, yielding to the event loop every few chunks (signals, timers, progress).
      try {
        for (let n = 1; ; n++) {
          const chunk = source.nextSync();
          if (chunk === undefined) break;
          sensor.push(chunk);
          if (onChunk !== undefined) onChunk(sensor);
          if (n % 16 === 0) await new Promise((r) => setImmediate(r));
        }
      } finally {
        source.close?.();
      }
    } else {
      for await (const chunk of source.chunks) {
        sensor.push(chunk);
        if (onChunk !== undefined) onChunk(sensor);
      }
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    error = e;
  }
  try {
    const report = sensor.end();
    return error === undefined ? { report } : { report, error };
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    return { report: sensor.report(), error: error ?? e };
  }
}
