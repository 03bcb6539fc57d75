// Tiny DOM helpers.  Everything that reaches the page goes through
// createElement/textContent: no HTML string is ever parsed, so a device
// named "<img src=x onerror=alert(1)>" is shown as exactly that text.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate', 'open', 'multiple', 'readOnly', 'required']);

function append(el, child) {
	if (child === null || child === undefined || child === false || child === true) return;
	if (Array.isArray(child)) {
		for (const c of child) append(el, c);
		return;
	}
	if (child instanceof Node) {
		el.appendChild(child);
		return;
	}
	el.appendChild(document.createTextNode(String(child)));
}

function setAttrs(el, attrs) {
	if (!attrs) return;
	for (const [k, v] of Object.entries(attrs)) {
		if (v === null || v === undefined || v === false) continue;
		if (k === 'class' || k === 'className') {
			el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
		} else if (k === 'style' && typeof v === 'object') {
			// CSSOM, allowed by the CSP (style attributes in markup are not).
			Object.assign(el.style, v);
		} else if (k === 'dataset') {
			Object.assign(el.dataset, v);
		} else if (k.startsWith('on') && typeof v === 'function') {
			el.addEventListener(k.slice(2).toLowerCase(), v);
		} else if (PROPS.has(k)) {
			el[k] = v;
		} else if (k === 'text') {
			el.textContent = String(v);
		} else {
			el.setAttribute(k, v === true ? '' : String(v));
		}
	}
}

// h('a', {href: '#/x', class: 'link'}, 'text', child, [more]) -> element.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
		children.unshift(attrs);
		attrs = null;
	}
	setAttrs(el, attrs);
	append(el, children);
	return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';

// The same for SVG elements (charts, icons).
export function s(tag, attrs, ...children) {
	const el = document.createElementNS(SVGNS, tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k === 'class') el.setAttribute('class', v);
		else el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

// Append children to an existing element, with h()'s rules (null, false
// and undefined are skipped; unlike Element.append, which writes "null").
export function add(el, ...children) {
	append(el, children);
	return el;
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

export function replace(el, ...children) {
	clear(el);
	append(el, children);
	return el;
}

// Small line icons drawn with SVG paths (no icon font, no network).
const ICONS = {
	menu: 'M3 6h18M3 12h18M3 18h18',
	sun: 'M12 4V2M12 22v-2M4 12H2M22 12h-2M5.6 5.6 4.2 4.2M19.8 19.8l-1.4-1.4M5.6 18.4l-1.4 1.4M19.8 4.2l-1.4 1.4M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z',
	moon: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z',
	upload: 'M12 16V4M7 9l5-5 5 5M4 20h16',
	download: 'M12 4v12M7 11l5 5 5-5M4 20h16',
	trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
	pause: 'M8 5v14M16 5v14',
	play: 'M7 4l13 8-13 8z',
	x: 'M6 6l12 12M18 6 6 18',
	plus: 'M12 5v14M5 12h14',
	refresh: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
	logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
	key: 'M14 10a4 4 0 1 0-3.9 4.9L10 15v2h2v2h2v-2l1.5-1.5A4 4 0 0 0 14 10z',
	edit: 'M4 20h4L19 9l-4-4L4 16v4z',
	copy: 'M8 8h12v12H8zM4 16V4h12',
	bolt: 'M13 2 4 14h7l-1 8 9-12h-7z',
	pin: 'M9 3h6l-1 6 4 4H6l4-4zM12 13v8',
	user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
	chevron: 'M9 6l6 6-6 6',
	file: 'M6 3h8l4 4v14H6zM14 3v4h4',
	link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
	layers: 'M12 3 3 8l9 5 9-5zM3 13l9 5 9-5',
	tag: 'M3 12V3h9l9 9-9 9zM8 8h.01',
	lock: 'M6 11h12v10H6zM8 11V7a4 4 0 0 1 8 0v4',
	clock: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 2',
};

// Falconet's logo: the one mark of the top bar and the sign-in pages.
export function logo(cls) {
	return s('svg', {class: 'logo' + (cls ? ' ' + cls : ''), viewBox: '0 0 32 32', 'aria-hidden': 'true', focusable: 'false'},
		s('path', {class: 'logo-bg', d: 'M4 6a4 4 0 0 1 4-4h16a4 4 0 0 1 4 4v20a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4z'}),
		s('path', {class: 'logo-fg', d: 'M9 21c3-8 8-12 15-13-4 3-6 6-7 10 2-1 4-1 6 0-5 1-9 3-14 3z'}));
}

export function icon(name, cls) {
	return s('svg', {class: 'icon' + (cls ? ' ' + cls : ''), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false'},
		s('path', {d: ICONS[name] || ''}));
}

// ---- formatting ---------------------------------------------------------

// Timestamps from the API are Unix seconds (numbers); strings (ISO 8601)
// are accepted too.  Returns a Date or null.
export function toDate(t) {
	if (t === null || t === undefined || t === '' || t === 0) return null;
	if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
	if (/^\d+$/.test(String(t))) return toDate(Number(t));
	const d = new Date(t);
	return isNaN(d.getTime()) ? null : d;
}

// Times are shown in the browser's zone, or in UTC when the operator
// chose so (the UTC button in the top bar, kept in localStorage).
const UTC_KEY = 'falconet.utc';

export function utcTimes() {
	try {
		return localStorage.getItem(UTC_KEY) === '1';
	} catch {
		return false;
	}
}

export function setUtcTimes(on) {
	try {
		if (on) localStorage.setItem(UTC_KEY, '1');
		else localStorage.removeItem(UTC_KEY);
	} catch {
		// private mode: the default stays
	}
}

// The zone a time is shown in, as an offset: "UTC", "UTC+1", "UTC-3:30".
export function zoneName(d = new Date()) {
	if (utcTimes()) return 'UTC';
	const off = -d.getTimezoneOffset();
	if (!off) return 'UTC';
	const a = Math.abs(off);
	return `UTC${off < 0 ? '-' : '+'}${Math.floor(a / 60)}${a % 60 ? ':' + String(a % 60).padStart(2, '0') : ''}`;
}

// "2026-12-02 09:05:00 UTC+1": the date, the time and its zone.
export function fmtTime(t) {
	const d = toDate(t);
	if (!d) return '—';
	const pad = (n) => String(n).padStart(2, '0');
	const u = utcTimes();
	const [y, mo, da, hh, mi, ss] = u
		? [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
		: [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
	return `${y}-${pad(mo + 1)}-${pad(da)} ${pad(hh)}:${pad(mi)}:${pad(ss)} ${zoneName(d)}`;
}

export function fmtAge(t, now = Date.now()) {
	const d = toDate(t);
	if (!d) return 'never';
	let sec = Math.round((now - d.getTime()) / 1000);
	const future = sec < 0;
	sec = Math.abs(sec);
	let txt;
	if (sec < 10) return 'just now';
	if (sec < 60) txt = `${sec} s`;
	else if (sec < 3600) txt = `${Math.floor(sec / 60)} min`;
	else if (sec < 86400) txt = `${Math.floor(sec / 3600)} h`;
	else txt = `${Math.floor(sec / 86400)} d`;
	return future ? `in ${txt}` : `${txt} ago`;
}

// An age that shows the absolute time on hover.
export function age(t) {
	return h('time', {class: 'age', title: fmtTime(t), datetime: toDate(t) ? toDate(t).toISOString() : null}, fmtAge(t));
}

export function fmtBytes(n) {
	if (n === null || n === undefined || isNaN(n)) return '—';
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	let v = Number(n);
	while (v >= 1024 && i < u.length - 1) {
		v /= 1024;
		i++;
	}
	return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + u[i];
}

export function fmtDuration(sec) {
	if (sec === null || sec === undefined) return '—';
	sec = Math.round(sec);
	if (sec < 60) return `${sec} s`;
	if (sec < 3600) return `${Math.floor(sec / 60)} min${sec % 60 ? ' ' + (sec % 60) + ' s' : ''}`;
	return `${Math.floor(sec / 3600)} h${Math.floor((sec % 3600) / 60) ? ' ' + Math.floor((sec % 3600) / 60) + ' min' : ''}`;
}

// ---- small widgets ------------------------------------------------------

const STATE_KIND = {
	registered: 'muted', idle: 'muted', pending: 'info', updating: 'accent', running: 'accent',
	proceeding: 'accent', scheduled: 'info', retrieved: 'accent', download: 'accent', downloaded: 'accent',
	canceling: 'warn', in_sync: 'ok', succeeded: 'ok', success: 'ok', finished: 'ok', failed: 'bad', failure: 'bad',
	error: 'bad', canceled: 'warn', rejected: 'warn', paused: 'warn', running_rollout: 'ok', closed: 'muted',
};

export function badge(text, kind) {
	const k = kind || STATE_KIND[String(text).toLowerCase()] || 'muted';
	return h('span', {class: `badge badge-${k}`}, String(text).replace(/_/g, ' '));
}

export function progressBar(pct, opts = {}) {
	const v = Math.max(0, Math.min(100, Number(pct) || 0));
	const fill = h('div', {class: 'progress-fill' + (opts.kind ? ' progress-' + opts.kind : '')});
	fill.style.width = v + '%';
	return h('div', {class: 'progress' + (opts.small ? ' progress-sm' : ''), role: 'progressbar',
		'aria-label': opts.name || opts.title || 'Progress',
		'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(v)), title: opts.title || null},
	h('div', {class: 'progress-track'}, fill),
	opts.label === false ? null : h('span', {class: 'progress-label'}, opts.label || `${Math.round(v)} %`));
}

export function empty(msg) {
	return h('div', {class: 'empty'}, msg);
}

export function debounce(fn, ms) {
	let t = null;
	return (...a) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...a), ms);
	};
}

export function copyButton(text, label = 'Copy') {
	const b = h('button', {type: 'button', class: 'btn btn-ghost btn-sm', title: 'Copy to the clipboard'}, icon('copy'), label);
	b.addEventListener('click', async () => {
		try {
			await navigator.clipboard.writeText(text);
			b.lastChild.textContent = 'Copied';
		} catch {
			// Fall back to selecting the text next to the button.
			const sel = window.getSelection();
			const code = b.previousElementSibling;
			if (code) {
				const r = document.createRange();
				r.selectNodeContents(code);
				sel.removeAllRanges();
				sel.addRange(r);
			}
			b.lastChild.textContent = 'Press Ctrl+C';
		}
		setTimeout(() => { b.lastChild.textContent = label; }, 1500);
	});
	return b;
}
