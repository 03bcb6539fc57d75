// #/devices: the server-side paged, sorted and filtered device table with
// a selection column and bulk actions; refreshed every 3 s, keeping the
// selection, the scroll position and any open dialog.
import {h, add, clear, icon, age, badge, progressBar, debounce, empty} from '../dom.js';
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

export default async function render(ctx) {
	const q = ctx.query;
	const st = {
		q: q.get('q') || '',
		state: q.get('state') || '',
		feed: q.get('feed') || '',
		mode: q.get('mode') || '',
		rollout: q.get('rollout') || '',
		// With rollout: its devices in one of its states (README).
		rolloutState: q.get('rollout') ? q.get('rollout_state') || '' : '',
		sort: q.get('sort') || 'controller_id',
		order: q.get('order') === 'desc' ? 'desc' : 'asc',
		limit: PAGE_SIZES.includes(Number(q.get('limit'))) ? Number(q.get('limit')) : 25,
		offset: Math.max(0, Number(q.get('offset')) || 0),
		selected: new Set(),
		rows: [],
		total: 0,
		loaded: false,
	};
	const canWrite = session.can('device.write');
	const canDelete = session.can('device.delete');
	// The bulk endpoint needs device.write (and device.delete to delete).
	const canSelect = canWrite;

	// ---- filters
	const search = h('input', {type: 'search', id: 'device-search', class: 'input', placeholder: 'Search id, name, hardware, version…', value: st.q, 'aria-label': 'Search devices'});
	const stateSel = h('select', {id: 'filter-state', class: 'input', 'aria-label': 'State'},
		h('option', {value: ''}, 'All states'), STATES.map((s) => h('option', {value: s, selected: s === st.state}, s.replace('_', ' '))));
	const feedList = h('datalist', {id: 'feed-list'});
	const feedIn = h('input', {id: 'filter-feed', class: 'input input-sm', placeholder: 'Feed', value: st.feed, list: 'feed-list', 'aria-label': 'Feed'});
	const modeSel = h('select', {id: 'filter-mode', class: 'input', 'aria-label': 'Mode'},
		h('option', {value: ''}, 'All modes'), MODES.map((m) => h('option', {value: m, selected: m === st.mode}, m)));
	const rolloutChip = h('span', {class: 'chips'});
	const clearBtn = h('button', {type: 'button', class: 'btn btn-ghost btn-sm'}, 'Clear filters');

	// ---- bulk bar
	const selCount = h('strong', null, '');
	const bulkBar = h('div', {class: 'bulkbar', id: 'bulkbar', hidden: true},
		h('span', {class: 'bulk-count'}, selCount, ' selected'),
		h('button', {type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => { st.selected.clear(); renderRows(); }}, 'Clear selection'),
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
	const table = h('table', {class: 'table', id: 'devices-table'}, h('thead', null, headRow), tbody);
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
		h('div', {class: 'toolbar filters'}, search, stateSel, feedIn, feedList, modeSel, rolloutChip, clearBtn),
		canSelect ? bulkBar : null,
		errBox,
		h('div', {class: 'card card-flush'}, scroller,
			h('div', {class: 'pager'}, info, h('span', {class: 'spacer'}), sizeSel, prev, next)));

	function syncUrl() {
		ctx.setQuery({
			q: st.q, state: st.state, feed: st.feed, mode: st.mode, rollout: st.rollout, rollout_state: st.rolloutState,
			sort: st.sort !== 'controller_id' ? st.sort : '', order: st.order !== 'asc' ? st.order : '',
			limit: st.limit !== 25 ? st.limit : '', offset: st.offset || '',
		});
	}

	function filtersChanged() {
		st.offset = 0;
		syncUrl();
		load();
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
	feedIn.addEventListener('change', () => {
		st.feed = feedIn.value.trim();
		filtersChanged();
	});
	sizeSel.addEventListener('change', () => {
		st.limit = Number(sizeSel.value);
		filtersChanged();
	});
	clearBtn.addEventListener('click', () => {
		st.q = st.state = st.feed = st.mode = st.rollout = st.rolloutState = '';
		search.value = feedIn.value = '';
		stateSel.value = modeSel.value = '';
		renderChips();
		filtersChanged();
	});
	headCheck.addEventListener('change', () => {
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
		clearBtn.hidden = !(st.q || st.state || st.feed || st.mode || st.rollout);
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

	function row(d) {
		const id = d.controller_id;
		const cb = h('input', {type: 'checkbox', class: 'row-check', 'aria-label': 'Select ' + id, checked: st.selected.has(id)});
		cb.addEventListener('change', () => {
			if (cb.checked) st.selected.add(id);
			else st.selected.delete(id);
			tr.classList.toggle('selected', cb.checked);
			renderBulk();
		});
		const act = d.action;
		const showProgress = act && ['pending', 'updating', 'canceling'].includes(d.state);
		const target = d.target_version;
		const tr = h('tr', {class: st.selected.has(id) ? 'selected' : null, dataset: {id}},
			canSelect ? h('td', {class: 'col-check'}, cb) : null,
			h('td', {class: 'mono col-id'}, h('a', {href: deviceHref(id), class: 'device-link'}, id)),
			h('td', {class: 'device-name'}, d.name ? d.name : h('span', {class: 'muted'}, '—')),
			h('td', {class: 'col-hw'}, hardware(d)),
			h('td', null, d.feed || h('span', {class: 'muted'}, '—')),
			h('td', {class: 'nowrap'}, modeCell(d)),
			h('td', {class: 'mono'}, d.installed_version || h('span', {class: 'muted'}, '—')),
			h('td', {class: 'mono'}, target ? target : h('span', {class: 'muted'}, '—')),
			h('td', null, badge(d.state || 'unknown')),
			h('td', {class: 'col-progress'}, showProgress ? progressBar(act.progress || 0, {small: true}) : h('span', {class: 'muted'}, '—')),
			h('td', {class: 'nowrap'}, d.last_seen ? age(d.last_seen) : null, ' ', seenBadge(d)));
		return tr;
	}

	function renderRows() {
		const focused = document.activeElement && tbody.contains(document.activeElement) ? document.activeElement : null;
		const focusId = focused ? focused.closest('tr').dataset.id : null;
		const focusCls = focused ? focused.className : null;
		clear(tbody);
		if (!st.rows.length) {
			tbody.appendChild(h('tr', null, h('td', {colspan: String(COLUMNS.length + 1)},
				empty(st.loaded ? (st.q || st.state || st.feed || st.mode || st.rollout ? 'No device matches these filters.' : 'No devices yet. Devices register themselves on their first poll of /DEFAULT/controller/v1/<id>.') : 'Loading…'))));
		}
		for (const d of st.rows) tbody.appendChild(row(d));
		if (focusId !== null) {
			const tr = [...tbody.children].find((r) => r.dataset.id === focusId);
			const el = tr && focusCls ? tr.getElementsByClassName(focusCls.split(' ')[0])[0] : null;
			if (el) el.focus();
		}
		const onPage = st.rows.filter((d) => st.selected.has(d.controller_id)).length;
		headCheck.checked = onPage > 0 && onPage === st.rows.length;
		headCheck.indeterminate = onPage > 0 && onPage < st.rows.length;
		const from = st.total ? st.offset + 1 : 0;
		const to = Math.min(st.offset + st.rows.length, st.total);
		info.textContent = `${from}–${to} of ${st.total}`;
		countEl.textContent = st.loaded ? String(st.total) : '';
		prev.disabled = st.offset <= 0;
		next.disabled = st.offset + st.limit >= st.total;
		renderBulk();
	}

	function renderBulk() {
		bulkBar.hidden = !canSelect || st.selected.size === 0;
		selCount.textContent = String(st.selected.size);
		const onPage = st.rows.filter((d) => st.selected.has(d.controller_id)).length;
		headCheck.checked = onPage > 0 && onPage === st.rows.length;
		headCheck.indeterminate = onPage > 0 && onPage < st.rows.length;
	}

	let seq = 0;
	async function load() {
		const my = ++seq;
		renderHead();
		renderChips();
		try {
			const r = await get('/api/v1/devices' + qs({
				limit: st.limit, offset: st.offset, q: st.q, sort: st.sort, order: st.order,
				state: st.state, feed: st.feed, mode: st.mode, rollout: st.rollout, rollout_state: st.rolloutState,
			}));
			if (my !== seq) return;
			errBox.hidden = true;
			st.rows = r.devices || [];
			st.total = r.total !== undefined ? r.total : st.rows.length;
			st.loaded = true;
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
	async function bulk(body, what) {
		const ids = [...st.selected];
		try {
			const r = await post('/api/v1/devices/bulk', {ids, ...body});
			const n = r && r.updated !== undefined ? r.updated : r && r.deleted !== undefined ? r.deleted : ids.length;
			toast(`${what}: ${n} device${n === 1 ? '' : 's'}.`, 'ok');
			if (body.delete) st.selected.clear();
			await load();
			ctx.refreshSummary();
			return true;
		} catch (e) {
			toastError(e, what + ' failed');
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
		const modeIn = h('select', {class: 'input', id: 'bulk-mode'}, MODES.map((m) => h('option', {value: m, selected: m === (preset || 'rollout')}, m)));
		const swIn = h('select', {class: 'input', id: 'bulk-software'},
			sw.length ? sw.map((x) => softwareOption(x, false)) : h('option', {value: ''}, 'No software uploaded'));
		const swField = field('Software', swIn, 'The devices install this version and keep it.');
		const feedIn2 = h('input', {class: 'input', id: 'bulk-feed', placeholder: 'default', list: 'feed-list'});
		const feedField = field('Feed (optional)', feedIn2, 'Rollouts target the devices of their feed.');
		const sync = () => {
			swField.hidden = modeIn.value !== 'assigned';
			feedField.hidden = modeIn.value !== 'rollout';
		};
		modeIn.addEventListener('change', sync);
		sync();
		modal({
			title: preset === 'assigned' ? `Assign software to ${st.selected.size} device(s)` : `Set the update mode of ${st.selected.size} device(s)`,
			body: [
				h('p', {class: 'muted'}, 'rollout: follow the rollouts of the feed · latest: newest compatible software · assigned: one chosen software · pinned: stay on the installed version.'),
				field('Mode', modeIn), swField, feedField,
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
					await bulk({patch: p}, p.mode === 'assigned' ? 'Software assigned' : 'Mode set');
				}},
			],
		});
	}

	function bulkFeed() {
		const feedIn2 = h('input', {class: 'input', id: 'bulk-feed', placeholder: 'default', list: 'feed-list', required: true});
		modal({
			title: `Move ${st.selected.size} device(s) to a feed`,
			body: [field('Feed', feedIn2, 'Rollouts target the devices of their feed.')],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Apply', kind: 'primary', submit: true, onClick: async () => {
					const f = feedIn2.value.trim();
					if (!f) throw new Error('Enter a feed name.');
					await bulk({patch: {feed: f}}, 'Feed set');
				}},
			],
		});
	}

	async function bulkForce() {
		if (!(await confirmDialog({
			title: 'Force an update?',
			message: `Force the update of ${st.selected.size} device(s)?`,
			detail: 'A forced device gets its target software even after a failed attempt; the device is told to install it now.',
			confirm: 'Force update',
		}))) return;
		await bulk({patch: {force: true}}, 'Update forced').catch(() => {});
	}

	async function bulkPin() {
		if (!(await confirmDialog({
			title: 'Pin the installed version?',
			message: `Pin ${st.selected.size} device(s) to the version they run?`,
			detail: 'Pinned devices get no update until their mode is changed.',
			confirm: 'Pin',
		}))) return;
		await bulk({patch: {mode: 'pinned'}}, 'Pinned').catch(() => {});
	}

	async function bulkDelete() {
		if (!(await confirmDialog({
			title: 'Delete devices?',
			message: `Delete ${st.selected.size} device(s) and their history?`,
			detail: 'A deleted device that polls again registers anew, without its name, token or settings.',
			confirm: 'Delete',
			danger: true,
		}))) return;
		await bulk({delete: true}, 'Deleted').catch(() => {});
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
	ctx.every(3000, load);
}
