/*
 * An empty ICU data library for the container image, in the layout of
 * ICU's own stubdata (icu4c/source/stubdata): a common-data header whose
 * table of contents has no entries.
 *
 * Falconet loads libarchive for .swu images; libarchive links libxml2
 * (for the xar format, which Falconet never reads), libxml2 links ICU's
 * libicuuc, and libicuuc links libicudata: 31 MB of collation and locale
 * tables, 12 MB of a compressed image, that nothing Falconet does
 * reaches.  With this library in their place ICU loads, and any ICU call
 * that needs data fails cleanly with U_FILE_ACCESS_ERROR or
 * U_MISSING_RESOURCE_ERROR.
 *
 *   cc -shared -fPIC -Wl,-soname,libicudata.so.72 -DICU_MAJOR=72 \
 *       -o libicudata.so.72 icudata-stub.c
 */
#include <stdint.h>

#ifndef ICU_MAJOR
#error "define ICU_MAJOR, the soname's version (72 in Debian 12)"
#endif

#define ICU_CAT(a, b, c) a##b##c
#define ICU_ENTRY(v) ICU_CAT(icudt, v, _dat)

/* ICU's MappedData header, UDataInfo and an empty TOC (udatamem.h,
 * udata.h, ucmndata.h). */
struct icu_data_header {
	uint16_t header_size;
	uint8_t magic1, magic2;
	struct {
		uint16_t size, reserved_word;
		uint8_t is_big_endian, charset_family, sizeof_uchar;
		uint8_t reserved_byte;
		uint8_t data_format[4], format_version[4], data_version[4];
	} info;
	char padding[8];
	uint32_t count, reserved;
	struct {
		uint32_t name_offset, data_offset;
	} toc[1];
};

__attribute__((visibility("default")))
const struct icu_data_header ICU_ENTRY(ICU_MAJOR) = {
	.header_size = 32,
	.magic1 = 0xda,
	.magic2 = 0x27,
	.info = {
		.size = 20,
		.is_big_endian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__,
		.charset_family = 0, /* U_ASCII_FAMILY */
		.sizeof_uchar = 2,
		.data_format = {'T', 'o', 'C', 'P'},
		.format_version = {1, 0, 0, 0},
	},
	.count = 0,
};
