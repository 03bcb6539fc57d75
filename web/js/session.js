// The logged-in user and the permission rules (the same as the server's:
// a grant matches a permission if it equals it, is a dotted prefix of it or
// is "*"; a "*" segment matches any segment ("*.read"); a "!grant" that
// matches denies, whatever else is granted).
import {setCsrf} from './api.js';

export const ROLES = {
	admin: ['*'],
	operator: ['device', 'software', 'rollout', 'audit.read', 'settings.read'],
	readonly: ['device.read', 'software.read', 'rollout.read', 'audit.read', 'settings.read'],
};

export const ALL_PERMISSIONS = [
	'device.read', 'device.write', 'device.delete',
	'software.read', 'software.write', 'software.delete',
	'rollout.read', 'rollout.write', 'rollout.delete',
	'users.read', 'users.write', 'audit.read', 'settings.read', 'settings.write',
];

export function grantMatches(grant, perm) {
	if (!grant) return false;
	const g = grant.split('.');
	const p = perm.split('.');
	if (g.length > p.length) return false;
	for (let i = 0; i < g.length; i++) {
		if (g[i] !== '*' && g[i] !== p[i]) return false;
	}
	return true;
}

export function allowed(grants, perm) {
	let ok = false;
	for (const raw of grants || []) {
		const grant = String(raw).trim();
		if (grant.startsWith('!')) {
			if (grantMatches(grant.slice(1), perm)) return false;
		} else if (grantMatches(grant, perm)) {
			ok = true;
		}
	}
	return ok;
}

// The name of the preset role a permission list equals, or "custom".
export function roleOf(perms) {
	const norm = (a) => [...a].map(String).sort().join('\n');
	for (const [name, p] of Object.entries(ROLES)) {
		if (norm(p) === norm(perms || [])) return name;
	}
	return 'custom';
}

export const session = {
	user: null, // {username, permissions, csrf_token}
	set(me) {
		this.user = me || null;
		setCsrf(me ? me.csrf_token : null);
	},
	can(perm) {
		return !!this.user && allowed(this.user.permissions, perm);
	},
};
