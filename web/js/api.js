// The JSON API client: cookie session, CSRF header on every state-changing
// request, errors as ApiError {status, code, detail}.

export class ApiError extends Error {
	constructor(status, code, detail) {
		super(detail || code || `HTTP ${status}`);
		this.status = status;
		this.code = code || '';
		this.detail = detail || code || `HTTP ${status}`;
	}
}

let csrfToken = null;
const unauthorizedHandlers = [];

export function setCsrf(token) {
	csrfToken = token || null;
}

export function getCsrf() {
	return csrfToken;
}

// Requests made while background() runs its function (the pollers, the
// summary strip) carry X-Background: 1: the server does not count them as
// the operator's activity, so an open tab nobody uses still idles out.
// Only the requests started synchronously by fn are marked: what a poller
// sends after an await is the operator's again, which errs on keeping the
// session.
let backgroundDepth = 0;

export function background(fn) {
	backgroundDepth++;
	try {
		return fn();
	} finally {
		backgroundDepth--;
	}
}

// handler() is called when a request answers 401 (the session ended).
export function onUnauthorized(handler) {
	unauthorizedHandlers.push(handler);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

async function parseError(res) {
	let code = '';
	let detail = '';
	let body = null;
	try {
		body = await res.json();
		code = body.error || '';
		detail = body.detail || '';
	} catch {
		// not JSON
	}
	if (!detail) {
		if (res.status === 401) detail = 'Please log in.';
		else if (res.status === 403) detail = 'You do not have permission to do this.';
		else if (res.status === 404) detail = 'Not found.';
		else if (res.status === 429) detail = 'Too many attempts; try again later.';
		else detail = `The server answered ${res.status} ${res.statusText || ''}`.trim();
	}
	const err = new ApiError(res.status, code, detail);
	// The whole answer, for errors that say more than their detail (a
	// refused assignment names each device and its reason).
	err.body = body;
	const wait = res.headers.get('Retry-After');
	if (wait && /^\d+$/.test(wait)) err.retryAfter = Number(wait);
	return err;
}

async function refreshCsrf() {
	const res = await fetch('/api/v1/me', {credentials: 'same-origin', headers: {Accept: 'application/json'}});
	if (!res.ok) return false;
	const me = await res.json();
	setCsrf(me.csrf_token);
	return true;
}

// api(method, path, body?, {auth401: true, background: false}) -> parsed
// JSON (or null on 204).
export async function api(method, path, body, opts = {}) {
	method = method.toUpperCase();
	const bg = !!opts.background || backgroundDepth > 0;
	const doFetch = () => {
		const headers = {Accept: 'application/json'};
		if (bg) headers['X-Background'] = '1';
		const init = {method, headers, credentials: 'same-origin'};
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
		return fetch(path, init);
	};
	let res;
	try {
		res = await doFetch();
	} catch (e) {
		throw new ApiError(0, 'network', 'The server cannot be reached.');
	}
	// A stale CSRF token (new session in another tab): fetch it again, once.
	if (res.status === 403 && !SAFE.has(method)) {
		const clone = res.clone();
		let code = '';
		try {
			code = (await clone.json()).error;
		} catch {
			// ignore
		}
		if (code === 'csrf' && await refreshCsrf()) res = await doFetch();
	}
	if (res.status === 401 && opts.auth401 !== false) {
		const err = await parseError(res);
		for (const f of unauthorizedHandlers) f(err);
		throw err;
	}
	if (!res.ok) throw await parseError(res);
	if (res.status === 204) return null;
	const text = await res.text();
	if (!text) return null;
	try {
		return JSON.parse(text);
	} catch {
		throw new ApiError(res.status, 'bad_json', 'The server sent an answer that is not JSON.');
	}
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

// Build a query string from an object, skipping empty values.
export function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v === null || v === undefined || v === '') continue;
		u.set(k, String(v));
	}
	const s = u.toString();
	return s ? '?' + s : '';
}

// Upload a file as the raw request body with XMLHttpRequest, whose
// upload.onprogress gives a real progress bar (fetch has none).
// Returns {promise, abort}; onProgress(loaded, total) is called as it goes.
export function uploadFile(url, file, onProgress) {
	const xhr = new XMLHttpRequest();
	const promise = new Promise((resolve, reject) => {
		xhr.open('POST', url);
		xhr.withCredentials = true;
		xhr.setRequestHeader('Content-Type', 'application/octet-stream');
		xhr.setRequestHeader('Accept', 'application/json');
		if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
		xhr.upload.onprogress = (ev) => {
			if (onProgress) onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
		};
		xhr.upload.onload = () => {
			if (onProgress) onProgress(file.size, file.size);
		};
		xhr.onload = () => {
			let j = null;
			try {
				j = xhr.responseText ? JSON.parse(xhr.responseText) : null;
			} catch {
				j = null;
			}
			if (xhr.status >= 200 && xhr.status < 300) {
				resolve(j);
				return;
			}
			let detail = j && j.detail;
			if (!detail) {
				if (xhr.status === 413) detail = 'The file is larger than the server accepts (upload.max_size).';
				else detail = `The server answered ${xhr.status}.`;
			}
			const err = new ApiError(xhr.status, j && j.error, detail);
			if (xhr.status === 401) for (const f of unauthorizedHandlers) f(err);
			reject(err);
		};
		xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted (network error or the server closed the connection).'));
		xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload canceled.'));
		xhr.send(file);
	});
	return {promise, abort: () => xhr.abort()};
}
