// Product images, cached as Blobs in the `images` store and shown through
// object URLs: an <img src> cannot send the register's bearer token. An image
// is fetched again only when its product's `image_version` changes. Failures
// are silent (the plan: "no error shown"): the card shows the product's
// initial until a retry succeeds.

import { Backoff } from './backoff.js';
import { IMAGES } from './db.js';

const PARALLEL_DOWNLOADS = 3;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export class ImageCache extends EventTarget {
    #db;
    #api;
    #shown = new Map();  // product id -> { version, url }
    #wanted = new Map(); // product id -> { version, imageUrl }, waiting
    #downloading = new Map(); // product id -> the same, being fetched
    #failed = new Map();      // product id -> the same, waiting for the retry
    #absent = new Map();      // product id -> image_version the server has no image for
    #retryTimer = 0;
    #refusedToken = false;
    #retryBackoff = new Backoff(RETRY_FIRST_MS, RETRY_MAX_MS);

    constructor(db, api) {
        super();
        this.#db = db;
        this.#api = api;
    }

    /// Object URLs for what the cache already holds, before any network.
    async load() {
        for (const record of await this.#db.all(IMAGES)) this.#show(record);
    }

    /// The object URL of a product's image, or null (not cached yet).
    urlFor(productId) {
        return this.#shown.get(productId)?.url ?? null;
    }

    versionFor(productId) {
        return this.#shown.get(productId)?.version ?? null;
    }

    /// Fetches the images of these products that are missing or outdated
    /// (the page calls it with every product after each products sync).
    refresh(products) {
        for (const product of products) {
            if (!product.image_url || !product.is_active) continue;
            if (this.versionFor(product.id) === product.image_version) continue;
            if (this.#downloading.get(product.id)?.version === product.image_version) continue;
            if (this.#absent.get(product.id) === product.image_version) continue;
            if (this.#failed.get(product.id)?.version === product.image_version) continue; // the retry comes
            this.#wanted.set(product.id, { version: product.image_version, imageUrl: product.image_url });
        }
        this.#pump();
    }

    /// Drops the images of deleted products.
    forget(productIds) {
        for (const id of productIds) {
            this.#wanted.delete(id);
            this.#failed.delete(id);
            this.#downloading.delete(id); // its answer is dropped
            const shown = this.#shown.get(id);
            if (!shown) continue;
            URL.revokeObjectURL(shown.url);
            this.#shown.delete(id);
            this.#db.delete(IMAGES, id).catch(() => {}); // an orphan costs only space
        }
    }

    /// After a reload of the products (another server's data, perhaps) the
    /// same image_version may name another image: ask again for each shown
    /// image, with its ETag, so an unchanged one costs a 304. The cards keep
    /// showing the cached images meanwhile.
    revalidate() {
        for (const shown of this.#shown.values()) shown.version = null;
        this.#absent.clear();
    }

    /// Retries the failed downloads now (Sync Now, a new sign-in).
    retryFailed() {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = 0;
        this.#refusedToken = false;
        for (const [id, failed] of this.#failed) if (!this.#wanted.has(id)) this.#wanted.set(id, failed);
        this.#failed.clear();
        this.#pump();
    }

    #pump() {
        // After a failure, nothing more until the retry: the server is
        // refusing, overloaded or unreachable.
        if (this.#retryTimer || this.#refusedToken) return;
        for (const [id, want] of this.#wanted) {
            if (this.#downloading.size >= PARALLEL_DOWNLOADS) return;
            if (this.#downloading.has(id)) continue; // one fetch per product at a time
            this.#wanted.delete(id);
            this.#downloading.set(id, want);
            this.#download(id, want)
                .then(() => this.#retryBackoff.reset(), (error) => this.#failedDownload(id, want, error))
                .finally(() => {
                    if (this.#downloading.get(id) === want) this.#downloading.delete(id);
                    this.#pump();
                });
        }
    }

    /// A 404 waits for a new image_version; a refused token waits for
    /// retryFailed(); anything else pauses every download until a retry
    /// after a backoff (at least Retry-After on a 429).
    #failedDownload(productId, want, error) {
        if (this.#downloading.get(productId) !== want) return; // deleted meanwhile
        if (error?.status === 404) {
            this.#absent.set(productId, want.version);
            return;
        }
        this.#failed.set(productId, want);
        if (error?.isAuth) {
            this.#refusedToken = true;
            return;
        }
        if (this.#retryTimer) return;
        const delay = Math.max(this.#retryBackoff.next(), error?.retryAfterMs ?? 0);
        this.#retryTimer = setTimeout(() => this.retryFailed(), delay);
    }

    async #download(productId, want) {
        const { version, imageUrl } = want;
        const cached = await this.#db.get(IMAGES, productId);
        const answer = await this.#api.image(imageUrl, cached?.etag);
        if (this.#downloading.get(productId) !== want) return; // deleted meanwhile
        if (answer.notModified && cached) {
            await this.#store({ ...cached, version });
        } else if (answer.blob) {
            await this.#store({ id: productId, version, etag: answer.etag, blob: answer.blob });
        }
    }

    async #store(record) {
        await this.#db.put(IMAGES, record);
        this.#show(record);
        this.dispatchEvent(new CustomEvent('image', { detail: { productId: record.id } }));
    }

    #show(record) {
        const previous = this.#shown.get(record.id);
        if (previous) URL.revokeObjectURL(previous.url);
        this.#shown.set(record.id, { version: record.version, url: URL.createObjectURL(record.blob) });
    }
}
