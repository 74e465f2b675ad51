/**
 * What the server process feels while it is loaded: the longest the event loop was held (a PGlite query
 * or a synchronous step runs on this thread and every request waits behind it) and the peak resident
 * memory. Mooring, the load driver and the fake Horizon share this process: the figures are the process's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Finer than any stall worth reporting, coarse enough to cost nothing. */
const RESOLUTION_MS = 10;
const RSS_EVERY_MS = 100;

export interface ProcessWatch {
  /** The largest event-loop delay since the watch started, milliseconds. */
  maxStallMs(): number;
  /** The largest RSS sampled since the watch started, MiB. */
  peakRssMiB(): number;
  stop(): void;
}

export function watchProcess(): ProcessWatch {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_EVERY_MS);
  sampler.unref();
  return {
    maxStallMs: () => histogram.max / 1e6,
    peakRssMiB: () => Math.max(peak, process.memoryUsage.rss()) / 2 ** 20,
    stop() {
      histogram.disable();
      clearInterval(sampler);
    },
  };
}

export const rssMiB = () => process.memoryUsage.rss() / 2 ** 20;
