/*
 * Management API handlers about devices that explain themselves: the
 * requests refused at the door, and a device's update log as a text
 * file.
 */
#include "mgmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "app.h"
#include "device.h"
#include "http.h"
#include "mgmt_util.h"
#include "refused.h"

void
mgmt_get_refused(struct request *req)
{
	struct db *db = mgmt_db(req);
	const char *unknown = http_query(req, "unknown");
	int64_t limit, offset;

	if (db == NULL || !mgmt_query_page(req, 100, &limit, &offset))
		return;
	if (unknown && strcmp(unknown, "0") != 0 && strcmp(unknown, "1") != 0 &&
	    strcmp(unknown, "false") != 0 && strcmp(unknown, "true") != 0) {
		http_reply_error(req, 400, "invalid_query",
		    "unknown takes 0, 1, false or true");
		return;
	}
	mgmt_reply_object(req, 200,
	    refused_list_json(db, limit, offset,
	        unknown && (strcmp(unknown, "1") == 0 ||
	                       strcmp(unknown, "true") == 0)));
}

void
mgmt_get_device_log(struct request *req)
{
	struct db *db = mgmt_db(req);
	char hash[65], disp[128], *text, *name;
	enum result r;
	size_t len = 0; /* the text holds no NUL: http_reply_text copies it */
	int64_t id;

	if (db == NULL)
		return;
	r = device_find_auth(db, req->params[0], &id, hash);
	explicit_bzero(hash, sizeof(hash));
	if (r != RESULT_OK) {
		http_reply_result(
		    req, r, r == RESULT_NOTFOUND ? "no such device" : NULL);
		return;
	}
	if ((text = action_log_text(db, id, req->params[0], &len)) == NULL) {
		http_reply_error(req, 500, NULL, "cannot read the update log");
		return;
	}
	/* The file name keeps the id's safe characters only: a quote or
	 * a control character must not end the header's value. */
	name = xstrdup(req->params[0]);
	for (char *p = name; *p; p++)
		if (strchr(
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789_.-",
		        *p) == NULL)
			*p = '_';
	snprintf(disp, sizeof(disp),
	    "attachment; filename=\"%.64s-update-log.txt\"", name);
	free(name);
	http_set_header(req, "Content-Disposition", disp);
	http_reply_text(req, 200, "text/plain; charset=utf-8", text);
	free(text);
}
