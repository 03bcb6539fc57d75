// #/audit: who did what, newest first, paged.
import {h, add, replace, badge, age, fmtTime, empty} from '../dom.js';
import {get, qs} from '../api.js';

const LIMIT = 50;

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

export default async function render(ctx) {
	let offset = Math.max(0, Number(ctx.query.get('offset')) || 0);
	let total = 0;
	const body = h('div', {id: 'audit'});
	const info = h('span', {class: 'page-info'});
	const prev = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(-1)}, '‹ Newer');
	const next = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(1)}, 'Older ›');
	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Audit log'), h('span', {class: 'muted title-count', id: 'audit-count'}))),
		h('p', {class: 'muted small'}, 'Every change made through the API or this dashboard, by user and address. Failed requests without credentials are counted, one entry per action, address and minute.'),
		h('div', {class: 'card card-flush'}, body, h('div', {class: 'pager'}, info, h('span', {class: 'spacer'}), prev, next)));

	function go(dir) {
		const n = offset + dir * LIMIT;
		if (n < 0 || n >= total) return;
		offset = n;
		ctx.setQuery({offset: offset || ''});
		load();
	}

	async function load() {
		let r;
		try {
			r = await get('/api/v1/audit' + qs({limit: LIMIT, offset}));
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
		if (!es.length) {
			replace(body, empty('No entries yet.'));
			return;
		}
		replace(body, h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact', id: 'audit-table'},
			h('thead', null, h('tr', null, ['Time', 'User', 'Address', 'Action', 'Target', 'Status'].map((x) => h('th', null, x)))),
			h('tbody', null, es.map((e) => h('tr', null,
				h('td', {class: 'nowrap'}, fmtTime(e.at), ' ', h('span', {class: 'muted small'}, age(e.at))),
				h('td', null, e.user || h('span', {class: 'muted'}, '—')),
				h('td', {class: 'mono'}, e.address || ''),
				h('td', {class: 'mono'}, e.action || ''),
				h('td', {class: 'mono audit-target'}, e.target === null || e.target === undefined ? '' : String(e.target)),
				h('td', null, statusBadge(e.status), folded(e))))))));
	}
	replace(body, empty('Loading…'));
	await load();
	ctx.every(10000, () => (offset === 0 ? load() : null));
}
