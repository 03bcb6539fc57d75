/*
 * The application state main() builds once and every handler reaches as
 * req->app: frozen settings and the data directories.  Nothing here is
 * written after start-up.
 */
#ifndef APP_H
#define APP_H

#include "settings.h"

#define APP_STATS_CACHE_MS 5000

/* This release, as /api/v1/me tells the dashboard. */
#define FALCONET_VERSION "0.9.0"

struct seen;
struct ratelimit;
struct sse_hub;
struct metrics;
struct trust_store;
struct device_tally;
struct audit_log;
struct memo;
struct refused;
struct auth_basic_cache;
struct tls;

struct app {
	const struct settings *settings;
	char db_path[1100];
	char artifact_dir[1100]; /* data_dir/artifacts */
	char tmp_dir[1100];      /* data_dir/tmp: uploads in progress */
	struct seen *seen;       /* last-seen coalescer */
	struct refused *refused; /* requests refused at the door */
	int cores;
	char setup_token[33]; /* first-run set-up, "" once a user exists */
	struct ratelimit *login_limits; /* failed logins per user and address */
	struct auth_basic_cache *basic_cache; /* recent /rest/v1 Basic logins */
	struct sse_hub *sse;                  /* live device events */
	struct audit_log *audit;              /* folded failures, retention */
	struct metrics *metrics;              /* counters for /metrics */
	struct trust_store *rauc_keyring;     /* rauc.keyring, NULL if unset */
	struct trust_store *swu_keyring; /* swupdate.keyring, NULL if unset */
	struct tls *tls; /* tls.cert and friends, NULL: plain HTTP only */

	/* Devices that register themselves (ddi.c): per address, in total. */
	struct ratelimit *register_limits;
	struct device_tally *register_tally; /* devices on register_feed */
	/* /api/v1/stats and /metrics' gauges, computed at most once per
	 * APP_STATS_CACHE_MS however many ask (NULL: every time). */
	struct memo *stats_memo, *metrics_memo;
};

#endif
