// Jittered exponential backoff: registers that lost the server together do
// not all come back in the same millisecond.

export class Backoff {
    #attempt = 0;

    constructor(firstMs, maxMs) {
        this.firstMs = firstMs;
        this.maxMs = maxMs;
    }

    /// The next delay: doubling from firstMs up to maxMs, each one drawn
    /// from its upper half.
    next() {
        const ceiling = Math.min(this.maxMs, this.firstMs * 2 ** this.#attempt);
        this.#attempt = Math.min(this.#attempt + 1, 30);
        return ceiling / 2 + Math.random() * (ceiling / 2);
    }

    reset() {
        this.#attempt = 0;
    }
}

/// Resolves after `ms`, or at once when `signal` aborts.
export function sleep(ms, signal) {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
        }
    });
}
