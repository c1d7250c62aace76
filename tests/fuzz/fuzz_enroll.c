/* fuzz_enroll.c: the enrollment request parser (enr_parse) on arbitrary
 * bytes, as a client without a certificate may send them. Beyond not
 * crashing, leaking or hanging: a refusal always says why; a request taken
 * has every field within its bound, NUL-terminated and of the characters
 * its field allows, and one byte less of it is "more", never "bad" (a
 * slow client is never mistaken for a hostile one). */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "collector.h"
#include "forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enr_req r;
	struct cerr err;
	size_t used;
	int rc;

	err.msg[0] = 0;
	rc = enr_parse(&r, data, size, &used, &err);
	if (rc == FWD_BAD && !err.msg[0])
		__builtin_trap();
	if (rc != FWD_OK) {
		if (used != 0)
			__builtin_trap();
		return 0;
	}
	if (used == 0 || used > size || used > ENR_REQ_MAX)
		__builtin_trap();
	field(r.token, ENR_TOKEN_MAX, ".");
	field(r.hostname, ENR_HOSTNAME_MAX, ".-_");
	field(r.machine_id, ENR_MACHINE_ID_MAX, "-_");
	if (!r.csr || r.csr_len == 0 || r.csr_len > PKI_CSR_MAX || strlen(r.csr) != r.csr_len)
		__builtin_trap();
	enr_req_free(&r);
	if (enr_parse(&r, data, used - 1, &used, &err) != FWD_MORE)
		__builtin_trap();
	return 0;
}
