/**
 * lighting-store (config node): owns the connection of one database (a
 * SQLite file, or a PostgreSQL database given as a postgresql:// URL, its
 * password from the URL, the node's password credential or PGPASSWORD). Child nodes register with it and get the shared LightingStore through
 * getStore() (see LightingStoreNode in ../shared/owners). The file is opened
 * when the first user registers, closed (queued rows flushed) when the last
 * user leaves or when this node closes, before `done`. Connection state is
 * fanned out to the users' status (10-mqtt.js pattern).
 *
 * Storage faults (lib/store/storage-fault: file deleted or replaced,
 * read-only, writes failing, low space) show on the users' status while they
 * last (red ring, the reason) and are logged once when they begin ([error],
 * low space [warn]) and once when they end. A deleted or replaced file that
 * the store recovered is also raised as a `storage` alert.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';
import { LightingStore, type StorageFault } from '../../lib/store/store';
import { SchemaVersionError } from '../../lib/store/schema';
import { StorageUnavailableError } from '../../lib/store/storage-fault';
import { StoreLease, type LeaseState } from '../../lib/store/lease';
import { resolveStoreLocation, UnsupportedDatabaseError } from '../../lib/store/settings';
import { maskSecrets } from '../../lib/store/mask';
import { maskDatabaseUrl } from '../../lib/store/pg-url';
import { createUserRegistry, type LightingStoreNode } from '../shared/owners';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { fanOutStatus, showOwnerStatus } from '../shared/status';
import { messageOf } from '../shared/errors';
import { shortText } from '../shared/status';
import * as path from 'path';

export = function (RED: NodeAPI): void {
  function LightingStoreConfig(this: LightingStoreNode & Node<{ password: string }>, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`lighting-store.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const userDir = typeof RED.settings.userDir === 'string' && RED.settings.userDir !== '' ? RED.settings.userDir : process.cwd();
    let file = '';
    let display = '';
    this.configError = null;
    try {
      const location = resolveStoreLocation({ setting: read.text('path'), userDir, env: process.env });
      file = location.path;
      display = location.display;
    } catch (err) {
      if (!(err instanceof UnsupportedDatabaseError)) throw err;
      // The setting or DB_URL may hold a password: only its masked form is ever shown.
      this.configError = new UnsupportedDatabaseError(maskSecrets(maskDatabaseUrl(err.message)));
      this.error(t('errors.open', { message: this.configError.message }));
    }
    // A PostgreSQL URL may hold a password: `settings.path` shows it masked; the real URL stays in this closure.
    this.settings = {
      path: display,
      flushIntervalMs: read.number('flushIntervalMs', 200, 10, 60000, true),
      flushMaxRows: read.number('flushMaxRows', 500, 1, 100000, true),
      busyTimeoutMs: read.number('busyTimeoutMs', 5000, 0, 600000, true),
      poolSize: read.number('poolSize', 4, 1, 100, true),
      // Which gateway (DALI bus) this Node-RED is on a shared database: the setting, else BUS_ID (the MQTT gateway flow's), else none.
      gateway: (read.text('gateway').trim() || (process.env.BUS_ID ?? '').trim()).slice(0, 100),
    };
    const credential = (this as { credentials?: { password?: unknown } }).credentials?.password;
    const password = typeof credential === 'string' && credential !== '' ? credential : undefined;

    let lastLogged = '';
    /** The storage fault in force on the open store, shown instead of "connected". */
    let fault: StorageFault | null = null;
    const statusOf = (s: LeaseState): NodeStatus | null => {
      switch (s.state) {
        case 'connected':
          if (fault !== null) {
            return { fill: fault.kind === 'low-space' ? 'yellow' : 'red', shape: 'ring', text: shortText(maskSecrets(fault.message)) };
          }
          return { fill: 'green', shape: 'dot', text: t('status.connected') };
        case 'opening':
          return { fill: 'yellow', shape: 'ring', text: t('status.opening') };
        case 'error':
          return { fill: 'red', shape: 'ring', text: t('status.error', { message: maskDatabaseUrl(s.message) }) };
        default:
          return null;
      }
    };
    const fanOut = (s: LeaseState): void => {
      const status = statusOf(s);
      if (status !== null) fanOutStatus(this.users, status);
    };
    const lease = new StoreLease<LightingStore>(
      async () => {
        let store: LightingStore;
        try {
          store = await LightingStore.open({
            path: file,
            flushIntervalMs: this.settings.flushIntervalMs,
            flushMaxRows: this.settings.flushMaxRows,
            busyTimeoutMs: this.settings.busyTimeoutMs,
            poolSize: this.settings.poolSize,
            gateway: this.settings.gateway,
            ...(password !== undefined ? { password } : {}),
          });
        } catch (err) {
          // The reason names the path, which may come from a mistyped URL holding a password. A database
          // that cannot be opened now (a server down, a folder not writable) is a 503 to an HTTP client,
          // with Retry-After, as any storage fault: the lease tries again at the next use.
          const message = maskSecrets(messageOf(err));
          if (err instanceof SchemaVersionError) throw new Error(message, { cause: err });
          throw new StorageUnavailableError(`storage unavailable: ${message}; retry later`, 'cannot-open', err);
        }
        store.on('flushError', (err) => this.error(t('errors.write', { message: maskSecrets(err.message) })));
        const onFault = (now: StorageFault | null, before: StorageFault | null): void => {
          fault = now;
          if (now !== null) {
            const line = t('errors.storage', { message: maskSecrets(now.message) });
            if (now.kind === 'low-space') this.warn(line);
            else this.error(line);
          } else if (before !== null) {
            this.log(t('log.storageOk', { message: maskSecrets(before.message) }));
          }
          fanOut(lease.state);
        };
        store.on('storage', onFault);
        store.on('recovered', (r) => {
          const message =
            r.why === 'gone'
              ? t('alerts.rebuilt')
              : r.why === 'replaced'
                ? t('alerts.replaced', { saved: r.saved === null ? '?' : path.basename(r.saved) })
                : t('alerts.reopened');
          this.warn(message);
          if (r.why === 'writable') return;
          store
            .raiseAlert({
              kind: 'storage',
              severity: 'critical',
              message,
              data: { why: r.why, saved: r.saved === null ? null : path.basename(r.saved) },
            })
            .catch((err: unknown) => this.error(t('errors.write', { message: maskSecrets(messageOf(err)) })));
        });
        // The whole path: "points elsewhere than before" (README, Troubleshooting) is what it tells apart (SQLite only).
        if (store.createdFile) this.log(t('log.created', { file: path.resolve(store.path) }));
        if (store.storageFault !== null) onFault(store.storageFault, null);
        // PostgreSQL: red while the server is unreachable (rows stay queued), green again when it answers.
        let probe: NodeJS.Timeout | null = null;
        store.on('connection', (c: { state: 'up' | 'down'; message?: string }) => {
          if (c.state === 'down') {
            const message = maskDatabaseUrl(c.message ?? 'unreachable');
            this.warn(t('errors.down', { message }));
            fanOutStatus(this.users, { fill: 'red', shape: 'ring', text: t('status.down', { message }) });
            // Probe until it answers, so the status recovers even when nothing is written meanwhile.
            probe ??= setInterval(() => {
              if (store.closed) {
                if (probe !== null) clearInterval(probe);
                probe = null;
                return;
              }
              store.healthCheck().catch(() => undefined);
            }, 2000);
          } else {
            if (probe !== null) clearInterval(probe);
            probe = null;
            this.log(t('status.up'));
            fanOut(lease.state);
          }
        });
        return store;
      },
      (s) => {
        if (s.state === 'error' && s.message !== lastLogged) {
          lastLogged = s.message;
          this.error(t('errors.open', { message: s.message }));
        }
        if (s.state === 'connected') lastLogged = '';
        fanOut(s);
      },
      this.configError,
    );

    Object.assign(
      this,
      createUserRegistry({
        onRegister: (user: Node): void => {
          const status = statusOf(lease.state);
          if (status !== null) showOwnerStatus(user, status);
          if (!lease.held) lease.acquire().catch(() => undefined);
        },
        onDeregister: (): Promise<void> | void => {
          if (Object.keys(this.users).length === 0) return lease.release();
        },
      }),
    );
    this.getStore = () => lease.acquire();

    this.on('close', (_removed: boolean, done: () => void) => {
      lease.close().then(done, done);
    });
  }

  RED.nodes.registerType<LightingStoreNode & Node<{ password: string }>, NodeConfig, unknown, { password: string }>(
    'lighting-store',
    LightingStoreConfig,
    {
      credentials: { password: { type: 'password' } },
    },
  );
};
