// Logical sessions the server has seen (by the lsid commands carry), for the $listLocalSessions stage.
import { Binary, type Document } from 'bson';

/** Sessions are forgotten oldest-first beyond this many, like mongod's session cache. */
const MAX_SESSIONS = 10_000;
/** The uid of the unauthenticated user: SHA-256 of the empty string, as mongod reports it without auth. */
const ANONYMOUS_UID = new Binary(
  Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'),
);

export class LocalSessions {
  private readonly sessions = new Map<string, { id: unknown; lastUse: Date }>();

  /** Records a use of the session `lsid` ({id: UUID}); cheap enough to run on every command. */
  touch(lsid: Document): void {
    const id: unknown = lsid.id;
    if (!(id instanceof Binary)) return;
    const key = id.toString('hex');
    this.sessions.delete(key);
    this.sessions.set(key, { id, lastUse: new Date() });
    if (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
  }

  /** The documents $listLocalSessions yields. */
  list(): Document[] {
    return [...this.sessions.values()].map(({ id, lastUse }) => ({
      _id: { id, uid: ANONYMOUS_UID },
      lastUse,
    }));
  }
}
