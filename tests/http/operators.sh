# Helpers for the operator tests (t01NN): sourced after lib.sh.

# Fast password hashing for tests; login_max_failures is high so that the
# many logins of a test never meet the rate limit (t0130 tests it).
FAST='auth:
  argon2_memory_kib: 1024
  argon2_iterations: 1
  login_max_failures: 100'

# post_json PATH JSON [curl args...]
post_json()
{
	local path=$1 json=$2
	shift 2
	req POST "$path" -H 'Content-Type: application/json' \
	    --data-binary "$json" "$@"
}

# The session cookie of the last answer's Set-Cookie, or nothing.
cookie_value()
{
	header Set-Cookie | sed -n 's/^falconet_session=\([^;]*\);.*/\1/p'
}

# login USER PASSWORD: sets COOKIE and CSRF from the answer.
login()
{
	post_json /api/v1/login \
	    "$(jq -cn --arg u "$1" --arg p "$2" '{username:$u,password:$p}')"
	COOKIE=$(cookie_value)
	CSRF=$(jq -r '.csrf_token // empty' <"$T/body" 2>/dev/null)
}

# mangle S: S with its last character replaced by another one.
mangle()
{
	case $1 in
	*x) printf '%sy\n' "${1%?}" ;;
	*) printf '%sx\n' "${1%?}" ;;
	esac
}
