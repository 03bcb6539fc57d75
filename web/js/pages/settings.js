// #/settings: the runtime system configuration (hawkBit's system/configs
// keys, editable with settings.write) above the effective settings of the
// settings file, read-only, secrets masked by the server.
import {h, add, replace, empty, debounce, fmtTime} from '../dom.js';
import {get, patch} from '../api.js';
import {session} from '../session.js';
import {toast} from '../ui.js';

const CONFIG_HINTS = {
	pollingTime: 'HH:MM:SS, how often an idle device polls',
	pollingOverdueTime: 'HH:MM:SS, how late a device may be before it counts as overdue',
	'authentication.targettoken.enabled': 'accept TargetToken',
	'authentication.gatewaytoken.enabled': 'accept GatewayToken',
	'authentication.gatewaytoken.key': 'the GatewayToken (empty or 16 to 255 characters)',
	'authentication.header.enabled': 'accept certificates checked by a proxy in proxy.cert_trusted',
	'authentication.header.authority': 'trusted issuer hashes, separated by , or ;',
	maintenanceWindowPollCount: 'polls before a maintenance window opens (1 to 100)',
};

// The input for one key's value.
function configInput(key, c) {
	const id = 'cfg-' + key.replace(/\./g, '-');
	if (c.type === 'bool') {
		const sel = h('select', {class: 'input', id, 'aria-label': key},
			h('option', {value: 'true'}, 'true'), h('option', {value: 'false'}, 'false'));
		sel.value = String(c.value);
		return [sel, () => sel.value === 'true'];
	}
	const inp = h('input', {class: 'input mono', id, 'aria-label': key, type: c.type === 'int' ? 'number' : 'text', value: String(c.value)});
	return [inp, () => (c.type === 'int' ? Number(inp.value) : inp.value)];
}

function configRow(key, c, canWrite, reload, errEl) {
	const origin = c.global ? h('span', {class: 'muted small'}, 'settings file')
		: h('span', {class: 'small'}, 'set by ' + c.updated_by + ', ' + fmtTime(c.updated_at));
	if (!canWrite) {
		return h('tr', null, h('td', {class: 'mono setting-key', title: CONFIG_HINTS[key] || ''}, key),
			h('td', {class: 'mono setting-value'}, fmt(c.value)), h('td', null, origin), h('td'));
	}
	const [input, read] = configInput(key, c);
	const send = async (body, what) => {
		replace(errEl);
		try {
			await patch('/api/v1/system/configs', body);
			toast(key + ' ' + what, 'success');
			reload();
		} catch (e) {
			replace(errEl, h('div', {class: 'inline-error', id: 'config-error'}, e.detail || String(e)));
		}
	};
	const save = h('button', {class: 'btn btn-sm', type: 'button'}, 'Save');
	save.addEventListener('click', () => send({[key]: read()}, 'saved'));
	const buttons = [save];
	if (!c.global) {
		const reset = h('button', {class: 'btn btn-sm btn-ghost', type: 'button', title: 'Back to the settings file\'s value'}, 'Reset');
		reset.addEventListener('click', () => send({[key]: null}, 'reset'));
		buttons.push(reset);
	}
	return h('tr', {'data-key': key}, h('td', {class: 'mono setting-key', title: CONFIG_HINTS[key] || ''}, key),
		h('td', {class: 'setting-value'}, input), h('td', null, origin), h('td', {class: 'nowrap'}, ...buttons));
}

// The runtime configuration card: values, where each comes from, and a
// small form per key for those who may change them.
async function renderConfigs(el) {
	const canWrite = session.can('settings.write');
	const errEl = h('div');
	const load = async () => {
		let r;
		try {
			r = await get('/api/v1/system/configs');
		} catch (e) {
			replace(el, h('div', {class: 'inline-error'}, 'Could not load the system configuration: ' + e.detail));
			return;
		}
		const tbody = h('tbody');
		for (const [k, c] of Object.entries(r.configs || {})) tbody.appendChild(configRow(k, c, canWrite, load, errEl));
		replace(el, errEl, h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact', id: 'configs-table'},
			h('thead', null, h('tr', null, h('th', null, 'Key'), h('th', null, 'Value'), h('th', null, 'From'), h('th', null, h('span', {class: 'visually-hidden'}, 'Actions')))), tbody)));
	};
	await load();
}

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
	const configs = h('div', {id: 'configs'});
	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Settings'))),
		h('h2', null, 'System configuration'),
		h('p', {class: 'muted small'}, 'hawkBit\'s system configuration keys, also under /rest/v1/system/configs. A value set here is stored and wins over the settings file until it is reset; devices see it on their next request.' +
			(session.can('settings.write') ? '' : ' Changing them needs settings.write.')),
		h('div', {class: 'card card-flush'}, configs),
		h('h2', null, 'Settings file'),
		h('p', {class: 'muted small'}, 'The effective settings of this server (settings file and defaults), read-only. Change them in the settings file and restart falconet. Secrets are masked.'),
		h('div', {class: 'toolbar'}, filter),
		h('div', {class: 'card card-flush'}, body));
	await renderConfigs(configs);
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
