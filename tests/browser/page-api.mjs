// What the checks under checks/ do through a page logged in as the admin:
// management API calls with the page's session and CSRF token, and
// uploads of images made with mkswu.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// api(method, path, body?): {status, body} of the request the page makes.
export function pageApi(page) {
	return (method, p, body) => page.evaluate(async ([method, p, body]) => {
		const me = await (await fetch('/api/v1/me')).json();
		const init = {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token}};
		if (body !== undefined) init.body = JSON.stringify(body);
		const r = await fetch(p, init);
		return {status: r.status, body: await r.json().catch(() => null)};
	}, [method, p, body]);
}

// upload(version, rev): the id of a new 8 KiB .swu of that version for
// hardware revision rev, uploaded by the page as PREFIX-VERSION-REV.swu.
export function pageUpload(page, {MKSWU, TMP, assert}, prefix) {
	return async (version, rev) => {
		const file = path.join(TMP, `${prefix}-${version}-${rev}.swu`);
		execFileSync(MKSWU, ['-o', file, '-v', version, '-r', rev, '-s', '8K'], {stdio: ['ignore', 'ignore', 'inherit']});
		const b64 = fs.readFileSync(file).toString('base64');
		const r = await page.evaluate(async ([b64, name]) => {
			const me = await (await fetch('/api/v1/me')).json();
			const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
			const res = await fetch('/api/v1/software?filename=' + name, {method: 'POST', body: bytes,
				headers: {'Content-Type': 'application/octet-stream', 'X-CSRF-Token': me.csrf_token}});
			return {status: res.status, body: await res.json()};
		}, [b64, path.basename(file)]);
		assert(r.status === 201, `upload ${version}: ${r.status} ${JSON.stringify(r.body)}`);
		return r.body.id;
	};
}
