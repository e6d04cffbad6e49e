// The sync server's HTTP API as the register sees it. Every failure, whatever
// its shape (an error body of PROTOCOL.md §6, a bare status, a refused
// connection, a timeout), becomes one ApiError, so the sync engine sorts
// failures in one place and nothing else ever throws at the UI.

import { entityType } from './entities.js';

const REQUEST_TIMEOUT_MS = 15_000;
const IMAGE_SIZE = '110'; // the plan's tile size

export class ApiError extends Error {
    /// status 0: no HTTP answer (network failure, timeout, cancelled).
    constructor(status, code, message, retryAfterMs = 0) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
        this.code = code;
        this.retryAfterMs = retryAfterMs;
    }

    get isNetwork() { return this.status === 0; }
    get isAuth() { return this.status === 401 || this.status === 403; }
    get isResyncRequired() { return this.status === 410; }
    get isRateLimited() { return this.status === 429; }
    get isCancelled() { return this.code === 'cancelled'; }
}

/// One register's session: its token, store and cash register.
export class Api {
    constructor({ token, storeId, registerId }) {
        this.token = token;
        this.storeId = storeId;
        this.registerId = registerId;
    }

    /// One page of changes of `typeName` after the cursor `since` (null: all).
    syncPage(typeName, since) {
        const params = { store_id: this.storeId };
        if (since) params.since = since;
        return this.#json(`/api/v1/sync/${entityType(typeName).path}`, params);
    }

    /// Which types changed after `since`; `waitSeconds` > 0 long-polls.
    check(since, waitSeconds, signal) {
        const params = { store_id: this.storeId, wait: waitSeconds };
        if (since) params.since = since;
        return this.#json('/api/v1/sync/check', params, {
            signal,
            timeoutMs: REQUEST_TIMEOUT_MS + waitSeconds * 1000,
        });
    }

    /// A product image: `{ notModified: true }` when `etag` still matches,
    /// otherwise `{ blob, etag }`.
    async image(imageUrl, etag) {
        const url = new URL(imageUrl, location.origin);
        url.searchParams.set('size', IMAGE_SIZE);
        const headers = etag ? { 'If-None-Match': etag } : {};
        const response = await this.#fetch(url, { headers });
        if (response.status === 304) return { notModified: true };
        if (!response.ok) throw await errorFrom(response);
        return { blob: await response.blob(), etag: response.headers.get('ETag') };
    }

    /// The notification socket's URL; browsers cannot send a header there,
    /// so the token goes in the query (PROTOCOL.md §5).
    webSocketUrl() {
        const url = new URL(`/ws/sync/${encodeURIComponent(this.registerId)}`, location.origin);
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        url.searchParams.set('store_id', this.storeId);
        url.searchParams.set('token', this.token);
        return url.href;
    }

    async #json(path, params, options = {}) {
        const url = new URL(path, location.origin);
        for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
        const response = await this.#fetch(url, options);
        if (!response.ok) throw await errorFrom(response);
        try {
            return await response.json();
        } catch {
            throw new ApiError(response.status, 'bad_response', 'the server sent a body that is not JSON');
        }
    }

    async #fetch(url, { headers = {}, signal, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort('timeout'), timeoutMs);
        const cancel = () => abort.abort('cancelled');
        signal?.addEventListener('abort', cancel);
        try {
            return await fetch(url, {
                headers: { ...headers, Authorization: `Bearer ${this.token}` },
                cache: 'no-store',
                signal: abort.signal,
            });
        } catch {
            if (abort.signal.reason === 'cancelled') throw new ApiError(0, 'cancelled', 'cancelled');
            if (abort.signal.reason === 'timeout') {
                throw new ApiError(0, 'timeout', `no answer within ${timeoutMs / 1000} s`);
            }
            throw new ApiError(0, 'network', 'the server cannot be reached');
        } finally {
            clearTimeout(timer);
            signal?.removeEventListener('abort', cancel);
        }
    }
}

async function errorFrom(response) {
    let code = `http_${response.status}`;
    let message = response.statusText || `HTTP ${response.status}`;
    try {
        const body = await response.json();
        if (typeof body?.error?.code === 'string') code = body.error.code;
        if (typeof body?.error?.message === 'string') message = body.error.message;
    } catch {
        // Not the JSON error shape (a proxy's page, an empty body): keep the status.
    }
    const retryAfterMs = response.status === 429 ? parseRetryAfter(response.headers.get('Retry-After')) : 0;
    return new ApiError(response.status, code, message, retryAfterMs);
}

/// Retry-After is seconds or an HTTP date; absent or garbled, wait a second.
function parseRetryAfter(value) {
    if (!value) return 1000;
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(value);
    return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now());
}
