/** Running the daemon binary in tests: its port (read from its log), /healthz, and waiting on conditions. */
import type { DaemonHealth } from '../../src/daemon/health-server.js';
import { type CliResult, finished, startCli } from '../cli/helpers.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DaemonProcess {
  readonly output: { stdout: string; stderr: string };
  readonly port: number;
  health(): Promise<DaemonHealth>;
  tenant(name: string): Promise<DaemonHealth['tenants'][number]>;
  signal(name: NodeJS.Signals): void;
  /** Resolves with the exit code and output once the process has exited. */
  exited: Promise<CliResult>;
}

export async function startDaemonProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<DaemonProcess> {
  const child = startCli(['daemon', '--port', '0', ...args], { env });
  const exited = finished(child);
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the daemon exited ${child.exitCode}: ${child.output.stderr}`);
      const match = /"port":(\d+)[^\n]*serving \/healthz/.exec(child.output.stderr);
      return match ? Number(match[1]) : undefined;
    },
    'the daemon to listen',
  );
  const health = async (): Promise<DaemonHealth> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as DaemonHealth;
  return {
    output: child.output,
    port,
    health,
    async tenant(name) {
      const found = (await health()).tenants.find((t) => t.tenant === name);
      if (found === undefined) throw new Error(`no tenant ${name} in /healthz`);
      return found;
    },
    signal: (name) => child.kill(name),
    exited,
  };
}
