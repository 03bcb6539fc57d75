// #/software: upload (drag-and-drop or file picker, with a real progress
// bar), the list with versions, compatibility, hashes and rollouts,
// download and delete.
import {h, add, replace, clear, icon, badge, progressBar, fmtBytes, fmtTime, age, empty, copyButton} from '../dom.js';
import {get, del, uploadFile} from '../api.js';
import {session} from '../session.js';
import {toast, toastError, confirmDialog, modal} from '../ui.js';
import {revText} from './devices.js';

function compatChips(sw) {
	const c = sw.compatibility || [];
	if (!c.length) return h('span', {class: 'muted'}, 'any hardware');
	return h('span', {class: 'chips'}, c.map((x) => h('span', {class: 'chip chip-plain mono', title: x.regex ? 'the revision is a regular expression' : null},
		x.board ? x.board + ' ' : '', revText(x))));
}

function hashLine(name, value) {
	if (!value) return null;
	return h('div', {class: 'hash'}, h('span', {class: 'hash-name'}, name), h('code', {class: 'mono hash-value'}, value), copyButton(value, ''));
}

function speed(bytes, ms) {
	if (!ms) return '';
	return fmtBytes((bytes * 1000) / ms) + '/s';
}

export default async function render(ctx) {
	const canWrite = session.can('software.write');
	const canDelete = session.can('software.delete');
	const listBody = h('div', {id: 'software-list'});
	const uploads = h('div', {class: 'uploads', id: 'uploads'});

	let dropzone = null;
	if (canWrite) {
		const picker = h('input', {type: 'file', id: 'upload-input', accept: '.swu', multiple: true, class: 'visually-hidden'});
		dropzone = h('label', {class: 'dropzone', id: 'dropzone', for: 'upload-input'},
			icon('upload', 'icon-lg'),
			h('span', {class: 'dz-title'}, 'Drop .swu images here'),
			h('span', {class: 'muted'}, 'or ', h('span', {class: 'link'}, 'choose files'), ' — large files stream to the server with their progress shown'),
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

	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Software'), h('span', {class: 'muted title-count', id: 'software-count'}))),
		dropzone, uploads,
		h('div', {class: 'card card-flush'}, listBody));

	// ---- uploads
	const active = new Set();
	function startUpload(file) {
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
		const u = uploadFile('/api/v1/software?filename=' + encodeURIComponent(name), file, (loaded, total) => {
			const p = total ? (loaded / total) * 100 : 0;
			const fill = bar.querySelector('.progress-fill');
			fill.style.width = p + '%';
			bar.firstChild.setAttribute('aria-valuenow', String(Math.round(p)));
			pct.textContent = `${Math.floor(p)} %`;
			stat.textContent = loaded >= total
				? `${fmtBytes(total)} sent — the server checks the image…`
				: `${fmtBytes(loaded)} of ${fmtBytes(total)} · ${speed(loaded, performance.now() - t0)}`;
		});
		active.add(u);
		cancel.addEventListener('click', () => u.abort());
		u.promise.then((sw) => {
			row.classList.add('upload-done');
			pct.textContent = '100 %';
			bar.querySelector('.progress-fill').style.width = '100%';
			replace(stat, icon('upload', 'icon-sm'), ` Uploaded: version ${sw && sw.version ? sw.version : '?'}, ${fmtBytes(file.size)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
			cancel.remove();
			toast(`${name} uploaded (version ${sw && sw.version}).`, 'ok');
			setTimeout(() => row.remove(), 8000);
			load();
		}, (e) => {
			row.classList.add('upload-failed');
			bar.querySelector('.progress-fill').classList.add('progress-bad');
			replace(stat, h('span', {class: 'error-text'}, e.code === 'aborted' ? 'Canceled.' : `Failed: ${e.detail}`));
			replace(cancel, icon('x'), 'Dismiss');
			cancel.onclick = () => row.remove();
			if (e.code !== 'aborted') toastError(e, `Upload of ${name} failed`);
		}).finally(() => active.delete(u));
	}
	ctx.onCleanup(() => {
		for (const u of active) u.abort();
	});
	// Leaving the page mid-upload: ask first.
	const beforeUnload = (e) => {
		if (active.size) {
			e.preventDefault();
			e.returnValue = '';
		}
	};
	window.addEventListener('beforeunload', beforeUnload);
	ctx.onCleanup(() => window.removeEventListener('beforeunload', beforeUnload));

	// ---- list
	async function remove(sw) {
		if (!(await confirmDialog({
			title: 'Delete software?',
			message: `Delete ${sw.filename} (version ${sw.version})?`,
			detail: 'Software used by a rollout or by a running update cannot be deleted. Software that devices installed keeps its entry, marked deleted, without its file.',
			confirm: 'Delete', danger: true,
		}))) return;
		try {
			await del('/api/v1/software/' + sw.id);
			toast(`${sw.filename} deleted.`, 'ok');
			load();
		} catch (e) {
			toastError(e, 'Cannot delete this software');
		}
	}

	function showHashes(sw) {
		const hs = sw.hashes || {};
		modal({title: `Hashes of ${sw.filename}`, wide: true,
			body: [hashLine('MD5', hs.md5), hashLine('SHA-1', hs.sha1), hashLine('SHA-256', hs.sha256)],
			buttons: [{label: 'Close', kind: 'primary', submit: true}]});
	}

	function row(sw) {
		const hs = sw.hashes || {};
		return h('tr', {dataset: {id: String(sw.id)}, class: sw.deleted ? 'row-deleted' : null},
			h('td', {class: 'mono nowrap'}, h('strong', null, sw.version || '?')),
			h('td', null, h('div', {class: 'sw-file'}, sw.filename), sw.description ? h('div', {class: 'muted small'}, sw.description) : null),
			h('td', null, compatChips(sw)),
			h('td', {class: 'nowrap num'}, fmtBytes(sw.size)),
			h('td', {class: 'nowrap'}, hs.sha256 ? h('button', {type: 'button', class: 'link-btn mono', title: 'sha256 ' + hs.sha256 + ' — show all hashes', onclick: () => showHashes(sw)}, hs.sha256.slice(0, 12) + '…') : '—'),
			h('td', null, sw.signed ? badge('signed', 'ok') : badge('unsigned', 'muted')),
			h('td', null, (sw.rollouts || []).length
				? h('span', {class: 'chips'}, sw.rollouts.map((r) => h('a', {class: 'chip', href: '#/rollouts?id=' + encodeURIComponent(r), title: 'Rollout #' + r}, '#' + r)))
				: h('span', {class: 'muted'}, 'none')),
			h('td', {class: 'nowrap', title: fmtTime(sw.created_at)}, age(sw.created_at)),
			h('td', {class: 'nowrap actions'},
				sw.deleted ? badge('deleted', 'muted') : h('a', {class: 'btn btn-sm btn-ghost', href: `/api/v1/software/${sw.id}/file`, download: sw.filename, title: 'Download'}, icon('download'), h('span', {class: 'hide-sm'}, 'Download')),
				canDelete && !sw.deleted ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', title: 'Delete', dataset: {action: 'delete'}, onclick: () => remove(sw)}, icon('trash')) : null));
	}

	async function load() {
		let r;
		try {
			r = await get('/api/v1/software');
		} catch (e) {
			replace(listBody, h('div', {class: 'inline-error'}, 'Could not load the software: ' + e.detail));
			return;
		}
		const list = (r.software || []).slice().sort((a, b) => (b.created_at || 0) - (a.created_at || 0) || b.id - a.id);
		const count = document.getElementById('software-count');
		if (count) count.textContent = String(list.filter((x) => !x.deleted).length);
		if (!list.length) {
			replace(listBody, empty(canWrite ? 'No software yet: drop a .swu image above.' : 'No software has been uploaded.'));
			return;
		}
		replace(listBody, h('div', {class: 'table-scroll'}, h('table', {class: 'table', id: 'software-table'},
			h('thead', null, h('tr', null, ['Version', 'File', 'Compatibility', 'Size', 'SHA-256', 'Signature', 'Rollouts', 'Uploaded', ''].map((x) => h('th', null, x)))),
			h('tbody', null, list.map(row)))));
	}
	clear(listBody).appendChild(empty('Loading…'));
	await load();
	ctx.every(10000, load);
}
