// #/devices: the server-side paged, sorted and filtered device table with
// a selection column and bulk actions (by ids, or by filter for "select
// all N matching"), the target of each device and why, and the devices
// per installed version.  Refreshed every 3 s row by row: an unchanged
// row keeps its DOM nodes, so focus, selection, scroll position and any
// open dialog stay.  Below 600 px the rows are cards (app.css).
import {h, add, clear, replace, icon, age, fmtAge, badge, progressBar, debounce, empty} from '../dom.js';
import {get, post, qs} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';

export const STATES = ['registered', 'idle', 'pending', 'updating', 'canceling', 'in_sync', 'failed', 'canceled'];
export const MODES = ['rollout', 'latest', 'assigned', 'pinned'];
const PAGE_SIZES = [25, 50, 100, 200];

const COLUMNS = [
	{key: 'controller_id', label: 'ID'},
	{key: 'name', label: 'Name'},
	{key: 'hw_model', label: 'Hardware'},
	{key: 'feed', label: 'Feed'},
	{key: 'mode', label: 'Mode'},
	{key: 'installed_version', label: 'Installed'},
	{key: null, label: 'Target'},
	{key: 'state', label: 'State'},
	{key: null, label: 'Progress'},
	{key: 'last_seen', label: 'Last seen'},
];

export function deviceHref(id) {
	return '#/devices/' + encodeURIComponent(id);
}

// The online / overdue / never badge of a device.
export function seenBadge(d) {
	if (!d.last_seen) return badge('never seen', 'muted');
	return d.online ? badge('on time', 'ok') : badge('overdue', 'warn');
}

export function hardware(d) {
	if (!d.hw_model && !d.hw_revision) return h('span', {class: 'muted'}, '—');
	return [d.hw_model || '?', d.hw_revision ? h('span', {class: 'muted'}, ' rev ' + d.hw_revision) : null];
}

function modeCell(d) {
	return h('span', {class: 'mode'},
		h('span', {class: 'mode-name'}, d.mode || '—'),
		d.mode === 'pinned' ? icon('pin', 'icon-sm') : null,
		d.force ? badge('forced', 'warn') : null);
}

function versionCmp(a, b) {
	return String(a || '').localeCompare(String(b || ''), undefined, {numeric: true, sensitivity: 'base'});
}

export async function loadSoftwareOptions() {
	const r = await get('/api/v1/software');
	return (r.software || []).filter((x) => !x.deleted).sort((a, b) => versionCmp(b.version, a.version));
}

// A compatibility entry's revision: "regex" is true when the revision is a
// regular expression (SWUpdate's "#RE:"); a string regex is shown as is.
export function revText(x) {
	if (typeof x.regex === 'string' && x.regex) return '~ ' + x.regex;
	if (x.regex === true) return '~ ' + (x.revision || '');
	return x.revision || '';
}

export function compatText(sw) {
	const c = sw.compatibility || [];
	if (!c.length) return 'any hardware';
	return c.map((x) => `${x.board || 'any board'} ${revText(x)}`.trim()).join(', ');
}

// A distribution set in a <select>: version, name, what it holds and
// where it fits.  Incomplete sets (a mandatory module type missing) can be
// neither assigned nor rolled out: shown, but not selectable.
export function softwareLabel(x) {
	const ms = x.modules || [];
	const arts = ms.reduce((n, m) => n + (m.artifacts || []).length, 0);
	let what = '';
	if (ms.length > 1) what = ` (${ms.length} modules)`;
	else if (arts === 1 && x.filename && x.filename !== x.name) what = ` (${x.filename})`;
	else if (arts > 1) what = ` (${arts} artifacts)`;
	return `${x.version} — ${x.name || x.filename || '#' + x.id}${what} · ${compatText(x)}${x.complete === false ? ' · incomplete' : ''}`;
}

export function softwareOption(x, selected) {
	return h('option', {value: String(x.id), selected: !!selected, disabled: x.complete === false && !selected}, softwareLabel(x));
}

// The target of a device in a few words (the full reason is its title):
// "1.2.0 from rollout #1", "rollout #2 paused", "parked after failure",
// "1.1.0 does not fit", "1.2.0 older than installed".  kind colours it.
export function targetWords(d) {
	const t = d.target;
	if (!t) return d.target_version ? {text: d.target_version, kind: 'plain'} : null;
	const v = t.version || '';
	const from = t.rollout_id ? `from rollout #${t.rollout_id}` : t.source === 'assigned' ? 'assigned' : 'newest that fits';
	switch (t.reason_code) {
	case 'offer':
	case 'updating':
		return {text: `${v} ${from}`, kind: 'accent'};
	case 'up_to_date':
		return {text: `${v} ${from}`, note: 'installed', kind: 'ok'};
	case 'waiting':
		return t.rollout_id && !v ? {text: `rollout #${t.rollout_id} waiting`, kind: 'muted'} : {text: `${v} ${from}`, note: 'waiting', kind: 'muted'};
	case 'rollout_paused':
		return {text: `rollout #${t.rollout_id} paused`, kind: 'warn'};
	case 'rollout_ready':
		return {text: `rollout #${t.rollout_id} not started`, kind: 'muted'};
	case 'parked':
		return {text: 'parked after failure', kind: 'warn'};
	case 'incompatible':
		return {text: v ? `${v} does not fit` : 'does not fit', kind: 'bad'};
	case 'downgrade':
		return {text: v ? `${v} older than installed` : 'older than installed', kind: 'warn'};
	case 'canceled':
		return {text: `${v} canceled`, kind: 'warn'};
	case 'downloaded':
		return {text: `${v} downloaded only`, kind: 'muted'};
	case 'pinned':
		return {text: 'pinned', kind: 'muted'};
	case 'no_assignment':
		return {text: 'nothing assigned', kind: 'muted'};
	case 'no_software':
		return {text: 'no software', kind: 'muted'};
	case 'no_rollout':
		return {text: 'no rollout', kind: 'muted'};
	default:
		return t.reason ? {text: t.reason, kind: 'muted'} : null;
	}
}

function targetCell(d) {
	const w = targetWords(d);
	if (!w) return h('span', {class: 'muted'}, '—');
	return h('span', {class: `target-words target-words-${w.kind}`, title: d.target && d.target.reason ? d.target.reason : null},
		w.text, w.note ? h('span', {class: 'muted'}, ' · ' + w.note) : null);
}

// "refused: wrong TargetToken, 14 attempts, last 3 s ago"
export function refusedText(r) {
	const n = r.attempts || 0;
	return `refused: ${r.reason || r.reason_code}, ${n} attempt${n === 1 ? '' : 's'}, last ${fmtAge(r.last_at)}`;
}

// Why the last update failed, in the words the server found for it.
export function failureText(f) {
	if (!f) return '';
	const code = f.code !== null && f.code !== undefined ? `code ${f.code}${f.code_name ? ' ' + f.code_name : ''}` : '';
	return f.reason || (code ? code : '') || f.message || 'failed';
}

// The device list's text search, as the server matches it (ASCII letters
// in any case, in these fields), to check a device against the filter.
const SEARCHED = ['controller_id', 'name', 'hw_model', 'hw_revision', 'installed_version', 'last_address'];
const lowerAscii = (s) => String(s).replace(/[A-Z]/g, (c) => c.toLowerCase());
function textMatches(d, q) {
	if (!q) return true;
	const n = lowerAscii(q);
	return SEARCHED.some((k) => d[k] && lowerAscii(d[k]).includes(n));
}

// The most devices a bulk change by filter may touch (the server's bound).
const MATCH_MAX = 10000;
const VERSIONS_SHOWN = 12;

export default async function render(ctx) {
	const q = ctx.query;
	const st = {
		q: q.get('q') || '',
		state: q.get('state') || '',
		feed: q.get('feed') || '',
		mode: q.get('mode') || '',
		seen: ['online', 'overdue', 'never'].includes(q.get('seen')) ? q.get('seen') : '',
		refused: q.get('refused') === '1',
		rollout: q.get('rollout') || '',
		// With rollout: its devices in one of its states (README).
		rolloutState: q.get('rollout') ? q.get('rollout_state') || '' : '',
		// Exact installed version, or the set of the newest success (the
		// counts of the version strip and of "on N devices").
		installedVersion: q.get('installed_version') || '',
		installedDs: /^[1-9][0-9]*$/.test(q.get('installed_distribution_id') || '') ? q.get('installed_distribution_id') : '',
		sort: q.get('sort') || 'controller_id',
		order: q.get('order') === 'desc' ? 'desc' : 'asc',
		limit: PAGE_SIZES.includes(Number(q.get('limit'))) ? Number(q.get('limit')) : 25,
		offset: Math.max(0, Number(q.get('offset')) || 0),
		selected: new Set(),
		// Every device the filter matches is selected ("select all N
		// matching"): bulk changes go by filter, with the count shown.
		allMatching: false,
		rows: [],
		total: 0,
		loaded: false,
	};
	const canWrite = session.can('device.write');
	const canDelete = session.can('device.delete');
	// The bulk endpoint needs device.write (and device.delete to delete).
	const canSelect = canWrite;
	const anyFilter = () => !!(st.q || st.state || st.feed || st.mode || st.seen || st.refused || st.rollout || st.installedVersion || st.installedDs);

	// ---- filters
	const search = h('input', {type: 'search', id: 'device-search', class: 'input', placeholder: 'Search id, name, hardware, version, address', value: st.q, 'aria-label': 'Search devices by id, name, hardware, version or address'});
	const stateSel = h('select', {id: 'filter-state', class: 'input', 'aria-label': 'State'},
		h('option', {value: ''}, 'All states'), STATES.map((s) => h('option', {value: s, selected: s === st.state}, s.replace('_', ' '))));
	const feedList = h('datalist', {id: 'feed-list'});
	const feedIn = h('input', {id: 'filter-feed', class: 'input input-sm', placeholder: 'Feed', value: st.feed, list: 'feed-list', 'aria-label': 'Feed'});
	const modeSel = h('select', {id: 'filter-mode', class: 'input', 'aria-label': 'Mode'},
		h('option', {value: ''}, 'All modes'), MODES.map((m) => h('option', {value: m, selected: m === st.mode}, m)));
	const seenSel = h('select', {id: 'filter-seen', class: 'input', 'aria-label': 'Last contact'},
		[['', 'Any contact'], ['online', 'Online'], ['overdue', 'Overdue'], ['never', 'Never seen']].map(([v, l]) =>
			h('option', {value: v, selected: v === st.seen}, l)));
	const refusedCb = h('input', {type: 'checkbox', id: 'filter-refused', checked: st.refused});
	const refusedLabel = h('label', {class: 'filter-check'}, refusedCb, 'Refused');
	const rolloutChip = h('span', {class: 'chips'});
	const clearBtn = h('button', {type: 'button', class: 'btn btn-ghost btn-sm'}, 'Clear filters');

	// ---- devices per installed version (GET /api/v1/stats)
	const versions = h('div', {class: 'version-strip', id: 'version-counts', hidden: true});

	// ---- bulk bar
	const selCount = h('strong', null, '');
	const selText = h('span', null, ' selected');
	const offScreen = h('span', {class: 'bulk-offscreen', id: 'bulk-offscreen', hidden: true});
	const allBtn = h('button', {type: 'button', class: 'btn btn-sm', id: 'select-all-matching', hidden: true, onclick: () => {
		st.allMatching = true;
		renderRows();
	}}, '');
	const bulkBar = h('div', {class: 'bulkbar', id: 'bulkbar', hidden: true},
		h('span', {class: 'bulk-count', 'aria-live': 'polite'}, selCount, selText, offScreen),
		h('button', {type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
			st.selected.clear();
			st.allMatching = false;
			renderRows();
		}}, 'Clear selection'),
		allBtn,
		h('span', {class: 'spacer'}),
		canWrite ? [
			h('button', {type: 'button', class: 'btn btn-sm', dataset: {bulk: 'mode'}, onclick: () => bulkMode()}, 'Mode…'),
			h('button', {type: 'button', class: 'btn btn-sm', dataset: {bulk: 'feed'}, onclick: () => bulkFeed()}, 'Feed…'),
			h('button', {type: 'button', class: 'btn btn-sm', dataset: {bulk: 'assign'}, onclick: () => bulkMode('assigned')}, 'Assign software…'),
			h('button', {type: 'button', class: 'btn btn-sm', dataset: {bulk: 'force'}, onclick: () => bulkForce()}, icon('bolt'), 'Force'),
			h('button', {type: 'button', class: 'btn btn-sm', dataset: {bulk: 'pin'}, onclick: () => bulkPin()}, icon('pin'), 'Pin'),
		] : null,
		canWrite && canDelete ? h('button', {type: 'button', class: 'btn btn-sm btn-danger', dataset: {bulk: 'delete'}, onclick: () => bulkDelete()}, icon('trash'), 'Delete') : null);

	// ---- table
	const headCheck = h('input', {type: 'checkbox', 'aria-label': 'Select all on this page', id: 'select-page'});
	const headRow = h('tr', null, canSelect ? h('th', {class: 'col-check'}, headCheck) : null);
	const sortButtons = [];
	for (const c of COLUMNS) {
		if (!c.key) {
			headRow.appendChild(h('th', null, c.label));
			continue;
		}
		const arrow = h('span', {class: 'sort-arrow', 'aria-hidden': 'true'});
		const th = h('th', {dataset: {sort: c.key}},
			h('button', {type: 'button', class: 'sort', onclick: () => sortBy(c.key)}, c.label, arrow));
		sortButtons.push({key: c.key, th, arrow});
		headRow.appendChild(th);
	}
	const tbody = h('tbody');
	const table = h('table', {class: 'table devices-list', id: 'devices-table'}, h('thead', null, headRow), tbody);
	const scroller = h('div', {class: 'table-scroll'}, table);
	const info = h('span', {class: 'page-info'});
	const prev = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => page(-1)}, '‹ Previous');
	const next = h('button', {type: 'button', class: 'btn btn-sm', onclick: () => page(1)}, 'Next ›');
	const sizeSel = h('select', {class: 'input input-sm', 'aria-label': 'Rows per page'},
		PAGE_SIZES.map((n) => h('option', {value: String(n), selected: n === st.limit}, `${n} per page`)));
	const errBox = h('div', {class: 'inline-error', hidden: true, role: 'alert'});
	const title = h('h1', null, 'Devices');
	const countEl = h('span', {class: 'muted title-count'});

	add(ctx.el,
		h('div', {class: 'page-head'},
			h('div', {class: 'page-title'}, title, countEl),
			h('a', {class: 'btn btn-ghost', id: 'refused-link', href: '#/refused', title: 'Devices and unknown ids turned away at the door'}, 'Refused requests'),
			canWrite ? h('button', {type: 'button', class: 'btn btn-primary', id: 'add-device', onclick: addDevice}, icon('plus'), 'Add device') : null),
		h('div', {class: 'toolbar filters'}, search, stateSel, feedIn, feedList, modeSel, seenSel, refusedLabel, rolloutChip, clearBtn),
		versions,
		canSelect ? bulkBar : null,
		errBox,
		h('div', {class: 'card card-flush'}, scroller,
			h('div', {class: 'pager'}, info, h('span', {class: 'spacer'}), sizeSel, prev, next)));

	function syncUrl() {
		ctx.setQuery({
			q: st.q, state: st.state, feed: st.feed, mode: st.mode, seen: st.seen, refused: st.refused ? '1' : '',
			rollout: st.rollout, rollout_state: st.rolloutState,
			installed_version: st.installedVersion, installed_distribution_id: st.installedDs,
			sort: st.sort !== 'controller_id' ? st.sort : '', order: st.order !== 'asc' ? st.order : '',
			limit: st.limit !== 25 ? st.limit : '', offset: st.offset || '',
		});
	}

	// The list's filters, as GET /api/v1/devices takes them.
	function filterQuery() {
		return {q: st.q, state: st.state, feed: st.feed, mode: st.mode, seen: st.seen, refused: st.refused ? '1' : '',
			rollout: st.rollout, rollout_state: st.rolloutState,
			installed_version: st.installedVersion, installed_distribution_id: st.installedDs};
	}

	// The same as the "match" of a bulk change by filter.
	function filterMatch() {
		const m = {};
		for (const k of ['q', 'state', 'feed', 'mode', 'seen']) if (st[k]) m[k] = st[k];
		if (st.refused) m.refused = true;
		if (st.rollout) m.rollout = Number(st.rollout);
		if (st.rolloutState) m.rollout_state = st.rolloutState;
		if (st.installedVersion) m.installed_version = st.installedVersion;
		if (st.installedDs) m.installed_distribution_id = Number(st.installedDs);
		return m;
	}

	async function filtersChanged() {
		st.offset = 0;
		st.allMatching = false;
		syncUrl();
		await load();
		prune();
	}

	search.addEventListener('input', debounce(() => {
		st.q = search.value.trim();
		filtersChanged();
	}, 300));
	stateSel.addEventListener('change', () => {
		st.state = stateSel.value;
		filtersChanged();
	});
	modeSel.addEventListener('change', () => {
		st.mode = modeSel.value;
		filtersChanged();
	});
	seenSel.addEventListener('change', () => {
		st.seen = seenSel.value;
		filtersChanged();
	});
	refusedCb.addEventListener('change', () => {
		st.refused = refusedCb.checked;
		filtersChanged();
	});
	feedIn.addEventListener('change', () => {
		st.feed = feedIn.value.trim();
		filtersChanged();
	});
	sizeSel.addEventListener('change', () => {
		st.limit = Number(sizeSel.value);
		st.offset = 0;
		syncUrl();
		load();
	});
	clearBtn.addEventListener('click', () => {
		st.q = st.state = st.feed = st.mode = st.seen = st.rollout = st.rolloutState = '';
		st.installedVersion = st.installedDs = '';
		st.refused = false;
		search.value = feedIn.value = '';
		stateSel.value = modeSel.value = seenSel.value = '';
		refusedCb.checked = false;
		renderChips();
		filtersChanged();
	});
	headCheck.addEventListener('change', () => {
		if (!headCheck.checked) st.allMatching = false;
		for (const d of st.rows) {
			if (headCheck.checked) st.selected.add(d.controller_id);
			else st.selected.delete(d.controller_id);
		}
		renderRows();
	});

	function renderChips() {
		clear(rolloutChip);
		if (st.rollout) {
			rolloutChip.appendChild(h('span', {class: 'chip', id: 'rollout-chip'}, `Rollout #${st.rollout}: ${st.rolloutState || 'targeted'}`,
				h('button', {type: 'button', class: 'chip-x', 'aria-label': 'Remove the rollout filter', onclick: () => {
					st.rollout = st.rolloutState = '';
					renderChips();
					filtersChanged();
				}}, icon('x'))));
		}
		if (st.installedVersion || st.installedDs) {
			const what = st.installedVersion ? `Installed ${st.installedVersion}` : `Installed set #${st.installedDs}`;
			rolloutChip.appendChild(h('span', {class: 'chip', id: 'installed-chip'}, what,
				h('button', {type: 'button', class: 'chip-x', 'aria-label': 'Remove the installed filter', onclick: () => {
					st.installedVersion = st.installedDs = '';
					renderChips();
					filtersChanged();
				}}, icon('x'))));
		}
		clearBtn.hidden = !anyFilter();
	}

	function sortBy(key) {
		if (st.sort === key) st.order = st.order === 'asc' ? 'desc' : 'asc';
		else {
			st.sort = key;
			st.order = key === 'last_seen' ? 'desc' : 'asc';
		}
		syncUrl();
		load();
	}

	function page(dir) {
		const n = st.offset + dir * st.limit;
		if (n < 0 || n >= st.total) return;
		st.offset = n;
		syncUrl();
		load();
	}

	function renderHead() {
		for (const b of sortButtons) {
			const on = b.key === st.sort;
			b.th.setAttribute('aria-sort', on ? (st.order === 'asc' ? 'ascending' : 'descending') : 'none');
			b.arrow.textContent = on ? (st.order === 'asc' ? '▲' : '▼') : '';
		}
	}

	const isSelected = (id) => st.allMatching || st.selected.has(id);

	// ---- rows, kept between refreshes: a row is built again only when
	// its device changed; its last contact is updated in place.
	const rowCache = new Map(); // controller id -> {tr, sig, seen, seenTd, cb, d}
	const rowSig = (d) => {
		const {last_seen: _ls, online: _on, ...rest} = d;
		return JSON.stringify(rest);
	};
	const seenSig = (d) => `${d.last_seen}|${d.online}`;

	function seenCell(td, d) {
		clear(td);
		add(td, d.last_seen ? age(d.last_seen) : null, ' ', seenBadge(d));
	}

	function buildRow(d) {
		const id = d.controller_id;
		const cb = h('input', {type: 'checkbox', class: 'row-check', 'aria-label': 'Select ' + id, checked: isSelected(id)});
		const act = d.action;
		const showProgress = act && ['pending', 'updating', 'canceling'].includes(d.state);
		const fail = d.last_failure ? failureText(d.last_failure) : '';
		const seenTd = h('td', {class: 'nowrap col-seen', dataset: {label: 'Last seen'}});
		seenCell(seenTd, d);
		const tr = h('tr', {class: isSelected(id) ? 'selected' : null, dataset: {id}},
			canSelect ? h('td', {class: 'col-check'}, cb) : null,
			h('td', {class: 'mono col-id'}, h('a', {href: deviceHref(id), class: 'device-link'}, id)),
			h('td', {class: 'device-name' + (d.name ? '' : ' cell-empty')}, d.name ? d.name : h('span', {class: 'muted'}, '—')),
			h('td', {class: 'col-hw'}, hardware(d)),
			h('td', {class: 'col-feed'}, d.feed || h('span', {class: 'muted'}, '—')),
			h('td', {class: 'nowrap col-mode'}, modeCell(d)),
			h('td', {class: 'mono col-installed', dataset: {label: 'Installed'}}, d.installed_version || h('span', {class: 'muted'}, '—')),
			h('td', {class: 'col-target', dataset: {label: 'Target'}}, targetCell(d)),
			h('td', {class: 'col-state'}, badge(d.state || 'unknown'),
				d.refused ? h('span', {class: 'badge badge-bad refused-badge', title: refusedText(d.refused)}, 'refused') : null,
				fail ? h('div', {class: 'fail-reason', title: d.last_failure.message || fail}, fail) : null),
			h('td', {class: 'col-progress'}, showProgress ? progressBar(act.progress || 0, {small: true}) : h('span', {class: 'muted'}, '—')),
			seenTd);
		cb.addEventListener('change', () => {
			if (st.allMatching) {
				// Leaving "all matching": what is on this page stays.
				st.allMatching = false;
				for (const r of st.rows) st.selected.add(r.controller_id);
			}
			if (cb.checked) st.selected.add(id);
			else st.selected.delete(id);
			renderRows();
		});
		return {tr, cb, seenTd, sig: rowSig(d), seen: seenSig(d), d};
	}

	// The row of d: the one shown if d did not change (its age and its
	// checkbox brought up to date), else a new one.
	function rowFor(d) {
		const id = d.controller_id;
		let r = rowCache.get(id);
		const sig = rowSig(d);
		if (r && r.sig === sig) {
			if (r.seen !== seenSig(d)) {
				seenCell(r.seenTd, d);
				r.seen = seenSig(d);
			} else if (d.last_seen) {
				const t = r.seenTd.querySelector('time');
				const txt = fmtAge(d.last_seen);
				if (t && t.textContent !== txt) t.textContent = txt;
			}
			r.d = d;
		} else {
			r = buildRow(d);
			rowCache.set(id, r);
		}
		const sel = isSelected(id);
		if (r.cb.checked !== sel) r.cb.checked = sel;
		if (r.tr.classList.contains('selected') !== sel) r.tr.classList.toggle('selected', sel);
		return r.tr;
	}

	const emptyRow = h('tr', {class: 'empty-row'});
	function renderRows() {
		const focused = document.activeElement && tbody.contains(document.activeElement) ? document.activeElement : null;
		const focusTr = focused ? focused.closest('tr') : null;
		const focusId = focusTr ? focusTr.dataset.id : null;
		const focusCls = focused ? focused.className : null;
		const want = [];
		if (!st.rows.length) {
			replace(emptyRow, h('td', {colspan: String(COLUMNS.length + 1)},
				empty(st.loaded ? (anyFilter() ? 'No device matches these filters.' : 'No devices yet. Devices register themselves on their first poll of /DEFAULT/controller/v1/<id>.') : 'Loading…')));
			want.push(emptyRow);
		}
		const ids = new Set();
		for (const d of st.rows) {
			want.push(rowFor(d));
			ids.add(d.controller_id);
		}
		for (const id of [...rowCache.keys()]) if (!ids.has(id)) rowCache.delete(id);
		// Take out the rows that went, then put the others in order,
		// moving only those out of place (a moved row loses its focus).
		const keep = new Set(want);
		for (const c of [...tbody.children]) if (!keep.has(c)) tbody.removeChild(c);
		let cur = tbody.firstChild;
		for (const tr of want) {
			if (cur === tr) {
				cur = cur.nextSibling;
				continue;
			}
			tbody.insertBefore(tr, cur);
		}
		if (focusId && focused && !tbody.contains(focused)) {
			const r = rowCache.get(focusId);
			const el = r && focusCls ? r.tr.getElementsByClassName(focusCls.split(' ')[0])[0] : null;
			if (el) el.focus();
		}
		const from = st.total ? st.offset + 1 : 0;
		const to = Math.min(st.offset + st.rows.length, st.total);
		info.textContent = `${from}–${to} of ${st.total}`;
		countEl.textContent = st.loaded ? String(st.total) : '';
		prev.disabled = st.offset <= 0;
		next.disabled = st.offset + st.limit >= st.total;
		renderBulk();
	}

	function renderBulk() {
		const onPage = st.rows.filter((d) => isSelected(d.controller_id)).length;
		headCheck.checked = onPage > 0 && onPage === st.rows.length;
		headCheck.indeterminate = onPage > 0 && onPage < st.rows.length;
		if (!canSelect) return;
		bulkBar.hidden = !st.allMatching && st.selected.size === 0;
		if (st.allMatching) {
			selCount.textContent = `All ${st.total}`;
			selText.textContent = ` matching device${st.total === 1 ? '' : 's'} selected`;
			offScreen.hidden = true;
			allBtn.hidden = true;
			return;
		}
		selCount.textContent = String(st.selected.size);
		selText.textContent = ' selected';
		const shown = new Set(st.rows.map((d) => d.controller_id));
		const off = [...st.selected].filter((id) => !shown.has(id)).length;
		offScreen.hidden = off === 0;
		offScreen.textContent = off ? ` · ${off} not on screen` : '';
		// Every row of the page is selected and there are more pages.
		allBtn.hidden = !(onPage > 0 && onPage === st.rows.length && st.total > st.rows.length && st.total <= MATCH_MAX);
		allBtn.textContent = `Select all ${st.total} matching`;
	}

	// After a filter change or a bulk change, the selection keeps only
	// the devices the filter still matches: those on screen are known,
	// each other one is looked up (the list, searched for its id).
	let pruneSeq = 0;
	async function prune() {
		const my = ++pruneSeq;
		const shown = new Set(st.rows.map((d) => d.controller_id));
		const off = [...st.selected].filter((id) => !shown.has(id));
		if (!off.length) return;
		const drop = [];
		const f = filterQuery();
		const one = async (id) => {
			let r;
			try {
				r = await get('/api/v1/devices' + qs({...f, q: id, limit: 100}));
			} catch {
				drop.push(id); // unknown: not kept
				return;
			}
			const d = (r.devices || []).find((x) => x.controller_id === id);
			if (!d || !textMatches(d, st.q)) drop.push(id);
		};
		const queue = off.slice();
		await Promise.all([0, 1, 2, 3].map(async () => {
			while (queue.length) await one(queue.shift());
		}));
		if (my !== pruneSeq) return;
		for (const id of drop) st.selected.delete(id);
		renderBulk();
	}

	// ---- devices per installed version
	let versionsOpen = false;
	async function loadVersions() {
		let r;
		try {
			// Counted again every 10 s, not the operator's doing.
			r = await get('/api/v1/stats', {background: true});
		} catch {
			return;
		}
		const list = (r.devices && r.devices.by_version) || [];
		versions.hidden = !list.length;
		const shown = versionsOpen ? list : list.slice(0, VERSIONS_SHOWN);
		replace(versions,
			h('span', {class: 'version-strip-title', id: 'version-counts-title'}, 'Installed versions'),
			h('ul', {class: 'version-list', 'aria-labelledby': 'version-counts-title'},
				shown.map((v) => h('li', {class: 'version-count', dataset: {version: v.version}},
					h('a', {href: '#/devices?installed_version=' + encodeURIComponent(v.version),
						'aria-current': st.installedVersion === v.version ? 'true' : null,
						onclick: (e) => {
							e.preventDefault();
							st.installedVersion = v.version;
							st.installedDs = '';
							renderChips();
							filtersChanged();
						}},
					h('span', {class: 'mono'}, v.version), ' ', h('span', {class: 'version-n'}, String(v.devices)),
					h('span', {class: 'sr-only'}, v.devices === 1 ? ' device' : ' devices'))))),
			list.length > VERSIONS_SHOWN ? h('button', {type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
				versionsOpen = !versionsOpen;
				loadVersions();
			}}, versionsOpen ? 'Fewer' : `${list.length - VERSIONS_SHOWN} more`) : null);
	}

	let seq = 0;
	async function load() {
		const my = ++seq;
		renderHead();
		renderChips();
		try {
			const r = await get('/api/v1/devices' + qs({
				limit: st.limit, offset: st.offset, sort: st.sort, order: st.order, ...filterQuery(),
			}));
			if (my !== seq) return;
			errBox.hidden = true;
			st.rows = r.devices || [];
			st.total = r.total !== undefined ? r.total : st.rows.length;
			st.loaded = true;
			if (st.allMatching && (st.total === 0 || st.total > MATCH_MAX)) st.allMatching = false;
			// Past the end after deletions: go back a page.
			if (!st.rows.length && st.offset > 0 && st.total > 0) {
				st.offset = Math.max(0, Math.floor((st.total - 1) / st.limit) * st.limit);
				syncUrl();
				return load();
			}
			const feeds = new Set([...feedList.children].map((o) => o.value));
			for (const d of st.rows) {
				if (d.feed && !feeds.has(d.feed)) {
					feeds.add(d.feed);
					feedList.appendChild(h('option', {value: d.feed}));
				}
			}
			renderRows();
		} catch (e) {
			if (my !== seq) return;
			errBox.textContent = 'Could not load the devices: ' + e.detail;
			errBox.hidden = false;
			if (!st.loaded) renderRows();
		}
	}

	// ---- bulk actions

	// The selection as a dialog shows it: its ids, or the filter with the
	// count the bar showed when the dialog opened (n), which the server
	// checks (409 if the filter matches another number by then).
	function selection() {
		return st.allMatching ? {n: st.total, by: {match: filterMatch(), expected: st.total}} :
			{n: st.selected.size, by: {ids: [...st.selected]}};
	}

	// Apply body (patch or delete) to the selection sel.
	async function bulk(sel, body, what) {
		const req = {...sel.by, ...body};
		try {
			const r = await post('/api/v1/devices/bulk', req);
			const n = r && r.updated !== undefined ? r.updated : r && r.deleted !== undefined ? r.deleted : sel.n;
			toast(`${what}: ${n} device${n === 1 ? '' : 's'}.`, 'ok');
			if (body.delete || sel.by.match) st.selected.clear();
			st.allMatching = false;
			await load();
			prune();
			loadVersions();
			ctx.refreshSummary();
			return true;
		} catch (e) {
			if (e.code === 'match_changed') {
				const now = e.body && e.body.matched !== undefined ? e.body.matched : '?';
				toast(`The filter matches ${now} devices now, not ${sel.n}: nothing was changed. Look at the list again.`, 'error', {title: what + ' not applied'});
				await load();
			} else if (e.code !== 'assignment_refused') {
				toastError(e, what + ' failed');
			}
			throw e;
		}
	}

	async function bulkMode(preset) {
		let sw = [];
		try {
			sw = session.can('software.read') ? await loadSoftwareOptions() : [];
		} catch (e) {
			toastError(e, 'Could not load the software list');
		}
		const sel = selection();
		const n = sel.n;
		const modeIn = h('select', {class: 'input', id: 'bulk-mode'}, MODES.map((m) => h('option', {value: m, selected: m === (preset || 'rollout')}, m)));
		const swIn = h('select', {class: 'input', id: 'bulk-software'},
			sw.length ? sw.map((x) => softwareOption(x, false)) : h('option', {value: ''}, 'No software uploaded'));
		const swField = field('Software', swIn, 'The devices install this version and keep it.');
		const feedIn2 = h('input', {class: 'input', id: 'bulk-feed', placeholder: 'default', list: 'feed-list'});
		const feedField = field('Feed (optional)', feedIn2, 'Rollouts target the devices of their feed.');
		// Shown once the server refused the software for some devices.
		const refusedBox = h('div', {class: 'form-note bulk-refused', id: 'bulk-refused', role: 'status', hidden: true});
		const confirmCb = h('input', {type: 'checkbox', id: 'bulk-confirm'});
		const confirmField = h('label', {class: 'check', hidden: true}, confirmCb, 'Assign it anyway to the devices it does not fit');
		const sync = () => {
			swField.hidden = modeIn.value !== 'assigned';
			feedField.hidden = modeIn.value !== 'rollout';
		};
		const reset = () => {
			refusedBox.hidden = confirmField.hidden = true;
			confirmCb.checked = false;
		};
		modeIn.addEventListener('change', () => {
			sync();
			reset();
		});
		swIn.addEventListener('change', reset);
		sync();
		modal({
			title: preset === 'assigned' ? `Assign software to ${n} device(s)` : `Set the update mode of ${n} device(s)`,
			body: [
				h('p', {class: 'muted'}, 'rollout: follow the rollouts of the feed · latest: newest compatible software · assigned: one chosen software · pinned: stay on the installed version.'),
				st.allMatching ? h('p', {class: 'form-note'}, `All ${n} devices the filter matches, on every page.`) : null,
				field('Mode', modeIn), swField, feedField, refusedBox, confirmField,
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Apply', kind: 'primary', submit: true, onClick: async () => {
					const p = {mode: modeIn.value};
					if (p.mode === 'assigned') {
						if (!swIn.value) throw new Error('Choose a software.');
						p.assigned_software_id = Number(swIn.value);
					}
					if (p.mode === 'rollout' && feedIn2.value.trim()) p.feed = feedIn2.value.trim();
					const body = {patch: p};
					if (confirmCb.checked) body.confirm = true;
					try {
						await bulk(sel, body, p.mode === 'assigned' ? 'Software assigned' : 'Mode set');
					} catch (e) {
						if (e.code !== 'assignment_refused') throw e;
						const list = (e.body && e.body.refused) || [];
						// The server names the first 100; refused_total counts all.
						const total = (e.body && e.body.refused_total) || list.length;
						replace(refusedBox,
							h('strong', null, `${total} of ${n} device(s) refuse this software:`),
							h('ul', {class: 'refused-list'}, list.slice(0, 8).map((x) =>
								h('li', null, h('span', {class: 'mono'}, x.controller_id), ': ', x.reason))),
							total > 8 ? h('span', null, `and ${total - 8} more.`) : null);
						refusedBox.hidden = false;
						confirmField.hidden = false;
						confirmCb.focus();
						return false;
					}
				}},
			],
		});
	}

	function bulkFeed() {
		const sel = selection();
		const feedIn2 = h('input', {class: 'input', id: 'bulk-feed', placeholder: 'default', list: 'feed-list', required: true});
		modal({
			title: `Move ${sel.n} device(s) to a feed`,
			body: [field('Feed', feedIn2, 'Rollouts target the devices of their feed.')],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Apply', kind: 'primary', submit: true, onClick: async () => {
					const f = feedIn2.value.trim();
					if (!f) throw new Error('Enter a feed name.');
					await bulk(sel, {patch: {feed: f}}, 'Feed set');
				}},
			],
		});
	}

	async function bulkForce() {
		const sel = selection();
		if (!(await confirmDialog({
			title: 'Force an update?',
			message: `Force the update of ${sel.n} device(s)?`,
			detail: 'A forced device gets its target software even after a failed attempt; the device is told to install it now.',
			confirm: 'Force update',
		}))) return;
		await bulk(sel, {patch: {force: true}}, 'Update forced').catch(() => {});
	}

	async function bulkPin() {
		const sel = selection();
		if (!(await confirmDialog({
			title: 'Pin the installed version?',
			message: `Pin ${sel.n} device(s) to the version they run?`,
			detail: 'Pinned devices get no update until their mode is changed.',
			confirm: 'Pin',
		}))) return;
		await bulk(sel, {patch: {mode: 'pinned'}}, 'Pinned').catch(() => {});
	}

	async function bulkDelete() {
		const sel = selection();
		if (!(await confirmDialog({
			title: 'Delete devices?',
			message: `Delete ${sel.n} device(s) and their history?`,
			detail: 'A deleted device that polls again registers anew, without its name, token or settings.',
			confirm: 'Delete',
			danger: true,
		}))) return;
		await bulk(sel, {delete: true}, 'Deleted').catch(() => {});
	}

	function addDevice() {
		const idIn = h('input', {class: 'input', id: 'new-device-id', required: true, autocomplete: 'off', spellcheck: 'false'});
		const nameIn = h('input', {class: 'input', id: 'new-device-name', autocomplete: 'off'});
		const feedIn2 = h('input', {class: 'input', id: 'new-device-feed', placeholder: 'default', list: 'feed-list'});
		const tokIn = h('input', {class: 'input mono', id: 'new-device-token', autocomplete: 'off', spellcheck: 'false', placeholder: 'optional, at least 8 characters'});
		modal({
			title: 'Add a device',
			body: [
				h('p', {class: 'muted'}, 'Pre-register a device, for example to give it a TargetToken before its first poll.'),
				field('Controller id', idIn), field('Name', nameIn), field('Feed', feedIn2), field('TargetToken', tokIn),
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Add', kind: 'primary', submit: true, onClick: async () => {
					const body = {controller_id: idIn.value.trim()};
					if (!body.controller_id) throw new Error('Enter the controller id.');
					if (nameIn.value.trim()) body.name = nameIn.value.trim();
					if (feedIn2.value.trim()) body.feed = feedIn2.value.trim();
					if (tokIn.value) {
						if (tokIn.value.length < 8) throw new Error('The token needs at least 8 characters.');
						body.token = tokIn.value;
					}
					await post('/api/v1/devices', body);
					toast(`Device ${body.controller_id} added.`, 'ok');
					load();
				}},
			],
		});
	}

	// Feeds known from the rollouts, for the feed inputs.
	if (session.can('rollout.read')) {
		get('/api/v1/rollouts').then((r) => {
			const have = new Set([...feedList.children].map((o) => o.value));
			for (const ro of r.rollouts || []) {
				if (ro.feed && !have.has(ro.feed)) {
					have.add(ro.feed);
					feedList.appendChild(h('option', {value: ro.feed}));
				}
			}
		}).catch(() => {});
	}

	renderRows();
	await load();
	loadVersions();
	ctx.every(3000, load);
	ctx.every(10000, loadVersions);
}
