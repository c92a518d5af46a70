/**
 * @internal The `ssl` option of the networking API, turned into what Node's `tls` wants.
 *
 * asyncio takes an `ssl.SSLContext` (or `True` for a default client context). Here `ssl` is
 * `true`, a `tls.SecureContext` (from `tls.createSecureContext()`), or an object of Node `tls`
 * options (`{ ca, cert, key, rejectUnauthorized, ALPNProtocols, … }`). Either way the
 * connection's `SecureContext` is known, and `getExtraInfo("sslcontext")` returns it.
 */
import tls from "node:tls";
import { describe } from "../internal/validate.js";

/** The `ssl` option: `true`, a `SecureContext`, or Node `tls` options. */
export type SslOption = boolean | tls.SecureContext | tls.ConnectionOptions | tls.TlsOptions;

/** Node `tls` options, for a client or a server. */
export type TlsOptionsBag = tls.ConnectionOptions & tls.TlsOptions;

/** What a TLS connection or server is made with. */
export interface TlsSetup {
  secureContext: tls.SecureContext;
  /** The remaining Node options (`rejectUnauthorized`, `requestCert`, `ALPNProtocols`…). */
  options: TlsOptionsBag;
}

/** Whether `value` is a `SecureContext` made by `tls.createSecureContext()`. */
export function isSecureContext(value: unknown): value is tls.SecureContext {
  if (typeof value !== "object" || value === null) return false;
  const inner = (value as { context?: unknown }).context;
  return typeof inner === "object" && inner !== null && inner.constructor?.name === "SecureContext";
}

/** The TLS setup of a client connection, or `null` when `ssl` is off. */
export function clientTls(ssl: SslOption | null | undefined): TlsSetup | null {
  if (ssl === undefined || ssl === null || ssl === false) return null;
  if (ssl === true) return { secureContext: tls.createSecureContext(), options: {} };
  if (isSecureContext(ssl)) return { secureContext: ssl, options: {} };
  if (typeof ssl === "object" && !Array.isArray(ssl) && !ArrayBuffer.isView(ssl)) {
    const options = ssl as tls.ConnectionOptions;
    return { secureContext: options.secureContext ?? tls.createSecureContext(options), options: options as TlsOptionsBag };
  }
  throw new TypeError(
    `\`ssl\` must be true, a SecureContext or an object of tls options, got ${describe(ssl)}`,
  );
}

/** The TLS setup of a server (or of the server side of `startTls`), or `null` when off. */
export function serverTls(ssl: SslOption | null | undefined): TlsSetup | null {
  if (ssl === undefined || ssl === null || ssl === false) return null;
  if (ssl === true) {
    throw new TypeError(
      "`ssl` must be a SecureContext or an object of tls options with a key and certificate " +
        "for a server, got true",
    );
  }
  if (isSecureContext(ssl)) return { secureContext: ssl, options: {} };
  if (typeof ssl === "object" && !Array.isArray(ssl) && !ArrayBuffer.isView(ssl)) {
    const options = ssl as tls.TlsOptions;
    return { secureContext: options.secureContext ?? tls.createSecureContext(options), options: options as TlsOptionsBag };
  }
  throw new TypeError(
    `\`ssl\` must be a SecureContext or an object of tls options, got ${describe(ssl)}`,
  );
}
