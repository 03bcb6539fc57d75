// #/software: upload (drag-and-drop or file picker, with a real progress
// bar) of .swu images and .raucb RAUC bundles; the distribution sets with
// their type, version scheme, completeness and compatibility, their
// modules and artifacts and what the readers found in them; the software
// modules, made by hand, with their artifacts and metadata; download and
// delete.
import {h, add, replace, clear, icon, badge, progressBar, fmtBytes, fmtTime, age, empty, debounce} from '../dom.js';
import {get, del, uploadFile, qs} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';
import {revText} from './devices.js';
import {MULTI_NOTE, installedOn, loadTypes, typeName, kv, artifactsOf, isMulti, completeness, completeBadge, setSignature,
	moduleBlock, newModuleDialog, setDialog, deleteModule} from './sets.js';

function compatChips(sw) {
	const c = sw.compatibility || [];
	if (!c.length) return h('span', {class: 'muted'}, 'any hardware');
	return h('span', {class: 'chips'}, c.map((x) => h('span', {class: 'chip chip-plain mono', title: x.regex ? 'the revision is a regular expression' : null},
		x.board ? x.board + ' ' : (x.revision ? 'any board ' : 'any board'), revText(x))));
}

function speed(bytes, ms) {
	if (!ms) return '';
	return fmtBytes((bytes * 1000) / ms) + '/s';
}

const ACCEPT = '.swu,.raucb';

// ---- what a file is, from its first and last bytes ------------------------
//
// As the server reads them (server/model/software.c, server/formats/): an
// SWUpdate image is a cpio archive, newc (070701) or crc (070702); a RAUC
// bundle ends with the size of its CMS signature, 8 bytes big-endian, and
// that CMS (DER, a SEQUENCE: 0x30) comes right before; its payload is a
// squashfs ("hsqs") for plain and verity bundles, ciphertext for crypt
// ones.  Checked before sending, so that gigabytes of something else are
// not streamed only to be refused.
const RAUC_CMS_MAX = 64 * 1024 * 1024;

const SIGNATURES = [
	[0, [0x30, 0x37, 0x30, 0x37, 0x30, 0x31], 'a cpio archive (newc)'],
	[0, [0x30, 0x37, 0x30, 0x37, 0x30, 0x32], 'a cpio archive (crc)'],
	[0, [0x30, 0x37, 0x30, 0x37, 0x30, 0x37], 'an old cpio archive (odc), which SWUpdate does not read'],
	[0, [0x68, 0x73, 0x71, 0x73], 'a squashfs image'],
	[0, [0x50, 0x4b, 0x03, 0x04], 'a ZIP archive'],
	[0, [0x1f, 0x8b], 'a gzip file'],
	[0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz file'],
	[0, [0x28, 0xb5, 0x2f, 0xfd], 'a zstd file'],
	[0, [0x42, 0x5a, 0x68], 'a bzip2 file'],
	[257, [0x75, 0x73, 0x74, 0x61, 0x72], 'a tar archive'],
	[0, [0x7f, 0x45, 0x4c, 0x46], 'an ELF program'],
	[0, [0x25, 0x50, 0x44, 0x46], 'a PDF document'],
	[0, [0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
];

// What the first bytes look like, in words.
export function describeHead(head) {
	if (!head.length) return 'an empty file';
	for (const [off, sig, what] of SIGNATURES) {
		if (head.length >= off + sig.length && sig.every((b, i) => head[off + i] === b)) return what;
	}
	const text = new TextDecoder('utf-8', {fatal: false}).decode(head.slice(0, 256));
	if (/^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd')) {
		const first = text.trim().split(/\n/)[0].slice(0, 40);
		return `text ("${first}${first.length === 40 ? '…' : ''}")`;
	}
	return 'bytes ' + [...head.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

async function bytesOf(file, from, to) {
	return new Uint8Array(await file.slice(from, to).arrayBuffer());
}

// {kind: 'swu'|'raucb', found} when the file is what an upload takes, or
// {why, found}: what is wrong, in a sentence naming what was found.
export async function checkImage(file) {
	const name = file.name || '';
	const head = await bytesOf(file, 0, 512);
	const found = describeHead(head);
	const cpio = /^a cpio archive \((newc|crc)\)$/.test(found);
	let rauc = false;
	if (file.size > 8) {
		const tail = await bytesOf(file, file.size - 8, file.size);
		let n = 0;
		for (const b of tail) n = n * 256 + b;
		if (n > 0 && n <= RAUC_CMS_MAX && n < file.size - 8) {
			const first = await bytesOf(file, file.size - 8 - n, file.size - 8 - n + 1);
			rauc = first[0] === 0x30;
		}
	}
	if (/\.swu$/i.test(name)) {
		if (cpio) return {kind: 'swu', found};
		return {found, why: `${name} is not an SWUpdate image: an image is a cpio archive starting 070701 or 070702, and this file is ${found}.`};
	}
	if (/\.raucb$/i.test(name)) {
		if (rauc) return {kind: 'raucb', found};
		return {found, why: `${name} is not a RAUC bundle: a bundle ends with its signature (a CMS and its size), and this file has none; it starts as ${found}.`};
	}
	if (cpio) return {kind: 'swu', found};
	if (rauc) return {kind: 'raucb', found};
	return {found, why: `${name} is neither an SWUpdate image (.swu) nor a RAUC bundle (.raucb): it is ${found}. Other files are artifacts of a software module (below: a module, then Add artifact).`};
}

export default async function render(ctx) {
	const canWrite = session.can('software.write');
	const canDelete = session.can('software.delete');
	const setsBody = h('div', {id: 'software-list'});
	const versionsEl = h('p', {class: 'muted small installed-versions', id: 'installed-versions', hidden: true});
	const modulesBody = h('div', {id: 'modules-list'});
	const uploads = h('div', {class: 'uploads', id: 'uploads'});
	let types = {modules: [], sets: []};
	const openSets = new Set();
	const openModules = new Set();

	let dropzone = null;
	if (canWrite) {
		const picker = h('input', {type: 'file', id: 'upload-input', accept: ACCEPT, multiple: true, class: 'visually-hidden'});
		dropzone = h('label', {class: 'dropzone', id: 'dropzone', for: 'upload-input'},
			icon('upload', 'icon-lg'),
			h('span', {class: 'dz-title'}, 'Drop .swu images or .raucb RAUC bundles here'),
			h('span', {class: 'muted'}, 'or ', h('span', {class: 'link'}, 'choose files'), ' — each becomes a distribution set of one module; large files stream to the server with their progress shown'),
			picker);
		picker.addEventListener('change', () => {
			for (const f of picker.files) startUpload(f);
			picker.value = '';
		});
		for (const ev of ['dragenter', 'dragover']) {
			dropzone.addEventListener(ev, (e) => {
				e.preventDefault();
				dropzone.classList.add('drag');
			});
		}
		for (const ev of ['dragleave', 'drop']) {
			dropzone.addEventListener(ev, (e) => {
				e.preventDefault();
				if (ev === 'dragleave' && dropzone.contains(e.relatedTarget)) return;
				dropzone.classList.remove('drag');
			});
		}
		dropzone.addEventListener('drop', (e) => {
			for (const f of e.dataTransfer.files) startUpload(f);
		});
	}
	// A file dropped beside the zone must not replace the page.
	const stopNav = (e) => {
		if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault();
	};
	window.addEventListener('dragover', stopNav);
	window.addEventListener('drop', stopNav);
	ctx.onCleanup(() => {
		window.removeEventListener('dragover', stopNav);
		window.removeEventListener('drop', stopNav);
	});

	const moduleSearch = h('input', {type: 'search', class: 'input', id: 'module-search', placeholder: 'Search modules by name', 'aria-label': 'Search modules', autocomplete: 'off'});
	const moduleType = h('select', {class: 'input input-auto', id: 'module-type-filter', 'aria-label': 'Module type'}, h('option', {value: ''}, 'All types'));
	moduleSearch.addEventListener('input', debounce(() => load(true), 250));
	moduleType.addEventListener('change', () => load(true));

	add(ctx.el,
		h('div', {class: 'page-head'},
			h('div', {class: 'page-title'}, h('h1', null, 'Software'), h('span', {class: 'muted title-count', id: 'software-count'})),
			canWrite ? h('div', {class: 'head-actions'},
				h('button', {type: 'button', class: 'btn', id: 'new-module', onclick: () => newModuleDialog(types, async (m) => {
					openModules.add(m.id);
					await load(true);
					reveal(`#modules-table tr[data-id="${m.id}"]`);
				})}, icon('plus'), 'New module'),
				h('button', {type: 'button', class: 'btn btn-primary', id: 'new-set', onclick: () => setDialog(null, types, async (r) => {
					openSets.add(r.id);
					await load(true);
					reveal(`#software-table tr[data-id="${r.id}"]`);
				})}, icon('layers'), 'New distribution set')) : null),
		dropzone, uploads,
		h('section', {class: 'section section-first'},
			h('div', {class: 'section-head'}, h('h2', null, 'Distribution sets'), h('span', {class: 'muted small'}, 'what devices are offered: typed modules, each with its artifacts')),
			versionsEl,
			h('div', {class: 'card card-flush'}, setsBody)),
		h('section', {class: 'section', id: 'modules'},
			h('div', {class: 'section-head'}, h('h2', null, 'Software modules'), h('span', {class: 'muted title-count small', id: 'module-count'})),
			h('div', {class: 'toolbar'}, moduleSearch, moduleType),
			h('div', {class: 'card card-flush'}, modulesBody)));

	// The devices per installed version (GET /api/v1/stats, by_version),
	// the newest first.
	function renderVersions(list) {
		const vs = list || [];
		versionsEl.hidden = !vs.length;
		if (!vs.length) return;
		const shown = vs.slice(0, 12);
		replace(versionsEl, 'Installed across the fleet: ',
			shown.map((v, i) => [i ? ' · ' : '', h('a', {href: '#/devices?installed_version=' + encodeURIComponent(v.version)},
				h('span', {class: 'mono', dataset: {version: v.version}}, v.version), ` on ${v.devices} device${v.devices === 1 ? '' : 's'}`)]),
			vs.length > shown.length ? ` · ${vs.length - shown.length} older versions` : null);
	}

	function reveal(sel) {
		const el = ctx.el.querySelector(sel);
		if (el) el.scrollIntoView({block: 'center', behavior: 'smooth'});
	}

	// ---- uploads
	const active = new Set();
	// Check the file's first bytes, then send it, or say what it is.
	async function startUpload(file, extra = {}) {
		let r;
		try {
			r = await checkImage(file);
		} catch (e) {
			r = {kind: 'unknown'}; // unreadable here: the server decides
		}
		if (r.why) {
			refuseUpload(file, r.why);
			return;
		}
		sendUpload(file, extra);
	}
	function refuseUpload(file, why) {
		const dismiss = h('button', {type: 'button', class: 'btn btn-ghost btn-sm'}, icon('x'), 'Dismiss');
		const row = h('div', {class: 'card upload upload-failed', dataset: {file: file.name}},
			h('div', {class: 'upload-head'}, h('strong', {class: 'upload-name'}, file.name), h('span', {class: 'spacer'}), dismiss),
			h('span', {class: 'error-text upload-stat', role: 'alert'}, 'Not sent: ' + why));
		dismiss.addEventListener('click', () => row.remove());
		uploads.prepend(row);
	}
	function sendUpload(file, extra = {}) {
		const name = file.name || 'image.swu';
		const bar = h('div', {class: 'upload-bar'});
		const pct = h('span', {class: 'upload-pct'}, '0 %');
		const stat = h('span', {class: 'muted upload-stat'}, `0 B of ${fmtBytes(file.size)}`);
		const cancel = h('button', {type: 'button', class: 'btn btn-ghost btn-sm'}, icon('x'), 'Cancel');
		const row = h('div', {class: 'card upload', dataset: {file: name}},
			h('div', {class: 'upload-head'}, h('strong', {class: 'upload-name'}, name), h('span', {class: 'spacer'}), pct, cancel),
			bar, stat);
		replace(bar, progressBar(0, {label: false}));
		uploads.prepend(row);
		const t0 = performance.now();
		const u = uploadFile('/api/v1/software' + qs(Object.assign({filename: name}, extra)), file, (loaded, total) => {
			const p = total ? (loaded / total) * 100 : 0;
			const fill = bar.querySelector('.progress-fill');
			fill.style.width = p + '%';
			bar.firstChild.setAttribute('aria-valuenow', String(Math.round(p)));
			pct.textContent = `${Math.floor(p)} %`;
			stat.textContent = loaded >= total
				? `${fmtBytes(total)} sent — the server reads and checks it…`
				: `${fmtBytes(loaded)} of ${fmtBytes(total)} · ${speed(loaded, performance.now() - t0)}`;
		});
		u.name = name;
		active.add(u);
		cancel.addEventListener('click', () => u.abort());
		u.promise.then((sw) => {
			row.classList.add('upload-done');
			pct.textContent = '100 %';
			bar.querySelector('.progress-fill').style.width = '100%';
			const fmt = sw && sw.format === 'raucb' ? 'RAUC bundle' : sw && sw.format === 'swu' ? 'SWUpdate image' : 'file';
			replace(stat, icon('upload', 'icon-sm'), ` Uploaded: ${fmt}, version ${sw && sw.version ? sw.version : '?'}, ${fmtBytes(file.size)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
			cancel.remove();
			toast(`${name} uploaded (version ${sw && sw.version}).`, 'ok');
			setTimeout(() => row.remove(), 8000);
			if (sw && sw.id) openSets.add(sw.id);
			load(true);
		}, (e) => {
			row.classList.add('upload-failed');
			bar.querySelector('.progress-fill').classList.add('progress-bad');
			replace(stat, h('span', {class: 'error-text'}, e.code === 'aborted' ? 'Canceled.' : `Failed: ${e.detail}`));
			replace(cancel, icon('x'), 'Dismiss');
			cancel.onclick = () => row.remove();
			// An encrypted RAUC bundle: the server cannot read its version
			// or compatible and asks for them.
			if (/\?(version|compatible)=/.test(e.detail || '')) {
				cancel.before(h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'give-version'}, onclick: () => askVersion(file, extra, row)}, 'Give version…'));
			}
			if (e.code !== 'aborted') toastError(e, `Upload of ${name} failed`);
		}).finally(() => active.delete(u));
	}
	function askVersion(file, extra, row) {
		const version = h('input', {class: 'input mono', id: 'upload-version', value: extra.version || '', autocomplete: 'off'});
		const compatible = h('input', {class: 'input mono', id: 'upload-compatible', value: extra.compatible || '', autocomplete: 'off'});
		modal({
			title: `Upload ${file.name} again`,
			body: [
				h('p', {class: 'muted'}, 'An encrypted RAUC bundle hides its manifest: tell the server its version and its compatible (rauc info shows them with the key).'),
				field('Version', version), field('Compatible', compatible),
			],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Upload', kind: 'primary', submit: true, onClick: () => {
					const x = {};
					if (version.value.trim()) x.version = version.value.trim();
					if (compatible.value.trim()) x.compatible = compatible.value.trim();
					row.remove();
					sendUpload(file, x);
				}},
			],
		});
	}
	ctx.onCleanup(() => {
		for (const u of active) u.abort();
	});
	// Leaving the page mid-upload (a link, Back, logout, reload): ask first.
	ctx.guardLeave(() => {
		if (!active.size) return null;
		const names = [...active].map((u) => u.name);
		return `${names.length === 1 ? 'The upload of ' + names[0] + ' is' : names.length + ' uploads (' + names.join(', ') + ') are'} still running: leaving this page cancels ${names.length === 1 ? 'it' : 'them'}.`;
	});

	// ---- distribution sets
	let sets = [];
	let modules = [];
	let modById = new Map();

	async function removeSet(sw) {
		if (!(await confirmDialog({
			title: 'Delete this distribution set?',
			message: `Delete ${sw.name} (version ${sw.version})?`,
			detail: 'A set used by a rollout or by a running update cannot be deleted. A set that devices installed keeps its entry, marked deleted. Its modules stay.',
			confirm: 'Delete', danger: true,
		}))) return;
		try {
			await del('/api/v1/software/' + sw.id);
			toast(`${sw.name} ${sw.version} deleted.`, 'ok');
			load(true);
		} catch (e) {
			toastError(e, 'Cannot delete this software');
		}
	}

	// The module as the module list has it (metadata, locked), with the
	// set's view of it on top.
	const fullModule = (m, sw) => Object.assign({locked: !!sw.locked, metadata: []}, modById.get(m.id) || {}, m);

	function setDetail(sw) {
		const c = completeness(sw, types);
		const t = types.sets.find((x) => x.key === sw.type);
		const ms = sw.modules || [];
		return h('div', {class: 'set-detail'},
			kv([
				['Type', h('span', null, typeName(types, sw.type), t ? h('span', {class: 'muted small'}, ` · needs ${(t.mandatory || []).map((k) => (types.modules.find((x) => x.key === k) || {name: k}).name).join(', ') || 'nothing'}${(t.optional || []).length ? ', may add ' + t.optional.map((k) => (types.modules.find((x) => x.key === k) || {name: k}).name).join(', ') : ''}`) : null)],
				['Version scheme', h('span', {class: 'mono'}, sw.version_scheme || '—')],
				['Completeness', sw.complete ? h('span', null, badge('complete', 'ok'), h('span', {class: 'muted small'}, ' can be assigned and rolled out'))
					: h('span', null, completeBadge(sw), h('span', {class: 'muted small'}, c.missing.length ? ` add a module of type ${c.missing.join(' and ')} to assign or roll it out` : ' cannot be assigned or rolled out yet'))],
				['Compatibility', compatChips(sw)],
				['RAUC compatible', sw.rauc_compatible ? h('span', {class: 'mono'}, sw.rauc_compatible) : null],
				sw.description ? ['Description', sw.description] : null,
				['Metadata', (sw.metadata || []).length ? h('span', {class: 'chips'}, sw.metadata.map((x) => h('span', {class: 'chip chip-plain'}, h('span', {class: 'mono'}, x.key), ' = ', h('span', {class: 'mono'}, String(x.value === null || x.value === undefined ? '' : x.value))))) : h('span', {class: 'muted'}, 'none')],
				sw.locked ? ['Locked', h('span', {class: 'muted small'}, 'devices were given this set: its name, version, modules and compatibility stay as they are')] : null,
			], 'kv-set'),
			isMulti(sw) ? h('div', {class: 'notice notice-info multi-note'}, icon('layers', 'icon-sm'), ' ', MULTI_NOTE, '.') : null,
			ms.length ? h('div', {class: 'modules'}, ms.map((m) => moduleBlock(fullModule(m, sw), {canWrite, canDelete, inSet: true, reload: () => load(true)})))
				: h('p', {class: 'muted'}, 'No modules yet: edit the set to pick some.'),
			canWrite && !sw.deleted ? h('div', {class: 'card-actions'},
				h('button', {type: 'button', class: 'btn btn-sm', dataset: {action: 'edit-set'}, onclick: () => setDialog(sw, types, () => load(true))}, icon('edit'), sw.locked ? 'Edit metadata' : 'Edit set')) : null);
	}

	function toggle(open, id, tr, detail, build) {
		const now = !open.has(id);
		if (now) open.add(id);
		else open.delete(id);
		tr.classList.toggle('expanded', now);
		tr.querySelector('[data-action="expand"]').setAttribute('aria-expanded', String(now));
		if (now && !detail.firstChild.firstChild) detail.firstChild.appendChild(build());
		detail.hidden = !now;
	}

	const SET_COLS = 11;
	function setRows(sw) {
		const arts = artifactsOf(sw);
		const single = arts.length === 1 ? arts[0].a : null;
		const size = arts.reduce((n, x) => n + (Number(x.a.size) || 0), 0);
		const open = openSets.has(sw.id);
		const detailId = `set-${sw.id}-detail`;
		const detail = h('tr', {class: 'detail-row', id: detailId, hidden: !open, dataset: {detail: String(sw.id)}},
			h('td', {colspan: String(SET_COLS)}, open ? setDetail(sw) : null));
		let tr = null;
		const flip = () => toggle(openSets, sw.id, tr, detail, () => setDetail(sw));
		const ms = sw.modules || [];
		tr = h('tr', {dataset: {id: String(sw.id)}, class: ['set-row', sw.deleted ? 'row-deleted' : null, open ? 'expanded' : null]},
			h('td', {class: 'col-expand'}, h('button', {type: 'button', class: 'btn btn-ghost btn-icon btn-sm expand', 'aria-expanded': String(open), 'aria-controls': detailId,
				'aria-label': `Modules and artifacts of ${sw.name} ${sw.version}`, title: 'Show the modules and artifacts', dataset: {action: 'expand'}, onclick: flip}, icon('chevron'))),
			h('td', {class: 'mono nowrap'}, h('strong', null, sw.version || '?')),
			h('td', {class: 'set-cell'},
				h('div', {class: 'set-title'}, h('button', {type: 'button', class: 'link-btn set-name', onclick: flip}, sw.name || '?'), ' ', completeBadge(sw),
					sw.locked ? h('span', {class: 'lock', title: 'Devices were given this set'}, icon('lock', 'icon-sm')) : null),
				single ? h('div', {class: 'muted small sw-file'}, single.filename) : null,
				sw.description ? h('div', {class: 'muted small'}, sw.description) : null),
			h('td', null, h('div', {class: 'nowrap'}, typeName(types, sw.type)), h('div', {class: 'muted small mono'}, sw.version_scheme || '')),
			h('td', {class: 'col-modules'}, ms.length ? h('span', {class: 'chips'}, ms.map((m) => h('span', {class: 'chip chip-plain', title: `${m.type_name || m.type} module, ${(m.artifacts || []).length} artifact(s)`},
				h('span', {class: 'chip-kind'}, m.type_name || m.type), ' ', m.name, ' ', h('span', {class: 'mono'}, m.version))))
				: h('span', {class: 'muted'}, 'none')),
			h('td', null, compatChips(sw)),
			h('td', {class: 'nowrap num'}, arts.length ? fmtBytes(size) : '—', arts.length > 1 ? h('div', {class: 'muted small'}, `${arts.length} artifacts`) : null),
			h('td', null, setSignature(sw)),
			h('td', {class: 'col-use'}, (sw.rollouts || []).length
				? h('span', {class: 'chips'}, sw.rollouts.map((r) => h('a', {class: 'chip', href: '#/rollouts?id=' + encodeURIComponent(r), title: 'Rollout #' + r}, '#' + r)))
				: h('span', {class: 'muted'}, 'no rollout'),
			h('div', {class: 'small'}, installedOn(sw))),
			h('td', {class: 'nowrap', title: fmtTime(sw.created_at)}, age(sw.created_at)),
			h('td', {class: 'nowrap actions'},
				sw.deleted ? badge('deleted', 'muted') : null,
				!sw.deleted && single && single.stored && !single.url ? h('a', {class: 'btn btn-sm btn-ghost', href: `/api/v1/software/${sw.id}/file`, download: single.filename || '', title: 'Download ' + (single.filename || ''), 'aria-label': 'Download ' + (single.filename || '')}, icon('download')) : null,
				canWrite && !sw.deleted ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', title: sw.locked ? 'Edit the metadata' : 'Edit the set', 'aria-label': 'Edit ' + sw.name, dataset: {action: 'edit'}, onclick: () => setDialog(sw, types, () => load(true))}, icon('edit')) : null,
				canDelete && !sw.deleted ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', title: 'Delete', 'aria-label': 'Delete ' + sw.name, dataset: {action: 'delete'}, onclick: () => removeSet(sw)}, icon('trash')) : null));
		return [tr, detail];
	}

	function renderSets() {
		const count = document.getElementById('software-count');
		if (count) count.textContent = String(sets.filter((x) => !x.deleted).length);
		if (!sets.length) {
			replace(setsBody, empty(canWrite ? 'No software yet: drop a .swu image or a .raucb bundle above, or build a set from modules.' : 'No software has been uploaded.'));
			return;
		}
		replace(setsBody, h('div', {class: 'table-scroll'}, h('table', {class: 'table', id: 'software-table'},
			h('thead', null, h('tr', null, h('th', {class: 'col-expand'}, h('span', {class: 'visually-hidden'}, 'Details')),
				['Version', 'Distribution set', 'Type', 'Modules', 'Compatibility', 'Size', 'Signature', 'In use', 'Created'].map((x) => h('th', null, x)),
				h('th', null, h('span', {class: 'visually-hidden'}, 'Actions')))),
			h('tbody', null, sets.map(setRows)))));
	}

	// ---- modules
	const MOD_COLS = 9;
	function moduleRows(m) {
		const arts = m.artifacts || [];
		const open = openModules.has(m.id);
		const detailId = `module-${m.id}-detail`;
		const build = () => h('div', {class: 'module-detail'}, moduleBlock(m, {canWrite, canDelete, reload: () => load(true)}));
		const detail = h('tr', {class: 'detail-row', id: detailId, hidden: !open, dataset: {detail: String(m.id)}},
			h('td', {colspan: String(MOD_COLS)}, open ? build() : null));
		let tr = null;
		const flip = () => toggle(openModules, m.id, tr, detail, build);
		const setNames = new Map(sets.map((s) => [s.id, `${s.name} ${s.version}`]));
		tr = h('tr', {dataset: {id: String(m.id)}, class: ['module-row', m.deleted ? 'row-deleted' : null, open ? 'expanded' : null]},
			h('td', {class: 'col-expand'}, h('button', {type: 'button', class: 'btn btn-ghost btn-icon btn-sm expand', 'aria-expanded': String(open), 'aria-controls': detailId,
				'aria-label': `Artifacts of ${m.name} ${m.version}`, title: 'Show the artifacts', dataset: {action: 'expand'}, onclick: flip}, icon('chevron'))),
			h('td', null, h('span', {class: 'badge badge-accent'}, m.type_name || m.type || '?')),
			h('td', null, h('button', {type: 'button', class: 'link-btn module-name', onclick: flip}, m.name),
				m.locked ? h('span', {class: 'lock', title: 'Devices were given a set holding it'}, ' ', icon('lock', 'icon-sm')) : null),
			h('td', {class: 'mono nowrap'}, m.version),
			h('td', null, m.vendor || h('span', {class: 'muted'}, '—')),
			h('td', {class: 'nowrap'}, arts.length ? `${arts.length} · ${fmtBytes(arts.reduce((n, a) => n + (Number(a.size) || 0), 0))}` : h('span', {class: 'muted'}, 'none')),
			h('td', null, (m.distributions || []).length ? h('span', {class: 'chips'}, m.distributions.map((id) => h('span', {class: 'chip chip-plain', title: 'Distribution set #' + id}, setNames.get(id) || '#' + id)))
				: h('span', {class: 'muted'}, 'in no set')),
			h('td', {class: 'nowrap', title: fmtTime(m.created_at)}, age(m.created_at)),
			h('td', {class: 'nowrap actions'},
				m.deleted ? badge('deleted', 'muted') : null,
				canDelete && !m.deleted ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', title: 'Delete the module', 'aria-label': 'Delete ' + m.name, dataset: {action: 'delete-module'}, onclick: () => deleteModule(m, () => load(true))}, icon('trash')) : null));
		return [tr, detail];
	}

	function renderModules() {
		const count = document.getElementById('module-count');
		if (count) count.textContent = String(modules.length);
		if (!modules.length) {
			replace(modulesBody, empty(moduleSearch.value || moduleType.value ? 'No module matches.' : canWrite ? 'No modules yet: "New module" makes one; each upload makes one too.' : 'No modules.'));
			return;
		}
		replace(modulesBody, h('div', {class: 'table-scroll'}, h('table', {class: 'table', id: 'modules-table'},
			h('thead', null, h('tr', null, h('th', {class: 'col-expand'}, h('span', {class: 'visually-hidden'}, 'Details')),
				['Type', 'Name', 'Version', 'Vendor', 'Artifacts', 'In sets', 'Created'].map((x) => h('th', null, x)),
				h('th', null, h('span', {class: 'visually-hidden'}, 'Actions')))),
			h('tbody', null, modules.map(moduleRows)))));
	}

	// Reload both lists; redraw only what changed (the page polls, and a
	// redraw would take the focus and the text selection away).
	let lastSets = null;
	let lastModules = null;
	let lastTypes = null;
	async function load(force) {
		let r;
		let mr;
		// A side read (the summary strip polls it too): never the
		// operator's activity.
		if (session.can('device.read')) get('/api/v1/stats', {background: true}).then((x) => renderVersions(x && x.devices && x.devices.by_version), () => {});
		try {
			[r, mr] = await Promise.all([
				get('/api/v1/software'),
				get('/api/v1/modules' + qs({limit: 1000, q: moduleSearch.value.trim(), type: moduleType.value})),
			]);
		} catch (e) {
			replace(setsBody, h('div', {class: 'inline-error'}, 'Could not load the software: ' + e.detail));
			return;
		}
		const list = (r.software || r.distributions || []).slice().sort((a, b) => (b.created_at || 0) - (a.created_at || 0) || b.id - a.id);
		const mlist = (mr.modules || []).slice().sort((a, b) => (b.created_at || 0) - (a.created_at || 0) || b.id - a.id);
		const js = JSON.stringify(list);
		const jm = JSON.stringify(mlist);
		const jt = JSON.stringify(types);
		const changed = force === true || js !== lastSets || jm !== lastModules || jt !== lastTypes;
		if (!changed) return;
		sets = list;
		modules = mlist;
		if (!moduleSearch.value.trim() && !moduleType.value) modById = new Map(mlist.map((m) => [m.id, m]));
		else for (const m of mlist) modById.set(m.id, m);
		lastSets = js;
		lastModules = jm;
		lastTypes = jt;
		renderSets();
		renderModules();
	}

	clear(setsBody).appendChild(empty('Loading…'));
	types = await loadTypes();
	for (const t of types.modules) moduleType.appendChild(h('option', {value: t.key}, t.name));
	await load(true);
	ctx.every(10000, load);
}
