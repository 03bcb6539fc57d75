// #/setup?token=...: the first run, creating the first administrator with
// the one-time token the server printed in its log.
import {h, logo} from '../dom.js';
import {post, get} from '../api.js';
import {session} from '../session.js';
import {field} from '../ui.js';

export default async function render(ctx) {
	let needed = true;
	try {
		needed = !!(await get('/api/v1/setup', {auth401: false})).needed;
	} catch {
		needed = true;
	}
	if (!needed) {
		ctx.el.appendChild(h('div', {class: 'card auth-card'},
			h('div', {class: 'auth-brand'}, logo('logo-lg'), h('h1', null, 'Falconet')),
			h('p', null, 'Falconet is already set up.'),
			h('a', {class: 'btn btn-primary btn-block', href: '#/login'}, 'Go to the sign-in page')));
		return;
	}
	const tokenFromUrl = ctx.query.get('token') || '';
	const token = h('input', {class: 'input', name: 'token', id: 'setup-token', value: tokenFromUrl, autocomplete: 'off', spellcheck: 'false', required: true});
	const user = h('input', {class: 'input', name: 'username', id: 'setup-username', value: 'admin', autocomplete: 'username', required: true, autocapitalize: 'none'});
	const pass = h('input', {class: 'input', name: 'password', id: 'setup-password', type: 'password', autocomplete: 'new-password', minlength: '10', required: true});
	const pass2 = h('input', {class: 'input', name: 'password2', id: 'setup-password2', type: 'password', autocomplete: 'new-password', required: true});
	const err = h('div', {class: 'form-error', role: 'alert', hidden: true});
	const btn = h('button', {type: 'submit', class: 'btn btn-primary btn-block', id: 'setup-submit'}, 'Create administrator');
	const form = h('form', {class: 'card auth-card', id: 'setup-form', novalidate: true},
		h('div', {class: 'auth-brand'}, logo('logo-lg'), h('h1', null, 'Welcome to Falconet')),
		h('p', {class: 'muted'}, 'Create the first administrator. The setup link with its one-time token is printed in the server log.'),
		tokenFromUrl ? null : field('Setup token', token, 'From the line "no user exists yet: create the first administrator at http://…/ui/#/setup?token=…" in the server log (docker logs, journalctl -u falconet).'),
		field('Username', user),
		field('Password', pass, 'At least 10 characters.'),
		field('Repeat the password', pass2),
		err,
		btn);
	ctx.el.appendChild(form);
	(tokenFromUrl ? pass : token).focus();

	const fail = (msg) => {
		err.textContent = msg;
		err.hidden = false;
	};
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.hidden = true;
		if (!token.value.trim()) return fail('The setup token is missing: open the link from the server log.');
		if (!user.value.trim()) return fail('Choose a username.');
		if (pass.value.length < 10) return fail('The password needs at least 10 characters.');
		if (pass.value !== pass2.value) return fail('The two passwords differ.');
		btn.disabled = true;
		try {
			const me = await post('/api/v1/setup', {token: token.value.trim(), username: user.value.trim(), password: pass.value}, {auth401: false});
			session.set(me);
			try {
				session.set(await get('/api/v1/me', {auth401: false}));
			} catch {
				// the setup answer did not log in: ask for the password
				session.set(null);
			}
			location.hash = session.user ? '#/devices' : '#/login';
		} catch (e) {
			if (e.status === 403) fail('The setup token is wrong or setup was already done. ' + (e.detail || ''));
			else fail(e.detail || String(e));
		} finally {
			btn.disabled = false;
		}
	});
}
