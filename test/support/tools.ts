// The typed view of scripts/provision-tools.js (plain JS, so that it runs without tsx): the
// Prometheus and Chromium the tests use, provisioned on first use.
export interface Tool {
  path: string;
  from: 'MRCD_PROMETHEUS_BIN' | 'MRCD_CHROMIUM_BIN' | '.tools' | 'system';
  /** Extra arguments the binary needs where it is (the unpacked Prometheus: its asset paths). */
  args?: string[];
}

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  /** Instead of /usr/bin/prometheus or /usr/bin/chromium. */
  systemPath?: string;
  aptGet?: string;
  dpkgDeb?: string;
  uid?: number;
  /** Where the one provisioning line goes (default: stderr, prefixed [mrcd]). */
  say?: (line: string) => void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS shared with `node scripts/provision-tools.js`, as in dev/temporal-binaries.ts
export const tools = require('../../scripts/provision-tools.js') as {
  TOOLS_DIR: string;
  PROMETHEUS: { version: string; debianVersion: string; reports: RegExp };
  SYSTEM_PROMETHEUS: string;
  SYSTEM_CHROMIUM: string;
  PROVISION_COMMAND: string;
  CHROMIUM_COMMAND: string;
  prometheusDir(toolsDir?: string): string;
  prometheusBinary(toolsDir?: string): string;
  findPrometheus(opts?: ToolOptions): (Tool & { args: string[] }) | undefined;
  provisionPrometheus(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  ensurePrometheus(opts?: ToolOptions): Promise<Tool & { args: string[] }>;
  findChromium(opts?: ToolOptions): Tool | undefined;
  provisionChromium(opts?: ToolOptions): Promise<Tool>;
  ensureChromium(opts?: ToolOptions): Promise<Tool>;
};
