// #/users: your account (password, personal API tokens) and, with
// users.read, the users with their roles.
import {h, add, replace, icon, badge, age, fmtTime, empty, copyButton} from '../dom.js';
import {get, post, patch, del} from '../api.js';
import {session, ROLES, roleOf, ALL_PERMISSIONS} from '../session.js';
import {toast, toastError, confirmDialog, modal, field} from '../ui.js';

function permChips(perms) {
	if (!perms || !perms.length) return h('span', {class: 'muted'}, 'none');
	return h('span', {class: 'chips'}, perms.map((p) => h('span', {class: 'chip chip-plain mono' + (String(p).startsWith('!') ? ' chip-deny' : '')}, p)));
}

function parsePerms(text) {
	return text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

// A role select plus a free-form permission list for "custom".
function permEditor(initial, {allowInherit = false} = {}) {
	const role = h('select', {class: 'input', id: 'perm-role'},
		allowInherit ? h('option', {value: 'inherit'}, 'All of my permissions') : null,
		Object.keys(ROLES).map((r) => h('option', {value: r}, `${r} — ${ROLES[r].join(', ')}`)),
		h('option', {value: 'custom'}, 'custom…'));
	const text = h('textarea', {class: 'input mono', id: 'perm-custom', rows: '3', spellcheck: 'false', placeholder: 'device.read software !device.delete'});
	const customField = field('Permissions', text, 'Space or comma separated: ' + ALL_PERMISSIONS.join(' ') + '; a prefix (device) grants all of its permissions, * grants everything, !x denies.');
	const start = initial === null ? (allowInherit ? 'inherit' : 'readonly') : roleOf(initial);
	role.value = start;
	text.value = (initial || (ROLES[start] || [])).join(' ');
	const sync = () => {
		customField.hidden = role.value !== 'custom';
		if (ROLES[role.value]) text.value = ROLES[role.value].join(' ');
	};
	role.addEventListener('change', sync);
	customField.hidden = role.value !== 'custom';
	return {
		nodes: [field('Role', role), customField],
		value() {
			if (role.value === 'inherit') return null;
			if (ROLES[role.value]) return ROLES[role.value].slice();
			const p = parsePerms(text.value);
			if (!p.length) throw new Error('Enter at least one permission.');
			return p;
		},
	};
}

function showSecret(title, secret, note) {
	modal({
		title,
		body: [h('p', null, note), h('div', {class: 'secret', id: 'new-secret'}, h('code', {class: 'mono'}, secret), copyButton(secret))],
		buttons: [{label: 'Done', kind: 'primary', submit: true}],
	});
}

export default async function render(ctx) {
	const me = session.user;
	const canUsersRead = session.can('users.read');
	const canUsersWrite = session.can('users.write');
	const tokensBox = h('div', {id: 'tokens'});
	const usersBox = h('div', {id: 'users'});

	add(ctx.el,
		h('div', {class: 'page-head'}, h('div', {class: 'page-title'}, h('h1', null, 'Users & tokens'))),
		h('section', {class: 'section'},
			h('div', {class: 'section-head'}, h('h2', null, 'My account'), h('span', {class: 'spacer'})),
			h('div', {class: 'card account'},
				h('div', {class: 'account-main'},
					h('span', {class: 'avatar'}, icon('user')),
					h('div', null, h('strong', {id: 'account-name'}, me.username), h('div', {class: 'muted small'}, roleOf(me.permissions) + ' · ', permChips(me.permissions)))),
				h('button', {type: 'button', class: 'btn btn-sm', id: 'change-password', onclick: changePassword}, icon('key'), 'Change password'))),
		h('section', {class: 'section'},
			h('div', {class: 'section-head'}, h('h2', null, 'My API tokens'), h('span', {class: 'spacer'}),
				h('button', {type: 'button', class: 'btn btn-sm btn-primary', id: 'new-token', onclick: newToken}, icon('plus'), 'New token')),
			h('p', {class: 'muted small'}, 'For scripts and CI: send "Authorization: Bearer <token>". A token can have fewer permissions than you, never more.'),
			h('div', {class: 'card card-flush'}, tokensBox)),
		canUsersRead ? h('section', {class: 'section'},
			h('div', {class: 'section-head'}, h('h2', null, 'Users'), h('span', {class: 'spacer'}),
				canUsersWrite ? h('button', {type: 'button', class: 'btn btn-sm btn-primary', id: 'new-user', onclick: newUser}, icon('plus'), 'Add user') : null),
			h('div', {class: 'card card-flush'}, usersBox)) : null);

	// ---- account
	function changePassword() {
		const cur = h('input', {class: 'input', type: 'password', id: 'pw-current', autocomplete: 'current-password'});
		const n1 = h('input', {class: 'input', type: 'password', id: 'pw-new', autocomplete: 'new-password', minlength: '10'});
		const n2 = h('input', {class: 'input', type: 'password', id: 'pw-new2', autocomplete: 'new-password'});
		modal({
			title: 'Change my password',
			body: [field('Current password', cur), field('New password', n1, 'At least 10 characters.'), field('Repeat the new password', n2),
				h('p', {class: 'muted small'}, 'All your sessions end: you log in again with the new password.')],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Change password', kind: 'primary', submit: true, onClick: async () => {
					if (n1.value.length < 10) throw new Error('The new password needs at least 10 characters.');
					if (n1.value !== n2.value) throw new Error('The two new passwords differ.');
					await post('/api/v1/me/password', {current: cur.value, new: n1.value}, {auth401: false});
					session.set(null);
					toast('Password changed. Please log in again.', 'ok');
					ctx.navigate('#/login');
				}},
			],
		});
	}

	// ---- tokens
	async function loadTokens() {
		let r;
		try {
			r = await get('/api/v1/tokens');
		} catch (e) {
			replace(tokensBox, h('div', {class: 'inline-error'}, 'Could not load your tokens: ' + e.detail));
			return;
		}
		const ts = r.tokens || [];
		if (!ts.length) {
			replace(tokensBox, empty('You have no API tokens.'));
			return;
		}
		replace(tokensBox, h('div', {class: 'table-scroll'}, h('table', {class: 'table', id: 'tokens-table'},
			h('thead', null, h('tr', null, ['Name', 'Permissions', 'Created', 'Last used'].map((x) => h('th', null, x)), h('th', null, h('span', {class: 'visually-hidden'}, 'Actions')))),
			h('tbody', null, ts.map((t) => h('tr', {dataset: {id: String(t.id)}},
				h('td', null, h('strong', null, t.name)),
				h('td', null, t.permissions ? permChips(t.permissions) : h('span', {class: 'muted'}, 'same as mine')),
				h('td', {class: 'nowrap', title: fmtTime(t.created_at)}, age(t.created_at)),
				h('td', {class: 'nowrap'}, t.last_used_at ? age(t.last_used_at) : h('span', {class: 'muted'}, 'never')),
				h('td', {class: 'actions'}, h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', dataset: {action: 'revoke'}, onclick: () => revokeToken(t)}, icon('trash'), 'Revoke'))))))));
	}

	function newToken() {
		const name = h('input', {class: 'input', id: 'token-name', placeholder: 'e.g. ci-upload', autocomplete: 'off'});
		const perms = permEditor(null, {allowInherit: true});
		modal({
			title: 'New API token',
			body: [field('Name', name), ...perms.nodes],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Create token', kind: 'primary', submit: true, onClick: async () => {
					if (!name.value.trim()) throw new Error('Name the token.');
					const body = {name: name.value.trim()};
					const p = perms.value();
					if (p) body.permissions = p;
					const t = await post('/api/v1/tokens', body);
					loadTokens();
					showSecret(`Token “${t.name}” created`, t.token, 'Copy it now: it is shown only once.');
				}},
			],
		});
	}

	async function revokeToken(t) {
		if (!(await confirmDialog({title: 'Revoke this token?', message: `Revoke the token “${t.name}”?`, detail: 'Scripts using it get 401 from now on.', confirm: 'Revoke', danger: true}))) return;
		try {
			await del('/api/v1/tokens/' + encodeURIComponent(t.id));
			toast(`Token “${t.name}” revoked.`, 'ok');
			loadTokens();
		} catch (e) {
			toastError(e, 'Could not revoke the token');
		}
	}

	// ---- users
	async function loadUsers() {
		let r;
		try {
			r = await get('/api/v1/users');
		} catch (e) {
			replace(usersBox, h('div', {class: 'inline-error'}, 'Could not load the users: ' + e.detail));
			return;
		}
		const us = (r.users || []).slice().sort((a, b) => a.username.localeCompare(b.username));
		replace(usersBox, h('div', {class: 'table-scroll'}, h('table', {class: 'table', id: 'users-table'},
			h('thead', null, h('tr', null, ['User', 'Role', 'Permissions', 'Status', 'Created', 'Last login'].map((x) => h('th', null, x)), h('th', null, h('span', {class: 'visually-hidden'}, 'Actions')))),
			h('tbody', null, us.map((u) => {
				const self = u.username === me.username;
				return h('tr', {dataset: {user: u.username}, class: u.enabled === false ? 'row-deleted' : null},
					h('td', null, h('strong', null, u.username), self ? h('span', {class: 'muted small'}, ' (you)') : null),
					h('td', null, badge(roleOf(u.permissions), roleOf(u.permissions) === 'admin' ? 'accent' : 'muted')),
					h('td', null, permChips(u.permissions)),
					h('td', null, u.enabled === false ? badge('disabled', 'warn') : badge('enabled', 'ok')),
					h('td', {class: 'nowrap', title: fmtTime(u.created_at)}, age(u.created_at)),
					h('td', {class: 'nowrap'}, u.last_login_at ? age(u.last_login_at) : h('span', {class: 'muted'}, 'never')),
					h('td', {class: 'actions nowrap'}, canUsersWrite ? [
						h('button', {type: 'button', class: 'btn btn-sm btn-ghost', dataset: {action: 'edit'}, onclick: () => editUser(u)}, icon('edit'), 'Edit'),
						!self ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', dataset: {action: 'toggle'}, onclick: () => toggleUser(u)}, u.enabled === false ? 'Enable' : 'Disable') : null,
						!self ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost btn-danger-text', dataset: {action: 'delete'}, 'aria-label': 'Delete ' + u.username, title: 'Delete ' + u.username, onclick: () => deleteUser(u)}, icon('trash')) : null,
					] : null));
			})))));
	}

	function newUser() {
		const name = h('input', {class: 'input', id: 'user-name', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false'});
		const pw = h('input', {class: 'input', type: 'password', id: 'user-password', autocomplete: 'new-password', minlength: '10'});
		const perms = permEditor(ROLES.operator);
		modal({
			title: 'Add a user',
			body: [field('Username', name), field('Password', pw, 'At least 10 characters; they can change it later.'), ...perms.nodes],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Add user', kind: 'primary', submit: true, onClick: async () => {
					if (!name.value.trim()) throw new Error('Enter a username.');
					if (pw.value.length < 10) throw new Error('The password needs at least 10 characters.');
					await post('/api/v1/users', {username: name.value.trim(), password: pw.value, permissions: perms.value()});
					toast(`User ${name.value.trim()} added.`, 'ok');
					loadUsers();
				}},
			],
		});
	}

	function editUser(u) {
		const perms = permEditor(u.permissions || []);
		const pw = h('input', {class: 'input', type: 'password', id: 'user-new-password', autocomplete: 'new-password', placeholder: 'unchanged'});
		modal({
			title: `Edit ${u.username}`,
			body: [...perms.nodes, field('New password', pw, 'Leave empty to keep it. A new password ends their sessions.')],
			buttons: [
				{label: 'Cancel', kind: 'ghost'},
				{label: 'Save', kind: 'primary', submit: true, onClick: async () => {
					const body = {permissions: perms.value()};
					if (pw.value) {
						if (pw.value.length < 10) throw new Error('The password needs at least 10 characters.');
						body.password = pw.value;
					}
					await patch('/api/v1/users/' + encodeURIComponent(u.username), body);
					toast(`User ${u.username} saved.`, 'ok');
					loadUsers();
				}},
			],
		});
	}

	async function toggleUser(u) {
		const enable = u.enabled === false;
		if (!enable && !(await confirmDialog({title: 'Disable this user?', message: `Disable ${u.username}? Their sessions and tokens stop working until enabled again.`, confirm: 'Disable', danger: true}))) return;
		try {
			await patch('/api/v1/users/' + encodeURIComponent(u.username), {enabled: enable});
			toast(`User ${u.username} ${enable ? 'enabled' : 'disabled'}.`, 'ok');
			loadUsers();
		} catch (e) {
			toastError(e, 'Could not change the user');
		}
	}

	async function deleteUser(u) {
		if (!(await confirmDialog({title: 'Delete this user?', message: `Delete ${u.username} and their tokens?`, confirm: 'Delete', danger: true}))) return;
		try {
			await del('/api/v1/users/' + encodeURIComponent(u.username));
			toast(`User ${u.username} deleted.`, 'ok');
			loadUsers();
		} catch (e) {
			toastError(e, 'Could not delete the user');
		}
	}

	replace(tokensBox, empty('Loading…'));
	if (canUsersRead) replace(usersBox, empty('Loading…'));
	await Promise.all([loadTokens(), canUsersRead ? loadUsers() : null]);
}
