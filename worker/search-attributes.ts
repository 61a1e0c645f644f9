// The custom search attributes a rollout upserts must exist in the namespace, or its
// workflow tasks fail (BadSearchAttributes) and the rollout silently stops moving. The
// worker checks at start; the dev stack and the time-skipping tests register them.
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const GRPC_UNIMPLEMENTED = 12;

/** Our search attributes the namespace does not have yet. */
export async function missingSearchAttributes(connection: ConnectionLike, namespace: string): Promise<string[]> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(res.customAttributes ?? {}));
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !have.has(name));
}

/** Registers the missing ones (a dev server started on an older database lacks the newer ones). */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<string[]> {
  let missing: string[];
  try {
    missing = await missingSearchAttributes(connection, namespace);
  } catch (e) {
    // The time-skipping test server can add search attributes but not list them.
    if ((e as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw e;
    missing = Object.keys(SEARCH_ATTRIBUTES);
  }
  if (missing.length === 0) return [];
  const Keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((n) => [n, Keyword])) });
  return missing;
}

/** The commands an operator runs to create them on a real cluster (docs/operations.md). */
export function createCommands(names: string[], namespace: string): string {
  return names.map((n) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type ${SEARCH_ATTRIBUTES[n]}`).join('\n');
}
