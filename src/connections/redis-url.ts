// What REDIS_URL names: one Redis (`redis://`, `rediss://` for TLS) or a Redis Cluster
// (`redis+cluster://host1:port,host2:port`, `rediss+cluster://` for TLS), parsed once for every role. WHATWG URL
// cannot parse a host list, so the cluster form is split by hand; its problems are named without the URL itself,
// which may hold a password.

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

export type RedisTarget =
  | (Credentials & { readonly kind: 'single'; readonly node: RedisNode; readonly db?: number })
  /** The seed nodes ioredis's Cluster client asks for the slot map; it finds the other masters itself. */
  | (Credentials & { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[] });

export const REDIS_URL_FORMS =
  'a Redis URL like redis://localhost:6379 (rediss:// for TLS), or for a Redis Cluster ' +
  'redis+cluster://host1:6379,host2:6379 (rediss+cluster:// for TLS)';

const DEFAULT_PORT = 6379;

/** A REDIS_URL that cannot be used; the message names what is wrong, never the URL. */
export class RedisUrlError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(
    /** What is wrong, e.g. `cluster node 2 has a port that is not a number from 1 to 65535`. */
    readonly problem: string,
  ) {
    super(`Invalid Redis URL: ${problem}; expected ${REDIS_URL_FORMS}`);
    this.name = 'RedisUrlError';
  }
}

function portOf(text: string, where: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65_535) {
    throw new RedisUrlError(`${where} has a port that is not a number from 1 to 65535`);
  }
  return Number(text);
}

/** `host`, `host:port`, `[::1]:port`. */
function nodeOf(text: string, index: number): RedisNode {
  const where = `cluster node ${index + 1}`;
  if (text === '') throw new RedisUrlError(`${where} is empty (a stray ",")`);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const port = bracketed[2];
    return { host: bracketed[1]!, port: port === undefined ? DEFAULT_PORT : portOf(port, where) };
  }
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  if (host === '' || /[\s/?#@[\]]/.test(host)) throw new RedisUrlError(`${where} has no valid host name`);
  return { host, port: colon < 0 ? DEFAULT_PORT : portOf(text.slice(colon + 1), where) };
}

function credentialsOf(userInfo: string | undefined): { username?: string; password?: string } {
  if (userInfo === undefined) return {};
  const colon = userInfo.indexOf(':');
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new RedisUrlError('its user name or password has a malformed %-escape');
    }
  };
  const username = decode(colon < 0 ? userInfo : userInfo.slice(0, colon));
  const password = colon < 0 ? '' : decode(userInfo.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseCluster(rest: string, tls: boolean): RedisTarget {
  if (/[?#]/.test(rest)) throw new RedisUrlError('a cluster URL takes no ?options or #fragment');
  // The password may contain '@': the host list starts after the last one.
  const at = rest.lastIndexOf('@');
  const userInfo = at < 0 ? undefined : rest.slice(0, at);
  let hosts = at < 0 ? rest : rest.slice(at + 1);
  const slash = hosts.indexOf('/');
  if (slash >= 0) {
    if (hosts.slice(slash + 1) !== '') {
      throw new RedisUrlError('a Redis Cluster has database 0 only, so its URL takes no /database');
    }
    hosts = hosts.slice(0, slash);
  }
  if (hosts === '') throw new RedisUrlError('the cluster URL lists no host');
  const nodes = hosts.split(',').map(nodeOf);
  return { kind: 'cluster', nodes, tls, ...credentialsOf(userInfo) };
}

function parseSingle(url: string, tls: boolean): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(
      url.includes(',')
        ? 'it lists several hosts; a Redis Cluster URL starts with redis+cluster://'
        : 'it is not a valid URL',
    );
  }
  if (parsed.hostname === '') throw new RedisUrlError('it names no host');
  const db = parsed.pathname.replace('/', '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new RedisUrlError('its path is not a database number');
  return {
    kind: 'single',
    node: { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : DEFAULT_PORT },
    tls,
    ...(db === '' ? {} : { db: Number(db) }),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/**
 * Reads a REDIS_URL.
 * @throws RedisUrlError naming what is wrong (never the URL, which may hold a password).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  switch (scheme?.[1]?.toLowerCase()) {
    case 'redis':
      return parseSingle(url, false);
    case 'rediss':
      return parseSingle(url, true);
    case 'redis+cluster':
      return parseCluster(url.slice(scheme[0].length), false);
    case 'rediss+cluster':
      return parseCluster(url.slice(scheme[0].length), true);
    default:
      throw new RedisUrlError(
        scheme ? `its scheme "${scheme[1]}:" is not a Redis one` : 'it does not start with a scheme',
      );
  }
}

/** What is wrong with `url` as a REDIS_URL, or undefined when it is usable. */
export function redisUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (error) {
    if (error instanceof RedisUrlError) return error.problem;
    throw error;
  }
}
