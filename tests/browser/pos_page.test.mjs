#!/usr/bin/env node
// Browser test of the web POS page (examples/web/) against incsync-pos-server.
//
//   node tests/browser/pos_page.test.mjs --server build/release/examples/incsync-pos-server \
//        --web-root examples/web --artifacts build/release/tests/browser-artifacts
//
// CTest runs it as `browser_pos_page` (Meson as `browser_pos_page` too);
// scripts/install-deps.sh installs Debian's chromium and this folder's npm
// package (playwright-core, which drives /usr/bin/chromium: nothing is
// downloaded; pinned at 1.61.1, the newest that still runs on Debian 12's own
// Node 18, which install-deps.sh installs where there is no node). It starts the server on 127.0.0.1 with a SQLite file in a temp
// directory, opens /?token=…&store_id=1&cash_register_id=7 headless, and checks
// the plan's promises:
//   1. the initial sync fills IndexedDB (sync_state for all 12 types) and the
//      grid shows the server's active products of store 1;
//   2. a rename, a delete, a deactivation and an image upload through the
//      admin API show in the page within 2 s, without a reload;
//   3. stopping the server (SIGTERM) turns the badge offline, and the cashier
//      can still ring up a ticket;
//   4. a restart on the same port brings the page back online and up to date
//      (a rename made before it reconnects, another one after);
//   5. Sync Now pulls every type; at the end the IndexedDB product store
//      equals the server's products and no problem indicator shows;
//   6. never a dialog, a toast or a modal.
// Screenshots: pos-page.png and pos-page-offline.png (failure.png on failure),
// with the server's log, in --artifacts.
// Exit status: 0 passed, 1 failed (with the reason), 77 skipped (no
// /usr/bin/chromium, or playwright-core not installed: the message says which).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const SKIP = 77;
const CHROMIUM = '/usr/bin/chromium';
// Flags this machine needs: a closed network, no GPU, no sandbox as root.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ADMIN_TOKEN = 'browser-test-admin';
const REGISTER_TOKEN = 'browser-test-till';
const STORE_ID = 1;
const REGISTER_ID = 7;
const DEMO_PRODUCTS = 60;
const SHOWS_WITHIN_MS = 2_000;     // the bound for a change to reach the page
const SERVER_START_MS = 10_000;
const RECONNECT_WITHIN_MS = 20_000; // the page's backoff is at most a few seconds by then
const WHOLE_TEST_MS = 90_000;

class TestFailure extends Error {}
class SkipTest extends Error {}

const options = parseOptions();
const cleanup = []; // undone in reverse order by finish()
// Should the script die some other way, the server must not outlive it.
const lastResort = [];
process.on('exit', () => lastResort.forEach((undo) => undo()));
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => finish(1, `browser_pos_page: interrupted by ${signal}`));
}
let failed = false;

async function main() {
    const watchdog = setTimeout(() => {
        failed = true;
        finish(1, `browser_pos_page: FAILED: the test took longer than ${WHOLE_TEST_MS / 1000} s`);
    }, WHOLE_TEST_MS);
    const started = Date.now();
    try {
        const playwright = await loadPlaywright();
        await run(playwright);
        clearTimeout(watchdog);
        await finish(0, `browser_pos_page: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
        clearTimeout(watchdog);
        if (error instanceof SkipTest) return finish(SKIP, `browser_pos_page: SKIPPED: ${error.message}`);
        failed = true;
        const reason = error instanceof TestFailure ? error.message : (error?.stack ?? String(error));
        await finish(1, `browser_pos_page: FAILED: ${reason}`);
    }
}

async function loadPlaywright() {
    if (!fs.existsSync(CHROMIUM)) {
        throw new SkipTest(`${CHROMIUM} is missing (install Debian's chromium: scripts/install-deps.sh does)`);
    }
    try {
        return await import('playwright-core');
    } catch {
        throw new SkipTest('playwright-core is not installed (run: npm ci --prefix tests/browser, '
            + 'or scripts/install-deps.sh)');
    }
}

async function run({ chromium }) {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'incsync-browser-'));
    const removeTemp = () => fs.rmSync(temp, { recursive: true, force: true });
    cleanup.push(removeTemp);
    lastResort.push(removeTemp);
    fs.mkdirSync(options.artifacts, { recursive: true });
    fs.rmSync(path.join(options.artifacts, 'failure.png'), { force: true }); // an earlier run's

    const server = new PosServer(options.server, options.webRoot, path.join(temp, 'pos.sqlite3'));
    cleanup.push(() => server.kill());
    lastResort.unshift(() => server.kill());
    cleanup.push(() => fs.writeFileSync(path.join(options.artifacts, 'server.log'), server.log()));
    await server.start();
    const admin = new AdminApi(server);

    // The signals are this script's to handle: it cleans up, then exits.
    const browser = await chromium.launch({
        executablePath: CHROMIUM, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
    });
    cleanup.push(() => browser.close().catch(() => {}));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const watch = watchPage(page);
    cleanup.push(async () => {
        if (failed) await page.screenshot({ path: path.join(options.artifacts, 'failure.png') }).catch(() => {});
        fs.writeFileSync(path.join(options.artifacts, 'console.log'), watch.console.join('\n'));
    });

    step('open the page signed in through its URL');
    await page.goto(`${server.url}/?token=${REGISTER_TOKEN}&store_id=${STORE_ID}&cash_register_id=${REGISTER_ID}`);
    await checkInitialSync(page, admin);
    await page.screenshot({ path: path.join(options.artifacts, 'pos-page.png') });

    await checkLiveChanges(page, admin);

    step('stop the server: the page goes offline, silently, and keeps working');
    await server.stop();
    await waitFor(page, 'the badge to turn offline', 5_000,
        () => document.querySelector('[data-testid=online-badge]')?.dataset.state === 'offline');
    await ringUpTicket(page);
    await page.screenshot({ path: path.join(options.artifacts, 'pos-page-offline.png') });
    await checkNothingInterrupts(page, watch);

    step('restart the server on the same port: the page comes back up to date');
    await server.start(server.port);
    const whileAway = await admin.rename(5, 'Renamed While Reconnecting');
    await waitFor(page, 'the badge to turn online again', RECONNECT_WITHIN_MS,
        () => document.querySelector('[data-testid=online-badge]')?.dataset.state === 'online');
    await waitForName(page, whileAway.id, whileAway.name, SHOWS_WITHIN_MS);
    const afterRestart = await admin.rename(6, 'Renamed After Restart');
    await waitForName(page, afterRestart.id, afterRestart.name, SHOWS_WITHIN_MS);

    step('Sync Now, then compare the replica with the server');
    const pagesBefore = await page.evaluate(() => window.incsyncDebug.status.pages);
    await page.click('[data-testid=sync-now]');
    await waitFor(page, 'Sync Now to pull every type', 5_000, (before) => {
        const { status } = window.incsyncDebug;
        return status.pages >= before + 12 && status.pending.length === 0
            && document.querySelector('[data-testid=pending-count]').dataset.count === '0';
    }, pagesBefore);
    const indicators = await page.$$eval('[data-testid=sync-error], [data-testid=auth-failure]',
        (nodes) => nodes.filter((n) => !n.hidden).map((n) => n.textContent));
    if (indicators.length > 0) throw new TestFailure(`unexpected problem indicators: ${indicators.join(', ')}`);
    await checkReplicaMatches(page, admin);
    await checkNothingInterrupts(page, watch);
    if (watch.loads !== 1) throw new TestFailure(`the page reloaded (${watch.loads} document loads)`);
    await page.screenshot({ path: path.join(options.artifacts, 'pos-page.png') });
}

async function checkInitialSync(page, admin) {
    step('initial sync');
    const active = (await admin.products()).filter((p) => p.is_active);
    if (active.length === 0) throw new TestFailure('the demo catalog has no active products');
    await waitFor(page, 'the initial sync', 15_000, () => window.incsyncDebug?.status.initialSyncDone === true);
    await waitFor(page, `${active.length} product cards`, 5_000,
        (n) => document.querySelectorAll('[data-testid=product-card]').length === n, active.length);
    const shown = await page.$$eval('[data-testid=product-card]',
        (cards) => cards.map((c) => `${c.dataset.productId}:${c.querySelector('.name').textContent}`));
    expectSameSet(shown, active.map((p) => `${p.id}:${p.name}`), 'product cards');

    const states = await readIndexedDb(page, 'sync_state');
    const types = states.map((s) => s.entity_type).sort();
    const expected = ['category', 'document_prefix', 'inventory_config', 'material', 'material_unit_of_measure',
        'product', 'product_unit_of_measure', 'recipe', 'recipe_material', 'setting', 'table', 'unit_of_measure'];
    expectSameSet(types, expected, 'sync_state entity types');
    for (const state of states) {
        if (!state.next_since || !Number.isInteger(state.version) || !state.last_sync_timestamp) {
            throw new TestFailure(`incomplete sync_state record: ${JSON.stringify(state)}`);
        }
    }
    const tables = await readIndexedDb(page, 'table');
    if (tables.length === 0 || tables.some((t) => t.store_id !== STORE_ID)) {
        throw new TestFailure(`the table store should hold store ${STORE_ID}'s tables only: ${JSON.stringify(tables)}`);
    }
    await waitFor(page, 'product images', 10_000, () => [...document.querySelectorAll('[data-testid=product-card] img')]
        .filter((img) => img.complete && img.naturalWidth > 0).length > 0);
}

async function checkLiveChanges(page, admin) {
    step('rename a product through the admin API');
    const renamed = await admin.rename(3, 'Renamed Live');
    await waitForName(page, renamed.id, renamed.name, SHOWS_WITHIN_MS);

    step('delete a product');
    await admin.request('DELETE', '/api/v1/products/4');
    await waitFor(page, 'product 4 to disappear', SHOWS_WITHIN_MS,
        () => !document.querySelector('[data-product-id="4"]'));

    step('deactivate a product');
    await admin.request('PATCH', '/api/v1/products/8', { is_active: false });
    await waitFor(page, 'inactive product 8 to leave the grid', SHOWS_WITHIN_MS,
        () => !document.querySelector('[data-product-id="8"]'));

    step('upload a new image');
    // A solid colour no demo tile has: the page shows the upload when its
    // card's image is that colour.
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="110" height="110">'
        + '<rect width="110" height="110" fill="#e4572e"/></svg>';
    await admin.request('PUT', '/api/v1/products/2/image', svg, 'image/svg+xml');
    const { image_version: version } = await admin.request('GET', '/api/v1/products/2');
    await waitFor(page, `product 2's new image (version ${version})`, SHOWS_WITHIN_MS, (v) => {
        const img = document.querySelector('[data-product-id="2"] img');
        if (img?.dataset.imageVersion !== String(v) || !img.complete || img.naturalWidth === 0) return false;
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 1;
        const context = canvas.getContext('2d');
        context.drawImage(img, img.naturalWidth / 2, img.naturalHeight / 2, 1, 1, 0, 0, 1, 1);
        const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
        return r === 0xe4 && g === 0x57 && b === 0x2e;
    }, version);
}

/// The cashier is never blocked: a product click adds a ticket line offline.
async function ringUpTicket(page) {
    const card = page.locator('[data-testid=product-card]').first();
    const name = await card.locator('.name').textContent();
    await card.click();
    await waitFor(page, 'the ticket line', 2_000,
        (n) => [...document.querySelectorAll('[data-testid=ticket-lines] li')].some((li) => li.textContent.includes(n)),
        name);
}

async function checkNothingInterrupts(page, watch) {
    if (watch.dialogs.length > 0) throw new TestFailure(`the page opened a dialog: ${watch.dialogs.join(' | ')}`);
    const intrusive = await page.evaluate(() => {
        const selectors = 'dialog, [role=dialog], [role=alertdialog], [role=alert], [aria-modal=true], '
            + '[class*=toast], [class*=modal], [class*=snackbar], [class*=overlay], [class*=popup]';
        const visible = (el) => {
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
        };
        const found = [...document.querySelectorAll(selectors)].filter(visible).map((el) => el.outerHTML.slice(0, 120));
        // Nothing may lie over the product grid either, whatever its name.
        const card = document.querySelector('[data-testid=product-card]');
        if (card) {
            const box = card.getBoundingClientRect();
            const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            if (!card.contains(top)) found.push(`something covers the grid: ${top?.outerHTML.slice(0, 120)}`);
        }
        return found;
    });
    if (intrusive.length > 0) throw new TestFailure(`a toast, modal or overlay is showing: ${intrusive.join(' | ')}`);
}

async function checkReplicaMatches(page, admin) {
    const server = (await admin.products()).map((p) => `${p.id}:${p.name}:${p.is_active}:${p.image_version}`);
    const replica = (await readIndexedDb(page, 'product')).map((p) => `${p.id}:${p.name}:${p.is_active}:${p.image_version}`);
    expectSameSet(replica, server, 'IndexedDB products vs the server');
}

/// Reads a whole object store of the page's database, independently of the
/// page's own code.
function readIndexedDb(page, storeName) {
    return page.evaluate(({ storeName }) => new Promise((resolve, reject) => {
        const open = indexedDB.open(window.incsyncDebug.dbName);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const request = open.result.transaction(storeName).objectStore(storeName).getAll();
            request.onsuccess = () => {
                open.result.close();
                resolve(request.result.map(({ blob, ...rest }) => rest));
            };
            request.onerror = () => reject(request.error);
        };
    }), { storeName });
}

function waitForName(page, id, name, timeoutMs) {
    return waitFor(page, `product ${id} to be shown as "${name}"`, timeoutMs,
        ({ id, name }) => document.querySelector(`[data-product-id="${id}"] .name`)?.textContent === name, { id, name });
}

/// Polls `predicate` in the page until it holds; fails naming `what`.
async function waitFor(page, what, timeoutMs, predicate, arg) {
    const started = Date.now();
    try {
        await page.waitForFunction(predicate, arg, { timeout: timeoutMs, polling: 50 });
    } catch (error) {
        if (!/Timeout/i.test(String(error?.message))) throw error;
        const status = await page.evaluate(() => JSON.stringify(window.incsyncDebug?.status)).catch(() => '?');
        throw new TestFailure(`waited ${timeoutMs} ms for ${what}; page status: ${status}`);
    }
    log(`  ${what}: ${Date.now() - started} ms`);
}

function expectSameSet(actual, expected, what) {
    const a = new Set(actual);
    const e = new Set(expected);
    const missing = [...e].filter((x) => !a.has(x));
    const extra = [...a].filter((x) => !e.has(x));
    if (missing.length || extra.length || a.size !== actual.length) {
        throw new TestFailure(`${what} differ: missing ${JSON.stringify(missing.slice(0, 5))}, `
            + `unexpected ${JSON.stringify(extra.slice(0, 5))} (${actual.length} vs ${expected.length})`);
    }
}

/// Records what the page does that the cashier would notice: dialogs and
/// document loads (the page must never reload); and its console, for the log.
function watchPage(page) {
    const watch = { dialogs: [], console: [], loads: 0 };
    page.on('dialog', (dialog) => {
        watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
    });
    page.on('load', () => { watch.loads += 1; });
    page.on('console', (message) => watch.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => watch.console.push(`pageerror: ${error.message}`));
    return watch;
}

/// incsync-pos-server as a child process, restartable on the same port.
class PosServer {
    #process = null;
    #log = [];

    constructor(executable, webRoot, dbFile) {
        this.executable = executable;
        this.webRoot = webRoot;
        this.dbFile = dbFile;
        this.port = 0;
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    log() {
        return this.#log.join('');
    }

    async start(port = 0) {
        const args = ['--host', '127.0.0.1', '--port', String(port), '--db', this.dbFile, '--durability', 'normal',
            '--demo-data', '--demo-products', String(DEMO_PRODUCTS), '--web-root', this.webRoot,
            '--admin-token', ADMIN_TOKEN, '--register-token', `${REGISTER_TOKEN}:${STORE_ID}`,
            '--register-token', 'browser-test-other-store:2', '--rate-limit', '0'];
        const child = spawn(this.executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        this.#process = child;
        child.stderr.on('data', (chunk) => this.#log.push(chunk.toString()));
        this.port = await new Promise((resolve, reject) => {
            let stdout = '';
            const timer = setTimeout(() => reject(new TestFailure(
                `the server did not print "listening on" within ${SERVER_START_MS} ms:\n${stdout}${this.log()}`)), SERVER_START_MS);
            child.stdout.on('data', (chunk) => {
                stdout += chunk.toString();
                const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
                if (match) {
                    clearTimeout(timer);
                    resolve(Number(match[1]));
                }
            });
            child.on('error', (error) => {
                clearTimeout(timer);
                reject(new TestFailure(`cannot start ${this.executable}: ${error.message}`));
            });
            child.on('exit', (code, signal) => {
                clearTimeout(timer);
                reject(new TestFailure(`the server exited at start (${signal ?? code}):\n${stdout}${this.log()}`));
            });
        });
        log(`  server listening on ${this.url}`);
    }

    /// SIGTERM, as an operator would; SIGKILL if it does not stop in 5 s.
    async stop() {
        const child = this.#process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        this.#process = null;
    }

    kill() {
        if (this.#process && this.#process.exitCode === null) this.#process.kill('SIGKILL');
        this.#process = null;
    }
}

/// The admin side: the console's writes (PROTOCOL.md §4).
class AdminApi {
    constructor(server) {
        this.server = server;
    }

    async request(method, pathname, body, contentType = 'application/json') {
        const response = await fetch(`${this.server.url}${pathname}`, {
            method,
            headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': contentType },
            body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
        });
        const text = await response.text();
        if (!response.ok) throw new TestFailure(`${method} ${pathname}: ${response.status} ${text}`);
        return text ? JSON.parse(text) : null;
    }

    products() {
        return this.request('GET', '/api/v1/products');
    }

    rename(id, name) {
        return this.request('PATCH', `/api/v1/products/${id}`, { name });
    }
}

function parseOptions() {
    try {
        const { values } = parseArgs({
            options: { server: { type: 'string' }, 'web-root': { type: 'string' }, artifacts: { type: 'string' } },
        });
        if (!values.server || !values['web-root'] || !values.artifacts) throw new Error('missing option');
        return { server: path.resolve(values.server), webRoot: path.resolve(values['web-root']), artifacts: path.resolve(values.artifacts) };
    } catch (error) {
        console.error(`usage: pos_page.test.mjs --server PATH --web-root DIR --artifacts DIR (${error.message})`);
        process.exit(2);
    }
}

function step(text) {
    log(`- ${text}`);
}

function log(text) {
    console.log(text);
}

/// Every exit path: stop the server and the browser, remove the temp dir.
/// The first call decides the outcome (a signal stops the run, which then
/// fails on the closed browser: that second call must not speak).
let finishing = null;
function finish(code, message) {
    finishing ??= (async () => {
        for (const undo of cleanup.reverse()) {
            try {
                await undo();
            } catch {
                // keep cleaning
            }
        }
        (code === 0 || code === SKIP ? console.log : console.error)(message);
        process.exit(code);
    })();
    return finishing;
}

main();
