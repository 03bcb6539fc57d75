/*
 * Names for what update clients report when an update fails: the numeric
 * result codes of the ATS Garage SOTA client (aktualizr's
 * data::ResultCode, sent as DDI feedback status.code), and the failure
 * messages SWUpdate and RAUC write into the feedback details.  Pure: no
 * I/O.
 */
#ifndef RESULTCODE_H
#define RESULTCODE_H

#include <stdint.h>

/* "OK", "INSTALL_FAILED", ... for codes 0..21, NULL for any other. */
const char *resultcode_name(int64_t code);
/*
 * A short reason for a known SWUpdate or RAUC failure message found in
 * msg (case-insensitive), e.g. "compatible mismatch (RAUC)"; NULL if msg
 * (which may be NULL) holds none.
 */
const char *resultcode_message(const char *msg);

#endif
