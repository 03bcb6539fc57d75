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
	dialog.showModal();
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
