// The sync engine: the plan's SyncContext. It pulls each entity type into
// IndexedDB (one pull per type at a time, coalescing the requests that arrive
// meanwhile), follows the realtime channel, and keeps the status the bottom
// bar shows. Nothing here throws at the UI or opens a dialog: every failure
// becomes part of the status, and is retried.

import { ApiError } from './api.js';
import { Backoff } from './backoff.js';
import { ENTITY_NAMES, entityType } from './entities.js';
import { RealtimeChannel } from './realtime.js';

const PULL_RETRY_FIRST_MS = 1000;
const PULL_RETRY_MAX_MS = 60_000;
const RELOAD_ATTEMPTS = 3; // a reload answered `410` more often than this is an error
// At start the pulls wait this long for the channel: pulling once it is up
// spares pulling everything twice (a pull that began before the channel
// connected must run again, for what changed in between).
const CHANNEL_WAIT_AT_START_MS = 1000;

/// Events: 'status' (detail: the status), 'data' (detail: { entityType,
/// changedIds, deletedIds, reloaded }) after each page is stored.
export class SyncEngine extends EventTarget {
    #api;
    #db;
    #channel = null;
    #startTimer = 0;
    #states = new Map(); // entity type -> its sync_state record
    #pulls = new Map(ENTITY_NAMES.map((name) => [name, newPull()]));
    #status = {
        online: false,
        channel: null,         // 'websocket' | 'long-poll' while online
        offlineReason: null,
        initialSyncDone: false,
        pending: [],           // types queued, being pulled or waiting for a retry
        errors: [],            // { entityType, status, code, message, at }
        auth: null,            // { status, code, message, at } once the token is refused
        rateLimitedUntil: null,
        lastSyncAt: null,      // when a pull last completed (this machine's clock)
        notifications: 0,
        pages: 0,
    };

    constructor(api, db) {
        super();
        this.#api = api;
        this.#db = db;
    }

    get status() {
        return this.#status;
    }

    /// The sync_state record of each type, as stored.
    get syncStates() {
        return new Map(this.#states);
    }

    async start() {
        this.#states = await this.#db.syncStates();
        this.#update({ initialSyncDone: this.#everyTypeSynced() });
        this.#startChannel();
        this.#startTimer = setTimeout(() => this.pullAll(), CHANNEL_WAIT_AT_START_MS);
    }

    stop() {
        clearTimeout(this.#startTimer);
        this.#channel?.stop();
        for (const pull of this.#pulls.values()) clearTimeout(pull.retryTimer);
    }

    /// The operator's "Sync Now": pull everything at once, reconnect at once,
    /// and after an auth failure try the token again.
    syncNow() {
        if (this.#status.auth) return this.relogin(this.#api.token);
        for (const pull of this.#pulls.values()) pull.backoff.reset();
        this.#channel?.reconnectNow();
        this.pullAll();
    }

    /// Resumes with a new token after an auth failure.
    relogin(token) {
        this.#api.token = token;
        this.#update({ auth: null });
        this.#channel?.stop();
        this.#startChannel();
        this.pullAll();
    }

    pullAll() {
        for (const name of ENTITY_NAMES) this.requestPull(name);
    }

    /// Asks for a pull of one type. `version` (a notification's) skips it when
    /// the stored data already holds that change; a request while the type is
    /// being pulled makes it pull once more afterwards.
    requestPull(typeName, version = Infinity) {
        if (this.#status.auth) return;
        if (this.#holds(typeName, version)) return;
        const pull = this.#pulls.get(typeName);
        if (pull.running) {
            pull.againFor = Math.max(pull.againFor ?? -Infinity, version);
            return;
        }
        if (pull.queued) return;
        pull.queued = true;
        clearTimeout(pull.retryTimer);
        this.#refreshPending();
        whenIdle(() => this.#run(typeName));
    }

    #startChannel() {
        this.#channel = new RealtimeChannel(this.#api, {
            onConnected: (channel) => {
                clearTimeout(this.#startTimer);
                this.#update({ online: true, channel, offlineReason: null });
                this.pullAll(); // whatever changed while the channel was down
            },
            onDisconnected: (reason) => this.#update({ online: false, channel: null, offlineReason: reason }),
            onNotification: (message) => this.#onNotification(message),
            onCatchUp: () => this.pullAll(),
            onAuthFailure: (error) => this.#onAuthFailure(error),
        });
        this.#channel.start();
    }

    #onNotification(message) {
        this.#update({ notifications: this.#status.notifications + 1 });
        const type = entityType(message.entity_type);
        if (!type) return; // a type this page does not know: a newer server's
        this.requestPull(type.name, Number.isInteger(message.version) ? message.version : Infinity);
    }

    /// Whether the stored data of a type already holds the change `version`.
    #holds(typeName, version) {
        const stored = this.#states.get(typeName)?.version;
        return Number.isInteger(stored) && stored >= version;
    }

    async #run(typeName) {
        const pull = this.#pulls.get(typeName);
        const token = this.#api.token;
        pull.queued = false;
        pull.running = true;
        try {
            do {
                pull.againFor = null;
                await this.#pullType(typeName);
            } while (pull.againFor !== null && !this.#holds(typeName, pull.againFor) && !this.#status.auth);
            this.#succeeded(typeName);
        } catch (error) {
            this.#failed(typeName, asApiError(error), token);
        } finally {
            pull.running = false;
            this.#refreshPending();
        }
    }

    /// Pages until `has_more` is false; each page and its cursor in one
    /// transaction. `410 resync_required` reloads the type, as does a 400 to
    /// a stored cursor: one the server cannot read any more is as good as
    /// expired.
    async #pullType(typeName) {
        for (;;) {
            const before = this.#states.get(typeName);
            let page;
            try {
                page = await this.#api.syncPage(typeName, before?.next_since);
            } catch (error) {
                const expired = error.isResyncRequired || (error.status === 400 && before?.next_since);
                if (!expired) throw error;
                return this.#reload(typeName);
            }
            const state = nextSyncState(typeName, before, page);
            await this.#db.applyPage(typeName, page, state);
            this.#states.set(typeName, state);
            this.#update({ pages: this.#status.pages + 1 });
            this.#emitData(typeName, page);
            if (!page.has_more) return;
        }
    }

    /// The type again from the beginning, replacing what is stored in one
    /// transaction at the end: the cashier never sees an empty catalog, and
    /// a reload that fails leaves the old data.
    async #reload(typeName) {
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.#reloadOnce(typeName);
            } catch (error) {
                if (!error.isResyncRequired || attempt >= RELOAD_ATTEMPTS) throw error;
            }
        }
    }

    async #reloadOnce(typeName) {
        const records = new Map();
        let page = null;
        do {
            page = await this.#api.syncPage(typeName, page?.next_since);
            for (const change of page.changes ?? []) records.set(change.id, change.data);
            for (const tombstone of page.deleted ?? []) records.delete(tombstone.id);
            this.#update({ pages: this.#status.pages + 1 });
        } while (page.has_more);
        const state = nextSyncState(typeName, undefined, page);
        await this.#db.replaceType(typeName, [...records.values()], state);
        this.#states.set(typeName, state);
        this.dispatchEvent(new CustomEvent('data', {
            detail: { entityType: typeName, changedIds: [...records.keys()], deletedIds: [], reloaded: true },
        }));
    }

    #emitData(typeName, page) {
        const changedIds = (page.changes ?? []).map((c) => c.id);
        const deletedIds = (page.deleted ?? []).map((d) => d.id);
        if (changedIds.length === 0 && deletedIds.length === 0) return;
        this.dispatchEvent(new CustomEvent('data', {
            detail: { entityType: typeName, changedIds, deletedIds, reloaded: false },
        }));
    }

    #succeeded(typeName) {
        const pull = this.#pulls.get(typeName);
        pull.stale = false;
        pull.backoff.reset();
        this.#update({
            errors: this.#status.errors.filter((e) => e.entityType !== typeName),
            initialSyncDone: this.#everyTypeSynced(),
            lastSyncAt: new Date().toISOString(),
            rateLimitedUntil: null,
        });
    }

    /// Sorts a failure: auth stops everything until a new login; a network
    /// failure waits for the channel (which pulls all on reconnect); 429
    /// waits as told; anything else shows as a sync error and is retried.
    /// `token` is the one the pull used: a refusal of a token already
    /// replaced by a new sign-in is no reason to stop.
    #failed(typeName, error, token) {
        const pull = this.#pulls.get(typeName);
        pull.stale = true;
        if (error.isAuth && token === this.#api.token) return this.#onAuthFailure(error);
        if (error.isNetwork && !this.#status.online) return;
        let delay = error.isAuth ? 0 : pull.backoff.next();
        if (error.isRateLimited) {
            delay = Math.max(error.retryAfterMs, 250);
            this.#update({ rateLimitedUntil: new Date(Date.now() + delay).toISOString() });
        } else if (!error.isNetwork && !error.isAuth) {
            this.#recordError(typeName, error);
        }
        clearTimeout(pull.retryTimer);
        pull.retryTimer = setTimeout(() => this.requestPull(typeName), delay);
    }

    #recordError(typeName, error) {
        const entry = {
            entityType: typeName,
            status: error.status,
            code: error.code,
            message: error.message,
            at: new Date().toISOString(),
        };
        const others = this.#status.errors.filter((e) => e.entityType !== typeName);
        this.#update({ errors: [...others, entry] });
    }

    #onAuthFailure(error) {
        if (this.#status.auth) return;
        this.#channel?.stop();
        for (const pull of this.#pulls.values()) clearTimeout(pull.retryTimer);
        this.#update({
            auth: { status: error.status, code: error.code, message: error.message, at: new Date().toISOString() },
            online: false,
            channel: null,
            offlineReason: 'the server refused the register token',
        });
    }

    #everyTypeSynced() {
        return ENTITY_NAMES.every((name) => this.#states.get(name)?.complete);
    }

    #refreshPending() {
        const pending = ENTITY_NAMES.filter((name) => {
            const pull = this.#pulls.get(name);
            return pull.queued || pull.running || pull.stale;
        });
        this.#update({ pending });
    }

    #update(changes) {
        this.#status = Object.freeze({ ...this.#status, ...changes });
        this.dispatchEvent(new CustomEvent('status', { detail: this.#status }));
    }
}

function newPull() {
    return {
        queued: false,
        running: false,
        againFor: null, // set while running: the version a new request wants
        stale: false,   // the last pull failed; a retry or reconnect will pull
        retryTimer: 0,
        backoff: new Backoff(PULL_RETRY_FIRST_MS, PULL_RETRY_MAX_MS),
    };
}

/// The plan's sync_state record after applying `page`. `version` is the
/// high-water mark only once a pull reaches `has_more: false`.
function nextSyncState(typeName, before, page) {
    return {
        entity_type: typeName,
        next_since: page.next_since,
        version: page.has_more ? (before?.version ?? null) : page.version,
        last_sync_timestamp: page.server_time,
        retention_horizon: page.retention_horizon ?? null,
        complete: !page.has_more || before?.complete === true,
    };
}

/// Non-HTTP failures (IndexedDB full, a bug) still land in the status.
function asApiError(error) {
    if (error instanceof ApiError) return error;
    return new ApiError(-1, error?.name ?? 'client_error', String(error?.message ?? error));
}

/// Sync work waits for an idle moment, so the cashier's clicks come first;
/// the timeout bounds the wait on a busy page.
function whenIdle(task) {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(task, { timeout: 200 });
    else setTimeout(task, 0);
}
