// The web POS page: signs a register in, keeps its replica in IndexedDB in
// step with the server (sync.js), and shows the catalog, the ticket and the
// plan's bottom bar. Open it as /?token=…&store_id=…&cash_register_id=… to
// sign in at once, or type them in.

import { Api } from './api.js';
import { openRegisterDb } from './db.js';
import { ImageCache } from './images.js';
import { SyncEngine } from './sync.js';
import { BottomBar, Catalog, LoginForm, SyncPanel, Ticket, moneyFormat, startClock } from './ui.js';

const SESSION_KEY = 'incsync-pos-session';
// Types the screen shows; a change to any other is synced but not re-rendered.
const SHOWN_TYPES = new Set(['product', 'category', 'setting', 'document_prefix']);

main();

function main() {
    const fromUrl = sessionFromUrl();
    if (fromUrl) {
        // The token has no business staying in the address bar or history.
        history.replaceState(null, '', location.pathname);
        return signIn(fromUrl);
    }
    const saved = savedSession();
    if (saved) return openPos(saved);
    new LoginForm().show(null, '', signIn);
}

function sessionFromUrl() {
    const query = new URLSearchParams(location.search);
    const session = {
        token: query.get('token') ?? '',
        storeId: query.get('store_id') ?? '',
        registerId: query.get('cash_register_id') ?? '',
    };
    return session.token || session.storeId || session.registerId ? session : null;
}

function savedSession() {
    try {
        const session = JSON.parse(localStorage.getItem(SESSION_KEY));
        return isComplete(session) ? session : null;
    } catch {
        return null;
    }
}

function isComplete(session) {
    return Boolean(session?.token) && /^\d+$/.test(session.storeId ?? '') && /^\d+$/.test(session.registerId ?? '');
}

/// Checks the token once before opening the POS. Only a refusal keeps the
/// form; an unreachable server does not (the register works offline).
async function signIn(session) {
    const form = new LoginForm();
    if (!isComplete(session)) {
        return form.show(session, 'Enter the register token, the store ID and the cash register ID (numbers).', signIn);
    }
    form.busy(true);
    try {
        await new Api(session).check(null, 0);
    } catch (error) {
        if (error.isAuth) {
            form.busy(false);
            return form.show(session, `The server refused this sign-in: ${error.message}.`, signIn);
        }
    }
    form.busy(false);
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    openPos(session);
}

function signOut() {
    localStorage.removeItem(SESSION_KEY);
    location.replace(location.pathname); // a fresh page: no engine left running
}

async function openPos(session) {
    document.getElementById('login').hidden = true;
    document.getElementById('pos').hidden = false;
    document.getElementById('register-label').textContent =
        `Store ${session.storeId} · Register ${session.registerId}`;
    startClock();

    let db;
    try {
        db = await openRegisterDb(session.storeId, session.registerId);
    } catch (error) {
        document.getElementById('grid-empty').textContent =
            `This browser does not let the page keep the catalog (IndexedDB: ${error?.message ?? error}).`;
        return;
    }
    const api = new Api(session);
    const images = new ImageCache(db, api);
    await images.load();
    const engine = new SyncEngine(api, db);
    const screen = buildScreen(session, db, engine, images);

    engine.addEventListener('status', screen.statusChanged);
    engine.addEventListener('data', ({ detail }) => {
        if (detail.entityType === 'product') {
            if (detail.reloaded) images.revalidate(); // perhaps another server's images now
            images.forget(detail.deletedIds);
        }
        if (SHOWN_TYPES.has(detail.entityType)) screen.reloadCatalog();
    });
    images.addEventListener('image', (event) => screen.catalog.updateImage(event.detail.productId));
    window.addEventListener('online', () => syncNow(engine, images));

    exposeForTests(db, engine);
    await screen.reloadCatalog(); // what the register already holds, before any network
    await engine.start();
}

/// The screen's parts, wired to the engine: clicks go to it, its status and
/// the replica's data come back.
function buildScreen(session, db, engine, images) {
    const ticket = new Ticket();
    const catalog = new Catalog(images, (product) => ticket.add(product));
    const panel = new SyncPanel({
        onRelogin: (token) => {
            localStorage.setItem(SESSION_KEY, JSON.stringify({ ...session, token }));
            engine.relogin(token);
            images.retryFailed();
        },
        onLogout: signOut,
    });
    const bar = new BottomBar({
        onSyncNow: () => syncNow(engine, images),
        onShowDetails: (focus) => panel.open(focus),
    });

    const showStatus = () => {
        bar.show(engine.status);
        panel.show(engine.status, engine.syncStates);
        catalog.setLoading(!engine.status.initialSyncDone);
    };
    let statusFrame = 0; // one render per frame, however many updates
    const statusChanged = () => {
        statusFrame ||= requestAnimationFrame(() => {
            statusFrame = 0;
            showStatus();
        });
    };
    const reloadCatalog = coalesced(async () => {
        const data = await readScreenData(db);
        catalog.show(data);
        ticket.configure(data);
        if (data.storeName) document.getElementById('store-name').textContent = data.storeName;
        images.refresh(data.products);
    });
    showStatus();
    return { catalog, statusChanged, reloadCatalog };
}

/// The operator's Sync Now, and the browser's `online` event: every type,
/// the connection and the failed images, at once.
function syncNow(engine, images) {
    engine.syncNow();
    images.retryFailed();
}

/// What the screen needs from the replica.
async function readScreenData(db) {
    const [products, categories, settings, prefixes] = await Promise.all([
        db.all('product'), db.all('category'), db.all('setting'), db.all('document_prefix'),
    ]);
    // A store row of a setting overrides the global row with the same key.
    const setting = (key) => (settings.find((s) => s.key === key && s.store_id !== null)
        ?? settings.find((s) => s.key === key))?.value;
    return {
        products,
        categories,
        money: moneyFormat(setting('currency') ?? 'EUR', setting('locale')),
        storeName: setting('store_name') ?? setting('company_name'),
        receiptPrefix: prefixes.find((p) => p.document_type === 'receipt'),
    };
}

/// Runs `task` now, or once more after the running call when asked meanwhile.
function coalesced(task) {
    let running = null;
    let again = false;
    const run = async () => {
        if (running) {
            again = true;
            return running;
        }
        running = (async () => {
            do {
                again = false;
                try {
                    await task();
                } catch (error) {
                    console.warn('incsync: screen refresh failed', error); // never up to the cashier
                }
            } while (again);
        })();
        await running;
        running = null;
    };
    return run;
}

/// The one global: read-only state for tests and for a look in devtools.
function exposeForTests(db, engine) {
    window.incsyncDebug = Object.freeze({
        dbName: db.name,
        get status() { return engine.status; },
        get syncStates() { return Object.fromEntries(engine.syncStates); },
    });
}
