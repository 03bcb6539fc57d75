// #/devices/<id>: one device, its settings, attributes and token, and its
// update history as a timeline, with the log of the running update
// arriving live over Server-Sent Events.
import {h, add, replace, clear, icon, age, badge, progressBar, fmtTime, empty, copyButton} from '../dom.js';
import {get, patch, post, del} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';
import {MODES, seenBadge, hardware, loadSoftwareOptions, softwareLabel} from './devices.js';
import {setBrief} from './sets.js';
import {refusedText} from './refused.js';

// Entries of an action's history or log in one page.
const PAGE = 100;

const OPEN = new Set(['scheduled', 'pending', 'retrieved', 'running', 'proceeding', 'download', 'downloaded', 'updating', 'canceling', 'offered']);

function isOpen(a) {
	return a && !a.closed_at && OPEN.has(String(a.status));
}

// Assignment types, as hawkBit's.
const ASSIGN_TYPES = [
	['forced', 'Forced: download and install at once'],
	['soft', 'Soft: the device may ask first'],
	['downloadonly', 'Download only: never install'],
	['timeforced', 'Time-forced: soft, then forced'],
];

// "0 0 2 ? * SUN for 01:00:00 at +01:00 · open" with its next start.
function windowText(w) {
	const state = w.state === 'open' ? badge('open', 'ok') : w.state === 'never' ? badge('never again', 'bad') : badge('closed', 'muted');
	return h('span', {class: 'action-window'}, h('span', {class: 'mono'}, w.schedule), ` for ${w.duration} at ${w.timezone} `, state,
		w.state === 'closed' && w.next_start ? h('span', {class: 'muted small'}, ` opens ${fmtTime(w.next_start)}`) : null);
}

function randomToken() {
	const b = new Uint8Array(18);
	crypto.getRandomValues(b);
	return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// ---- why the device gets what it gets ----------------------------------

// The badge of a target's reason: on its way, done, held back, or nothing.
const TARGET_KIND = {
	offer: 'info', updating: 'accent', downloaded: 'accent', up_to_date: 'ok',
	parked: 'warn', incompatible: 'warn', downgrade: 'warn', rollout_paused: 'warn', canceled: 'warn', waiting: 'info',
};

// The server's words for the target ("1.2.0 from rollout #1", "rollout #2
// is paused", ...), the rollout it names as a link.
function targetWords(t) {
	const text = String(t.reason || t.reason_code || '');
	if (!t.rollout_id) return text;
	const tag = `rollout #${t.rollout_id}`;
	const i = text.indexOf(tag);
	if (i < 0) return [text, ' (', h('a', {href: '#/rollouts?id=' + encodeURIComponent(t.rollout_id)}, tag), ')'];
	return [text.slice(0, i), h('a', {href: '#/rollouts?id=' + encodeURIComponent(t.rollout_id)}, tag), text.slice(i + tag.length)];
}

// Whether a set fits the device's hardware, as the server's policy
// decides: by the RAUC compatible when both have one, else by the
// compatibility rows (those naming the device's board shadow the
// any-board ones).  The server has the last word: an assignment it
// refuses answers 409 with its reason.
function revisionMatches(row, rev) {
	if (row.revision === null || row.revision === undefined) return true;
	if (rev === null || rev === undefined || rev === '') return false;
	if (!row.regex) return row.revision === rev;
	try {
		return new RegExp(row.revision).test(rev);
	} catch {
		return false;
	}
}

function fitsHardware(sw, d) {
	if (sw.rauc_compatible && d.compatible) return sw.rauc_compatible === d.compatible;
	const rows = sw.compatibility || [];
	if (!rows.length) return true;
	const board = d.hw_model && rows.some((r) => (r.board || '') === d.hw_model) ? d.hw_model : '';
	return rows.some((r) => (r.board || '') === board && revisionMatches(r, d.hw_revision));
}

// Versions in the policy's order (version.c): SWUpdate's numbering (1 to
// 4 decimal fields) where both are, else SemVer 2.0 (a release after its
// pre-releases), else the bytes.  A semver set compares as SemVer only.
const sign = (x) => (x > 0) - (x < 0);
const DEFAULT_RE = /^\d{1,5}(\.\d{1,5}){0,3}$/;
const SEMVER_RE = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function numCmp(a, b) {
	a = a.replace(/^0+(?=\d)/, '');
	b = b.replace(/^0+(?=\d)/, '');
	return a.length !== b.length ? sign(a.length - b.length) : sign(a.localeCompare(b, 'en'));
}

function semverCmp(ma, mb) {
	for (let i = 1; i <= 3; i++) {
		const c = numCmp(ma[i], mb[i]);
		if (c) return c;
	}
	if (!ma[4] || !mb[4]) return (!ma[4]) - (!mb[4]);
	const pa = ma[4].split('.');
	const pb = mb[4].split('.');
	for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
		const na = /^\d+$/.test(pa[i]);
		const nb = /^\d+$/.test(pb[i]);
		const c = na && nb ? numCmp(pa[i], pb[i]) : na !== nb ? (na ? -1 : 1) : sign(pa[i] < pb[i] ? -1 : pa[i] > pb[i] ? 1 : 0);
		if (c) return c;
	}
	return sign(pa.length - pb.length);
}

function versionCmp(scheme, a, b) {
	a = String(a);
	b = String(b);
	if (scheme !== 'semver' && DEFAULT_RE.test(a) && DEFAULT_RE.test(b)) {
		const fa = a.split('.').map(Number);
		const fb = b.split('.').map(Number);
		for (let i = 0; i < 4; i++) {
			const c = sign((fa[i] || 0) - (fb[i] || 0));
			if (c) return c;
		}
		return 0;
	}
	const ma = SEMVER_RE.exec(a);
	const mb = SEMVER_RE.exec(b);
	if (ma && mb) return semverCmp(ma, mb);
	return a < b ? -1 : a > b ? 1 : 0;
}

// 'fits', 'older' (than installed, downgrades not allowed) or 'unfit'.
function fitOf(sw, d, allowDowngrade) {
	if (!fitsHardware(sw, d)) return 'unfit';
	if (!allowDowngrade && d.installed_version && sw.version &&
		versionCmp(sw.version_scheme, sw.version, d.installed_version) < 0) return 'older';
	return 'fits';
}

const FIT_GROUPS = [
	['fits', 'Fits this device'],
	['older', 'Older than installed (needs "Allow downgrades")'],
	['unfit', 'Does not fit this hardware'],
];

// The software of a picker: what fits first, newest first, then what is
// older than installed, then what does not fit; each marked.
function fitOptions(list, d, allowDowngrade, selectedId) {
	const by = {fits: [], older: [], unfit: []};
	for (const x of list) by[fitOf(x, d, allowDowngrade)].push(x);
	return FIT_GROUPS.filter(([k]) => by[k].length).map(([k, label]) => h('optgroup', {label, dataset: {fit: k}},
		by[k].map((x) => h('option', {value: String(x.id), selected: x.id === selectedId, disabled: x.complete === false && x.id !== selectedId, dataset: {fit: k}},
			softwareLabel(x) + (k === 'unfit' ? ' · does not fit this hardware' : k === 'older' ? ` · older than installed ${d.installed_version}` : '')))));
}

// A refused assignment (409 assignment_refused): the server's reason.
function refusalReason(e) {
	const r = e && e.body && Array.isArray(e.body.refused) && e.body.refused[0];
	return r && r.reason ? r.reason : String(e && e.detail ? e.detail : e);
}

const isRefusal = (e) => e && e.status === 409 && e.code === 'assignment_refused';

function dl(pairs) {
	return h('dl', {class: 'kv'}, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v === null || v === undefined || v === '' ? h('span', {class: 'muted'}, '—') : v)]));
}

export default async function render(ctx) {
	const id = ctx.params[0];
	const base = '/api/v1/devices/' + encodeURIComponent(id);
	const canWrite = session.can('device.write');
	const canDelete = session.can('device.delete');

	const head = h('div', {class: 'page-head'});
	const grid = h('div', {class: 'grid grid-device'});
	const liveDot = h('span', {class: 'live', id: 'live-indicator', title: 'Live updates from the server'}, h('i'), h('span', null, 'connecting…'));
	const timeline = h('div', {class: 'timeline', id: 'timeline'});
	add(ctx.el,
		h('a', {class: 'back', href: '#/devices'}, '‹ Devices'),
		head, grid,
		h('section', {class: 'section'},
			h('div', {class: 'section-head'}, h('h2', null, 'Updates'), liveDot,
				h('a', {class: 'btn btn-sm btn-ghost log-download', id: 'download-log', href: base + '/log', download: '',
					title: 'Every update of this device with its history and log lines, as a text file'}, icon('download'), 'Download the update log (text)')),
			timeline));

	let dev = null;
	let swList = null;
	// The distribution sets shown on the Software card (id -> set, or
	// null when it cannot be read), and the set of the newest successful
	// update.
	const sets = new Map();
	const setLoading = new Set();
	let installedSetId = null;

	async function loadDevice() {
		try {
			dev = await get(base);
		} catch (e) {
			if (e.status === 404) {
				replace(ctx.el, h('a', {class: 'back', href: '#/devices'}, '‹ Devices'),
					h('div', {class: 'card'}, h('h1', null, 'Device not found'), h('p', null, 'There is no device "', h('span', {class: 'mono'}, id), '". It may have been deleted.')));
				dev = null;
				return false;
			}
			throw e;
		}
		renderDevice();
		return true;
	}

	// ---- header and cards ----------------------------------------------

	const form = {};
	let formDirty = false;

	function renderDevice() {
		const d = dev;
		replace(head,
			h('div', {class: 'page-title'},
				h('h1', {class: 'mono', id: 'device-id'}, d.controller_id),
				badge(d.state || 'unknown'), seenBadge(d)),
			h('div', {class: 'head-actions'},
				canDelete ? h('button', {type: 'button', class: 'btn btn-danger', id: 'delete-device', onclick: deleteDevice}, icon('trash'), 'Delete') : null));
		if (d.name) head.firstChild.appendChild(h('span', {class: 'subtitle', id: 'device-name'}, d.name));

		// The settings form is built once, and refreshed only while the
		// operator is not editing it.
		if (!form.card) buildForm();
		if (!formDirty) fillForm();

		const act = d.action;
		const offeredId = act && isOpen(act) ? act.distribution_id || act.software_id : null;
		const softwareCard = h('div', {class: 'card'},
			h('h2', null, 'Software'),
			dl([
				['Installed', d.installed_version ? h('span', {class: 'mono', id: 'installed-version'}, d.installed_version) : null],
				['Target', targetField(d)],
				['Current update', act ? h('span', null, `#${act.id} `, badge(act.status)) : null],
				d.last_failure ? ['Last failure', failureField(d.last_failure)] : null,
			]),
			offeredId ? setBox(offeredId, 'Offered', 'offered-set', act) : null,
			installedSetId && installedSetId !== offeredId ? setBox(installedSetId, 'Installed', 'installed-set') : null,
			act && isOpen(act) ? progressBar(act.progress || 0) : null,
			canWrite ? h('div', {class: 'card-actions'},
				h('button', {type: 'button', class: 'btn btn-sm', id: 'assign-set', onclick: assignDialog}, icon('upload'), 'Assign…'),
				act && isOpen(act) && act.status !== 'canceling' ? h('button', {type: 'button', class: 'btn btn-sm', id: 'cancel-action', onclick: () => cancelAction(act.id)}, icon('x'), 'Cancel update') : null,
				act && act.status === 'canceling' ? h('button', {type: 'button', class: 'btn btn-sm btn-danger', id: 'force-quit-action', onclick: () => forceQuit(act.id)}, 'Force quit') : null) : null);

		const tokenActions = canWrite ? h('div', {class: 'card-actions'},
			h('button', {type: 'button', class: 'btn btn-sm', id: 'set-token', onclick: setToken}, icon('key'), d.has_token ? 'Reset token' : 'Set token'),
			d.has_token ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', id: 'clear-token', onclick: clearToken}, 'Clear token') : null) : null;
		const connCard = h('div', {class: 'card'},
			h('h2', null, 'Connection'),
			dl([
				['Last seen', d.last_seen ? h('span', null, age(d.last_seen), ' · ', fmtTime(d.last_seen)) : 'never'],
				['Status', seenBadge(d)],
				['Address', d.last_address ? h('span', {class: 'mono'}, d.last_address) : null],
				d.refused ? ['Refused', refusedField(d.refused)] : null,
				['Poll interval', d.poll_interval ? `${d.poll_interval} s` : null],
				['Hardware', h('span', null, hardware(d))],
				d.compatible ? ['RAUC compatible', h('span', {class: 'mono', id: 'device-compatible'}, d.compatible)] : null,
				['Registered', fmtTime(d.created_at)],
				['TargetToken', d.has_token ? badge('set', 'ok') : badge('none', 'muted')],
			]),
			tokenActions);

		const attrs = Object.entries(d.attributes || {}).sort((a, b) => a[0].localeCompare(b[0]));
		const attrCard = h('div', {class: 'card'},
			h('h2', null, 'Attributes'),
			attrs.length ? h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact', id: 'attributes'},
				h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Value'))),
				h('tbody', null, attrs.map(([k, v]) => h('tr', null,
					h('td', {class: 'mono'}, k),
					h('td', {class: 'mono attr-value'}, typeof v === 'string' ? v : JSON.stringify(v)))))))
				: empty('The device has sent no attributes (configData) yet.'));

		replace(grid, form.card, softwareCard, connCard, attrCard);
	}

	// The effective target and why, with the one change that would let
	// it through where there is one.
	function targetField(d) {
		const t = d.target;
		if (!t) return d.target_version ? h('span', {class: 'mono', id: 'target-version'}, d.target_version) : null;
		const fix = !canWrite ? null
			: t.reason_code === 'parked' ? h('button', {type: 'button', class: 'btn btn-sm', id: 'target-force', onclick: () => quickPatch({force: true}, 'The device is offered the update again.')}, 'Force a retry')
				: t.reason_code === 'downgrade' ? h('button', {type: 'button', class: 'btn btn-sm', id: 'target-downgrade', onclick: () => quickPatch({allow_downgrade: true}, 'Downgrades allowed.')}, 'Allow the downgrade')
					: null;
		return h('div', {class: 'target', id: 'device-target', dataset: {reason: t.reason_code || ''}},
			h('div', {class: 'target-line'},
				t.version ? h('span', {class: 'mono', id: 'target-version'}, t.version) : null,
				badge(String(t.reason_code || 'none').replace(/_/g, ' '), TARGET_KIND[t.reason_code] || 'muted')),
			h('div', {class: 'target-reason', id: 'target-reason'}, targetWords(t)),
			fix ? h('div', {class: 'target-fix'}, fix) : null);
	}

	function failureField(f) {
		// "compatible mismatch (RAUC) · code 4 INSTALL_FAILED"; a reason
		// that is the code's name is not said twice.
		const hasCode = f.code !== null && f.code !== undefined;
		const name = f.code_name && f.code_name !== f.reason ? ' ' + f.code_name : '';
		return h('div', {class: 'failure', id: 'last-failure'},
			h('strong', {class: 'failure-reason'}, f.reason || f.code_name || 'failed'),
			hasCode ? h('span', {class: 'muted small mono failure-code'}, ` · code ${f.code}${name}`) : null,
			f.message ? h('div', {class: 'failure-msg muted small'}, String(f.message)) : null);
	}

	function refusedField(r) {
		return h('div', {class: 'refusal', id: 'device-refused', dataset: {reason: r.reason_code || ''}},
			h('strong', {class: 'refused-label'}, 'refused: '), refusedText(r),
			r.address ? h('div', {class: 'muted small'}, 'from ', h('span', {class: 'mono'}, r.address), ' · first ', fmtTime(r.first_at)) : null,
			h('div', null, h('a', {href: '#/refused', class: 'small'}, 'All refused requests')));
	}

	async function quickPatch(p, done) {
		try {
			dev = await patch(base, p);
			toast(done, 'ok');
			if (!formDirty) fillForm();
			renderDevice();
		} catch (e) {
			toastError(e, 'Could not change the device');
		}
	}

	// A distribution set with its modules, fetched once.
	function setBox(setId, label, elId, act) {
		if (!sets.has(setId)) {
			if (!setLoading.has(setId) && session.can('software.read')) {
				setLoading.add(setId);
				get('/api/v1/software/' + encodeURIComponent(setId)).then((x) => sets.set(setId, x), () => sets.set(setId, null))
					.finally(() => {
						setLoading.delete(setId);
						if (dev && !ctx.scope.dead) renderDevice();
					});
			}
			return h('div', {class: 'set-brief', id: elId},
				h('div', {class: 'set-brief-head'}, h('span', {class: 'set-brief-label'}, label),
					act && act.name ? h('strong', null, act.name) : h('span', {class: 'muted'}, `set #${setId}`), ' ', act && act.version ? h('span', {class: 'mono'}, act.version) : null));
		}
		const x = sets.get(setId);
		if (!x) {
			return h('div', {class: 'set-brief', id: elId},
				h('div', {class: 'set-brief-head'}, h('span', {class: 'set-brief-label'}, label), h('span', {class: 'muted'}, `set #${setId}`),
					act && act.version ? h('span', {class: 'mono'}, act.version) : null));
		}
		return setBrief(x, {id: elId, label});
	}

	function buildForm() {
		form.name = h('input', {class: 'input', id: 'edit-name', disabled: !canWrite, autocomplete: 'off'});
		form.mode = h('select', {class: 'input', id: 'edit-mode', disabled: !canWrite}, MODES.map((m) => h('option', {value: m}, m)));
		form.feed = h('input', {class: 'input', id: 'edit-feed', disabled: !canWrite, autocomplete: 'off'});
		form.software = h('select', {class: 'input', id: 'edit-software', disabled: !canWrite});
		form.force = h('input', {type: 'checkbox', id: 'edit-force', disabled: !canWrite});
		form.downgrade = h('input', {type: 'checkbox', id: 'edit-downgrade', disabled: !canWrite});
		form.swField = field('Assigned software', form.software);
		form.save = h('button', {type: 'submit', class: 'btn btn-primary btn-sm', id: 'save-device', disabled: true}, 'Save');
		form.reset = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', hidden: true, onclick: () => {
			formDirty = false;
			fillForm();
		}}, 'Discard changes');
		form.card = h('form', {class: 'card', id: 'device-form', novalidate: true},
			h('h2', null, 'Settings'),
			field('Name', form.name),
			field('Update mode', form.mode),
			field('Feed', form.feed),
			form.swField,
			h('label', {class: 'check'}, form.force, h('span', null, 'Force the update (also after a failure)')),
			h('label', {class: 'check'}, form.downgrade, h('span', null, 'Allow downgrades')),
			canWrite ? h('div', {class: 'card-actions'}, form.save, form.reset) : h('p', {class: 'muted small'}, 'Read-only: your account may not change devices.'));
		const dirty = () => {
			formDirty = true;
			form.save.disabled = false;
			form.reset.hidden = false;
			form.swField.hidden = form.mode.value !== 'assigned';
		};
		for (const el of [form.name, form.feed]) el.addEventListener('input', dirty);
		for (const el of [form.mode, form.software, form.force, form.downgrade]) el.addEventListener('change', dirty);
		// What is older than installed fits once downgrades are allowed.
		form.downgrade.addEventListener('change', () => fillSoftware(true));
		form.card.addEventListener('submit', (ev) => {
			ev.preventDefault();
			saveForm();
		});
	}

	// keep: the operator is editing the form; keep the set chosen.
	function fillSoftware(keep) {
		const cur = keep && form.software.value ? Number(form.software.value) : dev.assigned_software_id;
		clear(form.software);
		form.software.appendChild(h('option', {value: ''}, '(none)'));
		add(form.software, fitOptions(swList || [], dev, form.downgrade.checked, cur));
		if (cur && !(swList || []).some((x) => x.id === cur)) form.software.appendChild(h('option', {value: String(cur), selected: true}, `#${cur}`));
	}

	function fillForm() {
		form.name.value = dev.name || '';
		form.mode.value = dev.mode || 'rollout';
		form.feed.value = dev.feed || '';
		form.force.checked = !!dev.force;
		form.downgrade.checked = !!dev.allow_downgrade;
		fillSoftware();
		form.swField.hidden = form.mode.value !== 'assigned';
		form.save.disabled = true;
		form.reset.hidden = true;
	}

	async function saveForm() {
		const p = {};
		if ((dev.name || '') !== form.name.value.trim()) p.name = form.name.value.trim();
		if (dev.mode !== form.mode.value) p.mode = form.mode.value;
		if ((dev.feed || '') !== form.feed.value.trim()) p.feed = form.feed.value.trim();
		if (form.mode.value === 'assigned') {
			const v = form.software.value ? Number(form.software.value) : null;
			if (!v) {
				toast('Choose the software to assign.', 'error');
				return;
			}
			if (v !== dev.assigned_software_id) p.assigned_software_id = v;
		}
		if (!!dev.force !== form.force.checked) p.force = form.force.checked;
		if (!!dev.allow_downgrade !== form.downgrade.checked) p.allow_downgrade = form.downgrade.checked;
		if (!Object.keys(p).length) {
			formDirty = false;
			fillForm();
			return;
		}
		form.save.disabled = true;
		try {
			try {
				dev = await patch(base, p);
			} catch (e) {
				// Software that does not fit, or older than installed:
				// the server says why; the operator may insist.
				if (!isRefusal(e)) throw e;
				if (!(await confirmDialog({title: 'Assign it anyway?', message: `The server refused: ${refusalReason(e)}.`,
					detail: 'Confirmed, the assignment is made, but the device is offered nothing until the reason goes away (another set, or "Allow downgrades").',
					confirm: 'Assign anyway'}))) {
					form.save.disabled = false;
					return;
				}
				dev = await patch(base, Object.assign({}, p, {confirm: true}));
			}
			formDirty = false;
			toast('Device saved.', 'ok');
			renderDevice();
			loadActions();
		} catch (e) {
			form.save.disabled = false;
			toastError(e, 'Could not save the device');
		}
	}

	async function deleteDevice() {
		if (!(await confirmDialog({title: 'Delete this device?', message: `Delete ${id} and its update history?`,
			detail: 'If it polls again it registers anew, without its name, token or settings.', confirm: 'Delete', danger: true}))) return;
		try {
			await del(base);
			toast(`Device ${id} deleted.`, 'ok');
			ctx.navigate('#/devices');
		} catch (e) {
			toastError(e, 'Could not delete the device');
		}
	}

	async function cancelAction(actionId) {
		if (!(await confirmDialog({title: 'Cancel this update?', message: `Cancel update #${actionId} on ${id}?`,
			detail: 'A device that already fetched the update is asked to stop; the update stays "canceling" until it confirms.', confirm: 'Cancel update', danger: true}))) return;
		try {
			await post(`/api/v1/actions/${encodeURIComponent(actionId)}/cancel`);
			toast(`Update #${actionId} is being canceled.`, 'ok');
			await refreshAll();
		} catch (e) {
			toastError(e, 'Could not cancel the update');
		}
	}

	async function forceQuit(actionId) {
		if (!(await confirmDialog({title: 'Force quit this update?', message: `Close update #${actionId} on ${id} as canceled without the device?`,
			detail: 'Use it when the device will never confirm the cancel. If it still runs the update, the server no longer follows it.', confirm: 'Force quit', danger: true}))) return;
		try {
			await post(`/api/v1/actions/${encodeURIComponent(actionId)}/force-quit`);
			toast(`Update #${actionId} was force-quit.`, 'ok');
			await refreshAll();
		} catch (e) {
			toastError(e, 'Could not force quit the update');
		}
	}

	// An explicit assignment, as hawkBit's: a set, a type and an optional
	// maintenance window.
	async function assignDialog() {
		let list = swList;
		try {
			if (!list) list = swList = await loadSoftwareOptions();
		} catch (e) {
			toastError(e, 'Could not load the software');
			return;
		}
		const setSel = h('select', {class: 'input', id: 'assign-set-select'}, fitOptions(list, dev, !!dev.allow_downgrade, dev.assigned_software_id));
		const fitNote = h('p', {class: 'field-hint fit-note', id: 'assign-fit-note', 'aria-live': 'polite'});
		const showFit = () => {
			const o = setSel.selectedOptions[0];
			const k = o ? o.dataset.fit : '';
			fitNote.textContent = k === 'unfit' ? 'This set does not fit the device\'s hardware: the server asks to confirm, and the device will not be offered it.'
				: k === 'older' ? `Older than the installed ${dev.installed_version}, and this device does not allow downgrades: the server asks to confirm.` : '';
			fitNote.hidden = !fitNote.textContent;
		};
		setSel.addEventListener('change', () => {
			showFit();
			refusal.hidden = true;
		});
		// Where the server's refusal (409) goes, with its confirm button.
		const refusal = h('div', {class: 'notice notice-warn refusal-box', id: 'assign-refusal', role: 'alert', hidden: true});
		let dlg = null;
		const send = async (body) => {
			const a = await post(base + '/assign', body);
			toast(a.already_assigned ? `Update #${a.id} of that set is open already.` : `Update #${a.id} assigned.`, 'ok');
			await refreshAll();
		};
		const typeSel = h('select', {class: 'input', id: 'assign-type'}, ASSIGN_TYPES.map(([v, label]) => h('option', {value: v}, label)));
		const forceAt = h('input', {class: 'input', id: 'assign-forcetime', type: 'datetime-local'});
		const forceField = field('Forced from', forceAt, 'Soft until then, forced after.');
		const schedule = h('input', {class: 'input mono', id: 'assign-schedule', placeholder: '0 0 2 ? * SUN', autocomplete: 'off', spellcheck: 'false'});
		const duration = h('input', {class: 'input mono', id: 'assign-duration', placeholder: '01:00:00', autocomplete: 'off'});
		const tz = h('input', {class: 'input mono', id: 'assign-timezone', placeholder: '+00:00', autocomplete: 'off'});
		const showForce = () => { forceField.hidden = typeSel.value !== 'timeforced'; };
		typeSel.addEventListener('change', showForce);
		showForce();
		dlg = modal({
			title: `Assign software to ${id}`,
			body: [
				h('p', {class: 'muted'}, 'The device is offered the set at once, even if it runs it already; an open update of another set is canceled.'),
				field('Software', setSel),
				fitNote,
				field('Type', typeSel),
				forceField,
				h('fieldset', {class: 'fieldset'}, h('legend', null, 'Maintenance window (optional)'),
					field('Schedule (Quartz cron)', schedule, 'second minute hour day-of-month month day-of-week [year]'),
					field('Duration', duration, 'HH:MM:SS'),
					field('Time zone', tz, '+HH:MM')),
				refusal,
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Assign', kind: 'primary', submit: true, role: 'assign', onClick: async () => {
					const body = {distribution_id: Number(setSel.value), type: typeSel.value};
					if (!body.distribution_id) throw new Error('Choose the software to assign.');
					if (body.type === 'timeforced') {
						const t = Date.parse(forceAt.value);
						if (!t) throw new Error('Choose when the update becomes forced.');
						body.forcetime = t;
					}
					const w = [schedule.value.trim(), duration.value.trim(), tz.value.trim()];
					if (w.some(Boolean)) {
						if (!w.every(Boolean)) throw new Error('A window needs its schedule, duration and time zone.');
						body.maintenance_window = {schedule: w[0], duration: w[1], timezone: w[2]};
					}
					try {
						await send(body);
					} catch (e) {
						if (!isRefusal(e)) throw e;
						replace(refusal,
							h('p', null, h('strong', null, 'Refused: '), refusalReason(e), '.'),
							h('p', {class: 'muted small'}, 'Assigned anyway, the device is not offered it until the reason goes away.'),
							h('button', {type: 'button', class: 'btn btn-sm btn-danger', id: 'assign-confirm', onclick: async (ev) => {
								const btn = ev.currentTarget;
								btn.disabled = true;
								try {
									await send(Object.assign({}, body, {confirm: true}));
									if (dlg) dlg.close();
								} catch (e2) {
									btn.disabled = false;
									if (dlg) dlg.setError(e2 && e2.detail ? e2.detail : String(e2));
								}
							}}, 'Assign anyway'));
						refusal.hidden = false;
						return false;
					}
				}},
			],
		});
		showFit();
	}

	function setToken() {
		const tokIn = h('input', {class: 'input mono', id: 'token-input', autocomplete: 'off', spellcheck: 'false', minlength: '8', value: randomToken()});
		modal({
			title: dev.has_token ? 'Reset the TargetToken' : 'Set a TargetToken',
			body: [
				h('p', {class: 'muted'}, 'The device must send "Authorization: TargetToken <token>". Only a hash is stored: copy the token now.'),
				field('Token', h('div', {class: 'input-row'}, tokIn,
					h('button', {type: 'button', class: 'btn btn-sm', onclick: () => { tokIn.value = randomToken(); }}, 'Generate'))),
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Save token', kind: 'primary', submit: true, onClick: async () => {
					if (tokIn.value.length < 8) throw new Error('The token needs at least 8 characters.');
					const tok = tokIn.value;
					dev = await patch(base, {token: tok});
					renderDevice();
					modal({title: 'Token saved', body: [h('p', null, 'Configure the device with this token:'), h('div', {class: 'secret'}, h('code', {class: 'mono'}, tok), copyButton(tok))],
						buttons: [{label: 'Done', kind: 'primary', submit: true}]});
				}},
			],
		});
	}

	async function clearToken() {
		if (!(await confirmDialog({title: 'Clear the token?', message: `Remove the TargetToken of ${id}?`,
			detail: 'Depending on device_auth.mode the device may then poll without a token, or be refused.', confirm: 'Clear token', danger: true}))) return;
		try {
			dev = await patch(base, {token: null});
			toast('Token cleared.', 'ok');
			renderDevice();
		} catch (e) {
			toastError(e, 'Could not clear the token');
		}
	}

	// ---- the timeline ----------------------------------------------------

	const items = new Map(); // action id -> component

	// One of an action's two lists, its history or its log, shown a page
	// at a time: the newest entries first, older ones on "Load older".
	// Entries are kept in id order and merged by id, so a line that came
	// by the event stream and again by a reload is shown once; a folded
	// entry (the device repeated it) is redrawn with its new count.
	// Where the server dropped entries (past its cap it keeps the first
	// ones and the newest) a marker says how many.
	function pagedList(kind, actionId, box, row, onChange) {
		const ids = []; // shown, ascending
		const shown = new Map(); // id -> {el, entry}
		let nextBefore = null;
		let dropped = 0;
		let droppedAfter = null;
		const more = h('button', {type: 'button', class: 'btn btn-sm btn-ghost load-older', hidden: true, dataset: {kind},
			onclick: () => older().catch((e) => toastError(e, `Could not load the older ${kind === 'log' ? 'lines' : 'entries'}`))}, 'Load older');
		const marker = h(kind === 'log' ? 'span' : 'li', {class: kind === 'log' ? 'log-dropped muted' : 'hist-dropped muted'});
		const url = (before) => `/api/v1/actions/${encodeURIComponent(actionId)}/${kind}?limit=${PAGE}${before ? '&before=' + before : ''}`;
		const list = {more, loaded: false, count: () => ids.length};

		function place(entry, via) {
			const old = shown.get(entry.id);
			if (old) {
				if (old.entry.repeats !== entry.repeats || old.entry.last_at !== entry.last_at) {
					const el = row(entry, old.el.dataset.via || via);
					old.el.replaceWith(el);
					shown.set(entry.id, {el, entry});
				}
				return;
			}
			const el = row(entry, via);
			let i = ids.length;
			while (i > 0 && ids[i - 1] > entry.id) i--;
			ids.splice(i, 0, entry.id);
			shown.set(entry.id, {el, entry});
			if (i + 1 < ids.length) shown.get(ids[i + 1]).el.before(el);
			else box.appendChild(el);
		}
		function placeMarker() {
			marker.remove();
			if (!dropped || droppedAfter === null) return;
			const i = ids.findIndex((id) => id > droppedAfter);
			if (i <= 0) return; // the head is not shown yet (or nothing after it)
			marker.textContent = `… ${dropped} ${kind === 'log' ? 'lines' : 'entries'} dropped here: past its cap the server keeps the first and the newest …`;
			shown.get(ids[i]).el.before(marker);
		}
		function apply(p, via) {
			dropped = p.dropped || 0;
			droppedAfter = p.dropped_after === undefined ? null : p.dropped_after;
			for (const e of p[kind] || []) place(e, via);
			placeMarker();
			more.hidden = nextBefore === null;
			onChange();
		}
		function clearAll() {
			for (const {el} of shown.values()) el.remove();
			ids.length = 0;
			shown.clear();
		}
		// The newest page: the first load, or a reload.
		list.refresh = async () => {
			const p = await get(url(null));
			const page = p[kind] || [];
			const newest = ids.length ? ids[ids.length - 1] : null;
			// More new entries than a page since the last look would leave
			// a hole: start again from the newest page.
			const hole = newest !== null && page.length && page[0].id > newest && p.next_before !== null;
			if (!list.loaded || hole) {
				if (hole) clearAll();
				nextBefore = p.next_before;
			}
			apply(p, list.loaded ? 'reload' : 'load');
			list.loaded = true;
		};
		async function older() {
			if (nextBefore === null) return;
			more.disabled = true;
			try {
				const p = await get(url(nextBefore));
				nextBefore = p.next_before;
				apply(p, 'older');
			} finally {
				more.disabled = false;
			}
		}
		// A line from the event stream; before the first load, the load
		// brings it.
		list.live = (entry, via) => {
			if (!list.loaded || entry.id === undefined) return false;
			place(entry, via);
			placeMarker();
			onChange();
			return true;
		};
		return list;
	}

	const repeats = (e, cls) => e.repeats > 1 ? h('span', {class: cls, title: `${e.repeats} times, the last at ${fmtTime(e.last_at)}`}, ` ×${e.repeats}`) : null;

	function histRow(ev) {
		return h('li', {class: 'hist-item', dataset: {status: ev.status, id: String(ev.id)}},
			h('span', {class: 'hist-at', title: fmtTime(ev.at)}, fmtTime(ev.at).slice(5)),
			badge(ev.status), ev.message ? h('span', {class: 'hist-msg'}, String(ev.message)) : null,
			repeats(ev, 'hist-repeats muted small'));
	}

	function logRow(entry, via) {
		return h('span', {class: 'log-line', dataset: {via, id: String(entry.id)}},
			h('span', {class: 'log-at'}, entry.at ? fmtTime(entry.at).slice(11) : ''), ' ', String(entry.line),
			repeats(entry, 'log-repeats muted'));
	}

	function actionItem(a) {
		const statusEl = h('span', {class: 'action-status'});
		const progEl = h('div', {class: 'action-progress'});
		const meta = h('div', {class: 'action-meta'});
		const hist = h('ol', {class: 'history'});
		const logPre = h('pre', {class: 'log', dataset: {action: String(a.id)}});
		const cancelBtn = h('button', {type: 'button', class: 'btn btn-sm', hidden: true, onclick: () => cancelAction(a.id)}, icon('x'), 'Cancel');
		const quitBtn = h('button', {type: 'button', class: 'btn btn-sm btn-danger force-quit', hidden: true, onclick: () => forceQuit(a.id)}, 'Force quit');
		const c = {action: a, signature: null};
		const logChanged = () => {
			const n = c.log.count();
			logWrap.classList.toggle('log-empty', n === 0);
			const ph = logPre.querySelector('.log-placeholder');
			if (n === 0 && !ph) logPre.appendChild(h('span', {class: 'muted log-placeholder'}, 'No log lines yet.'));
			else if (n > 0 && ph) ph.remove();
		};
		const atBottom = () => logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 8;
		c.history = pagedList('history', a.id, hist, histRow, () => {});
		c.log = pagedList('log', a.id, logPre, logRow, logChanged);
		const logWrap = h('div', {class: 'log-wrap'}, h('div', {class: 'log-head'}, 'Log'), c.log.more, logPre);
		const details = h('details', {class: 'action', id: 'action-' + a.id, dataset: {action: String(a.id)}},
			h('summary', null,
				h('span', {class: 'tl-dot'}),
				h('span', {class: 'action-title'}, h('strong', null, `#${a.id}`), ' ', a.name ? h('span', {class: 'action-set'}, a.name) : null, ' ', h('span', {class: 'mono'}, a.version || ''), ' ',
					a.filename && !a.name ? h('span', {class: 'muted'}, a.filename) : null),
				statusEl),
			h('div', {class: 'action-body'}, meta, progEl, h('div', {class: 'action-cols'}, h('div', null, h('div', {class: 'log-head'}, 'History'), c.history.more, hist), logWrap), canWrite ? h('div', {class: 'card-actions'}, cancelBtn, quitBtn) : null));
		c.root = details;
		// Lines come from the event stream as they happen, and from the
		// reloads (the lines before the page opened, or any the stream
		// missed).  The lists load when the action is first opened.
		c.liveLog = (entry) => {
			const bottom = atBottom();
			if (c.log.live(entry, 'sse')) {
				c.sse = (c.sse || 0) + 1;
				if (bottom) logPre.scrollTop = logPre.scrollHeight;
			}
		};
		// One reload of both lists at a time; a later call while one runs
		// shares it.
		let inflight = null;
		c.refreshLists = () => {
			if (inflight) return inflight;
			const bottom = atBottom();
			inflight = Promise.all([c.history.refresh(), c.log.refresh()]).then(() => {
				if (bottom) logPre.scrollTop = logPre.scrollHeight;
			}).finally(() => {
				inflight = null;
			});
			return inflight;
		};
		details.addEventListener('toggle', () => {
			if (details.open && !c.log.loaded) c.refreshLists().catch(() => {});
		});
		c.update = (x) => {
			c.action = Object.assign(c.action, x);
			const ac = c.action;
			details.dataset.status = ac.status;
			replace(statusEl, badge(ac.status), ac.result_code !== null && ac.result_code !== undefined ? h('span', {class: 'muted small'}, ` code ${ac.result_code}`) : null);
			const open = isOpen(ac);
			replace(progEl, open || ac.progress ? progressBar(ac.status === 'succeeded' ? 100 : ac.progress || 0, {kind: ac.status === 'failed' ? 'bad' : ac.status === 'succeeded' ? 'ok' : null}) : null);
			replace(meta, dl([
				['Created', fmtTime(ac.created_at)],
				['Updated', ac.updated_at ? h('span', null, age(ac.updated_at)) : null],
				ac.closed_at ? ['Closed', fmtTime(ac.closed_at)] : null,
				['Rollout', ac.rollout_id ? h('a', {href: '#/rollouts'}, `#${ac.rollout_id}`) : 'direct'],
				ac.forced ? ['Forced', 'yes'] : null,
				ac.type ? ['Type', h('span', {class: 'action-type'}, ac.type + (ac.explicit ? ' · assigned' : ''))] : null,
				ac.type === 'timeforced' && ac.force_time ? ['Forced from', fmtTime(Math.floor(ac.force_time / 1000))] : null,
				ac.maintenance_window ? ['Window', windowText(ac.maintenance_window)] : null,
				['Result code', ac.result_code !== null && ac.result_code !== undefined ? String(ac.result_code) : null],
				ac.history_dropped || ac.log_dropped ? ['Dropped', `${ac.history_dropped || 0} history entries, ${ac.log_dropped || 0} log lines (over the cap)`] : null,
			]));
			cancelBtn.hidden = !open || ac.status === 'canceling';
			quitBtn.hidden = ac.status !== 'canceling';
			// The lists of an open item reload while the action runs, and
			// when its summary changes.
			const sig = [ac.status, ac.updated_at, ac.history_count, ac.history_dropped, ac.log_count, ac.log_dropped, ac.last_message, ac.last_line].join('|');
			const changed = sig !== c.signature;
			c.signature = sig;
			if (details.open && (!c.log.loaded || open || changed)) c.refreshLists().catch(() => {});
		};
		c.update(a);
		logChanged();
		return c;
	}

	async function loadActions() {
		let r;
		try {
			r = await get(base + '/actions');
		} catch (e) {
			if (e.status === 404) return;
			throw e;
		}
		const list = r.actions || [];
		const done = list.find((a) => a.status === 'succeeded');
		const inst = done ? done.distribution_id || done.software_id || null : null;
		if (inst !== installedSetId) {
			installedSetId = inst;
			if (dev) renderDevice();
		}
		if (!list.length) {
			items.clear();
			replace(timeline, empty('No update has been offered to this device yet.'));
			return;
		}
		const ph = timeline.querySelector('.empty');
		if (ph) ph.remove();
		// Newest first; insert new items at their place, update the others.
		let prevEl = null;
		list.forEach((a, i) => {
			let c = items.get(a.id);
			if (!c) {
				c = actionItem(a);
				items.set(a.id, c);
				// The newest action opens by itself, and so does any open one.
				if (i === 0 || isOpen(a)) {
					c.root.open = true;
					c.refreshLists().catch(() => {});
				}
				if (prevEl) prevEl.after(c.root);
				else timeline.prepend(c.root);
			} else {
				c.update(a);
			}
			prevEl = c.root;
		});
	}

	async function refreshAll() {
		if (await loadDevice()) await loadActions();
	}

	// ---- Server-Sent Events ------------------------------------------------

	let es = null;
	let reloadTimer = null;
	const scheduleReload = () => {
		clearTimeout(reloadTimer);
		reloadTimer = setTimeout(() => refreshAll().catch(() => {}), 300);
	};
	function setLive(state, text) {
		liveDot.className = 'live live-' + state;
		liveDot.lastChild.textContent = text;
	}
	function openEvents() {
		if (es || typeof EventSource === 'undefined') return;
		es = new EventSource(base + '/events', {withCredentials: true});
		es.addEventListener('open', () => setLive('on', 'live'));
		es.addEventListener('error', () => {
			if (!es) return;
			setLive(es.readyState === EventSource.CLOSED ? 'off' : 'wait', es.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…');
			if (es.readyState === EventSource.CLOSED) {
				// The server refused the stream (e.g. the session ended):
				// fall back to polling, retry later.
				es = null;
				setTimeout(() => { if (!document.hidden && !ctx.scope.dead) openEvents(); }, 10000);
			}
		});
		es.addEventListener('log', (ev) => {
			let m;
			try {
				m = JSON.parse(ev.data);
			} catch {
				return;
			}
			const c = items.get(m.action_id);
			if (c) {
				c.liveLog(m);
			} else {
				scheduleReload();
			}
		});
		es.addEventListener('action', (ev) => {
			let m;
			try {
				m = JSON.parse(ev.data);
			} catch {
				return;
			}
			const c = items.get(m.id);
			if (c) {
				const {log, history, ...summary} = m;
				c.update(summary);
			}
			scheduleReload();
		});
	}
	function closeEvents() {
		if (es) es.close();
		es = null;
		setLive('off', 'paused');
	}
	const onVis = () => {
		if (document.hidden) closeEvents();
		else {
			openEvents();
			refreshAll().catch(() => {});
		}
	};
	document.addEventListener('visibilitychange', onVis);
	ctx.onCleanup(() => {
		document.removeEventListener('visibilitychange', onVis);
		clearTimeout(reloadTimer);
		closeEvents();
	});

	if (!(await loadDevice())) return;
	if (canWrite && session.can('software.read')) {
		loadSoftwareOptions().then((l) => {
			swList = l;
			if (dev) fillSoftware(formDirty);
		}).catch(() => {});
	}
	await loadActions();
	openEvents();
	// A slow safety net for last_seen and for a missed event.
	ctx.every(5000, async () => {
		if (dev) await refreshAll();
	});
}
