// Falconet dashboard: the shell (header, navigation, summary strip), the
// hash router and the session.
import {h, s, clear, replace, icon, logo, utcTimes, setUtcTimes} from './dom.js';
import {get, post, setCsrf, onUnauthorized, background} from './api.js';
import {session} from './session.js';
import {toast, toastError, confirmDialog, closeDialogs, saveDrafts, dropDrafts, draftsFor} from './ui.js';

const ROUTES = [
	{name: 'login', re: /^login$/, load: () => import('./pages/login.js'), bare: true, public: true},
	{name: 'setup', re: /^setup$/, load: () => import('./pages/setup.js'), bare: true, public: true},
	{name: 'devices', re: /^devices$/, load: () => import('./pages/devices.js'), perm: 'device.read', nav: 'Devices'},
	{name: 'refused', re: /^refused$/, load: () => import('./pages/refused.js'), perm: 'device.read', navAs: 'devices'},
	{name: 'device', re: /^devices\/(.+)$/, load: () => import('./pages/device.js'), perm: 'device.read', navAs: 'devices'},
	{name: 'software', re: /^software$/, load: () => import('./pages/software.js'), perm: 'software.read', nav: 'Software'},
	{name: 'rollouts', re: /^rollouts$/, load: () => import('./pages/rollouts.js'), perm: 'rollout.read', nav: 'Rollouts'},
	{name: 'users', re: /^users$/, load: () => import('./pages/users.js'), nav: 'Users & tokens'},
	{name: 'audit', re: /^audit$/, load: () => import('./pages/audit.js'), perm: 'audit.read', nav: 'Audit log'},
	{name: 'settings', re: /^settings$/, load: () => import('./pages/settings.js'), perm: 'settings.read', nav: 'Settings'},
];

// ---- theme --------------------------------------------------------------

const THEME_KEY = 'falconet.theme';

function effectiveTheme() {
	const t = document.documentElement.dataset.theme;
	if (t === 'light' || t === 'dark') return t;
	return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function applyTheme() {
	let t = null;
	try {
		t = localStorage.getItem(THEME_KEY);
	} catch {
		t = null;
	}
	if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
	else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
	const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
	try {
		localStorage.setItem(THEME_KEY, next);
	} catch {
		// private mode: just for this page
	}
	document.documentElement.dataset.theme = next;
	updateThemeButton();
}

let themeButton = null;

function updateThemeButton() {
	if (!themeButton) return;
	const dark = effectiveTheme() === 'dark';
	replace(themeButton, icon(dark ? 'sun' : 'moon'));
	themeButton.title = dark ? 'Switch to the light theme' : 'Switch to the dark theme';
	themeButton.setAttribute('aria-label', themeButton.title);
}

// ---- routing --------------------------------------------------------------

function parseHash() {
	let raw = location.hash.replace(/^#\/?/, '');
	let query = '';
	const q = raw.indexOf('?');
	if (q >= 0) {
		query = raw.slice(q + 1);
		raw = raw.slice(0, q);
	}
	return {path: raw.replace(/\/+$/, ''), query: new URLSearchParams(query)};
}

export function navigate(hash) {
	if (location.hash === hash) route();
	else location.hash = hash;
}

// Leave guards: a page with work under way (an upload) registers one, a
// function returning why leaving would lose it, or null.  Leaving then
// asks first: a link or Back is undone until the operator confirms, a
// reload or a closed tab gets the browser's own question (beforeunload).
const leaveGuards = new Set();
let shownHash = location.hash;

function leaveReason() {
	for (const g of leaveGuards) {
		const why = g();
		if (why) return why;
	}
	return null;
}

// Resolves true when the page may be left (nothing under way, or the
// operator said so).
async function confirmLeave() {
	const why = leaveReason();
	if (!why) return true;
	return confirmDialog({title: 'Leave this page?', message: why, confirm: 'Leave the page', danger: true});
}

let guarding = false;
async function onHashChange() {
	if (guarding) return;
	const target = location.hash;
	if (target !== shownHash && leaveReason()) {
		// Show the page's address again while asking.
		history.replaceState(null, '', shownHash || '#/');
		guarding = true;
		const ok = await confirmLeave();
		guarding = false;
		if (!ok) return;
		leaveGuards.clear();
		history.pushState(null, '', target);
	}
	route();
}

window.addEventListener('beforeunload', (e) => {
	if (leaveReason()) {
		e.preventDefault();
		e.returnValue = '';
	}
});

// Change the query of the current route without re-rendering the page.
function setQuery(params) {
	const {path} = parseHash();
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v !== null && v !== undefined && v !== '') u.set(k, String(v));
	}
	const q = u.toString();
	history.replaceState(null, '', '#/' + path + (q ? '?' + q : ''));
	shownHash = location.hash;
}

function firstAllowedPage() {
	for (const r of ROUTES) {
		if (r.nav && (!r.perm || session.can(r.perm))) return '#/' + r.name;
	}
	return '#/users';
}

// Pollers: run now and every `ms` while the tab is visible; stopped when the
// page changes.
class Scope {
	constructor() {
		this.cleanups = [];
		this.pollers = [];
		this.dead = false;
	}

	every(ms, fn) {
		const p = {ms, fn, timer: null, running: false};
		const tick = async () => {
			p.timer = null;
			if (this.dead) return;
			if (document.hidden) return; // resumed by visibilitychange
			if (!p.running) {
				p.running = true;
				try {
					// The pollers' requests are not the operator's doing.
					await background(fn);
				} catch (e) {
					// errors are shown by the pages; keep polling
				} finally {
					p.running = false;
				}
			}
			if (!this.dead && !document.hidden && !p.timer) p.timer = setTimeout(tick, p.ms);
		};
		p.tick = tick;
		this.pollers.push(p);
		p.timer = setTimeout(tick, ms);
		return () => {
			clearTimeout(p.timer);
			this.pollers = this.pollers.filter((x) => x !== p);
		};
	}

	resume() {
		for (const p of this.pollers) {
			if (!p.timer) p.tick();
		}
	}

	pause() {
		for (const p of this.pollers) {
			clearTimeout(p.timer);
			p.timer = null;
		}
	}

	onCleanup(fn) {
		this.cleanups.push(fn);
	}

	destroy() {
		this.dead = true;
		this.pause();
		for (const f of this.cleanups.splice(0)) {
			try {
				f();
			} catch {
				// ignore
			}
		}
	}
}

let pageScope = null;
let shellScope = null;
let shell = null;
let routeSeq = 0;

// The session and what the shell needs (user, permissions, CSRF token,
// version), in one request that index.html preloads: a plain fetch, so
// that the browser can answer it with the preloaded response.
let meTried = false;
async function loadMe() {
	meTried = true;
	try {
		const res = await fetch('/api/v1/me', {credentials: 'same-origin'});
		if (!res.ok) throw new Error(String(res.status));
		const me = await res.json();
		session.user = me;
		setCsrf(me.csrf_token);
		return true;
	} catch (e) {
		session.user = null;
		return false;
	}
}

async function route() {
	const seq = ++routeSeq;
	const {path, query} = parseHash();
	// Dialogs belong to the page that opened them.
	closeDialogs();
	shownHash = location.hash;
	if (!path) {
		location.replace(session.user ? firstAllowedPage() : '#/login');
		return;
	}
	let r = null;
	let m = null;
	for (const cand of ROUTES) {
		m = cand.re.exec(path);
		if (m) {
			r = cand;
			break;
		}
	}
	if (!r) {
		location.replace(session.user ? firstAllowedPage() : '#/login');
		return;
	}
	if (!r.public && !session.user) {
		const had = meTried;
		meTried = false;
		if (had || !(await loadMe())) {
			if (seq !== routeSeq) return;
			const next = location.hash;
			location.replace('#/login' + (next && !/^#\/(login|setup)/.test(next) ? '?next=' + encodeURIComponent(next) : ''));
			return;
		}
		if (seq !== routeSeq) return;
	}
	if (pageScope) pageScope.destroy();
	leaveGuards.clear();
	pageScope = new Scope();
	const scope = pageScope;

	let mount;
	if (r.bare) {
		destroyShell();
		mount = replace(document.getElementById('app'), h('main', {class: 'bare'}));
		mount = mount.firstChild;
	} else {
		const fresh = !shell;
		ensureShell();
		updateNav(r.navAs || r.name);
		if (!fresh) refreshSummary();
		mount = clear(shell.main);
		window.scrollTo(0, 0);
	}
	document.title = (r.nav || (r.name === 'device' ? 'Device' : r.name[0].toUpperCase() + r.name.slice(1))) + ' · Falconet';

	if (r.perm && !session.can(r.perm)) {
		mount.appendChild(h('div', {class: 'card forbidden'},
			h('h1', null, 'Not allowed'),
			h('p', null, `Your account lacks the permission "${r.perm}" needed for this page.`)));
		return;
	}
	let mod;
	try {
		mod = await r.load();
	} catch (e) {
		mount.appendChild(h('div', {class: 'card'}, h('p', null, 'This page failed to load: ' + e)));
		return;
	}
	if (seq !== routeSeq) return;
	const ctx = {
		el: mount,
		params: m.slice(1).map((x) => {
			try {
				return decodeURIComponent(x);
			} catch {
				return x;
			}
		}),
		query,
		scope,
		navigate,
		setQuery,
		every: (ms, fn) => scope.every(ms, fn),
		onCleanup: (fn) => scope.onCleanup(fn),
		// guardLeave(() => reason or null): ask before leaving this page.
		guardLeave: (fn) => {
			leaveGuards.add(fn);
			scope.onCleanup(() => leaveGuards.delete(fn));
		},
		refreshSummary: () => refreshSummary(),
		firstAllowedPage,
	};
	try {
		await mod.default(ctx);
	} catch (e) {
		if (e && e.status === 401) return;
		mount.appendChild(h('div', {class: 'card error-card'}, h('p', null, 'Error: ' + (e && e.detail ? e.detail : e))));
	}
	if (seq === routeSeq && !r.public) {
		const kept = draftsFor(location.hash);
		if (kept.length) toast(`What you typed in "${kept.join('", "')}" is kept: open it again to go on.`, 'info', {title: 'Unsaved form'});
	}
}

// ---- the shell ------------------------------------------------------------

let utcButton = null;

function updateUtcButton() {
	if (!utcButton) return;
	const on = utcTimes();
	utcButton.setAttribute('aria-pressed', String(on));
	utcButton.title = on ? 'Times are in UTC; show them in your browser\'s zone' : 'Times are in your browser\'s zone; show them in UTC';
	utcButton.lastChild.textContent = on ? 'UTC' : 'Local time';
}

function toggleUtc() {
	setUtcTimes(!utcTimes());
	updateUtcButton();
	if (summaryEls && lastStats) renderChart(summaryEls.chart, lastStats.updates || []);
	// Redraw the page with the times in the other zone.
	route();
}

function ensureShell() {
	if (shell) return;
	const nav = h('nav', {class: 'nav', 'aria-label': 'Main'});
	const burger = h('button', {type: 'button', class: 'btn btn-ghost btn-icon burger', 'aria-label': 'Menu', 'aria-expanded': 'false'}, icon('menu'));
	themeButton = h('button', {type: 'button', class: 'btn btn-ghost btn-icon', id: 'theme-toggle', onclick: toggleTheme});
	updateThemeButton();
	utcButton = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', id: 'utc-toggle', onclick: toggleUtc}, icon('clock'), h('span', null, ''));
	updateUtcButton();
	const logout = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', id: 'logout', title: 'Log out', onclick: doLogout}, icon('logout'), h('span', {class: 'hide-sm'}, 'Log out'));
	const readOnly = !['device.write', 'device.delete', 'software.write', 'software.delete', 'rollout.write', 'rollout.delete', 'users.write'].some((p) => session.can(p));
	const who = h('a', {class: 'whoami', href: '#/users', title: readOnly ? 'Your account (read-only)' : 'Your account'}, icon('user'),
		readOnly ? h('span', {class: 'badge badge-muted', id: 'readonly-badge'}, 'read-only') : null,
		h('span', {class: 'username'}, session.user ? session.user.username : ''));
	const header = h('header', {class: 'topbar'},
		h('a', {class: 'brand', href: '#/devices'}, logo(), h('span', null, 'Falconet')),
		burger,
		h('div', {class: 'topbar-menu'}, nav, h('div', {class: 'topbar-right'}, who, utcButton, themeButton, logout)));
	burger.addEventListener('click', () => {
		const open = header.classList.toggle('open');
		burger.setAttribute('aria-expanded', String(open));
	});
	nav.addEventListener('click', (ev) => {
		if (ev.target.closest('a')) header.classList.remove('open');
	});
	const summary = h('section', {class: 'summary', 'aria-label': 'Summary'});
	const main = h('main', {class: 'content', id: 'content'});
	const me = session.user || {};
	const version = h('span', {id: 'version'}, 'Falconet' + (me.version ? ' ' + me.version : ''));
	const footer = h('footer', {class: 'footer', id: 'footer'},
		version,
		h('span', {'aria-hidden': 'true'}, ' · '),
		h('a', {href: me.api_document || '/api/v1/openapi.json', id: 'api-doc', target: '_blank', rel: 'noopener'}, 'API document (OpenAPI)'));
	// The login's answer names the user, not the version: ask once.
	if (!me.version) {
		get('/api/v1/me', {background: true}).then((m) => {
			if (session.user && m) Object.assign(session.user, {version: m.version, api_document: m.api_document});
			version.textContent = 'Falconet ' + m.version;
		}).catch(() => {});
	}
	replace(document.getElementById('app'), header, summary, main, footer);
	shell = {header, nav, summary, main, who};
	for (const r of ROUTES) {
		if (!r.nav) continue;
		if (r.perm && !session.can(r.perm)) continue;
		nav.appendChild(h('a', {href: '#/' + r.name, dataset: {route: r.name}}, r.nav));
	}
	shellScope = new Scope();
	renderSummarySkeleton();
	refreshSummary();
	shellScope.every(3000, refreshSummary);
}

function destroyShell() {
	if (shellScope) shellScope.destroy();
	shellScope = null;
	shell = null;
	themeButton = null;
	utcButton = null;
}

function updateNav(name) {
	for (const a of shell.nav.querySelectorAll('a')) {
		if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	shell.who.lastChild.textContent = session.user ? session.user.username : '';
}

async function doLogout() {
	if (!(await confirmLeave())) return;
	leaveGuards.clear();
	dropDrafts();
	try {
		await post('/api/v1/logout', undefined, {auth401: false});
	} catch (e) {
		if (e.status !== 401) toastError(e, 'Logout failed');
	}
	session.user = null;
	setCsrf(null);
	navigate('#/login');
	toast('You are logged out.', 'ok');
}

// ---- summary strip --------------------------------------------------------

let summaryEls = null;

function stat(label, key, href, kind) {
	const value = h('span', {class: 'stat-value', dataset: {stat: key}}, '–');
	const el = h(href ? 'a' : 'div', {class: `stat stat-${kind || 'plain'}`, href: href || null},
		h('span', {class: 'stat-label'}, label), value);
	return {el, value};
}

function renderSummarySkeleton() {
	const total = stat('Devices', 'total', '#/devices');
	const online = stat('Online', 'online', null, 'ok');
	const updating = stat('Updating', 'updating', '#/devices?state=updating', 'accent');
	const failed = stat('Failed', 'failed', '#/devices?state=failed', 'bad');
	const chart = h('div', {class: 'chart'});
	replace(shell.summary,
		h('div', {class: 'stats'}, total.el, online.el, updating.el, failed.el),
		h('div', {class: 'chart-box'},
			// The server counts by UTC day: the title says so.
			h('div', {class: 'chart-title'}, 'Updates, last 14 days ', h('span', {class: 'muted small', id: 'chart-zone'}, '(UTC days)'),
				h('span', {class: 'legend'}, h('i', {class: 'sw sw-ok'}), 'succeeded', h('i', {class: 'sw sw-bad'}), 'failed')),
			chart));
	summaryEls = {total, online, updating, failed, chart};
}

let lastStats = null;

async function refreshSummary() {
	if (!shell || !summaryEls) return;
	let st;
	try {
		st = await get('/api/v1/stats', {background: true});
	} catch (e) {
		if (e.status === 403) shell.summary.hidden = true;
		return;
	}
	if (!shell) return;
	shell.summary.hidden = false;
	const d = st.devices || {};
	for (const k of ['total', 'online', 'updating', 'failed']) {
		summaryEls[k].value.textContent = d[k] === undefined ? '–' : String(d[k]);
	}
	summaryEls.failed.el.classList.toggle('stat-alert', (d.failed || 0) > 0);
	lastStats = st;
	renderChart(summaryEls.chart, st.updates || []);
}

function renderChart(el, days) {
	// The server sends the last 14 days (UTC), oldest first, zeros
	// included; without data, the 14 empty UTC days up to today.
	let slots = days.slice(-14);
	if (!slots.length) {
		const now = Date.now();
		for (let i = 13; i >= 0; i--) {
			slots.push({day: new Date(now - i * 86400000).toISOString().slice(0, 10), succeeded: 0, failed: 0});
		}
	}
	const W = slots.length * 12;
	const H = 44;
	const max = Math.max(1, ...slots.map((d) => (d.succeeded || 0) + (d.failed || 0)));
	const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', preserveAspectRatio: 'none', role: 'img'});
	slots.forEach((d, i) => {
		const ok = d.succeeded || 0;
		const bad = d.failed || 0;
		const x = i * 12 + 1;
		const hOk = (ok / max) * (H - 4);
		const hBad = (bad / max) * (H - 4);
		const g = s('g', null, s('title', null, `${d.day} (UTC day): ${ok} succeeded, ${bad} failed`));
		g.appendChild(s('rect', {class: 'bar-bg', x, y: 0, width: 10, height: H}));
		if (ok) g.appendChild(s('rect', {class: 'bar-ok', x, y: H - hOk, width: 10, height: hOk}));
		if (bad) g.appendChild(s('rect', {class: 'bar-bad', x, y: H - hOk - hBad, width: 10, height: hBad}));
		svg.appendChild(g);
	});
	const total = slots.reduce((a, d) => a + (d.succeeded || 0) + (d.failed || 0), 0);
	svg.setAttribute('aria-label', `${total} updates in the last 14 days (UTC days)`);
	replace(el, svg);
}

// ---- boot -----------------------------------------------------------------

async function boot() {
	applyTheme();
	window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', updateThemeButton);
	onUnauthorized(() => {
		if (!session.user) return;
		session.user = null;
		setCsrf(null);
		const {path} = parseHash();
		if (path !== 'login' && path !== 'setup') {
			// What is typed in an open dialog comes back after the login.
			const kept = saveDrafts();
			toast('Your session has ended; please log in again.' + (kept ? ' What you typed is kept.' : ''), 'info');
			leaveGuards.clear();
			location.hash = '#/login?next=' + encodeURIComponent(location.hash);
		}
	});
	document.addEventListener('visibilitychange', () => {
		for (const sc of [pageScope, shellScope]) {
			if (!sc) continue;
			if (document.hidden) sc.pause();
			else sc.resume();
		}
	});
	window.addEventListener('hashchange', onHashChange);
	// Read the session on every page, the login page too: this takes the
	// response index.html preloaded, which a later fetch of /api/v1/me
	// would otherwise be answered with, however old.  A session means a
	// user exists: set-up is asked about only without one.
	const {path} = parseHash();
	const haveSession = await loadMe();
	if (haveSession && path !== 'login' && path !== 'setup') {
		route();
		return;
	}
	let needed = false;
	try {
		needed = !!(await get('/api/v1/setup', {auth401: false})).needed;
	} catch {
		needed = false;
	}
	if (needed && path !== 'setup') {
		location.replace('#/setup');
		return; // hashchange routes
	}
	route();
}

boot();
