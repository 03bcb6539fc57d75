// hawkBit's software model in the dashboard: distribution sets of typed
// software modules, each module with its artifacts (stored files or
// external URLs) and what the server's readers found in them (.swu
// images, RAUC bundles).  The shared rendering (software page, device
// page) and the dialogs that make and edit modules and sets.
import {h, replace, icon, badge, progressBar, fmtBytes, fmtTime, toDate, copyButton} from '../dom.js';
import {get, post, patch, del, uploadFile} from '../api.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';

export const MULTI_NOTE = 'rauc-hawkbit-updater and the Python rauc client take only one chunk with one artifact; SWUpdate takes several, each with a .swu artifact (it fails the update on a module without one), and the hawkBit SDK takes any';

export const SCHEMES = [
	['swupdate', 'swupdate — as SWUpdate orders versions'],
	['semver', 'semver — SemVer, as RAUC orders bundles'],
	['none', 'none'],
];

const FORMAT_LABEL = {swu: 'SWUpdate image', raucb: 'RAUC bundle', file: 'file'};

// The module and set types, loaded once per page.
export async function loadTypes() {
	const [mt, dt] = await Promise.all([
		get('/api/v1/moduletypes').catch(() => ({types: []})),
		get('/api/v1/distributiontypes').catch(() => ({types: []})),
	]);
	return {modules: mt.types || [], sets: dt.types || []};
}

export function typeName(types, key) {
	const t = (types && types.sets || []).find((x) => x.key === key);
	return t ? t.name : key || '?';
}

function moduleTypeName(types, key) {
	const t = (types && types.modules || []).find((x) => x.key === key);
	return t ? t.name : key;
}

function mono(v, attrs) {
	return v === null || v === undefined || v === '' ? null : h('span', Object.assign({class: 'mono'}, attrs || {}), String(v));
}

export function kv(pairs, cls) {
	return h('dl', {class: 'kv' + (cls ? ' ' + cls : '')}, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k),
		h('dd', null, v === null || v === undefined || v === '' ? h('span', {class: 'muted'}, '—') : v)]));
}

// Every artifact of a set, with its module.
export function artifactsOf(set) {
	const out = [];
	for (const m of set.modules || []) for (const a of m.artifacts || []) out.push({m, a});
	return out;
}

// A set the simple clients cannot take: several modules or several
// artifacts (they take one chunk with one artifact).
export function isMulti(set) {
	const ms = set.modules || [];
	return ms.length > 1 || ms.some((m) => (m.artifacts || []).length > 1);
}

// The mandatory module types a set lacks and the module types its type
// does not admit.
export function completeness(set, types) {
	const t = (types && types.sets || []).find((x) => x.key === set.type);
	if (!t) return {missing: [], refused: []};
	const have = new Set((set.modules || []).map((m) => m.type));
	const missing = (t.mandatory || []).filter((k) => !have.has(k)).map((k) => moduleTypeName(types, k));
	const allowed = new Set([...(t.mandatory || []), ...(t.optional || [])]);
	const refused = [...have].filter((k) => !allowed.has(k)).map((k) => moduleTypeName(types, k));
	return {missing, refused};
}

export function completeBadge(set) {
	return set.complete
		? badge('complete', 'ok')
		: h('span', {class: 'badge badge-warn', title: 'A mandatory module type is missing: it cannot be assigned or rolled out yet'}, 'incomplete');
}

// ---- signatures -------------------------------------------------------------

function isSigned(a) {
	const info = a.info || {};
	if (a.format === 'raucb') return true;
	if (a.format === 'swu') return !!info.signed;
	return ['verified', 'unchecked', 'failed'].includes(a.signature);
}

// Badges for one artifact's signature: a warning when the check was not
// made or could not be, an error when it failed.
export function signatureBadges(a) {
	const info = a.info || {};
	const sig = info.signature && typeof info.signature === 'object' ? info.signature : {};
	const st = a.signature || 'none';
	if (st === 'verified') return h('span', {class: 'badge badge-ok sig-badge', dataset: {sig: st}}, 'signature verified');
	if (st === 'failed') return h('span', {class: 'badge badge-bad sig-badge', dataset: {sig: st}, title: sig.error || 'The signature does not verify'}, 'signature check failed');
	if (st === 'unreadable') return h('span', {class: 'badge badge-warn sig-badge', dataset: {sig: st}, title: 'The signature is inside the encrypted part: the server cannot read it'}, 'signature unreadable');
	if (st === 'unchecked') {
		return [badge('signed', 'ok'), ' ', h('span', {class: 'badge badge-warn sig-badge', dataset: {sig: st},
			title: 'No key or keyring is configured on the server: the signature was not checked'}, 'not checked')];
	}
	if (a.format === 'swu' || a.format === 'raucb') return h('span', {class: 'badge badge-muted sig-badge', dataset: {sig: 'none'}}, isSigned(a) ? 'signed' : 'unsigned');
	return null;
}

// The same, summed up over a set: the worst case shows.
export function setSignature(set) {
	const all = artifactsOf(set).map((x) => x.a);
	if (!all.length) return h('span', {class: 'muted'}, '—');
	const st = new Set(all.map((a) => a.signature));
	const signed = all.filter(isSigned);
	if (st.has('failed')) return h('span', {class: 'badge badge-bad', dataset: {sig: 'failed'}}, 'check failed');
	if (signed.length && signed.every((a) => a.signature === 'verified')) return h('span', {class: 'badge badge-ok', dataset: {sig: 'verified'}}, 'verified');
	if (!signed.length) return h('span', {class: 'badge badge-muted', dataset: {sig: 'none'}}, 'unsigned');
	return h('span', {class: 'chips'}, badge('signed', 'ok'),
		st.has('unchecked') ? h('span', {class: 'badge badge-warn', dataset: {sig: 'unchecked'}, title: 'The server did not check the signature (no key or keyring configured)'}, 'not checked') : null,
		st.has('unreadable') ? h('span', {class: 'badge badge-warn', dataset: {sig: 'unreadable'}}, 'unreadable') : null);
}

// ---- what the readers found ---------------------------------------------------

function hashLine(name, value) {
	if (!value) return null;
	return h('div', {class: 'hash'}, h('span', {class: 'hash-name'}, name), h('code', {class: 'mono hash-value'}, value), copyButton(value, ''));
}

export function showHashes(name, hs) {
	hs = hs || {};
	modal({title: `Hashes of ${name}`, wide: true,
		body: [hashLine('MD5', hs.md5), hashLine('SHA-1', hs.sha1), hashLine('SHA-256', hs.sha256),
			!hs.md5 || !hs.sha256 ? h('p', {class: 'muted small'}, 'Hashes not given for an external artifact are not known.') : null],
		buttons: [{label: 'Close', kind: 'primary', submit: true}]});
}

function hooksText(v) {
	if (!v) return null;
	return h('span', {class: 'chips'}, String(v).split(/[;,\s]+/).filter(Boolean).map((x) => h('span', {class: 'chip chip-plain mono'}, x)));
}

function raucInfo(info) {
	const sig = info.signature && typeof info.signature === 'object' ? info.signature : {};
	const exp = toDate(sig.signer_not_after);
	const expired = exp && exp.getTime() < Date.now();
	const images = Array.isArray(info.images) ? info.images : [];
	const bundleHooks = [info.hooks ? hooksText(info.hooks) : null, info.hook_file ? h('span', {class: 'muted small'}, ' hook script in the bundle') : null].filter(Boolean);
	return h('div', {class: 'reader reader-rauc'},
		kv([
			['Bundle format', mono(info.format, {dataset: {field: 'bundle-format'}})],
			['Compatible', mono(info.compatible, {dataset: {field: 'compatible'}})],
			info.version ? ['Version', mono(info.version)] : null,
			info.build ? ['Build', mono(info.build)] : null,
			info.description ? ['Description', info.description] : null,
			['Hooks', bundleHooks.length ? bundleHooks : h('span', {class: 'muted'}, 'none')],
			info.handler ? ['Handler', 'custom install handler'] : null,
			info.verity ? ['Verity', h('span', null, mono(String(info.verity.hash || '').slice(0, 16) + '…', {title: info.verity.hash}), info.verity.size ? h('span', {class: 'muted'}, ` · ${fmtBytes(info.verity.size)} hash tree`) : null)] : null,
			Array.isArray(info.recipients) && info.recipients.length ? ['Recipients', h('div', {class: 'recipients'}, info.recipients.map((r) => h('div', {class: 'mono small'}, r)))] : null,
			['Signature', h('span', {class: 'chips'}, sigStatusBadge(sig.status), sig.error ? h('span', {class: 'error-text small'}, sig.error) : null)],
			sig.signer_subject ? ['Signer', h('span', {class: 'mono', dataset: {field: 'signer'}}, sig.signer_subject)] : null,
			sig.signer_issuer && sig.signer_issuer !== sig.signer_subject ? ['Issuer', mono(sig.signer_issuer)] : null,
			exp ? ['Certificate expires', h('span', null, fmtTime(sig.signer_not_after).slice(0, 10), expired ? [' ', badge('expired', 'bad')] : null)] : null,
		], 'kv-reader'),
		images.length ? h('div', {class: 'table-scroll'}, h('table', {class: 'table table-compact images-table'},
			h('thead', null, h('tr', null, ['Slot class', 'Variant', 'File', 'Size', 'Hooks'].map((x) => h('th', null, x)))),
			h('tbody', null, images.map((im) => h('tr', {dataset: {image: im.class || ''}},
				h('td', {class: 'mono'}, im.class || '—'),
				h('td', {class: 'mono'}, im.variant || h('span', {class: 'muted'}, '—')),
				h('td', {class: 'mono'}, im.filename || '—'),
				h('td', {class: 'num nowrap'}, fmtBytes(im.size)),
				h('td', null, im.hooks ? hooksText(im.hooks) : h('span', {class: 'muted'}, '—')))))))
			: h('p', {class: 'muted small'}, info.format === 'crypt-encrypted' ? 'The bundle is encrypted: its manifest and images cannot be read without a recipient key.' : 'No images listed.'));
}

function sigStatusBadge(st) {
	if (st === 'verified') return badge('verified', 'ok');
	if (st === 'failed') return badge('check failed', 'bad');
	if (st === 'unchecked') return h('span', {class: 'badge badge-warn', title: 'rauc.keyring is not set: the server did not check the signature'}, 'not checked');
	if (st === 'unreadable') return badge('unreadable', 'warn');
	return badge(st || 'unknown', 'muted');
}

function swuInfo(info) {
	return h('div', {class: 'reader reader-swu'},
		kv([
			['sw-description', info.signed ? h('span', null, badge('signed', 'ok'), h('span', {class: 'muted small'}, ' sw-description.sig present')) : badge('unsigned', 'muted')],
			typeof info.entries === 'number' ? ['Entries', String(info.entries)] : null,
		], 'kv-reader'));
}

export function readerInfo(a) {
	const info = a.info || {};
	if (a.format === 'raucb' && Object.keys(info).length) return raucInfo(info);
	if (a.format === 'swu' && Object.keys(info).length) return swuInfo(info);
	return null;
}

// ---- artifacts and modules --------------------------------------------------------

function safeUrl(u) {
	return /^https?:\/\//i.test(String(u || '')) ? String(u) : null;
}

// One artifact: name, format, size, signature, where it is, hashes, and
// what the reader found.  opts: {onDelete}
export function artifactBlock(m, a, opts = {}) {
	const hs = a.hashes || {};
	const url = safeUrl(a.url);
	const where = a.url
		? h('span', {class: 'artifact-src'}, icon('link', 'icon-sm'), ' ', url ? h('a', {href: url, target: '_blank', rel: 'noopener noreferrer', class: 'mono small artifact-url'}, a.url) : h('span', {class: 'mono small'}, a.url),
			a.stored ? badge('stored', 'ok') : h('span', {class: 'badge badge-muted', title: 'Devices download it from this URL'}, 'external'))
		: null;
	return h('div', {class: 'artifact', dataset: {artifact: String(a.id), format: a.format || 'file'}},
		h('div', {class: 'artifact-head'},
			icon(a.url && !a.stored ? 'link' : 'file', 'icon-sm'),
			h('strong', {class: 'mono artifact-name'}, a.filename || '?'),
			h('span', {class: 'badge badge-info artifact-format'}, FORMAT_LABEL[a.format] || a.format || 'file'),
			h('span', {class: 'muted nowrap'}, fmtBytes(a.size)),
			signatureBadges(a),
			h('span', {class: 'spacer'}),
			hs.sha256 || hs.sha1 ? h('button', {type: 'button', class: 'link-btn mono small', title: 'Show all hashes', onclick: () => showHashes(a.filename, hs)},
				hs.sha256 ? 'sha256 ' + hs.sha256.slice(0, 10) + '…' : 'sha1 ' + hs.sha1.slice(0, 10) + '…') : null,
			a.stored && !a.url && !m.deleted ? h('a', {class: 'btn btn-sm btn-ghost', href: `/api/v1/modules/${m.id}/artifacts/${a.id}/file`, download: a.filename || '', title: 'Download'}, icon('download'), h('span', {class: 'hide-sm'}, 'Download')) : null,
			opts.onDelete ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', title: 'Delete this artifact', 'aria-label': 'Delete ' + (a.filename || 'artifact'), dataset: {action: 'delete-artifact'}, onclick: () => opts.onDelete(a)}, icon('trash')) : null),
		where,
		readerInfo(a));
}

function metadataChips(list, withVisible) {
	if (!list || !list.length) return null;
	return h('span', {class: 'chips metadata'}, list.map((x) => h('span', {class: 'chip chip-plain', title: withVisible ? (x.target_visible ? 'Sent to the device with the deployment' : 'Not sent to the device') : null},
		h('span', {class: 'mono'}, x.key), ' = ', h('span', {class: 'mono'}, x.value === null || x.value === undefined ? '' : String(x.value)),
		withVisible && x.target_visible ? h('span', {class: 'muted small'}, ' · device') : null)));
}

// A module with its artifacts.  opts: {canWrite, canDelete, reload,
// inSet} — with canWrite, the buttons to add artifacts and edit metadata.
export function moduleBlock(m, opts = {}) {
	const arts = m.artifacts || [];
	const locked = !!m.locked;
	const w = opts.canWrite && !m.deleted;
	const reload = opts.reload || (() => {});
	const actions = w ? h('div', {class: 'module-actions'},
		!locked ? h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'add-file'}, onclick: () => addFileDialog(m, reload)}, icon('upload'), 'Add file') : null,
		!locked ? h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'add-url'}, onclick: () => addUrlDialog(m, reload)}, icon('link'), 'Add URL') : null,
		h('button', {type: 'button', class: 'btn btn-sm btn-ghost', dataset: {action: 'edit-module'}, onclick: () => editModuleDialog(m, reload)}, icon('tag'), 'Details & metadata'),
		opts.canDelete && !opts.inSet ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', dataset: {action: 'delete-module'}, onclick: () => deleteModule(m, reload)}, icon('trash'), 'Delete module') : null) : null;
	const onDelete = opts.canDelete && !locked && !m.deleted ? (a) => deleteArtifact(m, a, reload) : null;
	return h('section', {class: 'module', dataset: {module: String(m.id), type: m.type || ''}},
		h('header', {class: 'module-head'},
			h('span', {class: 'badge badge-accent module-type'}, m.type_name || m.type || '?'),
			h('strong', {class: 'module-name'}, m.name),
			h('span', {class: 'mono module-version'}, m.version),
			m.vendor ? h('span', {class: 'muted module-vendor'}, 'by ' + m.vendor) : null,
			m.encrypted ? badge('encrypted', 'info') : null,
			locked ? h('span', {class: 'badge badge-muted', title: 'Devices were given a set holding this module: its artifacts stay as they are'}, icon('lock', 'icon-sm'), ' locked') : null,
			m.deleted ? badge('deleted', 'muted') : null),
		m.description ? h('p', {class: 'muted small module-desc'}, m.description) : null,
		metadataChips(m.metadata, true),
		arts.length ? h('div', {class: 'artifacts'}, arts.map((a) => artifactBlock(m, a, {onDelete})))
			: h('p', {class: 'muted small no-artifacts'}, 'No artifacts yet.'),
		actions);
}

// The short form, for the device page: the set and its modules.
// "on 3 devices": the devices whose newest successful update installed
// this set (installed_devices of the software list), a link to those
// devices; null where the answer does not say.
export function installedOn(set) {
	const n = set.installed_devices;
	if (n === undefined || n === null) return null;
	const attrs = {class: 'installed-on' + (n ? '' : ' muted'), dataset: {n: String(n)}, title: `Installed on ${n} device${n === 1 ? '' : 's'} (their newest successful update)`};
	const text = n ? `on ${n} device${n === 1 ? '' : 's'}` : 'on no device';
	return n ? h('a', {...attrs, href: '#/devices?installed_distribution_id=' + encodeURIComponent(set.id)}, text) : h('span', attrs, text);
}

export function setBrief(set, {id, label}) {
	const ms = set.modules || [];
	return h('div', {class: 'set-brief', id, dataset: {set: String(set.id)}},
		h('div', {class: 'set-brief-head'},
			h('span', {class: 'set-brief-label'}, label),
			h('strong', {class: 'set-name'}, set.name || '?'), ' ', h('span', {class: 'mono'}, set.version || ''),
			set.deleted ? badge('deleted', 'muted') : null,
			set.installed_devices !== undefined ? h('span', {class: 'muted small'}, ' · installed ', installedOn(set)) : null),
		ms.length ? h('ul', {class: 'module-lines'}, ms.map((m) => h('li', {dataset: {module: String(m.id)}},
			h('span', {class: 'badge badge-accent'}, m.type_name || m.type || '?'),
			h('span', {class: 'module-name'}, m.name),
			h('span', {class: 'mono muted'}, m.version),
			h('span', {class: 'muted small'}, `${(m.artifacts || []).length} artifact${(m.artifacts || []).length === 1 ? '' : 's'}`))))
			: h('p', {class: 'muted small'}, 'No modules.'),
		isMulti(set) ? h('p', {class: 'muted small multi-note'}, MULTI_NOTE) : null);
}

// ---- small form parts ------------------------------------------------------------

// Editable rows of key/value (and "visible to the device").
function metadataEditor(rows, withVisible) {
	const list = h('div', {class: 'edit-rows', id: 'metadata-rows'});
	const addRow = (r = {}) => {
		const key = h('input', {class: 'input mono meta-key', placeholder: 'key', value: r.key || '', 'aria-label': 'Key', autocomplete: 'off'});
		const val = h('input', {class: 'input meta-value', placeholder: 'value', value: r.value === null || r.value === undefined ? '' : String(r.value), 'aria-label': 'Value', autocomplete: 'off'});
		const vis = withVisible ? h('input', {type: 'checkbox', class: 'meta-visible', checked: !!r.target_visible}) : null;
		const row = h('div', {class: 'edit-row meta-row'}, key, val,
			vis ? h('label', {class: 'check check-inline', title: 'Send it to the device with the deployment'}, vis, h('span', null, 'device')) : null,
			h('button', {type: 'button', class: 'btn btn-ghost btn-icon btn-sm', 'aria-label': 'Remove this entry', onclick: () => row.remove()}, icon('x')));
		list.appendChild(row);
		return key;
	};
	for (const r of rows || []) addRow(r);
	const addBtn = h('button', {type: 'button', class: 'btn btn-sm btn-ghost', id: 'add-metadata', onclick: () => addRow().focus()}, icon('plus'), 'Add entry');
	return {
		el: h('div', {class: 'edit-block'}, list, addBtn),
		value() {
			const out = [];
			const seen = new Set();
			for (const row of list.querySelectorAll('.meta-row')) {
				const k = row.querySelector('.meta-key').value.trim();
				const v = row.querySelector('.meta-value').value;
				if (!k && !v) continue;
				if (!k) throw new Error('A metadata entry has a value but no key.');
				if (seen.has(k)) throw new Error(`The metadata key "${k}" is there twice.`);
				seen.add(k);
				const e = {key: k, value: v};
				if (withVisible) e.target_visible = row.querySelector('.meta-visible').checked;
				out.push(e);
			}
			return out;
		},
	};
}

// Editable compatibility rows: board ("" = any), revision (empty = any),
// revision is a regular expression.
function compatEditor(rows, disabled) {
	const list = h('div', {class: 'edit-rows', id: 'compat-rows'});
	const addRow = (r = {}) => {
		const board = h('input', {class: 'input mono compat-board', placeholder: 'any board', value: r.board || '', 'aria-label': 'Board', autocomplete: 'off', disabled});
		const rev = h('input', {class: 'input mono compat-revision', placeholder: 'any revision', value: r.revision || '', 'aria-label': 'Revision', autocomplete: 'off', disabled});
		const re = h('input', {type: 'checkbox', class: 'compat-regex', checked: !!r.regex, disabled});
		const row = h('div', {class: 'edit-row compat-row'}, board, rev,
			h('label', {class: 'check check-inline', title: 'The revision is a regular expression'}, re, h('span', null, 'regex')),
			h('button', {type: 'button', class: 'btn btn-ghost btn-icon btn-sm', 'aria-label': 'Remove this row', disabled, onclick: () => row.remove()}, icon('x')));
		list.appendChild(row);
		return board;
	};
	for (const r of rows || []) addRow(r);
	const addBtn = h('button', {type: 'button', class: 'btn btn-sm btn-ghost', id: 'add-compat', disabled, onclick: () => addRow().focus()}, icon('plus'), 'Add hardware');
	return {
		el: h('div', {class: 'edit-block'}, list, addBtn),
		value() {
			const out = [];
			for (const row of list.querySelectorAll('.compat-row')) {
				const board = row.querySelector('.compat-board').value.trim();
				const revision = row.querySelector('.compat-revision').value.trim();
				const regex = row.querySelector('.compat-regex').checked;
				if (!board && !revision) continue;
				if (regex && !revision) throw new Error('A regex row needs a revision (the regular expression).');
				out.push({board, revision: revision || null, regex});
			}
			return out;
		},
	};
}

function textInput(id, value, attrs = {}) {
	return h('input', Object.assign({class: 'input', id, value: value === null || value === undefined ? '' : String(value), autocomplete: 'off', spellcheck: 'false'}, attrs));
}

// ---- module dialogs -----------------------------------------------------------------

export function newModuleDialog(types, onDone) {
	const mts = types.modules.length ? types.modules : [{key: 'os', name: 'OS'}, {key: 'application', name: 'Application'}];
	const type = h('select', {class: 'input', id: 'module-type'}, mts.map((t) => h('option', {value: t.key, title: t.description || null}, t.name)));
	const name = textInput('module-name', '', {required: true, maxlength: '128', placeholder: 'e.g. rootfs'});
	const version = textInput('module-version', '', {required: true, class: 'input mono', placeholder: 'e.g. 1.4.0'});
	const vendor = textInput('module-vendor', '', {placeholder: 'optional'});
	const desc = h('textarea', {class: 'input', id: 'module-description', rows: '2', placeholder: 'optional'});
	const enc = h('input', {type: 'checkbox', id: 'module-encrypted'});
	const hint = h('span', {class: 'field-hint'});
	const showHint = () => {
		const t = mts.find((x) => x.key === type.value);
		hint.textContent = t ? [t.description, t.max_assignments > 1 && t.max_assignments < 1e6 ? `at most ${t.max_assignments} per set` : t.max_assignments === 1 ? 'one per set' : 'any number per set'].filter(Boolean).join(' · ') : '';
	};
	type.addEventListener('change', showHint);
	showHint();
	modal({
		title: 'New software module',
		body: [
			h('p', {class: 'muted'}, 'A module is one piece of software (an OS image, an application) with any number of artifacts. Put modules together in a distribution set to offer them to devices.'),
			h('label', {class: 'field'}, h('span', {class: 'field-label'}, 'Type'), type, hint),
			h('div', {class: 'form-row form-row-2'}, field('Name', name), field('Version', version)),
			field('Vendor', vendor),
			field('Description', desc),
			h('label', {class: 'check'}, enc, h('span', null, 'Its artifacts are encrypted (the device decrypts them)')),
		],
		buttons: [
			{label: 'Cancel', kind: 'ghost'},
			{label: 'Create module', kind: 'primary', submit: true, role: 'create', onClick: async () => {
				const body = {type: type.value, name: name.value.trim(), version: version.value.trim()};
				if (!body.name || !body.version) throw new Error('Enter a name and a version.');
				if (vendor.value.trim()) body.vendor = vendor.value.trim();
				if (desc.value.trim()) body.description = desc.value.trim();
				if (enc.checked) body.encrypted = true;
				const m = await post('/api/v1/modules', body);
				toast(`Module ${m.name} ${m.version} created: add its artifacts.`, 'ok');
				if (onDone) onDone(m);
			}},
		],
	});
}

export function editModuleDialog(m, onDone) {
	const vendor = textInput('module-vendor', m.vendor || '', {placeholder: 'optional'});
	const desc = h('textarea', {class: 'input', id: 'module-description', rows: '2'});
	desc.value = m.description || '';
	const meta = metadataEditor(m.metadata || [], true);
	modal({
		title: `Module ${m.name} ${m.version}`,
		wide: true,
		body: [
			field('Vendor', vendor),
			field('Description', desc),
			h('div', {class: 'field'}, h('span', {class: 'field-label'}, 'Metadata'),
				h('span', {class: 'field-hint'}, 'Key/value pairs; "device" ones are sent to the device with the deployment (hawkBit\'s targetVisible).'),
				meta.el),
		],
		buttons: [
			{label: 'Cancel', kind: 'ghost'},
			{label: 'Save', kind: 'primary', submit: true, role: 'save', onClick: async () => {
				const body = {metadata: meta.value()};
				if ((m.vendor || '') !== vendor.value.trim()) body.vendor = vendor.value.trim();
				if ((m.description || '') !== desc.value.trim()) body.description = desc.value.trim();
				await patch('/api/v1/modules/' + m.id, body);
				toast(`Module ${m.name} ${m.version} saved.`, 'ok');
				if (onDone) onDone();
			}},
		],
	});
}

export async function deleteModule(m, onDone) {
	if (!(await confirmDialog({
		title: 'Delete this module?',
		message: `Delete the module ${m.name} ${m.version} and its ${(m.artifacts || []).length} artifact(s)?`,
		detail: 'A module in a distribution set cannot be deleted: remove it from the set, or delete the set, first.',
		confirm: 'Delete', danger: true,
	}))) return;
	try {
		await del('/api/v1/modules/' + m.id);
		toast(`Module ${m.name} ${m.version} deleted.`, 'ok');
		if (onDone) onDone();
	} catch (e) {
		toastError(e, 'Cannot delete this module');
	}
}

export async function deleteArtifact(m, a, onDone) {
	if (!(await confirmDialog({
		title: 'Delete this artifact?',
		message: `Delete ${a.filename} from the module ${m.name} ${m.version}?`,
		confirm: 'Delete', danger: true,
	}))) return;
	try {
		await del(`/api/v1/modules/${m.id}/artifacts/${a.id}`);
		toast(`${a.filename} deleted.`, 'ok');
		if (onDone) onDone();
	} catch (e) {
		toastError(e, 'Cannot delete this artifact');
	}
}

// Upload one file into a module, with a progress bar in the dialog.
export function addFileDialog(m, onDone) {
	const file = h('input', {type: 'file', class: 'input input-file', id: 'artifact-file'});
	const name = textInput('artifact-filename', '', {placeholder: 'the file\'s own name', class: 'input mono'});
	const prog = h('div', {class: 'artifact-progress', hidden: true});
	let up = null;
	file.addEventListener('change', () => {
		if (file.files[0] && !name.value) name.placeholder = file.files[0].name;
	});
	modal({
		title: `Add a file to ${m.name} ${m.version}`,
		body: [
			h('p', {class: 'muted'}, 'Any file: a plain file is stored as it is; a .swu image or a .raucb RAUC bundle is read and checked as on the upload above.'),
			field('File', file),
			field('File name', name, 'Optional: the name devices see; the file\'s own name by default.'),
			prog,
		],
		onClose: () => {
			if (up) up.abort();
		},
		buttons: [
			{label: 'Cancel', kind: 'ghost'},
			{label: 'Upload', kind: 'primary', submit: true, role: 'upload', onClick: async () => {
				const f = file.files[0];
				if (!f) throw new Error('Choose a file.');
				const fname = name.value.trim() || f.name;
				prog.hidden = false;
				replace(prog, progressBar(0));
				up = uploadFile(`/api/v1/modules/${m.id}/artifacts?filename=${encodeURIComponent(fname)}`, f, (loaded, total) => {
					replace(prog, progressBar(total ? (loaded / total) * 100 : 0));
				});
				try {
					const a = await up.promise;
					toast(`${a && a.filename ? a.filename : fname} added to ${m.name} ${m.version}.`, 'ok');
				} finally {
					up = null;
				}
				if (onDone) onDone();
			}},
		],
	});
}

const HEX = {md5: 32, sha1: 40, sha256: 64};

export function addUrlDialog(m, onDone) {
	const url = textInput('ext-url', '', {type: 'url', class: 'input mono', placeholder: 'https://…', required: true});
	const fname = textInput('ext-filename', '', {class: 'input mono', placeholder: 'from the URL'});
	const size = textInput('ext-size', '', {type: 'number', min: '0', step: '1', class: 'input mono', required: true});
	const sha1 = textInput('ext-sha1', '', {class: 'input mono', placeholder: '40 hex digits', required: true});
	const md5 = textInput('ext-md5', '', {class: 'input mono', placeholder: 'optional'});
	const sha256 = textInput('ext-sha256', '', {class: 'input mono', placeholder: 'optional'});
	const fetchIt = h('input', {type: 'checkbox', id: 'ext-fetch'});
	modal({
		title: `Add an external artifact to ${m.name} ${m.version}`,
		wide: true,
		body: [
			h('p', {class: 'muted'}, 'Devices download it from the URL, not from Falconet. Its size and SHA-1 are what the devices check (hawkBit\'s DDI sends them).'),
			field('URL', url),
			h('div', {class: 'form-row form-row-2'}, field('File name', fname), field('Size (bytes)', size)),
			field('SHA-1', sha1),
			h('div', {class: 'form-row form-row-2'}, field('MD5', md5), field('SHA-256', sha256)),
			h('label', {class: 'check'}, fetchIt, h('span', null, 'Fetch it once now to check the size and hashes (and fill in the missing ones)')),
		],
		buttons: [
			{label: 'Cancel', kind: 'ghost'},
			{label: 'Add artifact', kind: 'primary', submit: true, role: 'add', onClick: async () => {
				const body = {url: url.value.trim()};
				if (!/^https?:\/\/\S+$/i.test(body.url)) throw new Error('The URL must start with http:// or https://.');
				if (!/^\d+$/.test(size.value.trim())) throw new Error('Enter the size in bytes.');
				body.size = Number(size.value.trim());
				for (const [k, el] of [['sha1', sha1], ['md5', md5], ['sha256', sha256]]) {
					const v = el.value.trim().toLowerCase();
					if (!v && k !== 'sha1') continue;
					if (!new RegExp(`^[0-9a-f]{${HEX[k]}}$`).test(v)) throw new Error(`${k.toUpperCase()}: ${HEX[k]} hex digits.`);
					body[k] = v;
				}
				if (fname.value.trim()) body.filename = fname.value.trim();
				if (fetchIt.checked) body.fetch = true;
				const a = await post(`/api/v1/modules/${m.id}/external-artifacts`, body);
				toast(`${a && a.filename ? a.filename : 'The artifact'} added to ${m.name} ${m.version}.`, 'ok');
				if (onDone) onDone();
			}},
		],
	});
}

// ---- set dialog -------------------------------------------------------------------------

// New set (set null) or edit one.  A locked set (devices were given it)
// keeps its name, version, modules and compatibility.
export async function setDialog(set, types, onDone) {
	let modules = [];
	try {
		modules = (await get('/api/v1/modules?limit=1000')).modules || [];
	} catch (e) {
		toastError(e, 'Could not load the modules');
		return;
	}
	const editing = !!set;
	const locked = editing && !!set.locked;
	const s0 = set || {name: '', version: '', type: 'os_app', version_scheme: 'swupdate', modules: [], compatibility: [], metadata: []};
	const chosen = new Set((s0.modules || []).map((m) => m.id));
	// The set's own modules first, then the others, newest first.
	const byId = new Map(modules.map((m) => [m.id, m]));
	for (const m of s0.modules || []) if (!byId.has(m.id)) byId.set(m.id, m);
	const all = [...byId.values()].filter((m) => !m.deleted || chosen.has(m.id))
		.sort((a, b) => (chosen.has(b.id) - chosen.has(a.id)) || (b.created_at || 0) - (a.created_at || 0) || b.id - a.id);

	const name = textInput('set-name', s0.name, {required: true, disabled: locked, placeholder: 'e.g. gateway-firmware'});
	const version = textInput('set-version', s0.version, {required: true, disabled: locked, class: 'input mono', placeholder: 'e.g. 2.1.0'});
	const sts = types.sets.length ? types.sets : [{key: 'os', name: 'OS only'}, {key: 'app', name: 'App(s) only'}, {key: 'os_app', name: 'OS with app(s)'}];
	const type = h('select', {class: 'input', id: 'set-type', disabled: editing}, sts.map((t) => h('option', {value: t.key, selected: t.key === s0.type}, t.name)));
	const scheme = h('select', {class: 'input', id: 'set-scheme'}, SCHEMES.map(([k, l]) => h('option', {value: k, selected: k === (s0.version_scheme || 'swupdate')}, l)));
	const rauc = textInput('set-rauc', s0.rauc_compatible || '', {class: 'input mono', placeholder: 'optional'});
	const desc = h('textarea', {class: 'input', id: 'set-description', rows: '2', placeholder: 'optional'});
	desc.value = s0.description || '';
	const filter = h('input', {type: 'search', class: 'input', id: 'set-module-filter', placeholder: 'Filter modules', 'aria-label': 'Filter modules', disabled: locked});
	const picker = h('div', {class: 'module-picker', id: 'set-modules', role: 'group', 'aria-label': 'Modules'},
		all.length ? all.map((m) => h('label', {class: 'pick', dataset: {module: String(m.id), text: `${m.type_name || m.type} ${m.name} ${m.version} ${m.vendor || ''}`.toLowerCase()}},
			h('input', {type: 'checkbox', value: String(m.id), checked: chosen.has(m.id), disabled: locked}),
			h('span', {class: 'badge badge-accent'}, m.type_name || m.type),
			h('span', {class: 'pick-name'}, m.name), h('span', {class: 'mono'}, m.version),
			m.vendor ? h('span', {class: 'muted small'}, m.vendor) : null,
			h('span', {class: 'muted small pick-arts'}, `${(m.artifacts || []).length} artifact${(m.artifacts || []).length === 1 ? '' : 's'}`)))
			: h('p', {class: 'muted small'}, 'No modules yet: create one with "New module" or upload an image.'));
	filter.addEventListener('input', () => {
		const q = filter.value.trim().toLowerCase();
		for (const el of picker.querySelectorAll('.pick')) el.hidden = !!q && !el.dataset.text.includes(q);
	});
	const status = h('div', {class: 'set-status', id: 'set-status', 'aria-live': 'polite'});
	const picked = () => [...picker.querySelectorAll('input:checked')].map((i) => byId.get(Number(i.value))).filter(Boolean);
	const showStatus = () => {
		const ms = picked();
		const c = completeness({type: type.value, modules: ms}, types);
		const multi = isMulti({modules: ms});
		replace(status,
			c.refused.length ? h('div', {class: 'notice notice-bad'}, `The type "${typeName(types, type.value)}" does not admit ${c.refused.join(', ')} modules.`)
				: c.missing.length ? h('div', {class: 'notice notice-warn'}, `Incomplete until it holds a module of type ${c.missing.join(' and ')}: it can be saved, but not assigned or rolled out.`)
					: h('div', {class: 'notice notice-ok'}, 'Complete: every mandatory module type is there.'),
			multi ? h('div', {class: 'notice notice-info'}, 'Several modules or artifacts: ', MULTI_NOTE, '.') : null);
	};
	type.addEventListener('change', showStatus);
	picker.addEventListener('change', showStatus);
	showStatus();
	const compat = compatEditor(s0.compatibility || [], locked);
	const meta = metadataEditor(s0.metadata || [], false);

	modal({
		title: editing ? `Edit ${s0.name} ${s0.version}` : 'New distribution set',
		wide: true,
		body: [
			locked ? h('div', {class: 'notice notice-warn'}, 'Devices were given this set: its name, version, modules and compatibility stay as they are. Description, version scheme, RAUC compatible and metadata can change.') : null,
			h('div', {class: 'form-row form-row-2'}, field('Name', name), field('Version', version)),
			h('div', {class: 'form-row form-row-2'}, field('Type', type, editing ? 'The type of a set does not change.' : null), field('Version scheme', scheme, 'How its version compares with the installed one.')),
			h('div', {class: 'field'}, h('span', {class: 'field-label'}, 'Modules'), filter, picker, status),
			h('div', {class: 'field'}, h('span', {class: 'field-label'}, 'Hardware compatibility'),
				h('span', {class: 'field-hint'}, 'Board and revision of the devices that may take it; none = any hardware. An empty board is any board.'),
				compat.el),
			field('RAUC compatible', rauc, 'Matched exactly against the device\'s RAUC compatible attribute; empty = not checked.'),
			field('Description', desc),
			h('div', {class: 'field'}, h('span', {class: 'field-label'}, 'Metadata'), meta.el),
		],
		buttons: [
			{label: 'Cancel', kind: 'ghost'},
			{label: editing ? 'Save' : 'Create set', kind: 'primary', submit: true, role: editing ? 'save' : 'create', onClick: async () => {
				const body = {};
				const nm = name.value.trim();
				const vs = version.value.trim();
				if (!nm || !vs) throw new Error('Enter a name and a version.');
				const mods = picked().map((m) => m.id);
				const comp = compat.value();
				const md = meta.value();
				const rc = rauc.value.trim();
				const ds = desc.value.trim();
				if (!editing) {
					Object.assign(body, {name: nm, version: vs, type: type.value, modules: mods, version_scheme: scheme.value});
					if (comp.length) body.compatibility = comp;
					if (rc) body.rauc_compatible = rc;
					if (ds) body.description = ds;
					if (md.length) body.metadata = md;
					const r = await post('/api/v1/distributions', body);
					toast(`Distribution set ${r.name} ${r.version} created${r.complete ? '' : ' (incomplete)'}.`, 'ok');
					if (onDone) onDone(r);
					return;
				}
				if (!locked) {
					if (nm !== s0.name) body.name = nm;
					if (vs !== s0.version) body.version = vs;
					const old = (s0.modules || []).map((m) => m.id).sort((a, b) => a - b).join(',');
					if (mods.slice().sort((a, b) => a - b).join(',') !== old) body.modules = mods;
					if (JSON.stringify(comp) !== JSON.stringify((s0.compatibility || []).map((x) => ({board: x.board || '', revision: x.revision || null, regex: !!x.regex})))) body.compatibility = comp;
				}
				if (scheme.value !== s0.version_scheme) body.version_scheme = scheme.value;
				if (rc !== (s0.rauc_compatible || '')) body.rauc_compatible = rc || null;
				if (ds !== (s0.description || '')) body.description = ds;
				if (JSON.stringify(md) !== JSON.stringify((s0.metadata || []).map((x) => ({key: x.key, value: x.value})))) body.metadata = md;
				if (!Object.keys(body).length) return;
				const r = await patch('/api/v1/distributions/' + s0.id, body);
				toast(`Distribution set ${r.name} ${r.version} saved.`, 'ok');
				if (onDone) onDone(r);
			}},
		],
	});
}
