#include "meta.h"

#include <string.h>

#include "db.h"

const char *
meta_check(json_t *meta, bool visible)
{
	size_t i, j;
	json_t *e, *f;

	if (!json_is_array(meta))
		return "metadata must be an array of {key, value}";
	if (json_array_size(meta) > META_MAX)
		return "metadata: at most 100 entries";
	json_array_foreach(meta, i, e)
	{
		const char *k = json_string_value(json_object_get(e, "key"));
		const char *v = json_string_value(json_object_get(e, "value"));
		const char *name;
		json_t *x;

		if (!json_is_object(e) || k == NULL || v == NULL)
			return "metadata: each entry needs a string key and a "
			       "string value";
		json_object_foreach(e, name, x)
		{
			if (strcmp(name, "key") != 0 &&
			    strcmp(name, "value") != 0 &&
			    !(visible && strcmp(name, "target_visible") == 0 &&
			        json_is_boolean(x)))
				return visible ? "metadata: entries have key, "
				                 "value and target_visible "
				                 "(true or false)"
				               : "metadata: entries have key "
				                 "and value";
		}
		if (*k == '\0' || strlen(k) > META_KEY_MAX)
			return "metadata: keys are 1 to 128 characters";
		if (strlen(v) > META_VALUE_MAX)
			return "metadata: values are at most 4000 characters";
		json_array_foreach(meta, j, f)
		{
			if (j >= i)
				break;
			if (strcmp(k, json_string_value(
			                  json_object_get(f, "key"))) == 0)
				return "metadata: a key appears twice";
		}
	}
	return NULL;
}

enum result
meta_replace(struct db *db, int64_t owner, json_t *meta, bool visible,
    const char *clear_sql, const char *insert_sql, const char **why)
{
	sqlite3_stmt *st;
	enum result r;
	size_t i;
	json_t *e;

	if ((*why = meta_check(meta, visible)) != NULL)
		return RESULT_INVALID;
	if ((st = db_prepare(db, clear_sql)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, owner);
	if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
		return r;
	json_array_foreach(meta, i, e)
	{
		if ((st = db_prepare(db, insert_sql)) == NULL)
			return RESULT_ERROR;
		db_bind_int64(st, 1, owner);
		db_bind_text(
		    st, 2, json_string_value(json_object_get(e, "key")));
		db_bind_text(
		    st, 3, json_string_value(json_object_get(e, "value")));
		if (visible)
			db_bind_int64(st, 4,
			    json_is_true(json_object_get(e, "target_visible")));
		if ((r = db_step_done(db, st, __func__)) != RESULT_OK)
			return r;
	}
	return RESULT_OK;
}

json_t *
meta_json(struct db *db, int64_t owner, bool visible, const char *select_sql)
{
	sqlite3_stmt *st = db_prepare(db, select_sql);
	json_t *a = json_array(), *o;

	if (st == NULL)
		return a;
	db_bind_int64(st, 1, owner);
	while (sqlite3_step(st) == SQLITE_ROW) {
		o = json_pack("{s:s, s:s}", "key",
		    (const char *)sqlite3_column_text(st, 0), "value",
		    (const char *)sqlite3_column_text(st, 1));
		if (visible)
			json_object_set_new(o, "target_visible",
			    json_boolean(sqlite3_column_int(st, 2)));
		json_array_append_new(a, o);
	}
	db_done(st);
	return a;
}

json_t *
meta_page_json(struct db *db, const struct meta_table *t, int64_t owner,
    int64_t limit, int64_t offset, int64_t *total)
{
	sqlite3_stmt *st;
	json_t *a;

	*total = 0;
	if ((st = db_prepare(db, t->count)) == NULL)
		return NULL;
	db_bind_int64(st, 1, owner);
	*total = db_count(st);
	if ((st = db_prepare(db, t->page)) == NULL)
		return NULL;
	a = json_array();
	db_bind_int64(st, 1, owner);
	db_bind_int64(st, 2, limit);
	db_bind_int64(st, 3, offset);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    a, json_pack("{s:s, s:s}", "key",
		           (const char *)sqlite3_column_text(st, 0), "value",
		           (const char *)sqlite3_column_text(st, 1)));
	db_done(st);
	return a;
}

char *
meta_get(struct db *db, const struct meta_table *t, int64_t owner,
    const char *key, enum result *r)
{
	sqlite3_stmt *st = db_prepare(db, t->get);
	char *v = NULL;

	*r = RESULT_ERROR;
	if (st == NULL)
		return NULL;
	db_bind_int64(st, 1, owner);
	db_bind_text(st, 2, key);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		v = db_column_strdup(st, 0);
		*r = RESULT_OK;
		break;
	case SQLITE_DONE:
		*r = RESULT_NOTFOUND;
		break;
	}
	db_done(st);
	return v;
}

static const char *
meta_entry_problem(const char *key, const char *value)
{
	if (key == NULL || *key == '\0' || strlen(key) > META_KEY_MAX)
		return "metadata: keys are 1 to 128 characters";
	if (value == NULL || strlen(value) > META_VALUE_MAX)
		return "metadata: values are strings of at most 4000 "
		       "characters";
	return NULL;
}

enum result
meta_add(struct db *db, const struct meta_table *t, int64_t owner,
    const char *key, const char *value, const char **why)
{
	sqlite3_stmt *st;

	if ((*why = meta_entry_problem(key, value)) != NULL)
		return RESULT_INVALID;
	if ((st = db_prepare(db, t->count)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, owner);
	if (db_count(st) >= META_MAX)
		return *why = "metadata: at most 100 entries", RESULT_INVALID;
	if ((st = db_prepare(db, t->insert)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, owner);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	return db_step_done(db, st, __func__);
}

enum result
meta_set(struct db *db, const struct meta_table *t, int64_t owner,
    const char *key, const char *value, const char **why)
{
	sqlite3_stmt *st;

	if ((*why = meta_entry_problem(key, value)) != NULL)
		return RESULT_INVALID;
	if ((st = db_prepare(db, t->update)) == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, owner);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	return db_step_changed(db, st, __func__);
}

enum result
meta_remove(
    struct db *db, const struct meta_table *t, int64_t owner, const char *key)
{
	sqlite3_stmt *st = db_prepare(db, t->remove);

	if (st == NULL)
		return RESULT_ERROR;
	db_bind_int64(st, 1, owner);
	db_bind_text(st, 2, key);
	return db_step_changed(db, st, __func__);
}
