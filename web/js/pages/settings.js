// #/settings: the effective settings, read-only, secrets masked by the
// server.
import {h, add, replace, empty, debounce} from '../dom.js';
import {get} from '../api.js';

function fmt(v) {
	if (v === null || v === undefined) return h('span', {class: 'muted'}, '(none)');
	if (typeof v === 'boolean') return h('span', {class: 'val-bool'}, String(v));
	if (typeof v === 'number') return h('span', {class: 'val-num'}, String(v));
	if (typeof v === 'string') return v === '' ? h('span', {class: 'muted'}, '""') : v === '********' ? h('span', {class: 'val-secret', title: 'secret, not shown'}, v) : v;
	if (Array.isArray(v) && !v.length) return h('span', {class: 'muted'}, '[]');
	return JSON.stringify(v);
}

// Nested objects flatten to dotted keys.
function flatten(obj, prefix, out) {
	for (const [k, v] of Object.entries(obj)) {
		const key = prefix ? prefix + '.' + k : k;
		if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
		else out.push([key, v]);
	}
	return out;
}

export default async function render(ctx) {
	const filter = h('input', {type: 'search', class: 'input', id: 'settings-filter', placeholder: 'Filter keys…', 'aria-label': 'Filter settings'});
	const body = h('div', {id: 'settings'});
	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Settings'))),
		h('p', {class: 'muted small'}, 'The effective settings of this server (settings file and defaults), read-only. Change them in the settings file and restart falconet. Secrets are masked.'),
		h('div', {class: 'toolbar'}, filter),
		h('div', {class: 'card card-flush'}, body));
	let rows = [];
	try {
		const r = await get('/api/v1/settings');
		// Top-level keys first (as "general"), then each section.
		const grp = (k) => (k.includes('.') ? k.split('.')[0] : '');
		rows = flatten(r.settings || {}, '', []).sort((a, b) => grp(a[0]).localeCompare(grp(b[0])) || a[0].localeCompare(b[0]));
	} catch (e) {
		replace(body, h('div', {class: 'inline-error'}, 'Could not load the settings: ' + e.detail));
		return;
	}
	const draw = () => {
		const f = filter.value.trim().toLowerCase();
		const shown = rows.filter(([k, v]) => !f || k.toLowerCase().includes(f) || String(v).toLowerCase().includes(f));
		if (!shown.length) {
			replace(body, empty('No setting matches.'));
			return;
		}
		const groups = new Map();
		for (const [k, v] of shown) {
			const g = k.includes('.') ? k.split('.')[0] : '';
			if (!groups.has(g)) groups.set(g, []);
			groups.get(g).push([k, v]);
		}
		const tbody = h('tbody');
		for (const [g, items] of groups) {
			tbody.appendChild(h('tr', {class: 'group-row'}, h('th', {colspan: '2'}, g || 'general')));
			for (const [k, v] of items) tbody.appendChild(h('tr', null, h('td', {class: 'mono setting-key'}, k), h('td', {class: 'mono setting-value'}, fmt(v))));
		}
		replace(body, h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact', id: 'settings-table'},
			h('thead', null, h('tr', null, h('th', null, 'Key'), h('th', null, 'Value'))), tbody)));
	};
	filter.addEventListener('input', debounce(draw, 150));
	draw();
}
