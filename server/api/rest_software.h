/*
 * hawkBit's Management API for software: /rest/v1/softwaremodules (with
 * artifacts and metadata), softwaremoduletypes, distributionsets (with
 * assignedSM and metadata) and distributionsettypes, over Falconet's
 * modules, artifacts and distribution sets.
 */
#ifndef REST_SOFTWARE_H
#define REST_SOFTWARE_H

#include <jansson.h>
#include <stdint.h>

struct db;
struct request;

/* Distribution set id as a MgmtDistributionSet (new reference), NULL if
 * there is none or on error. */
json_t *rest_ds_json(struct request *, struct db *, int64_t id);

void rest_get_modules(struct request *);
void rest_post_modules(struct request *);
void rest_get_module(struct request *);
void rest_put_module(struct request *);
void rest_delete_module(struct request *);
void rest_get_module_artifacts(struct request *);
void rest_post_module_artifact(struct request *);
void rest_get_module_artifact(struct request *);
void rest_delete_module_artifact(struct request *);
void rest_get_module_artifact_download(struct request *);
void rest_get_module_metadata(struct request *);
void rest_post_module_metadata(struct request *);
void rest_get_module_metadata_key(struct request *);
void rest_put_module_metadata_key(struct request *);
void rest_delete_module_metadata_key(struct request *);
void rest_get_module_types(struct request *);
void rest_post_module_types(struct request *);
void rest_get_module_type(struct request *);
void rest_delete_module_type(struct request *);

void rest_get_sets(struct request *);
void rest_post_sets(struct request *);
void rest_get_set(struct request *);
void rest_put_set(struct request *);
void rest_delete_set(struct request *);
void rest_get_set_modules(struct request *);
void rest_post_set_modules(struct request *);
void rest_delete_set_module(struct request *);
void rest_get_set_metadata(struct request *);
void rest_post_set_metadata(struct request *);
void rest_get_set_metadata_key(struct request *);
void rest_put_set_metadata_key(struct request *);
void rest_delete_set_metadata_key(struct request *);
void rest_get_set_types(struct request *);
void rest_post_set_types(struct request *);
void rest_get_set_type(struct request *);
void rest_delete_set_type(struct request *);

#endif
