// Payload encryption (AES-256-GCM) for everything mrcd writes to Temporal: plans, statuses,
// operator actions, memos. The server and its history see ciphertext; the worker, the mrcd
// CLI and the codec endpoint (client/codec-server.ts) hold the keys.
//
// Keys by reference from the environment, never in a plan or a history:
//   MRCD_PAYLOAD_KEY_ID=<id>          the key new payloads are encrypted with (unset: encryption off)
//   MRCD_PAYLOAD_KEY_<id>=<base64>    a 32-byte key; keep every older id set while histories
//                                     written with it are still read (rotation)
// Each encrypted payload carries its key id in metadata, so decoding picks the key the
// payload names, not the current one.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const KEY_ID_VAR = 'MRCD_PAYLOAD_KEY_ID';
const KEY_VAR_PREFIX = 'MRCD_PAYLOAD_KEY_';
/** The variable holding the key with this id. */
export const keyVar = (id: string): string => `${KEY_VAR_PREFIX}${id}`;

// Ids become part of a variable name, so only what every shell and env file accepts.
const KEY_ID = /^[A-Za-z0-9_]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
// The key id is authenticated with the ciphertext: a payload relabelled with another id
// fails authentication instead of being read with a key it was not written with.
const aad = (id: string) => Buffer.from(`mrcd-payload-v1:${id}`, 'utf8');

export interface PayloadKeys {
  /** The id new payloads are encrypted with. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A payload that cannot be decoded: its key is missing, or it fails authentication. */
export class PayloadDecryptError extends Error {
  constructor(
    message: string,
    readonly keyId: string,
  ) {
    super(message);
    this.name = 'PayloadDecryptError';
  }
}

/**
 * Reads the payload keys from the environment. Returns undefined keys when encryption is
 * off (no MRCD_PAYLOAD_KEY_ID), and a problem naming the variable for every bad value.
 */
export function payloadKeysFromEnv(env: Record<string, string | undefined>): { keys?: PayloadKeys; problems: string[] } {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(KEY_VAR_PREFIX) || name === KEY_ID_VAR || value === undefined) continue;
    const id = name.slice(KEY_VAR_PREFIX.length);
    if (!KEY_ID.test(id)) {
      problems.push(`${name}: the key id "${id}" must be 1 to 64 letters, digits or _`);
      continue;
    }
    const text = value.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
      problems.push(`${name}: must be base64 of a 32-byte key, e.g. from: openssl rand -base64 32 (value hidden)`);
      continue;
    }
    const key = Buffer.from(text, 'base64');
    if (key.length !== KEY_BYTES) {
      problems.push(`${name}: must be base64 of a 32-byte key (AES-256), got ${key.length} bytes; make one with: openssl rand -base64 32`);
      continue;
    }
    keys.set(id, key);
  }
  const current = env[KEY_ID_VAR]?.trim();
  if (current === undefined || current === '') {
    if (env[KEY_ID_VAR] !== undefined) problems.push(`${KEY_ID_VAR}: must not be empty (unset it to turn payload encryption off)`);
    // Keys without a current id would leave new payloads in plaintext while whoever set
    // them believes they are encrypted.
    else if (keys.size > 0)
      problems.push(
        `${KEY_ID_VAR}: not set, but ${[...keys.keys()].map(keyVar).join(', ')} ${keys.size === 1 ? 'is' : 'are'}; set it to the id of the key new payloads are encrypted with`,
      );
    return { problems };
  }
  if (!KEY_ID.test(current)) {
    problems.push(`${KEY_ID_VAR}: must be 1 to 64 letters, digits or _ (it names the variable ${KEY_VAR_PREFIX}<id>) (got ${JSON.stringify(current)})`);
    return { problems };
  }
  if (!keys.has(current) && !problems.some((p) => p.startsWith(`${keyVar(current)}:`)))
    problems.push(`${keyVar(current)}: not set, but ${KEY_ID_VAR} selects key "${current}"; set it to base64 of a 32-byte key`);
  return problems.length ? { problems } : { keys: { currentKeyId: current, keys }, problems };
}

const utf8 = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/**
 * The codec for the keys given, or, without keys, one that passes plaintext through and
 * refuses encrypted payloads with the variable to set (never garbage, never a silent
 * pass-through of ciphertext into the payload converter).
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(readonly keys?: PayloadKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const k = this.keys;
    if (!k) return payloads;
    const key = k.keys.get(k.currentKeyId)!;
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(k.currentKeyId));
      // The whole payload, metadata included: its encoding (json/plain, binary/null ...) is
      // as private as its data, and decoding must restore both exactly.
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(k.currentKeyId) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      // Plaintext passes: histories written before encryption was turned on stay readable.
      if (utf8(p.metadata?.encoding) !== ENCRYPTED_ENCODING) return p;
      const id = utf8(p.metadata?.[KEY_ID_METADATA]);
      if (!id) throw new PayloadDecryptError(`an encrypted payload has no ${KEY_ID_METADATA} in its metadata; it was not written by mrcd`, '');
      const key = this.keys?.keys.get(id);
      if (!key) {
        const off = this.keys ? '' : ` (payload encryption is off here: ${KEY_ID_VAR} is not set)`;
        throw new PayloadDecryptError(
          `a payload is encrypted with key id "${id}", which this process does not have${off}: set ${keyVar(id)} to that key (base64) in its environment`,
          id,
        );
      }
      const data = Buffer.from(p.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptError(`a payload encrypted with key id "${id}" is truncated (${data.length} bytes): it was altered`, id);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(aad(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptError(
          `a payload encrypted with key id "${id}" failed authentication: it was altered, or ${keyVar(id)} holds another key than the one it was encrypted with`,
          id,
        );
      }
      const inner = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: inner.metadata, data: inner.data };
    });
  }
}

/** The payload codecs for a data converter: always one, so that a process without keys says which it lacks. */
export function payloadCodecs(keys: PayloadKeys | undefined): PayloadCodec[] {
  return [new EncryptionCodec(keys)];
}
