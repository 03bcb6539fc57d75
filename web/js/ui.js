// Toasts and dialogs.
import {h, icon} from './dom.js';

function toastRoot() {
	let el = document.getElementById('toasts');
	if (!el) {
		el = h('div', {id: 'toasts', 'aria-live': 'polite'});
		document.body.appendChild(el);
	}
	return el;
}

// toast(message, kind = 'info'|'ok'|'error', {title})
export function toast(message, kind = 'info', opts = {}) {
	const close = h('button', {type: 'button', class: 'toast-close', 'aria-label': 'Dismiss'}, icon('x'));
	const t = h('div', {class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status'},
		h('div', {class: 'toast-body'},
			opts.title ? h('strong', null, opts.title) : null,
			h('span', {class: 'toast-msg'}, message)),
		close);
	const remove = () => {
		t.classList.add('toast-out');
		setTimeout(() => t.remove(), 200);
	};
	close.addEventListener('click', remove);
	toastRoot().appendChild(t);
	setTimeout(remove, kind === 'error' ? 9000 : 4500);
	return t;
}

// An API error (from api.js) as a toast, with its detail.
export function toastError(err, what) {
	const msg = err && err.detail ? err.detail : String(err && err.message ? err.message : err);
	let title = what || 'Request failed';
	if (err && err.status === 403 && err.code === 'forbidden') title = 'Not allowed';
	toast(msg, 'error', {title});
}

// The open dialogs, each with its close function.  A dialog belongs to
// the page that opened it: the router closes them all when the page
// changes (a link, Back, logout, the end of the session).
const openDialogs = new Map();

export function closeDialogs() {
	for (const close of [...openDialogs.values()]) close();
}

// ---- drafts: what was typed in an open dialog survives a re-login ----------
//
// When the session ends with a dialog open, its fields (not passwords or
// files) are kept in sessionStorage under the page and the dialog's title;
// the next time that dialog opens on that page, after the login, they are
// filled in again.
const DRAFT_KEY = 'falconet.drafts';

function fieldKey(el, i) {
	return el.id || el.name || `#${i}`;
}

function draftable(el) {
	return !(el.type === 'password' || el.type === 'file' || el.type === 'hidden' || el.disabled || el.readOnly);
}

function readDrafts() {
	try {
		return JSON.parse(sessionStorage.getItem(DRAFT_KEY) || '[]');
	} catch {
		return [];
	}
}

function writeDrafts(list) {
	try {
		if (list.length) sessionStorage.setItem(DRAFT_KEY, JSON.stringify(list.slice(-5)));
		else sessionStorage.removeItem(DRAFT_KEY);
	} catch {
		// storage full or disabled: nothing kept
	}
}

function pagePath(hash) {
	return String(hash || '').replace(/^#\/?/, '').replace(/\?.*$/, '');
}

// Keep the fields of every open dialog; returns how many were kept.
export function saveDrafts() {
	const list = readDrafts();
	let n = 0;
	for (const dialog of openDialogs.keys()) {
		const fields = {};
		let any = false;
		dialog.querySelectorAll('.dialog-body input, .dialog-body select, .dialog-body textarea').forEach((el, i) => {
			if (!draftable(el)) return;
			const v = el.type === 'checkbox' || el.type === 'radio' ? el.checked : el.value;
			fields[fieldKey(el, i)] = v;
			if (v !== '' && v !== false) any = true;
		});
		if (!any) continue;
		const title = dialog.querySelector('.dialog-head h2').textContent;
		const page = pagePath(location.hash);
		const keep = list.filter((d) => !(d.page === page && d.title === title));
		keep.push({page, title, fields});
		list.length = 0;
		list.push(...keep);
		n++;
	}
	writeDrafts(list);
	return n;
}

export function dropDrafts() {
	writeDrafts([]);
}

// Fill a dialog that was open when the session ended; true if it was.
function restoreDraft(dialog, title) {
	const list = readDrafts();
	const page = pagePath(location.hash);
	const d = list.find((x) => x.page === page && x.title === title);
	if (!d) return false;
	dialog.querySelectorAll('.dialog-body input, .dialog-body select, .dialog-body textarea').forEach((el, i) => {
		const k = fieldKey(el, i);
		if (!draftable(el) || !(k in d.fields)) return;
		if (el.type === 'checkbox' || el.type === 'radio') el.checked = !!d.fields[k];
		else el.value = d.fields[k];
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
	});
	writeDrafts(list.filter((x) => x !== d));
	return true;
}

// The titles of the dialogs kept for a page (to say so after the login).
export function draftsFor(hash) {
	const page = pagePath(hash);
	return readDrafts().filter((d) => d.page === page).map((d) => d.title);
}

// The generic modal: returns {dialog, close}.  body is a node or array;
// buttons is [{label, kind, onClick(dialog) -> Promise<bool close?>}].
export function modal({title, body, buttons = [], wide = false, onClose}) {
	const err = h('div', {class: 'form-error', role: 'alert', hidden: true});
	const foot = h('div', {class: 'dialog-foot'});
	const form = h('form', {method: 'dialog', class: 'dialog-form', novalidate: true},
		h('header', {class: 'dialog-head'},
			h('h2', null, title),
			h('button', {type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Close', onclick: () => close()}, icon('x'))),
		h('div', {class: 'dialog-body'}, body, err),
		foot);
	const dialog = h('dialog', {class: 'dialog' + (wide ? ' dialog-wide' : '')}, form);
	let closed = false;
	const close = (value) => {
		if (closed) return;
		closed = true;
		openDialogs.delete(dialog);
		if (dialog.open) dialog.close();
		dialog.remove();
		if (onClose) onClose(value);
	};
	const setError = (msg) => {
		err.textContent = msg || '';
		err.hidden = !msg;
	};
	let primary = null;
	for (const b of buttons) {
		const btn = h('button', {type: b.submit ? 'submit' : 'button', class: `btn ${b.kind ? 'btn-' + b.kind : ''}`, dataset: {role: b.role || ''}}, b.label);
		const run = async (ev) => {
			if (ev) ev.preventDefault();
			setError('');
			if (!b.onClick) return close(b.value);
			btn.disabled = true;
			try {
				const r = await b.onClick({dialog, form, setError, close});
				if (r !== false) close(b.value === undefined ? r : b.value);
			} catch (e) {
				setError(e && e.detail ? e.detail : String(e && e.message ? e.message : e));
			} finally {
				btn.disabled = false;
			}
		};
		btn.addEventListener('click', run);
		if (b.submit) primary = run;
		foot.appendChild(btn);
	}
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (primary) primary();
	});
	dialog.addEventListener('cancel', (ev) => {
		ev.preventDefault();
		close();
	});
	document.body.appendChild(dialog);
	openDialogs.set(dialog, () => close());
	dialog.showModal();
	const restored = restoreDraft(dialog, title);
	if (restored) {
		dialog.querySelector('.dialog-body').prepend(h('p', {class: 'form-note', role: 'status', id: 'draft-restored'},
			'What you typed before your session ended is filled in again.'));
	}
	const first = dialog.querySelector('.dialog-body input:not([type=hidden]):not([disabled]), .dialog-body select, .dialog-body textarea');
	if (first) first.focus();
	return {dialog, close, setError};
}

// confirmDialog({title, message, confirm: 'Delete', danger: true}) -> Promise<bool>
export function confirmDialog({title = 'Are you sure?', message, confirm = 'OK', danger = false, detail}) {
	return new Promise((resolve) => {
		modal({
			title,
			body: [h('p', null, message), detail ? h('p', {class: 'muted'}, detail) : null],
			buttons: [
				{label: 'Cancel', kind: 'ghost', value: false},
				{label: confirm, kind: danger ? 'danger' : 'primary', value: true, submit: true, role: 'confirm'},
			],
			onClose: (v) => resolve(v === true),
		});
	});
}

// A labelled form field.
export function field(label, input, hint) {
	return h('label', {class: 'field'},
		h('span', {class: 'field-label'}, label),
		input,
		hint ? h('span', {class: 'field-hint'}, hint) : null);
}
