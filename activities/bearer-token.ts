// Bearer tokens the plan names by variable, read from the worker's environment at call
// time, so no token ever enters workflow history. Used by the deployers and the SLO providers.

/** `process.env[name]` as an Authorization header; `missing` names the variable to complain about. */
export function bearerHeader(tokenEnv: string | undefined): { headers: Record<string, string> } | { missing: string } {
  if (!tokenEnv) return { headers: {} };
  const token = process.env[tokenEnv];
  if (token === undefined || token === '') return { missing: tokenEnv };
  return { headers: { Authorization: `Bearer ${token}` } };
}
