// #/rollouts: create from a feed and a software, pause/resume, thresholds,
// and per-rollout progress with counts linking to the filtered device list.
import {h, add, replace, icon, badge, age, fmtTime, empty} from '../dom.js';
import {get, post, patch, del} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';
import {loadSoftwareOptions, softwareOption} from './devices.js';

// Which device state each count stands for in the device list.
const COUNT_STATES = [
	{key: 'targeted', label: 'targeted', state: ''},
	{key: 'pending', label: 'pending', state: 'pending'},
	{key: 'running', label: 'running', state: 'updating'},
	{key: 'succeeded', label: 'succeeded', state: 'in_sync'},
	{key: 'failed', label: 'failed', state: 'failed'},
];

function stackedBar(c) {
	const total = Math.max(1, c.targeted || 0);
	const seg = (cls, n, title) => {
		if (!n) return null;
		const el = h('div', {class: 'seg ' + cls, title: `${n} ${title}`});
		el.style.width = (100 * n) / total + '%';
		return el;
	};
	const done = (c.succeeded || 0) + (c.failed || 0);
	const pct = c.targeted ? Math.round((100 * done) / c.targeted) : 0;
	return h('div', {class: 'stacked-wrap'},
		h('div', {class: 'stacked', role: 'progressbar', 'aria-valuenow': String(pct), 'aria-valuemin': '0', 'aria-valuemax': '100',
			title: `${done} of ${c.targeted || 0} done`},
		seg('seg-ok', c.succeeded, 'succeeded'), seg('seg-bad', c.failed, 'failed'), seg('seg-run', c.running, 'running'), seg('seg-pend', c.pending, 'pending')),
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
		modal({
			title: 'New rollout',
			body: [
				h('p', {class: 'muted'}, 'Every device of the feed in rollout mode whose hardware fits the software is updated, at most "max running" at a time.'),
				field('Software', swSel),
				field('Feed', feed), feedList,
				field('Name (optional)', name),
				h('div', {class: 'form-row'},
					field('Max running', maxRun, 'Simultaneous updates'),
					field('Pause after failures', failCount, 'Count'),
					field('…or failure rate', failPct, 'Percent')),
				h('label', {class: 'check'}, paused, h('span', null, 'Create paused (start it later)')),
			],
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
		const status = r.paused ? badge('paused', 'warn') : (c.targeted && (c.succeeded || 0) + (c.failed || 0) >= c.targeted ? badge('complete', 'ok') : badge('running', 'accent'));
		const counts = h('div', {class: 'counts'}, COUNT_STATES.map((k) => {
			const href = '#/devices?rollout=' + encodeURIComponent(r.id) + (k.state ? '&state=' + k.state : '');
			return h('a', {class: 'count count-' + k.key, href, title: `Show the ${k.label} devices`, dataset: {count: k.key}},
				h('span', {class: 'count-n'}, String(c[k.key] || 0)), h('span', {class: 'count-l'}, k.label));
		}), c.stale ? h('span', {class: 'count count-stale', title: 'Running updates without feedback for updates.stale_timeout'}, h('span', {class: 'count-n'}, String(c.stale)), h('span', {class: 'count-l'}, 'stale')) : null);
		const actions = h('div', {class: 'card-actions'},
			canWrite ? (r.paused
				? h('button', {type: 'button', class: 'btn btn-sm btn-primary', dataset: {action: 'resume'}, onclick: () => setPaused(r, false)}, icon('play'), 'Resume')
				: h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'pause'}, onclick: () => setPaused(r, true)}, icon('pause'), 'Pause')) : null,
			canWrite ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', dataset: {action: 'edit'}, onclick: () => edit(r)}, icon('edit'), 'Edit') : null,
			canDelete ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', dataset: {action: 'delete'}, onclick: () => remove(r)}, icon('trash'), 'Delete') : null);
		return h('article', {class: 'card rollout' + (String(r.id) === highlight ? ' highlight' : ''), id: 'rollout-' + r.id, dataset: {id: String(r.id), paused: String(!!r.paused)}},
			h('div', {class: 'rollout-head'},
				h('div', null,
					h('h2', null, h('span', {class: 'muted'}, `#${r.id} `), r.name || `Rollout of ${r.version || 'software #' + r.software_id}`),
					h('div', {class: 'rollout-sub'},
						'feed ', h('strong', {class: 'mono'}, r.feed || 'default'), ' · version ', h('strong', {class: 'mono'}, r.version || (sw && sw.version) || '?'),
						sw ? h('span', {class: 'muted'}, ` (${sw.name || sw.filename})`) : null,
						' · created ', h('span', {title: fmtTime(r.created_at)}, age(r.created_at)))),
				h('div', {class: 'rollout-status'}, status)),
			r.paused && r.pause_reason ? h('div', {class: 'notice notice-warn'}, 'Paused: ', r.pause_reason) : null,
			stackedBar(c),
			counts,
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
