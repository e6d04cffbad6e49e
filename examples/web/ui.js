// The POS screen: product grid, ticket, bottom bar and sync side panel. It
// only renders what it is given and reports clicks; it never opens a dialog,
// a toast or an overlay: sync problems live in the bottom bar and the panel.

import { ENTITY_NAMES } from './entities.js';

const $ = (id) => document.getElementById(id);

/// Money from integer minor units, in the store's currency and locale.
export function moneyFormat(currency = 'EUR', locale = undefined) {
    let format;
    try {
        format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
        format = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' });
    }
    const digits = format.resolvedOptions().maximumFractionDigits;
    return (minorUnits) => format.format(minorUnits / 10 ** digits);
}

function timeOfDay(iso) {
    if (!iso) return '';
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
}

export class LoginForm {
    #form = $('login-form');

    /// Shows the form, prefilled; `onSubmit({ token, storeId, registerId })`.
    show(prefill, message, onSubmit) {
        $('login').hidden = false;
        $('pos').hidden = true;
        this.#form.elements.token.value = prefill?.token ?? '';
        this.#form.elements.store_id.value = prefill?.storeId ?? '';
        this.#form.elements.cash_register_id.value = prefill?.registerId ?? '';
        this.message(message ?? '');
        this.#form.onsubmit = (event) => {
            event.preventDefault();
            const fields = this.#form.elements;
            onSubmit({
                token: fields.token.value.trim(),
                storeId: fields.store_id.value.trim(),
                registerId: fields.cash_register_id.value.trim(),
            });
        };
        const fields = this.#form.elements;
        const firstEmpty = [fields.token, fields.store_id, fields.cash_register_id].find((f) => !f.value);
        (firstEmpty ?? fields.token).focus();
    }

    message(text) {
        this.#form.querySelector('.form-message').textContent = text;
    }

    busy(isBusy) {
        this.#form.querySelector('button[type=submit]').disabled = isBusy;
    }
}

/// The product grid with category chips. Cards are kept by product id and
/// updated in place, so a sync never rebuilds what the cashier looks at.
export class Catalog {
    #grid = $('product-grid');
    #chips = $('category-chips');
    #cards = new Map(); // product id -> card element
    #category = null;   // the chosen category id, null: all
    #products = [];
    #categories = [];
    #money = moneyFormat();
    #images;
    #onPick;

    constructor(images, onPick) {
        this.#images = images;
        this.#onPick = onPick;
        this.#grid.addEventListener('click', (event) => {
            const card = event.target.closest('[data-product-id]');
            const product = card && this.#products.find((p) => p.id === Number(card.dataset.productId));
            if (product) this.#onPick(product);
        });
        this.#chips.addEventListener('click', (event) => {
            const chip = event.target.closest('[data-category-id]');
            if (!chip) return;
            this.#category = chip.dataset.categoryId === '' ? null : Number(chip.dataset.categoryId);
            this.#render();
        });
    }

    show({ products, categories, money }) {
        this.#products = products.filter((p) => p.is_active);
        this.#categories = categories;
        this.#money = money;
        this.#render();
    }

    /// Until the first sync completes an empty grid means "not here yet".
    setLoading(loading) {
        $('grid-empty').textContent = loading ? 'Loading the catalog…' : 'No products to show.';
    }

    /// A product's image arrived or changed.
    updateImage(productId) {
        const card = this.#cards.get(productId);
        if (card) this.#fillImage(card, productId);
    }

    #render() {
        const used = new Set(this.#products.map((p) => p.category_id));
        const categories = this.#categories.filter((c) => used.has(c.id)).sort((a, b) => a.id - b.id);
        if (this.#category !== null && !used.has(this.#category)) this.#category = null;
        this.#renderChips(categories);

        const order = new Map(categories.map((c, i) => [c.id, i]));
        const visible = this.#products
            .filter((p) => this.#category === null || p.category_id === this.#category)
            .sort((a, b) => (order.get(a.category_id) ?? 1e9) - (order.get(b.category_id) ?? 1e9)
                || a.name.localeCompare(b.name) || a.id - b.id);
        const cards = visible.map((p) => this.#card(p));
        this.#forgetCardsExcept(new Set(this.#products.map((p) => p.id)));
        if (!sameChildren(this.#grid, cards)) this.#grid.replaceChildren(...cards);
        $('grid-empty').hidden = cards.length > 0;
    }

    #renderChips(categories) {
        const chips = [{ id: '', name: 'All' }, ...categories].map(({ id, name }) => {
            const chip = element('button', 'chip', name);
            chip.type = 'button';
            chip.dataset.categoryId = id;
            chip.setAttribute('aria-pressed', String((this.#category ?? '') === id));
            return chip;
        });
        this.#chips.replaceChildren(...chips);
    }

    #card(product) {
        let card = this.#cards.get(product.id);
        if (!card) {
            card = element('button', 'card');
            card.type = 'button';
            card.dataset.productId = product.id;
            card.dataset.testid = 'product-card';
            card.append(element('span', 'thumb'), element('span', 'name'), element('span', 'price'));
            this.#cards.set(product.id, card);
        }
        setText(card.querySelector('.name'), product.name);
        setText(card.querySelector('.price'), this.#money(product.price_cents));
        card.title = product.sku ? `${product.name} (${product.sku})` : product.name;
        this.#fillImage(card, product.id, product.name);
        return card;
    }

    #fillImage(card, productId, name) {
        const thumb = card.querySelector('.thumb');
        const url = this.#images.urlFor(productId);
        if (!url) {
            if (name !== undefined) thumb.dataset.initial = name.trim().charAt(0).toUpperCase();
            return;
        }
        let img = thumb.querySelector('img');
        if (!img) {
            img = element('img');
            img.alt = '';
            img.decoding = 'async';
            thumb.replaceChildren(img);
        }
        if (img.getAttribute('src') !== url) img.src = url;
        img.dataset.imageVersion = this.#images.versionFor(productId);
    }

    #forgetCardsExcept(ids) {
        for (const id of this.#cards.keys()) if (!ids.has(id)) this.#cards.delete(id);
    }
}

function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
}

function sameChildren(parent, nodes) {
    if (parent.children.length !== nodes.length) return false;
    return nodes.every((node, i) => parent.children[i] === node);
}

/// The cashier's ticket. Lines keep the name and price they were rung up
/// with: a price change synced mid-sale does not alter the ticket.
export class Ticket {
    #lines = new Map(); // product id -> { name, unitCents, quantity }
    #money = moneyFormat();
    #receipt = null;    // { prefix, number } from the store's document prefixes

    constructor() {
        $('ticket-clear').onclick = () => this.#clear('');
        $('ticket-pay').onclick = () => this.#pay();
        $('ticket-lines').addEventListener('click', (event) => {
            const button = event.target.closest('[data-remove]');
            if (button) this.#remove(Number(button.dataset.remove));
        });
        this.#render();
    }

    configure({ money, receiptPrefix }) {
        this.#money = money;
        if (receiptPrefix && this.#receipt?.prefix !== receiptPrefix.prefix) {
            this.#receipt = { prefix: receiptPrefix.prefix, number: receiptPrefix.next_number };
        }
        this.#render();
    }

    add(product) {
        const line = this.#lines.get(product.id)
            ?? { name: product.name, unitCents: product.price_cents, quantity: 0 };
        line.quantity += 1;
        this.#lines.set(product.id, line);
        $('ticket-note').textContent = '';
        this.#render();
    }

    #remove(productId) {
        const line = this.#lines.get(productId);
        if (!line) return;
        line.quantity -= 1;
        if (line.quantity <= 0) this.#lines.delete(productId);
        this.#render();
    }

    #pay() {
        if (this.#lines.size === 0) return;
        const total = this.#money(this.#total());
        const receipt = this.#receiptLabel();
        if (this.#receipt) this.#receipt.number += 1;
        this.#clear(`Paid ${total}${receipt ? `, receipt ${receipt}` : ''}.`);
    }

    #clear(note) {
        this.#lines.clear();
        $('ticket-note').textContent = note;
        this.#render();
    }

    #total() {
        let total = 0;
        for (const line of this.#lines.values()) total += line.unitCents * line.quantity;
        return total;
    }

    #receiptLabel() {
        return this.#receipt ? `${this.#receipt.prefix}${this.#receipt.number}` : '';
    }

    #render() {
        const items = [...this.#lines].map(([id, line]) => {
            const item = element('li', 'line');
            const remove = element('button', 'remove', '−');
            remove.type = 'button';
            remove.dataset.remove = id;
            remove.setAttribute('aria-label', `Remove one ${line.name}`);
            item.append(
                element('span', 'qty', `${line.quantity}×`),
                element('span', 'line-name', line.name),
                element('span', 'amount', this.#money(line.unitCents * line.quantity)),
                remove,
            );
            return item;
        });
        $('ticket-lines').replaceChildren(...items);
        $('ticket-empty').hidden = items.length > 0;
        $('ticket-total').textContent = this.#money(this.#total());
        $('ticket-number').textContent = this.#receiptLabel();
        $('ticket-pay').disabled = items.length === 0;
    }
}

/// The plan's bottom bar: online badge, sync error, auth failure, pending
/// count, last sync, Sync Now.
export class BottomBar {
    constructor({ onSyncNow, onShowDetails }) {
        $('sync-now').onclick = onSyncNow;
        $('sync-error').onclick = () => onShowDetails('errors');
        $('auth-failure').onclick = () => onShowDetails('auth');
        $('sync-details').onclick = () => onShowDetails(null);
    }

    show(status) {
        const badge = $('online-badge');
        badge.dataset.state = status.online ? 'online' : 'offline';
        badge.dataset.channel = status.channel ?? '';
        badge.textContent = status.online
            ? `Online · ${status.channel === 'websocket' ? 'WebSocket' : 'long-poll'}`
            : 'Offline';
        badge.title = status.online ? 'Changes arrive as they happen' : (status.offlineReason ?? 'Connecting…');

        const errors = $('sync-error');
        errors.hidden = status.errors.length === 0;
        errors.textContent = `Sync error${status.errors.length > 1 ? ` (${status.errors.length})` : ''}`;

        $('auth-failure').hidden = !status.auth;

        const pending = $('pending-count');
        pending.dataset.count = status.pending.length;
        pending.textContent = status.pending.length > 0 ? `${status.pending.length} pending`
            : status.online && status.initialSyncDone ? 'Up to date' : '';
        pending.title = status.pending.join(', ');

        $('last-sync').textContent = status.lastSyncAt ? `Last sync ${timeOfDay(status.lastSyncAt)}` : 'Not synced yet';
    }
}

/// Details for when the operator has a moment: connection, errors, the
/// re-login form, each type's sync state. A column beside the work.
export class SyncPanel {
    #panel = $('sync-panel');

    constructor({ onRelogin, onLogout }) {
        $('panel-close').onclick = () => this.close();
        $('logout').onclick = onLogout;
        const form = $('relogin-form');
        form.onsubmit = (event) => {
            event.preventDefault();
            const token = form.elements.token.value.trim();
            if (!token) return;
            form.elements.token.value = '';
            onRelogin(token);
        };
    }

    get isOpen() {
        return !this.#panel.hidden;
    }

    /// Opens it; `focus` ('errors' or 'auth') brings that section into view.
    open(focus) {
        if (this.isOpen && !focus) return this.close();
        this.#panel.hidden = false;
        if (focus === 'auth') $('relogin-form').elements.token.focus();
        if (focus === 'errors') $('panel-errors').scrollIntoView({ block: 'nearest' });
    }

    close() {
        this.#panel.hidden = true;
    }

    show(status, syncStates) {
        $('panel-auth').hidden = !status.auth;
        if (status.auth) {
            $('panel-auth-message').textContent =
                `The server refused this register's token (${status.auth.status} ${status.auth.code}: ${status.auth.message}). ` +
                'Sync is paused; the register keeps working with the data it has.';
        }
        $('panel-connection').textContent = connectionText(status);

        $('panel-errors').hidden = status.errors.length === 0;
        $('panel-error-list').replaceChildren(...status.errors.map((e) => {
            const item = element('li');
            item.append(
                element('strong', '', e.entityType),
                element('span', '', ` ${e.status > 0 ? e.status : ''} ${e.code}: ${e.message}`),
                element('time', '', ` ${timeOfDay(e.at)}`),
            );
            return item;
        }));

        $('panel-types').replaceChildren(...ENTITY_NAMES.map((name) => {
            const state = syncStates.get(name);
            const row = element('tr');
            if (status.pending.includes(name)) row.className = 'is-pending';
            row.append(
                element('td', '', name.replaceAll('_', ' ')),
                element('td', 'num', state?.version ?? '—'),
                element('td', '', state ? timeOfDay(state.last_sync_timestamp) : 'never'),
            );
            return row;
        }));
    }
}

function connectionText(status) {
    if (status.auth) return 'Paused until the register signs in again.';
    const rate = status.rateLimitedUntil ? ` The server asked to wait until ${timeOfDay(status.rateLimitedUntil)}.` : '';
    if (!status.online) return `Offline (${status.offlineReason ?? 'connecting'}). Retrying by itself.${rate}`;
    const how = status.channel === 'websocket' ? 'a WebSocket' : 'long-polling (the WebSocket fails)';
    return `Online through ${how}: ${status.notifications} notifications, ${status.pages} pages applied.${rate}`;
}

/// The clock in the top bar.
export function startClock() {
    const tick = () => { $('clock').textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }); };
    tick();
    setInterval(tick, 10_000);
}
