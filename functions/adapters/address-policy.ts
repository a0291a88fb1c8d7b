import dns, { type LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Which addresses a webhook may reach. Loopback is for local tests and benchmarks only. */
export interface AddressPolicy {
  allowLoopback: boolean;
}

/** Resolves a host name to all of its A/AAAA addresses (injectable so tests never need real DNS). */
export type LookupAll = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemLookupAll: LookupAll = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

const RANGE_NAMES: Readonly<Record<string, string>> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address (where cloud metadata services live)',
  uniqueLocal: 'a unique-local (private) IPv6 address',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};

/** Said with a refusal that a loopback receiver would have passed where loopback is allowed: where that is, and how. */
const loopbackHint = 'loopback receivers are allowed only by the local runtime (npm start; TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK)';

/** A refusal's sentence, with the loopback hint when the address is loopback. */
function withLoopbackHint(reason: string, ip: string): string {
  return ipaddr.isValid(ip) && ipaddr.process(ip).range() === 'loopback' ? `${reason}: ${loopbackHint}` : reason;
}

/** Why an address may not be a target, or null when it may. */
function refusal(ip: string, policy: AddressPolicy): string | null {
  if (!ipaddr.isValid(ip)) return 'not an IP address';
  // process() turns ::ffff:127.0.0.1 into 127.0.0.1, so a mapped address gets its IPv4 range.
  const range = ipaddr.process(ip).range();
  if (range === 'unicast' || (range === 'loopback' && policy.allowLoopback)) return null;
  return RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
}

/** True when a resolved IP address may be a webhook target: only global unicast; loopback only when allowed. */
export function isAllowedAddress(ip: string, policy: AddressPolicy): boolean {
  return refusal(ip, policy) === null;
}

/** The host of a URL as an address or name: `[::1]` → `::1`. */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A sentence for a refused literal address, or null when the host is a name or an allowed address. */
export function literalAddressRefusal(host: string, policy: AddressPolicy): string | null {
  if (net.isIP(host) === 0) return null;
  const why = refusal(host, policy);
  return why === null ? null : withLoopbackHint(`${host} is ${why}; webhook targets must be public`, host);
}

/** Checks a URL at registration: scheme, no userinfo, then every address the host resolves to. */
export async function checkWebhookUrl(
  url: string,
  policy: AddressPolicy,
  lookup: LookupAll = systemLookupAll,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the webhook URL is not a valid URL' };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'the webhook URL must not carry a user name or password' };
  }
  const plainHttp = parsed.protocol === 'http:';
  if (parsed.protocol !== 'https:' && !(plainHttp && policy.allowLoopback)) {
    const scheme = parsed.protocol.slice(0, -1);
    return {
      ok: false,
      reason: `the webhook URL must use https (it uses ${scheme})${plainHttp ? `; plain http is only for a loopback receiver, and ${loopbackHint}` : ''}`,
    };
  }
  const host = urlHost(parsed);
  const literal = literalAddressRefusal(host, policy);
  if (literal !== null) return { ok: false, reason: `the host ${literal}` };

  let addresses: readonly LookupAddress[];
  if (net.isIP(host) !== 0) {
    addresses = [{ address: host, family: net.isIP(host) }];
  } else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      return { ok: false, reason: `the host ${host} does not resolve (${code})` };
    }
    if (addresses.length === 0) return { ok: false, reason: `the host ${host} has no addresses` };
  }
  // One bad address among good ones is refused too: the connection could land on any of them.
  for (const { address } of addresses) {
    const why = refusal(address, policy);
    if (why !== null) {
      return {
        ok: false,
        reason: withLoopbackHint(`the host ${host} resolves to ${address}, ${why}; webhook targets must be public`, address),
      };
    }
  }
  // Plain http is only for a local receiver: every address must be loopback.
  if (plainHttp && addresses.some(({ address }) => ipaddr.process(address).range() !== 'loopback')) {
    return { ok: false, reason: 'the webhook URL must use https (http is only accepted for a loopback test receiver)' };
  }
  return { ok: true };
}

function notAllowedError(hostname: string, address: string, why: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${address}, ${why}; webhook targets must be public`);
  error.code = 'ERR_ADDRESS_NOT_ALLOWED';
  return error;
}

/**
 * A `lookup` for node:http(s) request options that resolves, then refuses (code 'ERR_ADDRESS_NOT_ALLOWED')
 * any address not allowed. The socket connects to exactly the addresses checked here, so a DNS answer
 * that changes after registration (rebinding) cannot slip through. `resolve` is for tests.
 */
export function guardedLookup(policy: AddressPolicy, resolve?: LookupAll): net.LookupFunction {
  return (hostname, options, callback) => {
    const resolved = resolve
      ? resolve(hostname)
      : new Promise<LookupAddress[]>((ok, fail) => {
          dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
            if (error) fail(error);
            else ok(addresses);
          });
        });
    resolved.then(
      (addresses) => {
        for (const { address } of addresses) {
          const why = refusal(address, policy);
          if (why !== null) {
            callback(notAllowedError(hostname, address, why), '', 0);
            return;
          }
        }
        const first = addresses[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`${hostname} has no addresses`);
          error.code = 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all === true) {
          callback(null, [...addresses]);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        callback(error as NodeJS.ErrnoException, '', 0);
      },
    );
  };
}

/** `TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK=true` lets webhooks reach 127.0.0.1 and ::1 (the local runtime's receivers); never in AWS. */
export function addressPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): AddressPolicy {
  return { allowLoopback: env.TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK === 'true' };
}
