// CPU time and memory of a process from Linux's /proc (proc(5)): what the bench reads around each level for the
// load generator, the branch server and dtm. Every reader answers undefined for a process that is gone.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux's USER_HZ on every architecture Node supports

/** CPU time (user + system) a process has used, in ms; undefined when it is gone or there is no /proc. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after the command name in parentheses, which may itself hold spaces and parentheses
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // fields 14 and 15 of proc(5)
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB (VmRSS), or its peak (VmHWM: since the start or the last resetRssPeak). */
export function rssMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  if (!pid) return undefined;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a new RSS peak (VmHWM) at the current RSS: proc(5), clear_refs "5"; our own children only. */
export function resetRssPeak(pid: number | undefined): void {
  if (!pid) return;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // gone, or a kernel without it: the peak then spans the process's life, which the table cannot tell apart
  }
}

/** The process's command name (`dtm`, `etcd`, `node`…), or '' when it is gone. */
export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The pids of `pid`'s children (field 4 of /proc/<pid>/stat is the parent's pid); [] without /proc. */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/** SIGTERM to each pid, up to `graceMs` for them to exit, then SIGKILL to what is left; resolves when all are gone. */
export async function stopProcesses(pids: number[], graceMs = 5000): Promise<void> {
  const signal = (s: NodeJS.Signals): void => {
    for (const p of pids) {
      try {
        process.kill(p, s);
      } catch {
        // gone already
      }
    }
  };
  const waitGone = async (ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (pids.some((p) => !gone(p)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  };
  signal('SIGTERM');
  await waitGone(graceMs);
  signal('SIGKILL');
  await waitGone(2000);
}
