// #/audit: who did what, newest first, paged; filtered by user, action
// and time (kept in the address, so a filtered view can be linked).
import {h, add, replace, badge, age, fmtTime, empty, debounce, utcTimes, zoneName} from '../dom.js';
import {get, qs} from '../api.js';

const LIMIT = 50;

// The action families of the audit names (device.update -> device).
const FAMILIES = ['action', 'artifact', 'config', 'device', 'distribution', 'filter', 'login', 'logout', 'module',
	'password', 'rollout', 'settings', 'setup', 'software', 'target', 'token', 'user'];

function statusBadge(s) {
	const n = Number(s);
	if (!Number.isNaN(n) && String(s).match(/^\d+$/)) return badge(String(s), n < 300 ? 'ok' : n < 500 ? 'warn' : 'bad');
	return badge(String(s === undefined || s === null ? '—' : s), /^(ok|success|succeeded)$/i.test(String(s)) ? 'ok' : /fail|denied|error|forbidden/i.test(String(s)) ? 'bad' : 'muted');
}

// A folded entry (failed requests without credentials, one entry per
// action, status, address and minute): how many, until when.
function folded(e) {
	if (!(Number(e.count) > 1)) return null;
	return h('span', {class: 'muted small audit-count', title: e.last_at ? 'until ' + fmtTime(e.last_at) : ''}, ' ×' + e.count);
}

// What an entry acted on: the target, and the device of an action.
function target(e) {
	const t = e.target === null || e.target === undefined ? '' : String(e.target);
	if (e.device) {
		return [h('span', {class: 'mono'}, 'action ' + t), ' on ',
			h('a', {class: 'mono audit-device', href: '#/devices/' + encodeURIComponent(e.device)}, e.device)];
	}
	return h('span', {class: 'mono'}, t);
}

// <input type="datetime-local"> value <-> Unix seconds, in the zone the
// times are shown in.
function toInput(sec) {
	if (!sec) return '';
	const d = new Date(sec * 1000);
	const pad = (n) => String(n).padStart(2, '0');
	return utcTimes()
		? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
		: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromInput(v) {
	if (!v) return 0;
	const t = utcTimes() ? Date.parse(v + 'Z') : new Date(v).getTime();
	return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export default async function render(ctx) {
	let offset = Math.max(0, Number(ctx.query.get('offset')) || 0);
	let total = 0;
	const f = {
		user: ctx.query.get('user') || '',
		action: ctx.query.get('action') || '',
		since: Math.max(0, Number(ctx.query.get('since')) || 0),
		until: Math.max(0, Number(ctx.query.get('until')) || 0),
	};
	const body = h('div', {id: 'audit'});
	const info = h('span', {class: 'page-info'});
	const prev = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(-1)}, '‹ Newer');
	const next = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(1)}, 'Older ›');

	const users = h('datalist', {id: 'audit-users'});
	const actions = h('datalist', {id: 'audit-actions'}, FAMILIES.map((x) => h('option', {value: x})));
	const user = h('input', {type: 'search', class: 'input', id: 'audit-user', list: 'audit-users', placeholder: 'Any user', value: f.user, autocomplete: 'off'});
	const action = h('input', {type: 'search', class: 'input', id: 'audit-action', list: 'audit-actions', placeholder: 'Any action (device, device.update…)', value: f.action, autocomplete: 'off'});
	const since = h('input', {type: 'datetime-local', class: 'input input-auto', id: 'audit-since', value: toInput(f.since)});
	const until = h('input', {type: 'datetime-local', class: 'input input-auto', id: 'audit-until', value: toInput(f.until)});
	const reset = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', id: 'audit-reset', onclick: () => {
		user.value = action.value = since.value = until.value = '';
		apply();
	}}, 'Clear filters');
	const lab = (text, input) => h('label', {class: 'field field-inline'}, h('span', {class: 'field-label'}, text), input);

	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Audit log'), h('span', {class: 'muted title-count', id: 'audit-count'}))),
		h('p', {class: 'muted small'}, 'Every change made through the API or this dashboard, by user and address. Failed requests without credentials are counted, one entry per action, address and minute.'),
		h('form', {class: 'toolbar audit-filters', id: 'audit-filters', role: 'search', onsubmit: (e) => {
			e.preventDefault();
			apply();
		}},
		lab('User', user), lab('Action', action),
		lab(`From (${zoneName()})`, since), lab(`Until (${zoneName()})`, until), reset, users, actions),
		h('div', {class: 'card card-flush'}, body, h('div', {class: 'pager'}, info, h('span', {class: 'spacer'}), prev, next)));

	function apply() {
		f.user = user.value.trim();
		f.action = action.value.trim();
		f.since = fromInput(since.value);
		f.until = fromInput(until.value);
		offset = 0;
		ctx.setQuery({offset: '', user: f.user, action: f.action, since: f.since || '', until: f.until || ''});
		load();
	}
	const later = debounce(apply, 300);
	user.addEventListener('input', later);
	action.addEventListener('input', later);
	since.addEventListener('change', apply);
	until.addEventListener('change', apply);

	function go(dir) {
		const n = offset + dir * LIMIT;
		if (n < 0 || n >= total) return;
		offset = n;
		ctx.setQuery({offset: offset || '', user: f.user, action: f.action, since: f.since || '', until: f.until || ''});
		load();
	}

	const seenUsers = new Set();
	async function load() {
		let r;
		try {
			r = await get('/api/v1/audit' + qs({limit: LIMIT, offset, user: f.user, action: f.action, since: f.since || '', until: f.until || ''}));
		} catch (e) {
			replace(body, h('div', {class: 'inline-error'}, 'Could not load the audit log: ' + e.detail));
			return;
		}
		const es = r.entries || [];
		total = r.total !== undefined ? r.total : es.length;
		const cnt = document.getElementById('audit-count');
		if (cnt) cnt.textContent = String(total);
		info.textContent = total ? `${offset + 1}–${offset + es.length} of ${total}` : '0 entries';
		prev.disabled = offset <= 0;
		next.disabled = offset + LIMIT >= total;
		for (const e of es) {
			if (e.user && !seenUsers.has(e.user)) {
				seenUsers.add(e.user);
				users.appendChild(h('option', {value: e.user}));
			}
		}
		if (!es.length) {
			replace(body, empty(f.user || f.action || f.since || f.until ? 'No entry matches the filters.' : 'No entries yet.'));
			return;
		}
		// Focusable, so that a keyboard scrolls it when it is wider than a
		// phone (axe: scrollable-region-focusable).
		replace(body, h('div', {class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Audit log entries'}, h('table', {class: 'table table-compact', id: 'audit-table'},
			h('thead', null, h('tr', null, ['Time', 'User', 'Address', 'Action', 'Target', 'Status'].map((x) => h('th', null, x)))),
			h('tbody', null, es.map((e) => h('tr', null,
				h('td', {class: 'nowrap'}, fmtTime(e.at), ' ', h('span', {class: 'muted small'}, age(e.at))),
				h('td', null, e.user || h('span', {class: 'muted'}, '—')),
				h('td', {class: 'mono'}, e.address || ''),
				h('td', {class: 'mono'}, e.action || ''),
				h('td', {class: 'audit-target'}, target(e)),
				h('td', null, statusBadge(e.status), folded(e))))))));
	}
	replace(body, empty('Loading…'));
	await load();
	ctx.every(10000, () => (offset === 0 ? load() : null));
}
