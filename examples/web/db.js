// The register's replica in IndexedDB: one database per (store, register),
// one object store per entity type (keyPath `id`), the plan's `sync_state`
// store (keyPath `entity_type`) and an `images` store of cached product images.
// A page of changes and the cursor after it are written in ONE transaction, so
// a tab closed at any moment never holds a cursor ahead of its data.

import { ENTITY_NAMES } from './entities.js';

const SCHEMA_VERSION = 1;
export const SYNC_STATE = 'sync_state';
export const IMAGES = 'images';

export function databaseName(storeId, registerId) {
    return `incsync-pos-store${storeId}-register${registerId}`;
}

export async function openRegisterDb(storeId, registerId) {
    const name = databaseName(storeId, registerId);
    const open = indexedDB.open(name, SCHEMA_VERSION);
    open.onupgradeneeded = () => createStores(open.result);
    return new RegisterDb(name, await done(open));
}

function createStores(idb) {
    for (const name of ENTITY_NAMES) {
        if (!idb.objectStoreNames.contains(name)) idb.createObjectStore(name, { keyPath: 'id' });
    }
    if (!idb.objectStoreNames.contains(SYNC_STATE)) idb.createObjectStore(SYNC_STATE, { keyPath: 'entity_type' });
    if (!idb.objectStoreNames.contains(IMAGES)) idb.createObjectStore(IMAGES, { keyPath: 'id' });
}

class RegisterDb {
    constructor(name, idb) {
        this.name = name;
        this.idb = idb;
        // Another tab opening a newer schema must not be blocked by this one.
        idb.onversionchange = () => idb.close();
    }

    /// Every type's sync_state record, by entity type.
    async syncStates() {
        const states = await this.all(SYNC_STATE);
        return new Map(states.map((s) => [s.entity_type, s]));
    }

    /// Applies a pull page and stores `state` (its cursor) in one transaction.
    applyPage(typeName, page, state) {
        const tx = this.idb.transaction([typeName, SYNC_STATE], 'readwrite');
        const records = tx.objectStore(typeName);
        for (const change of page.changes ?? []) records.put(change.data);
        for (const tombstone of page.deleted ?? []) records.delete(tombstone.id);
        tx.objectStore(SYNC_STATE).put(state);
        return committed(tx);
    }

    /// Replaces all of a type's records and its cursor in one transaction
    /// (a reload after `410 resync_required`).
    replaceType(typeName, records, state) {
        const tx = this.idb.transaction([typeName, SYNC_STATE], 'readwrite');
        const store = tx.objectStore(typeName);
        store.clear();
        for (const record of records) store.put(record);
        tx.objectStore(SYNC_STATE).put(state);
        return committed(tx);
    }

    all(storeName) {
        return done(this.idb.transaction(storeName).objectStore(storeName).getAll());
    }

    get(storeName, key) {
        return done(this.idb.transaction(storeName).objectStore(storeName).get(key));
    }

    put(storeName, value) {
        const tx = this.idb.transaction(storeName, 'readwrite');
        tx.objectStore(storeName).put(value);
        return committed(tx);
    }

    delete(storeName, key) {
        const tx = this.idb.transaction(storeName, 'readwrite');
        tx.objectStore(storeName).delete(key);
        return committed(tx);
    }
}

function done(request) {
    return new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
}

function committed(tx) {
    return new Promise((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
    });
}
