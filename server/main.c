/*
 * falconet: start-up order, command line, signals and shutdown.
 *
 *   falconet [-c settings.yaml] [-n] [-v]      serve (-n: check settings)
 *   falconet [-c FILE] token create|delete NAME
 *   falconet [-c FILE] user add NAME [ROLE] [--allow-weak-password] < password
 *   falconet [-c FILE] migrate
 *   falconet [-c FILE] backup DIR | restore DIR
 *   falconet [-c FILE] health
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "artifact.h"
#include "audit.h"
#include "auth.h"
#include "backup.h"
#include "db.h"
#include "device.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "memo.h"
#include "metrics.h"
#include "migrate.h"
#include "perm.h"
#include "ratelimit.h"
#include "refused.h"
#include "route.h"
#include "seen.h"
#include "settings.h"
#include "sse.h"
#include "superseded.h"
#include "sysconf.h"
#include "tls.h"
#include "trust.h"
#include "user.h"
#include "wave.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: falconet [-c settings.yaml] [-n] [-v]\n"
	    "       falconet [-c settings.yaml] token create|delete NAME\n"
	    "       falconet [-c settings.yaml] user add NAME [admin|operator|"
	    "readonly] [--allow-weak-password] < password\n"
	    "       falconet [-c settings.yaml] migrate\n"
	    "       falconet [-c settings.yaml] backup|restore DIR\n"
	    "       falconet [-c settings.yaml] health\n");
	exit(2);
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		fatal("cannot create %s", path);
}

/* Remove uploads a previous run left half-written. */
static void
clean_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[2048];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "upload-", 7) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			log_info("removed unfinished upload %s", path);
	}
	closedir(d);
}

/* Create the data directories and bring the database up to date. */
static struct db *
open_data(struct app *app)
{
	const struct settings *s = app->settings;
	struct db *db;

	make_dir(s->data_dir);
	snprintf(
	    app->db_path, sizeof(app->db_path), "%s/falconet.db", s->data_dir);
	snprintf(app->artifact_dir, sizeof(app->artifact_dir), "%s/artifacts",
	    s->data_dir);
	snprintf(app->tmp_dir, sizeof(app->tmp_dir), "%s/tmp", s->data_dir);
	make_dir(app->artifact_dir);
	make_dir(app->tmp_dir);
	db_set_path(app->db_path);
	if ((db = db_thread()) == NULL)
		fatalx("cannot open the database %s", app->db_path);
	if (migrate_run(db) == -1)
		fatalx("cannot migrate the database %s", app->db_path);
	return db;
}

static int
cmd_token(struct app *app, int argc, char **argv)
{
	char token[AUTH_TOKEN_LEN + 1];
	struct db *db;
	enum result r;

	if (argc != 3)
		usage();
	db = open_data(app);
	if (strcmp(argv[1], "create") == 0) {
		r = auth_token_create(db, argv[2], token);
		if (r == RESULT_OK) {
			printf("%s\n", token);
			explicit_bzero(token, sizeof(token));
			return 0;
		}
		fprintf(stderr, "falconet: %s\n",
		    r == RESULT_CONFLICT ? "a token with that name exists"
		    : r == RESULT_INVALID
		        ? "token names are 1 to 64 of [A-Za-z0-9_.-]"
		        : "cannot create the token");
		return 1;
	}
	if (strcmp(argv[1], "delete") == 0) {
		r = auth_token_delete(db, argv[2]);
		if (r == RESULT_OK)
			return 0;
		fprintf(stderr, "falconet: %s\n",
		    r == RESULT_NOTFOUND ? "no such token"
		                         : "cannot delete the token");
		return 1;
	}
	usage();
	return 1;
}

/* Where people reach this server, for the start-up messages. */
static char *
server_base_url(const struct settings *s, int port)
{
	const char *host = s->listen_address;
	const char *scheme = s->tls_cert[0] ? "https" : "http";

	if (s->public_url[0])
		return xstrdup(s->public_url);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		host = "localhost";
	if (strchr(host, ':'))
		return xasprintf("%s://[%s]:%d", scheme, host, port);
	return xasprintf("%s://%s:%d", scheme, host, port);
}

/* Read one line (a password) from standard input, without its newline. */
static int
read_password(char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, stdin) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return -1; /* longer than the buffer */
	buf[n] = '\0';
	return 0;
}

/*
 * falconet user add NAME [ROLE] [--allow-weak-password]: the password
 * comes from standard input.  --allow-weak-password takes one shorter than
 * the policy allows, for test rigs whose clients log in as admin:admin.
 */
static int
cmd_user(struct app *app, int argc, char **argv)
{
	char pw[USER_PASSWORD_MAX + 2];
	bool weak =
	    argc >= 4 && strcmp(argv[argc - 1], "--allow-weak-password") == 0;
	int nargs = weak ? argc - 1 : argc;
	const char *role = nargs == 4 ? argv[3] : "admin";
	const char *why;
	json_t *grants;
	struct db *db;
	enum result r;
	int64_t id;

	if ((nargs != 3 && nargs != 4) || strcmp(argv[1], "add") != 0)
		usage();
	if ((grants = perm_role(role)) == NULL) {
		fprintf(stderr, "falconet: roles are admin, operator and "
		                "readonly\n");
		return 1;
	}
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password for %s: ", argv[2]);
	if (read_password(pw, sizeof(pw)) == -1) {
		fprintf(stderr, "falconet: no password on standard input\n");
		json_decref(grants);
		return 1;
	}
	why = user_password_problem(pw);
	if (why && weak && pw[0] != '\0' && strlen(pw) < USER_PASSWORD_MIN &&
	    utf8_valid(pw, strlen(pw)))
		why = NULL; /* only the length is waived */
	if (why != NULL || !user_name_valid(argv[2])) {
		fprintf(stderr, "falconet: %s\n",
		    why ? why : "user names are 1 to 64 of [A-Za-z0-9_.@-]");
		explicit_bzero(pw, sizeof(pw));
		json_decref(grants);
		return 1;
	}
	if (weak && strlen(pw) < USER_PASSWORD_MIN)
		log_warnx("user %s gets a password shorter than %d characters "
		          "(--allow-weak-password): for test rigs only",
		    argv[2], USER_PASSWORD_MIN);
	db = open_data(app);
	r = user_create_weak(
	    db, app->settings, argv[2], pw, grants, false, weak, &id);
	explicit_bzero(pw, sizeof(pw));
	json_decref(grants);
	if (r == RESULT_OK) {
		fprintf(
		    stderr, "falconet: user %s created (%s)\n", argv[2], role);
		return 0;
	}
	fprintf(stderr, "falconet: %s\n",
	    r == RESULT_CONFLICT ? "a user with that name exists"
	                         : "cannot create the user");
	return 1;
}

static int
serve(struct app *app)
{
	struct http_server *srv;
	struct db *db;
	char *base;
	int64_t users;
	sigset_t set;
	int64_t purged = now_s();
	int sig;

	db = open_data(app);
	clean_tmp(app->tmp_dir);
	artifact_sweep(db, app->artifact_dir);
	if ((users = user_count(db)) < 0)
		fatalx("cannot read the users table");
	if (users == 0) {
		/* First run: a one-time token lets the first admin sign up. */
		if (random_token(app->setup_token, 32) == -1)
			fatal("random");
	}
	session_expire(db, app->settings);
	app->login_limits = ratelimit_new(app->settings->login_tracked_keys);
	if ((app->basic_cache = auth_basic_cache_new()) == NULL)
		fatal("random");
	if (sysconf_reload(db, app->settings) == -1)
		fatalx("cannot read the system configuration");
	/* A table of its own: a flood of registrations from many addresses
	 * must not push login lockouts out. */
	app->register_limits = ratelimit_new(app->settings->login_tracked_keys);
	app->register_tally = device_tally_new();
	app->refused = refused_new(app->settings->refused_max);
	app->metrics = metrics_new(nroutes);
	app->stats_memo = memo_new(APP_STATS_CACHE_MS);
	app->metrics_memo = memo_new(APP_STATS_CACHE_MS);
	/* Block the signals in every thread; the main thread waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((app->sse = sse_start(app->db_path, app->settings)) == NULL)
		fatalx("cannot start the event hub");
	if ((app->seen = seen_start(
	         app->db_path, app->settings->stale_timeout)) == NULL)
		fatalx("cannot start the last-seen writer");
	if ((app->audit = audit_start(app->db_path, app->settings)) == NULL)
		fatalx("cannot start the audit log writer");
	if ((srv = http_start(app)) == NULL)
		fatalx("cannot start the HTTP server");
	log_info("listening on %s:%d%s", app->settings->listen_address,
	    http_port(srv), app->tls ? " (HTTPS)" : "");
	if (app->tls)
		log_info("serving %s", tls_describe(app->tls));
	if (http_plain_port(srv) != -1)
		log_info(
		    "listening on %s:%d (plain HTTP: devices and /healthz; "
		    "the dashboard and the APIs redirect to HTTPS)",
		    app->settings->listen_address, http_plain_port(srv));
	base = server_base_url(app->settings, http_port(srv));
	log_info("dashboard: %s/ui/; devices poll %s/%s/controller/v1/"
	         "<controller id>",
	    base, base, app->settings->tenant);
	if (app->setup_token[0])
		log_info("no user exists yet: create the first administrator "
		         "at %s/ui/#/setup?token=%s (or run: falconet user add "
		         "NAME)",
		    base, app->setup_token);
	free(base);
	/* Between signals, delete the sessions that ended: session_find
	 * refuses them already, this keeps their rows from piling up. */
	for (bool first = true;; first = false) {
		struct timespec tick = {.tv_sec = 1};

		/* Once a second the rollouts due to start (a thread of their
		 * own would cost a database connection's cache for this);
		 * every session_purge_interval the sessions that ended. */
		wave_tick(db, first);
		refused_flush(app->refused, db);
		superseded_tick(db);
		if ((sig = sigtimedwait(&set, NULL, &tick)) == -1) {
			if (errno == EAGAIN &&
			    now_s() - purged >=
			        app->settings->session_purge_interval) {
				session_expire(db, app->settings);
				purged = now_s();
			}
			continue;
		}
		if (sig == SIGHUP) {
			char err[1024];

			log_info("SIGHUP: settings are read at start-up only");
			if (app->tls && tls_reload(app->tls, err, sizeof(err)))
				log_warnx(
				    "SIGHUP: kept the old certificate: %s",
				    err);
			else if (app->tls)
				log_info("SIGHUP: reloaded the certificate: %s",
				    tls_describe(app->tls));
			continue;
		}
		break;
	}
	log_info("shutting down");
	sse_close_all(app->sse);
	http_stop(srv);
	refused_flush(app->refused, db);
	sse_stop(app->sse);
	audit_stop(app->audit);
	seen_stop(app->seen);
	ratelimit_free(app->login_limits);
	auth_basic_cache_free(app->basic_cache);
	sysconf_shutdown();
	ratelimit_free(app->register_limits);
	device_tally_free(app->register_tally);
	refused_free(app->refused);
	metrics_free(app->metrics);
	memo_free(app->stats_memo);
	memo_free(app->metrics_memo);
	db_thread_close();
	return 0;
}

/*
 * falconet backup DIR: a consistent copy of the data directory, taken
 * while the server serves.  falconet restore DIR: into an empty data
 * directory, before the server is started on it.
 */
static int
cmd_backup(struct app *app, int argc, char **argv)
{
	const char *data_dir = app->settings->data_dir;
	struct backup_stats st;
	char err[1024];
	int rc;

	if (argc != 2)
		usage();
	if (strcmp(argv[0], "backup") == 0)
		rc = backup_create(data_dir, argv[1], &st, err, sizeof(err));
	else
		rc = backup_restore(
		    argv[1], data_dir, migrate_latest(), &st, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "falconet: %s: %s\n", argv[0], err);
		return 1;
	}
	fprintf(stderr,
	    "falconet: %s %s %s: schema %d, %lld artifacts, %lld bytes%s\n",
	    strcmp(argv[0], "backup") == 0 ? "backed up" : "restored",
	    strcmp(argv[0], "backup") == 0 ? "into" : "from", argv[1],
	    st.schema, (long long)st.artifacts, (long long)st.bytes,
	    st.tries > 1 ? " (artifacts deleted meanwhile: snapshot taken "
	                   "again)"
	                 : "");
	return 0;
}

/*
 * falconet health: exit 0 if the server these settings describe answers
 * GET /healthz with 200 within HEALTH_TIMEOUT_MS, else 1 (a container's
 * HEALTHCHECK, without curl in the image).
 */
static int
cmd_health(struct app *app, int argc)
{
	char err[256];

	if (argc != 1)
		usage();
	if (health_probe(app->settings, HEALTH_TIMEOUT_MS, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "falconet: health: %s\n", err);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct settings settings;
	struct app app;
	const char *path = "settings.yaml";
	char err[1024];
	bool check = false;
	int ch, rc = 1, verbose = 0;
	long cores;

	while ((ch = getopt(argc, argv, "+c:nvh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	/* The database holds password hashes and tokens' hashes, the
	 * artifacts may be private: nothing this process creates is for
	 * other local users (files 0600, directories 0700). */
	umask(077);
	log_init(LOG_LVL_INFO, false);
	settings_defaults(&settings);
	if (settings_load(&settings, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "falconet: %s\n", err);
		return 1;
	}
	memset(&app, 0, sizeof(app));
	if (settings.rauc_keyring[0] &&
	    (app.rauc_keyring = trust_store_load(
	         settings.rauc_keyring, err, sizeof(err))) == NULL) {
		fprintf(stderr, "falconet: %s: rauc.keyring: %s\n", path, err);
		return 1;
	}
	if (settings.swu_keyring[0] &&
	    (app.swu_keyring = trust_store_load(
	         settings.swu_keyring, err, sizeof(err))) == NULL) {
		fprintf(
		    stderr, "falconet: %s: swupdate.keyring: %s\n", path, err);
		trust_store_free(app.rauc_keyring);
		return 1;
	}
	if (settings.tls_cert[0] && (check || argc == 0) &&
	    (app.tls = tls_load(&settings, err, sizeof(err))) == NULL) {
		fprintf(stderr, "falconet: %s: %s\n", path, err);
		trust_store_free(app.rauc_keyring);
		trust_store_free(app.swu_keyring);
		return 1;
	}
	if (settings.cert_proxies_from_trusted && (check || argc == 0))
		log_warnx(
		    "%s: device_auth.proxy_cert takes the certificate "
		    "headers from every peer in proxy.trusted, since "
		    "proxy.cert_trusted is empty; this is deprecated: list "
		    "only the proxies that check client certificates, and "
		    "overwrite both headers, in proxy.cert_trusted",
		    path);
	/* A per-address share as large as the whole leaves one host able
	 * to hold every connection (trickling heads, say). */
	if (settings.http_per_ip_limit >= settings.http_connection_limit &&
	    (check || argc == 0))
		log_warnx(
		    "%s: http.per_ip_limit %d is not below "
		    "http.connection_limit %d: one address can hold every "
		    "connection; lower per_ip_limit (or raise "
		    "connection_limit)",
		    path, settings.http_per_ip_limit,
		    settings.http_connection_limit);
	if (check) {
		tls_free(app.tls);
		trust_store_free(app.rauc_keyring);
		trust_store_free(app.swu_keyring);
		fprintf(stderr, "falconet: %s: settings OK\n", path);
		return 0;
	}
	log_set_level(
	    verbose ? LOG_LVL_DEBUG : (enum log_level)settings.log_level);
	app.settings = &settings;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	app.cores = cores > 0 && cores < 64 ? (int)cores : 2;
	if (argc == 0)
		rc = serve(&app);
	else if (strcmp(argv[0], "token") == 0)
		rc = cmd_token(&app, argc, argv);
	else if (strcmp(argv[0], "user") == 0)
		rc = cmd_user(&app, argc, argv);
	else if (strcmp(argv[0], "backup") == 0 ||
	         strcmp(argv[0], "restore") == 0)
		rc = cmd_backup(&app, argc, argv);
	else if (strcmp(argv[0], "health") == 0)
		rc = cmd_health(&app, argc);
	else if (strcmp(argv[0], "migrate") == 0 && argc == 1) {
		open_data(&app);
		printf("schema version %d\n", migrate_latest());
		rc = 0;
	} else
		usage();
	tls_free(app.tls);
	trust_store_free(app.rauc_keyring);
	trust_store_free(app.swu_keyring);
	return rc;
}
