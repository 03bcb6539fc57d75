/*
 * hawkBit's Management API for targets: /rest/v1/targets and its
 * attributes, metadata, assignedDS and installedDS, over Falconet's
 * devices.
 */
#ifndef REST_TARGETS_H
#define REST_TARGETS_H

struct request;

void rest_get_targets(struct request *);
void rest_post_targets(struct request *);
void rest_get_target(struct request *);
void rest_put_target(struct request *);
void rest_delete_target(struct request *);
void rest_get_target_attributes(struct request *);
void rest_get_target_assigned_ds(struct request *);
void rest_get_target_installed_ds(struct request *);
void rest_get_target_metadata(struct request *);
void rest_post_target_metadata(struct request *);
void rest_get_target_metadata_key(struct request *);
void rest_put_target_metadata_key(struct request *);
void rest_delete_target_metadata_key(struct request *);

#endif
