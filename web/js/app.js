// Falconet dashboard: the shell (header, navigation, summary strip), the
// hash router and the session.
import {h, s, clear, replace, icon} from './dom.js';
import {get, post, setCsrf, onUnauthorized} from './api.js';
import {session} from './session.js';
import {toast, toastError} from './ui.js';

const ROUTES = [
	{name: 'login', re: /^login$/, load: () => import('./pages/login.js'), bare: true, public: true},
	{name: 'setup', re: /^setup$/, load: () => import('./pages/setup.js'), bare: true, public: true},
	{name: 'devices', re: /^devices$/, load: () => import('./pages/devices.js'), perm: 'device.read', nav: 'Devices'},
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

// Change the query of the current route without re-rendering the page.
function setQuery(params) {
	const {path} = parseHash();
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v !== null && v !== undefined && v !== '') u.set(k, String(v));
	}
	const q = u.toString();
	history.replaceState(null, '', '#/' + path + (q ? '?' + q : ''));
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
					await fn();
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

async function loadMe() {
	try {
		const me = await get('/api/v1/me', {auth401: false});
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
		if (!(await loadMe())) {
			if (seq !== routeSeq) return;
			const next = location.hash;
			location.replace('#/login' + (next && !/^#\/(login|setup)/.test(next) ? '?next=' + encodeURIComponent(next) : ''));
			return;
		}
		if (seq !== routeSeq) return;
	}
	if (pageScope) pageScope.destroy();
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
		refreshSummary: () => refreshSummary(),
		firstAllowedPage,
	};
	try {
		await mod.default(ctx);
	} catch (e) {
		if (e && e.status === 401) return;
		mount.appendChild(h('div', {class: 'card error-card'}, h('p', null, 'Error: ' + (e && e.detail ? e.detail : e))));
	}
}

// ---- the shell ------------------------------------------------------------

function logo() {
	return s('svg', {class: 'logo', viewBox: '0 0 32 32', 'aria-hidden': 'true'},
		s('path', {class: 'logo-bg', d: 'M4 6a4 4 0 0 1 4-4h16a4 4 0 0 1 4 4v20a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4z'}),
		s('path', {class: 'logo-fg', d: 'M9 21c3-8 8-12 15-13-4 3-6 6-7 10 2-1 4-1 6 0-5 1-9 3-14 3z'}));
}

function ensureShell() {
	if (shell) return;
	const nav = h('nav', {class: 'nav', 'aria-label': 'Main'});
	const burger = h('button', {type: 'button', class: 'btn btn-ghost btn-icon burger', 'aria-label': 'Menu', 'aria-expanded': 'false'}, icon('menu'));
	themeButton = h('button', {type: 'button', class: 'btn btn-ghost btn-icon', id: 'theme-toggle', onclick: toggleTheme});
	updateThemeButton();
	const logout = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', id: 'logout', title: 'Log out', onclick: doLogout}, icon('logout'), h('span', {class: 'hide-sm'}, 'Log out'));
	const readOnly = !['device.write', 'device.delete', 'software.write', 'software.delete', 'rollout.write', 'rollout.delete', 'users.write'].some((p) => session.can(p));
	const who = h('a', {class: 'whoami', href: '#/users', title: readOnly ? 'Your account (read-only)' : 'Your account'}, icon('user'),
		readOnly ? h('span', {class: 'badge badge-muted', id: 'readonly-badge'}, 'read-only') : null,
		h('span', {class: 'username'}, session.user ? session.user.username : ''));
	const header = h('header', {class: 'topbar'},
		h('a', {class: 'brand', href: '#/devices'}, logo(), h('span', null, 'Falconet')),
		burger,
		h('div', {class: 'topbar-menu'}, nav, h('div', {class: 'topbar-right'}, who, themeButton, logout)));
	burger.addEventListener('click', () => {
		const open = header.classList.toggle('open');
		burger.setAttribute('aria-expanded', String(open));
	});
	nav.addEventListener('click', (ev) => {
		if (ev.target.closest('a')) header.classList.remove('open');
	});
	const summary = h('section', {class: 'summary', 'aria-label': 'Summary'});
	const main = h('main', {class: 'content', id: 'content'});
	replace(document.getElementById('app'), header, summary, main);
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
}

function updateNav(name) {
	for (const a of shell.nav.querySelectorAll('a')) {
		if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	shell.who.lastChild.textContent = session.user ? session.user.username : '';
}

async function doLogout() {
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
	const chart = h('div', {class: 'chart', 'aria-label': 'Updates over the last 14 days'});
	replace(shell.summary,
		h('div', {class: 'stats'}, total.el, online.el, updating.el, failed.el),
		h('div', {class: 'chart-box'},
			h('div', {class: 'chart-title'}, 'Updates, last 14 days',
				h('span', {class: 'legend'}, h('i', {class: 'sw sw-ok'}), 'succeeded', h('i', {class: 'sw sw-bad'}), 'failed')),
			chart));
	summaryEls = {total, online, updating, failed, chart};
}

async function refreshSummary() {
	if (!shell || !summaryEls) return;
	let st;
	try {
		st = await get('/api/v1/stats');
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
	renderChart(summaryEls.chart, st.updates || []);
}

function renderChart(el, days) {
	// The server sends the last 14 days (UTC), oldest first, zeros
	// included; without data, 14 empty local days.
	let slots = days.slice(-14);
	if (!slots.length) {
		const today = new Date();
		for (let i = 13; i >= 0; i--) {
			const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
			slots.push({day: d.toISOString().slice(0, 10), succeeded: 0, failed: 0});
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
		const g = s('g', null, s('title', null, `${d.day}: ${ok} succeeded, ${bad} failed`));
		g.appendChild(s('rect', {class: 'bar-bg', x, y: 0, width: 10, height: H}));
		if (ok) g.appendChild(s('rect', {class: 'bar-ok', x, y: H - hOk, width: 10, height: hOk}));
		if (bad) g.appendChild(s('rect', {class: 'bar-bad', x, y: H - hOk - hBad, width: 10, height: hBad}));
		svg.appendChild(g);
	});
	const total = slots.reduce((a, d) => a + (d.succeeded || 0) + (d.failed || 0), 0);
	svg.setAttribute('aria-label', `${total} updates in 14 days`);
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
			toast('Your session has ended; please log in again.', 'info');
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
	window.addEventListener('hashchange', route);
	let needed = false;
	try {
		needed = !!(await get('/api/v1/setup', {auth401: false})).needed;
	} catch {
		needed = false;
	}
	const {path} = parseHash();
	if (needed) {
		if (path !== 'setup') {
			location.replace('#/setup');
			return; // hashchange routes
		}
	} else if (path !== 'login' && path !== 'setup') {
		await loadMe();
	}
	route();
}

boot();
