// The typed view of scripts/provision-tools.js (plain JS, so that it runs without tsx): the
// Prometheus, Alertmanager, Chromium and Rscript the tests use, provisioned on first use.
export interface Tool {
  path: string;
  from: 'MRCD_PROMETHEUS_BIN' | 'MRCD_ALERTMANAGER_BIN' | 'MRCD_CHROMIUM_BIN' | 'MRCD_RSCRIPT_BIN' | '.tools' | 'system';
  /** Extra arguments the binary needs where it is (the unpacked Prometheus: its asset paths). */
  args?: string[];
  /** The working directory it must run in (the unpacked Alertmanager: its templates' path is relative to it). */
  cwd?: string;
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  /** Instead of /usr/bin/prometheus, /usr/bin/prometheus-alertmanager, /usr/bin/chromium or /usr/bin/Rscript. */
  systemPath?: string;
  aptGet?: string;
  dpkgDeb?: string;
  uid?: number;
  /** Where the one provisioning line goes (default: stderr, prefixed [mrcd]). */
  say?: (line: string) => void;
}

interface Pin {
  version: string;
  debianVersion: string;
  reports: RegExp;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS shared with `node scripts/provision-tools.js`, as in dev/temporal-binaries.ts
export const tools = require('../../scripts/provision-tools.js') as {
  TOOLS_DIR: string;
  PROMETHEUS: Pin;
  ALERTMANAGER: Pin;
  SYSTEM_PROMETHEUS: string;
  SYSTEM_ALERTMANAGER: string;
  SYSTEM_CHROMIUM: string;
  SYSTEM_RSCRIPT: string;
  PROVISION_COMMAND: string;
  ALERTMANAGER_COMMAND: string;
  CHROMIUM_COMMAND: string;
  RSCRIPT_COMMAND: string;
  prometheusDir(toolsDir?: string): string;
  prometheusBinary(toolsDir?: string): string;
  findPrometheus(opts?: ToolOptions): (Tool & { args: string[] }) | undefined;
  provisionPrometheus(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  ensurePrometheus(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  alertmanagerDir(toolsDir?: string): string;
  alertmanagerBinary(toolsDir?: string): string;
  findAlertmanager(opts?: ToolOptions): (Tool & { args: string[] }) | undefined;
  provisionAlertmanager(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  ensureAlertmanager(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  findChromium(opts?: ToolOptions): Tool | undefined;
  provisionChromium(opts?: ToolOptions): Promise<Tool>;
  ensureChromium(opts?: ToolOptions): Promise<Tool>;
  findRscript(opts?: ToolOptions): Tool | undefined;
  provisionRscript(opts?: ToolOptions): Promise<Tool>;
  ensureRscript(opts?: ToolOptions): Promise<Tool>;
};
