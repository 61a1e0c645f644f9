// Typed search attributes: operators filter rollouts in the Temporal UI with these
// (e.g. `MrcdService = "checkout" AND MrcdState = "halted"`). Registered by the dev stack
// and, on a real cluster, with `temporal operator search-attribute create` (docs/operations.md).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_SERVICE = defineSearchAttributeKey('MrcdService', SearchAttributeType.KEYWORD);
export const SA_VERSION = defineSearchAttributeKey('MrcdVersion', SearchAttributeType.KEYWORD);
export const SA_STATE = defineSearchAttributeKey('MrcdState', SearchAttributeType.KEYWORD);
export const SA_REGION = defineSearchAttributeKey('MrcdRegion', SearchAttributeType.KEYWORD);
export const SA_OWNER = defineSearchAttributeKey('MrcdOwner', SearchAttributeType.KEYWORD);
/** Set (to the failing region) when the rollout rolled its version back for failing a gate. */
export const SA_QUARANTINE = defineSearchAttributeKey('MrcdQuarantine', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute` and the operator CLI want them. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  MrcdService: 'Keyword',
  MrcdVersion: 'Keyword',
  MrcdState: 'Keyword',
  MrcdRegion: 'Keyword',
  MrcdOwner: 'Keyword',
  MrcdQuarantine: 'Keyword',
};

export const ALL_SEARCH_ATTRIBUTE_KEYS = [SA_SERVICE, SA_VERSION, SA_STATE, SA_REGION, SA_OWNER, SA_QUARANTINE];
