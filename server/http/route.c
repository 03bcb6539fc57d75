/*
 * The route table and its matcher.  Every URL of the daemon is listed here
 * with the auth it needs and the body it takes; http.c runs auth per route
 * before the handler.
 */
#include "route.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ddi.h"
#include "mgmt.h"
#include "rest_actions.h"
#include "rest_filters.h"
#include "rest_rollouts.h"
#include "rest_software.h"
#include "rest_system.h"
#include "rest_targets.h"
#include "ui.h"
#include "util.h"

#define DDI "/{tenant}/controller/v1/{cid}"
#define A AUTH_ADMIN
#define D AUTH_DEVICE
#define N AUTH_NONE
#define P ROUTE_POOL
#define R AUTH_REST

/*
 * Columns: method, pattern, handler, auth, body, permission, audit name,
 * and P (ROUTE_POOL) on the rows whose handlers run on the management
 * pool: password hashing, scans of the device, action and audit tables
 * (the action table is read by ds_id without an index), and uploads and
 * remote fetches, which hold a thread for seconds.  DDI routes take the
 * tenant and controller id as the first two captures.  Every
 * state-changing management route has an audit name.
 */
/* clang-format off */
#pragma GCC diagnostic push /* rows without P leave flags 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const struct route routes[] = {
	{ "GET",  DDI,                                   ddi_get_poll,             D, BODY_NONE, NULL, NULL },
	{ "GET",  DDI "/deploymentBase/{action}",        ddi_get_deployment,       D, BODY_NONE, NULL, NULL },
	{ "POST", DDI "/deploymentBase/{action}/feedback", ddi_post_feedback,      D, BODY_JSON, NULL, NULL },
	{ "GET",  DDI "/cancelAction/{action}",          ddi_get_cancel,           D, BODY_NONE, NULL, NULL },
	{ "POST", DDI "/cancelAction/{action}/feedback", ddi_post_cancel_feedback, D, BODY_JSON, NULL, NULL },
	{ "PUT",  DDI "/configData",                     ddi_put_config_data,      D, BODY_JSON, NULL, NULL },
	{ "GET",  DDI "/installedBase/{action}",         ddi_get_installed,        D, BODY_NONE, NULL, NULL },
	{ "GET",  DDI "/softwaremodules/{sm}/artifacts", ddi_get_artifacts,        D, BODY_NONE, NULL, NULL },
	{ "GET",  DDI "/softwaremodules/{sm}/artifacts/{file}", ddi_get_artifact,  D, BODY_NONE, NULL, NULL },

	{ "GET",    "/",                                 ui_get_root,             N, BODY_NONE, NULL, NULL },
	{ "GET",    "/ui",                               ui_get_file,             N, BODY_NONE, NULL, NULL },
	{ "GET",    "/ui/{a}",                           ui_get_file,             N, BODY_NONE, NULL, NULL },
	{ "GET",    "/ui/{a}/{b}",                       ui_get_file,             N, BODY_NONE, NULL, NULL },
	{ "GET",    "/ui/{a}/{b}/{c}",                   ui_get_file,             N, BODY_NONE, NULL, NULL },
	{ "GET",    "/healthz",                          mgmt_get_health,         N, BODY_NONE, NULL, NULL },
	{ "GET",    "/metrics",                          mgmt_get_metrics,        AUTH_METRICS, BODY_NONE, "metrics.read", NULL, P },
	{ "GET",    "/api/v1/openapi.json",              mgmt_get_openapi,        N, BODY_NONE, NULL, NULL },

	{ "GET",    "/api/v1/setup",                     mgmt_get_setup,          N, BODY_NONE, NULL, NULL },
	{ "POST",   "/api/v1/setup",                     mgmt_post_setup,         N, BODY_JSON, NULL, "setup", P },
	{ "POST",   "/api/v1/login",                     mgmt_post_login,         N, BODY_JSON, NULL, "login", P },
	{ "POST",   "/api/v1/logout",                    mgmt_post_logout,        A, BODY_NONE, NULL, "logout" },
	{ "GET",    "/api/v1/me",                        mgmt_get_me,             A, BODY_NONE, NULL, NULL },
	{ "POST",   "/api/v1/me/password",               mgmt_post_password,      A, BODY_JSON, NULL, "password.change", P },
	{ "GET",    "/api/v1/users",                     mgmt_get_users,          A, BODY_NONE, "users.read", NULL },
	{ "POST",   "/api/v1/users",                     mgmt_post_user,          A, BODY_JSON, "users.write", "user.create", P },
	{ "PATCH",  "/api/v1/users/{name}",              mgmt_patch_user,         A, BODY_JSON, "users.write", "user.update", P },
	{ "DELETE", "/api/v1/users/{name}",              mgmt_delete_user,        A, BODY_NONE, "users.write", "user.delete" },
	{ "GET",    "/api/v1/tokens",                    mgmt_get_tokens,         A, BODY_NONE, NULL, NULL },
	{ "POST",   "/api/v1/tokens",                    mgmt_post_token,         A, BODY_JSON, NULL, "token.create" },
	{ "DELETE", "/api/v1/tokens/{id}",               mgmt_delete_token,       A, BODY_NONE, NULL, "token.delete" },
	{ "GET",    "/api/v1/audit",                     mgmt_get_audit,          A, BODY_NONE, "audit.read", NULL, P },
	{ "GET",    "/api/v1/settings",                  mgmt_get_settings,       A, BODY_NONE, "settings.read", NULL },
	{ "GET",    "/api/v1/stats",                     mgmt_get_stats,          A, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/api/v1/system/configs",            mgmt_get_system_configs, A, BODY_NONE, "settings.read", NULL },
	{ "PATCH",  "/api/v1/system/configs",            mgmt_patch_system_configs, A, BODY_JSON, "settings.write", "config.update" },

	{ "GET",    "/api/v1/software",                  mgmt_get_software_list,  A, BODY_NONE, "software.read", NULL, P },
	{ "POST",   "/api/v1/software",                  mgmt_post_software,      A, BODY_UPLOAD, "software.write", "software.upload", P },
	{ "GET",    "/api/v1/software/{id}",             mgmt_get_software,       A, BODY_NONE, "software.read", NULL, P },
	{ "GET",    "/api/v1/software/{id}/file",        mgmt_get_software_file,  A, BODY_NONE, "software.read", NULL },
	{ "DELETE", "/api/v1/software/{id}",             mgmt_delete_software,    A, BODY_NONE, "software.delete", "software.delete", P },
	{ "GET",    "/api/v1/modules",                   mgmt_get_modules,        A, BODY_NONE, "software.read", NULL },
	{ "POST",   "/api/v1/modules",                   mgmt_post_module,        A, BODY_JSON, "software.write", "module.create" },
	{ "GET",    "/api/v1/modules/{id}",              mgmt_get_module,         A, BODY_NONE, "software.read", NULL },
	{ "PATCH",  "/api/v1/modules/{id}",              mgmt_patch_module,       A, BODY_JSON, "software.write", "module.update" },
	{ "DELETE", "/api/v1/modules/{id}",              mgmt_delete_module,      A, BODY_NONE, "software.delete", "module.delete" },
	{ "GET",    "/api/v1/modules/{id}/artifacts",    mgmt_get_artifacts,      A, BODY_NONE, "software.read", NULL },
	{ "POST",   "/api/v1/modules/{id}/artifacts",    mgmt_post_artifact,      A, BODY_UPLOAD, "software.write", "artifact.upload", P },
	{ "POST",   "/api/v1/modules/{id}/external-artifacts", mgmt_post_external_artifact, A, BODY_JSON, "software.write", "artifact.external", P },
	{ "GET",    "/api/v1/modules/{id}/artifacts/{aid}", mgmt_get_artifact,    A, BODY_NONE, "software.read", NULL },
	{ "GET",    "/api/v1/modules/{id}/artifacts/{aid}/file", mgmt_get_artifact_file, A, BODY_NONE, "software.read", NULL },
	{ "DELETE", "/api/v1/modules/{id}/artifacts/{aid}", mgmt_delete_artifact, A, BODY_NONE, "software.delete", "artifact.delete" },
	{ "GET",    "/api/v1/moduletypes",               mgmt_get_module_types,   A, BODY_NONE, "software.read", NULL },
	{ "POST",   "/api/v1/moduletypes",               mgmt_post_module_type,   A, BODY_JSON, "software.write", "moduletype.create" },
	{ "DELETE", "/api/v1/moduletypes/{id}",          mgmt_delete_module_type, A, BODY_NONE, "software.delete", "moduletype.delete" },
	{ "GET",    "/api/v1/distributions",             mgmt_get_distributions,  A, BODY_NONE, "software.read", NULL, P },
	{ "POST",   "/api/v1/distributions",             mgmt_post_distribution,  A, BODY_JSON, "software.write", "distribution.create" },
	{ "GET",    "/api/v1/distributions/{id}",        mgmt_get_distribution,   A, BODY_NONE, "software.read", NULL, P },
	{ "PATCH",  "/api/v1/distributions/{id}",        mgmt_patch_distribution, A, BODY_JSON, "software.write", "distribution.update", P },
	{ "DELETE", "/api/v1/distributions/{id}",        mgmt_delete_distribution, A, BODY_NONE, "software.delete", "distribution.delete", P },
	{ "GET",    "/api/v1/distributiontypes",         mgmt_get_dist_types,     A, BODY_NONE, "software.read", NULL },
	{ "POST",   "/api/v1/distributiontypes",         mgmt_post_dist_type,     A, BODY_JSON, "software.write", "distributiontype.create" },
	{ "DELETE", "/api/v1/distributiontypes/{id}",    mgmt_delete_dist_type,   A, BODY_NONE, "software.delete", "distributiontype.delete" },
	{ "GET",    "/api/v1/devices",                   mgmt_get_devices,        A, BODY_NONE, "device.read", NULL, P },
	{ "POST",   "/api/v1/devices",                   mgmt_post_device,        A, BODY_JSON, "device.write", "device.create" },
	{ "POST",   "/api/v1/devices/bulk",              mgmt_post_devices_bulk,  A, BODY_JSON, "device.write", "device.bulk", P },
	{ "GET",    "/api/v1/devices/{id}",              mgmt_get_device,         A, BODY_NONE, "device.read", NULL },
	{ "PATCH",  "/api/v1/devices/{id}",              mgmt_patch_device,       A, BODY_JSON, "device.write", "device.update" },
	{ "DELETE", "/api/v1/devices/{id}",              mgmt_delete_device,      A, BODY_NONE, "device.delete", "device.delete" },
	{ "POST",   "/api/v1/devices/{id}/assign",       mgmt_post_device_assign, A, BODY_JSON, "device.write", "device.assign" },
	{ "GET",    "/api/v1/devices/{id}/actions",      mgmt_get_device_actions, A, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/api/v1/devices/{id}/events",       mgmt_get_device_events,  A, BODY_NONE, "device.read", NULL },
	{ "GET",    "/api/v1/devices/{id}/log",          mgmt_get_device_log,     A, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/api/v1/refused",                   mgmt_get_refused,        A, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/api/v1/actions/{id}",              mgmt_get_action,         A, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/api/v1/actions/{id}/history",      mgmt_get_action_history, A, BODY_NONE, "device.read", NULL },
	{ "GET",    "/api/v1/actions/{id}/log",          mgmt_get_action_log,     A, BODY_NONE, "device.read", NULL },
	{ "POST",   "/api/v1/actions/{id}/cancel",       mgmt_post_action_cancel, A, BODY_NONE, "device.write", "action.cancel" },
	{ "POST",   "/api/v1/actions/{id}/force-quit",   mgmt_post_action_force_quit, A, BODY_NONE, "device.write", "action.force_quit" },
	{ "GET",    "/api/v1/rollouts",                  mgmt_get_rollouts,       A, BODY_NONE, "rollout.read", NULL, P },
	{ "POST",   "/api/v1/rollouts",                  mgmt_post_rollout,       A, BODY_JSON, "rollout.write", "rollout.create", P },
	{ "GET",    "/api/v1/rollouts/preview",          mgmt_get_rollout_preview, A, BODY_NONE, "rollout.read", NULL, P },
	{ "GET",    "/api/v1/rollouts/{id}",             mgmt_get_rollout,        A, BODY_NONE, "rollout.read", NULL, P },
	{ "PATCH",  "/api/v1/rollouts/{id}",             mgmt_patch_rollout,      A, BODY_JSON, "rollout.write", "rollout.update", P },
	{ "DELETE", "/api/v1/rollouts/{id}",             mgmt_delete_rollout,     A, BODY_NONE, "rollout.delete", "rollout.delete" },

	/* hawkBit's Management API: targets. */
	{ "GET",   "/rest/v1/targets",                              rest_get_targets,                    R, BODY_NONE, "device.read", NULL, P },
	{ "POST",  "/rest/v1/targets",                              rest_post_targets,                   R, BODY_JSON, "device.write", "target.create", P },
	{ "GET",   "/rest/v1/targets/{cid}",                        rest_get_target,                     R, BODY_NONE, "device.read", NULL, P },
	{ "PUT",   "/rest/v1/targets/{cid}",                        rest_put_target,                     R, BODY_JSON, "device.write", "target.update", P },
	{ "DELETE", "/rest/v1/targets/{cid}",                        rest_delete_target,                  R, BODY_NONE, "device.delete", "target.delete", P },
	{ "GET",   "/rest/v1/targets/{cid}/attributes",             rest_get_target_attributes,          R, BODY_NONE, "device.read", NULL, P },
	{ "GET",   "/rest/v1/targets/{cid}/assignedDS",             rest_get_target_assigned_ds,         R, BODY_NONE, "device.read", NULL, P },
	{ "GET",   "/rest/v1/targets/{cid}/installedDS",            rest_get_target_installed_ds,        R, BODY_NONE, "device.read", NULL, P },
	{ "GET",   "/rest/v1/targets/{cid}/metadata",               rest_get_target_metadata,            R, BODY_NONE, "device.read", NULL, P },
	{ "POST",  "/rest/v1/targets/{cid}/metadata",               rest_post_target_metadata,           R, BODY_JSON, "device.write", "target.metadata", P },
	{ "GET",   "/rest/v1/targets/{cid}/metadata/{key}",         rest_get_target_metadata_key,        R, BODY_NONE, "device.read", NULL, P },
	{ "PUT",   "/rest/v1/targets/{cid}/metadata/{key}",         rest_put_target_metadata_key,        R, BODY_JSON, "device.write", "target.metadata", P },
	{ "DELETE", "/rest/v1/targets/{cid}/metadata/{key}",         rest_delete_target_metadata_key,     R, BODY_NONE, "device.write", "target.metadata", P },

	/* hawkBit's Management API: software. */
	{ "GET",   "/rest/v1/softwaremodules",                      rest_get_modules,                    R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/softwaremodules",                      rest_post_modules,                   R, BODY_JSON, "software.write", "module.create", P },
	{ "GET",   "/rest/v1/softwaremodules/{id}",                 rest_get_module,                     R, BODY_NONE, "software.read", NULL, P },
	{ "PUT",   "/rest/v1/softwaremodules/{id}",                 rest_put_module,                     R, BODY_JSON, "software.write", "module.update", P },
	{ "DELETE", "/rest/v1/softwaremodules/{id}",                 rest_delete_module,                  R, BODY_NONE, "software.delete", "module.delete", P },
	{ "GET",   "/rest/v1/softwaremodules/{id}/artifacts",       rest_get_module_artifacts,           R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/softwaremodules/{id}/artifacts",       rest_post_module_artifact,           R, BODY_UPLOAD, "software.write", "artifact.upload", P },
	{ "GET",   "/rest/v1/softwaremodules/{id}/artifacts/{aid}", rest_get_module_artifact,            R, BODY_NONE, "software.read", NULL, P },
	{ "DELETE", "/rest/v1/softwaremodules/{id}/artifacts/{aid}", rest_delete_module_artifact,         R, BODY_NONE, "software.delete", "artifact.delete", P },
	{ "GET",   "/rest/v1/softwaremodules/{id}/artifacts/{aid}/download", rest_get_module_artifact_download,   R, BODY_NONE, "software.read", NULL, P },
	{ "GET",   "/rest/v1/softwaremodules/{id}/metadata",        rest_get_module_metadata,            R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/softwaremodules/{id}/metadata",        rest_post_module_metadata,           R, BODY_JSON, "software.write", "module.metadata", P },
	{ "GET",   "/rest/v1/softwaremodules/{id}/metadata/{key}",  rest_get_module_metadata_key,        R, BODY_NONE, "software.read", NULL, P },
	{ "PUT",   "/rest/v1/softwaremodules/{id}/metadata/{key}",  rest_put_module_metadata_key,        R, BODY_JSON, "software.write", "module.metadata", P },
	{ "DELETE", "/rest/v1/softwaremodules/{id}/metadata/{key}",  rest_delete_module_metadata_key,     R, BODY_NONE, "software.write", "module.metadata", P },
	{ "GET",   "/rest/v1/softwaremoduletypes",                  rest_get_module_types,               R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/softwaremoduletypes",                  rest_post_module_types,              R, BODY_JSON, "software.write", "moduletype.create", P },
	{ "GET",   "/rest/v1/softwaremoduletypes/{id}",             rest_get_module_type,                R, BODY_NONE, "software.read", NULL, P },
	{ "DELETE", "/rest/v1/softwaremoduletypes/{id}",             rest_delete_module_type,             R, BODY_NONE, "software.delete", "moduletype.delete", P },
	{ "GET",   "/rest/v1/distributionsets",                     rest_get_sets,                       R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/distributionsets",                     rest_post_sets,                      R, BODY_JSON, "software.write", "distribution.create", P },
	{ "GET",   "/rest/v1/distributionsets/{id}",                rest_get_set,                        R, BODY_NONE, "software.read", NULL, P },
	{ "PUT",   "/rest/v1/distributionsets/{id}",                rest_put_set,                        R, BODY_JSON, "software.write", "distribution.update", P },
	{ "DELETE", "/rest/v1/distributionsets/{id}",                rest_delete_set,                     R, BODY_NONE, "software.delete", "distribution.delete", P },
	{ "GET",   "/rest/v1/distributionsets/{id}/assignedSM",     rest_get_set_modules,                R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/distributionsets/{id}/assignedSM",     rest_post_set_modules,               R, BODY_JSON, "software.write", "distribution.update", P },
	{ "DELETE", "/rest/v1/distributionsets/{id}/assignedSM/{sm}", rest_delete_set_module,              R, BODY_NONE, "software.write", "distribution.update", P },
	{ "GET",   "/rest/v1/distributionsets/{id}/metadata",       rest_get_set_metadata,               R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/distributionsets/{id}/metadata",       rest_post_set_metadata,              R, BODY_JSON, "software.write", "distribution.metadata", P },
	{ "GET",   "/rest/v1/distributionsets/{id}/metadata/{key}", rest_get_set_metadata_key,           R, BODY_NONE, "software.read", NULL, P },
	{ "PUT",   "/rest/v1/distributionsets/{id}/metadata/{key}", rest_put_set_metadata_key,           R, BODY_JSON, "software.write", "distribution.metadata", P },
	{ "DELETE", "/rest/v1/distributionsets/{id}/metadata/{key}", rest_delete_set_metadata_key,        R, BODY_NONE, "software.write", "distribution.metadata", P },
	{ "GET",   "/rest/v1/distributionsettypes",                 rest_get_set_types,                  R, BODY_NONE, "software.read", NULL, P },
	{ "POST",  "/rest/v1/distributionsettypes",                 rest_post_set_types,                 R, BODY_JSON, "software.write", "distributiontype.create", P },
	{ "GET",   "/rest/v1/distributionsettypes/{id}",            rest_get_set_type,                   R, BODY_NONE, "software.read", NULL, P },
	{ "DELETE", "/rest/v1/distributionsettypes/{id}",            rest_delete_set_type,                R, BODY_NONE, "software.delete", "distributiontype.delete", P },
	{ "POST",   "/api/v1/rollouts/{id}/start",       mgmt_post_rollout_start, A, BODY_NONE, "rollout.write", "rollout.start", P },
	{ "POST",   "/api/v1/rollouts/{id}/retry-failed", mgmt_post_rollout_retry, A, BODY_NONE, "rollout.write", "rollout.retry" },
	{ "GET",    "/api/v1/rollouts/{id}/devices",     mgmt_get_rollout_devices, A, BODY_NONE, "rollout.read", NULL, P },
	{ "GET",    "/api/v1/rollouts/{id}/groups",      mgmt_get_rollout_groups, A, BODY_NONE, "rollout.read", NULL },
	{ "GET",    "/api/v1/rollouts/{id}/groups/{gid}", mgmt_get_rollout_group, A, BODY_NONE, "rollout.read", NULL },
	{ "POST",   "/api/v1/rollouts/{id}/groups/{gid}/approve", mgmt_post_rollout_group_approve, A, BODY_NONE, "rollout.write", "rollout.approve" },
	{ "GET",    "/api/v1/rollouts/{id}/groups/{gid}/devices", mgmt_get_rollout_group_devices, A, BODY_NONE, "rollout.read", NULL, P },
	{ "GET",    "/api/v1/filters",                   mgmt_get_filters,        A, BODY_NONE, "device.read", NULL },
	{ "POST",   "/api/v1/filters",                   mgmt_post_filter,        A, BODY_JSON, "device.write", "filter.create" },
	{ "DELETE", "/api/v1/filters/{id}",              mgmt_delete_filter,      A, BODY_NONE, "device.write", "filter.delete" },

	{ "GET",    "/rest/v1/targetfilters",            rest_get_filters,        R, BODY_NONE, "device.read", NULL, P },
	{ "POST",   "/rest/v1/targetfilters",            rest_post_filter,        R, BODY_JSON, "device.write", "filter.create", P },
	{ "GET",    "/rest/v1/targetfilters/{id}",       rest_get_filter,         R, BODY_NONE, "device.read", NULL, P },
	{ "PUT",    "/rest/v1/targetfilters/{id}",       rest_put_filter,         R, BODY_JSON, "device.write", "filter.update", P },
	{ "DELETE", "/rest/v1/targetfilters/{id}",       rest_delete_filter,      R, BODY_NONE, "device.write", "filter.delete", P },
	{ "GET",    "/rest/v1/rollouts",                 rest_get_rollouts,       R, BODY_NONE, "rollout.read", NULL, P },
	{ "POST",   "/rest/v1/rollouts",                 rest_post_rollout,       R, BODY_JSON, "rollout.write", "rollout.create", P },
	{ "GET",    "/rest/v1/rollouts/{id}",            rest_get_rollout,        R, BODY_NONE, "rollout.read", NULL, P },
	{ "DELETE", "/rest/v1/rollouts/{id}",            rest_delete_rollout,     R, BODY_NONE, "rollout.delete", "rollout.delete", P },
	{ "POST",   "/rest/v1/rollouts/{id}/start",      rest_post_rollout_start, R, BODY_NONE, "rollout.write", "rollout.start", P },
	{ "POST",   "/rest/v1/rollouts/{id}/pause",      rest_post_rollout_pause, R, BODY_NONE, "rollout.write", "rollout.update", P },
	{ "POST",   "/rest/v1/rollouts/{id}/resume",     rest_post_rollout_resume, R, BODY_NONE, "rollout.write", "rollout.update", P },
	{ "POST",   "/rest/v1/rollouts/{id}/triggerNextGroup", rest_post_rollout_next, R, BODY_NONE, "rollout.write", "rollout.next", P },
	{ "POST",   "/rest/v1/rollouts/{id}/retry",      rest_post_rollout_retry, R, BODY_NONE, "rollout.write", "rollout.retry", P },
	{ "GET",    "/rest/v1/rollouts/{id}/deploygroups", rest_get_rollout_groups, R, BODY_NONE, "rollout.read", NULL, P },
	{ "GET",    "/rest/v1/rollouts/{id}/deploygroups/{gid}", rest_get_rollout_group, R, BODY_NONE, "rollout.read", NULL, P },
	{ "GET",    "/rest/v1/rollouts/{id}/deploygroups/{gid}/targets", rest_get_rollout_group_targets, R, BODY_NONE, "rollout.read", NULL, P },

	{ "POST",   "/rest/v1/distributionsets/{id}/assignedTargets", rest_post_ds_assigned_targets, R, BODY_JSON, "device.write", "action.assign", P },
	{ "POST",   "/rest/v1/targets/{cid}/assignedDS",  rest_post_target_assigned_ds, R, BODY_JSON, "device.write", "action.assign", P },
	{ "GET",    "/rest/v1/targets/{cid}/actions",     rest_get_target_actions,  R, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/rest/v1/targets/{cid}/actions/{id}", rest_get_target_action,  R, BODY_NONE, "device.read", NULL, P },
	{ "DELETE", "/rest/v1/targets/{cid}/actions/{id}", rest_delete_target_action, R, BODY_NONE, "device.write", "action.cancel", P },
	{ "GET",    "/rest/v1/targets/{cid}/actions/{id}/status", rest_get_target_action_status, R, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/rest/v1/actions",                   rest_get_actions,         R, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/rest/v1/actions/{id}",              rest_get_action,          R, BODY_NONE, "device.read", NULL, P },
	{ "GET",    "/rest/v1/system/configs",           rest_get_system_configs, R, BODY_NONE, "settings.read", NULL, P },
	{ "PUT",    "/rest/v1/system/configs",           rest_put_system_configs, R, BODY_JSON, "settings.write", "config.update", P },
	{ "GET",    "/rest/v1/system/configs/{key}",     rest_get_system_config,  R, BODY_NONE, "settings.read", NULL, P },
	{ "PUT",    "/rest/v1/system/configs/{key}",     rest_put_system_config,  R, BODY_JSON, "settings.write", "config.update", P },
	{ "DELETE", "/rest/v1/system/configs/{key}",     rest_delete_system_config, R, BODY_NONE, "settings.write", "config.delete", P },
};
#pragma GCC diagnostic pop
/* clang-format on */
const size_t nroutes = NELEM(routes);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
route_decode(const char *in, size_t len, int plus_is_space)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] == '%') {
			if (i + 2 >= len)
				goto bad;
			if ((hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				goto bad;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (in[i] == '+' && plus_is_space)
			out[o++] = ' ';
		else
			out[o++] = in[i];
	}
	out[o] = '\0';
	if (!utf8_valid(out, o))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* Split a raw path into at most ROUTE_SEGMENTS_MAX decoded segments. */
static int
route_split(const char *path, char **segs, int *nsegs)
{
	const char *p = path, *e;
	int n = 0;

	*nsegs = 0;
	if (*p != '/')
		return -1;
	while (*p == '/') {
		p++;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p && *e == '\0' && n > 0)
			break; /* one trailing slash is tolerated */
		if (n == ROUTE_SEGMENTS_MAX ||
		    (size_t)(e - p) > 3 * ROUTE_SEGMENT_MAX)
			goto bad;
		if ((segs[n] = route_decode(p, (size_t)(e - p), 0)) == NULL)
			goto bad;
		n++;
		if (strlen(segs[n - 1]) > ROUTE_SEGMENT_MAX ||
		    strcmp(segs[n - 1], ".") == 0 ||
		    strcmp(segs[n - 1], "..") == 0)
			goto bad;
		p = e;
	}
	if (*p != '\0')
		goto bad;
	*nsegs = n;
	return 0;
bad:
	for (int i = 0; i < n; i++)
		free(segs[i]);
	return -1;
}

/* Does the pattern match the segments?  Captures are not copied here. */
static bool
route_pattern_match(const char *pattern, char **segs, int nsegs)
{
	const char *p = pattern;
	int i = 0;

	while (*p == '/') {
		const char *e = strchr(p + 1, '/');
		size_t len;

		p++;
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if (i == nsegs)
			return false;
		if (!(len > 2 && p[0] == '{' && p[len - 1] == '}') &&
		    (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0))
			return false;
		if (segs[i][0] == '\0' && p[0] == '{')
			return false;
		i++;
		p = e;
	}
	return i == nsegs;
}

enum route_match_result
route_match(const char *method, const char *path, const struct route **out,
    char **params, int *nparams)
{
	char *segs[ROUTE_SEGMENTS_MAX];
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	enum route_match_result r = ROUTE_NOT_FOUND;
	int nsegs;

	*nparams = 0;
	if (route_split(path, segs, &nsegs) == -1)
		return ROUTE_BAD_PATH;
	for (size_t i = 0; i < nroutes; i++) {
		const char *p;

		if (!route_pattern_match(routes[i].pattern, segs, nsegs))
			continue;
		if (strcmp(routes[i].method, m) != 0) {
			r = ROUTE_BAD_METHOD;
			continue;
		}
		/* Hand the captured segments to the caller. */
		p = routes[i].pattern;
		for (int s = 0; s < nsegs; s++) {
			p = strchr(p, '/') + 1;
			if (*p == '{' && *nparams < HTTP_PARAMS_MAX) {
				params[(*nparams)++] = segs[s];
				segs[s] = NULL;
			}
		}
		*out = &routes[i];
		r = ROUTE_FOUND;
		break;
	}
	for (int s = 0; s < nsegs; s++)
		free(segs[s]);
	return r;
}
