/*
 * System configuration (sysconf.h) over HTTP: hawkBit's
 * /rest/v1/system/configs and Falconet's /api/v1/system/configs.
 */
#ifndef REST_SYSTEM_H
#define REST_SYSTEM_H

struct request;

/* GET /rest/v1/system/configs: {key: {value, global, ...}} of every key. */
void rest_get_system_configs(struct request *);
/* PUT /rest/v1/system/configs: {key: value, ...}, all or nothing; 204. */
void rest_put_system_configs(struct request *);
/* GET, PUT {"value"}, DELETE /rest/v1/system/configs/{key}. */
void rest_get_system_config(struct request *);
void rest_put_system_config(struct request *);
void rest_delete_system_config(struct request *);

/* GET /api/v1/system/configs: {"configs": {key: {value, global, type,
 * updated_at, updated_by}}}. */
void mgmt_get_system_configs(struct request *);
/* PATCH /api/v1/system/configs: {key: value or null (back to
 * settings.yaml)}, all or nothing; 200 with the new configs. */
void mgmt_patch_system_configs(struct request *);

#endif
