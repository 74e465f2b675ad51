/** The machine a benchmark ran on, from `node:os`: figures mean little without it. */
import { arch, cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started: other work on the machine skews the figures. */
  load1: number;
}

export function describeMachine(): MachineDescription {
  const cpu = cpus();
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function machineLine(m: MachineDescription): string {
  return (
    `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM (${m.freeMemoryGiB} free), ` +
    `Node ${m.node}, ${m.os}, load ${m.load1}`
  );
}
