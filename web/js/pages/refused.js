// #/refused: the controller ids refused at the door (a wrong or missing
// TargetToken, an unknown id in token mode, a wrong GatewayToken, a
// certificate naming another device), the newest first, each with its
// reasons, attempts, times and address; ?unknown=1 only the ids that are
// no device.  The server keeps device_auth.refused_max rows in all.
import {h, add, replace, empty, fmtTime, fmtAge, toDate} from '../dom.js';
import {get, qs} from '../api.js';
import {deviceHref} from './devices.js';

const LIMIT = 50;

// "3 s ago" (fmtAge says "just now" under 10 s: a refusal says its seconds).
function agoText(t) {
	const d = toDate(t);
	if (!d) return 'never';
	const sec = Math.round((Date.now() - d.getTime()) / 1000);
	return sec >= 0 && sec < 10 ? `${sec} s ago` : fmtAge(t);
}

// A time that says how long ago, its date, time and zone on hover.
function ago(t) {
	const d = toDate(t);
	return h('time', {class: 'age', title: fmtTime(t), datetime: d ? d.toISOString() : null}, agoText(t));
}

// "wrong TargetToken, 14 attempts, last 3 s ago".
export function refusedText(r) {
	const n = Number(r.attempts) || 0;
	return h('span', {class: 'refused-text'}, `${r.reason || r.reason_code}, ${n} attempt${n === 1 ? '' : 's'}, last `, ago(r.last_at));
}

export default async function render(ctx) {
	let offset = Math.max(0, Number(ctx.query.get('offset')) || 0);
	let unknown = ctx.query.get('unknown') === '1';
	let total = 0;
	const body = h('div', {id: 'refused'});
	const info = h('span', {class: 'page-info'});
	const prev = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(-1)}, '‹ Newer');
	const next = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => go(1)}, 'Older ›');
	const onlyUnknown = h('input', {type: 'checkbox', id: 'refused-unknown', checked: unknown});
	const countEl = h('span', {class: 'muted title-count', id: 'refused-count'});

	add(ctx.el,
		h('a', {class: 'back', href: '#/devices'}, '‹ Devices'),
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Refused requests'), countEl)),
		h('p', {class: 'muted small'}, 'Devices the DDI API turned away (401), per controller id, the newest first: a wrong or missing TargetToken, an unknown id in token mode, a wrong GatewayToken, a certificate naming another device. Up to 4 reasons per id and device_auth.refused_max rows in all are kept; a device\'s entry is cleared when it is accepted again.'),
		h('div', {class: 'toolbar'},
			h('label', {class: 'check check-inline'}, onlyUnknown, h('span', null, 'Only ids that are no device'))),
		h('div', {class: 'card card-flush'}, body, h('div', {class: 'pager'}, info, h('span', {class: 'spacer'}), prev, next)));

	onlyUnknown.addEventListener('change', () => {
		unknown = onlyUnknown.checked;
		offset = 0;
		sync();
		load();
	});
	const sync = () => ctx.setQuery({offset: offset || '', unknown: unknown ? '1' : ''});
	function go(dir) {
		const n = offset + dir * LIMIT;
		if (n < 0 || n >= total) return;
		offset = n;
		sync();
		load();
	}

	const idCell = (r) => r.known
		? h('a', {class: 'mono', href: deviceHref(r.controller_id)}, r.controller_id)
		: h('span', null, h('span', {class: 'mono'}, r.controller_id), ' ', h('span', {class: 'badge badge-muted'}, 'no device'));
	// The id's other reasons, each with its count.
	const others = (r) => {
		const rest = (r.reasons || []).filter((x) => x.reason_code !== r.reason_code);
		if (!rest.length) return null;
		return h('ul', {class: 'refused-others'}, rest.map((x) => h('li', {class: 'muted small', dataset: {reason: x.reason_code}},
			`${x.reason || x.reason_code}: ${x.attempts} attempt${x.attempts === 1 ? '' : 's'}, last `, ago(x.last_at))));
	};

	async function load() {
		let r;
		try {
			r = await get('/api/v1/refused' + qs({limit: LIMIT, offset, unknown: unknown ? 1 : ''}));
		} catch (e) {
			replace(body, h('div', {class: 'inline-error', role: 'alert'}, 'Could not load the refused requests: ' + e.detail));
			return;
		}
		const rows = r.refused || [];
		total = r.total || 0;
		countEl.textContent = String(total);
		info.textContent = total ? `${offset + 1}–${offset + rows.length} of ${total}` : '0 ids';
		prev.disabled = offset <= 0;
		next.disabled = offset + LIMIT >= total;
		if (!rows.length) {
			replace(body, empty(unknown ? 'No unknown id has been refused.' : 'No request has been refused since the devices were last accepted.'));
			return;
		}
		replace(body, h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact', id: 'refused-table'},
			h('thead', null, h('tr', null, ['Controller id', 'Reason', 'Attempts', 'Last', 'First', 'Address'].map((x) => h('th', null, x)))),
			h('tbody', null, rows.map((x) => h('tr', {dataset: {id: x.controller_id, reason: x.reason_code, known: String(!!x.known)}},
				h('td', null, idCell(x)),
				h('td', null, h('span', {class: 'refused-reason'}, x.reason || x.reason_code), others(x)),
				h('td', {class: 'num'}, String(x.attempts)),
				h('td', {class: 'nowrap'}, ago(x.last_at), h('div', {class: 'muted small'}, fmtTime(x.last_at))),
				h('td', {class: 'nowrap muted small'}, fmtTime(x.first_at)),
				h('td', {class: 'mono'}, x.address || '—')))))));
	}
	replace(body, empty('Loading…'));
	await load();
	ctx.every(5000, () => load());
}
