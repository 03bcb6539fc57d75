// #/rollouts: create from a feed and a software in waves (groups), start,
// pause/resume, approve a group, retry the failed devices, thresholds, and
// per-rollout and per-group progress with counts one click from their
// devices.
import {h, add, replace, icon, badge, age, fmtTime, empty, debounce} from '../dom.js';
import {get, post, patch, del} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';
import {loadSoftwareOptions, softwareOption} from './devices.js';

// The counts of a rollout, in the order of their boxes and segments: they
// add up to targeted.  Each box opens the devices list of the rollout in
// that state (rollout_state, the rollout's own states: see README).
const COUNT_STATES = ['targeted', 'pending', 'running', 'succeeded', 'failed', 'canceled'];
// The states a device ends in, and the segment class of each state.
const END_STATES = ['succeeded', 'failed', 'canceled'];
const SEG_CLASS = {succeeded: 'seg-ok', failed: 'seg-bad', canceled: 'seg-cancel', running: 'seg-run', pending: 'seg-pend'};

// One segment per state; pending is drawn as a hatch over the empty
// track, so a bar of waiting devices (a paused rollout, one just
// started) never reads as full.  The percentage is the devices that
// reached an end state.
function stackedBar(c, opts = {}) {
	const total = Math.max(1, c.targeted || 0);
	const seg = (k) => {
		const n = c[k] || 0;
		if (!n) return null;
		const el = h('div', {class: 'seg ' + SEG_CLASS[k], title: `${n} ${k}`, dataset: {seg: k, n: String(n)}});
		el.style.width = (100 * n) / total + '%';
		return el;
	};
	const done = END_STATES.reduce((a, k) => a + (c[k] || 0), 0);
	const pct = c.targeted ? Math.round((100 * done) / c.targeted) : 0;
	return h('div', {class: 'stacked-wrap'},
		h('div', {class: 'stacked' + (opts.paused ? ' stacked-paused' : ''), role: 'progressbar', 'aria-valuenow': String(pct), 'aria-valuemin': '0', 'aria-valuemax': '100',
			title: `${done} of ${c.targeted || 0} done${opts.paused ? ' (paused)' : ''}`},
		['succeeded', 'failed', 'canceled', 'running', 'pending'].map(seg)),
		h('span', {class: 'stacked-pct'}, `${pct} %`));
}

function thresholds(r) {
	const parts = [];
	parts.push(r.max_running ? `at most ${r.max_running} at once` : 'no limit of its own');
	const f = [];
	if (r.failure_threshold_count) f.push(`${r.failure_threshold_count} failure${r.failure_threshold_count === 1 ? '' : 's'}`);
	if (r.failure_threshold_percent) f.push(`${r.failure_threshold_percent} % failed`);
	parts.push(f.length ? `pauses at ${f.join(' or ')}` : 'never pauses by itself');
	return parts.join(' · ');
}

function numInput(id, value, placeholder) {
	return h('input', {class: 'input', id, type: 'number', min: '0', step: '1', inputmode: 'numeric', value: value === null || value === undefined ? '' : String(value), placeholder: placeholder || 'none'});
}

function numOrNull(el, max) {
	const v = el.value.trim();
	if (v === '') return null;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0 || (max !== undefined && n > max)) throw new Error(`"${v}" is not a valid number${max !== undefined ? ' (0..' + max + ')' : ''}.`);
	return n;
}

// The waves a new rollout gets: presets, or rows the operator edits.
const PRESETS = {
	one: [{name: 'All devices'}],
	canary: [
		{name: 'Canary', share: '1%', success: 100, error: 0},
		{name: 'Early', share: '10%', success: 95, error: 5},
		{name: 'Everyone else', share: '', success: 95, error: 5},
	],
};

// "10%" -> {percent: 10}, "25" -> {count: 25}, "" -> {} (the rest).
function parseShare(text, last) {
	const t = text.trim();
	if (t === '') {
		if (!last) throw new Error('Every wave but the last needs a share: "10%" or a number of devices.');
		return {};
	}
	let m = /^(\d{1,3})\s*%$/.exec(t);
	if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100) return {percent: Number(m[1])};
	m = /^\d{1,9}$/.exec(t);
	if (m && Number(t) >= 1) return {count: Number(t)};
	throw new Error(`"${t}" is not a share: write "10%" or a number of devices.`);
}

function wavesEditor() {
	const rows = h('tbody', {id: 'waves-rows'});
	const row = (w) => {
		const tr = h('tr', {class: 'wave-row'},
			h('td', null, h('input', {class: 'input', 'aria-label': 'Wave name', value: w.name || '', dataset: {k: 'name'}})),
			h('td', null, h('input', {class: 'input', 'aria-label': 'Share (10% or a count; empty: the rest)', value: w.share || '', placeholder: 'the rest', dataset: {k: 'share'}})),
			h('td', null, h('input', {class: 'input', type: 'number', min: '0', max: '100', 'aria-label': 'Success percent', value: String(w.success ?? 100), dataset: {k: 'success'}})),
			h('td', null, h('input', {class: 'input', type: 'number', min: '0', max: '100', 'aria-label': 'Error percent (0: off)', value: String(w.error ?? 0), dataset: {k: 'error'}})),
			h('td', null, h('input', {type: 'checkbox', 'aria-label': 'Needs approval', checked: !!w.approval, dataset: {k: 'approval'}})),
			h('td', null, h('button', {type: 'button', class: 'btn btn-sm btn-ghost', 'aria-label': 'Remove this wave', onclick: () => {
				if (rows.children.length > 1) tr.remove();
			}}, icon('x'))));
		return tr;
	};
	const set = (list) => replace(rows, list.map(row));
	set(PRESETS.one);
	const preset = h('select', {class: 'input', id: 'rollout-waves-preset', onchange: () => set(PRESETS[preset.value] || PRESETS.one)},
		h('option', {value: 'one'}, 'One wave: every device at once'),
		h('option', {value: 'canary'}, 'Canary 1 %, then 10 %, then the rest'));
	const el = h('div', {class: 'waves-editor'},
		field('Waves', preset, 'Each wave starts once the one before it has its success share updated; a wave that reaches its error share pauses the rollout.'),
		h('table', {class: 'table waves-table'},
			h('thead', null, h('tr', null, ['Name', 'Share', 'Success %', 'Error %', 'Approval', ''].map((t) => h('th', null, t)))),
			rows),
		h('button', {type: 'button', class: 'btn btn-sm btn-ghost', id: 'add-wave', onclick: () => rows.appendChild(row({}))}, icon('plus'), 'Add a wave'));
	el.groups = () => {
		const trs = [...rows.children];
		return trs.map((tr, i) => {
			const v = (k) => tr.querySelector(`[data-k="${k}"]`);
			const g = {...parseShare(v('share').value, i === trs.length - 1)};
			if (v('name').value.trim()) g.name = v('name').value.trim();
			g.success_percent = numOrNull(v('success'), 100) ?? 100;
			g.error_percent = numOrNull(v('error'), 100) ?? 0;
			if (v('approval').checked) g.approval = true;
			return g;
		});
	};
	return el;
}

// Which device state a group count is.
const GROUP_STATES = ['pending', 'running', 'succeeded', 'failed', 'canceled'];

function groupDevices(r, g, state) {
	const list = h('div', {class: 'group-devices'}, empty('Loading…'));
	const q = state ? '?limit=200&state=' + state : '?limit=200';
	get(`/api/v1/rollouts/${r.id}/groups/${g.id}/devices${q}`).then((res) => {
		if (!res.devices.length) {
			replace(list, empty('No device here.'));
			return;
		}
		replace(list, h('table', {class: 'table'},
			h('thead', null, h('tr', null, h('th', null, 'Device'), h('th', null, 'State'))),
			h('tbody', null, res.devices.map((d) => h('tr', null,
				h('td', null, h('a', {href: '#/devices/' + encodeURIComponent(d.controller_id), class: 'mono'}, d.controller_id)),
				h('td', null, badge(d.state)))))),
		res.total > res.devices.length ? h('p', {class: 'muted small'}, `The first ${res.devices.length} of ${res.total}.`) : null);
	}).catch((e) => replace(list, h('div', {class: 'inline-error'}, 'Could not load the devices: ' + e.detail)));
	modal({title: `${g.name}: ${state || 'all'} devices`, body: list, wide: true, buttons: [{label: 'Close', kind: 'ghost'}]});
}

export default async function render(ctx) {
	const canWrite = session.can('rollout.write');
	const canDelete = session.can('rollout.delete');
	const list = h('div', {class: 'rollouts', id: 'rollouts'});
	const highlight = ctx.query.get('id');
	add(ctx.el,
		h('div', {class: 'page-head'},
			h('div', {class: 'page-title'}, h('h1', null, 'Rollouts'), h('span', {class: 'muted title-count', id: 'rollout-count'})),
			canWrite ? h('button', {type: 'button', class: 'btn btn-primary', id: 'new-rollout', onclick: create}, icon('plus'), 'New rollout') : null),
		list);

	let feeds = [];
	let swById = new Map();

	async function create() {
		let sw = [];
		try {
			sw = await loadSoftwareOptions();
		} catch (e) {
			toastError(e, 'Could not load the software list');
			return;
		}
		if (!sw.length) {
			toast('Upload a software image first (Software page).', 'error', {title: 'No software'});
			return;
		}
		const name = h('input', {class: 'input', id: 'rollout-name', placeholder: 'e.g. Spring release', autocomplete: 'off'});
		const feed = h('input', {class: 'input', id: 'rollout-feed', value: 'default', list: 'rollout-feeds', required: true, autocomplete: 'off'});
		const feedList = h('datalist', {id: 'rollout-feeds'}, feeds.map((f) => h('option', {value: f})));
		const firstOk = sw.find((x) => x.complete !== false);
		const swSel = h('select', {class: 'input', id: 'rollout-software'}, sw.map((x) => softwareOption(x, x === firstOk)));
		const maxRun = numInput('rollout-max-running', '', 'no limit');
		const failCount = numInput('rollout-fail-count', '', 'none');
		const failPct = numInput('rollout-fail-percent', '', 'none');
		failPct.max = '100';
		const paused = h('input', {type: 'checkbox', id: 'rollout-paused'});
		const waves = wavesEditor();
		const filter = h('input', {class: 'input mono', id: 'rollout-filter', placeholder: 'e.g. attribute.ring==beta', autocomplete: 'off'});
		// Saved filters (hawkBit's target filters) fill the query in.
		const saved = h('select', {class: 'input', id: 'rollout-saved-filter', hidden: true, 'aria-label': 'Saved filter',
			onchange: () => { if (saved.value) filter.value = saved.value; }});
		get('/api/v1/filters').then((r) => {
			if (!r.filters.length) return;
			replace(saved, [h('option', {value: ''}, 'A saved filter…'), ...r.filters.map((f) => h('option', {value: f.query}, f.name))]);
			saved.hidden = false;
		}).catch(() => {});
		const startSel = h('select', {class: 'input', id: 'rollout-start'},
			h('option', {value: 'now'}, 'Now'), h('option', {value: 'manual'}, 'Later, by hand (Start button)'), h('option', {value: 'at'}, 'At a time'));
		const startAt = h('input', {class: 'input', id: 'rollout-start-at', type: 'datetime-local', hidden: true});
		startSel.onchange = () => { startAt.hidden = startSel.value !== 'at'; };
		// Before it starts: how many devices it will reach, and what to
		// beware of (GET /api/v1/rollouts/preview reads the feed as the
		// start does).  The picker proposes the feed's newest fitting
		// software until the operator picks one.
		const preview = h('div', {class: 'rollout-preview', id: 'rollout-preview', role: 'status', 'aria-live': 'polite'});
		let picked = false;
		let seqP = 0;
		const qs = (o) => Object.entries(o).filter(([, v]) => v !== '' && v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
		async function proposeSoftware() {
			const my = ++seqP;
			try {
				const p = await get('/api/v1/rollouts/preview?' + qs({feed: feed.value.trim()}));
				if (my !== seqP || picked || !p.newest_fitting) return;
				if ([...swSel.options].some((o) => o.value === String(p.newest_fitting.id) && !o.disabled)) swSel.value = String(p.newest_fitting.id);
			} catch {
				// the preview below says what is wrong
			}
		}
		async function updatePreview() {
			const my = ++seqP;
			const q = {software_id: swSel.value, feed: feed.value.trim(), target_filter: filter.value.trim()};
			if (!q.feed) {
				replace(preview, h('div', {class: 'muted small'}, 'Enter the feed.'));
				return;
			}
			let p;
			try {
				p = await get('/api/v1/rollouts/preview?' + qs(q));
			} catch (e) {
				if (my === seqP) replace(preview, h('div', {class: 'inline-error'}, e.detail || 'Could not count the devices.'));
				return;
			}
			if (my !== seqP) return;
			const parts = [];
			if (p.pending) parts.push(`${p.pending} to update`);
			if (p.succeeded) parts.push(`${p.succeeded} already on ${p.version}`);
			if (p.failed) parts.push(`${p.failed} parked after a failed update`);
			const left = [];
			if (p.other_hardware) left.push(`${p.other_hardware} of other hardware`);
			if (p.downgrade) left.push(`${p.downgrade} on a newer version`);
			if (p.filtered) left.push(`${p.filtered} left out by the filter`);
			replace(preview,
				h('div', {class: 'preview-count'}, 'It will reach ', h('strong', {id: 'rollout-preview-n', dataset: {n: String(p.devices)}}, String(p.devices)),
					` device${p.devices === 1 ? '' : 's'} of feed ${p.feed}`, parts.length ? ` (${parts.join(', ')})` : '', '.',
					left.length ? h('span', {class: 'muted'}, ` Not: ${left.join(', ')}.`) : null),
				(p.warnings || []).map((w) => h('div', {class: 'notice notice-warn', dataset: {warning: w.code}}, w.message)));
		}
		const later = debounce(updatePreview, 250);
		swSel.addEventListener('change', () => { picked = true; updatePreview(); });
		feed.addEventListener('input', () => { later(); });
		feed.addEventListener('change', async () => { await proposeSoftware(); updatePreview(); });
		filter.addEventListener('input', later);
		saved.addEventListener('change', updatePreview);
		proposeSoftware().then(updatePreview);
		modal({
			title: 'New rollout',
			body: [
				h('p', {class: 'muted'}, 'Every device of the feed in rollout mode whose hardware fits the software is updated, at most "max running" at a time.'),
				field('Software', swSel, 'The newest that fits the feed is proposed.'),
				field('Feed', feed), feedList,
				field('Name (optional)', name),
				h('div', {class: 'form-row'},
					field('Max running', maxRun, 'Simultaneous updates'),
					field('Pause after failures', failCount, 'Count'),
					field('…or failure rate', failPct, 'Percent')),
				waves,
				saved,
				field('Target filter (optional)', filter, 'FIQL over the feed\'s devices: attribute.KEY, metadata.KEY, controllerId, name, hwModel, hwRevision, swVersion.'),
				h('div', {class: 'form-row'}, field('Start', startSel), field('Start time', startAt)),
				h('label', {class: 'check'}, paused, h('span', null, 'Create paused (start it later)')),
				preview,
			],
			wide: true,
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Create rollout', kind: 'primary', submit: true, role: 'create', onClick: async () => {
					const body = {software_id: Number(swSel.value), feed: feed.value.trim()};
					if (!body.feed) throw new Error('Enter the feed.');
					if (name.value.trim()) body.name = name.value.trim();
					const m = numOrNull(maxRun);
					const fc = numOrNull(failCount);
					const fp = numOrNull(failPct, 100);
					if (m !== null) body.max_running = m;
					if (fc !== null) body.failure_threshold_count = fc;
					if (fp !== null) body.failure_threshold_percent = fp;
					if (paused.checked) body.paused = true;
					body.groups = waves.groups();
					if (filter.value.trim()) body.target_filter = filter.value.trim();
					if (startSel.value === 'manual') body.start = false;
					if (startSel.value === 'at') {
						const t = Date.parse(startAt.value);
						if (Number.isNaN(t)) throw new Error('Enter the start time.');
						body.start_at = Math.floor(t / 1000);
					}
					const r = await post('/api/v1/rollouts', body);
					toast(`Rollout #${r.id} created${r.paused ? ' (paused)' : ''}.`, 'ok');
					load();
				}},
			],
		});
	}

	function edit(r) {
		const name = h('input', {class: 'input', id: 'edit-rollout-name', value: r.name || '', autocomplete: 'off'});
		const maxRun = numInput('edit-max-running', r.max_running, 'no limit');
		const failCount = numInput('edit-fail-count', r.failure_threshold_count, 'none');
		const failPct = numInput('edit-fail-percent', r.failure_threshold_percent, 'none');
		modal({
			title: `Edit rollout #${r.id}`,
			body: [
				field('Name', name),
				h('div', {class: 'form-row'},
					field('Max running', maxRun, 'Simultaneous updates'),
					field('Pause after failures', failCount, 'Count'),
					field('…or failure rate', failPct, 'Percent')),
				h('p', {class: 'muted small'}, 'Leave a field empty (or 0) for no limit.'),
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Save', kind: 'primary', submit: true, onClick: async () => {
					const body = {
						name: name.value.trim(),
						max_running: numOrNull(maxRun) || 0,
						failure_threshold_count: numOrNull(failCount) || 0,
						failure_threshold_percent: numOrNull(failPct, 100) || 0,
					};
					await patch('/api/v1/rollouts/' + r.id, body);
					toast(`Rollout #${r.id} saved.`, 'ok');
					load();
				}},
			],
		});
	}

	async function setPaused(r, paused) {
		try {
			await patch('/api/v1/rollouts/' + r.id, {paused});
			toast(`Rollout #${r.id} ${paused ? 'paused' : 'resumed'}.`, 'ok');
			load();
		} catch (e) {
			toastError(e, `Could not ${paused ? 'pause' : 'resume'} the rollout`);
		}
	}

	async function act(r, path, done) {
		try {
			await post(`/api/v1/rollouts/${r.id}/${path}`);
			toast(done, 'ok');
			load();
		} catch (e) {
			toastError(e, 'That did not work');
		}
	}

	async function retryFailed(r) {
		const n = r.counts.failed;
		if (!(await confirmDialog({
			title: 'Retry the failed devices?',
			message: `Offer ${n} failed device${n === 1 ? '' : 's'} of rollout #${r.id} the update again, in a new wave${r.paused ? '' : ' that runs at once'}?`,
			detail: 'They leave the waves they failed in; those count them as retried.' + (r.paused ? ' The rollout is paused: they are offered the update once you resume it.' : ''),
			confirm: 'Retry',
		}))) return;
		act(r, 'retry-failed', r.paused
			? `Rollout #${r.id}: ${n} failed device${n === 1 ? '' : 's'} moved to a new wave; resume the rollout to offer them the update.`
			: `Rollout #${r.id}: ${n} failed device${n === 1 ? ' is' : 's are'} offered the update again.`);
	}

	// The failed devices of a rollout with the reason each gave.
	function failedDevices(r) {
		const body = h('div', {class: 'group-devices', id: 'failed-devices'}, empty('Loading…'));
		get(`/api/v1/rollouts/${r.id}/devices?state=failed&limit=200`).then((res) => {
			if (!res.devices.length) {
				replace(body, empty('No device failed.'));
				return;
			}
			replace(body, h('table', {class: 'table'},
				h('thead', null, h('tr', null, h('th', null, 'Device'), h('th', null, 'Wave'), h('th', null, 'Reason'))),
				h('tbody', null, res.devices.map((d) => h('tr', {dataset: {device: d.controller_id}},
					h('td', null, h('a', {href: '#/devices/' + encodeURIComponent(d.controller_id), class: 'mono'}, d.controller_id)),
					h('td', null, d.group),
					h('td', {class: 'reason'}, d.reason || '—'))))),
			res.total > res.devices.length ? h('p', {class: 'muted small'}, `The first ${res.devices.length} of ${res.total}.`) : null);
		}).catch((e) => replace(body, h('div', {class: 'inline-error'}, 'Could not load the devices: ' + e.detail)));
		const buttons = [{label: 'Close', kind: 'ghost'}];
		if (canWrite) buttons.push({label: 'Retry failed', kind: 'primary', role: 'retry', onClick: () => { retryFailed(r); }});
		modal({title: `Rollout #${r.id}: failed devices`, body, wide: true, buttons});
	}

	function groupsView(r) {
		const gs = r.groups || [];
		if (gs.length < 2 && !(gs[0] && gs[0].approval)) return null;
		return h('ol', {class: 'waves', 'aria-label': 'Waves'}, gs.map((g) => {
			const c = g.counts;
			const share = g.percent ? `${g.percent} %` : g.count ? `${g.count} devices` : g.retry ? 'failed devices' : 'the rest';
			const counts = h('div', {class: 'counts counts-sm'},
				h('button', {type: 'button', class: 'count count-targeted', title: 'Show its devices', onclick: () => groupDevices(r, g, '')},
					h('span', {class: 'count-n'}, String(c.total)), h('span', {class: 'count-l'}, 'devices')),
				GROUP_STATES.filter((k) => c[k]).map((k) => h('button', {type: 'button', class: 'count count-' + k, title: `Show the ${k} devices`, dataset: {count: k}, onclick: () => groupDevices(r, g, k)},
					h('span', {class: 'count-n'}, String(c[k])), h('span', {class: 'count-l'}, k))),
				c.retried ? h('span', {class: 'count'}, h('span', {class: 'count-n'}, String(c.retried)), h('span', {class: 'count-l'}, 'retried')) : null);
			return h('li', {class: 'wave', dataset: {group: String(g.id), state: g.state}},
				h('div', {class: 'wave-head'},
					h('strong', null, g.name), h('span', {class: 'muted small'}, ` ${share} · success ${g.success_percent} %${g.error_percent ? ' · pauses at ' + g.error_percent + ' % failed' : ''}`),
					h('span', {class: 'spacer'}), badge(g.state),
					canWrite && g.state === 'waiting_approval'
						? h('button', {type: 'button', class: 'btn btn-sm btn-primary', dataset: {action: 'approve'}, onclick: () => act(r, `groups/${g.id}/approve`, `${g.name} approved.`)}, icon('play'), 'Approve') : null),
				stackedBar({targeted: c.total, pending: c.pending, running: c.running, succeeded: c.succeeded, failed: c.failed, canceled: c.canceled}, {paused: r.paused}),
				counts);
		}));
	}

	async function remove(r) {
		if (!(await confirmDialog({
			title: 'Delete this rollout?',
			message: `Delete rollout #${r.id}${r.name ? ' “' + r.name + '”' : ''}?`,
			detail: 'Updates already running go on; devices get no new update from this rollout.',
			confirm: 'Delete', danger: true,
		}))) return;
		try {
			await del('/api/v1/rollouts/' + r.id);
			toast(`Rollout #${r.id} deleted.`, 'ok');
			load();
		} catch (e) {
			toastError(e, 'Could not delete the rollout');
		}
	}

	function card(r) {
		const c = r.counts || {};
		const sw = swById.get(r.software_id);
		const finished = r.state === 'finished';
		const status = r.state === 'ready' ? badge(r.start_at ? 'starts ' + age(r.start_at) : 'ready', 'muted')
			: r.state === 'starting' ? badge('starting', 'accent')
				: finished ? badge('finished', 'ok')
					: r.paused ? badge('paused', 'warn') : badge('running', 'accent');
		const counts = h('div', {class: 'counts'}, COUNT_STATES.map((k) => {
			const href = '#/devices?rollout=' + encodeURIComponent(r.id) + (k !== 'targeted' ? '&rollout_state=' + k : '');
			return h('a', {class: 'count count-' + k, href, title: `Show the ${k} devices of this rollout`, dataset: {count: k}},
				h('span', {class: 'count-n'}, String(c[k] || 0)), h('span', {class: 'count-l'}, k,
					k === 'running' && c.stale ? h('span', {class: 'count-note', title: 'Running updates without feedback for updates.stale_timeout'}, ` (${c.stale} stale)`) : null));
		}));
		const superseded = c.superseded
			? h('a', {class: 'muted small', id: 'superseded-' + r.id, href: '#/devices?rollout=' + encodeURIComponent(r.id) + '&rollout_state=superseded'},
				`${c.superseded} device${c.superseded === 1 ? '' : 's'} placed here now follow${c.superseded === 1 ? 's' : ''} a newer rollout or left the feed (not counted).`)
			: null;
		const actions = h('div', {class: 'card-actions'},
			canWrite && r.state === 'ready' ? h('button', {type: 'button', class: 'btn btn-sm btn-primary', dataset: {action: 'start'}, onclick: () => act(r, 'start', `Rollout #${r.id} started.`)}, icon('play'), 'Start') : null,
			c.failed ? h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'failed'}, onclick: () => failedDevices(r)}, icon('file'), 'Failed devices') : null,
			canWrite && c.failed ? h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'retry'}, onclick: () => retryFailed(r)}, icon('refresh'), 'Retry failed') : null,
			canWrite && r.state !== 'ready' && r.state !== 'starting' && !finished ? (r.paused
				? h('button', {type: 'button', class: 'btn btn-sm btn-primary', dataset: {action: 'resume'}, onclick: () => setPaused(r, false)}, icon('play'), 'Resume')
				: h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'pause'}, onclick: () => setPaused(r, true)}, icon('pause'), 'Pause')) : null,
			canWrite ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', dataset: {action: 'edit'}, onclick: () => edit(r)}, icon('edit'), 'Edit') : null,
			canDelete ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', dataset: {action: 'delete'}, onclick: () => remove(r)}, icon('trash'), 'Delete') : null);
		return h('article', {class: 'card rollout' + (String(r.id) === highlight ? ' highlight' : ''), id: 'rollout-' + r.id, dataset: {id: String(r.id), paused: String(!!r.paused), state: r.state}},
			h('div', {class: 'rollout-head'},
				h('div', null,
					h('h2', null, h('span', {class: 'muted'}, `#${r.id} `), r.name || `Rollout of ${r.version || 'software #' + r.software_id}`),
					h('div', {class: 'rollout-sub'},
						'feed ', h('strong', {class: 'mono'}, r.feed || 'default'), ' · version ', h('strong', {class: 'mono'}, r.version || (sw && sw.version) || '?'),
						sw ? h('span', {class: 'muted'}, ` (${sw.name || sw.filename})`) : null,
						' · created ', h('span', {title: fmtTime(r.created_at)}, age(r.created_at)))),
				h('div', {class: 'rollout-status'}, status)),
			r.paused && r.pause_reason ? h('div', {class: 'notice notice-warn'}, 'Paused: ', r.pause_reason) : null,
			r.target_filter ? h('div', {class: 'muted small'}, 'Filter: ', h('code', null, r.target_filter)) : null,
			stackedBar(c, {paused: r.paused && !finished}),
			counts,
			superseded,
			groupsView(r),
			h('div', {class: 'rollout-foot'}, h('span', {class: 'muted small'}, thresholds(r)), h('span', {class: 'spacer'}), actions));
	}

	let first = true;
	async function load() {
		let r;
		try {
			r = await get('/api/v1/rollouts');
		} catch (e) {
			replace(list, h('div', {class: 'inline-error'}, 'Could not load the rollouts: ' + e.detail));
			return;
		}
		const rs = (r.rollouts || []).slice().sort((a, b) => b.id - a.id);
		feeds = [...new Set(rs.map((x) => x.feed).filter(Boolean))];
		const cnt = document.getElementById('rollout-count');
		if (cnt) cnt.textContent = String(rs.length);
		if (!rs.length) {
			replace(list, empty(canWrite ? 'No rollouts yet. Create one to update the devices of a feed.' : 'No rollouts yet.'));
			return;
		}
		// Keyed update: replace each card where it is (keeps the scroll).
		const old = new Map([...list.querySelectorAll('article.rollout')].map((el) => [el.dataset.id, el]));
		const empt = list.querySelector('.empty, .inline-error');
		if (empt) empt.remove();
		let prev = null;
		for (const ro of rs) {
			const el = card(ro);
			const o = old.get(String(ro.id));
			if (o) {
				o.replaceWith(el);
				old.delete(String(ro.id));
			} else if (prev) prev.after(el);
			else list.prepend(el);
			prev = el;
		}
		for (const o of old.values()) o.remove();
		if (first && highlight) {
			const el = document.getElementById('rollout-' + highlight);
			if (el) el.scrollIntoView({block: 'center'});
		}
		first = false;
	}

	if (session.can('software.read')) {
		try {
			const s = await get('/api/v1/software');
			swById = new Map((s.software || []).map((x) => [x.id, x]));
		} catch {
			// versions come with the rollouts anyway
		}
	}
	replace(list, empty('Loading…'));
	await load();
	ctx.every(3000, load);
}
