// Why a connection failed, when TLS is why. The client library's gRPC channel reports every
// failed handshake as "Failed to connect before the deadline", after its whole timeout: a
// wrong CA, a wrong server name, a missing client certificate and TLS to a plain port all
// look like an unreachable server. One handshake of our own, only after a failure, with the
// same certificates, names the cause and the setting that fixes it.
import { isIP } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';

/** What connectTemporal knows about TLS (the shape of ConnectionConfig['tls']). */
export interface ProbeTls {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

// The client's HTTP/2 preface and an empty SETTINGS frame. Over TLS 1.3 a server that refuses
// our certificate says so only after its side of the handshake is done: something has to be
// sent for its answer (data, or the alert) to come back.
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

function hostAndPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

// OpenSSL's messages carry their source position: "80CC...:error:0A00045C:SSL routines:
// ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/...". The reason will do.
const reasonOf = (message: string) => (/^[0-9A-F]+:error:/.test(message) ? (message.split(':')[5] ?? message) : message).trim();

function cause(e: Error & { code?: string }, address: string): string | undefined {
  const reason = reasonOf(e.message);
  const text = `${reason}${e.code ? ` (${e.code})` : ''}`;
  if (
    /alert (certificate required|bad certificate|unknown ca|certificate unknown|unsupported certificate|certificate revoked|certificate expired)/i.test(reason)
  )
    return `the server refused the client certificate, or wanted one: ${text}; mTLS needs TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH, or the profile's tls.client_cert_path and tls.client_key_path, with a certificate the server's CA signed`;
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the server's certificate is not for the name asked: ${text}; set the name it has in TEMPORAL_TLS_SERVER_NAME or the profile's tls.server_name`;
  if (e.code && /CERT|UNABLE_TO_|SELF_SIGNED|ISSUER/.test(e.code))
    return `the server's certificate is not trusted: ${text}; the CA that signed it goes in TEMPORAL_TLS_CA_PATH or the profile's tls.server_ca_cert_path`;
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(reason))
    return `the server at ${address} does not speak TLS: ${text}; turn TLS off (TEMPORAL_TLS=false or the profile's tls.disabled = true) or use its TLS port`;
  if (/alert|handshake|SSL|TLS/i.test(`${reason} ${e.code ?? ''}`)) return text;
  return undefined; // not TLS (refused, unreachable): the connection's own error says it
}

/**
 * One TLS handshake with `address` as the connection would make it; the cause of its failure,
 * or undefined when it succeeds or fails for a reason other than TLS. Without `tls`, asks
 * whether the server wants TLS the client was not told to use.
 */
export function probeTls(address: string, tls: ProbeTls | undefined, timeoutMs = 3000): Promise<string | undefined> {
  const { host, port } = hostAndPort(address);
  const servername = tls?.serverNameOverride ?? (isIP(host) ? undefined : host);
  const options: ConnectionOptions = {
    host,
    port,
    ALPNProtocols: ['h2'],
    ...(servername ? { servername } : {}),
    ...(tls?.serverRootCACertificate ? { ca: tls.serverRootCACertificate } : {}),
    ...(tls?.clientCertPair ? { cert: tls.clientCertPair.crt, key: tls.clientCertPair.key } : {}),
    ...(tls ? {} : { rejectUnauthorized: false }),
  };
  return new Promise((resolve) => {
    const socket = connect(options);
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => {
      if (!tls) {
        done(
          `the server at ${address} speaks TLS, and TLS is off: set TEMPORAL_TLS=true (and TEMPORAL_TLS_CA_PATH for a private CA), or use a profile with a [tls] table`,
        );
        return;
      }
      socket.write(H2_PREFACE);
      socket.once('data', () => done(undefined));
    });
    socket.once('error', (e: Error & { code?: string }) => done(tls ? cause(e, address) : undefined));
    socket.once('close', () => done(undefined));
  });
}
