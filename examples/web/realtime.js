// The realtime channel (PROTOCOL.md §3): a WebSocket on /ws/sync/{register},
// reconnected with jittered backoff. When the socket keeps failing while plain
// HTTP works (a proxy that drops upgrades), it long-polls /api/v1/sync/check
// instead and tries the socket again now and then. It only reports what it
// hears; deciding what to pull is the sync engine's business.

import { Backoff, sleep } from './backoff.js';

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 15_000;
const SOCKET_OPEN_TIMEOUT_MS = 10_000;
// The server's pings are invisible to scripts, so the page sends its own
// `{"type":"ping"}`: a socket that stays silent past the limit is dead.
const PING_INTERVAL_MS = 20_000;
const SILENCE_LIMIT_MS = 2 * PING_INTERVAL_MS + 5_000;
const SOCKET_FAILURES_BEFORE_LONG_POLL = 3;
const LONG_POLL_WAIT_S = 25;
const SOCKET_RETRY_FROM_LONG_POLL_MS = 60_000;

/// handlers: onConnected(channel: 'websocket' | 'long-poll'),
/// onDisconnected(reason), onNotification(message), onCatchUp(reason),
/// onAuthFailure(apiError). The channel stops itself after an auth failure.
export class RealtimeChannel {
    #api;
    #handlers;
    #backoff = new Backoff(RECONNECT_FIRST_MS, RECONNECT_MAX_MS);
    #stop = new AbortController();
    #wake = new AbortController(); // ends the current pause between attempts
    #closeSocket = null;
    #socketFailures = 0;

    constructor(api, handlers) {
        this.#api = api;
        this.#handlers = handlers;
    }

    start() {
        this.#run();
    }

    stop() {
        this.#stop.abort();
        this.#wake.abort();
        this.#closeSocket?.();
    }

    /// Retry at once (Sync Now, the browser's `online` event).
    reconnectNow() {
        this.#backoff.reset();
        this.#wake.abort();
    }

    get #stopped() {
        return this.#stop.signal.aborted;
    }

    async #run() {
        while (!this.#stopped) {
            const socket = await this.#followSocket();
            if (this.#stopped) return;
            if (socket.opened) {
                this.#socketFailures = 0;
                this.#backoff.reset();
            }
            const next = socket.opened ? 'pause' : await this.#afterSocketFailure();
            if (next === 'stop') return;
            if (next === 'retry') continue;
            this.#handlers.onDisconnected(socket.reason);
            await this.#pause();
        }
    }

    async #pause() {
        this.#wake = new AbortController();
        await sleep(this.#backoff.next(), this.#wake.signal);
    }

    /// Resolves when the socket ends: { opened, reason }.
    #followSocket() {
        return new Promise((resolve) => {
            let socket;
            try {
                socket = new WebSocket(this.#api.webSocketUrl());
            } catch (error) {
                return resolve({ opened: false, reason: `no WebSocket: ${error.message}` });
            }
            let opened = false;
            let lastSeq = 0;
            let lastHeard = Date.now();
            let pinger = null;
            const openTimer = setTimeout(() => finish('no answer to the WebSocket upgrade'), SOCKET_OPEN_TIMEOUT_MS);

            const finish = (reason) => {
                clearTimeout(openTimer);
                clearInterval(pinger);
                socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
                if (socket.readyState < WebSocket.CLOSING) socket.close();
                this.#closeSocket = null;
                resolve({ opened, reason });
            };
            this.#closeSocket = () => finish('stopped');

            socket.onopen = () => {
                opened = true;
                clearTimeout(openTimer);
                lastHeard = Date.now();
                pinger = setInterval(() => {
                    if (Date.now() - lastHeard > SILENCE_LIMIT_MS) return finish('the WebSocket went silent');
                    socket.send('{"type":"ping"}');
                }, PING_INTERVAL_MS);
                this.#handlers.onConnected('websocket');
            };
            socket.onmessage = (event) => {
                lastHeard = Date.now();
                const message = parseJson(event.data);
                if (message?.type === 'catch_up') return this.#handlers.onCatchUp('catch_up');
                if (message?.type !== 'entity_updated') return; // a pong, or a newer server's message
                if (Number.isInteger(message.seq)) {
                    const gap = message.seq !== lastSeq + 1;
                    lastSeq = message.seq;
                    if (gap) return this.#handlers.onCatchUp('missed notifications');
                }
                this.#handlers.onNotification(message);
            };
            socket.onclose = (event) => finish(closeReason(event, opened));
            socket.onerror = () => {}; // onclose follows, with the code
        });
    }

    /// The socket never opened: is the server down, is the token refused
    /// (a refused upgrade is invisible to scripts), or does only the
    /// WebSocket fail? Answers 'pause', 'retry' or 'stop'.
    async #afterSocketFailure() {
        let probe;
        try {
            probe = await this.#api.check(null, 0, this.#stop.signal);
        } catch (error) {
            if (error.isAuth) {
                this.#handlers.onAuthFailure(error);
                return 'stop';
            }
            return this.#stopped ? 'stop' : 'pause';
        }
        if (++this.#socketFailures < SOCKET_FAILURES_BEFORE_LONG_POLL) return 'pause';
        return this.#longPoll(probe.next_since);
    }

    /// Long-polls until HTTP fails ('pause') or it is time to try the
    /// socket again ('retry').
    async #longPoll(cursor) {
        this.#backoff.reset();
        this.#handlers.onConnected('long-poll');
        const until = Date.now() + SOCKET_RETRY_FROM_LONG_POLL_MS;
        while (Date.now() < until) {
            let answer;
            try {
                answer = await this.#api.check(cursor, LONG_POLL_WAIT_S, this.#stop.signal);
            } catch (error) {
                if (this.#stopped) return 'stop';
                if (error.isAuth) {
                    this.#handlers.onAuthFailure(error);
                    return 'stop';
                }
                if (error.isRateLimited) {
                    await sleep(error.retryAfterMs, this.#stop.signal);
                    continue;
                }
                if (error.status === 400 || error.isResyncRequired) {
                    // Our check cursor is no longer accepted: start a new
                    // chain, and pull everything in case something was missed.
                    cursor = null;
                    this.#handlers.onCatchUp('check cursor refused');
                    continue;
                }
                return 'pause';
            }
            cursor = answer.next_since;
            for (const name of answer.changed ?? []) {
                this.#handlers.onNotification({ type: 'entity_updated', entity_type: name });
            }
        }
        // One more socket failure brings the page straight back here.
        this.#socketFailures = SOCKET_FAILURES_BEFORE_LONG_POLL - 1;
        return 'retry';
    }
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

function closeReason(event, opened) {
    if (!opened) return 'the WebSocket could not connect';
    const why = event.reason ? `: ${event.reason}` : '';
    return `the WebSocket closed (code ${event.code}${why})`;
}
